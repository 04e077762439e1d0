"""Odd sessions give a correct empty/partial result with the reason recorded, never a made-up step."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imuback.core import G_MPS2, RawSession
from imuback.pipeline import process_raw
from imuback.signal.frames import rot_x, rot_z
from tests.signal.analytic import T0_NS, half_sine_run


def _still(minutes: float = 2.0, fs: float = 100.0) -> RawSession:
    n = int(minutes * 60 * fs)
    rng = np.random.default_rng(1)
    acc = np.tile([0.3, -0.2, G_MPS2], (n, 1)) + rng.normal(0, 0.02, (n, 3))
    return RawSession(session_id="still", runner_id="r1", sensor="t", sample_rate_hz=fs,
                      time_ns=T0_NS + np.arange(n, dtype=np.int64) * int(1e9 / fs),
                      acc_mps2=acc.astype(np.float32), gyr_dps=rng.normal(0, 0.1, (n, 3)).astype(np.float32))


def test_sensor_lying_still_gives_an_empty_session_with_reason():
    res = process_raw(_still())
    assert res.steps.num_rows == 0 and res.strides.num_rows == 0
    s = res.summary
    assert s["status"] == "empty"
    assert "still" in s["status_reason"]
    assert s["n_run_steps"] == 0 and s["median_cadence_spm"] is None


def test_gap_splits_steps_and_nothing_is_interpolated_across_it():
    raw, truth = half_sine_run(minutes=1.0)
    keep = np.ones(raw.n_samples, dtype=bool)
    keep[4000:6000] = False  # 10 s at 200 Hz
    gappy = dataclasses.replace(raw, time_ns=raw.time_ns[keep], acc_mps2=raw.acc_mps2[keep],
                                gyr_dps=raw.gyr_dps[keep])
    res = process_raw(gappy)
    s = res.summary
    assert s["n_gaps"] == 1 and abs(s["gap_total_s"] - 10.0) < 0.01
    steps = res.steps.to_pandas()
    gap0, gap1 = raw.time_ns[4000], raw.time_ns[6000]
    ic = steps["ic_time"].astype("int64").to_numpy()
    assert not np.any((ic > gap0) & (ic < gap1)), "a step was invented inside the gap"
    # the step before the gap has no next step: its step time is null, not 10 s
    before = np.flatnonzero(ic < gap0)[-1]
    assert np.isnan(steps["step_time_s"].iloc[before])
    assert steps["step_time_s"].max() < 2 * truth["step_s"]


def test_saturated_impacts_are_flagged():
    raw, _ = half_sine_run(minutes=1.0)
    lim = 2.0 * G_MPS2
    clipped = dataclasses.replace(raw, acc_mps2=np.clip(raw.acc_mps2, -lim, lim), acc_range_g=2.0)
    res = process_raw(clipped)
    assert "saturated" in res.summary["status_reason"]
    assert res.summary["status"] == "partial"


def test_short_and_tiny_sessions_do_not_crash():
    raw, _ = half_sine_run(minutes=1.0)
    for n in (1, 5, 150):
        tiny = dataclasses.replace(raw, time_ns=raw.time_ns[:n], acc_mps2=raw.acc_mps2[:n], gyr_dps=raw.gyr_dps[:n])
        res = process_raw(tiny)
        assert res.steps.num_rows == 0
        assert res.summary["status"] == "empty"


def test_jitter_and_dropped_samples_lose_no_steps():
    raw, truth = half_sine_run(minutes=2.0, fs=100.0)
    rng = np.random.default_rng(4)
    keep = rng.random(raw.n_samples) > 0.01  # 1 % of single samples dropped
    keep[0] = keep[-1] = True
    jitter = np.round(rng.normal(0, 0.5e6, raw.n_samples)).astype(np.int64)  # 0.5 ms (5 % of a period)
    t = np.sort(raw.time_ns + jitter)[keep]
    lossy = dataclasses.replace(raw, time_ns=t, acc_mps2=raw.acc_mps2[keep], gyr_dps=raw.gyr_dps[keep])
    clean = process_raw(raw)
    res = process_raw(lossy)
    assert res.steps.num_rows >= clean.steps.num_rows - 2
    s = res.summary
    dropped = int((~keep).sum())
    # every dropped sample is a missing sample, jitter is not
    assert abs(s["gap_total_s"] - dropped / 100.0) <= 0.05 * dropped / 100.0 + 0.02
    assert s["completeness_pct"] == pytest.approx(100.0 * keep.sum() / raw.n_samples, abs=0.05)
    assert np.nanmedian(res.steps.column("step_time_s").to_numpy(zero_copy_only=False)) == pytest.approx(
        truth["step_s"], abs=0.003)


def test_walking_only_is_partial_with_walking_steps_and_no_running_steps():
    from imuback.simulate.runner import RunnerParams, simulate_session

    sim = simulate_session(RunnerParams(run_minutes=0.0, walk_start_s=120.0, walk_end_s=60.0), seed=2,
                           session_id="walk", runner_id="r1", start_time=T0_NS)
    s = process_raw(sim.raw).summary
    assert s["status"] == "partial" and "walking only" in s["status_reason"]
    assert s["n_run_steps"] == 0
    assert abs(s["n_walk_steps"] - sim.truth_steps.num_rows) <= 0.05 * sim.truth_steps.num_rows
    assert s["median_cadence_spm"] == pytest.approx(112.0, rel=0.03)  # the simulator's walking cadence


def test_stretching_on_the_floor_after_a_run_makes_no_steps_and_keeps_the_up_axis():
    """Two minutes of running, then a minute lying on the back with rhythmic leg swings (gravity
    along the body's forward axis, a 1.8 Hz bounce): no steps there, the run measured as alone."""
    run, truth = half_sine_run(minutes=2.0, mounting_err_deg=(10.0, 5.0))
    fs = run.sample_rate_hz
    t = np.arange(int(60 * fs)) / fs
    bounce = 0.3 * np.cos(2 * np.pi * 1.8 * t) + 0.25 * np.exp(-0.5 * (((t % 0.555) - 0.28) / 0.03) ** 2)
    lying_body = np.column_stack([1 + bounce, 0.1 * np.sin(2 * np.pi * 0.9 * t), 0.1 * np.sin(2 * np.pi * 1.8 * t)])
    rot = rot_z(np.radians(5.0)) @ rot_x(np.radians(10.0))  # as half_sine_run(mounting_err_deg=(10, 5))
    lying = (lying_body * G_MPS2) @ rot
    gyr = np.column_stack([20 * np.sin(2 * np.pi * 0.9 * t), 5 * np.sin(2 * np.pi * 1.8 * t), np.zeros_like(t)]) @ rot
    later_ns = run.time_ns[-1] + np.round((t + 1 / fs) * 1e9).astype(np.int64)
    both = RawSession(session_id="both", runner_id="r1", sensor="t", sample_rate_hz=fs,
                      time_ns=np.concatenate([run.time_ns, later_ns]),
                      acc_mps2=np.concatenate([run.acc_mps2, lying.astype(np.float32)]),
                      gyr_dps=np.concatenate([run.gyr_dps, gyr.astype(np.float32)]))
    alone, res = process_raw(run), process_raw(both)
    ic_s = (res.steps.column("ic_time").cast("int64").to_numpy() - both.time_ns[0]) / 1e9
    assert np.count_nonzero(ic_s > 121.0) == 0
    assert res.steps.num_rows == pytest.approx(alone.steps.num_rows, abs=2)
    assert res.summary["misalignment_deg"] == pytest.approx(truth["misalignment_deg"], abs=1.5)
    assert res.summary["median_contact_time_s"] == pytest.approx(alone.summary["median_contact_time_s"], abs=0.002)


def test_handling_the_sensor_before_the_run_does_not_tilt_the_run_frame():
    """20 s of turning the sensor over in the hands (random rotations, ~0.5 g hand accelerations)
    before a run: the run's frame and pelvis ranges are those of the run alone."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.spatial.transform import Rotation

    run, truth = half_sine_run(minutes=2.0, mounting_err_deg=(10.0, 5.0))
    fs = run.sample_rate_hz
    n = int(20 * fs)
    rng = np.random.default_rng(0)
    rotvec = np.cumsum(gaussian_filter1d(rng.normal(0, 1, (n, 3)), 0.3 * fs, axis=0), axis=0) * 0.02
    hand = gaussian_filter1d(rng.normal(0, 30, (n, 3)), 0.05 * fs, axis=0)
    acc = Rotation.from_rotvec(rotvec).inv().apply(np.array([0.0, 0.0, G_MPS2]) + hand)
    gyr = np.degrees(np.gradient(rotvec, axis=0) * fs)
    before_ns = run.time_ns[0] - np.arange(n, 0, -1, dtype=np.int64) * int(1e9 / fs)
    both = RawSession(session_id="both", runner_id="r1", sensor="t", sample_rate_hz=fs,
                      time_ns=np.concatenate([before_ns, run.time_ns]),
                      acc_mps2=np.concatenate([acc.astype(np.float32), run.acc_mps2]),
                      gyr_dps=np.concatenate([gyr.astype(np.float32), run.gyr_dps]))
    alone, res = process_raw(run), process_raw(both)
    assert res.summary["misalignment_deg"] == pytest.approx(truth["misalignment_deg"], abs=1.5)
    for name in ("median_pelvis_rotation_deg", "median_pelvis_obliquity_deg", "median_pelvis_tilt_deg"):
        assert res.summary[name] == pytest.approx(alone.summary[name], abs=0.3), name


def test_implausible_rows_every_third_sample_become_gaps_not_a_rate_error() -> None:
    # removing the rows changes the median interval of what is left; the session is still the
    # recording it was (its declared rate holds), so it is processed with the rows as gaps
    from dataclasses import replace

    from imuback.pipeline import process_raw

    raw, _ = half_sine_run(minutes=1.0)
    gyr = raw.gyr_dps.copy()
    gyr[::3, 0] = 1e5
    res = process_raw(replace(raw, gyr_dps=gyr))
    reason = res.sessions.column("status_reason")[0].as_py()
    assert "implausible values" in reason


def test_an_empty_session_is_a_clear_error() -> None:
    import numpy as np

    from imuback.core import RawSession
    from imuback.errors import RawFormatError
    from imuback.pipeline import process_raw

    empty = RawSession(session_id="e", runner_id="r", sensor="x", sample_rate_hz=100.0,
                       time_ns=np.zeros(0, np.int64), acc_mps2=np.zeros((0, 3), np.float32), gyr_dps=None)
    with pytest.raises(RawFormatError, match="holds no samples"):
        process_raw(empty)


@pytest.mark.parametrize("declared", [2.0, None])
def test_clipped_running_contacts_read_their_peak_vgrf_from_their_timing(declared):
    # a ±2 g accelerometer clips the 2.36 BW half-sine contacts: the clipped sacral peak would
    # pull the vGRF estimate towards 2 g; the contact's timing still gives the spring-mass peak
    raw, truth = half_sine_run(minutes=1.0)
    lim = np.float32(2.0 * G_MPS2)
    clipped = dataclasses.replace(raw, acc_mps2=np.clip(raw.acc_mps2, -lim, lim), acc_range_g=declared)
    res = process_raw(clipped)
    st = res.steps.to_pandas()
    run = st[st["activity"] == "run"]
    assert len(run) > 100
    grf = run["grf_peak_bw"].dropna().to_numpy()
    assert grf.size > 0.9 * len(run)
    assert np.median(np.abs(grf - truth["peak_bw"])) < 0.08, np.median(grf)
    assert run["impact_peak_g"].isna().mean() > 0.9  # the clipped peak is not reported as the impact
    assert "saturated" in res.summary["status_reason"]
    assert "peak vGRF from the step's timing alone" in res.summary["status_reason"]


def test_an_unclipped_run_keeps_its_sacral_impact_peak():
    raw, _ = half_sine_run(minutes=1.0)
    res = process_raw(raw)
    run = res.steps.to_pandas().query("activity == 'run'")
    assert run["impact_peak_g"].notna().mean() > 0.9
    assert "saturated" not in (res.summary["status_reason"] or "")
