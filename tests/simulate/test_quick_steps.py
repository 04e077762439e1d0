"""Quick steps and near-stops of slow walkers (``walk_quick_share``, ``walk_near_stop_share``;
issue #14 item 7).

Real slow walking at the lower back (mobgap_lab < 0.6 m/s, ``benchmarks/slow_steps.py``) has 7-9 %
quick steps, 0.28-0.40 s from one IC to the next (under 0.7 of the running median interval), and
9-20 % stalls (over 1.6 of it), 1.2-2.9 s inside a bout; the simulated slow walk had no quick step
and stood still at its hesitations only. A quick step is short at the walk's speed; the foot before
it leaves the ground at least ``gait.MIN_SWING_S`` before it lands again. A near-stop is a double-
support pause of ``plan.NEAR_STOP_S`` at a creep, built on the stop's and the start's pieces.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from imuback.core import G_MPS2
from imuback.errors import SimulationError
from imuback.simulate.gait import MIN_SWING_S, Gait
from imuback.simulate.kinematics import evaluate
from imuback.simulate.params import FORCE_PLATE_THRESHOLD_N, RunnerParams
from imuback.simulate.plan import NEAR_STOP_S, QUICK_STEP_S, make_steps, pace_changes
from imuback.simulate.runner import session_gait
from imuback.simulate.truth import truth_tables

SLOW = RunnerParams(run_minutes=0.0, stand_start_s=3.0, stand_end_s=3.0, walk_start_s=90.0, walk_end_s=0.0,
                    walk_speed_mps=0.45, walk_cadence_spm=100.0, walk_duty_factor=0.66, walk_shape_q=0.12,
                    walk_force_follows_speed=True, walk_step_time_cv=0.05, walk_quick_share=0.1,
                    walk_shuffle_share=0.1, walk_hesitations_per_min=2.0, walk_pauses=1,
                    walk_near_stop_share=0.25,
                    walk_transient_pct=15.0, gaps_per_hour=0.0, noise=False, sample_rate_hz=100.0)


def _gait(p: RunnerParams, seed: int) -> tuple[Gait, np.ndarray]:
    g, log, _, _ = session_gait(p, np.random.default_rng(seed))
    return g, np.isin(g.st.s, [x for seg in log for x in seg.get("quick_s", [])])


def _own(g: Gait, k: int):  # contact k's own force (hump plus the heel strike's bump), tau from its start
    def f(tau: np.ndarray) -> np.ndarray:
        x = np.pi * tau / g.st.tc[k]
        hump = g.amp[k] * (np.sin(x) + g.r[k] * np.sin(2 * x) + g.q[k] * np.sin(3 * x))
        h = g.imp_half[k]
        return hump + g.imp_amp[k] * np.sin(np.pi * tau / (2.0 * h)) ** 2 * (tau <= 2.0 * h)
    return f


def test_off_by_default_no_step_is_quick():
    _, quick = _gait(RunnerParams(), 1)
    assert not quick.any()
    _, log, _, _ = session_gait(RunnerParams(), np.random.default_rng(1))
    assert all("quick_s" not in seg for seg in log)


def test_which_steps_are_quick_and_how_short():
    p = replace(SLOW, walk_quick_share=0.3, walk_hesitations_per_min=0.0)
    segs = [("stand", 3.0)]
    for d in (0.7, 1.5, 3.0, 8.0, 30.0) * 4:
        segs += [("walk", d), ("stand", 1.5)]
    rng = np.random.default_rng(5)
    st, log = make_steps(p, segs, rng, pace_changes(p, segs, rng))
    mid = []
    for seg in (x for x in log if x["kind"] == "walk"):
        inside = (st.s >= seg["start_s"] - 1e-9) & (st.s < seg["end_s"] - 1e-9)
        q = np.isin(st.s[inside], seg["quick_s"])
        assert not q[:2].any() and not q[-2:].any()  # gait initiation's and termination's steps
        mid.append(q[2:-2])
        T = st.T[inside][q]
        assert np.all((T >= QUICK_STEP_S[0]) & (T <= QUICK_STEP_S[1]))
    share = np.concatenate(mid).mean()
    assert 0.2 < share < 0.4, share  # drawn at the share elsewhere


@pytest.mark.parametrize("seed", [1, 2])
def test_a_quick_steps_truth_comes_from_its_own_force_and_the_body_is_carried(seed: int):
    """Each quick step's truth IC, TO and vGRF peak are its own foot's force's (hump plus the heel
    strike's bump, computed here independently); the feet push (total force >= 0, nothing besides
    them pulls), the body's top stays within a plain step's reach of standing height, and the
    foot before the quick step swings for at least ``MIN_SWING_S``."""
    g, quick = _gait(SLOW, seed)
    st = g.st
    thr = FORCE_PLATE_THRESHOLD_N / (SLOW.body_mass_kg * G_MPS2)
    steps, _, ic_s, to_s = truth_tables(SLOW, g, thr, "s", "r", 0)
    grf = np.asarray(steps.column("grf_peak_bw").to_numpy(zero_copy_only=False), dtype=float)
    z0 = float(np.mean(evaluate(g, np.arange(1.0, 2.0, 1e-3), positions=True, horizontal=False)["z"]))
    ks = np.flatnonzero(quick)
    assert ks.size >= 8
    for k in ks:
        u = np.linspace(0.0, st.tc[k], 400001)
        f = _own(g, k)(u)
        i_ic = int(np.argmax(f >= thr))
        i_to = f.size - 1 - int(np.argmax(f[::-1] >= thr))
        assert ic_s[k] == pytest.approx(st.s[k] + u[i_ic], abs=1e-5)
        assert to_s[k] == pytest.approx(st.s[k] + u[i_to], abs=1e-5)
        assert grf[k] == pytest.approx(float(f[i_ic:i_to + 1].max()), abs=2e-3)
        assert ic_s[k + 1] - to_s[k - 1] >= MIN_SWING_S  # the foot before it has left the ground
        t = np.arange(st.s[k - 1] + 5e-4, st.s[k + 1] + st.T[k + 1], 1e-3)
        ev = evaluate(g, t, positions=True, horizontal=False)
        assert ev["F"].min() > 0.3
        assert (ev["F"] - ev["F_own_c"] - ev["F_own_m"]).min() > -1e-9
        step = (t >= st.s[k]) & (t < st.s[k + 1])
        assert (ev["z"][step] - z0).max() < 0.03  # plain steps of sim_quick_steps.py's walks: up to 26 mm


@pytest.mark.parametrize("value", [-0.1, 0.31, float("nan")])
def test_quick_share_out_of_range_raises(value: float):
    with pytest.raises(SimulationError, match=r"walk_quick_share must be within 0-0\.3"):
        RunnerParams(walk_quick_share=value)


@pytest.mark.parametrize(("knob", "value"), [("walk_near_stop_share", -0.1), ("walk_near_stop_share", 0.51),
                                             ("walk_near_stop_speed_mps", -0.1), ("walk_near_stop_speed_mps", 0.6),
                                             ("walk_near_stop_share", float("nan"))])
def test_near_stop_knobs_out_of_range_raise(knob: str, value: float):
    with pytest.raises(SimulationError, match=r"walk_near_stop_share must be within 0-0\.5"):
        RunnerParams(**{knob: value})


@pytest.mark.parametrize("creep", [0.45, 0.5])
def test_a_near_stop_creep_not_slower_than_the_walk_raises(creep: float):
    with pytest.raises(SimulationError, match=r"walk_near_stop_speed_mps must be below walk_speed_mps"):
        RunnerParams(walk_speed_mps=0.45, walk_near_stop_share=0.1, walk_near_stop_speed_mps=creep)
    RunnerParams(walk_speed_mps=0.45, walk_near_stop_share=0.0, walk_near_stop_speed_mps=creep)  # off: unused


def test_near_stops_off_by_default():
    _, log, _, _ = session_gait(RunnerParams(), np.random.default_rng(1))
    assert all("near_stops" not in seg for seg in log)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_near_stop_pauses_in_double_support_at_a_creep_and_the_body_is_carried(seed: int):
    """Each near-stop ends a gait bout inside the walk and starts the next after its pause; the
    walker creeps on at ``walk_near_stop_speed_mps``; the step into it stops the body at standing
    height on the stop's pieces (its foot unloads as the standing support reloads, the TO the
    unloading's), the step after it starts from that support; the truth IC, TO and peak are the
    feet's own forces' (computed here independently); the total force pushes, nothing besides the
    feet and the standing support carries, and the body stays within a plain step's reach of
    standing height (above it only in the steps around, as at every stop)."""
    g, log, speed, _ = session_gait(SLOW, np.random.default_rng(seed))
    st = g.st
    thr = FORCE_PLATE_THRESHOLD_N / (SLOW.body_mass_kg * G_MPS2)
    steps, _, ic_s, to_s = truth_tables(SLOW, g, thr, "s", "r", 0)
    grf = np.asarray(steps.column("grf_peak_bw").to_numpy(zero_copy_only=False), dtype=float)
    z0 = float(np.mean(evaluate(g, np.arange(1.0, 2.0, 1e-3), positions=True, horizontal=False)["z"]))
    walks = [seg for seg in log if seg["kind"] == "walk"]
    near = [(a, b, seg) for seg in walks for a, b in seg["near_stops"]]
    assert len(near) >= 5
    ks = []
    for a, b, seg in near:
        k = int(np.flatnonzero(np.isclose(st.s + st.T, a, atol=1e-9))[0])  # the step into it ends at a
        ks.append(k)
        inside = np.flatnonzero((st.s >= seg["start_s"] - 1e-9) & (st.s < seg["end_s"]))
        assert k - inside[0] >= 2 and inside[-1] - k >= 2  # never a walk's first two or last two steps
        assert st.last[k] and st.first[k + 1] and st.bout[k + 1] == st.bout[k] + 1
        assert NEAR_STOP_S[0] - 1e-9 <= st.s[k + 1] - a <= NEAR_STOP_S[1] + 1e-9 and b == pytest.approx(st.s[k + 1])
        v = speed.eval(np.linspace(a, b, 50))[0]
        np.testing.assert_allclose(v, v[0], atol=1e-9)  # a steady creep, never faster than asked ...
        assert 0.0 < v[0] <= SLOW.walk_near_stop_speed_mps + 1e-9
        # ... nor past the front foot: at most half a step with both feet planted (physics)
        step_m = SLOW.walk_speed_mps * 60.0 / SLOW.walk_cadence_spm
        assert v[0] * (b - a) <= 0.5 * step_m + 1e-9
        assert v[0] == pytest.approx(min(SLOW.walk_near_stop_speed_mps, 0.5 * step_m / (b - a)))
        # the step into it: hump to the step's end, then unloading along the reload ramp (the stop's)
        T, tc = st.T[k], st.tc[k]
        L = min(0.12, tc - T)
        own = _own(g, k)
        f_t = float(own(np.array([T]))[0])
        assert 0.0 < f_t <= 1.0 + 1e-9
        to_exp = st.s[k] + T + L / np.pi * np.arccos(2.0 * thr / f_t - 1.0)
        assert to_s[k] == pytest.approx(to_exp, abs=1e-6)
        for j, end in ((k, T), (k + 1, st.tc[k + 1])):  # IC and peak of both; the TO of the step after it
            u = np.linspace(0.0, end, 400001)
            f = _own(g, j)(u)
            i_ic = int(np.argmax(f >= thr))
            assert ic_s[j] == pytest.approx(st.s[j] + u[i_ic], abs=1e-5)
            if j == k + 1:
                i_to = f.size - 1 - int(np.argmax(f[::-1] >= thr))
                assert to_s[j] == pytest.approx(st.s[j] + u[i_to], abs=1e-5)
                assert grf[j] == pytest.approx(float(f[i_ic:i_to + 1].max()), abs=2e-3)
            else:
                assert grf[j] == pytest.approx(float(f[i_ic:].max()), abs=2e-3)
        t = np.arange(st.s[k - 1] + 5e-4, st.s[k + 1] + st.T[k + 1], 1e-3)
        ev = evaluate(g, t, positions=True, horizontal=False)
        assert ev["F"].min() > 0.3
        assert (ev["F"] - ev["F_own_c"] - ev["F_own_m"]).min() > -1e-9
        z = ev["z"] - z0
        assert z.max() < 0.03  # plain steps of sim_quick_steps.py's walks: up to 21 mm; stops up to 15 mm
        pause = (t >= a + 0.12) & (t < b)  # the standing support reloaded: at rest, within a few mm
        assert np.ptp(z[pause]) < 0.006 and abs(z[pause]).max() < 0.006
    assert np.all(np.diff(ks) >= 4)  # at least 3 steps between two near-stops
