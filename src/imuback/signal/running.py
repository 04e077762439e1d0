"""Running contacts: initial contact (IC) and toe-off (TO) from the sacrum's vertical specific force.

vGRF equals the CoM's vertical specific force (in BW), so a contact is a hump that rises from ~0 g
(flight, free fall) through 1 g (body weight) and back. Each hump is found once in a 4 Hz signal;
its core (> ``core_g``) anchors it, so bumps in flight are never taken for contacts; the last
up-crossing of ``contact_threshold_g`` before the core and the first down-crossing after it
bracket the edges (vertical-threshold methods, Lee 2010; Patoz 2022). Each edge is then located
by the tangent method: the tangent at its steepest point, continued to the force-onset level
(50 N ≈ 0.066 BW).

Toe-off: at push-off the sacrum lags the centre of mass (its signal stays above the force for
tens of ms, more uphill), so the tail of the signal places TO badly. The spring-mass model
(Blickhan 1989; Morin 2005) gives the vertical force over a contact as a half-sine,
``F(t) = F_max sin(pi t / t_c)``, 0 at IC and TO. Where it falls back through body weight (1 g, at
``t_d`` after IC) ``sin(pi t_d / t_c) = 1 / F_max``, so ``t_c = t_d / (1 - asin(1 / F_max) / pi)``:
the contact time follows from IC, the peak and the 1 g fall of the low-passed signal (its
mid-level, steep and clear of the tail), with no constant fitted to data.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import find_peaks

from imuback.signal.activity import RUN, WALK, Bouts
from imuback.signal.dsp import argmin_between, argmin_between_held, crossings
from imuback.signal.params import EventParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def running_contacts(x: F64, xs_d: F64, dec: int, bouts: Bouts, fs: float, p: EventParams,
                      own: Bouts | None = None, xm_d: F64 | None = None) -> tuple[F64, F64, F64]:
    """IC, TO (fractional positions) and quality of running contacts; x is the 20 Hz signal,
    ``xs_d`` the 4 Hz one at every ``dec``-th sample (one peak per contact), ``xm_d`` the
    ``p.run_to_lowpass_hz`` one as block means of ``dec`` samples (spring-mass TO; None: tangent TO).

    ``bouts`` may reach beyond the running bouts ``own`` (see :meth:`Bouts.extended`): a contact
    whose peak lies outside ``own`` is kept only with a flight on both sides, and a contact inside
    keeps the limits of its own bout. Quality: 1 with a flight on both sides, 0.5 on one, 0.25
    on none.
    """
    peak_d, _ = find_peaks(xs_d, distance=max(1, -(-int(p.min_step_s * fs) // dec)),
                           prominence=p.run_peak_prominence_g, height=p.core_g)
    peaks: I64 = np.minimum(np.asarray(peak_d, np.int64) * dec + (dec - 1) // 2, x.size - 1)  # its block's middle
    b = bouts.index_of(peaks)
    ok = (b < bouts.label.size)
    peaks, b = peaks[ok], b[ok]
    ok = (bouts.label[b] == RUN) & (peaks >= bouts.start_idx[b])
    peaks, b = peaks[ok], b[ok]
    if peaks.size == 0:
        z = np.zeros(0)
        return z, z, z
    half = int(p.max_step_s * fs / 2)
    bs, be = bouts.start_idx[b], bouts.end_idx[b]
    in_own = np.ones(peaks.size, dtype=bool) if own is None else own.contains(peaks, RUN)
    if own is not None and own.label.size:
        bo = np.minimum(own.index_of(peaks), own.label.size - 1)
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
    left = argmin_between_held(xs_d, dec, np.minimum(lo, peaks - 1), peaks)
    right = argmin_between_held(xs_d, dec, peaks, np.maximum(hi, peaks + 1))
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
    dx = np.diff(x)
    neg_dx = -dx  # its minima are the steepest rises
    j = _slope_peak_at(x, dx, np.floor(ic_a).astype(np.int64), p.onset_g)
    steep = _steepest(neg_dx, ic_a, cs.astype(np.float64))
    j = np.where(dx[j] >= p.first_rise_frac * dx[steep], j, steep)  # else a bump in flight
    ic = np.where(ic_ok, _tangent_onset(x, j, fs, p, rising=True, flat=j.astype(np.float64)), ic)
    j_to = _steepest(dx, ce.astype(np.float64), to_b)
    to = np.where(to_ok, _tangent_onset(x, j_to, fs, p, rising=False, flat=to_b), to)
    ic = np.maximum(ic, left)
    if xm_d is not None:
        ok = ic_ok & to_ok
        to[ok] = _spring_mass_to(xm_d, dec, ic[ok], to[ok], np.asarray(right[ok], np.float64))
    to = np.minimum(to, right)
    # no flight below the threshold before/after a contact (very slow running, or the step from
    # or into walking): the edge is the steepest rise from the minimum before it to its peak (the
    # steepest fall from the peak to the minimum after it), the impact or loading rise. Not to
    # its core: the walking waveform before a first running step already lies above 1 g, and the
    # IC went onto the walk; a contact cut by the start or end of a bout is dropped, not invented
    linked_left = np.concatenate([[False], linked])
    linked_right = np.concatenate([linked, [False]])
    no_ic, no_to = ~ic_ok, ~to_ok  # few: only those edges are searched
    ic[no_ic] = _steepest(neg_dx, left[no_ic].astype(np.float64), peaks[no_ic].astype(np.float64)) + 0.5
    to[no_to] = _steepest(dx, peaks[no_to].astype(np.float64), right[no_to].astype(np.float64)) + 0.5
    q = np.where(ic_ok & to_ok, q, np.where(ic_ok | to_ok, 0.5, 0.25))
    # the first contact of a running bout entered straight from walking (no gap between) is not
    # cut by the bout start: the walk before it is recorded, it only lacks a flight before it
    # (it pushes off into the first flight). The mirror case is not a running contact: the step
    # that lands from the last flight and ends in double support is the first walking step.
    from_walk = _from_walk(own, peaks, in_own)
    keep = (has_core & (ic_ok | linked_left | (from_walk & to_ok & linked_right))
            & (to_ok | linked_right) & (in_own | (ic_ok & to_ok)))
    return ic[keep], to[keep], q[keep]


def _spring_mass_to(xm_d: F64, dec: int, ic: F64, to: F64, right: F64) -> F64:
    """TO of contacts with both edges found, from the half-sine spring-mass model (module doc).

    ``xm_d``: the low-passed vertical specific force (g) as means of blocks of ``dec`` samples
    (block ``k`` centred on sample ``k dec + (dec - 1) / 2``); ``ic``, ``to`` (the tangent TO) and
    ``right`` (the contact's last possible sample) in full-rate positions. The peak is read
    between IC and the tangent TO; a contact whose low-passed peak stays under 1 g, or that has no
    1 g fall before ``right``, keeps its tangent TO.
    """
    if ic.size == 0 or xm_d.size < 2:
        return to
    c = (dec - 1) / 2.0
    a = np.clip(np.ceil((ic - c) / dec).astype(np.int64), 0, xm_d.size - 1)
    b = np.clip(np.floor((to - c) / dec).astype(np.int64) + 1, a + 1, xm_d.size)
    pk = argmin_between(-xm_d, a, b)
    f_max = xm_d[pk]
    _, dn = crossings(xm_d, 1.0)
    j = np.searchsorted(dn, pk)
    t_d = dn[np.minimum(j, max(dn.size - 1, 0))] * dec + c if dn.size else np.full(ic.size, np.inf)
    ok = (f_max > 1.0) & (j < dn.size) & (t_d <= right) & (t_d > ic)
    t_c = (t_d - ic) / (1.0 - np.arcsin(1.0 / np.maximum(f_max, 1.0)) / np.pi)
    return np.where(ok, ic + t_c, to)


def _from_walk(own: Bouts | None, peaks: I64, in_own: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Per peak inside its own running bout: whether that bout directly follows a walking bout
    (no gap at the change).
    """
    if own is None or own.label.size < 2:
        return np.zeros(peaks.size, dtype=bool)
    bo = np.minimum(own.index_of(peaks), own.label.size - 1)
    prev = np.maximum(bo - 1, 0)
    return np.asarray(in_own & (bo > 0) & (own.label[prev] == WALK) & (own.end_idx[prev] == own.start_idx[bo]),
                      dtype=bool)


def _slope_peak_at(x: F64, dx: F64, i: I64, floor_g: float) -> I64:
    """Index j of the local maximum of the slope ``dx[j] = x[j + 1] - x[j]`` nearest each rising
    index ``i``.

    The next one while the slope still grows at ``i``, else the last one since ``x`` was below
    ``floor_g`` (else ``i`` itself).
    """
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


def _steepest(d: F64, a: F64, b: F64) -> I64:
    """Index j of the minimum of the slope signal ``d`` between positions ``a`` and ``b``: with
    ``d = -diff(x)`` the steepest rise ``x[j] -> x[j + 1]``, with ``d = diff(x)`` the steepest fall.
    """
    n = d.size + 1
    if n < 2 or np.size(a) == 0:
        return np.zeros(np.size(a), dtype=np.int64)
    lo = np.clip(np.floor(a).astype(np.int64), 0, n - 2)
    hi = np.maximum(np.clip(np.ceil(b).astype(np.int64), 1, n - 1), lo + 1)
    return argmin_between(d, lo, hi)


def _tangent_onset(x: F64, j: I64, fs: float, p: EventParams, *, rising: bool, flat: F64) -> F64:
    """Onset (offset) of each edge by the tangent method: the tangent at its steepest step
    ``x[j] -> x[j + 1]`` continued to ``onset_g``. Edges flatter than ``min_edge_slope_g_per_s``
    keep ``flat``. Returns fractional sample positions.
    """
    if x.size < 2 or j.size == 0:
        return np.asarray(flat, dtype=np.float64)
    slope = x[j + 1] - x[j] if rising else x[j] - x[j + 1]  # g per sample, > 0 on a real edge
    mid = 0.5 * (x[j] + x[j + 1])
    run = (mid - p.onset_g) / np.maximum(slope, 1e-12)
    pos = j + 0.5 - run if rising else j + 0.5 + run
    return np.where(slope * fs >= p.min_edge_slope_g_per_s, pos, flat)
