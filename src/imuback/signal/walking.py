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

Walking toe-off is not reported (NaN): of the lower-back final-contact cues measured on real
walking (McCamley 2012 at two scales, González 2010 / Zijlstra & Hof 2003, the vertical peak, the
forward zero crossing, skdh's AP-CWT forward minimum, the rhythm alone; ``benchmarks/walk_to.py``),
none kept SD <= 40 ms with a bias within ±20 ms on held-out data with its constants chosen on voisard_l5_walk
(docs/validation_log.md, "Walking toe-off: methods measured").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from imuback.signal.activity import WALK, Bouts
from imuback.signal.dsp import argmin_between, interval_indices
from imuback.signal.params import EventParams
from imuback.signal.walking_ic import braking_fall

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
