"""The simulated sensor: sample grid with radio gaps, mounting, noise, bias, clipping, quantisation.

Turns noise-free body-frame vectors into what the chip would report (step 7). Random draws happen
in a fixed order: gaps (:func:`sample_grid`) before the trajectory is evaluated, then misalignment,
biases, noise and timestamp jitter (:func:`read_sensor`); keep it so the same seed gives the same
session bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2, RawSession
from imuback.simulate.params import F64, I64, NOMINAL_MOUNTINGS, RunnerParams


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleGrid:
    """Sample times that survive the radio gaps.

    Attributes
    ----------
    t_s : (N,) float64 true time of each kept sample, s since session start.
    gaps_s : drawn gap intervals ``(start_s, end_s)``, sorted and disjoint.
    gap_log : one record per gap that removed rows, as written to the raw file's metadata.
    """

    t_s: F64
    gaps_s: tuple[tuple[float, float], ...]
    gap_log: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorReadings:
    """What the sensor reports at the kept samples, and the sensor truth behind it.

    Attributes
    ----------
    acc_mps2 : (N, 3) float64 specific force in the sensor frame, m/s² (noise, bias, clip, LSB).
    gyr_dps : (N, 3) float64 angular velocity in the sensor frame, deg/s (same).
    acc_true_mps2, gyr_true_dps : (N, 3) the same without noise, bias, clipping or quantisation.
    time_ns : (N,) int64 recorded sample time, ns since the epoch (with timestamp jitter).
    mounting_nominal, misalignment, mounting_true : (3, 3) rotations, ``v_body = R @ v_sensor``;
        ``mounting_true = misalignment @ mounting_nominal``.
    acc_bias_mps2, gyr_bias_dps : (3,) sensor-frame biases (zeros when ``noise`` is off).
    saturated_acc, saturated_gyr : number of values clipped at the range.
    """

    acc_mps2: F64
    gyr_dps: F64
    acc_true_mps2: F64
    gyr_true_dps: F64
    time_ns: I64
    mounting_nominal: F64
    misalignment: F64
    mounting_true: F64
    acc_bias_mps2: F64
    gyr_bias_dps: F64
    saturated_acc: int
    saturated_gyr: int


def sample_grid(p: RunnerParams, *, duration_s: float, t0_ns: int, rng: np.random.Generator) -> SampleGrid:
    """Sample times at ``p.sample_rate_hz`` over ``duration_s`` with random gaps removed (missing rows)."""
    fs = p.sample_rate_hz
    n = int(np.floor(duration_s * fs))
    t = np.arange(n) / fs
    gaps = _draw_gaps(p, duration_s, rng)
    keep = np.ones(n, dtype=bool)
    gap_log: list[dict[str, Any]] = []
    for gs, ge in gaps:  # a few gaps
        i0, i1 = int(np.ceil(gs * fs)), int(np.ceil(ge * fs))
        i1 = min(i1, n - 1)
        if i1 <= i0:
            continue
        keep[i0:i1] = False
        gap_log.append({"start": iso_utc(t0_ns + round(i0 / fs * 1e9)),
                        "end": iso_utc(t0_ns + round(i1 / fs * 1e9)),
                        "samples_lost": i1 - i0, "reason": "simulated radio dropout"})
    return SampleGrid(t_s=t[keep], gaps_s=tuple(gaps), gap_log=tuple(gap_log))


def read_sensor(p: RunnerParams, f_body_mps2: F64, w_body_rps: F64, *, t_s: F64, t0_ns: int,
                rng: np.random.Generator) -> SensorReadings:
    """Sensor output for body-frame specific force (m/s²) and angular velocity (rad/s), each (N, 3).

    Mounting (nominal + random misalignment), bias, white noise (density x sqrt(fs / 2)), range
    clipping, 16-bit quantisation and timestamp jitter, as set in ``p``.
    """
    fs = p.sample_rate_hz
    r_nom = np.array(NOMINAL_MOUNTINGS[p.mounting], dtype=float)
    if p.mounting_random:  # a phone in a belt: any orientation, uniform over all rotations
        r_true = uniform_rotation(rng)
        r_mis = r_true @ r_nom.T
    else:
        mis_deg = p.misalignment_deg if p.misalignment_exact else float(rng.uniform(0, p.misalignment_deg))
        r_mis = _random_rotation(rng, mis_deg)
        r_true = r_mis @ r_nom  # v_body = r_true @ v_sensor
    acc_true = f_body_mps2 @ r_true  # v_sensor = r_true.T @ v_body  <=> rows: v_body @ r_true
    gyr_true = np.degrees(w_body_rps @ r_true)
    acc, gyr = acc_true.copy(), gyr_true.copy()
    acc_bias = np.zeros(3)
    gyr_bias = np.zeros(3)
    if p.noise:
        acc_bias = rng.uniform(-1, 1, 3) * p.acc_bias_mg * 1e-3 * G_MPS2
        gyr_bias = rng.uniform(-1, 1, 3) * p.gyr_bias_dps
        bw = np.sqrt(fs / 2.0)
        acc += acc_bias + rng.standard_normal(acc.shape) * p.acc_noise_ug_per_rthz * 1e-6 * G_MPS2 * bw
        gyr += gyr_bias + rng.standard_normal(gyr.shape) * p.gyr_noise_mdps_per_rthz * 1e-3 * bw
    acc_lim = p.acc_range_g * G_MPS2
    n_sat_acc = int(np.sum(np.abs(acc) > acc_lim))
    n_sat_gyr = int(np.sum(np.abs(gyr) > p.gyr_range_dps))
    acc = np.clip(acc, -acc_lim, acc_lim)
    gyr = np.clip(gyr, -p.gyr_range_dps, p.gyr_range_dps)
    if p.noise and p.quantize:
        lsb_a = 2 * acc_lim / 65536.0
        lsb_g = 2 * p.gyr_range_dps / 65536.0
        acc = np.round(acc / lsb_a) * lsb_a
        gyr = np.round(gyr / lsb_g) * lsb_g
    t_rec_ns = t0_ns + np.round(t_s * 1e9).astype(np.int64)
    if p.timestamp_jitter_us > 0:
        jit = np.clip(rng.standard_normal(t_s.size) * p.timestamp_jitter_us * 1e3, -0.4e9 / fs, 0.4e9 / fs)
        t_rec_ns = t_rec_ns + np.round(jit).astype(np.int64)
    return SensorReadings(acc_mps2=acc, gyr_dps=gyr, acc_true_mps2=acc_true, gyr_true_dps=gyr_true,
                          time_ns=t_rec_ns, mounting_nominal=r_nom, misalignment=r_mis,
                          mounting_true=r_true, acc_bias_mps2=acc_bias, gyr_bias_dps=gyr_bias,
                          saturated_acc=n_sat_acc, saturated_gyr=n_sat_gyr)


def uniform_rotation(rng: np.random.Generator) -> F64:
    """A rotation (3, 3) drawn uniformly over all orientations (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    out: F64 = q if np.linalg.det(q) > 0 else -q
    return out


def _random_rotation(rng: np.random.Generator, angle_deg: float) -> F64:
    """Rotation by ``angle_deg`` about a uniformly random axis (Rodrigues), (3, 3)."""
    axis = rng.standard_normal(3)
    axis /= np.linalg.norm(axis)
    a = np.radians(angle_deg)
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    out: F64 = np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * (kx @ kx)
    return out


def strapped_on(raw: RawSession, mounting: npt.ArrayLike | None) -> RawSession:
    """The same session from its sensor strapped on with nominal mounting ``mounting`` (``v_body = R @
    v_sensor``, docs/frames.md) instead of ``raw.mounting``: every sample turned into that sensor's
    frame, ``v_new = R.T @ raw.mounting @ v``, so that reading it with ``R`` gives the body-frame
    vectors ``raw`` gives, and the session states ``R``. None: the same samples, with the mounting not
    known (``mounting_source`` ``assumed``: a recording says nobody told it).
    """
    if mounting is None:
        return replace(raw, mounting_source="assumed")
    r = np.asarray(mounting, dtype=np.float64)
    turn = (r.T @ raw.mounting).T  # row vectors: v_new = v @ turn
    acc = (raw.acc_mps2.astype(np.float64) @ turn).astype(np.float32)
    gyr = None if raw.gyr_dps is None else (raw.gyr_dps.astype(np.float64) @ turn).astype(np.float32)
    return replace(raw, acc_mps2=acc, gyr_dps=gyr, mounting=r, mounting_source="file")


def iso_utc(ns: int) -> str:
    """ISO 8601 UTC text of ``ns`` nanoseconds since the epoch (microsecond resolution)."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat()


def _draw_gaps(p: RunnerParams, duration_s: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Non-overlapping gap intervals (s), away from the first and last 20 s."""
    lo, hi = 20.0, duration_s - 20.0
    if p.gaps_per_hour <= 0 or hi <= lo:
        return []
    n = int(rng.poisson(p.gaps_per_hour * duration_s / 3600.0))
    starts = np.sort(rng.uniform(lo, hi, n))
    lens = rng.uniform(p.gap_s[0], p.gap_s[1], n)
    out: list[tuple[float, float]] = []
    for a, ln in zip(starts, lens, strict=True):  # a few gaps: merge overlaps
        b = min(a + ln, hi)
        if out and a <= out[-1][1] + 0.05:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((float(a), float(b)))
    return out
