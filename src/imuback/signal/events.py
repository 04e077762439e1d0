"""Stage 5: initial contact (IC), toe-off (TO) and the foot of every step.

Running (vertical specific force of the sacrum, g): vGRF equals the CoM's vertical specific force
(in BW), so a contact is a hump that rises from ~0 g (flight, free fall) through 1 g (body weight)
and back. Each hump is found once in a 4 Hz signal; its core (> ``core_g``) anchors it, so bumps
in flight are never taken for contacts; the last up-crossing of ``contact_threshold_g`` before
the core and the first down-crossing after it bracket the edges (vertical-threshold methods,
Lee 2010; Patoz 2022). Each edge is then located by the tangent method: the tangent at its
steepest point, continued to the force-onset level (50 N ≈ 0.066 BW).

Walking: steps at the maxima of the Gaussian-smoothed vertical acceleration, i.e. the CWT of the
integrated vertical acceleration (McCamley 2012; with z up the loading response is a maximum);
IC at the steepest rise of that loading response on a finer scale (on the mobgap lab recordings
the maximum itself came a median 50 ms after the reference contact); a gap of about two steps gets
the weaker maximum in its middle (one missed step). TO (final contact) at the minima of the second
differentiation, after the other foot's IC.

Foot: the ground pushes the body toward the left (+y) during a right-foot contact (and toward the
right during a left one), so the mean mediolateral acceleration over a contact says the foot;
steps alternate, so one parity is chosen per unbroken chain of steps by summing the evidence over
the chain (a majority over many steps), never step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from imuback.signal.activity import RUN, WALK, Bouts
from imuback.signal.dsp import argmin_between, crossings, decimated_bounds, lowpass, step_to_50hz
from imuback.signal.params import EventParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
LEFT, RIGHT, UNKNOWN = 0, 1, -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Steps:
    """Detected foot contacts, sorted by time.

    Attributes
    ----------
    ic_pos, to_pos : (S,) fractional sample positions of IC and TO (NaN where unknown).
    activity : (S,) RUN or WALK.
    chain : (S,) id of an unbroken run of steps; step k+1 follows step k only in the same chain.
    foot : (S,) LEFT, RIGHT or UNKNOWN.
    quality : (S,) 0..1 confidence in the events.
    """

    ic_pos: F64
    to_pos: F64
    activity: npt.NDArray[np.int8]
    chain: I64
    foot: npt.NDArray[np.int8]
    quality: F64

    @property
    def n(self) -> int:
        """Number of steps."""
        return int(self.ic_pos.size)

    def has_next(self) -> npt.NDArray[np.bool_]:
        """(S,) True where the next step follows this one in the same chain."""
        out = np.zeros(self.n, dtype=bool)
        out[:-1] = self.chain[1:] == self.chain[:-1]
        return out


def _bout_of(idx: I64, bouts: Bouts) -> I64:
    return np.searchsorted(bouts.end_idx, idx, side="right")


def _running_contacts(x: F64, xs: F64, bouts: Bouts, fs: float, p: EventParams,
                      own: Bouts | None = None) -> tuple[F64, F64, F64]:
    """IC, TO (fractional positions) and quality of running contacts; x is the 20 Hz signal.

    ``bouts`` may reach beyond the running bouts ``own`` (see :func:`_extended`): a contact whose
    peak lies outside ``own`` is kept only with a flight on both sides, and a contact inside
    keeps the limits of its own bout. Quality: 1 with a flight on both sides, 0.5 on one, 0.25
    on none.
    """
    peaks, _ = find_peaks(xs, distance=max(1, int(p.min_step_s * fs)),
                          prominence=p.run_peak_prominence_g, height=p.core_g)
    b = _bout_of(peaks, bouts)
    ok = (b < bouts.label.size)
    peaks, b = peaks[ok], b[ok]
    ok = (bouts.label[b] == RUN) & (peaks >= bouts.start_idx[b])
    peaks, b = peaks[ok], b[ok]
    if peaks.size == 0:
        z = np.zeros(0)
        return z, z, z
    half = int(p.max_step_s * fs / 2)
    bs, be = bouts.start_idx[b], bouts.end_idx[b]
    in_own = np.ones(peaks.size, dtype=bool) if own is None else _inside(peaks, own, RUN)
    if own is not None and own.label.size:
        bo = np.minimum(_bout_of(peaks, own), own.label.size - 1)
        bs = np.where(in_own, own.start_idx[bo], bs)
        be = np.where(in_own, own.end_idx[bo], be)
    linked = (b[1:] == b[:-1]) & ((peaks[1:] - peaks[:-1]) <= p.max_step_s * fs)
    # each contact lies between the flight minima (of the 4 Hz signal: a soft-tissue dip after the
    # impact can fall below the flight level at 20 Hz) before and after its peak: between
    # two linked peaks, and within half the longest step of the peak at a chain end
    lo = np.maximum(bs, peaks - half)
    lo[1:][linked] = peaks[:-1][linked]
    hi = np.minimum(be, peaks + half)
    hi[:-1][linked] = peaks[1:][linked]
    left = argmin_between(xs, np.minimum(lo, peaks - 1), peaks)
    right = argmin_between(xs, peaks, np.maximum(hi, peaks + 1))
    core = np.flatnonzero(x >= p.core_g)
    up, dn = crossings(x, p.contact_threshold_g)
    q = np.ones(peaks.size)
    # core of each contact: first/last core sample between its boundaries
    ci = np.searchsorted(core, left)
    cs = core[np.minimum(ci, core.size - 1)] if core.size else left
    ce_i = np.searchsorted(core, right, side="right") - 1
    ce = core[np.maximum(ce_i, 0)] if core.size else right
    has_core = (ci < core.size) & (ce_i >= 0) & (cs <= right) & (ce >= left) & (cs <= ce)
    iu = np.searchsorted(up, cs) - 1
    ic = np.where(iu >= 0, up[np.maximum(iu, 0)] if up.size else np.nan, np.nan)
    ic_ok = np.isfinite(ic) & (ic >= left)
    idn = np.searchsorted(dn, ce)
    to = np.where(idn < dn.size, dn[np.minimum(idn, dn.size - 1)] if dn.size else np.nan, np.nan)
    to_ok = np.isfinite(to) & (to <= right)
    # refine each edge by the tangent method: the tangent at the edge's steepest point, between
    # the threshold crossing and the core, continued to the force-onset level
    # (edges not found are given a one-sample interval: nothing to refine, nothing gathered)
    ic_a = np.where(ic_ok, np.nan_to_num(ic), cs - 1.0)
    to_b = np.where(to_ok, np.nan_to_num(to), ce + 1.0)
    # the tangent is taken where the rise through the crossing is steepest: climb the slope from
    # the crossing to its nearest peak (an impact transient's or a forefoot shoulder's rise, not a
    # steeper active rise that follows a pause or a dip)
    j = _slope_peak_at(x, np.floor(ic_a).astype(np.int64), p.onset_g)
    steep = _steepest(x, ic_a, cs.astype(np.float64), rising=True)
    dx = np.diff(x)
    j = np.where(dx[j] >= p.first_rise_frac * dx[steep], j, steep)  # else a bump in flight
    ic = np.where(ic_ok, _tangent_onset(x, j.astype(np.float64), (j + 1).astype(np.float64), fs, p, rising=True), ic)
    to = np.where(to_ok, _tangent_onset(x, ce.astype(np.float64), to_b, fs, p, rising=False), to)
    ic = np.maximum(ic, left)
    to = np.minimum(to, right)
    # no flight below the threshold before/after a contact (very slow running, or the step from
    # or into walking): the edge is the steepest rise from the minimum before it to the core
    # (the steepest fall from the core to the minimum after it); a contact cut by the start or
    # end of a bout is dropped, not invented
    linked_left = np.concatenate([[False], linked])
    linked_right = np.concatenate([linked, [False]])
    ic = np.where(ic_ok, ic, _steepest(x, left.astype(np.float64), cs.astype(np.float64), rising=True) + 0.5)
    to = np.where(to_ok, to, _steepest(x, ce.astype(np.float64), right.astype(np.float64), rising=False) + 0.5)
    q = np.where(ic_ok & to_ok, q, np.where(ic_ok | to_ok, 0.5, 0.25))
    keep = has_core & (ic_ok | linked_left) & (to_ok | linked_right) & (in_own | (ic_ok & to_ok))
    return ic[keep], to[keep], q[keep]


def _slope_peak_at(x: F64, i: I64, floor_g: float) -> I64:
    """Index j of the local maximum of the slope ``x[j + 1] - x[j]`` nearest each rising index ``i``.

    The next one while the slope still grows at ``i``, else the last one since ``x`` was below
    ``floor_g`` (else ``i`` itself).
    """
    dx = np.diff(x)
    if dx.size < 3 or i.size == 0:
        return np.clip(i, 0, max(dx.size - 1, 0))
    i = np.clip(i, 1, dx.size - 2)
    peaks = np.flatnonzero((dx[1:-1] > dx[:-2]) & (dx[1:-1] >= dx[2:])) + 1
    if peaks.size == 0:
        return i
    k = np.searchsorted(peaks, i)
    nxt = peaks[np.minimum(k, peaks.size - 1)]
    prev = peaks[np.maximum(k - 1, 0)]
    low = np.flatnonzero(x < floor_g)
    li = np.searchsorted(low, i) - 1
    rise_start = np.where(li >= 0, low[np.maximum(li, 0)] if low.size else -1, -1)
    growing = dx[i] > dx[i - 1]
    return np.where(growing & (k < peaks.size), nxt, np.where((k > 0) & (prev > rise_start), prev, i))


def _steepest(x: F64, a: F64, b: F64, *, rising: bool) -> I64:
    """Index j of the steepest rise (fall) x[j] -> x[j + 1] between positions ``a`` and ``b``."""
    n = x.size
    if n < 2 or np.size(a) == 0:
        return np.zeros(np.size(a), dtype=np.int64)
    dx = np.diff(x)
    lo = np.clip(np.floor(a).astype(np.int64), 0, n - 2)
    hi = np.maximum(np.clip(np.ceil(b).astype(np.int64), 1, n - 1), lo + 1)
    return argmin_between(-dx if rising else dx, lo, hi)


def _tangent_onset(x: F64, a: F64, b: F64, fs: float, p: EventParams, *, rising: bool) -> F64:
    """Onset/offset of each edge by the tangent method.

    For each edge between positions ``a`` and ``b`` (samples; the threshold crossing and the
    core, in time order), take the steepest step of ``x`` there and continue its tangent to
    ``onset_g``. Edges flatter than ``min_edge_slope_g_per_s`` keep the crossing (``a`` when
    rising, ``b`` when falling). Returns fractional sample positions.
    """
    if x.size < 2 or np.size(a) == 0:
        return np.asarray(a if rising else b, dtype=np.float64)
    j = _steepest(x, a, b, rising=rising)
    slope = x[j + 1] - x[j] if rising else x[j] - x[j + 1]  # g per sample, > 0 on a real edge
    mid = 0.5 * (x[j] + x[j + 1])
    run = (mid - p.onset_g) / np.maximum(slope, 1e-12)
    pos = j + 0.5 - run if rising else j + 0.5 + run
    keep = np.asarray(a if rising else b, dtype=np.float64)
    return np.where(slope * fs >= p.min_edge_slope_g_per_s, pos, keep)


def _walking_contacts(x: F64, bouts: Bouts, fs: float, p: EventParams,
                      own: Bouts | None = None) -> tuple[F64, F64, F64]:
    """IC, TO and quality of walking steps from the 20 Hz vertical specific force ``x`` (g).

    ``bouts`` may reach beyond the walking bouts ``own`` (one each, in order; see
    :func:`_extended`): missed steps are refilled only inside ``own``, from its own rhythm.
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
    bout = _bout_of(ic, bouts)
    nxt = np.append(ic[1:], -1)
    same = np.append(bout[1:] == bout[:-1], False) & (nxt - ic <= p.max_step_s * fs)
    j = np.searchsorted(fc, nxt, side="right")
    cand = fc[np.minimum(j, fc.size - 1)] if fc.size else nxt
    ok = same & (j < fc.size) & (cand - nxt <= p.max_step_s * fs) & (_bout_of(cand, bouts) == bout)
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


def detect_steps(vertical_g: F64, *, fs_hz: float, bounds: I64, bouts: Bouts,
                 params: EventParams = EventParams()) -> Steps:
    """Find every foot contact in walking and running bouts (foot not yet assigned).

    Parameters
    ----------
    vertical_g : (N,) gravity-aligned vertical specific force of the sacrum (g), incl. gravity.
    """
    x = lowpass(vertical_g, params.lowpass_hz, fs_hz, bounds)
    # one peak per contact at < 4 Hz: find it on a decimated signal (~50 Hz), then back
    dec = step_to_50hz(fs_hz)
    xs = np.repeat(lowpass(vertical_g[::dec], params.step_lowpass_hz, fs_hz / dec, decimated_bounds(bounds, dec)),
                   dec)[: vertical_g.size]
    # the activity vote smears a run/walk change by up to half its window: each detector also
    # looks that far into the neighbouring bout of the other gait
    edge = round(params.bout_edge_s * fs_hz)
    ric, rto, rq = _running_contacts(x, xs, _extended(bouts, RUN, WALK, edge, bounds), fs_hz, params,
                                     own=bouts)
    wic, wto, wq = _walking_contacts(x, _extended(bouts, WALK, RUN, edge, bounds), fs_hz, params, own=bouts)
    ic = np.concatenate([ric, wic])
    order = np.argsort(ic, kind="stable")
    ic = ic[order]
    to = np.concatenate([rto, wto])[order]
    act = np.concatenate([np.full(ric.size, RUN, np.int8), np.full(wic.size, WALK, np.int8)])[order]
    q = np.concatenate([rq, wq])[order]
    # one contact seen by both detectors (closer than the shortest step, same segment): the
    # running one wins if it has a flight on at least one side, else the walking one; of two of
    # a kind, the first
    seg = np.searchsorted(bounds, ic, side="right")
    close = (np.diff(ic) < params.min_step_s * fs_hz) & (seg[1:] == seg[:-1])
    run = (act == RUN) & (q >= 0.5)
    walk = act == WALK
    keep_second = (walk[:-1] & run[1:]) | ((act[:-1] == RUN) & ~run[:-1] & walk[1:])
    drop = np.zeros(ic.size, dtype=bool)
    drop[1:] |= close & ~keep_second
    drop[:-1] |= close & keep_second
    ic, to, act, q = ic[~drop], to[~drop], act[~drop], q[~drop]
    chain = _chains(ic, act, fs_hz, bounds, bouts, params)
    return Steps(ic_pos=ic, to_pos=to, activity=act, chain=chain,
                 foot=np.full(ic.size, UNKNOWN, np.int8), quality=q)


def _extended(bouts: Bouts, label: int, into: int, edge: int, bounds: I64) -> Bouts:
    """The bouts of ``label`` only, each grown into adjacent bouts of ``into``.

    Each end grows by up to ``edge`` samples, at most half of the neighbouring bout (two grown
    bouts never meet), and never across a segment bound in ``bounds`` (a gap).
    """
    sel = np.flatnonzero(bouts.label == label)
    start, end = bouts.start_idx[sel].copy(), bouts.end_idx[sel].copy()
    n = bouts.label.size
    half = (bouts.end_idx - bouts.start_idx) // 2
    prev, nxt = sel - 1, sel + 1
    grow_l = (prev >= 0) & (bouts.label[np.maximum(prev, 0)] == into)
    grow_l &= (bouts.end_idx[np.maximum(prev, 0)] == start) & ~np.isin(start, bounds)
    grow_r = (nxt < n) & (bouts.label[np.minimum(nxt, n - 1)] == into)
    grow_r &= (bouts.start_idx[np.minimum(nxt, n - 1)] == end) & ~np.isin(end, bounds)
    start = np.where(grow_l, start - np.minimum(edge, half[np.maximum(prev, 0)]), start)
    end = np.where(grow_r, end + np.minimum(edge, half[np.minimum(nxt, n - 1)]), end)
    return Bouts(start_idx=start, end_idx=end, label=np.full(sel.size, label, np.int8))


def _inside(pos: F64, bouts: Bouts, label: int) -> npt.NDArray[np.bool_]:
    """True where a fractional sample position lies inside a bout of ``label``."""
    b = np.minimum(_bout_of(pos.astype(np.int64), bouts), bouts.label.size - 1)
    return (bouts.label[b] == label) & (pos >= bouts.start_idx[b]) if b.size else np.zeros(0, bool)


def _chains(ic: F64, act: npt.NDArray[np.int8], fs: float, bounds: I64, bouts: Bouts,
            p: EventParams) -> I64:
    """Chain id per step: a new chain at a bout or segment change, or an interval that is too
    long (a missed step or a stop) — alternation is only trusted inside a chain.
    """
    if ic.size == 0:
        return np.zeros(0, dtype=np.int64)
    icr = ic.astype(np.int64)
    seg = np.searchsorted(bounds, icr, side="right")
    bout = _bout_of(icr, bouts)
    dt = np.diff(ic) / fs
    med = _running_median(dt, 15) if dt.size else dt
    brk = (seg[1:] != seg[:-1]) | (bout[1:] != bout[:-1]) | (act[1:] != act[:-1])
    brk |= (dt > p.max_step_s) | (dt > 1.6 * med) | (dt < 0.6 * med)  # missed or extra step
    return np.concatenate([[0], np.cumsum(brk)]).astype(np.int64)


def _running_median(x: F64, k: int) -> F64:
    from scipy.ndimage import median_filter

    return np.asarray(median_filter(x, size=min(k, max(1, x.size)), mode="nearest"), dtype=np.float64)


def assign_feet(steps: Steps, cue: F64) -> Steps:
    """Give each step a foot: alternate inside each chain, with the parity that agrees best with
    ``cue`` (S,) — positive evidence means RIGHT. Quality drops where the chain's vote is weak.
    """
    n = steps.n
    if n == 0:
        return steps
    cue = np.nan_to_num(np.asarray(cue, dtype=np.float64))
    chain = steps.chain
    starts = np.flatnonzero(np.concatenate([[True], chain[1:] != chain[:-1]]))
    pos = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    alt = np.where(pos % 2 == 0, 1.0, -1.0)  # +1: same foot as the chain's first step
    vote = np.add.reduceat(cue * alt, starts)  # > 0: first step is RIGHT
    strength = np.add.reduceat(np.abs(cue), starts)
    first_right = np.repeat(vote > 0, np.diff(np.append(starts, n)))
    is_right = np.where(alt > 0, first_right, ~first_right)
    foot = np.where(is_right, RIGHT, LEFT).astype(np.int8)
    conf = np.repeat(np.abs(vote) / np.maximum(strength, 1e-12), np.diff(np.append(starts, n)))
    foot[np.repeat(strength, np.diff(np.append(starts, n))) == 0] = UNKNOWN
    q = steps.quality * (0.5 + 0.5 * np.clip(conf, 0.0, 1.0))
    return Steps(ic_pos=steps.ic_pos, to_pos=steps.to_pos, activity=steps.activity,
                 chain=steps.chain, foot=foot, quality=q)
