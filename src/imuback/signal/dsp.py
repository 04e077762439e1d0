"""Small vectorized helpers shared by the signal stages (filters per segment, interval reductions)."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, lfilter, lfilter_zi, sosfiltfilt

from imuback.errors import SignalError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _filtfilt_segments(sos: F64, x: npt.ArrayLike, bounds: I64, padlen: int) -> F64:
    """``sosfiltfilt`` along axis 0, per segment (never across a gap)."""
    x = np.asarray(x, dtype=np.float64)
    one_section = sos.shape[0] == 1 and x.ndim == 1

    def filtered(seg: F64) -> F64:
        pad = min(padlen, max(seg.shape[0] - 1, 0))
        if seg.shape[0] <= 1:
            return seg
        if one_section:
            return _filtfilt_biquad(sos[0], seg, pad)
        return np.asarray(sosfiltfilt(sos, seg, axis=0, padlen=pad), dtype=np.float64)

    if x.ndim == 1 and len(bounds) == 2 and bounds[0] == 0 and bounds[1] == x.size > 1:
        # one segment, the whole signal: the output is made from the result, not held empty
        # while filtering (a full-rate array less at the peak of a long session)
        return np.ascontiguousarray(filtered(x))
    out = np.empty_like(x)
    for a, b in itertools.pairwise(bounds):  # loop over segments (few), not samples
        out[a:b] = filtered(x[a:b])
    return out


def _filtfilt_biquad(section: F64, x: F64, pad: int) -> F64:
    """``sosfiltfilt`` of one second-order section (odd extension by ``pad`` samples, steady-state
    start), run with ``lfilter``: the same result (to ~1e-15) about a fifth faster.
    """
    b, a = section[:3], section[3:]
    zi = lfilter_zi(b, a)
    if not pad:
        y, _ = lfilter(b, a, x, zi=zi * x[0])
        y = y[::-1]
        y, _ = lfilter(b, a, y, zi=zi * y[0])
        return np.asarray(y[::-1], dtype=np.float64)
    # the extended signal [head, x, tail] is filtered piece by piece, each piece starting from
    # the state the previous one ended in: the same recursion, sample for sample, as over their
    # concatenation, without copying x into it. The backward pass stops at x's first sample (the
    # head's part of it is cut off).
    head = 2.0 * x[0] - x[pad:0:-1]
    tail = 2.0 * x[-1] - x[-2:-pad - 2:-1]
    _, z = lfilter(b, a, head, zi=zi * head[0])
    y, z = lfilter(b, a, x, zi=z)
    y_tail, _ = lfilter(b, a, tail, zi=z)
    y_tail = y_tail[::-1]
    _, z = lfilter(b, a, y_tail, zi=zi * y_tail[0])
    y, _ = lfilter(b, a, y[::-1], zi=z)
    return np.asarray(y[::-1], dtype=np.float64)


def step_to_50hz(fs_hz: float) -> int:
    """Sample step that brings ``fs_hz`` down to about 50 Hz (at least 1): plenty for features that
    change over strides or seconds (below ~10 Hz).
    """
    return max(1, int(fs_hz // 50))


def decimated_bounds(bounds: I64, q: int) -> I64:
    """Segment bounds of ``signal[::q]``."""
    return np.asarray(-(-bounds // q), dtype=np.int64)


@functools.lru_cache(maxsize=64)
def butter_sos(order: int, wn: tuple[float, ...], btype: str) -> F64:
    """A Butterworth design (second-order sections), kept: designing one costs ~1 ms. Read-only:
    callers take a copy (scipy's filters want a writable one).
    """
    sos = np.asarray(butter(order, list(wn) if len(wn) > 1 else wn[0], btype=btype, output="sos"), dtype=np.float64)
    sos.flags.writeable = False
    return sos


def lowpass(x: npt.ArrayLike, cutoff_hz: float, fs_hz: float, bounds: I64, order: int = 2) -> F64:
    """Zero-phase Butterworth low-pass along axis 0, applied per segment (never across a gap)."""
    sos = butter_sos(order, (min(cutoff_hz / (fs_hz / 2.0), 0.99),), "lowpass").copy()
    return _filtfilt_segments(sos, x, bounds, 3 * (2 * order + 1))


def bandpass(x: npt.ArrayLike, low_hz: float, high_hz: float, fs_hz: float, bounds: I64,
             order: int = 4) -> F64:
    """Zero-phase Butterworth band-pass along axis 0, applied per segment (never across a gap)."""
    sos = butter_sos(order, (low_hz / (fs_hz / 2.0), min(high_hz / (fs_hz / 2.0), 0.99)), "bandpass").copy()
    return _filtfilt_segments(sos, x, bounds, 3 * (4 * order + 1))


def interval_indices(starts: I64, ends: I64) -> tuple[I64, I64]:
    """Concatenated sample indices of the intervals ``[starts[i], ends[i])`` and their lengths."""
    lengths = np.maximum(ends - starts, 0)
    idx = np.arange(lengths.sum())
    idx += np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)  # each interval's shift
    return idx, lengths


def interval_mask(starts: I64, ends: I64, n: int) -> npt.NDArray[np.bool_]:
    """(n,) True inside any of the intervals ``[starts[i], ends[i])`` (clipped to ``[0, n)``),
    built from runs (the merged intervals and the gaps between them), not from their samples.
    """
    s = np.clip(starts, 0, n)
    e = np.clip(ends, 0, n)
    ok = e > s
    s, e = s[ok], e[ok]
    if s.size == 0:
        return np.zeros(n, dtype=bool)
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    new = np.concatenate([[True], s[1:] > np.maximum.accumulate(e)[:-1]])  # starts a merged run
    first = np.flatnonzero(new)
    edges = np.empty(2 * first.size + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, n
    edges[1:-1:2] = s[first]
    edges[2:-1:2] = np.maximum.reduceat(e, first)
    inside = np.zeros(edges.size - 1, dtype=bool)
    inside[1::2] = True  # out, in, out, ..., in, out
    return np.repeat(inside, np.diff(edges))


def argmin_between(x: F64, starts: I64, ends: I64) -> I64:
    """Index of the (first) minimum of ``x`` in each non-empty interval ``[starts[i], ends[i])``."""
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    idx, lengths = interval_indices(starts, ends)
    first = np.cumsum(lengths) - lengths
    vals = x[idx]
    hit = np.flatnonzero(vals == np.repeat(np.minimum.reduceat(vals, first), lengths))
    # the first hit at or after each interval's first sample belongs to that interval
    return np.asarray(idx[hit[np.searchsorted(hit, first)]], dtype=np.int64)


def prefix_sum(x: npt.ArrayLike) -> F64:
    """(N + 1,) running sum of ``x`` (N,) from 0: the sum over ``[s, e)`` is ``c[e] - c[s]``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.size + 1)
    out[0] = 0.0
    np.cumsum(x, out=out[1:])
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class IntervalReadings:
    """Where to read a running integral inside each interval: at its exact start and end
    (fractional sample positions) and at every ``q``-th sample between — enough for what changes
    over steps and strides (angles, velocities, displacements), without gathering every sample.
    Build with :func:`interval_readings`.

    Attributes
    ----------
    pos : (M,) sample positions, concatenated interval by interval.
    lengths : (I,) readings per interval (at least 2: its start and end).
    first : (I,) index of each interval's first reading.
    """

    pos: F64
    lengths: I64
    first: I64
    _at: I64
    """(M,) index into a prefix sum just below each reading."""
    _w: F64
    """(M,) linear interpolation weight of the index above."""
    _chord: F64 | None
    """(M,) fraction of the interval's duration elapsed at each reading (None: not built)."""
    _block: I64
    """(M,) index into :func:`block_middles` of each reading between an interval's ends."""
    _ends: I64
    """(2 I,) indices of the readings at the intervals' ends (first, then last)."""
    _on_blocks: bool
    """Every reading between the ends is a block middle (the intervals lie inside the signal)."""

    def read(self, c: F64, middles: F64 | None = None) -> F64:
        """Values of a :func:`prefix_sum` ``c`` (N + 1,) at the readings (linear interpolation;
        ``c[i]`` is the sum up to the middle between samples i - 1 and i).

        ``middles`` = ``block_middles(c, q)``, when given, serves the readings between the ends
        (the same values): worth it when many overlapping intervals read one ``c``.
        """
        if middles is not None and self._on_blocks:
            out = middles[self._block]
            at = self._at[self._ends]
            hi = c[1:][at]
            lo = c[at]
            hi -= lo
            hi *= self._w[self._ends]
            hi += lo
            out[self._ends] = hi
            return np.asarray(out, dtype=np.float64)
        lo = c[self._at]
        out = c[1:][self._at]  # c[at + 1], without an index array for at + 1
        out -= lo
        out *= self._w
        out += lo
        return np.asarray(out, dtype=np.float64)

    def minus_chord(self, vals: F64) -> F64:
        """``vals`` (M,) minus, per interval, the line through its first and last reading (for a
        running integral of a periodic quantity, that line is the integration drift).
        """
        if self._chord is None:
            raise SignalError("these readings were built with chord=False: no chord to remove")
        v0 = vals[self.first]
        rise = vals[self.first + self.lengths - 1] - v0
        out = np.repeat(v0, self.lengths)
        np.subtract(vals, out, out=out)
        drift = np.repeat(rise, self.lengths)
        drift *= self._chord
        out -= drift
        return np.asarray(out, dtype=np.float64)

    def range(self, vals: F64) -> F64:
        """(I,) max - min of ``vals`` (M,) per interval. Read at ~50 Hz, a swing at 2.8 Hz (a
        running step) comes out at most 1.5 % short, at 1.4 Hz (a stride) 0.4 %.
        """
        if self.lengths.size == 0:
            return np.zeros(0)
        return np.asarray(np.maximum.reduceat(vals, self.first) - np.minimum.reduceat(vals, self.first),
                          dtype=np.float64)

    def excursion(self, vel: F64, disp: F64, fs_hz: float,
                  middles: tuple[F64, F64] | None = None) -> F64:
        """(I,) range of the displacement over each interval, periodic over it.

        ``vel`` (N + 1,) is a running velocity integral (:func:`prefix_sum` of an acceleration /
        fs) and ``disp`` (N + 1,) the running integral of ``vel`` (``prefix_sum(vel[:-1]) / fs``).
        Over each interval the velocity's chord (integration drift: bias, unknown start) and then
        its mean are removed, so the displacement returns to its start; done in closed form on
        the readings of the two running integrals, exact to the full-rate rectangle rule.
        ``middles``: :func:`block_middles` of ``vel`` and ``disp`` (see :meth:`read`).
        """
        if self.lengths.size == 0:
            return np.zeros(0)
        mv, md = middles if middles is not None else (None, None)
        v, d = self.read(vel, mv), self.read(disp, md)
        first, last, n = self.first, self.first + self.lengths - 1, self.lengths
        span = np.maximum(self.pos[last] - self.pos[first], 1e-9) / fs_hz  # > 0 even for a degenerate interval
        tau = self.pos - np.repeat(self.pos[first], n)
        tau /= fs_hz
        va, vb, da = v[first], v[last], d[first]
        mean_u = (d[last] - da) / span - 0.5 * (va + vb)  # time-mean of velocity minus chord
        # x = d - da - tau (va + mean_u) - tau² (vb - va) / (2 span), term by term in place
        x = d
        x -= np.repeat(da, n)
        term = np.repeat(va + mean_u, n)
        term *= tau
        x -= term
        np.multiply(tau, tau, out=term)
        term *= np.repeat((vb - va) / (2.0 * span), n)
        x -= term
        return self.range(x)


def interval_readings(start: F64, end: F64, q: int, n: int, *, chord: bool = True) -> IntervalReadings:
    """Readings at the fractional sample positions ``start`` and ``end`` (I,) of each interval
    (end > start, inside ``n`` samples) and at the multiples of ``q`` strictly between them.
    ``chord=False`` skips what only :meth:`IntervalReadings.minus_chord` needs.
    """
    m0 = np.floor(start / q).astype(np.int64) + 1
    m1 = np.maximum(np.ceil(end / q).astype(np.int64), m0)  # multiples m0 .. m1 - 1 lie inside
    idx, lengths = interval_indices(m0 - 1, m1 + 1)  # one extra each side: the start and the end
    at = idx * q
    pos = at.astype(np.float64)
    first = np.cumsum(lengths) - lengths
    last = first + lengths - 1
    ends = np.concatenate([first, last])
    pos[ends] = np.concatenate([start, end])
    on_blocks = bool(start.size == 0 or (start.min() >= 0 and end.max() <= n - 1))
    # the prefix sum index just below each position + 0.5, and the weight of the one above
    if on_blocks:  # between the ends k*q exactly (inside the signal): weight 1/2
        w = np.full(pos.size, 0.5)
        p = pos[ends] + 0.5
        at[ends] = np.clip(np.floor(p).astype(np.int64), 0, max(n - 1, 0))
        w[ends] = p - at[ends]
    else:
        p = pos + 0.5
        at = np.clip(np.floor(p).astype(np.int64), 0, max(n - 1, 0))
        w = p - at
    elapsed = (pos - np.repeat(start, lengths)) / np.repeat(np.maximum(end - start, 1e-12), lengths) if chord else None
    idx[ends] = 0  # between the ends, reading k*q is block middle k; the ends are read from c
    return IntervalReadings(pos=pos, lengths=lengths, first=first, _at=at, _w=w, _chord=elapsed,
                            _block=idx, _ends=ends, _on_blocks=on_blocks)


def block_middles(c: F64, q: int) -> F64:
    """A :func:`prefix_sum` ``c`` (N + 1,) read at the sample positions 0, q, 2q, ... < N: what
    :meth:`IntervalReadings.read` gives there, bit for bit; ``(ceil(N / q),)``.
    """
    n = c.size - 1
    lo = c[0:n:q]
    out = c[1 : n + 1 : q] - lo
    out *= 0.5
    out += lo
    return np.asarray(out, dtype=np.float64)


def windows_around(pos: F64, half: int, bounds: I64) -> tuple[I64, I64]:
    """Merged sample windows ``[start, end)`` covering ``half`` samples either side of each
    fractional position ``pos``, each within its segment of ``bounds`` (never across a gap).
    """
    if pos.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    p = np.clip(np.round(pos).astype(np.int64), bounds[0], bounds[-1] - 1)
    seg = np.searchsorted(bounds, p, side="right") - 1
    order = np.argsort(p, kind="stable")
    p, seg = p[order], seg[order]
    s = np.maximum(p - half, bounds[seg])
    e = np.minimum(p + half + 1, bounds[seg + 1])
    reach = np.maximum.accumulate(e)
    new = np.concatenate([[True], (s[1:] > reach[:-1]) | (seg[1:] != seg[:-1])])
    first = np.flatnonzero(new)
    return s[first], np.maximum.reduceat(e, first)


def clipped_windows(x: F64, *, start_idx: I64, width: int, seg_start_idx: I64, seg_end_idx: I64) -> F64:
    """Windows of ``width`` samples of a 1-D signal, each held at the ends of its own segment.

    Row ``i`` is ``x[clip(start_idx[i] + j, seg_start_idx[i], seg_end_idx[i] - 1)]`` for ``j`` in
    ``[0, width)``: where a window reaches past its segment ``[seg_start_idx, seg_end_idx)``, it
    repeats the segment's first or last sample. The windows that lie inside their segment are
    copied from a sliding view of ``x`` (no (S, width) index array); only those that reach past it
    are gathered through clipped indices. The values are the same either way.

    Parameters
    ----------
    x : ndarray of float64, shape (N,)
        The signal.
    start_idx : ndarray of int64, shape (S,)
        Sample index of each window's first sample (may lie outside the signal).
    width : int
        Samples per window (at least 1).
    seg_start_idx, seg_end_idx : ndarray of int64, shape (S,)
        Each window's segment, ``[seg_start_idx, seg_end_idx)``: non-empty and inside the signal
        (``0 <= seg_start_idx < seg_end_idx <= N``).

    Returns
    -------
    ndarray, shape (S, width), of ``x``'s dtype
        A new array (a copy, not a view of ``x``).

    Raises
    ------
    SignalError
        If a segment is empty or reaches outside the signal.
    """
    n = x.shape[0]
    if start_idx.size and (np.any(seg_start_idx < 0) or np.any(seg_end_idx > n)
                           or np.any(seg_end_idx <= seg_start_idx)):
        raise SignalError(f"clipped_windows: every segment must be non-empty and inside the {n}-sample "
                          "signal (0 <= seg_start_idx < seg_end_idx <= N); fix the caller's segment bounds")
    last_idx = seg_end_idx - 1
    k = np.flatnonzero((start_idx < seg_start_idx) | (start_idx + (width - 1) > last_idx))
    if n >= width:
        # the rows reaching past their segment are read from anywhere valid, then overwritten
        out = np.lib.stride_tricks.sliding_window_view(x, width)[np.clip(start_idx, 0, n - width)]
    else:  # every window reaches past its segment
        out, k = np.empty((start_idx.size, width), dtype=x.dtype), np.arange(start_idx.size)
    if k.size:
        out[k] = x[np.clip(start_idx[k][:, None] + np.arange(width), seg_start_idx[k][:, None],
                           last_idx[k][:, None])]
    return out


def interp_at(x: F64, pos: npt.ArrayLike) -> F64:
    """``x`` (N,) at fractional sample positions ``pos`` by linear interpolation, as
    ``np.interp(pos, np.arange(N), x)`` but without the index array (clamped to the ends; NaN
    positions give NaN).
    """
    p = np.clip(np.asarray(pos, dtype=np.float64), 0.0, x.size - 1.0)
    i = np.clip(np.floor(np.nan_to_num(p)).astype(np.int64), 0, max(x.size - 2, 0))
    return np.asarray(x[i] + (p - i) * (x[np.minimum(i + 1, x.size - 1)] - x[i]), dtype=np.float64)


def argmin_between_held(x_d: F64, q: int, starts: I64, ends: I64) -> I64:
    """:func:`argmin_between` of ``np.repeat(x_d, q)`` (a ~50 Hz signal held over blocks of ``q``
    samples) without building it: sample index of the first minimum in each ``[starts, ends)``.
    """
    j = argmin_between(x_d, starts // q, (np.maximum(ends, starts + 1) - 1) // q + 1)
    return np.maximum(j * q, starts)


def interval_max(starts: I64, ends: I64, *signals: F64) -> list[F64]:
    """Maximum of each of ``signals`` (N,) over the intervals ``[starts[i], ends[i])`` (NaN where
    empty). Intervals in order that do not overlap (contacts, steps) are reduced in place, one
    pass along each signal; others gather the interval samples once for all signals.
    """
    out = [np.full(starts.size, np.nan) for _ in signals]
    ok = ends > starts
    if not ok.any():
        return out
    s, e = starts[ok], ends[ok]
    edges = np.empty(2 * s.size, dtype=np.int64)
    edges[0::2], edges[1::2] = s, e
    n = min(x.shape[0] for x in signals)
    if edges[0] >= 0 and edges[-1] <= n and bool(np.all(np.diff(edges) >= 0)):
        cut = edges if edges[-1] < n else edges[:-1]  # reduceat runs the last piece to the end
        for o, x in zip(out, signals, strict=True):
            o[ok] = np.maximum.reduceat(x[:n], cut)[0::2]
        return out
    idx, lengths = interval_indices(s, e)
    first = np.cumsum(lengths) - lengths
    for o, x in zip(out, signals, strict=True):
        o[ok] = np.maximum.reduceat(x[idx], first)
    return out


def crossings(x: F64, level: float) -> tuple[F64, F64]:
    """Fractional sample positions where ``x`` crosses ``level`` upward and downward.

    An up-crossing at position p lies between samples floor(p) and floor(p) + 1.
    """
    below = x < level
    up = np.flatnonzero(below[:-1] & ~below[1:])
    dn = np.flatnonzero(~below[:-1] & below[1:])
    fu = up + (level - x[up]) / np.where(x[up + 1] != x[up], x[up + 1] - x[up], 1.0)
    fd = dn + (x[dn] - level) / np.where(x[dn] != x[dn + 1], x[dn] - x[dn + 1], 1.0)
    return fu.astype(np.float64), fd.astype(np.float64)


def block_mean(x: F64, q: int) -> F64:
    """Mean of each block of ``q`` samples along axis 0 (a trailing partial block is dropped): a
    boxcar low-pass and decimation by ``q`` in one cheap pass, for features below ~fs / (4 q).
    """
    m = x.shape[0] // q * q
    if x.flags.c_contiguous:  # one pass over the blocks
        return np.asarray(np.einsum("ij...->i...", x[:m].reshape(m // q, q, *x.shape[1:])) / q, dtype=np.float64)
    # a strided view (e.g. every 4th row of a column-major array): a block's samples lie far
    # apart, so the sum runs over chunks of blocks that stay in cache for all ``q`` passes
    out = np.empty((m // q, *x.shape[1:]))
    step = _BLOCK_MEAN_CHUNK * q
    for a in range(0, m, step):  # over chunks (a few dozen per hour at 200 Hz), not samples
        b = min(a + step, m)
        o = out[a // q : b // q]
        o[...] = x[a:b:q]
        for i in range(1, q):  # over the block's samples (q ~ 4-8), not over the signal
            o += x[a + i : b : q]
    out /= q
    return out


_BLOCK_MEAN_CHUNK = 4096
"""Blocks summed together by :func:`block_mean` on a strided view (a few hundred KiB of it)."""
