"""Stage 6 (a): per-step and per-stride metrics from the body-frame block and the steps.

All reductions are over step/stride intervals with ``reduceat`` on concatenated interval samples
or differences of one running sum; there is no loop over steps or samples. What changes over a
stride (pelvis angles, velocities, displacements) is a running integral read at each interval's
exact ends and at ~50 Hz between them.
Body frame: x forward, y left, z up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import find_peaks

from imuback.core import G_MPS2, ImuBlock
from imuback.signal.dsp import (
    block_mean,
    block_middles,
    decimated_bounds,
    interp_at,
    interval_indices,
    interval_max,
    interval_readings,
    lowpass,
    prefix_sum,
    step_to_50hz,
)
from imuback.signal.events import LEFT, RIGHT, Steps
from imuback.signal.params import MetricParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


_CHUNK = 1024
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
    braking_peak_g: F64
    braking_impulse_mps: F64
    pelvic_drop_deg: F64


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


def step_metrics(body: ImuBlock, steps: Steps, *, gyr_int_deg: F64 | None = None,
                 params: MetricParams = MetricParams()) -> StepMetrics:
    """Timing, impact, loading, vertical oscillation, braking and pelvic drop of every step.

    ``gyr_int_deg`` (3, N + 1): running integrals of the body-frame gyro (deg), for the pelvic
    drop; None without a gyroscope (drop is NaN).
    """
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
    s, e = contact_bounds(steps, body.n)
    impact, grf = interval_max(s, e, vz_g, lowpass(vz_g, params.grf_lowpass_hz, fs, body.seg_bounds))
    grf = np.where(run, _spring_mass_blend(grf, step_t, contact, params.grf_spring_mass_weight), np.nan)
    # loading-rate index: rise from IC to the first peak of the 30 Hz signal inside the contact
    x30 = lowpass(vz_g, params.loading_lowpass_hz, fs, body.seg_bounds)
    pk, _ = find_peaks(x30)
    j = np.searchsorted(pk, s)
    first_pk = pk[np.minimum(j, max(pk.size - 1, 0))] if pk.size else s
    ok = (j < pk.size) & (first_pk < e) & (first_pk > ic)
    rise = x30[np.minimum(first_pk, body.n - 1)] - interp_at(x30, ic) if n else np.zeros(0)
    loading = np.where(ok, rise / np.maximum((first_pk - ic) / fs, 1e-9), np.nan)
    del vz_g, x30  # full-rate: long sessions need the memory for what follows
    # vertical oscillation: vertical motion is step-periodic -> the vertical velocity (running
    # integral of a - g) over each step without its drift, integrated once more
    vo = np.full(n, np.nan)
    if nxt.any():
        vel = np.empty(body.n + 1)  # the prefix sum of a - g, built in place
        vel[0] = 0.0
        np.subtract(body.acc_mps2[:, 2], G_MPS2, out=vel[1:])
        np.cumsum(vel[1:], out=vel[1:])
        vel /= fs
        disp = prefix_sum(vel[:-1])
        disp /= fs
        r = interval_readings(ic[nxt], ic_next[nxt], step_to_50hz(fs), body.n, chord=False)
        vo[nxt] = 100.0 * r.excursion(vel, disp, fs)
        del vel, disp, r  # full-rate (and per reading): freed before the braking and the drop
    brake_g, brake_mps = _braking(body, steps, s, e, params=params)
    drop = (_pelvic_drop(gyr_int_deg[0], steps, s, e, fs_hz=fs) if gyr_int_deg is not None
            else np.full(n, np.nan))
    return StepMetrics(step_time_s=step_t, contact_time_s=contact, flight_time_s=flight,
                       cadence_spm=60.0 / step_t, impact_peak_g=impact, grf_peak_bw=grf,
                       loading_rate_g_per_s=loading, vertical_oscillation_cm=vo,
                       braking_peak_g=brake_g, braking_impulse_mps=brake_mps, pelvic_drop_deg=drop)


_MIN_DUTY = 0.3
"""Shortest contact, as a share of the step, taken at face value by the spring-mass peak:
(pi / 2) / 0.3 = 5.2 BW, about twice running's usual 2-3 BW peaks: a contact that short is a
contact edge out of place, not a runner."""


def contact_bounds(steps: Steps, n: int) -> tuple[I64, I64]:
    """(S,) each step's contact as sample intervals ``[s, e)`` of an ``n``-sample block: from the
    first sample at or after IC to the last at or before TO (empty without a TO).
    """
    s = np.ceil(steps.ic_pos).astype(np.int64)
    to = steps.to_pos
    e = np.minimum(np.where(np.isfinite(to), np.floor(np.nan_to_num(to)).astype(np.int64) + 1, s), n)
    return s, e


def _spring_mass_blend(sacral_bw: F64, step_time_s: F64, contact_time_s: F64, weight: float) -> F64:
    """Peak vGRF (BW) of running steps: the low-passed sacral peak ``sacral_bw`` blended with the
    spring-mass peak from the step's timing, (S,) each.

    Impulse-momentum over a step of a steady run: the vertical impulse of the contact carries
    body weight over the whole step, ``integral F dt = BW step_time``; for a half-sine contact
    (Blickhan 1989; Morin 2005) that integral is ``F_max (2 / pi) contact_time``, so
    ``F_max / BW = (pi / 2) step_time / contact_time``. Steps without a next step or without a
    flight (``contact_time < step_time`` fails), or whose contact is under ``_MIN_DUTY`` of the
    step (the half-sine peak would pass 5.2 BW: a misplaced contact edge), keep the sacral peak.
    """
    spring = spring_mass_peak_bw(step_time_s, contact_time_s)
    return np.where(np.isfinite(spring), (1.0 - weight) * sacral_bw + weight * spring, sacral_bw)


def spring_mass_peak_bw(step_time_s: F64, contact_time_s: F64) -> F64:
    """(S,) the spring-mass peak vGRF (BW) from a running step's timing alone,
    ``(pi / 2) step_time / contact_time`` (see :func:`_spring_mass_blend`); NaN for steps without
    a next step or a flight, or whose contact is under ``_MIN_DUTY`` of the step.
    """
    ok = (contact_time_s >= _MIN_DUTY * step_time_s) & (contact_time_s < step_time_s)  # False for NaN
    spring = np.full(step_time_s.shape, np.nan)
    spring[ok] = 0.5 * np.pi * step_time_s[ok] / contact_time_s[ok]
    return spring


def _contact_samples(s: I64, e: I64) -> tuple[I64, I64, I64, npt.NDArray[np.bool_]]:
    """(sample indices, per-contact lengths, first index of each, which contacts have samples)
    of the contacts ``[s, e)``, concatenated.
    """
    ok = e > s
    idx, lengths = interval_indices(s[ok], e[ok])
    return idx, lengths, np.cumsum(lengths) - lengths, ok


def _braking(body: ImuBlock, steps: Steps, s: I64, e: I64, *, params: MetricParams) -> tuple[F64, F64]:
    """(peak deceleration in g, braking impulse in m/s) of each step's contact ``[s, e)``.

    The forward specific force (body x) at ~50 Hz (block means), low-passed at
    ``params.braking_lowpass_hz``, minus its mean over the step (IC to the next IC): at a steady
    pace the body's forward velocity returns to its value each step, so the step mean is what a
    tilted sensor or a change of pace adds. Peak deceleration = the largest backward value in
    the contact; braking impulse = the integral of the backward part over the contact, the speed
    lost to braking in the step (cf. Garmin's step speed loss). NaN without a next step in the
    chain, and without a contact (no TO: walking steps), which has nothing to read.
    """
    n = steps.n
    peak, impulse = np.full(n, np.nan), np.full(n, np.nan)
    nxt = steps.has_next() & (e > s)
    q = step_to_50hz(body.fs_hz)
    if not nxt.any() or body.n < 2 * q:
        return peak, impulse
    fs_d = body.fs_hz / q
    ax = lowpass(block_mean(body.acc_mps2[:, 0], q), params.braking_lowpass_hz, fs_d,
                 decimated_bounds(body.seg_bounds, q))
    m = ax.size
    c = prefix_sum(ax)
    k = np.flatnonzero(nxt)
    a = np.minimum(np.ceil(steps.ic_pos[k] / q).astype(np.int64), m)
    b = np.minimum(np.ceil(steps.ic_pos[k + 1] / q).astype(np.int64), m)
    mean = (c[b] - c[a]) / np.maximum(b - a, 1)
    sd = np.minimum(s[k] // q, m - 1)  # the block holding the IC
    ed = np.minimum(np.maximum(-(-e[k] // q), sd + 1), m)
    idx, lengths, first, ok = _contact_samples(sd, ed)
    if idx.size:
        back = np.repeat(mean[ok], lengths) - ax[idx]  # deceleration, m/s²
        sel = k[ok]
        peak[sel] = np.maximum.reduceat(back, first) / G_MPS2
        impulse[sel] = np.add.reduceat(np.maximum(back, 0.0), first) / fs_d
    return peak, impulse


def _pelvic_drop(roll_int_deg: F64, steps: Steps, s: I64, e: I64, *, fs_hz: float) -> F64:
    """Contralateral pelvic drop (deg) during each step's stance (IC to TO): the largest fall of
    the swing side from its height at initial contact (a Trendelenburg-type sign when large).

    Body frame x forward, y left, z up: a positive roll (about +x) lifts the left side, so in left
    stance the right side drops with the roll rising, in right stance with it falling (checked on
    real walking: benchmarks/pelvic_drop_sign.py). The roll is the running integral of the gyro
    about x (``roll_int_deg``, (N + 1,)), read at IC, TO and ~50 Hz between, less the gyro's bias:
    the running median of the mean roll rates over a stride (:func:`_roll_bias_deg_per_sample`;
    the pelvis ends a stride as it began, so what remains is the bias: a consumer gyro's 5 deg/s
    would otherwise add 1.2 deg over a 0.25 s running contact, up on one side and down on the
    other, a false asymmetry).
    NaN for steps without a foot label or toe-off.
    """
    out = np.full(steps.n, np.nan)
    sign = np.where(steps.foot == LEFT, 1.0, np.where(steps.foot == RIGHT, -1.0, np.nan))
    sel = np.flatnonzero(np.isfinite(sign) & (e > s))
    if sel.size:
        n = roll_int_deg.size - 1
        ic = steps.ic_pos[sel]
        r = interval_readings(ic, np.minimum(steps.to_pos[sel], n - 1.0), step_to_50hz(fs_hz), n, chord=False)
        vals = r.read(roll_int_deg)
        bias = _roll_bias_deg_per_sample(roll_int_deg, steps)[sel]
        vals -= np.repeat(bias, r.lengths) * (r.pos - np.repeat(ic, r.lengths))
        change = np.repeat(sign[sel], r.lengths) * (vals - np.repeat(vals[r.first], r.lengths))
        out[sel] = np.maximum(np.maximum.reduceat(change, r.first), 0.0)
    return out


BIAS_HALF_WINDOW_STEPS = 10
"""The gyro's roll bias at a step: the median of the stride-mean roll rates of the steps within
this many steps of it in its chain (one stride alone carries the pelvis's own turns and speed
changes: on real walking that added 0.17 deg median, 0.85 deg p90 to a bias-free Xsens gyro)."""


def _roll_bias_deg_per_sample(roll_int_deg: F64, steps: Steps) -> F64:
    """(S,) the gyro's roll bias (deg per sample) at each step: the running median, over the
    steps within ``BIAS_HALF_WINDOW_STEPS`` of it in its chain, of the mean roll rate over the
    stride around each (from the step before to the step after). 0 in a chain without such a
    stride (fewer than 3 steps: too short to tell a bias from a movement).
    """
    ic, nxt = steps.ic_pos, steps.has_next()
    n = steps.n
    if n == 0:
        return np.zeros(0)
    prv = np.append(False, nxt[:-1])
    k = np.arange(n)
    mid = np.flatnonzero(prv & nxt)
    rate = np.full(n, np.nan)
    span = ic[mid + 1] - ic[mid - 1]
    rate[mid] = (interp_at(roll_int_deg, ic[mid + 1] + 0.5) - interp_at(roll_int_deg, ic[mid - 1] + 0.5)) / span
    # running median within the chain: a (S, 2h + 1) window, other chains' and unknown rates NaN
    h = BIAS_HALF_WINDOW_STEPS
    chain = np.cumsum(~prv)
    pad_rate = np.concatenate([np.full(h, np.nan), rate, np.full(h, np.nan)])
    pad_chain = np.concatenate([np.full(h, -1), chain, np.full(h, -1)])
    win = np.lib.stride_tricks.sliding_window_view(pad_rate, 2 * h + 1)
    same = np.lib.stride_tricks.sliding_window_view(pad_chain, 2 * h + 1) == chain[:, None]
    win = np.sort(np.where(same, win, np.nan), axis=1)  # NaN last
    cnt = np.count_nonzero(np.isfinite(win), axis=1)
    lo, hi = np.maximum(cnt - 1, 0) // 2, cnt // 2
    med = 0.5 * (win[k, lo] + win[k, np.minimum(hi, 2 * h)])
    return np.where(cnt > 0, med, 0.0)


def _asym(values: F64, foot: npt.NDArray[np.int8], k: I64) -> F64:
    """100 (L - R) / mean(L, R) for the two steps k, k+1 of each stride."""
    a, b = values[k], values[k + 1]
    left = np.where(foot[k] == LEFT, a, b)
    right = np.where(foot[k] == RIGHT, a, b)
    valid = (foot[k] != foot[k + 1]) & (foot[k] >= 0) & (foot[k + 1] >= 0)
    return np.where(valid, 100.0 * (left - right) / ((left + right) / 2.0), np.nan)


def stride_metrics(body: ImuBlock, steps: Steps, sm: StepMetrics, *, gyr_int_deg: F64 | None,
                   lateral_mps2: F64, lateral_int: F64) -> StrideMetrics:
    """Pelvis angle ranges, ML motion and asymmetry of every stride (IC to the next IC of the
    same foot).

    Pelvis angles: the running integrals of the body-frame gyro ``gyr_int_deg`` (3, N + 1) with
    its linear drift over the stride removed (the angle is periodic over a stride); range =
    max - min (deg). ML motion from the level-frame lateral acceleration ``lateral_mps2`` (N,)
    and its :func:`~imuback.signal.dsp.prefix_sum` ``lateral_int`` (N + 1,).
    """
    fs = body.fs_hz
    nxt = steps.has_next()
    k = np.flatnonzero(nxt[:-2] & nxt[1:-1]) if steps.n >= 3 else np.zeros(0, np.int64)
    a, b = steps.ic_pos[k], steps.ic_pos[k + 2]
    rot, obl, tilt, ml_cm = (np.full(k.size, np.nan) for _ in range(4))
    q = step_to_50hz(fs)
    vel = lateral_int / fs  # lateral velocity (running integral), m/s
    disp = prefix_sum(vel[:-1])
    disp /= fs
    # strides overlap (each step starts one): the integrals read once at every block middle
    # serve every stride between its ends
    mids = (block_middles(vel, q), block_middles(disp, q))
    gyr_mids = [] if gyr_int_deg is None else [block_middles(g, q) for g in gyr_int_deg]
    for c in range(0, k.size, _CHUNK):  # chunks of strides bound the memory of the readings
        sl = slice(c, c + _CHUNK)
        r = interval_readings(a[sl], b[sl], q, body.n)
        if gyr_int_deg is not None:  # roll (about x), pitch (y), yaw (z)
            obl[sl], tilt[sl], rot[sl] = (r.range(r.minus_chord(r.read(g, m)))
                                          for g, m in zip(gyr_int_deg, gyr_mids, strict=True))
        ml_cm[sl] = 100.0 * r.excursion(vel, disp, fs, mids)
    del vel, disp, mids, gyr_mids  # full-rate (and ~50 Hz): the memory for the running sum of a²
    # ML RMS about the stride's mean, over its whole samples, from running sums of a and a²
    st = np.ceil(a).astype(np.int64)
    en = np.maximum(np.floor(b).astype(np.int64) + 1, st + 1)
    sq = np.empty(lateral_mps2.size + 1)  # the prefix sum of a², built in place
    sq[0] = 0.0
    np.multiply(lateral_mps2, lateral_mps2, out=sq[1:])
    np.cumsum(sq[1:], out=sq[1:])
    mean = (lateral_int[en] - lateral_int[st]) / (en - st)
    ml_rms = np.sqrt(np.maximum((sq[en] - sq[st]) / (en - st) - mean * mean, 0.0)) / G_MPS2
    return StrideMetrics(
        first_step=k.astype(np.int64),
        stride_time_s=(steps.ic_pos[k + 2] - steps.ic_pos[k]) / fs,
        pelvis_rotation_deg=rot, pelvis_obliquity_deg=obl, pelvis_tilt_deg=tilt,
        ml_excursion_cm=ml_cm, ml_acc_rms_g=ml_rms,
        impact_asymmetry_pct=_asym(sm.impact_peak_g, steps.foot, k),
        contact_asymmetry_pct=_asym(sm.contact_time_s, steps.foot, k),
    )


def step_lengths(speed_mps: F64, step_time_s: F64, vertical_oscillation_cm: F64) -> tuple[F64, F64]:
    """(step length in m, vertical ratio in %) of every step from its speed, (S,) each.

    Step length = speed x step time: one foot's IC to the other foot's next IC (what Garmin calls
    "stride length"). Vertical ratio = 100 x vertical oscillation / step length (Garmin's
    definition, over that same footfall-to-footfall length): with the oscillation in cm and the
    length in m, ``vertical_oscillation_cm / step_length_m``. NaN where the speed or step time is
    missing or the length is not positive.
    """
    length = speed_mps * step_time_s
    ok = length > 0  # False for NaN
    ratio = np.full(length.shape, np.nan)
    ratio[ok] = vertical_oscillation_cm[ok] / length[ok]
    return np.where(ok, length, np.nan), ratio


def stride_lengths(step_length_m: F64, first_step: I64) -> F64:
    """Length (m) of every stride: the sum of its two steps (``first_step`` and the next), which is
    the mean speed over the stride x stride time. NaN where either step has no length.
    """
    return step_length_m[first_step] + step_length_m[first_step + 1]
