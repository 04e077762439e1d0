"""Walking steps on hand-built signals: IC refinement (Zijlstra & Hof 2003) and the fusion of the
two IC cues, weak steps at the end of a walk and in a turn (bridged with heel-strike braking), and
what is not a step."""

from __future__ import annotations

import numpy as np
import pytest

from imuback.signal.frames import G_MPS2
from imuback.signal.params import EventParams
from imuback.signal.walking_ic import braking_fall, forward_peak_ic, fuse_ic_cues, rhythm_placed_ic
from tests.signal.analytic import braking_forward, turn_walk, walking_vertical

FS = 100.0


def test_ic_moves_from_the_vertical_rise_to_the_forward_peak_before_braking():
    every = np.arange(45.0, 1990.0, 55.0)  # a step every 0.55 s
    ap = braking_forward(every, 2000)
    ics = every[1:-1]
    early = ics - 8.0  # the vertical signal's steepest rise, 80 ms before (as on voisard subject 4)
    got = forward_peak_ic(ap, early, FS, np.array([0, 2000]), EventParams())
    # the 8 ms smoothing moves this asymmetric corner's maximum 1.3 samples early (read between samples)
    assert np.abs(got - ics).max() <= 1.5


def test_the_forward_peak_is_found_between_samples():
    # the same gait shifted by a fraction of a sample: the IC follows (step times, cadence, are
    # not rounded to the 10 ms sample grid); on whole samples its error swung by 0.75 sample
    err = []
    for frac in (0.0, 0.25, 0.5, 0.75):
        every = np.arange(45.0, 1990.0, 55.0) + frac
        ics = every[1:-1]
        got = forward_peak_ic(braking_forward(every, 2000), ics - 8.0, FS, np.array([0, 2000]), EventParams())
        err.append(got - ics)
    e = np.concatenate(err)
    assert e.max() - e.min() <= 0.3 and np.abs(e).max() <= 1.6


def test_without_a_braking_fall_the_vertical_ic_is_kept():
    ap = np.full(2000, 0.05 * G_MPS2)  # shuffling or turning on the spot: no braking
    ic = np.arange(100.0, 1900.0, 55.0) + 0.3
    got = forward_peak_ic(ap, ic, FS, np.array([0, 2000]), EventParams())
    assert np.array_equal(got, ic)


def test_windows_never_reach_across_a_gap():
    ics = np.arange(45.0, 1990.0, 55.0)
    ap = braking_forward(ics, 2000)
    bounds = np.array([0, int(ics[5]) - 2, 2000])  # a gap just before step 5: its peak lies in the other segment
    got = forward_peak_ic(ap, ics[5:6] + 1.0, FS, bounds, EventParams())
    assert got[0] >= bounds[1]


def test_walking_toe_off_is_null_and_a_run_with_walks_stays_ok():
    # McCamley's walking TO scattered by SD > 150 ms on real walking: no number rather than a wrong one
    from datetime import UTC, datetime

    import pyarrow.compute as pc

    from imuback.pipeline import process_raw
    from imuback.simulate.params import RunnerParams
    from imuback.simulate.runner import simulate_session

    sim = simulate_session(RunnerParams(run_minutes=1.0), seed=3, session_id="s", runner_id="r",
                           start_time=datetime(2024, 1, 1, tzinfo=UTC))
    res = process_raw(sim.raw)
    walk = res.steps.filter(pc.equal(res.steps.column("activity"), "walk"))
    run = res.steps.filter(pc.equal(res.steps.column("activity"), "run"))
    assert walk.num_rows > 20 and walk.column("to_time").null_count == walk.num_rows
    assert run.column("to_time").null_count < run.num_rows
    assert res.sessions.column("status")[0].as_py() == "ok"


def _walking_ics(x: np.ndarray) -> np.ndarray:
    from imuback.signal.activity import WALK, Bouts
    from imuback.signal.walking import walking_contacts

    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([WALK], np.int8))
    ic, to, _q = walking_contacts(x, bouts, FS, EventParams())
    assert np.isnan(to).all()
    return ic


def test_the_weak_last_steps_of_a_walk_are_found():
    # voisard_l5_walk: the last two steps before standing still leave a third of a step's vertical
    # signal (the 2 last steps of a bout were 35 % of the misses): one step apart after the last
    # clear step, they are steps
    clear = np.arange(100.0, 1200.0, 55.0)
    weak = clear[-1] + np.array([55.0, 110.0])
    ic = _walking_ics(walking_vertical(clear, weak, 1700))
    assert ic.size == clear.size + 2
    assert np.abs(ic[-2:] - weak).max() <= 10  # IC on the rise before each loading peak


def test_standing_sway_and_a_weak_bump_before_the_first_step_are_not_steps():
    clear = np.arange(300.0, 1200.0, 55.0)
    # a slow sway one step after the last step (no landing: no steep rise) and a weak bump one
    # step before the first (weight shift at gait initiation: voisard, 0.4 s before the first IC)
    x = walking_vertical(clear, np.array([clear[0] - 55.0]), 1700, sway=np.array([clear[-1] + 55.0]))
    ic = _walking_ics(x)
    assert ic.size == clear.size
    assert np.abs(ic - (clear - 4)).max() <= 8


def test_a_missed_step_in_the_rhythm_is_filled_but_a_stop_is_not():
    every = np.arange(100.0, 1000.0, 55.0)
    clear = np.concatenate([np.delete(every, 8), np.arange(1400.0, 1800.0, 55.0)])  # a 4 s stop before 1400
    weak = np.array([every[8], 1200.0])  # the missed step; a landing-like bump inside the stop
    ic = _walking_ics(walking_vertical(clear, weak, 2000))
    assert np.any(np.abs(ic - weak[0]) <= 10)
    assert not np.any(np.abs(ic - weak[1]) <= 30)


@pytest.mark.parametrize("braking_at_weak", [True, False])
def test_weak_steps_in_a_turn_are_bridged_only_with_heel_strike_braking(braking_at_weak):
    # voisard U-turns: the vertical swing fades (recall 0.54 in turns), the braking at each foot
    # contact stays; a weak vertical bump without braking (a sway) is no step
    from imuback.signal.walking import bridged_steps
    from imuback.signal.walking_ic import braking_fall

    x, ap, ics, weak = turn_walk(braking_at_weak)
    bounds, p = np.array([0, 1600]), EventParams()
    level = float(np.median(braking_fall(ap, ics, FS, bounds, p)))
    got = bridged_steps(x, ap, np.array([[ics[9], ics[10]]]), np.array([55.0]), level, FS, bounds, p)
    if braking_at_weak:
        assert got.size == 2 and np.abs(got - (weak - 4.0)).max() <= 6
    else:
        assert got.size == 0


def _two_cues(sd_forward: float, sd_vertical: float, n: int = 60, seed: int = 3) -> tuple[np.ndarray, ...]:
    """True ICs every 55 samples (one chain) and two noisy readings of them (samples); the
    vertical one 9 samples late (the definition's delay)."""
    rng = np.random.default_rng(seed)
    true = 100.0 + 55.0 * np.arange(n)
    fwd = true + rng.normal(0.0, sd_forward, n)
    vert = true + 9.0 + rng.normal(0.0, sd_vertical, n)
    return true, fwd, vert, np.zeros(n, np.int64)


def test_two_agreeing_ic_cues_are_averaged_by_their_regularity():
    # the vertical cue is the steadier one here: the fused IC leans on it, without its 90 ms delay
    true, fwd, vert, chain = _two_cues(sd_forward=2.0, sd_vertical=0.7)
    got = fuse_ic_cues(fwd, vert, chain, FS, EventParams())
    rms = lambda x: float(np.sqrt(np.mean((x - true) ** 2)))  # noqa: E731
    assert rms(got) < 0.75 * rms(fwd)
    assert abs(float(np.mean(got - true))) < 0.5  # the delay is removed, not averaged in
    # the other way round the forward peak keeps most of the weight
    true, fwd, vert, chain = _two_cues(sd_forward=0.7, sd_vertical=2.0)
    got = fuse_ic_cues(fwd, vert, chain, FS, EventParams())
    assert rms(got) <= rms(fwd) and np.abs(got - fwd).max() < 2.0


def test_cues_that_disagree_keep_the_forward_peak():
    _, fwd, vert, chain = _two_cues(sd_forward=1.0, sd_vertical=1.0)
    vert[30] += 25.0  # the vertical cue took another peak, 250 ms away
    fwd[20] = vert[20]  # no braking fall found here: the vertical IC came through unchanged
    got = fuse_ic_cues(fwd, vert, chain, FS, EventParams())
    # ... and is put on the forward peak's definition (less the session's median delay, ~9)
    assert got[30] == fwd[30] and abs(got[20] - (vert[20] - 9.0)) < 1.0
    assert np.count_nonzero(got != fwd) >= 50  # the others are fused


def test_ic_fusion_off_or_too_few_steps_leaves_the_forward_peak():
    _, fwd, vert, chain = _two_cues(sd_forward=2.0, sd_vertical=0.7)
    off = EventParams(walk_fuse_agree_s=0.0)
    np.testing.assert_array_equal(fuse_ic_cues(fwd, vert, chain, FS, off), fwd)
    lone = fwd.copy()
    lone[20] = vert[20]  # a step without a forward peak still moves to the forward peak's definition
    assert abs(fuse_ic_cues(lone, vert, chain, FS, off)[20] - (vert[20] - 9.0)) < 1.0
    np.testing.assert_array_equal(fuse_ic_cues(fwd[:6], vert[:6], chain[:6], FS, EventParams()), fwd[:6])
    # a new chain at every step: no stride residual, no weight to give
    np.testing.assert_array_equal(fuse_ic_cues(fwd, vert, np.arange(fwd.size), FS, EventParams()), fwd)


def test_steps_without_a_forward_peak_move_only_by_a_well_read_offset():
    _, fwd, vert, chain = _two_cues(sd_forward=1.0, sd_vertical=1.0)
    lone = fwd.copy()
    lone[30:] = vert[30:]  # exactly half the steps have both cues: the offset (~9) moves the rest
    got = fuse_ic_cues(lone, vert, chain, FS, EventParams())
    assert np.all(np.abs(got[30:] - (vert[30:] - 9.0)) < 1.5)
    minority = fwd.copy()
    minority[10:] = vert[10:]  # 10 of 60 with both cues: too few to move the other 50 by
    got = fuse_ic_cues(minority, vert, chain, FS, EventParams())
    np.testing.assert_array_equal(got[10:], vert[10:])
    far = fwd - 12.0  # an offset of 21 samples = 210 ms: not a loading-response delay
    far[20] = vert[20]
    assert fuse_ic_cues(far, vert, chain, FS, EventParams())[20] == vert[20]


def test_refined_walking_ics_are_the_forward_peak_plus_the_delay_and_never_pass_a_neighbour():
    from imuback.signal.activity import WALK
    from imuback.signal.events import UNKNOWN, Steps, refine_walking_ics

    every = np.arange(45.0, 1990.0, 55.0)
    ics = every[1:-1]
    ap = braking_forward(every, 2000)
    n = ics.size
    steps = Steps(ic_pos=ics - 8.0, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
                  chain=np.zeros(n, np.int64), foot=np.full(n, UNKNOWN, np.int8), quality=np.full(n, 0.8))
    bounds = np.array([0, 2000])
    peak = forward_peak_ic(ap, ics - 8.0, FS, bounds, EventParams())
    p = EventParams(walk_fuse_agree_s=0.0, walk_ic_delay_s=0.03)
    got = refine_walking_ics(steps, ap, fs_hz=FS, bounds=bounds, params=p).ic_pos
    np.testing.assert_allclose(got, peak + 3.0)
    # a move that would pass the next step is not made: that step keeps its vertical IC
    crowded = Steps(ic_pos=np.array([ics[3] - 8.0, ics[3] - 7.0]), to_pos=np.full(2, np.nan),
                    activity=np.full(2, WALK, np.int8), chain=np.zeros(2, np.int64),
                    foot=np.full(2, UNKNOWN, np.int8), quality=np.full(2, 0.8))
    got = refine_walking_ics(crowded, ap, fs_hz=FS, bounds=bounds, params=p).ic_pos
    assert got[0] == ics[3] - 8.0


def _double_braking_walk(step_times: np.ndarray, late_s: float,
                         depth_g: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walking whose every second contact brakes the trunk twice: the forward acceleration of
    :func:`braking_forward` peaks at each IC, and at the odd steps a second, steeper peak-and-fall
    (``depth_g`` each way) follows ``late_s`` later, where the vertical loading rise also lies (as
    on voisard_l5_walk, subject 3's left steps). Returns (true ICs, vertical ICs, forward specific
    force, bounds).
    """
    ics = 45.0 + np.concatenate([[0.0], np.cumsum(step_times * FS)])
    n = int(ics[-1]) + 100
    ap = braking_forward(ics, n) / G_MPS2
    t = np.arange(n, dtype=np.float64)
    late = ics[1::2] + late_s * FS
    for c in late:  # a peak then a steep fall over ~6 samples
        ap += depth_g * (np.exp(-0.5 * ((t - c) / 2.5) ** 2) - np.exp(-0.5 * ((t - c - 6.0) / 2.5) ** 2))
    vert = ics + 2.0
    vert[1::2] = late + 2.0
    return ics[1:-1], vert[1:-1], ap * G_MPS2, np.array([0, n])


def _refined(vert: np.ndarray, ap: np.ndarray, bounds: np.ndarray, p: EventParams) -> np.ndarray:
    from imuback.signal.activity import WALK
    from imuback.signal.events import UNKNOWN, Steps, refine_walking_ics

    n = vert.size
    steps = Steps(ic_pos=vert, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
                  chain=np.zeros(n, np.int64), foot=np.full(n, UNKNOWN, np.int8), quality=np.full(n, 0.8))
    return refine_walking_ics(steps, ap, fs_hz=FS, bounds=bounds, params=p).ic_pos


def test_a_contact_that_brakes_twice_takes_the_peak_that_keeps_the_step_rhythm():
    # a step every 0.55 s; every second contact has a second, steeper braking fall 150 ms after
    # its IC: both cues take the later one, 150 ms late (pipeline 0.7.0), a miss and an extra step
    ics, vert, ap, bounds = _double_braking_walk(np.full(30, 0.55), 0.15)
    p = EventParams(walk_ic_delay_s=0.0)
    got = _refined(vert, ap, bounds, p)
    # every step with a neighbour either side (the chain's first and last have no middle to keep)
    assert np.abs(got - ics)[1:-1].max() <= 2.0
    # without the rhythm those steps stay on the later fall
    off = _refined(vert, ap, bounds, EventParams(walk_ic_delay_s=0.0, walk_rhythm_off_s=0.0))
    assert np.abs(off[2::2] - ics[2::2]).min() >= 12.0


def test_step_time_asymmetry_within_the_rhythm_tolerance_is_left_as_measured():
    # a limp: steps alternate 0.45 / 0.63 s (each IC 90 ms off the middle of its neighbours), and
    # every second contact brakes a second, weaker time 0.09 s later, right at the middle
    ics, vert, ap, bounds = _double_braking_walk(np.tile([0.45, 0.63], 15), 0.09, depth_g=0.25)
    vert = ics + 2.0  # the cues take the true contacts
    p = EventParams(walk_ic_delay_s=0.0)
    got = _refined(vert, ap, bounds, p)
    assert np.abs(got - ics).max() <= 2.0
    np.testing.assert_allclose(got, _refined(vert, ap, bounds, EventParams(walk_ic_delay_s=0.0, walk_rhythm_off_s=0.0)))
    # beyond the tolerance the same limp would be re-placed on those peaks: the tolerance is what keeps it
    moved = _refined(vert, ap, bounds, EventParams(walk_ic_delay_s=0.0, walk_rhythm_off_s=0.05))
    assert np.abs(moved - ics)[1:-1].max() >= 8.0


def _forward_reference(ap: np.ndarray, ic_pos: np.ndarray, bounds: np.ndarray, p: EventParams,
                       extra_back: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The smoothed forward windows as first written (pipeline 0.10.0): one clipped index per
    window sample, then the Gaussian along each window; the window's offsets and its ``pad``."""
    from scipy.ndimage import gaussian_filter1d

    lo_s, hi_s = p.walk_drop_window_s
    pad = 3 * max(1, round(p.walk_ap_sigma_s * FS))
    off = np.arange(round(lo_s * FS) - extra_back - pad, round(hi_s * FS) + pad + 1)
    c = np.round(ic_pos).astype(np.int64)
    seg = np.clip(np.searchsorted(bounds, c, side="right") - 1, 0, bounds.size - 2)
    idx = np.clip(c[:, None] + off[None, :], bounds[seg][:, None], bounds[seg + 1][:, None] - 1)
    w = gaussian_filter1d(ap[idx] / G_MPS2, p.walk_ap_sigma_s * FS, axis=1, mode="nearest")
    return idx, w, off, pad


def _gappy_walk() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Braking forward acceleration over three segments, with ICs near every segment edge."""
    every = np.arange(20.0, 2990.0, 55.0)
    rng = np.random.default_rng(7)
    ap = braking_forward(every, 3000) + rng.normal(0.0, 0.3, 3000)
    bounds = np.array([0, 1003, 2011, 3000])
    ics = np.sort(np.concatenate([every + rng.uniform(-12.0, 4.0, every.size), bounds[1:-1] - 3.0,
                                  bounds[1:-1] + 2.0, [1.0, 2997.0]]))
    return ap, ics, bounds


def test_braking_fall_is_the_gradient_of_the_clipped_windows_bit_for_bit():
    # windows copied from a sliding view (only those reaching past their segment clipped) and
    # the slope scaled after its minimum: the same bits as the index gather and np.gradient
    ap, ics, bounds = _gappy_walk()
    p = EventParams()
    _, w, off, pad = _forward_reference(ap, ics, bounds, p, 0)
    want = -np.min((np.gradient(w, axis=1) * FS)[:, pad:off.size - pad], axis=1)
    assert np.array_equal(braking_fall(ap, ics, FS, bounds, p), want)


def _edge_peaks_walk(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward acceleration (m/s²) over 150-sample segments whose smoothed maximum before a steep
    fall lies exactly on a segment's first sample (-0.5, 1, -3 g there) and on its last one
    (-3, 1, -0.5 g there), each reached by a slow ramp from -3 g (no steeper fall nearby)."""
    n = 3000
    ap = np.random.default_rng(seed).normal(0.0, 0.01, n)
    bounds = np.concatenate([np.arange(0, n, 150), [n]])
    for b in bounds[1:-1]:
        ap[b - 63:b - 3] += np.linspace(0.0, -3.0, 60)
        ap[b - 3:b] = [-3.0, 1.0, -0.5]
        ap[b:b + 3] = [-0.5, 1.0, -3.0]
        ap[b + 3:b + 63] += np.linspace(-3.0, 0.0, 60)
    return ap * G_MPS2, bounds


@pytest.mark.parametrize("edges", [False, True])
def test_forward_peak_ic_is_the_masked_search_over_the_clipped_windows_bit_for_bit(edges: bool) -> None:
    # the drop searched on its own columns and the peak in a sliding window before it: the same
    # bits as the masked search over the whole window (pipeline 0.10.0), clipped windows included;
    # with ``edges``, an IC at every sample and peaks exactly on segments' first and last samples
    if edges:
        ap, bounds = _edge_peaks_walk(0)
        ics = np.arange(ap.size) + 0.25
    else:
        ap, ics, bounds = _gappy_walk()
    p = EventParams()
    back = round(p.walk_peak_before_drop_s * FS)
    idx, w, off, _ = _forward_reference(ap, ics, bounds, p, back)
    lo_s, hi_s = p.walk_drop_window_s
    c = np.round(ics).astype(np.int64)
    rows = np.arange(c.size)
    slope = np.gradient(w, axis=1) * FS
    in_drop = (off >= round(lo_s * FS)) & (off <= round(hi_s * FS))
    drop = np.argmin(np.where(in_drop[None, :], slope, np.inf), axis=1)
    steep = slope[rows, drop] <= -p.walk_min_drop_g_per_s
    col = np.arange(off.size)[None, :]
    peak = np.argmax(np.where((col <= drop[:, None]) & (col >= drop[:, None] - back), w, -np.inf), axis=1)
    a, b, e = (w[rows, np.clip(peak + k, 0, off.size - 1)] for k in (-1, 0, 1))
    curv = a - 2.0 * b + e
    inner = (peak > 0) & (peak < off.size - 1) & (curv < 0)
    vertex = np.where(inner, np.clip(0.5 * (a - e) / np.where(curv < 0, curv, -1.0), -0.5, 0.5), 0.0)
    refined = c + off[peak]
    want = np.where(steep & (idx[rows, peak] == refined), refined + vertex, ics)
    clipped = ~(idx[rows, peak] == refined)
    assert (steep & ~clipped).sum() > 40
    assert edges or clipped.any()  # both branches are exercised
    if edges:  # peaks on a segment's very first and very last sample are kept
        seg = np.searchsorted(bounds, c, side="right") - 1
        assert (steep & (refined == bounds[seg])).sum() > 20
        assert (steep & (refined == bounds[seg + 1] - 1)).sum() > 20
    assert np.array_equal(forward_peak_ic(ap, ics, FS, bounds, p), want)


def _rhythm_reference(ic_pos: np.ndarray, vertical_pos: np.ndarray, chain: np.ndarray, ap: np.ndarray,
                      bounds: np.ndarray, p: EventParams) -> tuple[np.ndarray, np.ndarray]:
    """rhythm_placed_ic as written at pipeline 0.10.0 (one clipped index per window sample, a
    candidate kept where its index was not clipped); and the sample (or -1) each moved IC took."""
    from scipy.ndimage import gaussian_filter1d

    k = np.arange(1, ic_pos.size - 1)
    mid = 0.5 * (ic_pos[k - 1] + ic_pos[k + 1])
    dev = np.abs(ic_pos[k] - mid)
    off_mid = (chain[k - 1] == chain[k]) & (chain[k + 1] == chain[k]) & (dev > p.walk_rhythm_off_s * FS)
    k, mid, dev = k[off_mid], mid[off_mid], dev[off_mid]
    lo_s, hi_s = p.walk_drop_window_s
    ahead = round(p.walk_peak_before_drop_s * FS)
    pad = 3 * max(1, round(p.walk_ap_sigma_s * FS))
    lo, hi = round(lo_s * FS) - ahead, round(hi_s * FS)
    off = np.arange(lo - pad, hi + ahead + pad + 2)
    c = np.round(vertical_pos[k]).astype(np.int64)
    seg = np.clip(np.searchsorted(bounds, c, side="right") - 1, 0, bounds.size - 2)
    idx = np.clip(c[:, None] + off[None, :], bounds[seg][:, None], bounds[seg + 1][:, None] - 1)
    w = gaussian_filter1d(ap[idx] / G_MPS2, p.walk_ap_sigma_s * FS, axis=1, mode="nearest")
    slope = np.gradient(w, axis=1) * FS
    cols = np.arange(pad, pad + hi - lo + 1)
    fall = -np.lib.stride_tricks.sliding_window_view(slope, ahead + 1, axis=1)[:, cols].min(axis=2)
    wc = w[:, cols]
    peak = (wc >= w[:, cols - 1]) & (wc > w[:, cols + 1])
    at = c[:, None] + off[cols][None, :]
    rows = np.arange(k.size)
    near_cur = np.argmin(np.where(peak, np.abs(at - ic_pos[k][:, None]), np.inf), axis=1)
    f_cur = np.where(peak.any(axis=1), fall[rows, near_cur], 0.0)
    cand = peak & (fall >= p.walk_min_drop_g_per_s) & (fall >= p.walk_rhythm_fall_share * f_cur[:, None])
    cand &= idx[:, cols] == at
    dist = np.where(cand, np.abs(at - mid[:, None]), np.inf)
    best = np.argmin(dist, axis=1)
    take = dist[rows, best] < 0.5 * dev
    pk = cols[best]
    a, b, e = (w[rows, np.clip(pk + j, 0, off.size - 1)] for j in (-1, 0, 1))
    curv = a - 2.0 * b + e
    inner = (pk > 0) & (pk < off.size - 1) & (curv < 0)
    vertex = np.where(inner, np.clip(0.5 * (a - e) / np.where(curv < 0, curv, -1.0), -0.5, 0.5), 0.0)
    out = ic_pos.copy()
    out[k[take]] = at[rows, best][take] + vertex[take]
    moved_to = np.full(ic_pos.size, -1)
    moved_to[k[take]] = at[rows, best][take]
    return out, moved_to


def test_rhythm_placed_ic_is_the_0_10_0_formulation_bit_for_bit_at_segment_edges() -> None:
    # irregular steps over segments whose forward peaks lie exactly on their first and last
    # samples: the same bits as the clipped-index formulation, ICs moved onto those edges included
    p = EventParams()
    at_first = at_last = 0
    for seed in range(30):
        ap, bounds = _edge_peaks_walk(seed)
        rng = np.random.default_rng(seed + 100)
        ic = np.cumsum(rng.uniform(15.0, 60.0, 120))
        ic = ic[ic < ap.size - 1]
        vert = ic + rng.uniform(-3.0, 3.0, ic.size)
        chain = np.zeros(ic.size, np.int64)
        want, moved_to = _rhythm_reference(ic, vert, chain, ap, bounds, p)
        assert np.array_equal(rhythm_placed_ic(ic, vert, chain, ap, FS, bounds, p), want), seed
        at_first += int(np.isin(moved_to, bounds[:-1]).sum())
        at_last += int(np.isin(moved_to, bounds[1:] - 1).sum())
    assert at_first >= 10 and at_last >= 2, (at_first, at_last)  # ICs moved onto a segment's first and last sample
