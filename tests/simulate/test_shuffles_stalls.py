"""Shuffles of slow walkers, and the shuffle into a stall (``walk_shuffle_share``,
``shuffle_lift_frac``; issue #14 item 7).

Real slow walking at the lower back (mobgap_lab < 0.6 m/s, ``benchmarks/slow_steps.py``) has steps
whose vertical peak is under half of their neighbours' and steps of 1.2-2.9 s from one IC to the
next inside a bout; the simulator had neither.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from imuback.errors import SimulationError
from imuback.simulate.gait import build_gait
from imuback.simulate.params import RunnerParams
from imuback.simulate.plan import make_steps, pace_changes, plan_segments, speed_and_heading
from imuback.simulate.runner import simulate_session

BRISK = RunnerParams(run_minutes=0.0, stand_start_s=3.0, stand_end_s=3.0, walk_start_s=120.0, walk_end_s=0.0,
                     walk_step_time_cv=0.02, walk_shuffle_share=0.2, gaps_per_hour=0.0, noise=False,
                     sample_rate_hz=200.0)
SLOW = replace(BRISK, walk_speed_mps=0.45, walk_cadence_spm=100.0, walk_duty_factor=0.66, walk_shape_q=0.12,
               walk_force_follows_speed=True, walk_shuffle_share=0.1, walk_hesitations_per_min=6.0,
               walk_transient_pct=15.0, sample_rate_hz=100.0)


def _plan(p: RunnerParams, seed: int):  # the simulator's own first stages, as simulate_session runs them
    rng = np.random.default_rng(seed)
    segs = plan_segments(p, rng)
    pace = pace_changes(p, segs, rng)
    st, log = make_steps(p, segs, rng, pace)
    speed, heading = speed_and_heading(p, log, rng, pace)
    return st, log, speed, build_gait(p, st, rng, speed, heading)


def _ic_s(sim) -> np.ndarray:
    return np.sort((sim.truth_steps.column("ic_time").cast("int64").to_numpy() - sim.raw.time_ns[0]) / 1e9)


def test_off_by_default_every_step_lifts_fully():
    st, log, _, _ = _plan(RunnerParams(run_minutes=1.0), 3)
    assert np.all(st.lift == 1.0)
    assert all(not s.get("shuffles_s") for s in log)


def test_shuffles_lift_the_body_less_and_strike_softer():
    sims = [simulate_session(BRISK, seed=s, session_id="sh", runner_id="sim", start_time=0, keep_signals=True)
            for s in (1, 2)]
    for sim in sims:
        assert sim.signals is not None
        t, z = sim.signals.t_s, sim.signals.z_m
        ic = _ic_s(sim)
        shuffles = np.asarray([s for seg in sim.truth["segments"] for s in seg.get("shuffles_s", [])])
        # about a fifth of the steps, never the first two or the last two
        assert 0.12 < shuffles.size / ic.size < 0.28
        is_sh = np.any(np.abs(ic[:, None] - shuffles[None, :]) < 0.08, axis=1)[:-1]
        assert not is_sh[:2].any()
        exc = np.array([np.ptp(z[(t >= a) & (t < b)]) for a, b in pairwise(ic)])
        plain = ~is_sh & ~np.r_[False, is_sh[:-1]] & ~np.r_[is_sh[1:], False]
        plain[:3] = False
        ratio = np.median(exc[is_sh]) / np.median(exc[plain])
        # its own hump departs from the flat shape by a quarter; the previous contact's push in double
        # support and the height control are its neighbours' (seeds 1, 2: 0.242, 0.244)
        assert 0.2 <= ratio <= 0.3, ratio
    st, _, _, g = _plan(BRISK, 1)
    sh = st.lift < 1.0
    assert np.allclose(st.lift[sh], BRISK.shuffle_lift_frac)
    # the heel strike's impact and the tissue's ringing by the lift (their step-to-step noise apart)
    assert abs(np.median(g.imp_amp[sh]) / np.median(g.imp_amp[~sh]) - BRISK.shuffle_lift_frac) < 0.05
    assert abs(np.median(g.hs_amp[sh]) / np.median(g.hs_amp[~sh & ~st.first]) - BRISK.shuffle_lift_frac) < 0.05


def test_a_walk_shuffles_into_a_stall_and_the_body_stays_carried():
    sim = simulate_session(SLOW, seed=7, session_id="st", runner_id="sim", start_time=0, keep_signals=True)
    segs = sim.truth["segments"]
    walks = [s for s in segs if s["kind"] == "walk"]
    assert len(walks) >= 5  # ~6 hesitations a minute over 2 minutes
    ic = _ic_s(sim)
    shuffles = np.asarray([s for w in walks for s in w["shuffles_s"]])
    is_sh = np.any(np.abs(ic[:, None] - shuffles[None, :]) < 0.05, axis=1)
    for w in walks[:-1]:  # the last step before each stop is a shuffle; the one before it is forced full
        last = ic[(ic >= w["start_s"] - 1e-6) & (ic < w["end_s"])][-1]
        assert is_sh[np.argmin(np.abs(ic - last))]
    end = ic[ic >= walks[-1]["start_s"] - 1e-6]
    assert not is_sh[np.isin(ic, end[-2:])].any()  # the session's closing steps are gait termination's
    # the body is carried through: mean force 1 BW, every stop at the standing height, bounded
    assert sim.signals is not None
    t, z = sim.signals.t_s, sim.signals.z_m
    walk = (t > walks[0]["start_s"]) & (t < walks[-1]["end_s"])
    assert abs(np.mean(sim.signals.vgrf_bw[walk]) - 1.0) < 0.01
    mids = [(s["start_s"] + s["end_s"]) / 2.0 for s in segs[1:-1] if s["kind"] == "stand"]
    assert np.max(np.abs(np.interp(mids, t, z) - np.interp(2.0, t, z))) < 0.005
    assert np.ptp(z[walk]) < 0.15


def test_shuffles_are_seeded():
    p = replace(BRISK, walk_start_s=30.0)
    a, b = (simulate_session(p, seed=11, session_id="s", runner_id="sim", start_time=0) for _ in range(2))
    np.testing.assert_array_equal(a.raw.acc_mps2, b.raw.acc_mps2)
    assert a.truth["segments"][1]["shuffles_s"] == b.truth["segments"][1]["shuffles_s"]
    c = simulate_session(p, seed=12, session_id="s", runner_id="sim", start_time=0)
    assert c.truth["segments"][1]["shuffles_s"] != a.truth["segments"][1]["shuffles_s"]


def test_which_steps_may_shuffle_in_every_walk():
    """The rules of ``plan.make_steps`` (docs/simulator.md 6c), at the largest share (a half), over
    many walks: never a walk's first two steps; its second-to-last always full; its last a shuffle
    into a stall, else full (before walk-to-run and at the session's end); in a stalling walk of one
    or two steps the stall rule wins.
    """
    p = replace(BRISK, walk_shuffle_share=0.5)
    walk_s = [0.3, 0.7, 1.2, 2.0, 3.5, 5.0, 8.0]  # 1, 2, 3, 4... steps at 112/min (0.54 s a step)
    segs = [("stand", 3.0)]
    for d in walk_s * 6:
        segs += [("walk", d), ("stand", 1.5)]
    segs += [("walk", 6.0), ("run", 6.0), ("walk", 6.0), ("stand", 3.0)]
    rng = np.random.default_rng(5)
    st, log = make_steps(p, segs, rng, pace_changes(p, segs, rng))
    walks = [(i, seg) for i, seg in enumerate(log) if seg["kind"] == "walk"]
    assert len(walks) == 6 * len(walk_s) + 2
    sizes, middle = [], []
    for k, (i, seg) in enumerate(walks):
        lift = st.lift[(st.s >= seg["start_s"] - 1e-9) & (st.s < seg["end_s"] - 1e-9)]
        sizes.append(lift.size)
        assert np.all((lift == 1.0) | (lift == p.shuffle_lift_frac))
        stall = log[i + 1]["kind"] == "stand" and i + 2 < len(log)
        assert stall == (k < len(walks) - 2)  # the last two walks: into the run, into the session's end
        assert lift[-1] == (p.shuffle_lift_frac if stall else 1.0), (k, lift)
        assert np.all(lift[:-1][:2] == 1.0), (k, lift)  # the first two (the last aside: a stall's)
        assert np.all(lift[-2:-1] == 1.0), (k, lift)  # the second-to-last
        middle.append(lift[2:-2])
    assert {1, 2, 3, 4}.issubset(sizes)  # short walks as well as long ones
    mid = np.concatenate(middle)
    assert 0.35 < np.mean(mid < 1.0) < 0.65, np.mean(mid < 1.0)  # elsewhere: drawn at the share


def test_a_shuffle_scales_its_tissue_ringing_ap_peaks_and_torsion_by_its_lift():
    """The same steps and draws built with and without their lifts: each shuffle's soft-tissue
    ringing, forward-back force peaks, heel-strike collision and torsion are its lift times the full
    step's, exactly; full steps are untouched.
    """
    rng = np.random.default_rng(4)
    segs = plan_segments(BRISK, rng)
    pace = pace_changes(BRISK, segs, rng)
    st, log = make_steps(BRISK, segs, rng, pace)
    speed, heading = speed_and_heading(BRISK, log, rng, pace)
    sh = st.lift < 1.0
    assert 0.1 < sh.mean() < 0.3
    g = build_gait(BRISK, st, np.random.default_rng(9), speed, heading)
    full = build_gait(BRISK, replace(st, lift=np.ones_like(st.lift)), np.random.default_rng(9), speed, heading)
    for name in ("wob_b", "ap_amp", "tor_amp", "hs_amp"):
        got, want = getattr(g, name), getattr(full, name) * st.lift
        assert np.any(getattr(full, name)[sh] != 0.0), name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0, err_msg=name)
    np.testing.assert_array_equal(g.wob_w, full.wob_w)  # the ringing's frequency is the step's own


@pytest.mark.parametrize(("knob", "value"), [
    ("walk_shuffle_share", -0.1), ("walk_shuffle_share", 0.6), ("walk_shuffle_share", float("nan")),
    ("shuffle_lift_frac", 0.0), ("shuffle_lift_frac", 1.0), ("shuffle_lift_frac", -0.25),
    ("shuffle_lift_frac", float("nan")),
])
def test_shuffle_knobs_out_of_range_raise(knob: str, value: float):
    with pytest.raises(SimulationError, match=r"walk_shuffle_share must be within 0-0\.5 and shuffle_lift_frac"):
        RunnerParams(**{knob: value})


def test_shuffle_knobs_at_their_limits_are_accepted():
    assert RunnerParams(walk_shuffle_share=0.5, shuffle_lift_frac=0.01).walk_shuffle_share == 0.5
    assert RunnerParams(walk_shuffle_share=0.0, shuffle_lift_frac=0.99).shuffle_lift_frac == 0.99
