"""Two input files that make the same (runner, session) ids, processed by several workers at once:
one file is stored whole and the other refused (errors table), exactly as one worker does it; a
stored session is never silently replaced.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import numpy as np
import pytest

from imuback.batch.runner import run_batch
from tests.batch.data import running_session
from tests.formats.test_mobgap import T0_S, _lower_back, _write

REFUSED = "made from other bytes"


def _mobgap(path: Path, *, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write(path, {"TimeMeasure1": {
        "Test5": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S, seed=seed)}}},
        "Test11": {"Trial1": {"SU": {"LowerBack": _lower_back(8, T0_S + 600, seed=seed + 1)}}},
    }})


def _csv(path: Path, *, seed: int) -> Path:
    raw = running_session("x", "x", minutes=0.3, seed=seed)
    cols = np.column_stack([raw.time_ns / 1e9, raw.acc_mps2, raw.gyr_dps])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, cols, delimiter=",", fmt=["%.6f"] + ["%.5f"] * 6, comments="",
               header="time,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z")
    return path


def _rows(ds: Path) -> dict[str, list[tuple]]:
    """Per table, every stored row's session, source (sessions) or timing (steps, strides), sorted."""
    cols = {"sessions": "session_id, source_path, source_sha256", "steps": "session_id, step, ic_time",
            "strides": "session_id, stride, start_time"}
    con = duckdb.connect()
    return {t: sorted(con.execute(f"SELECT {c} FROM read_parquet('{ds}/{t}/**/*.parquet', "
                                  "hive_partitioning=false)").fetchall()) for t, c in cols.items()}


def check_one_file_kept_whole(tmp_path: Path, files: list[Path], *, workers: int | None, run: int,
                              alone: dict[Path, dict[str, list[tuple]]], scheduler: str | None = None) -> None:
    """Batch ``tmp_path/in`` (``files``, same ids, other bytes): one file stored exactly as ``alone``, one refused."""
    ds = tmp_path / f"ds{workers}-{run}"
    summary = run_batch([tmp_path / "in"], dataset=ds, workers=workers, runner_id="p", progress="log",
                        stream=io.StringIO(), scheduler=scheduler)
    by_path = {Path(o.path): o for o in summary.outcomes}
    assert set(by_path) == set(files)
    kept = [f for f in files if by_path[f].status == "processed"]
    refused = [f for f in files if by_path[f].status == "failed"]
    assert len(kept) == 1 and len(refused) == 1, [(o.path, o.status, o.message) for o in summary.outcomes]
    (loser,) = refused
    message = by_path[loser].message
    assert message is not None and REFUSED in message and str(kept[0].resolve()) in message
    stored = _rows(ds)
    assert stored == alone[kept[0]]  # every table: exactly the kept file's rows, as when it is processed alone
    errors = duckdb.connect().execute(
        f"SELECT source_path, error_type, message FROM read_parquet('{ds}/errors/**/*.parquet')").fetchall()
    assert {Path(e[0]).resolve() for e in errors} == {loser.resolve()}
    assert all(e[1] == "DatasetError" and REFUSED in e[2] for e in errors)
    assert not list((ds / ".imuback.locks").glob("*.lock"))  # every session lock released


def same_id_files(tmp_path: Path, kind: str) -> tuple[list[Path], dict[Path, dict[str, list[tuple]]]]:
    """Two files of ``kind`` under ``tmp_path/in`` making the same ids, and each one's rows processed alone."""
    if kind == "mobgap":
        files = [_mobgap(tmp_path / "in" / p / "data.mat", seed=s) for p, s in (("p1", 0), ("p2", 5))]
    else:
        files = [_csv(tmp_path / "in" / p / "run1.csv", seed=s) for p, s in (("a", 0), ("b", 5))]
    assert files[0].read_bytes() != files[1].read_bytes()
    alone = {}
    for i, f in enumerate(files):
        run_batch([f], dataset=tmp_path / f"alone{i}", workers=1, runner_id="p", progress="log", stream=io.StringIO())
        alone[f] = _rows(tmp_path / f"alone{i}")
        assert alone[f]["steps"] and {r[1] for r in alone[f]["sessions"]} == {str(f.resolve())}
    assert alone[files[0]]["sessions"] != alone[files[1]]["sessions"]
    return files, alone


@pytest.mark.parametrize("kind", ["mobgap", "csv"])
def test_two_files_with_the_same_ids_one_kept_whole_the_other_refused(tmp_path: Path, kind: str):
    files, alone = same_id_files(tmp_path, kind)
    check_one_file_kept_whole(tmp_path, files, workers=1, run=0, alone=alone)
    for run in range(3):  # a race: several runs
        check_one_file_kept_whole(tmp_path, files, workers=2, run=run, alone=alone)


def test_a_batch_under_another_runner_refuses_each_stored_recording_and_goes_on(tmp_path: Path) -> None:
    """``batch --runner ann`` over files stored as bob's: each such file is refused (errors table,
    naming both runners), a new file is processed; with --replace they move, notes too, listed."""
    from imuback.batch.runner import format_summary
    from imuback.store.notes import add_note, read_notes

    old = [_csv(tmp_path / "in" / f"bob{i}.csv", seed=i) for i in (1, 2)]
    ds = tmp_path / "ds"
    assert run_batch([tmp_path / "in"], dataset=ds, workers=1, runner_id="bob", progress="log",
                     stream=io.StringIO()).ok
    sid = {Path(f).stem: s for f, s in duckdb.connect().execute(
        f"SELECT source_path, session_id FROM read_parquet('{ds}/sessions/**/*.parquet')").fetchall()}
    add_note(ds, runner_id="bob", session_id=sid["bob1"], pain_0_10=4)
    _csv(tmp_path / "in" / "ann1.csv", seed=3)
    summary = run_batch([tmp_path / "in"], dataset=ds, workers=1, runner_id="ann", progress="log",
                        stream=io.StringIO())
    status = {Path(o.path).name: o.status for o in summary.outcomes}
    assert status == {"ann1.csv": "processed", "bob1.csv": "failed", "bob2.csv": "failed"}
    errors = dict(duckdb.connect().execute(
        f"SELECT source_path, message FROM read_parquet('{ds}/errors/**/*.parquet')").fetchall())
    for f in old:
        assert "under runner 'bob'" in errors[str(f)] and "not filed again under runner 'ann'" in errors[str(f)]
    owners = duckdb.connect().execute(f"SELECT runner_id, session_id FROM read_parquet('{ds}/sessions/**/*.parquet') "
                                      "ORDER BY session_id").fetchall()
    assert [(r, s.split("-")[0]) for r, s in owners] == [("ann", "ann1"), ("bob", "bob1"), ("bob", "bob2")]
    moved = run_batch(old, dataset=ds, workers=1, runner_id="ann", replace=True, progress="log", stream=io.StringIO())
    text = format_summary(moved)
    assert "moved to another runner:" in text
    assert f"session {sid['bob1']} moved from runner 'bob' to 'ann' with 1 note" in text
    assert f"session {sid['bob2']} moved from runner 'bob' to 'ann' with 0 notes" in text
    assert read_notes(ds, runner_id="ann", session_id=sid["bob1"])["pain_0_10"].tolist() == [4]
    assert not (ds / "sessions" / "runner=bob").exists()
