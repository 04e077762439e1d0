"""The simulated walking contact at the pelvis looks like real people's around heel strike.

Reference: the contact-locked averages of real lower-back recordings around their reference ICs
(``python benchmarks/sim_vs_real.py --locked-only``): the steepest fall of the forward acceleration
(braking onset) comes +6.0 ms after the IC on voisard_l5_walk (foot sensors) and +7.0 ms on
mobgap_lab (stereophotogrammetry); the forward peak -10.7 / -20.7 ms before it. The simulator
before this property had its steepest fall +92.9 ms after the IC (a plain sine braking force).
"""

from __future__ import annotations

import numpy as np
import pytest

from imuback.core import G_MPS2
from imuback.simulate.gait import build_gait
from imuback.simulate.params import RunnerParams
from imuback.simulate.plan import make_steps, pace_changes, plan_segments, speed_and_heading
from imuback.simulate.runner import simulate_session

T0_NS = 1_600_000_000 * 10**9
LAGS_S = np.arange(-0.3, 0.3001, 0.002)


@pytest.fixture(scope="module")
def locked_forward_g() -> np.ndarray:
    """Mean noise-free forward specific force (g) around the truth ICs of a steady walk."""
    p = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=90.0, walk_end_s=0.0,
                     sample_rate_hz=200.0, gaps_per_hour=0.0, mounting="identity",
                     misalignment_deg=0.0, misalignment_exact=True)
    sim = simulate_session(p, seed=11, session_id="lock", runner_id="sim", start_time=T0_NS,
                           keep_signals=True)
    assert sim.signals is not None
    ic = np.sort((sim.truth_steps.column("ic_time").cast("int64").to_numpy() - T0_NS) / 1e9)[3:-3]
    t, fwd = sim.signals.t_s, sim.signals.acc_sensor_mps2[:, 0] / G_MPS2
    return np.interp(ic[:, None] + LAGS_S[None, :], t, fwd).mean(axis=0)


def test_braking_starts_at_heel_strike_as_in_real_walking(locked_forward_g):
    fwd = locked_forward_g
    slope = np.gradient(fwd, LAGS_S)
    near = (LAGS_S > -0.1) & (LAGS_S < 0.2)
    fall_s = LAGS_S[near][np.argmin(slope[near])]
    assert -0.015 <= fall_s <= 0.02  # real +6 / +7 ms; the plain-sine contact had +92.9 ms
    peak_s = LAGS_S[near][np.argmax(fwd[near])]
    assert -0.03 <= peak_s <= 0.0  # real -10.7 / -20.7 ms
    # braking then: the forward acceleration is below its pre-IC level by 0.3 g within 100 ms
    assert fwd[np.argmin(np.abs(LAGS_S - 0.1))] < fwd[near].max() - 0.3


def _planned_gait(p: RunnerParams, *, seed: int):
    """The planned steps and the gait built on them, as ``simulate_session`` plans them."""
    rng = np.random.default_rng(seed)
    segs = plan_segments(p, rng)
    pace_fn = pace_changes(p, segs, rng)
    st, log = make_steps(p, segs, rng, pace_fn)
    speed, heading = speed_and_heading(p, log, rng, pace_fn)
    return st, build_gait(p, st, rng, speed, heading)


def test_pull_and_collision_only_between_walking_contacts_and_balanced():
    p = RunnerParams(run_minutes=1.0, walk_breaks=1, walk_break_s=20.0, stand_start_s=5.0,
                     walk_start_s=20.0, walk_end_s=20.0, walk_pauses=1, pause_s=3.0)
    st, g = _planned_gait(p, seed=3)
    assert np.all(g.hs_amp[st.run] == 0.0) and np.all(g.pull_amp[st.run] == 0.0)
    assert np.all(g.hs_amp[st.first] == 0.0) and np.all(g.pull_amp[st.last] == 0.0)
    walking = ~st.run
    assert np.count_nonzero(g.hs_amp[walking]) > 0.8 * np.count_nonzero(walking)
    # each pull before an IC is taken back by that contact's collision: the speed is unchanged
    pull_impulse = g.pull_amp[:-1] * g.pull_s[:-1]
    collision_impulse = g.hs_amp[1:] * g.hs_s[1:]
    np.testing.assert_allclose(pull_impulse, collision_impulse, rtol=1e-12, atol=1e-15)
    assert np.all(g.ap_warp[st.run] == 0.0) and np.all(g.ap_warp[walking] > 0.0)


def test_the_walking_contact_forces_leave_the_speed_unchanged():
    """Integrated over walks, a pause and a run, the contact forces (the forward acceleration less
    the planned speed's own change) add no speed: each swing-leg pull is taken back by its
    heel-strike collision and braking by propulsion. A pull or collision dropped, doubled or
    mistimed would leave metres per second."""
    from imuback.simulate.kinematics import evaluate

    p = RunnerParams(run_minutes=1.0, walk_breaks=1, walk_break_s=20.0, stand_start_s=5.0,
                     walk_start_s=60.0, walk_end_s=30.0, walk_pauses=1, pause_s=3.0)
    st, g = _planned_gait(p, seed=5)
    fs = 2000.0
    t = np.arange(0.0, float(st.s[-1]) + 2.0, 1.0 / fs)
    ev = evaluate(g, t, positions=False)
    _, u1, _ = g.speed.eval(t)
    contact = ev["a_fwd"] - u1  # m/s², the contacts' share of the forward acceleration
    dv = np.cumsum(contact) / fs
    assert abs(dv[-1]) < 0.01  # m/s over the whole session
    walking_ic = st.s[~st.run]
    assert np.count_nonzero(np.abs(np.interp(walking_ic, t, contact)) > 0) > 0.8 * walking_ic.size
