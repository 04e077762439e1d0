"""Stage 5 (b): is it gait? Steps are kept only in bouts that show gait's structure.

A step detector finds peaks in any vertical oscillation: a machine's or a car's vibration, or
plain noise, gives "steps". Real steps have a structure these lack (body frame: z up):

1. **Off-axis signature** (accelerometer): every step brakes, propels and sways the trunk while
   it lifts it, out of phase, so the acceleration at the step rhythm sweeps a plane, not a line:
   the second-largest principal axis of its covariance is a sizeable fraction of the largest
   (sqrt of the eigenvalue ratio; walking and running, sacrum/L5: ~0.2-1). A vibration of a seat,
   vehicle or machine shakes along one line, whichever axis (vertical or tilted): ~0.01-0.02.
2. **Rotational signature** (gyroscope, where present): the pelvis rotates, tilts and drops with
   each stride (yaw/roll/pitch rates of tens of deg/s, mostly < 5 Hz). Vibration does not rotate
   it; a gyroscope's white noise spreads over the whole bandwidth, and block means (a boxcar
   low-pass) keep only its gait-band share (at 100 Hz, ~0.5 of 5 deg/s per axis).
3. **Rhythm** (accelerometer only, without a gyroscope): consecutive steps repeat, so the vertical
   signal correlates with itself one step later; noise does not.

Each bout (see :mod:`imuback.signal.activity`) that holds steps is judged as a whole; all its
steps are kept or dropped together, and a dropped bout gives a plain-language reason.
Thresholds: see :class:`~imuback.signal.params.GaitCheckParams` (each with the figures it was
chosen from).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from imuback.signal.activity import Bouts
from imuback.signal.dsp import block_mean, decimated_bounds
from imuback.signal.params import GaitCheckParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class GaitVerdict:
    """Per bout: the gait features and whether the bout's steps are kept.

    Attributes
    ----------
    bout : (B,) indices into the session's bouts of the bouts that held steps.
    off_axis_ratio : (B,) sqrt(second / largest eigenvalue) of the covariance of the gait-band
        acceleration (3 axes): ~0 for motion along one line.
    rotation_dps : (B,) RMS angular rate in the gait band (deg/s); NaN without a gyroscope.
    regularity : (B,) vertical autocorrelation one median step later; NaN with a gyroscope
        (not needed there).
    keep : (B,) whether the bout shows gait.
    reason : (B,) empty where kept, else why not.
    """

    bout: I64
    off_axis_ratio: F64
    rotation_dps: F64
    regularity: F64
    keep: npt.NDArray[np.bool_]
    reason: tuple[str, ...]


def check_gait(acc_d: F64, up: F64, gyr_d_dps: F64 | None, *, fs_d_hz: float, bounds: I64, dec: int,
               bouts: Bouts, ic_pos: F64, params: GaitCheckParams = GaitCheckParams()) -> GaitVerdict:
    """Judge every bout that holds steps.

    Parameters
    ----------
    acc_d : (N_d, 3) specific force in the sensor frame, every ``dec``-th sample (any unit: only
        ratios of it are used).
    up : (3,) unit vertical (gravity) direction in the sensor frame.
    gyr_d_dps : (N_d, 3) angular rate (deg/s) at the same samples, or None.
    fs_d_hz : rate of the decimated samples; ``bounds`` the full-rate segment bounds.
    bouts : the session's bouts (full-rate samples); ``ic_pos`` (S,) step IC positions (full rate).
    """
    b_idx = np.unique(np.minimum(bouts.index_of(ic_pos), max(bouts.label.size - 1, 0))) if ic_pos.size else \
        np.zeros(0, np.int64)
    nb = b_idx.size
    if nb == 0 or acc_d.shape[0] < 8 * max(1, round(fs_d_hz / 12.5)):
        z = np.zeros(nb)
        return GaitVerdict(bout=b_idx.astype(np.int64), off_axis_ratio=z, rotation_dps=z, regularity=z,
                           keep=np.ones(nb, dtype=bool), reason=("",) * nb)
    # features change over strides: ~12.5 Hz samples carry the band (< 5 Hz); each is the mean
    # of its block of ``q`` (a boxcar against aliasing), which makes the check cheap
    q = max(1, round(fs_d_hz / 12.5))
    dec, fs_d_hz = dec * q, fs_d_hz / q
    acc_d = block_mean(acc_d, q)
    # the rate as block means too: a boxcar low-pass that keeps a white noise's gait-band share only
    gyr_d_dps = None if gyr_d_dps is None else block_mean(gyr_d_dps, q)[: acc_d.shape[0]]
    win = max(1, round(fs_d_hz / params.band_low_hz))
    bd = decimated_bounds(bounds, dec)
    ab = _band(acc_d, win, bd)
    vb = ab @ up  # the band-passed vertical (for the rhythm)
    s = np.minimum(bouts.start_idx[b_idx] // dec, vb.size - 1)
    e = np.maximum(np.minimum(-(-bouts.end_idx[b_idx] // dec), vb.size), s + 1)
    ratio = _off_axis_ratio(ab, s, e)
    keep = ratio >= params.min_off_axis_ratio
    reason = np.where(keep, "", "motion along one line only at the step rhythm (a vibration, e.g. a vehicle "
                                "or machine, not gait)").astype(object)
    rot = np.full(nb, np.nan)
    reg = np.full(nb, np.nan)
    if gyr_d_dps is not None:
        gb = _band(gyr_d_dps, win, bd)
        rot = np.sqrt(_interval_mean(np.einsum("ij,ij->i", gb, gb), s, e))
        still = keep & (rot < params.min_rotation_dps)
        reason[still] = "no pelvis rotation at the step rhythm (gyroscope): not gait"
        keep &= ~still
    else:
        reg = _regularity(vb, s, e, bouts, b_idx, ic_pos, dec)
        irregular = keep & ~(reg >= params.min_regularity)
        reason[irregular] = "no repeating step pattern (noise, not gait)"
        keep &= ~irregular
    return GaitVerdict(bout=b_idx.astype(np.int64), off_axis_ratio=ratio, rotation_dps=rot, regularity=reg,
                       keep=keep, reason=tuple(str(r) for r in reason))


def _band(x: F64, win: int, bounds: I64) -> F64:
    """The gait band of block means: minus their moving mean over ``win`` samples (one period of
    the band's low edge, whose multiples it passes whole: strides and steps; slower drifts of
    posture, heading or a vehicle's sway are removed), per segment (never across a gap).
    """
    out = np.empty_like(x)
    edges = np.unique(np.clip(bounds, 0, x.shape[0]))
    for a, b in itertools.pairwise(edges):  # loop over segments (few), not samples
        out[a:b] = x[a:b] - uniform_filter1d(x[a:b], win, axis=0, mode="nearest")
    return out


def _off_axis_ratio(ab: F64, s: I64, e: I64) -> F64:
    """Per interval ``[s, e)`` of the (N, 3) band ``ab``: sqrt(second / largest eigenvalue) of its
    3 x 3 covariance (the band has a zero moving mean, so the second moment is used).
    """
    i, j = np.triu_indices(3)
    m = np.stack([_interval_mean(ab[:, a] * ab[:, b], s, e) for a, b in zip(i, j, strict=True)], axis=1)
    cov = np.empty((s.size, 3, 3))
    cov[:, i, j] = m
    cov[:, j, i] = m
    ev = np.linalg.eigvalsh(cov)  # ascending
    return np.asarray(np.sqrt(np.maximum(ev[:, 1], 0.0) / np.maximum(ev[:, 2], 1e-300)), dtype=np.float64)


def _interval_mean(x: F64, s: I64, e: I64) -> F64:
    c = np.concatenate([[0.0], np.cumsum(x)])
    return np.asarray((c[e] - c[s]) / np.maximum(e - s, 1), dtype=np.float64)


def _regularity(vb: F64, s: I64, e: I64, bouts: Bouts, b_idx: I64, ic_pos: F64, dec: int) -> F64:
    """Vertical autocorrelation at each bout's median step interval.

    A loop over bouts (a handful per session; each lag differs), vectorized inside.
    """
    out = np.full(b_idx.size, np.nan)
    step_bout = np.minimum(bouts.index_of(ic_pos), max(bouts.label.size - 1, 0))
    for k, b in enumerate(b_idx):
        ic = ic_pos[step_bout == b]
        if ic.size < 3:
            continue
        lag = float(np.median(np.diff(ic))) / dec  # fractional: ~4 samples a step at ~12.5 Hz
        li, frac = int(lag), lag - int(lag)
        x = vb[s[k]:e[k]]
        if li < 1 or x.size <= 2 * li + 2:
            continue
        a = x[:-li - 1]
        c = (1.0 - frac) * x[li:-1] + frac * x[li + 1:]  # x one step later, interpolated
        out[k] = float(np.dot(a, c) / max(np.sqrt(np.dot(a, a) * np.dot(c, c)), 1e-12))
    return out

