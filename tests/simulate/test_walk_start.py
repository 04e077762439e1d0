"""A walk's first and last steps are as smooth as the steps between, and the heel-strike torsion is
the sum of every ring.

Before (0.7.0, docs/simulator.md §10, two independent reviews): the sample at a bout's first
contact lost the standing support (one sample of free fall: vertical specific force ~0 g); the
pelvis rate jumped by 16-20 deg/s at the first contact (its phase stood still until then), which
the walking lever arm's ±10 ms angular acceleration turned into a 20 ms box (~0.13 g vertical);
with ``walk_transient_pct`` the longer second-to-last step overlapped the last contact (56 ms with
the body weight counted twice: ~0 g at every walk's end); and the torsion summed only the last two
contacts' rings (a step in the yaw rate where a third was dropped).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from imuback.core import G_MPS2
from imuback.simulate.forces import torsion_kernel, torsion_rings
from imuback.simulate.gait import build_gait
from imuback.simulate.kinematics import evaluate
from imuback.simulate.params import RunnerParams
from imuback.simulate.plan import make_steps, pace_changes, plan_segments, speed_and_heading
from imuback.simulate.runner import simulate_session

FS_HZ = 1000.0
STOP_START = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=30.0, walk_end_s=0.0,
                          walk_pauses=1, pause_s=3.0, walk_transient_pct=15.0,
                          sample_rate_hz=FS_HZ, gaps_per_hour=0.0, noise=False, mounting="identity",
                          misalignment_deg=0.0, misalignment_exact=True)
"""Walk, stop, walk (two bouts), the first and last steps slower; noise-free, body frame, 1 kHz."""


def _roughness(x: np.ndarray) -> np.ndarray:
    """How far each sample lies from the mean of its two neighbours (per sample, max over axes)."""
    return np.abs(x[1:-1] - (x[:-2] + x[2:]) / 2.0).max(axis=1)


@pytest.mark.parametrize("params", [STOP_START, replace(STOP_START, walk_pauses=0, walk_transient_pct=0.0,
                                                         run_minutes=0.5, walk_end_s=20.0)],
                         ids=["stop-start walk", "walk-run-walk"])
def test_bout_starts_and_ends_are_no_rougher_than_steady_walking(params):
    sim = simulate_session(params, seed=4, session_id="start", runner_id="sim", start_time=0,
                           keep_signals=True)
    assert sim.signals is not None
    t = sim.signals.t_s[1:-1]
    acc = _roughness(sim.signals.acc_sensor_mps2 / G_MPS2)
    gyr = _roughness(sim.signals.gyr_sensor_dps)
    ic = np.sort(sim.truth_steps.column("ic_time").cast("int64").to_numpy() / 1e9)
    segs = sim.truth["segments"]
    bouts: list[list[float]] = []  # consecutive walking/running segments form one bout
    for prev, s in zip([{"kind": "stand"}, *segs[:-1]], segs, strict=True):
        if s["kind"] != "stand":
            if prev["kind"] == "stand":
                bouts.append([s["start_s"], s["end_s"]])
            bouts[-1][1] = s["end_s"]
    assert len(bouts) == (2 if params.walk_pauses else 1)
    # a bout's start: 0.5 s of standing before and the first 0.1 s after its first contact;
    # its end: from its last contact until 0.5 s into the standing after it
    edges = np.zeros(t.size, dtype=bool)
    for a, b in bouts:
        last_ic = ic[ic < b][-1]
        edges |= ((t > a - 0.5) & (t < a + 0.1)) | ((t > last_ic - 0.01) & (t < b + 0.5))
    # steady walking: more than 1.5 s from any change of segment
    steady = np.zeros(t.size, dtype=bool)
    for s in segs:
        if s["kind"] == "walk":
            steady |= (t > s["start_s"] + 1.5) & (t < s["end_s"] - 1.5)
    assert edges.sum() > 1000 and steady.sum() > 10_000
    # walk<->run changes inside a bout: the walking side (acceleration; the running side has its
    # impacts) and both sides (angular rate), 0.5 s either side of the change
    change_acc = np.zeros(t.size, dtype=bool)
    change_gyr = np.zeros(t.size, dtype=bool)
    for prev, s in pairwise(segs):
        if {prev["kind"], s["kind"]} == {"walk", "run"}:
            x = s["start_s"]
            change_gyr |= (t > x - 0.5) & (t < x + 0.5)
            change_acc |= (t > x) & (t < x + 0.5) if s["kind"] == "walk" else (t > x - 0.5) & (t < x)
    assert change_gyr.any() == (params.run_minutes > 0)
    # what steady walking's own contacts allow (kinks where a force starts, knots of the pelvis
    # envelopes), with a margin; the old code: 1.00 g (free fall), 0.5 g (overlap), 12-14 deg/s
    assert acc[edges | change_acc].max() <= 1.5 * acc[steady].max()
    assert gyr[edges | change_gyr].max() <= 1.5 * gyr[steady].max()
    # the vertical specific force drops no lower at a walk's start or end than in its steps
    vert = sim.signals.acc_sensor_mps2[1:-1, 2] / G_MPS2
    assert vert[edges].min() >= vert[steady].min() - 0.05


def _gait(params: RunnerParams, seed: int):
    rng = np.random.default_rng(seed)
    segs = plan_segments(params, rng)
    pace = pace_changes(params, segs, rng)
    st, log = make_steps(params, segs, rng, pace)
    speed, heading = speed_and_heading(params, log, rng, pace)
    return build_gait(params, st, rng, speed, heading)


def test_torsion_is_the_sum_of_every_ring():
    # a slowly decaying ring (decay 0.05 per rad: 73 % left after a cycle) at a fast cadence:
    # each heel strike's ring still rings through the next several steps
    p = replace(STOP_START, walk_pauses=0, walk_transient_pct=0.0, walk_cadence_spm=130.0,
                walk_heel_strike_torsion=(-1.2, 5.0, 0.02, 0.05), sample_rate_hz=200.0)
    g = _gait(p, 7)
    t = np.arange(0.0, 40.0, 0.005)
    with_tor = evaluate(g, t, positions=False, horizontal=False)["yaw_p"]
    without = evaluate(replace(g, tor_amp=np.zeros_like(g.tor_amp)), t, positions=False,
                       horizontal=False)["yaw_p"]
    brute = np.zeros_like(t)
    for s_j, a_j in zip(g.st.s, g.tor_amp, strict=True):  # every contact's own ring, none dropped
        brute += a_j * torsion_kernel(g.tor_w * (t - s_j - g.tor_delay), g.tor_decay)[0]
    assert np.max(np.abs(brute)) > 1.0  # deg: the rings pile up
    # two rings only (the old sum) leave out up to a third of a degree here
    np.testing.assert_allclose(with_tor - without, brute, rtol=0.0, atol=1e-6)


def test_torsion_rings_closed_form_and_its_rate():
    rng = np.random.default_rng(3)
    onset = np.cumsum(rng.uniform(0.3, 0.7, 40))
    amp = rng.normal(0.0, 1.0, 40) * (rng.uniform(size=40) > 0.2)
    w, b = 2.0 * np.pi * 4.0, 0.1
    t = np.sort(rng.uniform(-1.0, onset[-1] + 3.0, 5000))
    val, rate = torsion_rings(t, onset, amp, w, b)
    brute = np.zeros_like(t)
    brute_rate = np.zeros_like(t)
    for c, a in zip(onset, amp, strict=True):
        k, kp = torsion_kernel(w * (t - c), b)
        brute += a * k
        brute_rate += a * w * kp
    # the brute force drops each ring once exp(-b s) < 1e-7 (torsion_kernel): so close, not equal
    np.testing.assert_allclose(val, brute, rtol=0.0, atol=1e-6)
    np.testing.assert_allclose(rate, brute_rate, rtol=0.0, atol=1e-6 * w)
    assert np.all(val[t < onset[0]] == 0.0)
