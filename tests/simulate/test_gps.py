"""The simulated phone's GPS (src/imuback/simulate/gps.py) and the runner's true speed it follows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid  # np.trapezoid needs NumPy 2; the lower bound is 1.26

from imuback.formats import read_session
from imuback.formats.sensorlogger import write_sensorlogger
from imuback.simulate.gps import EARTH_M_PER_DEG, simulated_gps
from imuback.simulate.runner import RunnerParams, SimulatedSession, simulate_session


@pytest.fixture(scope="module")
def steady() -> SimulatedSession:
    """4 minutes at a steady 3.0 m/s (no pace changes), stand and walk around it."""
    p = RunnerParams(run_minutes=4.0, speed_mps=3.0, speed_changes=0, walk_breaks=0, turns_per_10min=0.0)
    return simulate_session(p, seed=5, session_id="g", runner_id="r", start_time=0)


def _segment(sim: SimulatedSession, kind: str) -> tuple[float, float]:
    seg = next(s for s in sim.truth["segments"] if s["kind"] == kind)
    return float(seg["start_s"]), float(seg["end_s"])


def test_the_true_speed_is_the_set_speed_where_running_and_zero_standing(steady: SimulatedSession) -> None:
    a, b = _segment(steady, "run")
    t = np.linspace(a + 5.0, b - 5.0, 200)
    assert np.allclose(steady.true_speed_mps(t), 3.0)
    assert steady.true_speed_mps(np.array([0.5]))[0] == 0.0  # standing at the start
    a, b = _segment(steady, "walk")
    walk = steady.true_speed_mps(np.linspace(a + 3.0, b - 3.0, 20))
    assert np.allclose(walk, steady.truth["params"]["walk_speed_mps"])


def test_gps_speed_errs_by_its_stated_noise_around_the_truth(steady: SimulatedSession) -> None:
    fixes = simulated_gps(steady, seed=1, speed_noise_mps=0.25)
    t = (fixes.time_ns - fixes.time_ns[0]) / 1e9
    assert np.allclose(np.diff(t), 1.0) and fixes.time_ns[0] == steady.truth["start_time_ns"]
    a, b = _segment(steady, "run")
    run = (t > a + 5) & (t < b - 5)
    err = fixes.speed_mps[run] - 3.0
    assert 0.18 < err.std() < 0.32, err.std()
    assert abs(err.mean()) < 0.1, err.mean()
    lag1 = np.corrcoef(err[:-1], err[1:])[0, 1]
    assert 0.4 < lag1 < 0.9, lag1  # correlated over ~3 s: exp(-1/3) = 0.72 (white noise: ~0)
    assert (fixes.speed_mps >= 0).all()
    # no turns: the path runs due north, the distance run matches the speed integrated
    assert np.allclose(fixes.bearing_deg, 0.0) or np.allclose(np.mod(fixes.bearing_deg + 1, 360) - 1, 0.0)
    north_m = (fixes.latitude_deg[-1] - fixes.latitude_deg[0]) * EARTH_M_PER_DEG
    grid = np.linspace(0.0, t[-1], 20001)
    assert abs(north_m - trapezoid(steady.true_speed_mps(grid), grid)) < 15.0


def test_a_phone_export_with_gps_carries_its_speed_into_the_session(tmp_path, steady: SimulatedSession) -> None:
    fixes = simulated_gps(steady, seed=2)
    raw = read_session(write_sensorlogger(steady.raw, tmp_path / "run.zip", location=fixes), runner_id="r")
    assert raw.speed_mps is not None
    rel_s = (raw.time_ns - fixes.time_ns[0]) / 1e9
    inside = rel_s <= (fixes.time_ns[-1] - fixes.time_ns[0]) / 1e9
    want = np.interp(rel_s[inside], (fixes.time_ns - fixes.time_ns[0]) / 1e9, fixes.speed_mps)
    assert np.allclose(raw.speed_mps[inside], want, atol=1e-4)
    assert np.isnan(raw.speed_mps[~inside]).all()  # after the last fix: nothing invented
