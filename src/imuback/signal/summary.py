"""Stage 6 (b): session-level figures — regularity/symmetry and within-run drift (fatigue).

Regularity: unbiased autocorrelation of the vertical acceleration at one step and one stride lag
(Moe-Nilssen & Helbostad 2004). Drift: Theil-Sen slope of per-minute medians against elapsed
time, and % change of a late window against a baseline window (:func:`drift_windows`), with the
half-width of its 95 % confidence interval from the run's own minute-to-minute noise.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import fftconvolve

F64 = npt.NDArray[np.float64]


AUTOCORR_MAX_SAMPLES = 1 << 15
"""Longest stretch (samples) the regularity is computed over (~2.7 min at 200 Hz)."""


def autocorr_regularity(x: F64, step_lag: int, *, max_samples: int = AUTOCORR_MAX_SAMPLES) -> tuple[float, float]:
    """(step, stride) regularity of ``x`` (N,): the unbiased, variance-normalised autocorrelation
    at its peak near one and two step lags. NaN when ``x`` is shorter than four strides.

    Long bouts are summarised by their middle ``max_samples`` samples (~2.7 min at 200 Hz): the
    coefficient is an average over many strides already, and this bounds the FFT.
    """
    if x.size > max_samples:
        mid = x.size // 2
        x = x[mid - max_samples // 2 : mid + max_samples // 2]
    n = x.size
    if step_lag < 2 or n < 8 * step_lag:
        return float("nan"), float("nan")
    d = x - x.mean()
    var = float(np.dot(d, d) / n)
    if var <= 0:
        return float("nan"), float("nan")
    max_lag = int(2.6 * step_lag)
    ac = fftconvolve(d, d[::-1], mode="full")[n - 1 : n + max_lag]
    ac = ac / (n - np.arange(ac.size)) / var

    def peak(center: int) -> float:
        lo, hi = int(0.7 * center), min(int(1.3 * center) + 1, ac.size)
        return float(np.max(ac[lo:hi]))

    return peak(step_lag), peak(2 * step_lag)


def theil_sen_slope(x: F64, y: F64) -> float:
    """Median of the slopes between all pairs of points with different ``x`` (Theil 1950, Sen 1968)."""
    i, j = np.triu_indices(x.size, 1)
    dx = x[j] - x[i]
    ok = dx != 0
    return float(np.median((y[j] - y[i])[ok] / dx[ok])) if ok.any() else float("nan")


def drift_windows(end_min: float, *, baseline: tuple[float, float],
                  late_min: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The one rule for the two windows within-run drift compares: ``(baseline, late)``, each
    ``[start, end)`` in minutes of running, for a run whose data ends at ``end_min``.

    The baseline is ``baseline`` = (start, end), shortened to the first half of what follows its
    start on short runs; the late window is the last ``late_min`` minutes, never overlapping the
    baseline (so on short runs the two halves after the baseline start). In words:
    :func:`drift_rule_text`.
    """
    b0 = baseline[0]
    b1 = min(baseline[1], b0 + (end_min - b0) / 2.0)
    return (b0, b1), (max(end_min - late_min, b1), end_min)


def drift_rule_text(*, baseline: tuple[float, float], late_min: float) -> str:
    """:func:`drift_windows` in words (reports, docs)."""
    b0, b1 = baseline
    full = b1 + late_min  # the shortest run with both windows at full length
    return (f"last {late_min:g} minutes vs minutes {b0:g}–{b1:g} of running; runs shorter than "
            f"{full:g} minutes use shorter windows that do not overlap, at most the two halves after "
            f"minute {b0:g}")


DRIFT_CI_Z = 1.96
"""z of the drift confidence interval (95 %)."""


def _median_se(noise_sd: float, n: int) -> float:
    """Standard error of the median of ``n`` values with SD ``noise_sd`` (normal: sqrt(pi/2) * SD/sqrt(n))."""
    return float(np.sqrt(np.pi / 2.0) * noise_sd / np.sqrt(n))


def drift(t_min: F64, values: F64, *, baseline: tuple[float, float],
          late_min: float) -> tuple[float, float, float]:
    """(slope per 10 min, % change late vs baseline, 95 % CI half-width of that change in %) of
    ``values`` over ``t_min`` (minutes).

    Per-minute medians first (robust to single bad steps, and keeps Theil-Sen small). The windows
    follow :func:`drift_windows`. NaN when fewer than 5 minutes have data or either window holds
    fewer than 3 minutes. A value of +inf is censored from above (a clipped contact's impact
    peak: larger than any other); a minute with half or more of them has no median (left out of the windows).

    The confidence interval is the run's own noise: the minute-to-minute SD of the per-minute
    medians from successive differences (``1.4826 * median|diff| / sqrt(2)``, robust and barely
    inflated by a slow drift), as the standard error of each window's median, combined.
    """
    nan3 = (float("nan"), float("nan"), float("nan"))
    ok = ~np.isnan(values) & (values != -np.inf) & np.isfinite(t_min)
    t, v = t_min[ok], values[ok]
    above = np.isposinf(v)  # censored from above (a clipped contact): larger than any other
    fin = v[~above]
    if fin.size == 0:
        return nan3
    lo, hi = float(fin.min()), float(fin.max())
    v = np.where(above, hi + 1.0, v)  # sorts last in its minute
    minute = np.floor(t).astype(np.int64)
    # sort by minute, then value, with one float key: the value scaled into [0, 0.999) per minute
    span = hi + 1.0 - lo
    order = np.argsort(minute + 0.999 * (v - lo) / span)
    minute, v, above = minute[order], v[order], above[order]
    uniq, start, count = np.unique(minute, return_index=True, return_counts=True)
    # a minute whose upper middle value is censored has no known median (half or more clipped);
    # it still counts for the run's length (the windows)
    known = ~above[start + count // 2]
    if np.count_nonzero(known) < 5:
        return nan3
    (b0, b1), (late0, _end) = drift_windows(float(uniq[-1] + 1), baseline=baseline, late_min=late_min)
    uniq, start, count = uniq[known], start[known], count[known]
    meds = 0.5 * (v[start + (count - 1) // 2] + v[start + count // 2])  # per-minute medians
    slope = theil_sen_slope(np.asarray(uniq + 0.5, dtype=np.float64), meds) * 10.0
    base = meds[(uniq >= b0) & (uniq < b1)]
    late = meds[uniq >= late0]
    if base.size < 3 or late.size < 3:
        return slope, float("nan"), float("nan")
    b = float(np.median(base))
    if b == 0:
        return slope, float("nan"), float("nan")
    pct = 100.0 * (float(np.median(late)) - b) / b
    noise_sd = 1.4826 * float(np.median(np.abs(np.diff(meds)))) / np.sqrt(2.0)
    se = np.hypot(_median_se(noise_sd, base.size), _median_se(noise_sd, late.size))
    return slope, pct, 100.0 * DRIFT_CI_Z * float(se) / abs(b)
