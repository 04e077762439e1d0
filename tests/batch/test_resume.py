"""An interrupted batch: kill the whole process group mid-run, check, resume, compare."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from imuback.batch.runner import run_batch
from imuback.store.dataset import PART_FILE, read_table
from imuback.store.lock import LOCK_FILE
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


def _start_batch(study_root: Path, ds: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "imuback.cli", "batch", str(study_root), "--dataset", str(ds),
           "--workers", "2", "--progress", "log"]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_sessions(proc: subprocess.Popen[str], ds: Path, n: int) -> None:
    deadline = time.monotonic() + 60
    while len(_sessions_in(ds, "sessions")) < n:
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.005)


def _group_gone(pgid: int, timeout_s: float) -> bool:
    """Whether every process of the group (driver, fork server, workers) has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_workers_then_releases_the_lock(tmp_path: Path) -> None:
    study = write_study(tmp_path / "raw", runners=3, sessions_per_runner=6, minutes=1.0)
    ds = tmp_path / "ds"
    proc = _start_batch(study.root, ds)
    try:
        _wait_for_sessions(proc, ds, 2)
        os.kill(proc.pid, signal.SIGTERM)  # the driver only, as `kill PID` or a job scheduler does
        assert proc.wait(timeout=30) == 130
        assert not (ds / LOCK_FILE).exists()
        # The workers were terminated before the lock went, and the fork server went with the
        # driver: nothing is left that could write into the dataset.
        assert _group_gone(proc.pid, 5)
        _, err = proc.communicate(timeout=5)
        assert "interrupted after" in err and "run the same command again" in err
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = _sessions_in(ds, "sessions")
    assert done <= _sessions_in(ds, "steps") and done <= _sessions_in(ds, "strides")
    assert len(done) < len(study.good)


def test_workers_of_a_killed_driver_stop_without_writing(tmp_path: Path) -> None:
    study = write_study(tmp_path / "raw", runners=3, sessions_per_runner=6, minutes=1.0)
    ds = tmp_path / "ds"
    proc = _start_batch(study.root, ds)
    try:
        _wait_for_sessions(proc, ds, 2)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only: it cannot clean up
        proc.wait()
        at_kill = len(_sessions_in(ds, "sessions"))
        # Orphaned workers notice and exit (before: they waited forever, holding queued tasks).
        assert _group_gone(proc.pid, 10), "worker processes outlived their driver"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    # At most the sessions already being written when the driver died were finished; no worker
    # started another one.
    assert len(_sessions_in(ds, "sessions")) <= at_kill + 2
    assert (ds / LOCK_FILE).exists()  # the dead driver's; the next batch takes it over
    resumed = run_batch([study.root], dataset=ds, workers=2, progress="none")
    assert resumed.ok and resumed.counts["processed"] + resumed.counts["skipped"] == len(study.good)
