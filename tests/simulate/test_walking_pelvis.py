"""The simulated walking pelvis turns and tilts around heel strike like real people's.

Reference: the contact-locked mean yaw and roll rates of real lower-back recordings around their
reference ICs, sign-flipped on left steps (``python benchmarks/sim_vs_real.py --locked-only
--waveforms``; voisard's trials 4-1 and 4-2 by their true feet): the roll rate falls to its
minimum +80 ms after the IC on voisard_l5_walk (-41 deg/s) and +60 ms on mobgap_lab stereo
(-8 deg/s), after rising before it (+12 / +12 deg/s at -80 / -120 ms); the yaw rate is positive at
the IC (+8.6 / +16.4 deg/s) and negative 150-300 ms after it. The per-stride sinusoids of the
simulator before this property had the roll-rate minimum ~90 ms *before* the IC and the yaw rate
positive throughout +-300 ms.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

T0_NS = 1_600_000_000 * 10**9
LAGS_S = np.arange(-0.3, 0.3001, 0.005)
WALK = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=90.0, walk_end_s=0.0,
                    sample_rate_hz=200.0, gaps_per_hour=0.0, mounting="identity",
                    misalignment_deg=0.0, misalignment_exact=True)


def _locked_rates(p: RunnerParams, seed: int) -> dict[str, np.ndarray]:
    """Noise-free yaw and roll rate (deg/s, body = sensor frame here) around the truth ICs, per foot."""
    sim = simulate_session(p, seed=seed, session_id="pel", runner_id="sim", start_time=T0_NS,
                           keep_signals=True)
    assert sim.signals is not None
    ts = sim.truth_steps
    ic = (ts.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9
    foot = np.asarray(ts.column("foot").to_pylist(), dtype=str)
    o = np.argsort(ic)[3:-3]  # steady walking: not the bout's first and last steps
    ic, foot = ic[o], foot[o]
    t, gyr = sim.signals.t_s, sim.signals.gyr_sensor_dps
    at = ic[:, None] + LAGS_S[None, :]
    out = {}
    for side in ("R", "L"):
        sel = foot == side
        out[f"yaw_{side}"] = np.interp(at[sel], t, gyr[:, 2]).mean(axis=0)
        out[f"roll_{side}"] = np.interp(at[sel], t, gyr[:, 0]).mean(axis=0)
    return out


@pytest.fixture(scope="module")
def locked() -> dict[str, np.ndarray]:
    return _locked_rates(WALK, 11)


def _at(x: np.ndarray, lag_s: float) -> float:
    return float(x[np.argmin(np.abs(LAGS_S - lag_s))])


@pytest.mark.parametrize("side,sign", [("R", 1.0), ("L", -1.0)])
def test_roll_rate_drops_right_after_heel_strike(locked, side, sign):
    roll = sign * locked[f"roll_{side}"]  # left steps mirrored, as in the real averages
    lag_min = LAGS_S[np.argmin(roll)]
    assert 0.0 <= lag_min <= 0.15  # real +80 / +60 ms; the sinusoid had it ~90 ms before the IC
    assert roll.min() < -15.0  # the contralateral side drops fast (real -41 / -8 deg/s)
    before = (LAGS_S > -0.2) & (LAGS_S < -0.02)
    assert roll[before].max() > 5.0  # and rises before the IC (real +12 / +12 deg/s)


@pytest.mark.parametrize("side,sign", [("R", 1.0), ("L", -1.0)])
def test_yaw_rate_turns_negative_after_heel_strike(locked, side, sign):
    yaw = sign * locked[f"yaw_{side}"]
    assert _at(yaw, 0.0) > 3.0  # positive at the IC on the right (the foot cue; real +8.6 / +16.4)
    after = (LAGS_S >= 0.15) & (LAGS_S <= 0.3)
    assert yaw[after].mean() < -3.0  # real about -10 / -7 deg/s; the sinusoid stayed positive
    before = (LAGS_S >= -0.3) & (LAGS_S <= -0.1)
    assert yaw[before].mean() > 3.0


def test_walking_angles_span_the_range_knobs():
    # the range knobs size the stride harmonics; the heel-strike torsion rings on top of them
    p = replace(WALK, pelvis_cv=0.0, turns_per_10min=0.0, walk_heel_strike_torsion=(0.0, 5.0, 0.02, 0.15))
    sim = simulate_session(p, seed=4, session_id="pel", runner_id="sim", start_time=T0_NS,
                           keep_signals=True)
    assert sim.signals is not None
    t = sim.signals.t_s
    steady = (t > 30.0) & (t < 80.0)
    roll = np.degrees(sim.signals.euler_zyx_rad[steady, 2])
    yaw = np.degrees(sim.signals.euler_zyx_rad[steady, 0])
    assert np.ptp(roll) == pytest.approx(p.walk_pelvis_obliquity_deg, rel=0.03)
    assert np.ptp(yaw) == pytest.approx(p.walk_pelvis_rotation_deg, rel=0.03)


def test_running_pelvis_does_not_depend_on_the_walking_shape():
    run = RunnerParams(run_minutes=1.0, stand_start_s=5.0, walk_start_s=10.0, walk_end_s=10.0,
                       sample_rate_hz=100.0, gaps_per_hour=0.0)
    other = replace(run, walk_pelvis_rotation_harmonics=(-18.0, 0.0, 0.0),
                    walk_pelvis_obliquity_harmonics=(-153.0, 0.0, 0.0))
    a = simulate_session(run, seed=2, session_id="r", runner_id="sim", start_time=T0_NS, keep_signals=True)
    b = simulate_session(other, seed=2, session_id="r", runner_id="sim", start_time=T0_NS, keep_signals=True)
    assert a.signals is not None and b.signals is not None
    t = a.signals.t_s
    running = (t > 20.0) & (t < 70.0)
    walking = (t > 6.0) & (t < 13.0)
    np.testing.assert_array_equal(a.signals.gyr_sensor_dps[running], b.signals.gyr_sensor_dps[running])
    assert np.abs(a.signals.gyr_sensor_dps[walking] - b.signals.gyr_sensor_dps[walking]).max() > 1.0


def test_pelvis_follows_the_feet_in_every_bout():
    """A walk broken by many stops (hesitations, pauses) keeps the pelvis in step with the feet in
    every bout: the yaw rate before a right IC is positive, before a left one negative (McCamley
    et al. 2012's foot cue; real L5 walking +12 to +17 deg/s from -300 to -100 ms on
    voisard_l5_walk, above). Before, the stride phase of a bout that started on the "wrong" foot
    was shifted once per such bout start and the shifts were never undone, so every bout after an
    odd number of them turned and rolled the pelvis against its feet (whole bouts of the
    simulated walks whose yaw and roll named the other foot).
    """
    p = replace(WALK, walk_speed_mps=0.45, walk_cadence_spm=100.0, walk_hesitations_per_min=6.0,
                walk_pauses=2, walk_start_s=120.0, turns_per_10min=0.0, noise=False)
    sim = simulate_session(p, seed=5, session_id="pel", runner_id="sim", start_time=T0_NS, keep_signals=True)
    assert sim.signals is not None
    ts = sim.truth_steps
    ic = (ts.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9
    side = np.where(np.asarray(ts.column("foot").to_pylist(), dtype=str) == "R", 1.0, -1.0)
    o = np.argsort(ic)
    ic, side = ic[o], side[o]
    bout = np.cumsum(np.concatenate([[True], np.diff(ic) > 1.5]))  # a stop: >= 1 s standing
    before = ic[:, None] + np.linspace(-0.3, -0.1, 9)[None, :]
    yaw_before = np.interp(before, sim.signals.t_s, sim.signals.gyr_sensor_dps[:, 2]).mean(axis=1) * side
    per_bout = [yaw_before[bout == b][1:-1].mean() for b in np.unique(bout) if np.count_nonzero(bout == b) >= 5]
    assert len(per_bout) >= 8  # many bouts, each a fresh random first foot
    assert min(per_bout) > 1.0, np.round(per_bout, 1)
