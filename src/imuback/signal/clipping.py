"""Clipped (saturated) accelerometer samples, and the peaks that must not be read from them.

A MEMS accelerometer set to ±2 g or ±4 g (the default of many phone and DIY firmwares) clips
running impacts at the sacrum (4-6 g): the impact peak is flattened at the range and the
low-passed peak the vGRF estimate reads is lowered with it (``benchmarks/sensor_imperfections.py``:
alcantara_treadmill's peak vGRF RMSE 0.18 BW as recorded, 0.21 BW at ±4 g, 0.36 BW at ±2 g).
A clipped contact's timing is still sound, so its peak vGRF comes from the timing alone (the
spring-mass peak, :func:`~imuback.signal.metrics.spring_mass_peak_bw`); its impact peak and
loading rate, which only the clipped samples carry, are not reported (NaN), and the session's
notes say how many steps that concerned.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2
from imuback.signal.metrics import StepMetrics, spring_mass_peak_bw

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
SMALLEST_RANGE_G = 2.0
"""The smallest full scale MEMS accelerometers offer (BMI160, BMA280, LSM6DS3: ±2 g)."""
RANGE_SHARE = 0.995
"""A sample within this share of the declared range is at full scale."""
MIN_FLAT = 3
"""Range unknown: an axis's extreme value repeated in at least this many samples is a clip level
(a continuous signal repeats its exact maximum by chance almost never)."""


def clipped_rows(a: npt.NDArray[np.float32], acc_range_g: float | None,
                 acc_extremes: tuple[float, float]) -> npt.NDArray[np.bool_] | None:
    """(N,) True for the rows of ``a`` (m/s²) with any axis at full scale; None when none is.

    With ``acc_range_g`` declared: ``|a| >= RANGE_SHARE * range``. Unknown: an extreme value
    (``acc_extremes`` = (max, min) of ``a``) of at least ``RANGE_SHARE * SMALLEST_RANGE_G`` that
    ``MIN_FLAT`` or more samples sit exactly on.
    """
    if a.shape[0] == 0:
        return None
    top, bottom = acc_extremes
    if acc_range_g is not None:
        lim = RANGE_SHARE * acc_range_g * G_MPS2
        if top < lim and bottom > -lim:
            return None  # the common case: nothing at full scale, no per-row pass needed
        at_limit = np.abs(a) >= lim
    else:
        floor = RANGE_SHARE * SMALLEST_RANGE_G * G_MPS2
        flat = [v for v in (top, bottom) if abs(v) >= floor and np.count_nonzero(a == v) >= MIN_FLAT]
        if not flat:
            return None
        at_limit = np.isin(a, np.asarray(flat, dtype=a.dtype))
    rows = np.any(at_limit, axis=1)
    return rows if rows.any() else None


def on_grid(t_ns: npt.NDArray[np.int64], rows: npt.NDArray[np.bool_], *, t0_ns: int, t_s: F64
            ) -> npt.NDArray[np.bool_]:
    """(n,) True at the grid samples ``t_s`` (s from ``t0_ns``) interpolated from a clipped raw
    sample (rows of ``t_ns``): the grid samples on either side of each.
    """
    n = t_s.size
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    j = np.searchsorted(t_s, (t_ns[rows] - t0_ns) / 1e9)
    out[np.clip(j, 0, n - 1)] = True
    out[np.clip(j - 1, 0, n - 1)] = True
    return out


def peaks_without_clipping(sm: StepMetrics, *, run_mask: npt.NDArray[np.bool_], start_idx: I64,
                           end_idx: I64, clipped_grid: npt.NDArray[np.bool_]
                           ) -> tuple[StepMetrics, npt.NDArray[np.bool_]]:
    """``sm`` with the running contacts ``[start_idx, end_idx)`` that hold a clipped grid sample
    (``clipped_grid`` (n,)) read from their timing: peak vGRF from the spring-mass peak alone (NaN
    where the timing does not give one), impact peak and loading rate NaN (unknown: larger than
    what the sensor read). Returns (metrics, (S,) True for those steps): the session summaries
    count them as larger than any unclipped contact (:func:`censored_median`).
    """
    s, e = start_idx, end_idx
    c = np.concatenate([[0], np.cumsum(clipped_grid, dtype=np.int64)])
    hit = run_mask & (e > s) & (c[np.clip(e, 0, clipped_grid.size)] > c[np.clip(s, 0, clipped_grid.size)])
    if not hit.any():
        return sm, hit
    spring = spring_mass_peak_bw(sm.step_time_s, sm.contact_time_s)
    return dataclasses.replace(
        sm, grf_peak_bw=np.where(hit, spring, sm.grf_peak_bw),
        impact_peak_g=np.where(hit, np.nan, sm.impact_peak_g),
        loading_rate_g_per_s=np.where(hit, np.nan, sm.loading_rate_g_per_s)), hit


CENSORED_METRICS = ("impact_peak_g", "loading_rate_g_per_s")
"""The step metrics a clipped contact leaves unknown but larger than the sensor read."""


def censored(values: F64, clipped_steps: npt.NDArray[np.bool_] | None) -> F64:
    """``values`` (S,) with the clipped steps at +inf: above every unclipped one, for rank
    statistics (medians) that stay exact while fewer than half the values are clipped.
    """
    return values if clipped_steps is None else np.where(clipped_steps, np.inf, values)


def censored_median(values: F64) -> float:
    """Median of ``values`` without NaN, +inf counting as larger than any finite value; NaN when
    it falls on a +inf (half or more of the values censored: the median is not known) or none.
    """
    x = values[~np.isnan(values)]
    m = float(np.median(x)) if x.size else float("nan")
    return m if np.isfinite(m) else float("nan")
