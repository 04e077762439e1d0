"""CSV sessions (src/imuback/formats/csv.py): identity, time units, delimiters, clear errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from imuback.cli import main
from imuback.core import G_MPS2, RawSession
from imuback.errors import RawFormatError, UnitsError
from imuback.formats import read_session
from imuback.formats.csv import ColumnMapping, header_names
from tests.signal.analytic import half_sine_run


@pytest.fixture
def raw() -> RawSession:
    return half_sine_run(minutes=0.5)[0]



def test_csv_import_with_epoch_seconds(tmp_path, raw):
    t = raw.time_ns / 1e9
    lines = ["time,acc_x,acc_y,acc_z"] + [f"{t[i]:.6f},{raw.acc_mps2[i,0]},{raw.acc_mps2[i,1]},{raw.acc_mps2[i,2]}"
                                          for i in range(500)]
    p = tmp_path / "run1.csv"
    p.write_text("\n".join(lines))
    back = read_session(p, runner_id="r9")
    start = np.datetime_as_string(np.datetime64(int(raw.time_ns[0]), "ns"), unit="s")
    assert back.session_id == "run1-" + start.replace("-", "").replace(":", "") + "Z"  # name + start time
    assert back.runner_id == "r9"
    assert back.gyr_dps is None
    assert back.sample_rate_hz == pytest.approx(200.0, rel=1e-3)
    assert np.abs(back.time_ns - raw.time_ns[:500]).max() < 2000  # µs precision of the text


def _csv(path, raw, *, times, sep=",", n=400):
    rows = [sep.join(["time", "acc_x", "acc_y", "acc_z"])]
    rows += [sep.join([str(times[i]), *(f"{v:.5f}" for v in raw.acc_mps2[i])]) for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("unit, scale", [("s", 1e-9), ("ms", 1e-6), ("us", 1e-3), ("ns", 1)])
def test_csv_epochs_in_s_ms_us_ns_are_told_apart(tmp_path, raw, unit, scale):
    t = raw.time_ns[:400]
    times = [f"{x * scale:.6f}" for x in t] if unit == "s" else [str(int(x * scale)) for x in t]
    back = read_session(_csv(tmp_path / f"{unit}.csv", raw, times=times), runner_id="r1")
    assert abs(int(back.time_ns[0]) - int(t[0])) < 2000
    assert back.sample_rate_hz == pytest.approx(200.0, rel=1e-3)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_delimiter_is_detected(tmp_path, raw, sep):
    back = read_session(_csv(tmp_path / "semi.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]], sep=sep),
                    runner_id="r1")
    assert back.n_samples == 400


def test_csv_relative_times_need_a_start(tmp_path, raw):
    rel = [f"{(x - raw.time_ns[0]) / 1e9:.6f}" for x in raw.time_ns[:400]]
    path = _csv(tmp_path / "rel.csv", raw, times=rel)
    with pytest.raises(RawFormatError, match=r"rel\.csv: column 'time' starts at 0: seconds since the start.*--start"):
        read_session(path, runner_id="r1")
    back = read_session(path, runner_id="r1", start="2024-03-04T07:00:00Z")
    assert str(np.datetime64(int(back.time_ns[0]), "ns")) == "2024-03-04T07:00:00.000000000"
    assert back.session_id == "rel-20240304T070000Z"


def test_csv_without_a_runner_is_refused(tmp_path, raw):
    path = _csv(tmp_path / "anon.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    with pytest.raises(RawFormatError, match=r"anon\.csv: no runner id.*--runner.*anon\.csv\.json"):
        read_session(path)


def test_csv_missing_column_lists_what_was_found(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("timestamp,ax,ay,az\n1,2,3,4\n")
    with pytest.raises(RawFormatError, match=r"missing column\(s\) \['time', 'acc_x', 'acc_y', 'acc_z'\]; "
                                             r"found \['timestamp', 'ax', 'ay', 'az'\]"):
        read_session(path, runner_id="r1")


@pytest.mark.parametrize("text, match", [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object")])
def test_a_bad_sidecar_is_named(tmp_path, raw, text, match):
    path = _csv(tmp_path / "side.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    (tmp_path / "side.csv.json").write_text(text)
    with pytest.raises(RawFormatError, match=rf"side\.csv\.json: {match}"):
        read_session(path, runner_id="r1")


def test_the_command_line_never_overrides_what_the_sidecar_says(tmp_path, raw):
    path = _csv(tmp_path / "b.csv", raw, times=raw.time_ns / 1e9)
    (tmp_path / "b.csv.json").write_text('{"imuback.runner_id": "runner-B"}')
    assert read_session(path).runner_id == "runner-B"
    assert read_session(path, runner_id="runner-B").runner_id == "runner-B"
    with pytest.raises(RawFormatError, match=r"gives imuback\.runner_id = 'runner-B'"):
        read_session(path, runner_id="runner-A")


def test_start_is_refused_for_times_that_are_dates_already(tmp_path, raw):
    path = _csv(tmp_path / "e.csv", raw, times=raw.time_ns / 1e9)
    with pytest.raises(RawFormatError, match="already a date"):
        read_session(path, runner_id="r1", start="2024-03-04T07:00:00Z")


def test_a_batch_start_dates_relative_times_and_leaves_dates_alone(tmp_path, raw, caplog):
    """A batch's ``--start`` (``UndatedStart``) times a CSV of time since the start (``start_source``
    ``given``); a CSV of epoch numbers or dates keeps its own times (``file``), said in one log warning,
    where a plain start is refused for it (above)."""
    from imuback.formats.identity import UndatedStart

    start = UndatedStart("2024-03-04T07:00:00Z")
    since = [f"{(x - raw.time_ns[0]) / 1e9:.6f}" for x in raw.time_ns[:400]]
    rel = read_session(_csv(tmp_path / "rel.csv", raw, times=since), runner_id="r1", start=start)
    assert str(np.datetime64(int(rel.time_ns[0]), "ns")) == "2024-03-04T07:00:00.000000000"
    assert rel.start_source == "given" and not caplog.records
    epoch = read_session(_csv(tmp_path / "e.csv", raw, times=raw.time_ns / 1e9), runner_id="r1", start=start)
    assert abs(int(epoch.time_ns[0]) - int(raw.time_ns[0])) < 2000 and epoch.start_source == "file"
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith(f"{tmp_path / 'e.csv'}: dates its samples itself (first sample at ")
    assert said.endswith("; --start 2024-03-04T07:00:00Z applies only to files that state no start")
    dates = [str(np.datetime64(int(t), "ns").astype("datetime64[ms]")) + "Z" for t in raw.time_ns[:400]]
    assert read_session(_csv(tmp_path / "d.csv", raw, times=dates), runner_id="r1", start=start).start_source == "file"


def test_process_applies_runner_and_start_to_csv_files_only(tmp_path, raw, capsys):
    from imuback.cli import main
    from imuback.store.raw import write_raw

    pq = write_raw(tmp_path / "own.parquet", raw)
    rel = _csv(tmp_path / "rel.csv", raw, times=(raw.time_ns - raw.time_ns[0]) / 1e9)
    given = ["--dataset", str(tmp_path / "ds"), "--runner", "r1", "--start", "2023-11-14T23:13:20+01:00"]
    assert raw.runner_id == "r1" and raw.time_ns[0] == np.datetime64("2023-11-14T22:13:20", "ns").astype(np.int64)
    code = main(["process", str(pq), str(rel), *given])  # the raw Parquet file's own: accepted
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "own.parquet: session" in out.out and "rel.csv: session" in out.out
    # another runner: the CSV takes it, the raw Parquet file (its own is r1) refuses it and the others go on
    code = main(["process", str(pq), str(rel), "--dataset", str(tmp_path / "ds2"), "--runner", "r2", *given[4:]])
    out = capsys.readouterr()
    assert code == 1 and "rel.csv: session" in out.out and "own.parquet: session" not in out.out
    assert "own.parquet: the file's imuback.runner_id is 'r1', not the 'r2' given; drop --runner" in out.err


def _own_csv(path, raw, *, sep=";", n=600, time=None):
    """A researcher's CSV: own names, acc in g, gyro in rad/s, epoch ms, an extra column."""
    t = time if time is not None else [str(int(x // 10**6)) for x in raw.time_ns[:n]]
    rows = [sep.join(["idx", "ts", "ax", "ay", "az", "wx", "wy", "wz"])]
    for i in range(n):
        a = raw.acc_mps2[i] / G_MPS2
        w = np.radians(raw.gyr_dps[i].astype(np.float64))
        rows.append(sep.join([str(i), t[i], *(f"{v:.7f}" for v in (*a, *w))]))
    path.write_text("\n".join(rows) + "\n")
    return path


MAP = "time=ts,acc_x=ax,acc_y=ay,acc_z=az,gyr_x=wx,gyr_y=wy,gyr_z=wz"


def test_a_column_mapping_renames_and_converts_units(tmp_path, raw):
    path = _own_csv(tmp_path / "own.csv", raw)
    m = ColumnMapping.parse(MAP, acc_unit="g", gyr_unit="rad/s", time_unit="ms")
    back = read_session(path, runner_id="r1", mapping=m)
    assert np.allclose(back.acc_mps2, raw.acc_mps2[:600], atol=1e-4)  # g -> m/s²
    assert np.allclose(back.gyr_dps, raw.gyr_dps[:600], atol=1e-3)  # rad/s -> deg/s
    assert np.array_equal(back.time_ns, raw.time_ns[:600] // 10**6 * 10**6)  # epoch ms, ';' detected
    with pytest.raises(RawFormatError, match=r"own\.csv: missing column\(s\) \['time', 'acc_x', 'acc_y', 'acc_z'\]"
                                             r".*--columns time=ts"):
        read_session(path, runner_id="r1")  # without the mapping


def test_a_time_unit_with_a_start_is_time_since_the_start(tmp_path, raw):
    rel = [f"{(x - raw.time_ns[0]) / 1e6:.3f}" for x in raw.time_ns[:600]]  # ms since the start
    path = _own_csv(tmp_path / "rel.csv", raw, sep="\t", time=rel)
    m = ColumnMapping.parse(MAP, acc_unit="g", gyr_unit="rad/s", time_unit="ms")
    with pytest.raises(RawFormatError, match=r"rel\.csv: column 'time' starts at 0 ms: time since the start.*--start"):
        read_session(path, runner_id="r1", mapping=m)
    back = read_session(path, runner_id="r1", mapping=m, start="2024-03-04T07:00:00Z")
    assert str(np.datetime64(int(back.time_ns[0]), "ns")) == "2024-03-04T07:00:00.000000000"
    assert np.abs(back.time_ns - back.time_ns[0] - (raw.time_ns[:600] - raw.time_ns[0])).max() < 1000  # µs text


def test_a_mapping_of_some_columns_keeps_the_contract_columns_it_does_not_name(tmp_path, raw):
    # only the time column has its own name: acc_x..gyr_z are already the contract's
    rows = ["t_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"]
    rows += [",".join([f"{(x - raw.time_ns[0]) / 1e9:.3f}", *(f"{v:.6f}" for v in (*a, *w))])
             for x, a, w in zip(raw.time_ns[:600], raw.acc_mps2[:600], raw.gyr_dps[:600], strict=True)]
    path = tmp_path / "part.csv"
    path.write_text("\n".join(rows) + "\n")
    back = read_session(path, runner_id="r1", mapping=ColumnMapping.parse("time=t_s", time_unit="s"),
                        start="2024-03-04T07:00:00Z")
    assert np.allclose(back.acc_mps2, raw.acc_mps2[:600], atol=1e-5)
    assert back.gyr_dps is not None and np.allclose(back.gyr_dps, raw.gyr_dps[:600], atol=1e-5)


@pytest.mark.parametrize("text, kw, match", [
    ("time=ts,acc_x", {}, r"--columns: 'acc_x' is not COLUMN=NAME"),
    ("tim=ts", {}, r"--columns: 'tim' is not a raw contract column"),
    ("time=ts", {"acc_unit": "mg"}, r"acc unit 'mg' is not one of"),
])
def test_a_bad_mapping_is_refused(text, kw, match):
    with pytest.raises(RawFormatError, match=match):
        ColumnMapping.parse(text, **kw)


def test_a_mapping_naming_absent_columns_lists_the_file_columns(tmp_path, raw):
    path = _own_csv(tmp_path / "own.csv", raw)
    with pytest.raises(RawFormatError, match=r"own\.csv: --columns names column\(s\) \['t'\] that the file does not "
                                             r"have; found \['idx', 'ts'"):
        read_session(path, runner_id="r1", mapping=ColumnMapping.parse("time=t,acc_x=ax,acc_y=ay,acc_z=az"))


def test_process_takes_columns_and_units_on_the_command_line(tmp_path, raw, capsys):
    path = _own_csv(tmp_path / "own.csv", raw, n=6000)
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--runner", "r1", "--columns", MAP, "--acc-unit", "g",
                 "--gyr-unit", "rad/s", "--time-unit", "ms", "--dataset", str(ds)]) == 0
    assert "session own-" in capsys.readouterr().out
    assert main(["process", str(path), "--runner", "r1", "--columns", "time=nope", "--dataset", str(ds)]) == 1
    assert "--columns names column(s) ['nope']" in capsys.readouterr().err


def test_a_unit_the_check_catches_points_at_the_unit_flag(tmp_path, raw, capsys):
    """A CSV in g (or rad/s) given without its unit: the error names the flag that reads it as it
    is, not only how to rewrite the file; a unit already given is not advised again."""
    path = _own_csv(tmp_path / "own.csv", raw, n=6000)
    ds = tmp_path / "ds"
    base = ["process", str(path), "--runner", "r1", "--columns", MAP, "--time-unit", "ms", "--dataset", str(ds)]
    assert main([*base, "--gyr-unit", "rad/s"]) == 1
    err = capsys.readouterr().err
    assert "own.csv: acceleration looks like it is in g" in err and "--acc-unit g" in err, err
    assert main([*base, "--acc-unit", "g"]) == 1
    err = capsys.readouterr().err
    assert "in rad/s" in err and "--gyr-unit rad/s" in err and "--acc-unit" not in err, err


@pytest.mark.parametrize("folder", ["runs in greenwich", "grad/s"])
def test_the_unit_hint_comes_from_the_check_not_from_words_in_the_path(tmp_path, raw, capsys, folder):
    """Acceleration in mm/s² under a folder whose name holds "in g" or "rad/s": no unit flag fits,
    so none is advised (the hint once matched the message, which starts with the path)."""
    path = tmp_path / folder / "mm.csv"
    path.parent.mkdir(parents=True)
    mm = raw.acc_mps2 * 1000
    rows = [",".join([str(raw.time_ns[i]), *(f"{v:.2f}" for v in (*mm[i], *raw.gyr_dps[i]))]) for i in range(3000)]
    path.write_text("time,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n" + "\n".join(rows) + "\n")
    assert main(["process", str(path), "--runner", "r1", "--dataset", str(tmp_path / "ds")]) == 1
    err = capsys.readouterr().err
    assert "mm.csv: median |acc|" in err and "not gravity in m/s²" in err, err
    assert "give the file's unit" not in err and "--acc-unit" not in err and "--gyr-unit" not in err, err


@pytest.mark.parametrize("given, scale_acc, scale_gyr, kind", [
    ("--acc-unit", 1 / G_MPS2**2, 1.0, "acc_in_g"),  # said g, still reads as g after the conversion
    ("--gyr-unit", 1.0, np.radians(1.0) ** 2, "gyr_rad_s"),  # said rad/s, still barely turns
])
def test_a_unit_already_given_is_not_advised_again(tmp_path, raw, given, scale_acc, scale_gyr, kind):
    """The unit was given and the file still fails the same check: the flag is not the cure."""
    rows = ["time,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"]
    rows += [",".join([str(raw.time_ns[i]), *(f"{v:.9g}" for v in (*raw.acc_mps2[i] * scale_acc,
                                                                        *raw.gyr_dps[i] * scale_gyr))])
             for i in range(3000)]
    path = tmp_path / "twice.csv"
    path.write_text("\n".join(rows) + "\n")
    m = ColumnMapping(acc_unit="g") if given == "--acc-unit" else ColumnMapping(gyr_unit="rad/s")
    with pytest.raises(UnitsError) as err:
        read_session(path, runner_id="r1", mapping=m)
    assert err.value.kind == kind
    assert "give the file's unit" not in str(err.value), err.value


def test_a_semicolon_csv_with_decimal_commas_is_read_as_numbers(tmp_path, raw):
    # a spreadsheet's CSV in many European locales: ';' between cells, ',' before the decimals
    t = raw.time_ns / 1e9
    rows = ["time;acc_x;acc_y;acc_z"] + [";".join(f"{v:.6f}".replace(".", ",") for v in (t[i], *raw.acc_mps2[i]))
                                         for i in range(500)]
    p = tmp_path / "excel.csv"
    p.write_text("\n".join(rows) + "\n")
    back = read_session(p, runner_id="r9")
    assert back.n_samples == 500
    assert np.abs(back.acc_mps2 - raw.acc_mps2[:500]).max() < 1e-5
    assert np.abs(back.time_ns - raw.time_ns[:500]).max() < 2000


def test_a_header_that_is_not_utf8_is_one_named_error(tmp_path, raw, capsys):
    p = tmp_path / "latin1.csv"
    _csv(p, raw, times=raw.time_ns)
    p.write_bytes(p.read_bytes().replace(b"acc_z", b"acc_z (m/s\xb2)", 1))  # Latin-1 '²'
    with pytest.raises(RawFormatError, match=r"latin1\.csv: the header row is not UTF-8 text \(byte 0xb2"):
        read_session(p, runner_id="r9")
    assert main(["process", str(p), "--runner", "r9", "--dataset", str(tmp_path / "ds")]) == 1
    assert "latin1.csv: the header row is not UTF-8" in capsys.readouterr().err


def test_times_that_do_not_increase_or_a_single_sample_are_named(tmp_path, raw):
    # epoch ns written as %.6e: seven digits, so most rows share one time
    p = _csv(tmp_path / "digits.csv", raw, times=[f"{x:.6e}" for x in raw.time_ns[:400]])
    with pytest.raises(RawFormatError, match=r"digits\.csv: cannot infer the sample rate: most 'time' values do "
                                             r"not increase .*too few digits"):
        read_session(p, runner_id="r1")
    one = _csv(tmp_path / "one.csv", raw, times=[str(int(raw.time_ns[0]))], n=1)
    with pytest.raises(RawFormatError, match=r"one\.csv: 1 sample\(s\); a session needs at least two"):
        read_session(one, runner_id="r1")


def test_a_csv_with_a_byte_order_mark_has_clean_column_names(tmp_path, raw):
    """Excel's "CSV UTF-8" starts with a byte order mark: it is not part of the first column's name."""
    p = _csv(tmp_path / "excel.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]], sep=";")
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert header_names(p) == (";", ["time", "acc_x", "acc_y", "acc_z"])
    assert read_session(p, runner_id="r1").n_samples == 400


def test_a_dead_axis_in_a_csv_is_refused_naming_file_and_column(tmp_path, raw, capsys):
    dead = raw.acc_mps2.copy()
    dead[:, 1] = 0.0
    p = _csv(tmp_path / "dead.csv", dataclasses.replace(raw, acc_mps2=dead, acc_absent=("acc_y",)),
             times=[str(int(x)) for x in raw.time_ns[:1000]], n=1000)
    with pytest.raises(UnitsError, match=r"dead\.csv: column 'acc_y' reads 0 m/s² on every sample .*dead "
                                         r"accelerometer axis") as err:
        read_session(p, runner_id="r1")
    assert err.value.kind == "acc_dead"
    assert main(["process", str(p), "--runner", "r1", "--dataset", str(tmp_path / "ds")]) == 1
    err_text = capsys.readouterr().err
    assert "dead.csv: column 'acc_y'" in err_text and "Traceback" not in err_text


def test_a_two_axis_csv_declared_in_its_sidecar_is_read(tmp_path, raw):
    t = raw.time_ns[:1000]
    rows = ["time,acc_x,acc_z"] + [f"{t[i]},{raw.acc_mps2[i, 0]:.5f},{raw.acc_mps2[i, 2]:.5f}" for i in range(1000)]
    p = tmp_path / "two.csv"
    p.write_text("\n".join(rows) + "\n")
    (tmp_path / "two.csv.json").write_text('{"imuback.acc_absent": "acc_y"}')
    back = read_session(p, runner_id="r1")
    assert back.acc_absent == ("acc_y",)
    assert not back.acc_mps2[:, 1].any()
    np.testing.assert_allclose(back.acc_mps2[:, 2], raw.acc_mps2[:1000, 2], atol=1e-4)
    with pytest.raises(RawFormatError, match=r"missing column\(s\) \['acc_z'\].*needs at least two"):
        p.write_text("\n".join(r.rsplit(",", 1)[0] for r in rows) + "\n")
        read_session(p, runner_id="r1")


def _dated_csv(path, raw, *, suffix="", n=400):
    stamps = np.datetime_as_string(np.datetime64("2024-03-04T07:00:00") + np.arange(n) * np.timedelta64(5, "ms"),
                                   unit="ms")
    return _csv(path, raw, times=[s + suffix for s in stamps], n=n)


@pytest.mark.parametrize("suffix, zone, first", [("Z", None, "2024-03-04T07:00:00.000"),
                                                 ("z", None, "2024-03-04T07:00:00.000"),  # RFC 3339's lower case
                                                 ("", "z", "2024-03-04T07:00:00.000"),
                                                 ("+01:00", None, "2024-03-04T06:00:00.000"),
                                                 ("", "UTC", "2024-03-04T07:00:00.000"),
                                                 ("", "+01:00", "2024-03-04T06:00:00.000"),
                                                 ("", "Europe/Madrid", "2024-03-04T06:00:00.000")])
def test_csv_dates_are_read_in_their_own_or_the_stated_zone(tmp_path, raw, suffix, zone, first):
    p = _dated_csv(tmp_path / "dated.csv", raw, suffix=suffix)
    if zone is not None:
        (tmp_path / "dated.csv.json").write_text(json.dumps({"imuback.time_zone": zone}))
    back = read_session(p, runner_id="r1")
    assert str(np.datetime64(int(back.time_ns[0]), "ns").astype("datetime64[ms]")) == first
    assert back.sample_rate_hz == pytest.approx(200.0)


def test_csv_dates_without_a_zone_are_refused_not_taken_as_utc(tmp_path, raw, capsys):
    p = _dated_csv(tmp_path / "naive.csv", raw)
    with pytest.raises(RawFormatError, match=r"naive\.csv: column 'time' holds dates without a time zone \(first "
                                             r"'2024-03-04 07:00:00'\).*in naive\.csv\.json: "
                                             r'\{"imuback\.time_zone": "UTC"\}'):
        read_session(p, runner_id="r1")
    assert main(["process", str(p), "--runner", "r1", "--dataset", str(tmp_path / "ds")]) == 1
    assert "naive.csv: column 'time' holds dates without a time zone" in capsys.readouterr().err
    (tmp_path / "naive.csv.json").write_text(json.dumps({"imuback.time_zone": "Mars/Olympus"}))
    with pytest.raises(RawFormatError, match=r"naive\.csv: column 'time' in imuback\.time_zone 'Mars/Olympus'"):
        read_session(p, runner_id="r1")


def test_a_start_without_a_zone_is_refused_with_how_to_write_it(tmp_path, raw, capsys):
    p = _csv(tmp_path / "rel.csv", raw, times=np.arange(400) / 200.0)
    with pytest.raises(RawFormatError, match=r"rel\.csv: --start '2024-03-04T07:00:00' has no time zone.*"
                                             r"2024-03-04T07:00:00Z.*2024-03-04T07:00:00\+01:00"):
        read_session(p, runner_id="r1", start="2024-03-04T07:00:00")
    back = read_session(p, runner_id="r1", start="2024-03-04T07:00:00-05:00")
    assert str(np.datetime64(int(back.time_ns[0]), "ns").astype("datetime64[s]")) == "2024-03-04T12:00:00"


def test_a_cell_that_is_not_utf8_or_not_a_number_is_named_by_row(tmp_path, raw, capsys):
    p = _csv(tmp_path / "deg.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    rows = p.read_bytes().split(b"\n")
    rows[5] += b"\xb0"  # a Latin-1 '°' after acc_z's value in data row 5
    p.write_bytes(b"\n".join(rows))
    with pytest.raises(RawFormatError, match=r"deg\.csv: column 'acc_z', data row 5 \(line 6\): b'[-0-9.]+\\xb0' is "
                                             r"not UTF-8 text \(byte 0xb0, '°' in Latin-1/Windows-1252\)"):
        read_session(p, runner_id="r1")
    rows[5] = rows[5][:-1] + b"x"
    p.write_bytes(b"\n".join(rows))
    with pytest.raises(RawFormatError, match=r"deg\.csv: column 'acc_z', data row 5 \(line 6\): '[-0-9.]+x' is not a "
                                             r"number"):
        read_session(p, runner_id="r1", mapping=ColumnMapping(acc_unit="g"))  # also before a unit conversion
    assert main(["process", str(p), "--runner", "r1", "--dataset", str(tmp_path / "ds")]) == 1
    assert "deg.csv: column 'acc_z', data row 5" in capsys.readouterr().err


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16 little-endian"), ("utf-16-be", "UTF-16 big-endian")])
def test_a_utf16_csv_is_named_with_its_encoding(tmp_path, raw, encoding, name):
    """Excel's "Unicode Text" is UTF-16: one error naming the file and the encoding, not a byte."""
    p = _csv(tmp_path / "wide.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    p.write_bytes(p.read_text().encode(encoding))
    with pytest.raises(RawFormatError, match=rf"wide\.csv: the file is {name} text.*save it as UTF-8"):
        read_session(p, runner_id="r1")
    with pytest.raises(RawFormatError, match=rf"wide\.csv: the file is {name} text"):
        read_session(p, runner_id="r1", format="csv")  # the reader itself, not only the detection


@pytest.mark.parametrize("sidecar, match", [
    ({"imuback.sample_rate_hz": "fast"}, r"s\.csv\.json gives imuback\.sample_rate_hz = 'fast', not a number in Hz; "
                                         r"write it as a number, e\.g\. \"imuback\.sample_rate_hz\": 100"),
    ({"imuback.gyr_range_dps": [2000]}, r"s\.csv\.json gives imuback\.gyr_range_dps = '\[2000\]', not a number"),
    ({"imuback.samplerate_hz": 100}, r"s\.csv\.json has key 'imuback\.samplerate_hz', which imuback does not know"),
    ({"sample_rate_hz": 100}, r"s\.csv\.json has key 'sample_rate_hz', which imuback does not know \(did you mean "
                              r"'imuback\.sample_rate_hz'\?\)")])
def test_a_bad_sidecar_rate_key_or_value_names_the_sidecar(tmp_path, raw, sidecar, match):
    p = _csv(tmp_path / "s.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    (tmp_path / "s.csv.json").write_text(json.dumps(sidecar))
    with pytest.raises(RawFormatError, match=match):
        read_session(p, runner_id="r1")


def test_a_sidecar_may_carry_a_labs_own_notes(tmp_path, raw):
    p = _csv(tmp_path / "s.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    (tmp_path / "s.csv.json").write_text(json.dumps({"imuback.sample_rate_hz": 200, "note": "left belt loop"}))
    assert read_session(p, runner_id="r1").sample_rate_hz == 200.0


@pytest.mark.parametrize("header", ["acc_Y", "accel_y"])
def test_a_misspelt_acc_column_is_refused_not_read_as_a_two_axis_sensor(tmp_path, raw, header):
    t = raw.time_ns[:1000]
    rows = [f"time,acc_x,{header},acc_z"] + [f"{t[i]},{raw.acc_mps2[i, 0]:.5f},{raw.acc_mps2[i, 1]:.5f},"
                                             f"{raw.acc_mps2[i, 2]:.5f}" for i in range(1000)]
    p = tmp_path / "typo.csv"
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(RawFormatError, match=r"typo\.csv: missing column\(s\) \['acc_y'\]; found .*; name yours "
                                             r"with --columns .*\"imuback\.acc_absent\": \"acc_y\" in typo\.csv\.json"):
        read_session(p, runner_id="r1")
    assert read_session(p, runner_id="r1", mapping=ColumnMapping.parse(f"acc_y={header}")).acc_absent == ()


def test_a_sidecars_mounting_is_kept_when_the_same_is_given_and_a_conflict_names_both(tmp_path, raw):
    from imuback.formats.identity import RECOMMENDED_MOUNTING

    p = _csv(tmp_path / "side.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    (tmp_path / "side.csv.json").write_text('{"imuback.mounting": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}')
    same = read_session(p, runner_id="r1", mounting=np.eye(3).tolist())  # the same matrix, other JSON text
    assert same.mounting_source == "file"
    with pytest.raises(RawFormatError, match=r"side\.csv: side\.csv\.json gives imuback\.mounting = "
                                             r"\[\[1\.0, 0\.0, 0\.0\], \[0\.0, 1\.0, 0\.0\], "
                                             r"\[0\.0, 0\.0, 1\.0\]\], not the \[\[0\.0, 0\.0, -1\.0\].*\] given; "
                                             r"drop --mounting \(mounting= in Python\) or correct side\.csv\.json"):
        read_session(p, runner_id="r1", mounting=RECOMMENDED_MOUNTING)


@pytest.mark.parametrize("day, reason", [("2024-10-27T02:30:00", r"2024-10-27 02:30:[\d.]+ is ambiguous \(a"),
                                         ("2024-03-31T02:30:00", r"2024-03-31 02:30:[\d.]+ falls in the hour "
                                                                 r"the clocks skip \(a")])
def test_a_date_in_the_hour_the_clocks_change_is_refused_in_whole_clauses(tmp_path, raw, day, reason):
    stamps = np.datetime_as_string(np.datetime64(day) + np.arange(400) * np.timedelta64(5, "ms"), unit="ms")
    p = _csv(tmp_path / "dst.csv", raw, times=list(stamps))
    (tmp_path / "dst.csv.json").write_text(json.dumps({"imuback.time_zone": "Europe/Madrid"}))
    with pytest.raises(RawFormatError, match=r"dst\.csv: column 'time' in imuback\.time_zone 'Europe/Madrid': "
                                             r"Timestamp .* in timezone 'Europe/Madrid': " + reason) as err:
        read_session(p, runner_id="r1")
    assert "  " not in str(err.value) and "It could be" not in str(err.value) and "gap between" not in str(err.value)
