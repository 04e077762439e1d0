"""Hesitations in slow walking (``walk_hesitations_per_min``): the walker stops for 1-2.5 s.

mobgap_lab's slow bouts (< 0.6 m/s, benchmarks/sim_vs_real.py) walk at ~100 steps/min with a
step-time CV of ~39 %: steady steps of ~0.6 s broken by stalls of 1.2-2.9 s from one IC to the
next. Before this knob the simulator's walks went on without a stop unless split into equal parts
by ``walk_pauses``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

SLOW = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=120.0, walk_end_s=0.0,
                    walk_speed_mps=0.45, walk_cadence_spm=100.0, walk_step_time_cv=0.03,
                    walk_transient_pct=15.0, walk_force_follows_speed=True, sample_rate_hz=100.0,
                    gaps_per_hour=0.0, noise=False)


def test_hesitations_stop_the_walk_briefly_and_the_body_stays_carried():
    plain = simulate_session(SLOW, seed=5, session_id="slow", runner_id="sim", start_time=0)
    sim = simulate_session(replace(SLOW, walk_hesitations_per_min=6.0), seed=5, session_id="slow",
                           runner_id="sim", start_time=0, keep_signals=True)
    kinds = [s["kind"] for s in plain.truth["segments"]]
    assert kinds == ["stand", "walk", "stand"]
    segs = sim.truth["segments"]
    stops = [s["end_s"] - s["start_s"] for s in segs[1:-1] if s["kind"] == "stand"]
    walks = [s["end_s"] - s["start_s"] for s in segs if s["kind"] == "walk"]
    # ~6 a minute over 2 minutes (Poisson), each 1-2.5 s, with walking between
    assert 5 <= len(stops) <= 20
    assert min(stops) >= 1.0 and max(stops) <= 2.5
    assert min(walks) >= 1.5
    ic = np.sort(sim.truth_steps.column("ic_time").cast("int64").to_numpy() / 1e9)
    gaps = np.diff(ic)
    assert np.count_nonzero(gaps > 1.5) == len(stops)  # one long IC-to-IC interval per stop
    # the body is carried through: standing between, no drift in height
    assert sim.signals is not None
    walk = (sim.signals.t_s > 6.0) & (sim.signals.t_s < segs[-1]["start_s"])
    assert abs(np.mean(sim.signals.vgrf_bw[walk]) - 1.0) < 0.01
    # every stop stands at the height of the first standing (no drift)
    t, z = sim.signals.t_s, sim.signals.z_m
    mids = [(s["start_s"] + s["end_s"]) / 2.0 for s in segs[1:-1] if s["kind"] == "stand"]
    assert np.max(np.abs(np.interp(mids, t, z) - np.interp(2.0, t, z))) < 0.005
    # and the body stays within a walking step of its standing height: a step's top is at it
    # (compass gait), its IC a few cm below. Highest above standing < 0.04 m (seed 5: 0.024 m since
    # a stop rises onto standing height, not above it; 0.085 m before, the last step's rise; 0.109 m
    # when the walking body was held above standing, c334669) and lowest > -0.08 m (-0.069 m;
    # -0.082 m without the last two steps' hand-back, HAND_BACK = ())
    z0 = np.interp(2.0, t, z)
    assert np.max(z[walk]) - z0 < 0.04
    assert np.min(z[walk]) - z0 > -0.08
