"""A phone in a loose belt (src/imuback/simulate/belt.py) and in any orientation (sensor.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from imuback.signal.frames import G_MPS2, rotation_angle_deg
from imuback.simulate.runner import RunnerParams, SimulatedSession, SimulationError, simulate_session

T0 = datetime(2024, 5, 6, 7, 30, tzinfo=UTC)
CLEAN = RunnerParams(run_minutes=1.0, stand_start_s=5.0, stand_end_s=5.0, walk_start_s=10.0,
                     walk_end_s=10.0, noise=False, gaps_per_hour=0.0, misalignment_deg=0.0)


def _sim(p: RunnerParams, seed: int = 1) -> SimulatedSession:
    return simulate_session(p, seed=seed, session_id="b1", runner_id="r1", start_time=T0, keep_signals=True)


def test_any_orientation_is_uniform_and_gravity_follows_it() -> None:
    """``mounting_random``: the true mounting is any rotation (angles from nominal spread over
    0-180°), the file keeps the nominal one, and standing gravity reads R_true^T (0, 0, g)."""
    angles = []
    for seed in range(12):
        sim = _sim(dataclasses.replace(CLEAN, run_minutes=0.0, walk_start_s=0.0, walk_end_s=0.0,
                                       mounting_random=True), seed=seed)
        r_true = np.asarray(sim.truth["mounting_true"])
        assert np.allclose(sim.raw.mounting, np.eye(3))
        assert sim.truth["misalignment_deg"] == pytest.approx(rotation_angle_deg(r_true))
        acc = np.mean(sim.raw.acc_mps2, axis=0)
        assert np.allclose(acc, r_true.T @ np.array([0.0, 0.0, G_MPS2]), atol=1e-3)
        angles.append(sim.truth["misalignment_deg"])
    assert min(angles) < 60.0 < 120.0 < max(angles)


def test_reseating_is_seen_by_gyro_and_gravity() -> None:
    """Standing still, the phone is re-seated: the gyro integrates to the turn, and the gravity
    direction in the sensor frame moves by the same rotation."""
    p = dataclasses.replace(CLEAN, run_minutes=0.0, walk_start_s=0.0, walk_end_s=0.0,
                            stand_start_s=30.0, stand_end_s=30.0, belt_shifts_per_10min=30.0,
                            belt_shift_deg=30.0)
    sim = _sim(p, seed=4)
    shifts = sim.truth["belt"]["shifts"]
    assert len(shifts) >= 3
    assert all(9.0 <= s["angle_deg"] <= 30.0 for s in shifts)
    w = np.radians(sim.raw.gyr_dps.astype(np.float64))
    dt = 1.0 / sim.raw.sample_rate_hz
    r = np.eye(3)  # sensor(t0) <- sensor(t): integrate body rates (small steps, exact Rodrigues)
    for om in w * dt:  # test-side reference integrator
        a = float(np.linalg.norm(om))
        if a > 0:
            k = np.array([[0, -om[2], om[1]], [om[2], 0, -om[0]], [-om[1], om[0], 0]]) / a
            r = r @ (np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k))
    g0 = np.mean(sim.raw.acc_mps2[:100], axis=0)
    g1 = np.mean(sim.raw.acc_mps2[-100:], axis=0)
    assert np.allclose(r @ g1, g0, atol=0.02)
    assert np.degrees(np.arccos(np.dot(g0, g1) / np.linalg.norm(g0) / np.linalg.norm(g1))) > 5.0


def test_bounce_amplifies_near_its_frequency_and_keeps_gravity() -> None:
    """The spring passes gravity unchanged (mean over the run is 1 g), amplifies the pelvis's
    motion near its natural frequency, and tips the phone (pitch rate) as it bounces."""
    strapped = _sim(CLEAN, seed=2)
    belt = _sim(dataclasses.replace(CLEAN, belt_bounce_hz=8.0), seed=2)
    fs = CLEAN.sample_rate_hz
    run = (strapped.signals.t_s > 20.0) & (strapped.signals.t_s < 70.0)  # type: ignore[union-attr]

    def band_power(acc: np.ndarray, lo: float, hi: float) -> float:
        spec = np.abs(np.fft.rfft(acc - acc.mean())) ** 2
        f = np.fft.rfftfreq(acc.size, 1 / fs)
        return float(spec[(f >= lo) & (f <= hi)].sum())

    a_s = strapped.raw.acc_mps2[run].astype(np.float64)
    a_b = belt.raw.acc_mps2[run].astype(np.float64)
    assert np.linalg.norm(a_b.mean(axis=0)) == pytest.approx(np.linalg.norm(a_s.mean(axis=0)), rel=0.01)
    assert band_power(a_b[:, 2], 6.5, 9.5) > 2.0 * band_power(a_s[:, 2], 6.5, 9.5)
    assert belt.truth["belt"]["bounce_tilt_deg_max"] > 1.0
    assert np.std(belt.raw.gyr_dps[run, 1]) > 1.2 * np.std(strapped.raw.gyr_dps[run, 1])
    # the gait truth is the same: the belt moves the phone, not the feet
    assert belt.truth_steps.equals(strapped.truth_steps)


def test_bad_belt_params_raise() -> None:
    with pytest.raises(SimulationError, match="belt_bounce_hz"):
        RunnerParams(belt_bounce_hz=1.0)
    with pytest.raises(SimulationError, match="belt_shift_deg"):
        RunnerParams(belt_shift_deg=90.0)
