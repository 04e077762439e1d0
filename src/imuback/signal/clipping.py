"""Clipped (saturated) accelerometer samples, and the peaks that must not be read from them.

A MEMS accelerometer set to ±2 g or ±4 g (the default of many phone and DIY firmwares) clips
running impacts at the sacrum (4-6 g): the impact peak is flattened at the range and the
low-passed peak the vGRF estimate reads is lowered with it (``benchmarks/sensor_imperfections.py``:
alcantara_treadmill's peak vGRF RMSE 0.18 BW as recorded, 0.21 BW at ±4 g, 0.36 BW at ±2 g).
A clipped contact's timing is still sound, so its peak vGRF comes from the timing alone (the
spring-mass peak, :func:`~imuback.signal.metrics.spring_mass_peak_bw`); its impact peak and
loading rate, which only the clipped samples carry, are not reported (NaN), and the session's
notes say how many steps that concerned. The session summaries count those unknown values as
larger than every unclipped one (:func:`censored`): clipping takes exactly the hardest contacts,
so leaving them out would lower the medians and the asymmetry of the side that lands harder.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2
from imuback.signal.metrics import StepMetrics, spring_mass_peak_bw

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
RANGE_SHARE = 0.995
"""A sample within this share of the declared range is at full scale."""
FLOOR_G = 1.9
"""The lowest clip level looked for (g): a ±2 g part calibrated a few percent low still reads
above it (12 of the 58 real walking recordings exceed it unclipped; none is called clipped,
``benchmarks/clip_rule.py``)."""
MIN_EXCURSIONS = 3
"""A clip level is held in at least this many separate excursions (different contacts): a
quantised, unclipped series ties its top value within one or two contacts."""
EXCURSION_GAP_S = 0.1
"""Samples at the level further apart than this are separate excursions (s)."""
NEAR_RANGE = 0.9
"""With a declared range, a flat level is looked for from this share of it up (g/g)."""
BAND_G = 0.1
"""The band below a clip level compared with it (g): wide enough to hold a few levels of a
coarsely quantised series (31-62 mg steps)."""
PILE_RATIO = 2.0
"""A clip level holds at least this many times as many samples as the most common single value
in the ``BAND_G`` below it. A clip piles every sample beyond it onto one value, which the signal
sits on; an unclipped top is only passed through, and each quantisation level under it holds
about as many samples or more (a coarse top: more on the next level down). Not the whole band's
count: in float or finely quantised data the band spans many values, and contacts topping out
just under the level outnumber the clip (review 21: 0 of 849 contacts flagged at ±2.5 g). The
ratio 2 from ``benchmarks/clip_rule.py``'s simulated runs (review 21's sweep), reported on its
real alcantara and walking recordings."""


def clipped_rows(acc_mps2: npt.NDArray[np.float32], *, acc_range_g: float | None,
                 acc_extremes: tuple[float, float], time_ns: npt.NDArray[np.int64]
                 ) -> npt.NDArray[np.bool_] | None:
    """(N,) True for the rows of ``acc_mps2`` (N, 3) (m/s²) with any axis at a clip level; None
    when none is.

    A clip level, per axis and sign: the axis's extreme value, at least ``FLOOR_G``, that the
    samples hold exactly in ``MIN_EXCURSIONS`` or more excursions more than ``EXCURSION_GAP_S``
    apart (``time_ns`` (N,)), with at least ``PILE_RATIO`` times as many samples on it as on any
    single value in the ``BAND_G`` below it.
    With ``acc_range_g`` declared, every sample at or beyond ``RANGE_SHARE`` of it, and a flat
    level only from ``NEAR_RANGE`` of it up.
    ``acc_extremes`` = (max, min) over all of ``acc_mps2``: nothing near a clip level, no pass.

    Limitation: the level is found on the sensor's own axes, as stored; a full 3 x 3 calibration
    applied after clipping (cross-axis terms) mixes the axes, so no axis is flat and such a clip
    is not found (``docs/pipeline.md``, stage 6b).
    """
    if acc_mps2.shape[0] == 0:
        return None
    top, bottom = acc_extremes
    lim = np.inf if acc_range_g is None else RANGE_SHARE * acc_range_g * G_MPS2
    # a declared range: a flat level looked for only near it (a clip off by an offset or a scale)
    floor = FLOOR_G * G_MPS2 if acc_range_g is None else max(FLOOR_G, NEAR_RANGE * acc_range_g) * G_MPS2
    if top < min(floor, lim) and bottom > -min(floor, lim):
        return None  # the common case: nothing near any clip level, no per-axis pass needed
    rows = np.zeros(acc_mps2.shape[0], dtype=bool)
    gap_ns = EXCURSION_GAP_S * 1e9
    band = np.float32(BAND_G * G_MPS2)
    for axis in range(acc_mps2.shape[1]):  # column by column: reductions across rows are slow
        x = acc_mps2[:, axis]
        if top >= lim or bottom <= -lim:
            rows |= np.abs(x) >= lim
        for v, sign in ((x.max(), 1.0), (x.min(), -1.0)):
            if sign * v < floor:
                continue
            idx = np.flatnonzero(x == v)
            if 1 + int(np.count_nonzero(np.diff(time_ns[idx]) > gap_ns)) < MIN_EXCURSIONS:
                continue
            near = x[(sign * x < sign * v) & (sign * x >= sign * v - band)]
            most = int(np.unique(near, return_counts=True)[1].max()) if near.size else 0
            if idx.size >= PILE_RATIO * most:
                rows[idx] = True
    return rows if rows.any() else None


def clipped_on_grid(t_ns: npt.NDArray[np.int64], rows: npt.NDArray[np.bool_], *, t0_ns: int, t_s: F64
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


def censored_quantile(values: F64, q: float) -> float:
    """``q``-quantile (0..1, linear as ``np.quantile``) of ``values`` (S,) without NaN, +inf
    counting as larger than any finite value; NaN when it rests on a +inf (a share ``1 - q`` or
    more of the values censored: not known) or there is no value. ``q = 0.5`` is
    :func:`censored_median` (to rounding).
    """
    x = np.sort(values[~np.isnan(values)])
    if x.size == 0:
        return float("nan")
    pos = q * (x.size - 1)
    lo, hi = int(np.floor(pos)), int(np.ceil(pos))
    if not (np.isfinite(x[lo]) and np.isfinite(x[hi])):
        return float("nan")
    return float(x[lo] + (x[hi] - x[lo]) * (pos - lo))
