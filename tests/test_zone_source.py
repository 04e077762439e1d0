"""Where a session's zone came from (``sessions.utc_offset_source``, schema 1.9) and forgetting what
was told by mistake (``--time-zone unknown``, ``--mounting unknown``): end to end through the CLI,
batch, Python and the clinic page (docs/data_contract.md, "Where a session was recorded").
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import imuback
from imuback.cli import main
from imuback.errors import RawFormatError
from imuback.formats.identity import RECOMMENDED_MOUNTING
from imuback.store.dataset import read_table
from imuback.store.raw import read_raw, write_raw
from tests.test_cli_identity import _csv_of

MADRID_NOTICE = "--time-zone Europe/Madrid (+01:00) used, not the file's own +05:00"


def write_karachi_csv(path, *, rows: int | None = None):
    """A CSV whose dates are written at +05:00 (the file states its zone), of runner 'cy' (its first
    ``rows`` samples)."""
    raw = imuback.simulate(minutes=0.3, seed=4, runner_id="cy")
    raw = dataclasses.replace(raw, time_ns=raw.time_ns[:rows], acc_mps2=raw.acc_mps2[:rows], gyr_dps=raw.gyr_dps[:rows])
    t0 = raw.time_ns[0]
    base = np.datetime64("2024-03-04T12:00:00", "ns")
    lines = [np.datetime_as_string(base + np.timedelta64(int(t - t0), "ns"), unit="ms") + "+05:00;"
            + ";".join(f"{v:.3f}" for v in [*a, *g]) for t, a, g in zip(raw.time_ns, raw.acc_mps2, raw.gyr_dps,
                                                                          strict=True)]
    path.write_text("\n".join(["time;acc_x;acc_y;acc_z;gyr_x;gyr_y;gyr_z", *lines]) + "\n")
    return path


@pytest.fixture
def karachi_csv(tmp_path):
    return write_karachi_csv(tmp_path / "run.csv")


def _zone(ds):
    return read_table(ds, "sessions").select(["utc_offset_min", "utc_offset_source"]).to_pylist()


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_process_says_a_given_zone_over_the_files_keeps_it_and_forgets_it_on_unknown(tmp_path, capsys, karachi_csv):
    ds = tmp_path / "ds"
    base = ["process", str(karachi_csv), "--dataset", str(ds), "--runner", "cy"]
    assert main(base) == 0
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "file"}]
    assert _warnings(capsys.readouterr().err) == []
    assert main([*base, "--time-zone", "Europe/Madrid"]) == 0
    assert _warnings(capsys.readouterr().err) == [f"warning: {karachi_csv}: {MADRID_NOTICE}"]  # once, one line
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]
    assert main(base) == 0  # re-run without it: the zone given is kept, saying so
    assert _warnings(capsys.readouterr().err) == [
        f"warning: {karachi_csv}: the time zone given before (+01:00) kept, not the file's own +05:00; "
        "--time-zone unknown (time_zone='unknown') goes back to the file's"]
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]
    assert main([*base, "--time-zone", "unknown"]) == 0  # forget it: the file's own again
    assert _warnings(capsys.readouterr().err) == []
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "file"}]
    assert main(base) == 0  # and it stays forgotten
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "file"}]


def test_python_says_it_as_a_log_warning_and_takes_unknown(tmp_path, caplog, karachi_csv):
    """In Python's words (``time_zone=``, as errors are reworded), not the command line's ``--time-zone``."""
    ds = tmp_path / "ds"
    with caplog.at_level(logging.WARNING, logger="imuback"):
        imuback.process(karachi_csv, dataset=ds, runner_id="cy", time_zone="Europe/Madrid")
        imuback.process(karachi_csv, dataset=ds, runner_id="cy")  # the zone given before kept, saying so
        logging.getLogger("imuback").warning("x: %s", MADRID_NOTICE)  # said outside a call: as it is
    assert [r.getMessage() for r in caplog.records] == [
        f"{karachi_csv}: time_zone='Europe/Madrid' (+01:00) used, not the file's own +05:00",
        f"{karachi_csv}: the time zone given before (+01:00) kept, not the file's own +05:00; time_zone='unknown' "
        "goes back to the file's",
        f"x: {MADRID_NOTICE}"]
    assert imuback.read(karachi_csv, runner_id="cy", time_zone="unknown").utc_offset_source == "file"
    imuback.process(karachi_csv, dataset=ds, runner_id="cy", time_zone="unknown")
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "file"}]


def test_a_zone_the_file_stated_is_not_kept_as_if_given(tmp_path):
    """``_keep_given`` keeps a ``given`` zone, never a ``file`` one: the same samples (same hash) that
    now state no zone are stored without one."""
    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=4, runner_id="cy"), utc_offset_min=300)
    assert raw.utc_offset_source == "file"
    ds = tmp_path / "ds"
    imuback.process(raw, dataset=ds)
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "file"}]
    imuback.process(dataclasses.replace(raw, utc_offset_min=None), dataset=ds)
    assert _zone(ds) == [{"utc_offset_min": None, "utc_offset_source": None}]


@pytest.fixture
def recorded(tmp_path):
    """Raw Parquet files as ``record`` writes them at 0 offset: the computer's zone, a zone given,
    and a file of schema 1.8 (no ``imuback.utc_offset_source``)."""
    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=2, runner_id="ann"), utc_offset_min=0)
    out = {}
    for name, source in (("computer", "computer"), ("given", "given"), ("old", "file")):
        path = write_raw(tmp_path / "in" / f"{name}.parquet",
                         dataclasses.replace(raw, session_id=name, utc_offset_source=source))
        out[name] = path
    table = pq.read_table(out["old"])
    meta = {k: v for k, v in table.schema.metadata.items() if k != b"imuback.utc_offset_source"}
    pq.write_table(table.replace_schema_metadata(meta), out["old"])
    return out


def test_stamp_recorded_zone_says_whether_it_is_the_computers_or_given(tmp_path):
    from imuback.formats.zone import stamp_recorded_zone

    path = write_raw(tmp_path / "r.parquet", imuback.simulate(minutes=0.2, seed=2, runner_id="ann"))
    assert stamp_recorded_zone(path).utc_offset_source == "computer"
    assert stamp_recorded_zone(path, "Asia/Kolkata").utc_offset_source == "given"
    assert read_raw(path).utc_offset_min == 330


def test_a_recording_computers_zone_is_replaced_by_one_given_later(tmp_path, capsys, recorded):
    ds = tmp_path / "ds"
    assert read_raw(recorded["old"]).utc_offset_source == "file"  # no key: as before, the file's own
    assert main(["process", str(recorded["computer"]), "--dataset", str(ds), "--time-zone", "Europe/Madrid"]) == 0
    assert _warnings(capsys.readouterr().err) == [
        f"warning: {recorded['computer']}: --time-zone Europe/Madrid (+01:00) used, not the file's own +00:00 "
        "(the recording computer's zone)"]
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]
    for name, said in (("given", "given to imuback record --time-zone"), ("old", "where it was recorded")):
        assert main(["process", str(recorded[name]), "--dataset", str(ds), "--time-zone", "Europe/Madrid"]) == 1
        err = capsys.readouterr().err.strip()
        assert err == (f"error: {recorded[name]}: the file's imuback.utc_offset_min is 0 (UTC+00:00, {said}), not "
                       "the 'Europe/Madrid' (UTC+01:00 at its first sample) given; drop --time-zone (time_zone= in "
                       "Python)")
    with pytest.raises(RawFormatError, match=r"imuback\.utc_offset_source must be one of"):
        table = pq.read_table(recorded["given"])
        meta = {**table.schema.metadata, b"imuback.utc_offset_source": b"guess"}
        pq.write_table(table.replace_schema_metadata(meta), tmp_path / "bad.parquet")
        read_raw(tmp_path / "bad.parquet")


def test_batch_says_it_in_its_summary_and_unknown_is_not_up_to_date(tmp_path, capsys, karachi_csv):
    ds = tmp_path / "ds"
    base = ["batch", str(karachi_csv), "--dataset", str(ds), "--runner", "cy", "--progress", "none"]
    assert main([*base, "--time-zone", "Europe/Madrid"]) == 0
    out = capsys.readouterr().out
    assert f"warnings:\n  {karachi_csv}: {MADRID_NOTICE}\n" in out
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]
    assert main([*base, "--time-zone", "Europe/Madrid"]) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert main(base) == 0  # none given: the given zone is kept, up to date
    assert "1 skipped" in capsys.readouterr().out
    assert main([*base, "--time-zone", "unknown"]) == 0  # forget it: not up to date
    assert "1 processed" in capsys.readouterr().out
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "file"}]
    assert main([*base, "--time-zone", "unknown"]) == 0  # nothing left to forget
    assert "1 skipped" in capsys.readouterr().out
    assert main([*base, "--time-zone", "+05:00"]) == 0  # the file's offset, now given: stored as given
    assert "1 processed" in capsys.readouterr().out
    assert _zone(ds) == [{"utc_offset_min": 300, "utc_offset_source": "given"}]


def _mounting(ds):
    return read_table(ds, "sessions")["mounting_source"].to_pylist()


@pytest.mark.parametrize("command", ["process", "batch"])
def test_mounting_unknown_forgets_the_one_given_before(tmp_path, capsys, command):
    csv = _csv_of(imuback.simulate(minutes=0.3, seed=4, runner_id="cy"), tmp_path / "cy.csv", gyro=True)
    ds = tmp_path / "ds"
    base = [command, str(csv), "--dataset", str(ds), "--runner", "cy", "--session", "s1",
            "--start", "2024-03-04T07:00:00Z", *(["--progress", "none"] if command == "batch" else [])]
    assert main([*base, "--mounting", "recommended", "--time-zone", "Asia/Kolkata"]) == 0
    assert main(base) == 0
    assert _mounting(ds) == ["given"]
    assert _zone(ds) == [{"utc_offset_min": 330, "utc_offset_source": "given"}]
    assert main([*base, "--mounting", "unknown"]) == 0
    assert _mounting(ds) == ["assumed"]
    assert _zone(ds) == [{"utc_offset_min": 330, "utc_offset_source": "given"}]  # only what was named
    assert main([*base, "--time-zone", "unknown"]) == 0
    assert _zone(ds) == [{"utc_offset_min": None, "utc_offset_source": None}]  # the file states none
    capsys.readouterr()


def test_mounting_unknown_keeps_a_files_own_and_bad_words_stay_one_line(tmp_path, capsys, recorded):
    ds = tmp_path / "ds"
    assert main(["process", str(recorded["old"]), "--dataset", str(ds), "--mounting", "unknown",
                 "--time-zone", "unknown"]) == 0
    assert _mounting(ds) == ["file"] and _zone(ds) == [{"utc_offset_min": 0, "utc_offset_source": "file"}]
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["process", str(recorded["old"]), "--dataset", str(ds), "--mounting", "unknwn"])
    (line,) = [x for x in capsys.readouterr().err.splitlines() if not x.startswith(("usage:", " "))]
    assert line == ("imuback process: error: argument --mounting: not a JSON 3x3 matrix nor one of ['identity', "
                    "'recommended'] (Expecting value: line 1 column 1 (char 0)); or 'unknown' to forget one given "
                    "before")
    assert main(["process", str(recorded["old"]), "--dataset", str(ds), "--time-zone", "unknwn"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: imuback process: --time-zone 'unknwn' is not a time zone: give a place's IANA name "
        "(Europe/Madrid, America/Los_Angeles), UTC, or an offset like +01:00; or 'unknown' to forget one given "
        "before")


def test_a_first_sample_between_microseconds_keeps_its_given_zone_and_is_up_to_date(tmp_path, capsys):
    """``sessions.start_time`` holds whole microseconds (``record`` writes the clock's ns): the start is
    compared at that precision (``pipeline.same_start``), so the zone given is kept and a re-run writes
    nothing."""
    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=2, runner_id="ann"), utc_offset_min=0,
                              utc_offset_source="computer")
    raw = dataclasses.replace(raw, time_ns=raw.time_ns + 8)  # 8 ns past a whole microsecond, as record's
    path = write_raw(tmp_path / "rec.parquet", raw)
    ds = tmp_path / "ds"
    base = ["process", str(path), "--dataset", str(ds)]
    assert main([*base, "--time-zone", "Europe/Madrid"]) == 0
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]
    capsys.readouterr()
    assert main(base) == 0  # none given: the one given before is kept
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]
    assert _warnings(capsys.readouterr().err) == [
        f"warning: {path}: the time zone given before (+01:00) kept, not the file's own +00:00 (the recording "
        "computer's zone); --time-zone unknown (time_zone='unknown') goes back to the file's"]
    written = pq.read_table(next(ds.rglob("sessions/**/*.parquet")))["processed_at"].to_pylist()
    assert main(base) == 0
    assert "up to date" in capsys.readouterr().out
    assert pq.read_table(next(ds.rglob("sessions/**/*.parquet")))["processed_at"].to_pylist() == written
    assert main(["batch", str(path), "--dataset", str(ds), "--progress", "none"]) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]


def test_collected_warnings_are_the_opening_threads_only():
    """A Dask worker runs tasks in threads: each file's record holds its own warnings, not the others'."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from imuback.pipeline import collected_warnings

    both_open = threading.Barrier(2)

    def task(name: str) -> list[str]:
        with collected_warnings() as said:
            both_open.wait(timeout=10)
            logging.getLogger("imuback").warning("%s: its own notice", name)
            both_open.wait(timeout=10)  # the other thread's notice is said while this block is open
        return said

    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(task, ["run.csv", "run2.csv"]))
    assert got == [["run.csv: its own notice"], ["run2.csv: its own notice"]]


def test_collected_warnings_do_not_need_the_records_thread(monkeypatch):
    """An application may turn ``logging.logThreads`` off (records then carry no thread): still collected."""
    from imuback.pipeline import collected_warnings

    monkeypatch.setattr(logging, "logThreads", False)
    with collected_warnings() as said:
        logging.getLogger("imuback").warning("x.csv: a notice")
    assert said == ["x.csv: a notice"]


@pytest.mark.parametrize("drop", [True, False], ids=["no-column", "null"])
def test_a_zone_given_over_the_files_before_1_9_is_kept_on_upgrade(tmp_path, capsys, karachi_csv, drop):
    """A 1.8 row has no ``utc_offset_source``: an offset other than the one the same bytes state at the
    same start can only have been given (``--time-zone``), so re-processing keeps it, saying so."""
    ds = tmp_path / "ds"
    base = ["batch", str(karachi_csv), "--dataset", str(ds), "--runner", "cy", "--progress", "none"]
    assert main([*base, "--time-zone", "Europe/Madrid"]) == 0
    (part,) = ds.rglob("sessions/**/*.parquet")
    table = pq.read_table(part)
    i = table.schema.get_field_index("utc_offset_source")
    table = table.remove_column(i) if drop else table.set_column(i, table.schema.field(i),
                                                                  pa.nulls(1, pa.string()))
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"imuback.schema_version": b"1.8"}),
                   part)
    capsys.readouterr()
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "1 processed" in out
    assert (f"warnings:\n  {karachi_csv}: the time zone given before (+01:00) kept, not the file's own +05:00; "
            "--time-zone unknown (time_zone='unknown') goes back to the file's\n") in out
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]


def test_the_kept_zone_is_not_said_before_a_refusal(tmp_path, capsys, karachi_csv):
    ds = tmp_path / "ds"
    base = ["process", str(karachi_csv), "--dataset", str(ds)]
    assert main([*base, "--runner", "cy", "--time-zone", "Europe/Madrid"]) == 0
    capsys.readouterr()
    assert main([*base, "--runner", "cz"]) == 1  # the same recording under another runner: refused
    err = capsys.readouterr().err
    assert _warnings(err) == [] and "not filed again under runner 'cz'" in err
    assert _zone(ds) == [{"utc_offset_min": 60, "utc_offset_source": "given"}]


def test_python_takes_the_mountings_the_command_line_takes(tmp_path, karachi_csv):
    from imuback.batch.runner import run_batch

    with pytest.raises(RawFormatError, match=r"mounting= must be a 3x3 rotation \(a numpy array or nested lists\), "
                                             r"a named mounting \(identity, recommended\) or 'unknown', not 'unknwn'"):
        imuback.read(karachi_csv, runner_id="cy", mounting="unknwn")
    assert imuback.read(karachi_csv, runner_id="cy", mounting="recommended").mounting_source == "given"
    turned = np.array(RECOMMENDED_MOUNTING)
    for given in (turned, turned.tolist()):  # a numpy array as nested lists, the same matrix
        raw = imuback.read(karachi_csv, runner_id="cy", mounting=given)
        assert raw.mounting_source == "given" and np.allclose(raw.mounting, turned)
    for bad in ([[1, 0], [0, 1]], 5, b"recommended", np.full((3, 3), np.nan), [["a"] * 3] * 3):
        with pytest.raises(RawFormatError, match=r"run\.csv: mounting= must be a 3x3 rotation"):
            imuback.read(karachi_csv, runner_id="cy", mounting=bad)
    ds = tmp_path / "ds"
    statuses = [o.status for _ in range(2) for o in run_batch([karachi_csv], dataset=ds, workers=1, runner_id="cy",
                                                              mounting="recommended").outcomes]
    assert statuses == ["processed", "skipped"]  # a name is its matrix, up to date as one
    assert _mounting(ds) == ["given"]
    with pytest.raises(RawFormatError, match="not 'unknwn'"):
        run_batch([karachi_csv], dataset=ds, workers=1, runner_id="cy", mounting="unknwn")
