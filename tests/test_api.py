"""The public face (src/imuback/__init__.py, src/imuback/api.py) and docs/python_api.md's example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import imuback

DOC = Path(__file__).resolve().parents[1] / "docs" / "python_api.md"


def test_import_imuback_is_light():
    code = "import sys, imuback; print(sorted(m for m in ('numpy', 'pyarrow', 'duckdb', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names():
    assert set(imuback.__all__) >= {"read", "process", "open_dataset", "simulate", "RawSession",
                                    "SessionResult", "Dataset", "ImubackError"}
    for name in imuback.__all__:
        assert getattr(imuback, name) is not None
    with pytest.raises(AttributeError):
        imuback.process_raw  # noqa: B018 - private: not on the public face


def test_library_logging_has_a_null_handler():
    import logging
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("imuback").handlers)


def test_the_worked_example_runs(tmp_path, monkeypatch, capsys):
    code = re.search(r"## Worked example.*?```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {})
    out = capsys.readouterr().out
    assert "running steps, median contact" in out
    assert "refused:" in out and "in g" in out
    assert (tmp_path / "my-dataset" / "sessions").is_dir()


def test_read_process_round_trip(tmp_path):
    from imuback.store.raw import write_raw

    raw = imuback.simulate(minutes=2, seed=5, runner_id="bo")
    path = write_raw(tmp_path / "bo.parquet", raw)
    back = imuback.read(path, runner_id="bo")  # the file's own runner: accepted (another: test_cli_identity.py)
    assert back.runner_id == "bo" and back.n_samples == raw.n_samples
    res = imuback.process(path, dataset=tmp_path / "ds")
    assert len(res.steps) == res.tables()["steps"].num_rows > 300
    assert res.session["source_sha256"].iloc[0]
    ds = imuback.open_dataset(tmp_path / "ds")
    assert len(ds.steps) == len(res.steps)
    n = ds.query("SELECT count(*) AS n FROM strides")["n"].iloc[0]
    assert n == len(res.strides)
    np.testing.assert_array_equal(ds.sessions["session_id"], [raw.session_id])


def test_open_dataset_on_a_file_is_a_clear_error(tmp_path):
    f = tmp_path / "x.parquet"
    f.write_bytes(b"x")
    with pytest.raises(imuback.ImubackError, match=r"x\.parquet: no dataset folder there \(it is a file\)"):
        imuback.open_dataset(f)


def test_in_memory_sessions_keep_their_identity_in_a_dataset(tmp_path):
    import dataclasses

    raw = imuback.simulate(minutes=1, seed=2, runner_id="cy")
    ds = tmp_path / "ds"
    assert not imuback.process(raw, dataset=ds).up_to_date
    assert imuback.process(raw, dataset=ds).up_to_date  # the same samples again: fine, nothing written
    assert not imuback.process(raw).up_to_date  # no dataset: nothing to be up to date in
    other = dataclasses.replace(raw, acc_mps2=(raw.acc_mps2 * 1.01).astype(np.float32))
    with pytest.raises(imuback.ImubackError, match=r"already in .* made from other bytes.*pass replace=True"):
        imuback.process(other, dataset=ds)
    assert not imuback.process(other, dataset=ds, replace=True).up_to_date
    assert len(imuback.open_dataset(ds).sessions) == 1


def test_read_and_read_sessions_take_a_multi_session_file(tmp_path):
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    mat = _write(tmp_path / "data.mat", {"TM1": {"Test1": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S)}},
                                                           "Trial2": {"SU": {"LowerBack": _lower_back(6, T0_S + 9)}}}}})
    assert [r.session_id for r in imuback.read_sessions(mat, runner_id="a")] == ["TM1_Test1_Trial1", "TM1_Test1_Trial2"]
    assert imuback.read(mat, runner_id="a", session_id="TM1_Test1_Trial2").n_samples == 600
    with pytest.raises(imuback.ImubackError, match=r"data\.mat: holds 2 sessions"):
        imuback.read(mat, runner_id="a")
    with pytest.raises(imuback.ImubackError, match=r"data\.mat: unknown format 'matlab'; give one of"):
        imuback.read(mat, format="matlab", runner_id="a")
    res = imuback.process(imuback.read(mat, runner_id="a", session_id="TM1_Test1_Trial1"))
    assert res.session_id == "TM1_Test1_Trial1"


def test_identity_a_parquet_file_cannot_take_is_refused(tmp_path):
    from imuback.store.raw import write_raw

    path = write_raw(tmp_path / "s.parquet", imuback.simulate(minutes=0.2, seed=1))
    with pytest.raises(imuback.ImubackError, match=r"s\.parquet: the file's imuback\.runner_id is 'runner-01', not "
                                                    r"the 'bob' given; drop runner_id="):
        imuback.read(path, runner_id="bob")
    with pytest.raises(imuback.ImubackError, match=r"s\.parquet: \['sensor'\] are for files without them; this "
                                                    r"file carries its own"):
        imuback.read(path, sensor="x")


def test_process_takes_a_treadmill_speed_for_pace_and_lengths(tmp_path):
    """``process(..., treadmill_speed_mps=)``: the belt speed gives pace and step/stride length, from a
    RawSession and from a file; without it there is no speed (never guessed); a speed that is not a
    belt speed is refused."""
    from imuback.store.raw import write_raw

    raw = imuback.simulate(minutes=2, seed=4, runner_id="cy")
    res = imuback.process(raw, treadmill_speed_mps=3.0)
    s = res.session.iloc[0]
    assert s["speed_source"] == "treadmill" and s["treadmill_speed_mps"] == 3.0
    assert abs(s["median_pace_s_per_km"] - 1000.0 / 3.0) < 1e-6
    run = res.steps[res.steps["activity"] == "run"]
    ok = run["step_time_s"].notna()
    assert np.allclose(run.loc[ok, "step_length_m"], 3.0 * run.loc[ok, "step_time_s"])
    assert ok.sum() > 300 and run["speed_mps"].isna().all()  # steps.speed_mps: the GPS's own, none here
    path = write_raw(tmp_path / "cy.parquet", raw)
    from_file = imuback.process(path, treadmill_speed_mps=3.0, dataset=tmp_path / "ds").session.iloc[0]
    assert from_file["median_stride_length_m"] == pytest.approx(s["median_stride_length_m"])
    assert imuback.open_dataset(tmp_path / "ds").sessions["speed_source"].tolist() == ["treadmill"]
    none = imuback.process(raw).session.iloc[0]
    assert none["speed_source"] == "none" and np.isnan(none["median_pace_s_per_km"])
    with pytest.raises(imuback.ImubackError, match="is not a belt speed"):
        imuback.process(raw, treadmill_speed_mps=20.0)  # 72 km/h: km/h typed where m/s is asked


def test_errors_in_python_give_python_advice_not_the_command_lines(tmp_path, capsys):
    """The readers' errors say ``--runner ID`` for the command line; through the Python API they
    say ``runner_id=`` (the same exception type), and the command line keeps its own words."""
    import numpy as np

    import imuback
    from imuback.cli import main
    from imuback.errors import RawFormatError
    from tests.formats.test_xsens import _export

    path = _export(tmp_path / "lb.txt", np.arange(3000))[0]
    with pytest.raises(RawFormatError) as no_runner:
        imuback.process(path)
    with pytest.raises(RawFormatError) as no_start:
        imuback.read(path, runner_id="v1")
    assert str(no_runner.value).endswith("give runner_id=")
    assert 'give the start time of its first sample (start="2024-03-04T07:00:00Z", ISO 8601)' in str(no_start.value)
    for exc in (no_runner.value, no_start.value):
        assert "--" not in str(exc), exc
    assert main(["process", str(path), "--dataset", str(tmp_path / "ds")]) == 1
    assert capsys.readouterr().err.rstrip().endswith("give --runner ID (runner_id= in Python)")


def test_a_multi_session_file_read_as_one_names_the_python_keyword(tmp_path, monkeypatch):
    import dataclasses

    import imuback.formats
    from imuback.errors import RawFormatError

    def two(path, **_kw):
        raw = imuback.simulate(minutes=0.3, seed=1, runner_id="r")
        return [dataclasses.replace(raw, session_id="a"), dataclasses.replace(raw, session_id="b")]

    monkeypatch.setattr(imuback.formats, "read_sessions", two)
    with pytest.raises(RawFormatError, match=r"imuback\.read_sessions or pick one with session_id=$"):
        imuback.read(tmp_path / "data.mat", format="mobgap", runner_id="r")


def test_a_start_datetime_needs_its_zone(tmp_path):
    """``start=`` may be a datetime with its zone; one without is refused naming start= and tzinfo."""
    import datetime as dt

    import numpy as np

    import imuback
    from imuback.errors import RawFormatError
    from tests.formats.test_xsens import _export

    path = _export(tmp_path / "lb.txt", np.arange(3000))[0]
    with pytest.raises(RawFormatError, match=r"lb\.txt: start=datetime\.datetime\(2024, 3, 4, 7, 0\) has no time "
                                             r"zone.*tzinfo=datetime\.timezone\.utc if it is UTC") as naive:
        imuback.read(path, runner_id="v1", start=dt.datetime(2024, 3, 4, 7))
    assert "--" not in str(naive.value)
    utc = imuback.read(path, runner_id="v1", start=dt.datetime(2024, 3, 4, 7, tzinfo=dt.UTC))
    assert utc.time_ns[0] == imuback.read(path, runner_id="v1", start="2024-03-04T07:00:00Z").time_ns[0]
    plus_one = dt.timezone(dt.timedelta(hours=1))
    madrid = imuback.read(path, runner_id="v1", start=dt.datetime(2024, 3, 4, 8, tzinfo=plus_one))
    assert madrid.time_ns[0] == utc.time_ns[0]


def test_a_bad_zone_or_a_reflection_is_refused_in_python_words(tmp_path):
    """``time_zone=`` and ``mounting=`` refused through the Python API name the keyword, not
    ``--time-zone`` or the file's ``imuback.mounting``."""
    from imuback.errors import RawFormatError
    from tests.formats.test_xsens import _export

    path = _export(tmp_path / "lb.txt", np.arange(3000))[0]
    with pytest.raises(RawFormatError, match=r"lb\.txt: time_zone='Mars/Olympus' is not a time zone") as zone:
        imuback.read(path, runner_id="v1", start="2024-03-04T07:00:00Z", time_zone="Mars/Olympus")
    with pytest.raises(RawFormatError, match=r"lb\.txt: mounting= is a reflection \(det -1\)") as flipped:
        imuback.read(path, runner_id="v1", start="2024-03-04T07:00:00Z", mounting=np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(RawFormatError, match=r"lb\.txt: mounting= must be a rotation matrix") as skewed:
        imuback.read(path, runner_id="v1", start="2024-03-04T07:00:00Z", mounting=np.full((3, 3), 0.5))
    for exc in (zone.value, flipped.value, skewed.value):
        assert "--" not in str(exc) and "imuback.mounting" not in str(exc), exc


def test_a_redating_or_a_column_mapping_is_refused_in_python_words(tmp_path):
    """Errors raised through this API name ``replace=True`` and ``mapping=``, not ``--replace``,
    ``--columns``, ``--time-unit`` or ``--acc-unit``."""
    from imuback.errors import RawFormatError, RedatedError
    from imuback.formats.csv import ColumnMapping
    from imuback.store.raw import write_raw

    raw = imuback.simulate(minutes=0.3, seed=3)
    csv = tmp_path / "rel.csv"
    csv.write_text("time,acc_x,acc_y,acc_z\n" + "".join(
        f"{(t - raw.time_ns[0]) / 1e9:.4f},{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n"
        for t, a in zip(raw.time_ns, raw.acc_mps2, strict=True)))
    ds = tmp_path / "ds"
    imuback.process(csv, dataset=ds, runner_id="ann", start="2026-03-04T07:00:00Z")
    with pytest.raises(RedatedError) as redated:
        imuback.process(csv, dataset=ds, runner_id="ann", start="2026-03-04T07:00:00+01:00")
    assert str(redated.value).endswith("the start given now is 2026-03-04T06:00:00Z: replace=True to re-date it "
                                       "(its session id stays)")
    with pytest.raises(RawFormatError) as absent:
        imuback.read(csv, runner_id="ann", start="2026-03-04T07:00:00Z", mapping=ColumnMapping.parse("time=ts"))
    assert str(absent.value).startswith(f"{csv}: mapping= names column(s) ['ts'] that the file does not have")
    own = write_raw(tmp_path / "own.parquet", raw)
    with pytest.raises(RawFormatError) as mapped:
        imuback.read(own, mapping=ColumnMapping.parse("time=ts"))
    assert str(mapped.value) == (f"{own}: a column mapping (mapping=) is for CSV files; this is a parquet file (Xsens "
                                 "exports take ColumnMapping acc_unit=/gyr_unit= only)")
    for exc in (redated.value, absent.value, mapped.value):
        assert "--" not in str(exc), exc


def test_process_gives_a_raw_session_the_zone_given(tmp_path):
    """``process(raw, time_zone=...)``: the zone's offset at the first sample, source ``given``, as
    ``read`` sets it (stored so in a dataset); ``"unknown"`` keeps the session's own; a bad zone and
    another identity keyword are refused naming the keyword (the latter with the replace() call)."""
    from imuback.errors import RawFormatError

    raw = imuback.simulate(minutes=0.3, seed=1, runner_id="zed")  # 2024-03-04: Madrid is UTC+01:00
    assert raw.utc_offset_min is None
    res = imuback.process(raw, time_zone="Europe/Madrid", dataset=tmp_path / "ds")
    assert res.session[["utc_offset_min", "utc_offset_source"]].iloc[0].tolist() == [60, "given"]
    stored = imuback.open_dataset(tmp_path / "ds").sessions
    assert stored[["utc_offset_min", "utc_offset_source"]].iloc[0].tolist() == [60, "given"]
    same = imuback.read(_written(tmp_path, raw), time_zone="Europe/Madrid")  # read() sets it the same way
    assert (same.utc_offset_min, same.utc_offset_source) == (60, "given")
    assert imuback.process(raw, time_zone="unknown").session["utc_offset_min"].isna().all()
    with pytest.raises(RawFormatError, match=r"time_zone='Mars/Olympus' is not a time zone"):
        imuback.process(raw, time_zone="Mars/Olympus")
    with pytest.raises(RawFormatError, match=r"runner_id= is for files; on a RawSession use "
                                             r"dataclasses\.replace\(raw, runner_id=\.\.\.\)"):
        imuback.process(raw, runner_id="ann", time_zone="UTC")


def _written(tmp_path, raw):
    from imuback.store.raw import write_raw

    return write_raw(tmp_path / "zed.parquet", raw)


def test_python_words_leave_a_path_with_option_words_as_it_is(tmp_path, caplog):
    """A file in a folder named like the command line's options (``study--replaced --start/``): its
    warning and its error give ``time_zone=`` and the path as it is."""
    from imuback.errors import RawFormatError

    raw = imuback.simulate(minutes=0.2, seed=3)
    folder = tmp_path / "study--replaced --start"
    folder.mkdir()
    csv = folder / "run.csv"
    stamps = (np.datetime64("2024-03-04T07:00:00", "ns") + (raw.time_ns - raw.time_ns[0]).astype("m8[ns]")).astype(str)
    csv.write_text("time,acc_x,acc_y,acc_z\n" + "".join(
        f"{t}+05:00,{a[0]:.4f},{a[1]:.4f},{a[2]:.4f}\n" for t, a in zip(stamps, raw.acc_mps2, strict=True)))
    with caplog.at_level("WARNING", logger="imuback"):
        imuback.process(csv, runner_id="ann", time_zone="Europe/Madrid")
    assert f"{csv}: time_zone='Europe/Madrid' (+01:00) used, not the file's own +05:00" in caplog.messages
    with pytest.raises(RawFormatError) as zone:
        imuback.process(csv, runner_id="ann", time_zone="Mars/Olympus")
    assert str(zone.value).startswith(f"{csv}: time_zone='Mars/Olympus' is not a time zone")


def test_a_session_read_from_a_file_is_stored_as_that_file(tmp_path, monkeypatch, capsys):
    """``process(read(file))`` stores the file's absolute path and the SHA-256 of its bytes, as
    ``process(file)`` and ``imuback process`` do: either route finds the other's rows up to date (review
    34 #1: it stored the samples' hash and a cwd-relative path, and each route then refused the other's
    session as "made from other bytes"). A session built in memory keeps its samples' hash."""
    from imuback.cli import main
    from imuback.formats import file_sha256
    from tests.formats.test_xsens import _export

    monkeypatch.chdir(tmp_path)
    _export(tmp_path / "lb.txt", np.arange(3000))
    start, ds = "2024-03-04T07:00:00Z", tmp_path / "ds"
    first = imuback.process(imuback.read("lb.txt", runner_id="v1", start=start), dataset=ds)
    assert not first.up_to_date
    row = imuback.open_dataset(ds).sessions.iloc[0]
    assert (row["source_path"], row["source_sha256"]) == (str(tmp_path / "lb.txt"), file_sha256(tmp_path / "lb.txt"))
    assert main(["process", "lb.txt", "--runner", "v1", "--start", start, "--dataset", str(ds)]) == 0
    assert "up to date in" in capsys.readouterr().out
    assert imuback.process("lb.txt", runner_id="v1", start=start, dataset=ds).up_to_date
    # the command line first, then read and process: up to date as well
    _export(tmp_path / "other.txt", np.arange(2500))
    assert main(["process", "other.txt", "--runner", "v1", "--start", start, "--dataset", str(ds)]) == 0
    assert imuback.process(imuback.read("other.txt", runner_id="v1", start=start), dataset=ds).up_to_date
    # a start given again, another one: the same file re-dated, refused as process(path) refuses it
    with pytest.raises(imuback.ImubackError, match=r"replace=True to re-date it"):
        imuback.process(imuback.read(tmp_path / "lb.txt", runner_id="v1", session_id="x",
                                     start="2024-03-04T08:00:00Z"), dataset=ds)
    # stored as imuback stored process(read(file)) before (the samples' hash, the path as given): that same
    # recording, written again with the file's hash and absolute path, then up to date either way
    import dataclasses

    _export(tmp_path / "old.txt", np.arange(2800))
    read_old = imuback.read("old.txt", runner_id="v1", start=start)
    imuback.process(dataclasses.replace(read_old, file=None), dataset=ds)
    assert not imuback.process(read_old, dataset=ds).up_to_date
    assert main(["process", "old.txt", "--runner", "v1", "--start", start, "--dataset", str(ds)]) == 0
    assert "up to date in" in capsys.readouterr().out
    sessions = imuback.open_dataset(ds).sessions
    assert sorted(sessions["source_path"]) == [str(tmp_path / n) for n in ("lb.txt", "old.txt", "other.txt")]
    built = imuback.simulate(minutes=0.5, seed=2, runner_id="v1")  # no file: its samples' hash
    from imuback.pipeline import raw_sha256

    assert built.file is None
    assert imuback.process(built).session["source_sha256"].iloc[0] == raw_sha256(built)


def test_every_trial_of_a_data_mat_read_then_processed_is_up_to_date_for_imuback_process(tmp_path, capsys):
    """``read_sessions(data.mat)`` and processing each (what ``process(data.mat)`` advises) stores each
    trial as ``imuback process data.mat`` does: its path (not ``data.mat (Trial...)``) and hash."""
    from imuback.cli import main
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    trials = {"Trial1": {"SU": {"LowerBack": _lower_back(20, T0_S)}},
              "Trial2": {"SU": {"LowerBack": _lower_back(25, T0_S + 60)}}}
    mat = _write(tmp_path / "data.mat", {"TM1": {"Test1": trials}})
    ds = tmp_path / "ds"
    for raw in imuback.read_sessions(mat, runner_id="ha001"):
        assert raw.file is not None and raw.file.path == str(mat) and raw.file.format == "mobgap"
        assert not imuback.process(raw, dataset=ds).up_to_date
    assert set(imuback.open_dataset(ds).sessions["source_path"]) == {str(mat)}
    capsys.readouterr()
    assert main(["process", str(mat), "--runner", "ha001", "--dataset", str(ds)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all("up to date in" in line for line in out), out
    (tmp_path / "ms").mkdir()  # another participant's data.mat, the same trial names, under the same runner id
    other = _write(tmp_path / "ms" / "data.mat", {"TM1": {"Test1": {"Trial1": {"SU": {
        "LowerBack": _lower_back(20, T0_S + 3600, seed=3)}}}}})
    with pytest.raises(imuback.ImubackError) as clash:
        imuback.process(imuback.read_sessions(other, runner_id="ha001")[0], dataset=ds)
    assert str(clash.value).endswith("give each participant their own runner id (runner_id=; in a batch, one run "
                                     "per participant's folder), or pass replace=True to replace the stored session "
                                     "with it")
