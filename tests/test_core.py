"""In-memory session types (src/imuback/core.py): validated when built, whichever way they are built."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pyarrow.parquet as pq
import pytest

from imuback.core import G_MPS2, RawSession
from imuback.errors import ImubackError, RawFormatError, UnitsError
from imuback.pipeline import process_raw
from imuback.store.raw import raw_to_table, read_raw, write_raw
from tests.signal.analytic import half_sine_run


@pytest.fixture(scope="module")
def raw() -> RawSession:
    return half_sine_run(minutes=1.0)[0]


def test_acceleration_in_g_is_refused_when_built_in_memory(raw):
    with pytest.raises(UnitsError, match="looks like it is in g") as err:
        dataclasses.replace(raw, acc_mps2=(raw.acc_mps2 / G_MPS2).astype(np.float32))
    assert err.value.kind == "acc_in_g"
    assert pickle.loads(pickle.dumps(err.value)).kind == "acc_in_g"  # a batch worker's error keeps it
    with pytest.raises(UnitsError, match="not gravity in m/s²") as err:
        dataclasses.replace(raw, acc_mps2=(raw.acc_mps2 * 1000).astype(np.float32))  # mm/s²
    assert err.value.kind == "acc_scale"


def test_a_walking_gyroscope_in_rad_per_s_or_dead_is_refused() -> None:
    """Walking shakes the accelerometer less than running (|acc| SD 0.76-2.53 m/s² over the 58
    real walking trials; the rule once asked > 2 and let a rad/s walk through as "not gait"),
    while a gyroscope in deg/s turns far more than 6 (99th percentile 38-179 deg/s there)."""
    from imuback.simulate.runner import RunnerParams, simulate_session

    walk = simulate_session(RunnerParams(run_minutes=0.0, walk_start_s=60.0, walk_end_s=0.0), seed=3,
                            session_id="w", runner_id="r", start_time=0).raw
    with pytest.raises(UnitsError, match="rad/s") as err:
        dataclasses.replace(walk, gyr_dps=(walk.gyr_dps / 57.2958).astype(np.float32))
    assert err.value.kind == "gyr_rad_s"
    with pytest.raises(UnitsError, match="dead or disabled gyroscope") as err:
        dataclasses.replace(walk, gyr_dps=np.zeros_like(walk.gyr_dps))
    assert err.value.kind == "gyr_dead"


@pytest.mark.parametrize("how, match", [("reversed", "decreasing"), ("duplicate", "duplicate")])
def test_time_order_is_checked_when_built_in_memory(raw, how, match):
    t = raw.time_ns[::-1].copy() if how == "reversed" else raw.time_ns.copy()
    if how == "duplicate":
        t[10] = t[9]
    with pytest.raises(RawFormatError, match=match):
        dataclasses.replace(raw, time_ns=t)


def test_a_reflected_mounting_is_refused_from_a_file(tmp_path, raw):
    table = raw_to_table(raw)
    meta = dict(table.schema.metadata)
    meta[b"imuback.mounting"] = json.dumps(np.diag([1.0, 1.0, -1.0]).tolist()).encode()
    path = tmp_path / "mirror.parquet"
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(RawFormatError, match=r"mirror\.parquet.*reflection"):
        read_raw(path)


@pytest.mark.parametrize("matrix, problem", [
    (np.full((3, 3), 0.5), "must be a rotation matrix (orthonormal rows: body x, y, z in sensor axes)"),
    (np.diag([1.0, 1.0, -1.0]), "is a reflection (det -1), not a rotation matrix: one axis is flipped; fix the "
                                "sign of one row"),
    (np.full((3, 3), np.nan), "must be a 3x3 rotation matrix of finite numbers"),
])
def test_one_rotation_check_words_a_mounting_the_same_wherever_it_is_given(raw, tmp_path, matrix, problem):
    """A file's mounting (``imuback.mounting``), ``mounting=`` and ``--mounting`` (the upload form's
    too) are refused by one check, each naming its own value: ``--mounting`` once called a reflection
    'must be a 3x3 rotation matrix'."""
    import imuback
    from imuback.formats.identity import parse_mounting

    with pytest.raises(RawFormatError) as stored:
        dataclasses.replace(raw, mounting=matrix, source="x.parquet")
    assert str(stored.value) == f"x.parquet: the mounting (imuback.mounting) {problem}"
    with pytest.raises(ValueError) as option:
        parse_mounting(json.dumps(matrix.tolist()))  # Python's JSON reads NaN
    assert str(option.value) == problem
    path = write_raw(tmp_path / "r.parquet", dataclasses.replace(raw, mounting_source="assumed"))
    with pytest.raises(RawFormatError) as keyword:
        imuback.read(path, mounting=matrix)
    if np.isfinite(matrix).all():
        assert str(keyword.value) == f"{path}: mounting= {problem}"
    else:  # not a 3x3 of numbers: refused as any other value mounting= does not take, naming what it takes
        assert str(keyword.value).startswith(f"{path}: mounting= must be a 3x3 rotation (a numpy array or nested "
                                             "lists), a named mounting (identity, recommended) or 'unknown'")


@pytest.mark.parametrize("field, value, match", [
    ("acc_range_g", 0.0, "acc_range_g = 0.0 is not a sensor range"),
    ("gyr_range_dps", -2000.0, "gyr_range_dps"),
    ("sample_rate_hz", 2000.0, "declared sample rate 2000 Hz but the samples are 200 Hz"),
    ("sample_rate_hz", 20.0, "declared sample rate 20 Hz"),
])
def test_implausible_declared_figures_are_refused(raw, field, value, match):
    with pytest.raises(RawFormatError, match=match):
        dataclasses.replace(raw, **{field: value})


def test_a_range_that_is_not_a_number_names_the_file_and_the_key(tmp_path, raw):
    table = raw_to_table(raw)
    meta = dict(table.schema.metadata)
    meta[b"imuback.acc_range_g"] = b"sixteen"
    path = tmp_path / "words.parquet"
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(RawFormatError, match=r"words\.parquet: metadata imuback\.acc_range_g = 'sixteen'"):
        read_raw(path)


def test_errors_are_imuback_errors():
    assert issubclass(UnitsError, ImubackError)


def test_implausible_samples_are_left_out_with_the_reason_in_sessions(raw):
    clean = process_raw(raw)
    acc, gyr = raw.acc_mps2.copy(), raw.gyr_dps.copy()
    acc[1000:1010] = 1e30  # ten corrupt rows
    gyr[3000, 2] = np.finfo(np.float32).max  # one float32-max gyro spike
    spiky = process_raw(dataclasses.replace(raw, acc_mps2=acc, gyr_dps=gyr))
    n_clean = clean.steps.num_rows
    assert spiky.steps.num_rows >= n_clean - 3  # the 11 rows cost at most the steps around them
    assert "11 samples with implausible values" in spiky.summary["status_reason"]
    assert spiky.summary["status"] == "partial"
    rot = spiky.strides.column("pelvis_rotation_deg").to_numpy(zero_copy_only=False)
    assert np.nanmax(np.abs(rot)) < 90.0


def test_a_declared_range_sets_the_limit(raw):
    acc = raw.acc_mps2.copy()
    acc[500, 0] = 5.0 * G_MPS2  # beyond a declared +-4 g, well within the default 200 g
    res = process_raw(dataclasses.replace(raw, acc_mps2=acc, acc_range_g=4.0))
    assert "1 samples with implausible values" in res.summary["status_reason"]


def test_round_trip_still_holds(tmp_path, raw):
    back = read_raw(write_raw(tmp_path / "s.parquet", raw))
    np.testing.assert_array_equal(back.time_ns, raw.time_ns)


def test_a_signal_error_names_the_session(raw, monkeypatch):
    from imuback import pipeline
    from imuback.errors import SignalError

    def boom(*_a, **_k):
        raise SignalError("cannot normalise a zero or non-finite vector")

    monkeypatch.setattr(pipeline, "analyse_session", boom)
    with pytest.raises(SignalError, match=r"session 'analytic' of runner 'r1': cannot normalise"):
        process_raw(raw)


def test_imu_block_shape_errors_are_imuback_errors():
    from imuback.core import ImuBlock
    from imuback.errors import SignalError
    with pytest.raises(SignalError, match="acc_mps2 must be"):
        ImuBlock(t_s=np.zeros(3), acc_mps2=np.zeros((2, 3)), gyr_dps=None, frame="body", fs_hz=100.0,
                 seg_bounds=np.array([0, 3]), t0_ns=0)


def test_lists_become_arrays_and_nonsense_is_a_clear_error(raw):
    n = 500
    ok = RawSession(session_id="l", runner_id="r", sensor="x", sample_rate_hz=200.0,
                    time_ns=raw.time_ns[:n].tolist(), acc_mps2=raw.acc_mps2[:n].tolist(), gyr_dps=None,
                    mounting=np.eye(3).tolist())
    assert ok.time_ns.dtype == np.int64 and ok.acc_mps2.dtype == np.float32 and not ok.mounting.flags.writeable
    with pytest.raises(RawFormatError, match="acc_mps2 must be an array of numbers"):
        RawSession(session_id="l", runner_id="r", sensor="x", sample_rate_hz=200.0,
                   time_ns=raw.time_ns[:3], acc_mps2=[["a", "b", "c"]] * 3, gyr_dps=None)


@pytest.mark.parametrize("axis, value", [(0, 0.0), (1, 0.0), (2, 9.81)])
def test_a_dead_accelerometer_axis_is_refused_with_what_to_do(raw, axis, value):
    """An axis stuck on one value while the others move (a 6-axis sensor) would corrupt the alignment."""
    acc = raw.acc_mps2.copy()
    acc[:, axis] = value
    with pytest.raises(UnitsError, match=rf"column 'acc_{'xyz'[axis]}' reads {value:g} m/s² on every sample while "
                                         r"the other axes move: a dead accelerometer axis.*leave") as err:
        dataclasses.replace(raw, acc_mps2=acc)
    assert err.value.kind == "acc_dead"
    with pytest.raises(UnitsError, match="dead accelerometer axis"):  # accelerometer-only too (an AX3)
        dataclasses.replace(raw, acc_mps2=acc, gyr_dps=None)


@pytest.mark.parametrize("lsb_mps2", [32 * G_MPS2 / 65536, 32 * G_MPS2 / 4096])  # 16- and 12-bit, ±16 g
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_dead_axis_flickering_by_one_count_is_refused_a_live_quantised_one_is_not(raw, axis, lsb_mps2):
    """A dead axis may toggle between two adjacent ADC codes: at the file's own resolution (the
    smallest step between its values), not a live axis, while the other axes move."""
    counts = np.round(raw.acc_mps2.astype(np.float64) / lsb_mps2)
    live = (counts * lsb_mps2).astype(np.float32)
    assert dataclasses.replace(raw, acc_mps2=live).n_samples == raw.n_samples  # quantised, all live: kept
    flicker = counts.copy()
    flicker[:, axis] = 37 + (np.random.default_rng(axis).random(raw.n_samples) < 0.3)  # 37 or 38 counts
    with pytest.raises(UnitsError, match=rf"column 'acc_{'xyz'[axis]}' stays at the quantisation level \(SD "
                                         r".* m/s², .* to .* m/s², at most 1 of the file's .* m/s² steps\) while "
                                         r"the other axes move: a dead accelerometer axis") as err:
        dataclasses.replace(raw, acc_mps2=(flicker * lsb_mps2).astype(np.float32))
    assert err.value.kind == "acc_dead"


def test_a_still_sensor_is_no_dead_axis(raw):
    """At rest |acc| does not vary: a quantised axis may sit on one level without being dead."""
    still = np.tile(np.array([[0.0, 0.0, G_MPS2]], dtype=np.float32), (raw.n_samples, 1))
    still[::7, 2] += 0.04  # one quantisation step now and then on z
    assert dataclasses.replace(raw, acc_mps2=still, gyr_dps=None).n_samples == raw.n_samples


def test_a_declared_two_axis_accelerometer_is_processed_and_round_trips(tmp_path, raw):
    acc = raw.acc_mps2.copy()
    acc[:, 1] = 0.0  # a sacral accelerometer without a mediolateral channel
    two = dataclasses.replace(raw, acc_mps2=acc, acc_absent=("acc_y",))
    assert process_raw(two).steps.num_rows > 0
    path = write_raw(tmp_path / "two.parquet", two)
    assert "acc_y" not in pq.read_schema(path).names  # the file has no column for the axis it lacks
    back = read_raw(path)
    assert back.acc_absent == ("acc_y",)
    assert not back.acc_mps2[:, 1].any()


@pytest.mark.parametrize("absent, match", [(("acc_y",), "declared absent .* holds values other than 0"),
                                           (("acc_x", "acc_y"), "needs at least two accelerometer axes"),
                                           (("acc_w",), "must name distinct columns")])
def test_a_wrong_absent_axis_declaration_is_refused(raw, absent, match):
    acc = raw.acc_mps2.copy()
    acc[:, 0] = 0.0
    with pytest.raises(RawFormatError, match=match):
        dataclasses.replace(raw, acc_mps2=acc, acc_absent=absent)
