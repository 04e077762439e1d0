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
3. **Step coupling** (accelerometer only, without a gyroscope): every heel strike brakes the trunk
   as it loads it, so within each step the horizontal (braking/propulsion) acceleration keeps the
   same phase relative to the vertical one, step after step, however irregular the steps' timing,
   length or heading (stops, turns, variable cadence). Per step (IC to next IC) each axis's
   Fourier coefficient at one cycle per step; their cross product ``H conj(V)`` has a consistent
   direction in gait; in noise the horizontal is independent of the vertical (on which the steps
   were found) and the products cancel (chance level ~ 1 / sqrt(steps)): a bout needs both a
   coupling and enough steps for it to be unlikely by chance (Rayleigh's test). The cross product
   does not depend on where in the step the IC was put, and the horizontal is taken as a 3-vector
   (no heading needed). Not told apart: a machine whose vibration traces an ellipse (a rotating
   unbalance) is coupled and off-axis; without a gyroscope it passes, as it passed the regularity
   before.

Each bout (see :mod:`imuback.signal.activity`) that holds steps is judged as a whole; all its
steps are kept or dropped together, and a dropped bout gives a plain-language reason.

Per step, once the body frame is known (:func:`seated_lone_steps`): a walking step with no other
walking step within a step's time either side, made with the trunk reclined behind its walking
posture before and after it, is a movement while seated (a reach, a shift on the chair), not a
step. A step in a rhythm is never judged by posture (a re-seated sensor or a slope changes it).
Thresholds: see :class:`~imuback.signal.params.GaitCheckParams` (each with the figures it was
chosen from).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from imuback.signal.activity import WALK, Bouts
from imuback.signal.dsp import block_mean, decimated_bounds, lowpass
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
    step_coupling : (B,) consistency (0..1) of the horizontal-vertical phase from step to step:
        ``|sum_k H_k conj(V_k)| / sum_k |H_k conj(V_k)|`` over the bout's steps; NaN with a
        gyroscope (not needed there) and with fewer than 2 steps.
    coupling_steps : (B,) the steps it was computed over (0 with a gyroscope); its chance level
        in noise is ~1 / sqrt(coupling_steps).
    keep : (B,) whether the bout shows gait.
    reason : (B,) empty where kept, else why not.
    """

    bout: I64
    off_axis_ratio: F64
    rotation_dps: F64
    step_coupling: F64
    coupling_steps: I64
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
    step_bout = np.minimum(bouts.index_of(ic_pos), max(bouts.label.size - 1, 0))
    b_idx = np.unique(step_bout)
    nb = b_idx.size
    if nb == 0 or acc_d.shape[0] < 8 * max(1, round(fs_d_hz / 12.5)):
        z = np.zeros(nb)
        return GaitVerdict(bout=b_idx.astype(np.int64), off_axis_ratio=z, rotation_dps=z, step_coupling=z,
                           coupling_steps=np.zeros(nb, np.int64),
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
    s = np.minimum(bouts.start_idx[b_idx] // dec, ab.shape[0] - 1)
    e = np.maximum(np.minimum(-(-bouts.end_idx[b_idx] // dec), ab.shape[0]), s + 1)
    ratio = _off_axis_ratio(ab, s, e)
    keep = ratio >= params.min_off_axis_ratio
    reason = np.where(keep, "", "motion along one line only at the step rhythm (a vibration, e.g. a vehicle "
                                "or machine, not gait)").astype(object)
    rot = np.full(nb, np.nan)
    coupling = np.full(nb, np.nan)
    coupling_steps = np.zeros(nb, np.int64)
    if gyr_d_dps is not None:
        gb = _band(gyr_d_dps, win, bd)
        rot = np.sqrt(_interval_mean(np.einsum("ij,ij->i", gb, gb), s, e))
        still = keep & (rot < params.min_rotation_dps)
        reason[still] = "no pelvis rotation at the step rhythm (gyroscope): not gait"
        keep &= ~still
    else:
        coupling, coupling_steps = _step_coupling(ab, up, bd, step_bout, b_idx, ic_pos / dec,
                                                  max_step_ratio=params.max_step_ratio)
        uncoupled = keep & ~((coupling >= params.min_step_coupling)
                             & (coupling_steps * coupling**2 >= params.min_coupling_evidence))
        reason[uncoupled] = ("no consistent coupling of the forward and vertical acceleration from step to step "
                             "(noise, not gait)")
        few = uncoupled & (coupling >= params.min_step_coupling)  # coupled, but too few steps to tell chance
        reason[(keep & np.isnan(coupling)) | few] = "too few steps to show gait's structure without a gyroscope"
        keep &= ~uncoupled
    return GaitVerdict(bout=b_idx.astype(np.int64), off_axis_ratio=ratio, rotation_dps=rot, step_coupling=coupling,
                       coupling_steps=coupling_steps, keep=keep, reason=tuple(str(r) for r in reason))


def seated_lone_steps(acc_body_mps2: F64, ic_pos: F64, activity: npt.NDArray[np.int8], *, fs_hz: float,
                      bounds: I64, dec: int, max_step_s: float,
                      params: GaitCheckParams = GaitCheckParams()) -> npt.NDArray[np.bool_]:
    """(S,) the walking steps made while seated: lone, and reclined before and after.

    Parameters
    ----------
    acc_body_mps2 : (N, 3) specific force (m/s²), body frame (x forward, y left, z up).
    ic_pos : (S,) step IC positions (full-rate samples, sorted); ``activity`` (S,) their labels.
    bounds : segment bounds (full rate); ``dec`` the decimation to ~50 Hz.
    max_step_s : the longest step: a walking step with no other within it either side is lone.

    The pitch (deg, + leaning back) is gravity's forward share in the 0.5 Hz low-passed specific
    force; the session's walking posture its median at the ICs of walking steps that are not lone
    (none: no test). A lone step is seated where the mean pitch over ``seated_window_s`` before
    and after its IC (inside its segment) are both ``seated_deg`` or more behind that posture.
    Computed only where there are lone walking steps (the filter costs nothing otherwise).
    """
    out = np.zeros(ic_pos.size, dtype=bool)
    w = np.flatnonzero(activity == WALK)
    if w.size < 2 or params.seated_deg <= 0:
        return out
    far = np.diff(ic_pos[w]) > max_step_s * fs_hz
    lone = np.append(far, True) & np.insert(far, 0, True)
    if not lone.any() or lone.all():
        return out
    fs_d = fs_hz / dec
    bd = decimated_bounds(bounds, dec)
    lp = lowpass(acc_body_mps2[::dec][:, [0, 2]], 0.5, fs_d, bd)
    pitch = np.degrees(np.arctan2(lp[:, 0], lp[:, 1]))
    p = np.clip(np.round(ic_pos[w] / dec).astype(np.int64), 0, pitch.size - 1)
    posture = float(np.median(pitch[p[~lone]]))
    c = np.concatenate([[0.0], np.cumsum(pitch - posture)])
    seg = np.clip(np.searchsorted(bd, p[lone], side="right") - 1, 0, bd.size - 2)
    lo_s, hi_s = params.seated_window_s
    reclined = np.ones(int(lone.sum()), dtype=bool)
    for sign in (-1, 1):  # before, after
        a = p[lone] + sign * round((lo_s if sign > 0 else hi_s) * fs_d)
        b = p[lone] + sign * round((hi_s if sign > 0 else lo_s) * fs_d)
        a, b = np.clip(a, bd[seg], bd[seg + 1]), np.clip(b, bd[seg], bd[seg + 1])
        mean = np.where(b > a, (c[b] - c[a]) / np.maximum(b - a, 1), -np.inf)  # no posture: not reclined
        reclined &= mean >= params.seated_deg
    out[w[lone]] = reclined
    return out


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


def _step_coupling(ab: F64, up: F64, bounds: I64, step_bout: I64, b_idx: I64, ic: F64, *,
                   max_step_ratio: float) -> tuple[F64, I64]:
    """Per bout in ``b_idx``: ``|sum_k z_k| / sum_k |z_k|``, ``z_k = H_k conj(V_k)`` (3 complex
    components), over its steps k (IC k to IC k + 1, both in that bout and one segment, at most
    ``max_step_ratio`` times the bout's median step); and the number of those steps.

    ``ab`` (N, 3) the gait band, ``up`` (3,) the vertical, ``bounds`` the segment bounds and ``ic``
    (S,) the step ICs (sorted), all in samples of ``ab`` (the ICs fractional); ``step_bout`` (S,)
    each IC's bout. ``H_k``, ``V_k``: the horizontal (3-vector) and vertical Fourier coefficients at
    one cycle per step. Vectorized: the steps' samples laid out run after run (``np.repeat``), each
    run summed by ``np.add.reduceat``.
    """
    nb, n = b_idx.size, ab.shape[0]
    out, count = np.full(nb, np.nan), np.zeros(nb, np.int64)
    if ic.size < 2 or n == 0:
        return out, count
    dur = np.diff(ic)
    seg = np.searchsorted(np.unique(bounds), ic, side="right")
    sel = np.flatnonzero((step_bout[1:] == step_bout[:-1]) & (seg[1:] == seg[:-1]) & (dur > 0) & (ic[1:] < n))
    where = np.searchsorted(b_idx, step_bout[sel])  # every step's bout is one of b_idx
    # an interval far longer than the bout's median step is a pause or a missed step, not a step
    n_cand = np.bincount(where, minlength=nb)
    first = np.concatenate([[0], np.cumsum(n_cand)[:-1]])
    median = dur[sel][np.lexsort((dur[sel], where))][np.minimum(first + (n_cand - 1) // 2, max(sel.size - 1, 0))] \
        if sel.size else np.zeros(nb)
    steps = sel[dur[sel] <= max_step_ratio * median[where]]
    # the samples of step j: ceil(ic_j) .. ceil(ic_j+1) - 1, laid out step after step
    first_t = np.ceil(ic).astype(np.int64)
    n_t = np.clip(np.minimum(first_t[steps + 1], n) - first_t[steps], 0, None)
    steps, n_t = steps[n_t > 0], n_t[n_t > 0]
    if steps.size == 0:
        return out, count
    start = np.concatenate([[0], np.cumsum(n_t)[:-1]])  # each step's run of samples
    k = np.repeat(steps, n_t)
    t = np.arange(k.size) - np.repeat(start, n_t) + first_t[k]
    phase = 2.0 * np.pi * (t - ic[k]) / dur[k]  # one cycle per step
    x = ab[t]
    coef = (np.add.reduceat(x * np.cos(phase)[:, None], start, axis=0)
            - 1j * np.add.reduceat(x * np.sin(phase)[:, None], start, axis=0))  # (steps, 3): sensor axes
    vc = coef @ up  # V_k; the projections are linear, so taken per step, not per sample
    z = (coef - vc[:, None] * up) * np.conj(vc)[:, None]  # (steps, 3): H_k conj(V_k)
    b = np.searchsorted(b_idx, step_bout[steps])
    zsum = np.stack([np.bincount(b, z[:, j].real, minlength=nb) + 1j * np.bincount(b, z[:, j].imag, minlength=nb)
                     for j in range(3)], axis=1)
    mag = np.bincount(b, np.linalg.norm(z, axis=1), minlength=nb)
    count = np.bincount(b, minlength=nb)
    has = (count >= 2) & (mag > 0)
    out[has] = np.linalg.norm(zsum[has], axis=1) / mag[has]
    return out, count
