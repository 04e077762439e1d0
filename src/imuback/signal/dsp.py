"""Small vectorized helpers shared by the signal stages (filters per segment, interval reductions)."""

from __future__ import annotations

import itertools

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


def interval_reduce(x: F64, starts: I64, ends: I64, how: str) -> F64:
    """Max/min/sum of ``x`` over intervals ``[starts[i], ends[i])`` that may overlap or be empty.

    Empty intervals give NaN. ``how`` is ``"max"``, ``"min"`` or ``"sum"``.
    """
    out = np.full(starts.size, np.nan)
    ok = ends > starts
    if not ok.any():
        return out
    s, e = starts[ok], ends[ok]
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


def detrended_cumulative(vals: F64, lengths: I64, fs_hz: float, *, zero_mean: bool = False) -> F64:
    """Integrate concatenated per-interval samples (rectangle rule) and remove, per interval, the
    line joining its first and last value (and, with ``zero_mean``, the mean).

    ``vals`` is (M,) or (M, K) (K signals at once). For a periodic quantity (pelvis angle,
    velocity, displacement) the integral must return to its start after one cycle, so that linear
    trend is integration drift (bias, unknown initial velocity); a cycle-mean of zero fixes the
    constant of a velocity.
    """
    if vals.shape[0] == 0:
        return vals.astype(np.float64)
    c = np.cumsum(vals, axis=0) / fs_hz
    first = np.cumsum(lengths) - lengths
    last = first + lengths - 1
    frac = (np.arange(vals.shape[0]) - np.repeat(first, lengths)) / np.repeat(np.maximum(lengths - 1, 1), lengths)
    if vals.ndim == 2:
        frac = frac[:, None]
    c0 = c[first]
    c -= np.repeat(c0, lengths, axis=0)
    c -= frac * np.repeat(c[last], lengths, axis=0)
    if zero_mean:
        c -= np.repeat(np.add.reduceat(c, first, axis=0) / (lengths if vals.ndim == 1 else lengths[:, None]),
                       lengths, axis=0)
    return np.asarray(c, dtype=np.float64)


def interval_range(vals: F64, lengths: I64) -> F64:
    """Max - min of concatenated per-interval samples (all intervals non-empty); (M,) or (M, K)."""
    if lengths.size == 0:
        return np.zeros((0, *vals.shape[1:]))
    first = np.cumsum(lengths) - lengths
    return np.asarray(np.maximum.reduceat(vals, first, axis=0) - np.minimum.reduceat(vals, first, axis=0),
                      dtype=np.float64)
