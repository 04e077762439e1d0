"""Small vectorized helpers shared by the signal stages (filters per segment, interval reductions)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _filtfilt_segments(sos: F64, x: npt.ArrayLike, bounds: I64, padlen: int) -> F64:
    """``sosfiltfilt`` along axis 0, per segment (never across a gap)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for a, b in itertools.pairwise(bounds):  # loop over segments (few), not samples
        seg = x[a:b]
        pad = min(padlen, max(seg.shape[0] - 1, 0))
        out[a:b] = sosfiltfilt(sos, seg, axis=0, padlen=pad) if seg.shape[0] > 1 else seg
    return out


def step_to_50hz(fs_hz: float) -> int:
    """Sample step that brings ``fs_hz`` down to about 50 Hz (at least 1): plenty for features that
    change over strides or seconds (below ~10 Hz).
    """
    return max(1, int(fs_hz // 50))


def decimated_bounds(bounds: I64, q: int) -> I64:
    """Segment bounds of ``signal[::q]``."""
    return np.asarray(-(-bounds // q), dtype=np.int64)


def lowpass(x: npt.ArrayLike, cutoff_hz: float, fs_hz: float, bounds: I64, order: int = 2) -> F64:
    """Zero-phase Butterworth low-pass along axis 0, applied per segment (never across a gap)."""
    sos = butter(order, min(cutoff_hz / (fs_hz / 2.0), 0.99), output="sos")
    return _filtfilt_segments(sos, x, bounds, 3 * (2 * order + 1))


def bandpass(x: npt.ArrayLike, low_hz: float, high_hz: float, fs_hz: float, bounds: I64,
             order: int = 4) -> F64:
    """Zero-phase Butterworth band-pass along axis 0, applied per segment (never across a gap)."""
    sos = butter(order, [low_hz / (fs_hz / 2.0), min(high_hz / (fs_hz / 2.0), 0.99)], btype="bandpass",
                 output="sos")
    return _filtfilt_segments(sos, x, bounds, 3 * (4 * order + 1))


def interval_indices(starts: I64, ends: I64) -> tuple[I64, I64]:
    """Concatenated sample indices of the intervals ``[starts[i], ends[i])`` and their lengths."""
    lengths = np.maximum(ends - starts, 0)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets, lengths


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
    _chord: F64
    """(M,) fraction of the interval's duration elapsed at each reading."""

    def read(self, c: F64) -> F64:
        """Values of a :func:`prefix_sum` ``c`` (N + 1,) at the readings (linear interpolation;
        ``c[i]`` is the sum up to the middle between samples i - 1 and i).
        """
        lo = c[self._at]
        return np.asarray(lo + self._w * (c[self._at + 1] - lo), dtype=np.float64)

    def minus_chord(self, vals: F64) -> F64:
        """``vals`` (M,) minus, per interval, the line through its first and last reading (for a
        running integral of a periodic quantity, that line is the integration drift).
        """
        v0 = vals[self.first]
        rise = vals[self.first + self.lengths - 1] - v0
        return np.asarray(vals - np.repeat(v0, self.lengths) - self._chord * np.repeat(rise, self.lengths),
                          dtype=np.float64)

    def range(self, vals: F64) -> F64:
        """(I,) max - min of ``vals`` (M,) per interval."""
        if self.lengths.size == 0:
            return np.zeros(0)
        return np.asarray(np.maximum.reduceat(vals, self.first) - np.minimum.reduceat(vals, self.first),
                          dtype=np.float64)

    def excursion(self, vel: F64, fs_hz: float) -> F64:
        """(I,) range of the displacement over each interval from ``vel`` (M,), the readings of a
        running velocity integral: the chord (integration drift) and the time-mean (unknown
        initial velocity) are removed, so the displacement returns to its start (periodicity);
        trapezoid rule between readings.
        """
        u = self.minus_chord(vel)
        if u.size == 0:
            return np.zeros(0)
        dt = np.append(np.diff(self.pos), 0.0) / fs_hz  # time to the next reading ...
        dt[self.first + self.lengths - 1] = 0.0  # ... of the same interval
        step = 0.5 * (u + np.append(u[1:], 0.0)) * dt  # trapezoid area up to the next reading
        mean_u = np.add.reduceat(step, self.first) / np.maximum(np.add.reduceat(dt, self.first), 1e-12)
        step -= np.repeat(mean_u, self.lengths) * dt  # of u minus its time-mean
        disp = np.cumsum(step) - step  # displacement at each reading (exclusive running sum)
        disp -= np.repeat(disp[self.first], self.lengths)
        return self.range(disp)


def interval_readings(start: F64, end: F64, q: int, n: int) -> IntervalReadings:
    """Readings at the fractional sample positions ``start`` and ``end`` (I,) of each interval
    (end > start, inside ``n`` samples) and at the multiples of ``q`` strictly between them.
    """
    m0 = np.floor(start / q).astype(np.int64) + 1
    m1 = np.maximum(np.ceil(end / q).astype(np.int64), m0)  # multiples m0 .. m1 - 1 lie inside
    idx, lengths = interval_indices(m0 - 1, m1 + 1)  # one extra each side: the start and the end
    pos = (idx * q).astype(np.float64)
    first = np.cumsum(lengths) - lengths
    last = first + lengths - 1
    pos[first] = start
    pos[last] = end
    p = pos + 0.5  # prefix sum index of a position
    at = np.clip(np.floor(p).astype(np.int64), 0, max(n - 1, 0))
    chord = (pos - np.repeat(start, lengths)) / np.repeat(np.maximum(end - start, 1e-12), lengths)
    return IntervalReadings(pos=pos, lengths=lengths, first=first, _at=at, _w=p - at, _chord=chord)


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


def interval_reduce(x: F64, starts: I64, ends: I64, how: str) -> F64:
    """Max/min/sum of ``x`` over intervals ``[starts[i], ends[i])`` that may overlap or be empty.

    Empty intervals give NaN. ``how`` is ``"max"``, ``"min"`` or ``"sum"`` (sums from one
    running sum: no gather).
    """
    out = np.full(starts.size, np.nan)
    ok = ends > starts
    if not ok.any():
        return out
    s, e = starts[ok], ends[ok]
    if how == "sum":
        c = prefix_sum(x)
        out[ok] = c[e] - c[s]
        return out
    # reduceat over the concatenation of [s, e) slices keeps overlapping intervals independent
    idx, lengths = interval_indices(s, e)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ufunc = {"max": np.maximum, "min": np.minimum, "sum": np.add}[how]
    out[ok] = ufunc.reduceat(x[idx], first)
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
