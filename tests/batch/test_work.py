"""The worker side: a local worker whose batch driver is gone runs no task."""

import multiprocessing
from pathlib import Path

import pytest

from imuback import PIPELINE_VERSION
from imuback.batch import work
from imuback.batch.work import SessionTask, driver_gone, process_session
from imuback.store.dataset import read_table
from tests.batch.data import write_study


def test_a_worker_whose_driver_is_gone_writes_nothing(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    s = write_study(tmp_path / "raw", runners=1, sessions_per_runner=2)
    ds = tmp_path / "ds"
    tasks = [SessionTask(path=str(f), dataset=str(ds), pipeline_version=PIPELINE_VERSION)
             for f in s.good]
    assert not driver_gone()  # not a local pool worker (Dask, tests): always runs
    link, driver_end = multiprocessing.Pipe(duplex=False)
    # What init_local_worker records (without its exit thread, which would end pytest).
    monkeypatch.setattr(work, "_driver_link", link)
    try:
        assert process_session(tasks[0]).status == "processed"  # the driver is alive
        driver_end.close()  # the driver dies: its end of the pipe closes with it
        assert driver_gone()
        outcome = process_session(tasks[1])
    finally:
        link.close()
    assert outcome.status == "failed" and outcome.error_type == "DriverGoneError"
    assert "run the batch again" in (outcome.message or "")
    assert read_table(ds, "sessions")["session_id"].to_pylist() == [s.good[0].stem]


def test_same_mounting_of_a_file_that_states_its_own(tmp_path):
    """A mounting the file states (a CSV sidecar's, BIDS, mobgap) is kept when none or the same is
    given; another one given makes the reading refuse it, so the task is not skipped as done.
    """
    from imuback.formats.identity import RECOMMENDED_MOUNTING

    stated = [[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]
    row = {"mounting_source": "file", "mounting_nominal": str(stated)}
    task = SessionTask(path=str(tmp_path / "data.mat"), dataset=str(tmp_path), pipeline_version="x")
    assert work.same_mounting(row, task)
    assert work.same_mounting(row, SessionTask(path=task.path, dataset=task.dataset, pipeline_version="x",
                                               mounting=tuple(tuple(int(v) for v in r) for r in stated)))
    assert not work.same_mounting(row, SessionTask(path=task.path, dataset=task.dataset, pipeline_version="x",
                                                   mounting=tuple(tuple(r) for r in RECOMMENDED_MOUNTING)))


def test_a_raw_parquet_file_is_skipped_with_its_own_mounting_and_refused_with_another(tmp_path):
    """Raw Parquet states its mounting (as a CSV sidecar): a re-run with none or the same skips it; with
    another the task is not skipped as done but read again and refused, naming both.
    """
    import json

    from imuback.batch.runner import run_batch
    from imuback.formats.identity import RECOMMENDED_MOUNTING
    from imuback.store.raw import read_raw

    study = write_study(tmp_path / "raw", runners=1, sessions_per_runner=1, bad=False)
    own = read_raw(study.good[0]).mounting.tolist()
    assert own != RECOMMENDED_MOUNTING
    ds = tmp_path / "ds"
    assert run_batch([study.root], dataset=ds, workers=1, progress="none", mounting=own).counts["processed"] == 1
    row = read_table(ds, "sessions").to_pylist()[0]
    assert row["mounting_source"] == "file" and json.loads(row["mounting_nominal"]) == own
    for mounting in (own, None):
        assert run_batch([study.root], dataset=ds, workers=1, progress="none",
                         mounting=mounting).counts == {"processed": 0, "skipped": 1, "failed": 0}
    summary = run_batch([study.root], dataset=ds, workers=1, progress="none", mounting=RECOMMENDED_MOUNTING)
    assert summary.counts == {"processed": 0, "skipped": 0, "failed": 1}
    (err,) = read_table(ds, "errors").to_pylist()
    assert "the file's imuback.mounting is" in err["message"] and "[[0.0, 0.0, -1.0]" in err["message"]
    assert read_table(ds, "sessions").num_rows == 1  # the stored session stays
