"""Walking steps: initial contact (IC) from the sacrum's vertical and forward specific force.

Steps at the maxima of the Gaussian-smoothed vertical acceleration, i.e. the CWT of the
integrated vertical acceleration (McCamley 2012; with z up the loading response is a maximum);
IC at the steepest rise of that loading response on a finer scale (on the mobgap lab recordings
the maximum itself came a median 50 ms after the reference contact); a gap of about two steps
gets the weaker maximum in its middle (one missed step), and up to two weaker maxima one step
apart after a walk's last clear step are its last steps (gait termination), where their loading
response rises steeply enough to be a foot landing. Once the body frame is known each IC moves to
the forward-acceleration peak before heel-strike braking (Zijlstra & Hof 2003,
:func:`forward_peak_ic`), averaged with the vertical-signal IC where the two agree, each weighted
by its regularity over the session (:func:`fuse_ic_cues`); an IC that then breaks the step rhythm
moves to another forward peak before a braking fall nearer the middle of its neighbours
(:func:`rhythm_placed_ic`: contacts that brake the trunk twice).

Walking toe-off is not reported (NaN): McCamley's final contact (minima of the second
differentiation after the other foot's IC) scattered by SD 155 ms (voisard_l5_walk) and
178 ms (mobgap_lab, INDIP) on real recordings, worse than no number (docs/validation.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from imuback.signal.activity import WALK, Bouts
from imuback.signal.dsp import argmin_between, interval_indices
from imuback.signal.frames import G_MPS2
from imuback.signal.params import EventParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def walking_contacts(x: F64, bouts: Bouts, fs: float, p: EventParams,
                      own: Bouts | None = None) -> tuple[F64, F64, F64]:
    """IC, TO (always NaN, see the module docstring) and quality of walking steps from the 20 Hz
    vertical specific force ``x`` (g).

    ``bouts`` may reach beyond the walking bouts ``own`` (one each, in order; see
    :meth:`Bouts.extended`): missed steps are refilled only inside ``own``, from its own rhythm.
    """
    # McCamley 2012: integrate the vertical acceleration and differentiate it with a Gaussian
    # wavelet (a smoothed vertical acceleration); with z up, IC is at its maxima (the loading
    # response after heel strike). Steps are found at McCamley's scale, then each IC is located
    # on a finer scale just before, at the steepest rise of the loading response.
    sigma = p.walk_detect_sigma_s * fs
    fine = p.walk_locate_sigma_s * fs
    back, ahead = int(0.2 * fs), int(0.05 * fs)
    mindist = max(1, int(p.min_step_s * fs))
    ics = [np.zeros(0, np.int64)]
    sel = bouts.label == WALK
    own = own if own is not None else bouts
    own_sel = own.label == WALK
    for s0, e0, o0, o1 in zip(bouts.start_idx[sel], bouts.end_idx[sel], own.start_idx[own_sel],
                              own.end_idx[own_sel], strict=True):  # bouts: few
        if e0 - s0 < 8 * sigma:
            continue
        vel = np.cumsum(x[s0:e0] - 1.0) / fs
        d1 = gaussian_filter1d(vel, sigma, order=1) * fs  # g (a smoothed vertical acceleration)
        # 1. steps: clear maxima, plus weaker ones that land where the rhythm lacks a step
        # (a missed step, the last steps of the walk)
        pk, props = find_peaks(d1, distance=mindist, prominence=p.walk_weak_prominence_g)
        f1 = gaussian_filter1d(vel, fine, order=1)
        pk = _fill_missed_steps(pk, props["prominences"], f1, p, (o0 - s0, o1 - s0), (back, ahead))
        if pk.size:
            # 2. the loading-response maximum on the finer scale, just before the detected one
            lo = np.maximum(pk - back, 0)
            lo[1:] = np.maximum(lo[1:], pk[:-1] + 1)
            pk = argmin_between(-f1, lo, np.minimum(pk + ahead, vel.size))
            # 3. IC at the steepest rise that leads to it (tangent idea as for running)
            pk = _steepest_rise(f1, pk, round(p.walk_rise_max_s * fs))
        ics.append(pk + s0)
    ic = np.concatenate(ics).astype(np.float64)
    return ic, np.full(ic.size, np.nan), np.full(ic.size, 0.8)


def _max_slope(f: F64, starts: I64, ends: I64) -> F64:
    """Steepest rise (central difference of ``f`` per sample) in each non-empty ``[starts, ends)``."""
    if starts.size == 0:
        return np.zeros(0)
    idx, lengths = interval_indices(starts, ends)
    d = f[np.minimum(idx + 1, f.size - 1)] - f[np.maximum(idx - 1, 0)]
    return np.asarray(np.maximum.reduceat(d, np.cumsum(lengths) - lengths), dtype=np.float64)


def _steepest_rise(f: F64, peak: I64, max_back: int) -> I64:
    """Sample index of the steepest rise (central difference) of ``f`` on the flank up to each ``peak``.

    The flank starts at the last local minimum of ``f`` before the peak, at most ``max_back``
    samples earlier. Peaks without a rising flank are kept.
    """
    df = np.gradient(f)
    mins = np.flatnonzero((df[:-1] < 0) & (df[1:] >= 0)) + 1
    j = np.searchsorted(mins, peak, side="right") - 1
    start = mins[np.maximum(j, 0)] if mins.size else np.zeros_like(peak)
    start = np.maximum(np.where(j >= 0, start, 0), peak - max_back)
    rising = peak > start
    return np.where(rising, argmin_between(-df, start, np.where(rising, peak, start + 1)), peak)


def _fill_missed_steps(cand: I64, prom: F64, f1: F64, p: EventParams, own: tuple[int, int],
                       window: tuple[int, int]) -> I64:
    """Clear walking steps plus weaker ones where the bout's rhythm lacks a step.

    The clear steps are the candidate peaks with prominence >= ``walk_peak_prominence_g``; the
    typical step ``t`` is their median interval inside ``own`` = [start, end). Weaker candidates
    (turns, slow steps and the last steps of a walk leave little vertical signal) whose loading
    rise (the steepest slope of the finer-scale signal ``f1`` from ``window[0]`` samples before to
    ``window[1]`` after the candidate) is at least ``walk_weak_rise_frac`` of the clear steps'
    median (a foot lands; swaying does not) are added (1) in a gap between two clear steps inside ``own``
    that is ``m + 1`` steps long (``walk_missed_gap_steps``): the most prominent one near each of
    the ``m`` evenly spaced places of the missed steps; (2) after the last clear step of ``own``:
    up to ``walk_edge_steps``, each one typical step after the one before (gait termination).
    A place takes a candidate only within ``walk_missed_tol_steps`` steps of it; a longer gap is
    a stop, and is left empty.
    """
    strong = prom >= p.walk_peak_prominence_g
    steps = cand[strong]
    in_own = (steps >= own[0]) & (steps < own[1])
    mine = steps[in_own]
    if mine.size < 3:
        return steps
    weak, wprom = cand[~strong], prom[~strong]
    if weak.size == 0:
        return steps
    # a weak step still lands: its loading response rises at least this share as steeply as the
    # clear steps' (their median over up to ~256 of them)
    back, ahead = window
    ref = mine[:: max(1, mine.size // 256)]
    clear_rise = float(np.median(_max_slope(f1, np.maximum(ref - back, 0), np.minimum(ref + ahead, f1.size))))
    heel = _max_slope(f1, np.maximum(weak - back, 0), np.minimum(weak + ahead, f1.size)) >= (
        p.walk_weak_rise_frac * clear_rise)
    weak, wprom = weak[heel], wprom[heel]
    if weak.size == 0:
        return steps
    t = float(np.median(np.diff(mine)))  # typical step of this walking bout (samples)
    tol = p.walk_missed_tol_steps * t
    # 1. gaps: m missed steps evenly spaced between two clear ones
    g = np.clip(np.searchsorted(steps, weak), 1, steps.size - 1)
    lo, hi = steps[g - 1], steps[g]
    gap_lo, gap_hi = p.walk_missed_gap_steps
    m = np.round((hi - lo) / t) - 1
    space = (hi - lo) / np.maximum(m + 1, 1)
    f = (weak - lo) / space
    k = np.round(f)
    ok = (weak > lo) & (weak < hi) & (lo >= own[0]) & (hi < own[1])
    ok &= (hi - lo >= gap_lo * t) & (hi - lo <= gap_hi * t) & (k >= 1) & (k <= m)
    ok &= np.abs(f - k) * space <= tol
    added = [_most_prominent(weak[ok], wprom[ok], g[ok] * 1000 + k[ok].astype(np.int64))]
    # 2. gait termination: one step at a time after the last clear step of the bout
    edge = mine[-1]
    for _ in range(p.walk_edge_steps):
        near = (np.abs(weak - edge - t) <= tol) & (weak < own[1])
        if not near.any():
            break
        edge = weak[near][np.argmax(wprom[near])]
        added.append(np.array([edge]))
    return np.sort(np.concatenate([steps, *added]))


def _most_prominent(pos: I64, prom: F64, group: I64) -> I64:
    """Per group, the position with the largest prominence."""
    if pos.size == 0:
        return pos
    order = np.lexsort((-prom, group))
    first = np.ones(order.size, dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return pos[order][first]


def forward_peak_ic(ap_mps2: F64, ic_pos: F64, fs: float, bounds: I64, p: EventParams) -> F64:
    """Walking IC at the peak forward acceleration before heel-strike braking (Zijlstra & Hof 2003).

    At heel strike the ground's braking impulse turns the trunk's forward acceleration sharply
    from its maximum to negative; the maximum is the IC (Zijlstra & Hof 2003, Gait Posture 18:1-10).
    For each detected step (``ic_pos``, fractional samples, from the vertical signal) the steepest
    fall of the lightly smoothed forward acceleration within ``walk_drop_window_s`` of it is found,
    then the maximum within ``walk_peak_before_drop_s`` before that fall. A step whose fall is
    flatter than ``walk_min_drop_g_per_s`` (no clear braking: shuffles, turns on the spot) keeps
    its vertical-signal IC.

    Parameters
    ----------
    ap_mps2 : (N,) forward (body +x) specific force (m/s²), gravity-aligned body frame.
    ic_pos : (S,) fractional sample positions of walking ICs.
    bounds : segment bounds; windows never cross a gap.

    Returns
    -------
    (S,) refined fractional sample positions.
    """
    if ic_pos.size == 0:
        return ic_pos
    lo_s, hi_s = p.walk_drop_window_s
    pad = 3 * max(1, round(p.walk_ap_sigma_s * fs))
    back = round(p.walk_peak_before_drop_s * fs)
    off = np.arange(round(lo_s * fs) - back - pad, round(hi_s * fs) + pad + 1)
    c = np.round(ic_pos).astype(np.int64)
    idx, w = _forward_windows(ap_mps2, c, off, fs, bounds, p)
    slope = np.gradient(w, axis=1) * fs  # g/s
    in_drop = (off >= round(lo_s * fs)) & (off <= round(hi_s * fs))
    drop = np.argmin(np.where(in_drop[None, :], slope, np.inf), axis=1)
    steep = slope[np.arange(c.size), drop] <= -p.walk_min_drop_g_per_s
    col = np.arange(off.size)[None, :]
    before = (col <= drop[:, None]) & (col >= drop[:, None] - back)
    peak = np.argmax(np.where(before, w, -np.inf), axis=1)
    refined = c + off[peak]
    at = refined + _peak_vertex(w, peak, p)
    return np.where(steep & (idx[np.arange(c.size), peak] == refined), at, ic_pos)


def _forward_windows(ap_mps2: F64, centre: I64, off: I64, fs: float, bounds: I64,
                     p: EventParams) -> tuple[I64, F64]:
    """Sample indices (S, W) ``centre + off``, clipped to each centre's segment, and the forward
    specific force there (g) smoothed by ``walk_ap_sigma_s`` along each window.
    """
    seg = np.clip(np.searchsorted(bounds, centre, side="right") - 1, 0, bounds.size - 2)
    idx = np.clip(centre[:, None] + off[None, :], bounds[seg][:, None], bounds[seg + 1][:, None] - 1)
    w = gaussian_filter1d(ap_mps2[idx] / G_MPS2, p.walk_ap_sigma_s * fs, axis=1, mode="nearest")
    return idx, np.asarray(w, dtype=np.float64)


def _peak_vertex(w: F64, peak: I64, p: EventParams) -> F64:
    """Offset (samples, within ±0.5) of the vertex of the parabola through each row's ``peak``
    column of ``w`` (S, W) and its neighbours; 0 where it is no maximum, at an edge, or
    ``walk_peak_subsample`` is off.
    """
    if not p.walk_peak_subsample:
        return np.zeros(peak.size)
    rows, last = np.arange(peak.size), w.shape[1] - 1
    a, b, e = (w[rows, np.clip(peak + k, 0, last)] for k in (-1, 0, 1))
    curv = a - 2.0 * b + e
    inner = (peak > 0) & (peak < last) & (curv < 0)
    return np.where(inner, np.clip(0.5 * (a - e) / np.where(curv < 0, curv, -1.0), -0.5, 0.5), 0.0)


def rhythm_placed_ic(ic_pos: F64, vertical_pos: F64, chain: I64, ap_mps2: F64, fs: float, bounds: I64,
                     p: EventParams) -> F64:
    """Walking ICs that break the step rhythm, moved to another forward-acceleration peak before a
    braking fall that keeps it.

    Some contacts brake the trunk twice, 100-250 ms apart (on voisard_l5_walk one foot of some
    wearers, every step: a small forward peak and fall at the foot sensor's contact, then a larger
    one with the larger vertical peak); the vertical loading rise and the steepest braking fall
    both take the later one. The forward peak before each braking fall is a candidate IC
    (Zijlstra & Hof 2003); the rhythm chooses between them: a step's IC lies near the middle
    between its neighbours' ICs.

    1. A step whose IC lies more than ``walk_rhythm_off_s`` from the middle of its two
       neighbours' ICs (all three in one chain) is a candidate for a move. Nothing within that
       distance moves: step-time asymmetry up to twice it is left as measured.
    2. Its candidates: the local maxima of the smoothed forward acceleration (``walk_ap_sigma_s``)
       over the span :func:`forward_peak_ic` searches (``walk_drop_window_s`` around the
       vertical IC, widened by ``walk_peak_before_drop_s`` before it) followed within
       ``walk_peak_before_drop_s`` by a fall at least ``walk_min_drop_g_per_s`` steep and at
       least ``walk_rhythm_fall_share`` of the fall after the peak nearest the current IC.
    3. The candidate nearest the middle takes the IC if it lies within half the current IC's
       distance from it; else the IC stays.

    Parameters
    ----------
    ic_pos : (S,) fractional sample positions of walking ICs on the forward peak's definition
        (:func:`fuse_ic_cues`), sorted.
    vertical_pos : (S,) the vertical-signal ICs of the same steps.
    chain : (S,) chain id of each step.
    ap_mps2 : (N,) forward (body +x) specific force (m/s²).
    bounds : segment bounds; windows never cross a gap.

    Returns
    -------
    (S,) fractional sample positions.
    """
    if p.walk_rhythm_off_s <= 0 or ic_pos.size < 3:
        return ic_pos
    # 1. steps off the middle of their neighbours
    k = np.arange(1, ic_pos.size - 1)
    mid = 0.5 * (ic_pos[k - 1] + ic_pos[k + 1])
    dev = np.abs(ic_pos[k] - mid)
    off_mid = (chain[k - 1] == chain[k]) & (chain[k + 1] == chain[k]) & (dev > p.walk_rhythm_off_s * fs)
    k, mid, dev = k[off_mid], mid[off_mid], dev[off_mid]
    if k.size == 0:
        return ic_pos
    # 2. the forward peaks before a braking fall around each one's vertical IC
    lo_s, hi_s = p.walk_drop_window_s
    ahead = round(p.walk_peak_before_drop_s * fs)
    pad = 3 * max(1, round(p.walk_ap_sigma_s * fs))
    lo, hi = round(lo_s * fs) - ahead, round(hi_s * fs)
    off = np.arange(lo - pad, hi + ahead + pad + 2)
    c = np.round(vertical_pos[k]).astype(np.int64)
    idx, w = _forward_windows(ap_mps2, c, off, fs, bounds, p)
    slope = np.gradient(w, axis=1) * fs  # g/s
    cols = np.arange(pad, pad + hi - lo + 1)  # the columns of [lo, hi]
    fall = -np.lib.stride_tricks.sliding_window_view(slope, ahead + 1, axis=1)[:, cols].min(axis=2)
    wc = w[:, cols]
    peak = (wc >= w[:, cols - 1]) & (wc > w[:, cols + 1])
    at = c[:, None] + off[cols][None, :]  # (K, C) sample positions
    near_cur = np.argmin(np.where(peak, np.abs(at - ic_pos[k][:, None]), np.inf), axis=1)
    rows = np.arange(k.size)
    f_cur = np.where(peak.any(axis=1), fall[rows, near_cur], 0.0)
    cand = peak & (fall >= p.walk_min_drop_g_per_s) & (fall >= p.walk_rhythm_fall_share * f_cur[:, None])
    cand &= idx[:, cols] == at  # not clipped at a segment's edge
    # 3. the candidate nearest the middle, if it halves the distance
    dist = np.where(cand, np.abs(at - mid[:, None]), np.inf)
    best = np.argmin(dist, axis=1)
    take = dist[rows, best] < 0.5 * dev
    new = at[rows, best] + _peak_vertex(w, cols[best], p)
    out = ic_pos.copy()
    out[k[take]] = new[take]
    return out



def fuse_ic_cues(forward_pos: F64, vertical_pos: F64, chain: I64, fs: float, p: EventParams) -> F64:
    """Walking IC from its two cues: the forward-acceleration peak before braking and the vertical
    loading rise, averaged where they agree, each weighted by how regular it is over the session.

    Two independent readings of one event with errors of variance ``s_f²`` and ``s_v²`` combine
    best as the inverse-variance weighted mean. Neither variance is known against a reference,
    but an IC error breaks the stride rhythm: each cue's scatter is read from its residual against
    the same foot's ICs two steps before and after (``x[k] - (x[k-2] + x[k+2]) / 2``). That residual
    also holds the gait's own stride variability, shared by both cues, so ``w`` leans towards 0.5
    as gait grows irregular; removing the shared part (Grubbs' two-instrument estimator) was
    measured and not kept: worse on the held-out mobgap_lab (docs/validation.md).

    1. The vertical IC differs from the forward peak by a definition-dependent delay: the
       session's median offset over the steps with both cues is removed from it — also from the
       steps without a forward peak, which keep the vertical cue (every IC on one definition),
       where at least half the steps have both cues and the offset is at most
       ``_MAX_CUE_OFFSET_S`` (else those steps keep their vertical IC as it is).
    2. Each cue's scatter: the MAD (x 1.4826) of its stride residuals over the steps whose
       neighbours two steps either side are in the same chain and have both cues.
    3. Where the two lie within ``walk_fuse_agree_s`` of each other, the IC is
       ``(1 - w) * forward + w * vertical`` with ``w = s_f² / (s_f² + s_v²)``; where they do not
       (one cue took another peak) the forward peak.

    Parameters
    ----------
    forward_pos : (S,) fractional sample positions from :func:`forward_peak_ic` (equal to
        ``vertical_pos`` where it found no braking fall).
    vertical_pos : (S,) fractional sample positions of the vertical-signal ICs.
    chain : (S,) chain id of each step (:class:`~imuback.signal.events.Steps`).
    fs : sampling rate (Hz).

    Returns
    -------
    (S,) fractional sample positions on the forward peak's definition; ``forward_pos`` unchanged
    where fewer than ``_MIN_RESIDUALS`` steps have both cues; no averaging where fewer give both
    cues' residuals, or ``walk_fuse_agree_s`` is 0.
    """
    both = forward_pos != vertical_pos
    if np.count_nonzero(both) < _MIN_RESIDUALS:
        return forward_pos
    # 1. the vertical cue on the forward peak's definition; the steps with the vertical cue alone
    # move too only where the offset is read from most steps and is a loading-response delay
    offset = float(np.median(vertical_pos[both] - forward_pos[both]))
    vert = vertical_pos - offset
    lone_ok = 2 * np.count_nonzero(both) >= both.size and abs(offset) <= _MAX_CUE_OFFSET_S * fs
    one_def = np.where(both, forward_pos, vert if lone_ok else vertical_pos)
    if p.walk_fuse_agree_s <= 0:
        return one_def
    # 2. each cue's stride residual over steps with both cues either side in one chain
    k = np.arange(2, forward_pos.size - 2)
    ok = (chain[k - 2] == chain[k]) & (chain[k + 2] == chain[k]) & both[k - 2] & both[k] & both[k + 2]
    k = k[ok]
    if k.size < _MIN_RESIDUALS:
        return one_def
    # floored at the quantisation variance of a residual of whole-sample readings (1 + 2/4) / 12:
    # at a low rate most vertical residuals are exactly 0 and would take the whole weight
    var_f, var_v = (max(_mad_var(x[k] - 0.5 * (x[k - 2] + x[k + 2])), 1.5 / 12.0) for x in (forward_pos, vert))
    w = var_f / (var_f + var_v)
    # 3. the weighted mean where both read the same event
    near = both & (np.abs(vert - forward_pos) <= p.walk_fuse_agree_s * fs)
    return np.where(near, (1.0 - w) * forward_pos + w * vert, one_def)


_MAX_CUE_OFFSET_S = 0.1
"""The steps without a forward peak move by the session's offset between the cues only when it is
at most this (s): the loading response, where the vertical IC lies, ends ~0.1 s after contact
(Perry 1992); a larger offset means the two cues read different events in that session."""

_MIN_RESIDUALS = 5
"""Fewer stride residuals than this give no scatter worth weighting by: the forward peak alone.
Not fitted: five residuals need one chain of nine steps, a short straight walk."""


def _mad_var(r: F64) -> float:
    """Robust variance: (1.4826 x the median absolute deviation)²."""
    return float((1.4826 * np.median(np.abs(r - np.median(r)))) ** 2)


def braking_fall(ap_mps2: F64, ic_pos: F64, fs: float, bounds: I64, p: EventParams) -> F64:
    """Steepest fall (g/s, positive) of the lightly smoothed forward acceleration within
    ``walk_drop_window_s`` of each walking IC: heel-strike braking (Zijlstra & Hof 2003).

    Parameters
    ----------
    ap_mps2 : (N,) forward (body +x) specific force (m/s²).
    ic_pos : (S,) fractional sample positions of walking ICs (from the vertical signal).
    bounds : segment bounds; windows never cross a gap.
    """
    if ic_pos.size == 0:
        return np.zeros(0)
    lo_s, hi_s = p.walk_drop_window_s
    pad = 3 * max(1, round(p.walk_ap_sigma_s * fs))
    off = np.arange(round(lo_s * fs) - pad, round(hi_s * fs) + pad + 1)
    c = np.round(ic_pos).astype(np.int64)
    seg = np.clip(np.searchsorted(bounds, c, side="right") - 1, 0, bounds.size - 2)
    idx = np.clip(c[:, None] + off[None, :], bounds[seg][:, None], bounds[seg + 1][:, None] - 1)
    w = gaussian_filter1d(ap_mps2[idx] / G_MPS2, p.walk_ap_sigma_s * fs, axis=1, mode="nearest")
    slope = np.gradient(w, axis=1) * fs
    return np.asarray(-np.min(slope[:, pad:off.size - pad], axis=1), dtype=np.float64)


def bridged_steps(vertical_g: F64, ap_mps2: F64, gaps: F64, step: F64, fall_level: float, fs: float,
                  bounds: I64, p: EventParams) -> F64:
    """Walking steps inside gaps of the step rhythm (turns, slow or hesitant steps), each a weak
    vertical loading maximum confirmed by heel-strike braking in the forward acceleration.

    Parameters
    ----------
    vertical_g : (N,) vertical specific force (g), incl. gravity.
    ap_mps2 : (N,) forward specific force (m/s²), body frame.
    gaps : (G, 2) fractional sample positions of the steps either side of each gap (same segment).
    step : (G,) typical step time (samples) around each gap.
    fall_level : median braking fall (g/s) of the session's walking steps (:func:`braking_fall`).

    Returns
    -------
    (K,) fractional sample positions of the ICs found, sorted; each at least ``walk_bridge_margin_steps``
    typical steps from the gap's steps and from each other, IC located as in :func:`walking_contacts`.
    """
    if gaps.shape[0] == 0:
        return np.zeros(0)
    sigma, fine = p.walk_detect_sigma_s * fs, p.walk_locate_sigma_s * fs
    back, ahead = int(0.2 * fs), int(0.05 * fs)
    # all gap windows (with 4 sigma either side, inside their segment) filtered as one array: a
    # window's edges take in their neighbour's samples, but only within 4 sigma, where no step
    # is looked for (each lies margin steps inside the gap)
    a, b = gaps[:, 0], gaps[:, 1]
    seg = np.clip(np.searchsorted(bounds, a, side="right") - 1, 0, bounds.size - 2)
    pad = int(4 * sigma) + 1
    ws = np.maximum(np.floor(a).astype(np.int64) - pad, bounds[seg])
    we = np.minimum(np.ceil(b).astype(np.int64) + pad + 1, bounds[seg + 1])
    idx, lengths = interval_indices(ws, we)
    first = np.cumsum(lengths) - lengths
    v = vertical_g[idx] - 1.0
    d1 = gaussian_filter1d(v, sigma)
    d1[first] = d1[first + lengths - 1] = -1e3  # no peak's base reaches into another window
    margin = p.walk_bridge_margin_steps * step
    pk, props = find_peaks(d1, distance=max(1, int(margin.min())), prominence=p.walk_weak_prominence_g)
    g = np.searchsorted(first, pk, side="right") - 1  # the gap of each candidate
    inside = (idx[pk] > a[g] + margin[g]) & (idx[pk] < b[g] - margin[g])
    pk, prom, g = pk[inside], props["prominences"][inside], g[inside]
    # two candidates of one gap closer than its margin: the more prominent one
    close = (np.diff(pk) < margin[g][1:]) & (g[1:] == g[:-1])
    weaker = np.zeros(pk.size, dtype=bool)
    weaker[1:] |= close & (prom[1:] < prom[:-1])
    weaker[:-1] |= close & (prom[:-1] <= prom[1:])
    pk, g = pk[~weaker], g[~weaker]
    if pk.size == 0:
        return np.zeros(0)
    f1 = gaussian_filter1d(v, fine)
    lo = np.maximum(pk - back, first[g])
    lo[1:] = np.maximum(lo[1:], pk[:-1] + 1)
    pk = argmin_between(-f1, lo, np.minimum(pk + ahead, first[g] + lengths[g]))
    pk = _steepest_rise(f1, pk, round(p.walk_rise_max_s * fs))
    ic = idx[pk].astype(np.float64)
    keep = braking_fall(ap_mps2, ic, fs, bounds, p) >= p.walk_bridge_fall_frac * fall_level
    return np.sort(ic[keep])
