"""Raw contract: round trip, CSV import, and clear errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imuback.core import RawSession
from imuback.errors import RawFormatError, UnitsError
from imuback.store.raw import raw_to_table, read_raw, write_raw
from tests.signal.analytic import half_sine_run


@pytest.fixture
def raw() -> RawSession:
    return half_sine_run(minutes=0.5)[0]


def test_round_trip_keeps_every_sample_and_metadata(tmp_path, raw):
    path = write_raw(tmp_path / "s.parquet", raw)
    back = read_raw(path)
    np.testing.assert_array_equal(back.time_ns, raw.time_ns)
    np.testing.assert_array_equal(back.acc_mps2, raw.acc_mps2)
    np.testing.assert_array_equal(back.gyr_dps, raw.gyr_dps)
    assert (back.session_id, back.runner_id, back.sample_rate_hz) == ("analytic", "r1", 200.0)
    schema = pq.read_schema(path)
    assert schema.field("time").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("acc_x").metadata[b"unit"] == b"m/s^2"


def test_csv_import_with_epoch_seconds(tmp_path, raw):
    t = raw.time_ns / 1e9
    lines = ["time,acc_x,acc_y,acc_z"] + [f"{t[i]:.6f},{raw.acc_mps2[i,0]},{raw.acc_mps2[i,1]},{raw.acc_mps2[i,2]}"
                                          for i in range(500)]
    p = tmp_path / "run1.csv"
    p.write_text("\n".join(lines))
    back = read_raw(p, runner_id="r9")
    start = np.datetime_as_string(np.datetime64(int(raw.time_ns[0]), "ns"), unit="s")
    assert back.session_id == "run1-" + start.replace("-", "").replace(":", "") + "Z"  # name + start time
    assert back.runner_id == "r9"
    assert back.gyr_dps is None
    assert back.sample_rate_hz == pytest.approx(200.0, rel=1e-3)
    assert np.abs(back.time_ns - raw.time_ns[:500]).max() < 2000  # µs precision of the text


def _write_table(path, table, raw):
    pq.write_table(table.replace_schema_metadata(raw_to_table(raw).schema.metadata), path)


def test_errors_name_the_file_and_problem(tmp_path, raw):
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(RawFormatError, match=r"empty\.parquet: the file is empty"):
        read_raw(empty)
    trunc = tmp_path / "trunc.parquet"
    good = write_raw(tmp_path / "good.parquet", raw).read_bytes()
    trunc.write_bytes(good[: len(good) // 2])
    with pytest.raises(RawFormatError, match=r"trunc\.parquet: not a readable Parquet"):
        read_raw(trunc)
    t = raw_to_table(raw)
    g = t.set_column(1, "acc_x", pa.array(raw.acc_mps2[:, 0] / 9.80665))
    g = g.set_column(2, "acc_y", pa.array(raw.acc_mps2[:, 1] / 9.80665))
    g = g.set_column(3, "acc_z", pa.array(raw.acc_mps2[:, 2] / 9.80665))
    _write_table(tmp_path / "g.parquet", g, raw)
    with pytest.raises(UnitsError, match="in g"):
        read_raw(tmp_path / "g.parquet")
    times = raw.time_ns.copy()
    times[100] = times[99]
    d = t.set_column(0, "time", pa.array(times).cast(pa.timestamp("ns", tz="UTC")))
    _write_table(tmp_path / "dup.parquet", d, raw)
    with pytest.raises(RawFormatError, match=r"duplicate.*row 100"):
        read_raw(tmp_path / "dup.parquet")
    acc = raw.acc_mps2[:, 1].copy()
    acc[7] = np.nan
    n = t.set_column(2, "acc_y", pa.array(acc))
    _write_table(tmp_path / "nan.parquet", n, raw)
    with pytest.raises(RawFormatError, match="'acc_y' has NaN/inf values in 1 rows \\(first at row 7\\)"):
        read_raw(tmp_path / "nan.parquet")
    m = t.drop_columns(["acc_z"])
    _write_table(tmp_path / "col.parquet", m, raw)
    with pytest.raises(RawFormatError, match="missing column 'acc_z'"):
        read_raw(tmp_path / "col.parquet")
    meta = dict(raw_to_table(raw).schema.metadata)
    meta[b"imuback.mounting"] = json.dumps([[1, 0, 0], [0, 1, 0]]).encode()
    pq.write_table(t.replace_schema_metadata(meta), tmp_path / "mount.parquet")
    with pytest.raises(RawFormatError, match="mounting"):
        read_raw(tmp_path / "mount.parquet")


def _csv(path, raw, *, times, sep=",", n=400):
    rows = [sep.join(["time", "acc_x", "acc_y", "acc_z"])]
    rows += [sep.join([str(times[i]), *(f"{v:.5f}" for v in raw.acc_mps2[i])]) for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("unit, scale", [("s", 1e-9), ("ms", 1e-6), ("us", 1e-3), ("ns", 1)])
def test_csv_epochs_in_s_ms_us_ns_are_told_apart(tmp_path, raw, unit, scale):
    t = raw.time_ns[:400]
    times = [f"{x * scale:.6f}" for x in t] if unit == "s" else [str(int(x * scale)) for x in t]
    back = read_raw(_csv(tmp_path / f"{unit}.csv", raw, times=times), runner_id="r1")
    assert abs(int(back.time_ns[0]) - int(t[0])) < 2000
    assert back.sample_rate_hz == pytest.approx(200.0, rel=1e-3)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_delimiter_is_detected(tmp_path, raw, sep):
    back = read_raw(_csv(tmp_path / "semi.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]], sep=sep),
                    runner_id="r1")
    assert back.n_samples == 400


def test_csv_relative_times_need_a_start(tmp_path, raw):
    rel = [f"{(x - raw.time_ns[0]) / 1e9:.6f}" for x in raw.time_ns[:400]]
    path = _csv(tmp_path / "rel.csv", raw, times=rel)
    with pytest.raises(RawFormatError, match=r"rel\.csv: column 'time' starts at 0: seconds since the start.*--start"):
        read_raw(path, runner_id="r1")
    back = read_raw(path, runner_id="r1", start="2024-03-04T07:00:00Z")
    assert str(np.datetime64(int(back.time_ns[0]), "ns")) == "2024-03-04T07:00:00.000000000"
    assert back.session_id == "rel-20240304T070000Z"


def test_csv_without_a_runner_is_refused(tmp_path, raw):
    path = _csv(tmp_path / "anon.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    with pytest.raises(RawFormatError, match=r"anon\.csv: no runner id.*--runner.*anon\.csv\.json"):
        read_raw(path)


def test_csv_missing_column_lists_what_was_found(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("timestamp,ax,ay,az\n1,2,3,4\n")
    with pytest.raises(RawFormatError, match=r"missing column\(s\) \['time', 'acc_x', 'acc_y', 'acc_z'\]; "
                                             r"found \['timestamp', 'ax', 'ay', 'az'\]"):
        read_raw(path, runner_id="r1")


@pytest.mark.parametrize("text, match", [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object")])
def test_a_bad_sidecar_is_named(tmp_path, raw, text, match):
    path = _csv(tmp_path / "side.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    (tmp_path / "side.csv.json").write_text(text)
    with pytest.raises(RawFormatError, match=rf"side\.csv\.json: {match}"):
        read_raw(path, runner_id="r1")


def _with_meta(tmp_path, raw, name, key, value: bytes):
    t = raw_to_table(raw)
    meta = dict(t.schema.metadata)
    meta[key] = value
    pq.write_table(t.replace_schema_metadata(meta), tmp_path / name)
    return tmp_path / name


def test_hostile_metadata_gives_one_line_errors(tmp_path, raw):
    deep = _with_meta(tmp_path, raw, "deep.parquet", b"imuback.mounting", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(RawFormatError, match=r"deep\.parquet: metadata imuback\.mounting is not valid JSON"):
        read_raw(deep)
    long_id = _with_meta(tmp_path, raw, "long.parquet", b"imuback.session_id", b"s" * 300)
    with pytest.raises(RawFormatError, match=r"long\.parquet: session_id is 300 characters long.*at most 64"):
        read_raw(long_id)
    latin = _with_meta(tmp_path, raw, "latin.parquet", b"imuback.sensor", "capteur élevé".encode("latin-1"))
    with pytest.raises(RawFormatError, match=r"latin\.parquet: schema metadata b'imuback\.sensor' is not UTF-8"):
        read_raw(latin)
    with pytest.raises(RawFormatError, match="is a folder"):
        read_raw(tmp_path)
