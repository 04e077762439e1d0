"""Local-pool batches: failure isolation, skip/force, provenance, repair, lock."""

import io
import json
import os
import shutil
import signal
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from imuback import PIPELINE_VERSION
from imuback.batch.runner import BatchInterrupted, format_summary, run_batch
from imuback.cli import main
from imuback.errors import DatasetError
from imuback.formats import file_sha256
from imuback.pipeline import process_file
from imuback.signal.params import MetricParams, PipelineParams
from imuback.store.dataset import read_table, session_dir
from imuback.store.errors_table import read_errors
from imuback.store.lock import LOCK_FILE, DatasetLock, repair_dataset
from imuback.store.raw import write_raw
from tests.batch.data import Study, running_session, write_study


def _batch(inputs: list[Path], ds: Path, **kw: object) -> object:
    return run_batch(inputs, dataset=ds, workers=2, progress="log", stream=io.StringIO(), **kw)


def test_bad_files_among_good_ones(study: Study, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    log = io.StringIO()
    summary = run_batch([study.root], dataset=ds, workers=2, progress="log", stream=log)

    assert summary.counts == {"processed": 6, "skipped": 0, "failed": 3}
    assert not summary.ok
    assert summary.backend == "local[2]"
    failed = {Path(o.path).name: o for o in summary.failures}
    assert failed["truncated.parquet"].error_type == "RawFormatError"
    assert "not a readable Parquet file" in failed["truncated.parquet"].message
    assert failed["nocol.csv"].error_type == "RawFormatError"
    assert "missing column(s) ['acc_x', 'acc_y']; found ['time', 'acc_z'" in failed["nocol.csv"].message
    assert failed["in_g.parquet"].error_type == "UnitsError"
    assert "in g" in failed["in_g.parquet"].message

    sessions = read_table(ds, "sessions")
    assert sorted(sessions["session_id"].to_pylist()) == sorted(p.stem for p in study.good)
    assert set(sessions["status"].to_pylist()) == {"ok"}
    assert read_table(ds, "steps").num_rows == sum(o.n_steps for o in summary.outcomes)

    errors = read_errors(ds)
    by_file = {Path(p).name: row for p, row in zip(errors["source_path"].to_pylist(),
                                                    errors.to_pylist(), strict=True)}
    assert set(by_file) == {"truncated.parquet", "nocol.csv", "in_g.parquet"}
    assert by_file["in_g.parquet"]["error_type"] == "UnitsError"
    assert by_file["in_g.parquet"]["session_id"] == "ing"
    assert by_file["in_g.parquet"]["source_sha256"] == file_sha256(study.bad["in_g"])
    assert by_file["truncated.parquet"]["session_id"] is None  # unreadable: no identity
    assert {r["pipeline_version"] for r in by_file.values()} == {PIPELINE_VERSION}
    assert all(r["failed_at"] is not None for r in by_file.values())

    text = format_summary(summary)
    assert "6 processed, 0 skipped (up to date), 3 failed" in text
    assert "UnitsError x1" in text and "RawFormatError x2" in text
    assert log.getvalue().count("FAILED") == 3


def test_rerun_skips_force_reprocesses_and_a_fixed_file_clears_its_error(study: Study,
                                                                         tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    first = _batch([study.root], ds)
    made_at = read_table(ds, "sessions")["processed_at"].to_pylist()

    again = _batch([study.root], ds)
    assert again.counts == {"processed": 0, "skipped": 6, "failed": 3}
    assert read_table(ds, "sessions")["processed_at"].to_pylist() == made_at  # untouched
    assert read_errors(ds).num_rows == 3  # replaced, not duplicated

    forced = _batch([study.root], ds, force=True)
    assert forced.counts == {"processed": 6, "skipped": 0, "failed": 3}
    forced_at = read_table(ds, "sessions")["processed_at"].to_pylist()
    assert all(new > old for new, old in zip(forced_at, made_at, strict=True))  # written again, as --force says
    assert read_table(ds, "sessions").num_rows == 6
    assert read_table(ds, "steps").num_rows == sum(o.n_steps for o in first.outcomes)

    # Fix the file in g: it is processed and its error row goes away.
    write_raw(study.bad["in_g"], running_session("ing", "runnerX"))
    fixed = _batch([study.root], ds)
    assert fixed.counts == {"processed": 1, "skipped": 6, "failed": 2}
    assert "ing" in read_table(ds, "sessions")["session_id"].to_pylist()
    assert sorted(Path(p).name for p in read_errors(ds)["source_path"].to_pylist()) == [
        "nocol.csv", "truncated.parquet"]


def test_changed_input_or_params_reprocess_and_replace(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=2)
    ds = tmp_path / "ds"
    _batch([s.root], ds)
    # New bytes for one session (another recording under the same id): refused, recorded in
    # errors naming the file that made the stored rows (#12); replaced only when asked.
    old_sha = file_sha256(s.good[0])
    write_raw(s.good[0], running_session(s.good[0].stem, "runner0", minutes=1.5, seed=99))
    summary = _batch([s.root], ds)
    assert summary.counts == {"processed": 0, "skipped": 1, "failed": 1}
    err = read_errors(ds).to_pylist()
    assert [e["error_type"] for e in err] == ["DatasetError"]
    assert str(s.good[0].resolve()) in err[0]["message"] and "--replace" in err[0]["message"]
    assert read_table(ds, "sessions").to_pandas().set_index("session_id").loc[
        s.good[0].stem, "source_sha256"] == old_sha  # the stored session is untouched
    summary = _batch([s.root], ds, replace=True)
    assert summary.counts == {"processed": 1, "skipped": 1, "failed": 0}
    assert read_errors(ds).num_rows == 0
    sessions = read_table(ds, "sessions")
    assert sessions.num_rows == 2
    row = next(r for r in sessions.to_pylist() if r["session_id"] == s.good[0].stem)
    assert row["source_sha256"] == file_sha256(s.good[0])
    assert row["duration_s"] == pytest.approx(90.0, abs=0.1)
    # The same (default) parameters given explicitly: still up to date.
    assert _batch([s.root], ds, params=PipelineParams()).counts["skipped"] == 2
    # Other parameters: every session is re-made, and the new parameters are recorded.
    params = replace(PipelineParams(), metrics=MetricParams(baseline_start_min=1.0))
    summary = _batch([s.root], ds, params=params)
    assert summary.counts == {"processed": 2, "skipped": 0, "failed": 0}
    recorded = read_table(ds, "sessions")["params_json"].to_pylist()
    assert [json.loads(r) for r in recorded] == [json.loads(params.to_json())] * 2
    assert _batch([s.root], ds, params=params).counts["skipped"] == 2


def test_provenance_of_every_row(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=2)
    ds = tmp_path / "ds"
    _batch([s.root], ds)
    sessions = read_table(ds, "sessions").to_pylist()
    for row in sessions:
        src = Path(row["source_path"])
        assert src in s.good
        assert row["source_sha256"] == file_sha256(src)
        assert row["pipeline_version"] == PIPELINE_VERSION
        assert json.loads(row["params_json"]) == json.loads(PipelineParams().to_json())
    # Steps and strides join to their session row (and so to the file, version and parameters).
    steps = read_table(ds, "steps")
    assert set(steps["session_id"].to_pylist()) == {r["session_id"] for r in sessions}


def test_batch_equals_processing_one_by_one(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=2)
    _batch([s.root], tmp_path / "batch")
    for f in s.good:
        process_file(f, dataset=tmp_path / "single")
    for table in ("steps", "strides"):
        a = read_table(tmp_path / "batch", table).sort_by([("session_id", "ascending")])
        b = read_table(tmp_path / "single", table).sort_by([("session_id", "ascending")])
        assert a.equals(b)


def test_two_files_claiming_one_session(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=1)
    copy = tmp_path / "raw" / "copy" / "again.parquet"
    write_raw(copy, running_session(s.good[0].stem, "runner0", seed=5))
    summary = _batch([tmp_path / "raw"], tmp_path / "ds")
    assert summary.counts == {"processed": 1, "skipped": 0, "failed": 1}
    (dup,) = summary.failures
    assert dup.error_type == "DuplicateSessionError" and str(s.good[0]) in (dup.message or "")
    assert read_table(tmp_path / "ds", "sessions").num_rows == 1
    assert read_errors(tmp_path / "ds")["error_type"].to_pylist() == ["DuplicateSessionError"]


def test_repair_removes_half_written_sessions(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=3)
    ds = tmp_path / "ds"
    _batch([s.root], ds)
    a, b, c = (f.stem for f in s.good)
    rid = "runner0"
    # a: killed after its steps were moved in, before strides/sessions: staged sessions remain.
    result = process_file(s.good[0])
    stage = ds / ".staging" / "deadbeef"
    (stage / "sessions").mkdir(parents=True)
    pq.write_table(result.sessions, stage / "sessions" / "part-0.parquet")
    # b: killed between moving the old sessions dir aside and moving the new one in.
    old = session_dir(ds, "sessions", rid, b)
    old.rename(old.with_name(f".{old.name}.old-1234"))
    # c stays complete.
    fixed = repair_dataset(ds)
    assert any("staged" in line for line in fixed)
    for sid in (a, b):
        for table in ("steps", "strides", "sessions"):
            assert not session_dir(ds, table, rid, sid).exists()
    for table in ("steps", "strides", "sessions"):
        assert session_dir(ds, table, rid, c).exists()
    assert not (ds / ".staging").exists()
    assert not list((ds / "sessions").glob("runner=*/.session=*"))
    # The next batch makes them again.
    summary = _batch([s.root], ds)
    assert summary.counts == {"processed": 2, "skipped": 1, "failed": 0}
    assert repair_dataset(ds) == []


def test_lock_refuses_a_live_batch_and_takes_over_a_dead_one(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=1)
    ds = tmp_path / "ds"
    ds.mkdir()
    with DatasetLock(ds):
        with pytest.raises(DatasetError, match="is writing this dataset"):
            _batch([s.root], ds)
    assert not (ds / LOCK_FILE).exists()
    # A lock left by a process that no longer exists (killed batch) is taken over.
    lock = json.loads(json.dumps({"host": os.uname().nodename, "pid": 2**22 + 12345,
                                  "started": "2020-01-01"}))
    (ds / LOCK_FILE).write_text(json.dumps(lock))
    assert _batch([s.root], ds).ok
    assert not (ds / LOCK_FILE).exists()


def test_cli_end_to_end(study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = tmp_path / "ds"
    assert main(["batch", str(study.root), "--dataset", str(ds), "--workers", "2",
                 "--progress", "log"]) == 1
    out, err = capsys.readouterr()
    assert "6 processed, 0 skipped (up to date), 3 failed" in out
    assert "FAILED UnitsError" in err
    good_only = [str(p) for p in study.good]
    assert main(["batch", *good_only, "--dataset", str(ds), "--progress", "none"]) == 0
    out, _ = capsys.readouterr()
    assert "0 processed, 6 skipped" in out
    assert main(["batch", str(tmp_path / "nothing"), "--dataset", str(ds)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    shutil.rmtree(ds)


def test_a_file_that_breaks_after_processing_names_its_stored_session(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=2)
    ds = tmp_path / "ds"
    _batch([s.root], ds)
    made = {r["session_id"]: r for r in read_table(ds, "sessions").to_pylist()}
    broken = s.good[0]
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # unreadable now: its footer names no session

    summary = run_batch([s.root], dataset=ds, workers=2, progress="none")
    assert summary.counts == {"processed": 0, "skipped": 1, "failed": 1}
    (failed,) = summary.failures
    assert (failed.session_id, failed.runner_id) == (broken.stem, "runner0")
    assert "stays until the file is fixed or that session is deleted" in (failed.message or "")
    (row,) = read_errors(ds).to_pylist()
    assert row["error_type"] == "RawFormatError"
    assert (row["session_id"], row["runner_id"]) == (broken.stem, "runner0")
    assert row["source_path"] == str(broken) and row["source_sha256"] == file_sha256(broken)
    # The last good version of the session stays, as documented.
    assert read_table(ds, "sessions").to_pylist() == list(made.values())
    # A file that never made a session keeps null ids.
    new = tmp_path / "raw" / "runner0" / "new.parquet"
    new.write_bytes(data[:100])
    _batch([new], ds)
    new_row = next(r for r in read_errors(ds).to_pylist() if r["source_path"] == str(new))
    assert new_row["session_id"] is None and new_row["runner_id"] is None


def test_an_empty_lock_file_is_being_written_not_stale(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ds = tmp_path / "ds"
    ds.mkdir()
    lock = ds / LOCK_FILE
    # Another batch has just created the lock and writes its name a moment later.
    lock.touch()
    holder = {"host": socket.gethostname(), "pid": os.getpid(), "started": "now"}
    filler = threading.Timer(0.2, lambda: lock.write_text(json.dumps(holder)))
    filler.start()
    try:
        with pytest.raises(DatasetError, match="is writing this dataset"), DatasetLock(ds):
            pass
    finally:
        filler.join()
    assert json.loads(lock.read_text()) == holder  # not removed
    # A lock that stays empty is reported, not taken over.
    lock.write_text("")
    monkeypatch.setattr(DatasetLock, "fill_wait_s", 0.1)
    with pytest.raises(DatasetError, match="names no holder"), DatasetLock(ds):
        pass
    assert lock.exists()
    lock.unlink()
    with DatasetLock(ds):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


class _CtrlCAtFirstSession(io.StringIO):
    """A progress stream; "Ctrl-C" arrives while the first finished session is reported."""

    def write(self, text: str) -> int:
        if " processed session " in text:
            raise KeyboardInterrupt
        return super().write(text)


def _snapshot(ds: Path) -> dict[str, int]:
    return {str(p.relative_to(ds)): p.stat().st_mtime_ns for p in ds.rglob("*")
            if p.name != LOCK_FILE}


def test_interrupt_stops_the_workers_before_the_lock_is_released(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=2, sessions_per_runner=4)
    ds = tmp_path / "ds"
    with pytest.raises(BatchInterrupted) as excinfo:
        run_batch([s.root], dataset=ds, workers=2, progress="log", stream=_CtrlCAtFirstSession())
    assert isinstance(excinfo.value, KeyboardInterrupt)
    assert excinfo.value.total == len(s.good) and excinfo.value.done < len(s.good)
    assert "run the same command again" in str(excinfo.value)
    assert not (ds / LOCK_FILE).exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored
    # Tasks that were in flight were stopped with their workers: nothing writes any more
    # (the traceback keeps the batch's frames alive, so a pool left running would go on).
    before = _snapshot(ds)
    time.sleep(1.5)
    assert _snapshot(ds) == before
    done = len(read_table(ds, "sessions"))
    assert done < len(s.good)
    # Resumable: the same batch again finishes the rest.
    resumed = _batch([s.root], ds)
    assert resumed.ok and resumed.counts["processed"] == len(s.good) - done


class _KillsWorker:
    """Stands in for the parameters; unpickling it in a worker ends that process at once."""

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return os._exit, (3,)


def test_a_task_that_kills_its_worker_is_retried_alone_then_reported(tmp_path: Path) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=2)
    ds = tmp_path / "ds"
    summary = run_batch([s.root], dataset=ds, workers=2, progress="none",
                        params=_KillsWorker())  # type: ignore[arg-type]
    assert summary.counts == {"processed": 0, "skipped": 0, "failed": 2}
    assert {o.error_type for o in summary.failures} == {"WorkerCrashedError"}
    assert all("retried alone" in (o.message or "") for o in summary.failures)
    assert read_errors(ds).num_rows == 2 and not (ds / LOCK_FILE).exists()
