"""Walking IC placement once the body frame is known: the forward-acceleration peak before
heel-strike braking (Zijlstra & Hof 2003), fused with the vertical-signal IC where the two agree,
re-placed where it breaks the step rhythm; and the braking fall that confirms a weak walking step.
Called from :mod:`imuback.signal.events` (``refine_walking_ics``, ``bridge_walking_gaps``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d

from imuback.signal.dsp import clipped_windows
from imuback.signal.frames import G_MPS2
from imuback.signal.params import EventParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


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
    w, first, last = _forward_windows(ap_mps2, c, off, fs, bounds, p)
    # the steepest fall over the drop window's columns d0..d1 (central differences: np.gradient's
    # interior, computed on those columns only)
    d0, d1 = back + pad, off.size - 1 - pad
    slope = (w[:, d0 + 1:d1 + 2] - w[:, d0 - 1:d1]) / 2.0 * fs  # g/s
    drop = np.argmin(slope, axis=1)
    rows = np.arange(c.size)
    steep = slope[rows, drop] <= -p.walk_min_drop_g_per_s
    drop += d0
    # the maximum over the back + 1 columns up to the fall (the first of equal ones)
    before = np.lib.stride_tricks.sliding_window_view(w, back + 1, axis=1)[rows, drop - back]
    peak = drop - back + np.argmax(before, axis=1)
    refined = c + off[peak]
    at = refined + _peak_vertex(w, peak, p)
    return np.where(steep & (refined >= first) & (refined <= last), at, ic_pos)


def _forward_windows(ap_mps2: F64, centre: I64, off: I64, fs: float, bounds: I64,
                     p: EventParams) -> tuple[F64, I64, I64]:
    """The forward specific force (g) over the samples ``centre + off`` (S, W) (``off`` a run of
    consecutive offsets), held at the first and last sample of each centre's segment where it
    reaches past them, smoothed by ``walk_ap_sigma_s`` along each window; and that first and last
    sample (S,) of each centre's segment (a window sample outside them was clipped).
    """
    seg = np.clip(np.searchsorted(bounds, centre, side="right") - 1, 0, bounds.size - 2)
    lo, hi = bounds[seg], bounds[seg + 1] - 1
    x = clipped_windows(ap_mps2, start_idx=centre + off[0], width=off.size, seg_start_idx=lo,
                        seg_end_idx=hi + 1)
    x /= G_MPS2
    w = gaussian_filter1d(x, p.walk_ap_sigma_s * fs, axis=1, mode="nearest")
    return np.asarray(w, dtype=np.float64), lo, hi


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
    w, first, last = _forward_windows(ap_mps2, c, off, fs, bounds, p)
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
    cand &= (at >= first[:, None]) & (at <= last[:, None])  # not clipped at a segment's edge
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
    measured and not kept: worse on the held-out mobgap_lab (docs/validation_log.md).

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
    ic_pos : (S,) fractional sample positions of walking ICs.
    bounds : segment bounds; windows never cross a gap.
    """
    if ic_pos.size == 0:
        return np.zeros(0)
    lo_s, hi_s = p.walk_drop_window_s
    pad = 3 * max(1, round(p.walk_ap_sigma_s * fs))
    off = np.arange(round(lo_s * fs) - pad, round(hi_s * fs) + pad + 1)
    w, _, _ = _forward_windows(ap_mps2, np.round(ic_pos).astype(np.int64), off, fs, bounds, p)
    # central differences (np.gradient's interior) on the window's inner columns only, halved and
    # scaled to g/s after the minimum (both monotone: the same value as before it)
    d = w[:, pad + 1:off.size - pad + 1] - w[:, pad - 1:off.size - pad - 1]
    return np.asarray(-(np.min(d, axis=1) / 2.0 * fs), dtype=np.float64)
