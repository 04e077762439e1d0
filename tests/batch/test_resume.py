"""An interrupted batch: kill the whole process group mid-run, check, resume, compare."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from imuback.batch.runner import LOCK_FILE, run_batch
from imuback.store.dataset import PART_FILE, read_table
from tests.batch.data import write_study

TABLES = ("steps", "strides", "sessions")


def _sessions_in(ds: Path, table: str) -> set[tuple[str, str]]:
    return {(p.parent.parent.name, p.parent.name)
            for p in (ds / table).glob(f"runner=*/session=*/{PART_FILE}")}


def test_killed_batch_resumes_without_half_or_duplicate_sessions(tmp_path: Path) -> None:
    study = write_study(tmp_path / "raw", runners=3, sessions_per_runner=8, minutes=1.0)
    ds = tmp_path / "ds"
    cmd = [sys.executable, "-m", "imuback.cli", "batch", str(study.root), "--dataset", str(ds),
           "--workers", "1", "--progress", "log"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(_sessions_in(ds, "sessions")) < 3:
            assert proc.poll() is None, "the batch ended before it could be interrupted"
            assert time.monotonic() < deadline, "the batch made no progress"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-write if need be
        proc.wait()

    # What a reader sees right after the kill: every session row has its steps and strides.
    done = _sessions_in(ds, "sessions")
    assert 3 <= len(done) < len(study.good)
    assert done <= _sessions_in(ds, "steps") and done <= _sessions_in(ds, "strides")
    assert (ds / LOCK_FILE).exists()  # left by the killed driver; the next run takes it over

    resumed = run_batch([study.root], dataset=ds, workers=2, progress="none")
    assert resumed.ok
    assert resumed.counts["processed"] >= len(study.good) - len(done)
    assert resumed.counts["processed"] + resumed.counts["skipped"] == len(study.good)
    assert not (ds / LOCK_FILE).exists()
    assert not list(ds.glob(".staging/*")) and not list(ds.glob("*/runner=*/.session=*"))

    # Exactly one copy of every session, identical to an uninterrupted batch.
    clean = tmp_path / "clean"
    run_batch([study.root], dataset=clean, workers=2, progress="none")
    for table in TABLES:
        assert _sessions_in(ds, table) == _sessions_in(clean, table)
        assert len(list((ds / table).glob("runner=*/session=*/*.parquet"))) == len(study.good)
    for table in ("steps", "strides"):
        keys = [("session_id", "ascending"), (table[:-1], "ascending")]
        assert read_table(ds, table).sort_by(keys).equals(read_table(clean, table).sort_by(keys))
    sessions = read_table(ds, "sessions")
    assert sorted(sessions["session_id"].to_pylist()) == sorted(p.stem for p in study.good)
