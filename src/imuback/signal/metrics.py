"""Stage 6 (a): per-step and per-stride metrics from the body-frame block and the steps.

All reductions are over step/stride intervals with ``reduceat`` on concatenated interval samples;
there is no loop over steps or samples. Body frame: x forward, y left, z up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import find_peaks

from imuback.signal.dsp import (
    detrended_cumulative,
    interval_indices,
    interval_range,
    interval_reduce,
    lowpass,
)
from imuback.signal.events import LEFT, RIGHT, Steps
from imuback.signal.frames import G_MPS2, ImuBlock
from imuback.signal.params import MetricParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


_CHUNK = 4096
"""Strides per chunk in the per-stride gathers (bounds memory on 24 h sessions)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepMetrics:
    """(S,) arrays per step; NaN where not defined (e.g. no next step in the chain)."""

    step_time_s: F64
    contact_time_s: F64
    flight_time_s: F64
    cadence_spm: F64
    impact_peak_g: F64
    grf_peak_bw: F64
    loading_rate_g_per_s: F64
    vertical_oscillation_cm: F64


@dataclass(frozen=True, slots=True, kw_only=True)
class StrideMetrics:
    """(K,) arrays per stride; ``first_step`` indexes the stride's first step."""

    first_step: I64
    stride_time_s: F64
    pelvis_rotation_deg: F64
    pelvis_obliquity_deg: F64
    pelvis_tilt_deg: F64
    ml_excursion_cm: F64
    ml_acc_rms_g: F64
    impact_asymmetry_pct: F64
    contact_asymmetry_pct: F64


def step_metrics(body: ImuBlock, steps: Steps, *, params: MetricParams = MetricParams()) -> StepMetrics:
    """Timing, impact and vertical oscillation of every step."""
    fs = body.fs_hz
    n = steps.n
    nxt = steps.has_next()
    ic, to = steps.ic_pos, steps.to_pos
    ic_next = np.append(ic[1:], np.nan)
    step_t = np.where(nxt, (ic_next - ic) / fs, np.nan)
    contact = (to - ic) / fs
    flight = np.where(nxt, (ic_next - to) / fs, np.nan)
    run = steps.activity == 2
    flight = np.where(run, flight, np.nan)  # walking has double support, no flight
    vz_g = body.acc_mps2[:, 2] / G_MPS2
    s = np.ceil(ic).astype(np.int64)
    e = np.minimum(np.where(np.isfinite(to), np.floor(np.nan_to_num(to)).astype(np.int64) + 1, s), body.n)
    impact = interval_reduce(vz_g, s, e, "max")
    grf = interval_reduce(lowpass(vz_g, params.grf_lowpass_hz, fs, body.seg_bounds), s, e, "max")
    grf = np.where(run, grf, np.nan)
    # loading-rate index: rise from IC to the first peak of the 30 Hz signal inside the contact
    x30 = lowpass(vz_g, params.loading_lowpass_hz, fs, body.seg_bounds)
    pk, _ = find_peaks(x30)
    j = np.searchsorted(pk, s)
    first_pk = pk[np.minimum(j, max(pk.size - 1, 0))] if pk.size else s
    ok = (j < pk.size) & (first_pk < e) & (first_pk > ic)
    rise = x30[np.minimum(first_pk, body.n - 1)] - np.interp(ic, np.arange(body.n), x30) if n else np.zeros(0)
    loading = np.where(ok, rise / np.maximum((first_pk - ic) / fs, 1e-9), np.nan)
    # vertical oscillation: vertical motion is step-periodic -> double integration per step
    vo = np.full(n, np.nan)
    if nxt.any():
        a = body.acc_mps2[:, 2] - G_MPS2
        st = np.ceil(ic[nxt]).astype(np.int64)
        en = np.floor(ic_next[nxt]).astype(np.int64) + 1
        idx, lengths = interval_indices(st, en)
        vel = detrended_cumulative(a[idx], lengths, fs, zero_mean=True)
        pos = detrended_cumulative(vel, lengths, fs)
        vo[nxt] = 100.0 * interval_range(pos, lengths)
    return StepMetrics(step_time_s=step_t, contact_time_s=contact, flight_time_s=flight,
                       cadence_spm=60.0 / step_t, impact_peak_g=impact, grf_peak_bw=grf,
                       loading_rate_g_per_s=loading, vertical_oscillation_cm=vo)


def _minus_drift_line(vals: F64, lengths: I64) -> F64:
    """Concatenated per-interval samples (M, K) minus, per interval, the line from 0 at its first
    sample to its last-minus-first change at its last sample (offsets kept).
    """
    first = np.cumsum(lengths) - lengths
    last = first + lengths - 1
    frac = (np.arange(vals.shape[0]) - np.repeat(first, lengths)) / np.repeat(np.maximum(lengths - 1, 1), lengths)
    return np.asarray(vals - frac[:, None] * np.repeat(vals[last] - vals[first], lengths, axis=0), dtype=np.float64)


def _asym(values: F64, foot: npt.NDArray[np.int8], k: I64) -> F64:
    """100 (L - R) / mean(L, R) for the two steps k, k+1 of each stride."""
    a, b = values[k], values[k + 1]
    left = np.where(foot[k] == LEFT, a, b)
    right = np.where(foot[k] == RIGHT, a, b)
    valid = (foot[k] != foot[k + 1]) & (foot[k] >= 0) & (foot[k + 1] >= 0)
    return np.where(valid, 100.0 * (left - right) / ((left + right) / 2.0), np.nan)


def stride_metrics(body: ImuBlock, level_acc: F64, steps: Steps, sm: StepMetrics) -> StrideMetrics:
    """Pelvis angle ranges, ML motion and asymmetry of every stride (IC to the next IC of the
    same foot). Pelvis angles: body-frame gyro integrated over the stride with the linear drift
    removed (the angle is periodic over a stride); range = max - min (deg). ML motion from the
    level-frame lateral acceleration ``level_acc[:, 1]`` (N,) m/s².
    """
    fs = body.fs_hz
    nxt = steps.has_next()
    k = np.flatnonzero(nxt[:-2] & nxt[1:-1]) if steps.n >= 3 else np.zeros(0, np.int64)
    st = np.ceil(steps.ic_pos[k]).astype(np.int64)
    en = np.floor(steps.ic_pos[k + 2]).astype(np.int64) + 1
    nan = np.full(k.size, np.nan)
    rot, obl, tilt, ml_cm, ml_rms = (nan.copy() for _ in range(5))
    ay = level_acc[:, 1]
    # angle = running integral of the gyro; per stride only its drift line is removed, and a
    # constant offset does not change a range, so one cumulative sum serves every stride
    angle = None if body.gyr_dps is None or not k.size else np.cumsum(body.gyr_dps, axis=0) / fs
    for c in range(0, k.size, _CHUNK):  # chunks of strides bound the memory of the gathers
        sl = slice(c, c + _CHUNK)
        idx, lengths = interval_indices(st[sl], en[sl])
        if angle is not None:
            r = interval_range(_minus_drift_line(angle[idx], lengths), lengths)
            rot[sl], obl[sl], tilt[sl] = r[:, 2], r[:, 0], r[:, 1]  # yaw (z), roll (x), pitch (y)
        a = ay[idx]
        vel = detrended_cumulative(a, lengths, fs, zero_mean=True)
        ml_cm[sl] = 100.0 * interval_range(detrended_cumulative(vel, lengths, fs), lengths)
        first = np.cumsum(lengths) - lengths
        dev = a - np.repeat(np.add.reduceat(a, first) / lengths, lengths)
        ml_rms[sl] = np.sqrt(np.add.reduceat(dev * dev, first) / lengths) / G_MPS2
    return StrideMetrics(
        first_step=k.astype(np.int64),
        stride_time_s=(steps.ic_pos[k + 2] - steps.ic_pos[k]) / fs,
        pelvis_rotation_deg=rot, pelvis_obliquity_deg=obl, pelvis_tilt_deg=tilt,
        ml_excursion_cm=ml_cm, ml_acc_rms_g=ml_rms,
        impact_asymmetry_pct=_asym(sm.impact_peak_g, steps.foot, k),
        contact_asymmetry_pct=_asym(sm.contact_time_s, steps.foot, k),
    )
