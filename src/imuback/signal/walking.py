"""Walking steps: initial contact (IC) and final contact (TO) from the sacrum's vertical
specific force.

Steps at the maxima of the Gaussian-smoothed vertical acceleration, i.e. the CWT of the
integrated vertical acceleration (McCamley 2012; with z up the loading response is a maximum);
IC at the steepest rise of that loading response on a finer scale (on the mobgap lab recordings
the maximum itself came a median 50 ms after the reference contact); a gap of about two steps
gets the weaker maximum in its middle (one missed step). TO (final contact) at the minima of the
second differentiation, after the other foot's IC.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from imuback.signal.activity import WALK, Bouts
from imuback.signal.dsp import argmin_between
from imuback.signal.params import EventParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def walking_contacts(x: F64, bouts: Bouts, fs: float, p: EventParams,
                      own: Bouts | None = None) -> tuple[F64, F64, F64]:
    """IC, TO and quality of walking steps from the 20 Hz vertical specific force ``x`` (g).

    ``bouts`` may reach beyond the walking bouts ``own`` (one each, in order; see
    :meth:`Bouts.extended`): missed steps are refilled only inside ``own``, from its own rhythm.
    """
    # McCamley 2012: integrate the vertical acceleration and differentiate it with a Gaussian
    # wavelet (a smoothed vertical acceleration); with z up, IC is at its maxima (the loading
    # response after heel strike), final contact at the minima of the second differentiation.
    # Steps are found at McCamley's scale, then each IC is located on a finer scale just before,
    # at the steepest rise of the loading response.
    sigma = p.walk_detect_sigma_s * fs
    fine = p.walk_locate_sigma_s * fs
    back, ahead = int(0.2 * fs), int(0.05 * fs)
    mindist = max(1, int(p.min_step_s * fs))
    ics, fcs = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    sel = bouts.label == WALK
    own = own if own is not None else bouts
    own_sel = own.label == WALK
    for s0, e0, o0, o1 in zip(bouts.start_idx[sel], bouts.end_idx[sel], own.start_idx[own_sel],
                              own.end_idx[own_sel], strict=True):  # bouts: few
        if e0 - s0 < 8 * sigma:
            continue
        vel = np.cumsum(x[s0:e0] - 1.0) / fs
        d1 = gaussian_filter1d(vel, sigma, order=1) * fs  # g (a smoothed vertical acceleration)
        d2 = gaussian_filter1d(d1, sigma, order=1) * fs  # g/s
        # 1. steps: clear maxima, plus a weaker one where the rhythm says a single step was missed
        pk, props = find_peaks(d1, distance=mindist, prominence=p.walk_weak_prominence_g)
        pk = _fill_missed_steps(pk, props["prominences"], p, (o0 - s0, o1 - s0))
        if pk.size:
            # 2. the loading-response maximum on the finer scale, just before the detected one
            f1 = gaussian_filter1d(vel, fine, order=1)
            lo = np.maximum(pk - back, 0)
            lo[1:] = np.maximum(lo[1:], pk[:-1] + 1)
            pk = argmin_between(-f1, lo, np.minimum(pk + ahead, vel.size))
            # 3. IC at the steepest rise that leads to it (tangent idea as for running)
            pk = _steepest_rise(f1, pk, round(p.walk_rise_max_s * fs))
        ics.append(pk + s0)
        fcs.append(find_peaks(-d2, distance=max(1, mindist // 2))[0] + s0)
    ic, fc = np.concatenate(ics), np.concatenate(fcs)
    if ic.size == 0:
        z = np.zeros(0)
        return z, z, z
    # this foot's toe-off follows the other foot's contact (double support): the first
    # final-contact feature after the next IC of the same bout, within one step of it
    bout = bouts.index_of(ic)
    nxt = np.append(ic[1:], -1)
    same = np.append(bout[1:] == bout[:-1], False) & (nxt - ic <= p.max_step_s * fs)
    j = np.searchsorted(fc, nxt, side="right")
    cand = fc[np.minimum(j, fc.size - 1)] if fc.size else nxt
    ok = same & (j < fc.size) & (cand - nxt <= p.max_step_s * fs) & (bouts.index_of(cand) == bout)
    to = np.where(ok, cand, np.nan).astype(np.float64)
    return ic.astype(np.float64), to, np.full(ic.size, 0.8)


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


def _fill_missed_steps(cand: I64, prom: F64, p: EventParams, own: tuple[int, int]) -> I64:
    """Clear walking steps plus, where the rhythm lacks exactly one, a weaker one.

    The clear steps are the candidate peaks with prominence >= ``walk_peak_prominence_g``; a gap
    between two of them inside ``own`` = [start, end) that is one missed step long (about two
    typical steps of ``own``) gets its most prominent weaker candidate near its middle. Turns
    and slow steps leave little vertical signal; a longer gap is a stop, and is left empty.
    """
    strong = prom >= p.walk_peak_prominence_g
    steps = cand[strong]
    weak, wprom = cand[~strong], prom[~strong]
    mine = steps[(steps >= own[0]) & (steps < own[1])]
    if mine.size < 3 or weak.size == 0:
        return steps
    t = float(np.median(np.diff(mine)))  # typical step of this walking bout (samples)
    g = np.clip(np.searchsorted(steps, weak), 1, steps.size - 1)
    lo, hi = steps[g - 1], steps[g]
    inside = (weak > lo) & (weak < hi) & (lo >= own[0]) & (hi < own[1])
    gap_lo, gap_hi = p.walk_missed_gap_steps
    ok = inside & (hi - lo >= gap_lo * t) & (hi - lo <= gap_hi * t)
    ok &= np.abs(weak - 0.5 * (lo + hi)) <= p.walk_missed_tol_steps * t
    if not ok.any():
        return steps
    gi, wi, pi = g[ok], weak[ok], wprom[ok]
    order = np.lexsort((-pi, gi))  # per gap, the most prominent candidate
    first = np.ones(order.size, dtype=bool)
    first[1:] = gi[order][1:] != gi[order][:-1]
    return np.sort(np.concatenate([steps, wi[order][first]]))
