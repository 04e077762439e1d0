"""``--runner``, ``--session``, ``--start`` given for a raw Parquet file, which carries its own ids
and start: the same value is accepted, another is refused naming the file, both values and what to
do instead, in ``process``, ``batch`` (recorded for that file, the batch goes on) and Python alike
(the rule of ``--mounting``: formats/identity.py ``check_stated``); but ``batch --runner`` names the
runner of the files naming none, so a raw Parquet file's own runner is kept there, said in a warning.
"""

from __future__ import annotations

import numpy as np
import pytest

import imuback
from imuback.cli import main
from imuback.errors import RawFormatError
from imuback.store.dataset import read_table
from imuback.store.raw import write_raw


@pytest.fixture
def ann_file(tmp_path):
    """A raw Parquet file recorded as runner 'ann', session 's1'; its start as ISO 8601 (UTC)."""
    import dataclasses

    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=2, runner_id="ann"), session_id="s1")
    start = np.datetime_as_string(np.datetime64(int(raw.time_ns[0]), "ns"), unit="ns") + "Z"
    return write_raw(tmp_path / "ann.parquet", raw), start


def _csv_of(raw, path, *, gyro: bool = False):
    """``raw`` as a CSV timed from its start (no ids, no mounting, no zone in the file)."""
    t0 = raw.time_ns[0]
    cols = "time;acc_x;acc_y;acc_z" + (";gyr_x;gyr_y;gyr_z" if gyro else "")
    values = np.hstack([raw.acc_mps2, raw.gyr_dps]) if gyro else raw.acc_mps2
    path.write_text("\n".join([cols] + [f"{(t - t0) / 1e9:.4f};" + ";".join(f"{v:.4f}" for v in row)
                                         for t, row in zip(raw.time_ns, values, strict=True)]) + "\n")
    return path


def test_process_refuses_another_runner_session_or_start_for_a_raw_parquet_file(tmp_path, capsys, ann_file):
    path, start = ann_file
    ds = tmp_path / "ds"
    for option, value, says in (("--runner", "bob", "imuback.runner_id is 'ann', not the 'bob' given"),
                                ("--session", "s2", "imuback.session_id is 's1', not the 's2' given"),
                                ("--start", "2024-01-01T00:00:00Z", "first sample is at 2024-03-04T07:00:00Z, "
                                                                    "not the 2024-01-01T00:00:00Z given")):
        assert main(["process", str(path), "--dataset", str(ds), option, value]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {path}: the file's ") and says in err, err
        assert f"drop {option}" in err and "\n" not in err, err
        assert not (ds / "sessions").exists()
    # the file's own values given: accepted silently, the file's kept
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "ann", "--session", "s1",
                 "--start", start]) == 0
    captured = capsys.readouterr()
    assert "session s1 (" in captured.out and captured.err == ""
    assert read_table(ds, "sessions").select(["runner_id", "session_id"]).to_pylist() == \
        [{"runner_id": "ann", "session_id": "s1"}]


def test_a_start_in_another_zone_naming_the_same_instant_is_the_files_own(tmp_path, ann_file):
    path, start = ann_file
    assert start == "2024-03-04T07:00:00.000000000Z"  # the simulator's default start
    assert imuback.read(path, start="2024-03-04T08:00:00+01:00").runner_id == "ann"
    with pytest.raises(RawFormatError, match=r"first sample is at 2024-03-04T07:00:00Z, not the "
                                             r"2024-03-04T07:00:00\+01:00 given"):
        imuback.read(path, start="2024-03-04T07:00:00+01:00")


def test_batch_runner_is_for_files_naming_none_a_raw_parquet_keeps_its_own(tmp_path, capsys, ann_file):
    """``batch --runner`` over a mixed folder (review 32, 6): the CSV without ids takes the runner given,
    the raw Parquet file naming 'ann' keeps it, said once in the summary's warnings (and kept in the
    ``warnings`` table); nothing fails. Its ``--session`` is still checked (a batch of one file)."""
    import pyarrow.csv as pacsv

    from imuback.store.raw import raw_to_table

    path, _start = ann_file
    folder = tmp_path / "in"
    folder.mkdir()
    moved = path.rename(folder / "ann.parquet")
    pacsv.write_csv(raw_to_table(imuback.simulate(minutes=0.3, seed=3)), folder / "plain.csv")  # UTC times, no ids
    ds = tmp_path / "ds"
    code = main(["batch", str(folder), "--dataset", str(ds), "--runner", "bob", "--progress", "none",
                 "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "2 processed" in out and "0 failed" in out, out
    note = f"{moved}: names runner 'ann'; --runner 'bob' applies only to files naming none"
    assert out.count(note) == 1, out
    assert not (ds / "errors").exists()
    assert sorted(read_table(ds, "sessions")["runner_id"].to_pylist()) == ["ann", "bob"]
    assert read_table(ds, "warnings")["message"].to_pylist() == [note]
    code = main(["batch", str(moved), "--dataset", str(ds), "--runner", "bob", "--session", "s2",
                 "--progress", "none"])  # --session for one file: its own is still checked
    assert code == 1
    (error,) = read_table(ds, "errors").to_pylist()
    assert "imuback.session_id is 's1', not the 's2' given; drop --session" in error["message"]


def test_python_refuses_another_runner_session_or_start_for_a_raw_parquet_file(tmp_path, ann_file):
    import datetime as dt

    path, start = ann_file
    with pytest.raises(RawFormatError, match=r"ann\.parquet: the file's imuback\.runner_id is 'ann', not the "
                                             r"'bob' given; drop runner_id="):
        imuback.read(path, runner_id="bob")
    with pytest.raises(RawFormatError, match=r"imuback\.session_id is 's1', not the 's2' given; drop session_id="):
        imuback.process(path, session_id="s2")
    with pytest.raises(RawFormatError, match=r"first sample is at .*, not the 2024-01-01T00:00:00\+00:00 given; "
                                             r"drop start="):
        imuback.read_sessions(path, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    raw = imuback.read(path, runner_id="ann", session_id="s1", start=start)
    assert (raw.runner_id, raw.session_id) == ("ann", "s1")


def test_a_refiled_raw_parquet_file_is_told_to_move_to_the_runner_now_given(tmp_path, capsys, ann_file):
    """The file's runner id corrected ('ann' -> 'bob') after it was processed: the refusal's advice is
    the runner now given and --replace, never to process it as 'ann' (a raw Parquet file's runner
    cannot be given: it is its own)."""
    import dataclasses

    from imuback.store.raw import read_raw

    path, _start = ann_file
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    write_raw(path, dataclasses.replace(read_raw(path), runner_id="bob"))
    capsys.readouterr()
    assert main(["process", str(path), "--dataset", str(ds)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith("it was not filed again under runner 'bob'. If 'bob' is the right runner, pass --replace "
                        "(replace=True in Python) to move the session there with its notes; else it stays under "
                        "runner 'ann' and nothing needs doing"), err
    assert "with runner id 'ann'" not in err
    assert main(["process", str(path), "--dataset", str(ds), "--replace"]) == 0
    assert "session s1 moved from runner 'ann' to 'bob' with 0 notes" in capsys.readouterr().out


def test_a_start_with_nanoseconds_as_the_refusal_prints_it_is_the_files_own(tmp_path, capsys):
    """A recorder's first sample falls between microseconds; --start is read to the microsecond: the
    file's own time as the refusal prints it (ns, any zone) is accepted, 2 us off is refused."""
    import dataclasses

    raw = imuback.simulate(minutes=0.2, seed=2, runner_id="ann")
    raw = dataclasses.replace(raw, time_ns=raw.time_ns + 731_682_012)
    path = write_raw(tmp_path / "r.parquet", raw)
    ds = str(tmp_path / "ds")
    assert main(["process", str(path), "--dataset", ds, "--start", "2024-03-04T07:00:00Z"]) == 1
    assert "first sample is at 2024-03-04T07:00:00.731682012Z, not" in capsys.readouterr().err
    for same in ("2024-03-04T07:00:00.731682012Z", "2024-03-04T08:00:00.731682+01:00"):
        assert main(["process", str(path), "--dataset", ds, "--start", same]) == 0, capsys.readouterr().err
    assert main(["process", str(path), "--dataset", ds, "--start", "2024-03-04T07:00:00.731684Z"]) == 1


def test_batch_checks_the_ids_given_for_a_file_already_stored(tmp_path, capsys, ann_file):
    # stored once as ann's; a batch told another start or another runner: the file keeps its own (up to
    # date) and the warnings say so (a batch's --start and --runner are those of the files stating none)
    path, _start = ann_file
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    capsys.readouterr()
    assert main(["batch", str(path), "--dataset", str(ds), "--start", "2024-01-01T00:00:00Z", "--progress",
                 "none"]) == 0
    out = capsys.readouterr().out
    assert "1 skipped" in out and "; --start 2024-01-01T00:00:00Z applies only to files that state no start" in out
    assert main(["process", str(path), "--dataset", str(ds), "--start", "2024-01-01T00:00:00Z"]) == 1  # refused
    assert "not the" in capsys.readouterr().err
    assert main(["batch", str(path), "--dataset", str(ds), "--runner", "bob", "--progress", "none"]) == 0
    out = capsys.readouterr().out
    assert "1 skipped" in out and "names runner 'ann'; --runner 'bob' applies only to files naming none" in out
    assert main(["batch", str(path), "--dataset", str(ds), "--runner", "ann", "--progress", "none"]) == 0
    out = capsys.readouterr().out
    assert "1 skipped" in out and "warnings:" not in out


def test_batch_with_the_zone_already_stored_skips_the_file(tmp_path, capsys, ann_file):
    path, _start = ann_file
    ds = tmp_path / "ds"
    argv = ["batch", str(path), "--dataset", str(ds), "--time-zone", "Europe/Madrid", "--progress", "none"]
    assert main(argv) == 0
    assert read_table(ds, "sessions")["utc_offset_min"].to_pylist() == [60]  # 4 March: winter time
    first = read_table(ds, "sessions")["processed_at"].to_pylist()
    capsys.readouterr()
    assert main(argv) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert main([*argv[:-4], "--time-zone", "+05:30", "--progress", "none"]) == 0  # another zone: stored again
    assert read_table(ds, "sessions")["utc_offset_min"].to_pylist() == [330]
    assert read_table(ds, "sessions")["processed_at"].to_pylist() != first


def test_a_mounting_and_zone_given_once_are_kept_when_processed_again_without_them(tmp_path, capsys):
    # what the user told is never dropped by a re-run (a new pipeline version, batch again)
    csv = _csv_of(imuback.simulate(minutes=0.3, seed=4, runner_id="cy"), tmp_path / "cy.csv", gyro=True)
    ds = tmp_path / "ds"
    told = ["--runner", "cy", "--session", "s1", "--start", "2024-03-04T07:00:00Z"]
    assert main(["process", str(csv), "--dataset", str(ds), *told, "--mounting", "recommended",
                 "--time-zone", "America/Los_Angeles"]) == 0
    first = read_table(ds, "sessions").select(["mounting_source", "mounting_nominal", "utc_offset_min",
                                               "processed_at"]).to_pylist()[0]
    assert first["mounting_source"] == "given" and first["utc_offset_min"] == -480
    for argv in (["process", str(csv), "--dataset", str(ds), *told],
                 ["batch", str(csv), "--dataset", str(ds), *told, "--progress", "none"]):
        assert main(argv) == 0
        assert read_table(ds, "sessions").select(list(first)).to_pylist() == [first]  # kept, not rewritten


@pytest.fixture
def zoned_files(tmp_path):
    """Two raw Parquet files of runner 'ann' starting 2024-03-04T07:00Z: 'madrid' states UTC+01:00
    (``imuback.utc_offset_min`` 60), 'plain' states no zone."""
    import dataclasses

    raw = imuback.simulate(minutes=0.3, seed=2, runner_id="ann")
    madrid = write_raw(tmp_path / "in" / "madrid.parquet",
                       dataclasses.replace(raw, session_id="madrid", utc_offset_min=60))
    plain = write_raw(tmp_path / "in" / "plain.parquet", dataclasses.replace(raw, session_id="plain"))
    return madrid, plain


def _offsets(ds):
    table = read_table(ds, "sessions")
    return dict(zip(table["session_id"].to_pylist(), table["utc_offset_min"].to_pylist(), strict=True))


def test_process_keeps_a_raw_files_own_zone_and_refuses_another(tmp_path, capsys, zoned_files):
    """The one rule for --time-zone and a raw Parquet file that states its offset: the same offset at
    its start is accepted, another is refused naming both; a file without one takes the zone given."""
    madrid, plain = zoned_files
    ds = tmp_path / "ds"
    assert main(["process", str(madrid), "--dataset", str(ds), "--time-zone", "+05:00"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {madrid}: the file's imuback.utc_offset_min is 60 (UTC+01:00, where it was recorded), "
                   "not the '+05:00' (UTC+05:00 at its first sample) given; drop --time-zone (time_zone= in Python)")
    assert not (ds / "sessions").exists()
    with pytest.raises(RawFormatError, match=r"imuback.utc_offset_min is 60 .*not the 'UTC' \(UTC\+00:00 at its "
                                             r"first sample\) given; drop time_zone="):
        imuback.read(madrid, time_zone="UTC")
    assert main(["process", str(madrid), "--dataset", str(ds), "--time-zone", "Europe/Madrid"]) == 0  # CET then
    assert main(["process", str(plain), "--dataset", str(ds), "--time-zone", "Asia/Kolkata"]) == 0
    assert _offsets(ds) == {"madrid": 60, "plain": 330}
    capsys.readouterr()


def test_batch_applies_the_zone_rule_per_file(tmp_path, capsys, zoned_files):
    """``batch --time-zone``: the zone reaches every file (a raw file without one stores its offset);
    a raw file stating another is refused alone (recorded, the batch goes on)."""
    from imuback.batch.runner import run_batch

    madrid, _plain = zoned_files
    ds = tmp_path / "ds"
    summary = run_batch([madrid.parent], dataset=ds, workers=1, time_zone="America/New_York")
    (failed,) = [o for o in summary.outcomes if o.status == "failed"]
    assert "the file's imuback.utc_offset_min is 60 (UTC+01:00, where it was recorded), not the " \
           "'America/New_York' (UTC-05:00 at its first sample) given; drop --time-zone" in failed.message
    assert _offsets(ds) == {"plain": -300}
    assert run_batch([madrid], dataset=ds, workers=1, time_zone="+01:00").ok
    assert _offsets(ds) == {"plain": -300, "madrid": 60}


def test_what_was_told_moves_with_a_recording_and_a_kept_zone_follows_its_start(tmp_path, capsys):
    csv = _csv_of(imuback.simulate(minutes=0.3, seed=4, runner_id="cy"), tmp_path / "cy.csv")
    ds = tmp_path / "ds"
    winter = ["--session", "s1", "--start", "2024-03-04T07:00:00Z"]
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "ann", *winter, "--mounting", "recommended",
                 "--time-zone", "Europe/Madrid", "--speed-mps", "3"]) == 0
    # moved to bob with --replace: the mounting, zone and belt speed told go with it
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "bob", *winter, "--replace"]) == 0
    (row,) = read_table(ds, "sessions").select(["runner_id", "mounting_source", "utc_offset_min",
                                                "treadmill_speed_mps"]).to_pylist()
    assert row == {"runner_id": "bob", "mounting_source": "given", "utc_offset_min": 60, "treadmill_speed_mps": 3.0}
    # another start: the zone's offset there is unknown (Madrid's would be +120 in July), not the old one kept
    assert main(["process", str(csv), "--dataset", str(ds), "--runner", "bob", "--session", "s1",
                 "--start", "2024-07-04T07:00:00Z", "--replace"]) == 0
    (row,) = read_table(ds, "sessions").select(["mounting_source", "utc_offset_min"]).to_pylist()
    assert row == {"mounting_source": "given", "utc_offset_min": None}


def test_batch_of_a_file_looked_up_by_path_reads_it_again_for_another_zone_only(tmp_path, capsys):
    # no sidecar: its ids are known only once read (looked up by path)
    csv = _csv_of(imuback.simulate(minutes=0.3, seed=5, runner_id="cy"), tmp_path / "cy.csv")
    base = ["batch", str(csv), "--dataset", str(tmp_path / "ds"), "--runner", "cy", "--session", "s1",
            "--start", "2024-03-04T07:00:00Z", "--progress", "none"]
    statuses = []
    for zone in ([], ["--time-zone", "Asia/Kolkata"], ["--time-zone", "Asia/Kolkata"], ["--time-zone", "+01:00"]):
        assert main([*base, *zone]) == 0
        statuses.append(capsys.readouterr().out)
    assert ["1 skipped" in s for s in statuses] == [False, False, True, False]
    assert read_table(tmp_path / "ds", "sessions")["utc_offset_min"].to_pylist() == [60]
