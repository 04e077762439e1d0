"""Raw contract: round trip, CSV import, and clear errors for bad input."""

from __future__ import annotations

import dataclasses
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
    m = t.drop_columns(["acc_y", "acc_z"])  # one absent column is a two-axis sensor (tests/test_core.py)
    _write_table(tmp_path / "col.parquet", m, raw)
    with pytest.raises(RawFormatError, match=r"missing column\(s\) \['acc_y', 'acc_z'\]; found \['time', 'acc_x'"):
        read_raw(tmp_path / "col.parquet")
    meta = dict(raw_to_table(raw).schema.metadata)
    meta[b"imuback.mounting"] = json.dumps([[1, 0, 0], [0, 1, 0]]).encode()
    pq.write_table(t.replace_schema_metadata(meta), tmp_path / "mount.parquet")
    with pytest.raises(RawFormatError, match="mounting"):
        read_raw(tmp_path / "mount.parquet")


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


def test_a_missing_acc_column_is_a_two_axis_sensor_only_when_the_file_declares_it(tmp_path, raw):
    """A misspelt or dropped column must not silently become a two-axis accelerometer."""
    t = raw_to_table(raw).drop_columns(["acc_y"])
    _write_table(tmp_path / "typo.parquet", t, raw)
    with pytest.raises(RawFormatError, match=r"typo\.parquet: missing column\(s\) \['acc_y'\]; found .*declares "
                                             r"the one it lacks: \"imuback\.acc_absent\": \"acc_y\""):
        read_raw(tmp_path / "typo.parquet")
    acc = raw.acc_mps2.copy()
    acc[:, 1] = 0.0
    two = write_raw(tmp_path / "two.parquet", dataclasses.replace(raw, acc_mps2=acc, acc_absent=("acc_y",)))
    assert pq.read_schema(two).metadata[b"imuback.acc_absent"] == b"acc_y"  # the writer declares it
    assert read_raw(two).acc_absent == ("acc_y",)
    meta = dict(pq.read_schema(two).metadata)
    meta[b"imuback.acc_absent"] = b"acc_x"  # declares another axis than the one left out
    pq.write_table(raw_to_table(raw).drop_columns(["acc_y"]).replace_schema_metadata(meta), tmp_path / "x.parquet")
    with pytest.raises(RawFormatError, match=r"declares 'acc_x' absent, but the file has that column"):
        read_raw(tmp_path / "x.parquet")
