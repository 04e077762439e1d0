"""A recording is one session: a copy of a stored file under another name (``run (1).csv``) is
not stored again (review 32 #1). Same runner: nothing written, naming the stored session; another
runner: refused as a move (docs/data_contract.md), ``--replace`` moves it; ``batch`` skips it saying
why; the Python API says where it is stored.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imuback.cli import main


def _files(ds: Path) -> dict[str, bytes]:
    return {str(p.relative_to(ds)): p.read_bytes() for p in ds.rglob("*.parquet")}


def _sessions(ds: Path) -> list[str]:
    return sorted(f"{p.parent.parent.name}/{p.parent.name}" for p in (ds / "sessions").rglob("*.parquet"))


def _run_csv(tmp_path: Path) -> Path:
    """``phone/run.csv`` in ``tmp_path``: half a minute of running, dated by itself (ns since the
    epoch), accelerometer only."""
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=0.5)
    folder = tmp_path / "phone"
    folder.mkdir()
    csv = folder / "run.csv"
    csv.write_text("time,acc_x,acc_y,acc_z\n" + "".join(
        f"{t},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n" for t, a in zip(raw.time_ns, raw.acc_mps2, strict=True)))
    return csv


@pytest.fixture
def stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """(run.csv, dataset holding it as runner ann's session), a CSV dated by itself: its session id
    comes from its file name."""
    csv = _run_csv(tmp_path)
    ds = tmp_path / "ds"
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "ann"]) == 0
    capsys.readouterr()
    return csv, ds


def test_a_copy_under_another_name_is_not_stored_again(stored, capsys):
    csv, ds = stored
    (session,) = _sessions(ds)
    sid = session.split("session=")[1]
    before = _files(ds)
    for name in ("Morning run.csv", "run (1).csv"):
        copy = shutil.copy(csv, csv.with_name(name))
        assert main(["process", str(copy), "--dataset", str(ds), "--runner", "ann"]) == 0
        assert capsys.readouterr().out == (f"{copy}: the same recording is already stored as session {sid} "
                                           "(from run.csv); nothing written\n")
    # another --session for the same bytes: still the one recording stored
    assert main(["process", str(copy), "--dataset", str(ds), "--runner", "ann", "--session", "other"]) == 0
    assert f"already stored as session {sid} (from run.csv); nothing written" in capsys.readouterr().out
    assert _files(ds) == before


def test_a_copy_under_another_runner_is_refused_then_moved_with_replace(stored, capsys):
    csv, ds = stored
    (session,) = _sessions(ds)
    sid = session.split("session=")[1]
    copy = shutil.copy(csv, csv.with_name("run (1).csv"))
    assert main(["process", str(copy), "--dataset", str(ds), "--runner", "zed"]) == 1
    err = capsys.readouterr().err
    assert f"session '{sid}' is already in {ds} under runner 'ann', made from this same recording " \
           "(stored from run.csv); it was not filed again under runner 'zed'" in err
    assert "pass --replace" in err
    assert _sessions(ds) == [session]
    assert main(["process", str(copy), "--dataset", str(ds), "--runner", "zed", "--replace"]) == 0
    assert f"session {sid} moved from runner 'ann' to 'zed'" in capsys.readouterr().out
    assert _sessions(ds) == [f"runner=zed/session={sid}"]  # moved under its own id, not stored twice


def test_batch_over_a_folder_with_a_copy_skips_it_saying_why(stored, capsys):
    csv, ds = stored
    (session,) = _sessions(ds)
    sid = session.split("session=")[1]
    shutil.copy(csv, csv.with_name("run (1).csv"))
    assert main(["batch", str(csv.parent), "--dataset", str(ds), "--runner", "ann", "--workers", "1",
                 "--progress", "none"]) == 0
    out = capsys.readouterr().out
    assert "0 processed, 2 skipped (up to date), 0 failed" in out
    assert f"run (1).csv: the same recording is already stored as session {sid} (from run.csv)" in out
    assert _sessions(ds) == [session]


def test_batch_force_over_copies_says_they_wrote_one_session_again(stored, capsys):
    """Review 33b: ``batch --force`` over three copies said "3 processed", "ok 3" for one session."""
    csv, ds = stored
    (session,) = _sessions(ds)
    sid = session.split("session=")[1]
    for name in ("run (1).csv", "run (2).csv"):
        shutil.copy(csv, csv.with_name(name))
    assert main(["batch", str(csv.parent), "--dataset", str(ds), "--runner", "ann", "--workers", "1",
                 "--progress", "none", "--force"]) == 0
    out = capsys.readouterr().out
    assert "3 processed, 0 skipped (up to date), 0 failed" in out
    assert "processed sessions by status: partial 1\n" in out  # one session (a 30 s file: partial)
    assert "written again from another file (a copy: the same session, not another" in out
    assert f"run (2).csv: the same recording is already stored as session {sid}" in out
    assert "moved to another runner" not in out
    assert _sessions(ds) == [session]


def test_python_says_where_the_same_recording_is_stored(stored):
    import imuback

    csv, ds = stored
    copy = shutil.copy(csv, csv.with_name("copy.csv"))
    res = imuback.process(copy, dataset=ds, runner_id="ann")
    assert res.up_to_date and res.session_id == _sessions(ds)[0].split("session=")[1]
    assert res.same_as.endswith("(from run.csv)")


def test_a_raw_parquet_copy_is_the_same_session(tmp_path, capsys):
    """Raw Parquet (``imuback record``) names its own session: a copy is the stored session, up to date."""
    import imuback
    from imuback.store.raw import write_raw

    path = write_raw(tmp_path / "rec.parquet", imuback.simulate(minutes=0.5, seed=4, runner_id="u1"))
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    copy = shutil.copy(path, tmp_path / "rec copy.parquet")
    capsys.readouterr()
    assert main(["process", str(copy), "--dataset", str(ds)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert len(_sessions(ds)) == 1


def test_a_batch_holding_a_file_and_its_copy_stores_one_session(tmp_path, capsys):
    """Both new in one batch, on two workers: one is stored, the other skipped as a copy (were they
    processed at the same moment, the second would wait for the first: the recording lock, checked in
    tests/store/test_dataset.py; this run does not force that race)."""
    csv = _run_csv(tmp_path)
    folder = csv.parent
    shutil.copy(csv, folder / "run (1).csv")
    ds = tmp_path / "ds"
    assert main(["batch", str(folder), "--dataset", str(ds), "--runner", "ann", "--workers", "2",
                 "--progress", "none"]) == 0
    assert "1 processed, 1 skipped (up to date), 0 failed" in capsys.readouterr().out
    assert len(_sessions(ds)) == 1


def test_a_copy_given_a_belt_speed_rewrites_the_stored_session(stored, capsys):
    """What would write the stored session again from its own file (a new belt speed) writes it
    from the copy: that session, never a second one."""
    import pyarrow.parquet as pq

    csv, ds = stored
    (session,) = _sessions(ds)
    sid = session.split("session=")[1]
    copy = shutil.copy(csv, csv.with_name("run (1).csv"))
    assert main(["process", str(copy), "--dataset", str(ds), "--runner", "ann", "--speed-mps", "3"]) == 0
    out = capsys.readouterr().out
    assert f"session {sid} (" in out and f"-> {ds}" in out
    assert f"already stored as session {sid} (from run.csv): that session was written again, not a second one" in out
    assert _sessions(ds) == [session]
    row = pq.read_table(next((ds / "sessions").rglob("*.parquet"))).to_pylist()[0]
    assert row["treadmill_speed_mps"] == 3.0


def test_a_file_dated_by_the_start_given_is_one_session_whatever_start_it_is_given(tmp_path, capsys):
    """Review 33b: a CSV timed from its start, processed with --start ...Z and then ...+01:00, was two
    sessions of the same bytes. Refused naming the stored session and its start; --replace re-dates it
    under its stored id."""
    import duckdb

    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=0.5)
    csv = tmp_path / "run.csv"
    csv.write_text("time,acc_x,acc_y,acc_z\n" + "".join(
        f"{(t - raw.time_ns[0]) / 1e9:.4f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n"
        for t, a in zip(raw.time_ns, raw.acc_mps2, strict=True)))
    ds = tmp_path / "ds"
    base = ["process", str(csv), "--dataset", str(ds), "--runner", "ann"]
    assert main([*base, "--start", "2026-03-04T07:00:00Z"]) == 0
    (session,) = _sessions(ds)
    assert session == "runner=ann/session=run-20260304T070000Z"
    before = _files(ds)
    capsys.readouterr()
    assert main([*base, "--start", "2026-03-04T07:00:00+01:00"]) == 1
    assert ("this recording is already stored as session run-20260304T070000Z of runner 'ann' starting "
            "2026-03-04T07:00:00Z; the start given now is 2026-03-04T06:00:00Z: --replace to re-date it "
            "(its session id stays)") in capsys.readouterr().err
    assert _files(ds) == before
    assert main([*base, "--start", "2026-03-04T07:00:00+01:00", "--replace"]) == 0
    assert _sessions(ds) == [session]  # re-dated, under its id
    sessions = str(ds / "sessions" / "*" / "*" / "*.parquet")
    ((start,),) = duckdb.sql(f"SELECT start_time FROM read_parquet('{sessions}', hive_partitioning=false)").fetchall()
    assert start.isoformat().startswith("2026-03-04T06:00:00")
    assert main([*base, "--start", "2026-03-04T06:00:00Z"]) == 0  # the start it has now: nothing written
    assert "nothing written" in capsys.readouterr().out
