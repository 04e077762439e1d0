"""Synthetic runner session: a sacrum-worn 6-axis IMU along a physically consistent trajectory.

The simulator is the ground truth for every test and the embedded default of ``imuback demo``.
It is built from physics and published gait data, never from how a pipeline detects things:

1. Plan the session: standing, walking and running segments, pace changes, turns.
2. Draw every foot contact (step time, contact time, impact, asymmetry, fatigue, foot).
3. Vertical ground reaction force per contact, in body weights (BW): an active hump
   ``A [sin(pi u) + q sin(3 pi u) + r sin(2 pi u)]`` over the contact (Alexander & Jayes 1978; ``q`` is
   their shape factor: < 0 running, > 0 the walking double hump) plus a rearfoot impact transient
   (Hann bump, Cavanagh & Lafortune 1980; Clark et al. 2017). Vertical momentum balance: over
   each step the force impulse equals body weight x step time; a per-step controller adjusts the
   impulse slightly so the centre of mass (CoM) height stays periodic (no drift).
4. CoM acceleration ``a_z = g (F - 1)``; velocity and position are closed-form integrals.
   The sacrum is not the CoM: a damped soft-tissue oscillation (12-25 Hz, randomised per step,
   zero net velocity and displacement) is added at each impact.
5. Horizontal: braking then propulsion (zero net impulse), mediolateral push away from the
   stance foot (right contact pushes +y), centripetal acceleration in turns.
6. Pelvis orientation: yaw/roll at stride frequency, pitch at step frequency, heading turns and
   lean into turns; gyroscope = body angular velocity from the ZYX Euler-rate mapping.
7. Sensor: mounting (nominal + random misalignment), white noise, bias, range clipping,
   quantisation, timestamp jitter, gaps (missing rows).

Frames: world x forward (initial heading), y left, z up; body = pelvis frame with the same axes when
the pelvis is neutral; ``v_body = R @ v_sensor``. Units in every name. See docs/simulator.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from imuback.errors import ImubackError
from imuback.signal.frames import G_MPS2, rot_x, rot_y, rot_z, rotation_angle_deg
from imuback.store import schema as S
from imuback.store.raw import RawSession, check_id, write_raw

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

TRUTH_FS_HZ = 250.0
"""Rate of the noise-free grid the truth tables are measured on (Hz); peaks refined at 1 kHz."""
FORCE_PLATE_THRESHOLD_N = 50.0
"""IC / TO = vertical GRF of the foot rises above / falls below this force (force-plate convention)."""

NOMINAL_MOUNTINGS: dict[str, tuple[tuple[float, ...], ...]] = {
    # chip x forward, y left, z up (the body frame itself)
    "identity": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    # McRoberts MoveMonitor-like: chip x up, y right, z forward
    "mcroberts": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),
    # clip on the waistband at the back, chip upright: x right, y up, z backward
    "clip-y-up": ((0.0, 0.0, -1.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
}
"""Nominal mountings ``R`` (rows = body axes in sensor coordinates, ``v_body = R @ v_sensor``)."""

_STRIKE_IMPACT_BW = {"rearfoot": 0.8, "midfoot": 0.35, "forefoot": 0.05}
"""Impact transient amplitude above the active curve (BW) per foot-strike pattern.

Rearfoot strikers show an impact peak of ~1.5-2 BW some 20-30 ms after contact, forefoot
strikers barely any (Cavanagh & Lafortune 1980; Lieberman et al. 2010; Clark et al. 2017).
"""


class SimulationError(ImubackError, ValueError):
    """The simulator was given parameters it cannot turn into a plausible session."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerParams:
    """Every knob of the simulated session, with defaults from DOMAIN.md and the literature.

    Session structure: ``stand_start_s`` standing, ``walk_start_s`` walking, ``run_minutes`` of
    running (split by ``walk_breaks`` walking breaks of ``walk_break_s``), ``walk_end_s`` walking,
    ``stand_end_s`` standing. Typical values (DOMAIN.md "Typical values"): cadence 150-190 spm,
    contact 200-300 ms, vertical oscillation 6-13 cm, pelvis tilt ~6-7 deg, obliquity ~8-10 deg,
    rotation ~10-16 deg (ranges). Walking: cadence 100-120 spm, duty factor ~0.6, double-hump vGRF
    (Alexander & Jayes 1978; Perry 1992). Running vGRF: active peak 2-3 BW, rearfoot impact peak
    1.5-2 BW at 20-30 ms (Cavanagh & Lafortune 1980; Clark et al. 2017). Braking/propulsive peaks
    ~0.3-0.5 BW; mediolateral peaks ~0.1 BW (Munro et al. 1987). Sensor: MEMS IMU datasheet values
    (e.g. ST LSM6DSO: 70-100 ug/sqrt(Hz), 3.8 mdps/sqrt(Hz), zero-g offset +-20-40 mg, zero-rate
    offset +-1 dps). Soft-tissue (wobbling-mass) oscillation at the sacrum 12-25 Hz (Pain & Challis
    2001; Alcantara et al. 2022 show sacral peaks well above the vGRF peak unless low-passed).
    Fatigue: contact time and impact rise, pelvis motion and lateral sway grow over a run
    (e.g. Schutte et al. 2016; Clermont et al. 2019). Percentages are "by the end of the run".
    """

    # --- session structure ---------------------------------------------------------------
    run_minutes: float = 12.0
    stand_start_s: float = 15.0
    stand_end_s: float = 15.0
    walk_start_s: float = 45.0
    walk_end_s: float = 60.0
    walk_breaks: int = 0
    walk_break_s: float = 40.0
    # --- running gait -----------------------------------------------------------------------
    cadence_spm: float = 170.0
    contact_time_s: float = 0.245
    step_time_cv: float = 0.015
    contact_time_cv: float = 0.03
    speed_mps: float = 3.2
    speed_changes: int = 2
    speed_change_pct: float = 8.0
    # --- vertical force ---------------------------------------------------------------------
    foot_strike: Literal["rearfoot", "midfoot", "forefoot"] = "rearfoot"
    impact_transient_bw: float | None = None
    impact_time_s: float = 0.025
    impact_cv: float = 0.15
    active_shape_q: float = -0.10
    body_mass_kg: float = 70.0
    # --- soft tissue at the sacrum ------------------------------------------------------
    wobble_freq_hz: tuple[float, float] = (12.0, 25.0)
    wobble_decay_per_rad: float = 0.4
    wobble_base_g: float = 0.3
    wobble_g_per_bw: float = 1.2
    wobble_cv: float = 0.2
    # --- horizontal forces ------------------------------------------------------------------
    ap_peak_bw: float = 0.35
    ml_peak_bw: float = 0.12
    turns_per_10min: float = 2.0
    # --- left/right asymmetry, 100 (L - R) / mean ---------------------------------------
    contact_asymmetry_pct: float = 0.0
    impact_asymmetry_pct: float = 0.0
    # --- fatigue drift over the running time (% by the end of the run) ---------------------
    fatigue_contact_pct: float = 5.0
    fatigue_impact_pct: float = 10.0
    fatigue_pelvis_pct: float = 15.0
    fatigue_ml_pct: float = 15.0
    # --- pelvis ranges (max - min over a stride, deg) --------------------------------------
    pelvis_rotation_deg: float = 13.0
    pelvis_obliquity_deg: float = 9.0
    pelvis_tilt_deg: float = 6.5
    pelvis_cv: float = 0.08
    # --- walking ------------------------------------------------------------------------------
    walk_cadence_spm: float = 112.0
    walk_duty_factor: float = 0.62
    walk_shape_q: float = 0.35
    walk_speed_mps: float = 1.35
    walk_ap_peak_bw: float = 0.2
    walk_ml_peak_bw: float = 0.05
    walk_pelvis_rotation_deg: float = 9.0
    walk_pelvis_obliquity_deg: float = 7.0
    walk_pelvis_tilt_deg: float = 3.0
    # --- mounting ------------------------------------------------------------------------------
    mounting: str = "identity"
    misalignment_deg: float = 25.0
    misalignment_exact: bool = False
    # --- sensor ------------------------------------------------------------------------------
    sensor: str = "imuback-sim"
    sample_rate_hz: float = 200.0
    noise: bool = True
    acc_noise_ug_per_rthz: float = 150.0
    gyr_noise_mdps_per_rthz: float = 7.0
    acc_bias_mg: float = 30.0
    gyr_bias_dps: float = 1.0
    acc_range_g: float = 16.0
    gyr_range_dps: float = 2000.0
    quantize: bool = True
    timestamp_jitter_us: float = 0.0
    gaps_per_hour: float = 6.0
    gap_s: tuple[float, float] = (0.2, 4.0)

    def __post_init__(self) -> None:
        checks = [
            (self.run_minutes >= 0, "run_minutes must be >= 0"),
            (min(self.stand_start_s, self.stand_end_s, self.walk_start_s, self.walk_end_s,
                 self.walk_break_s) >= 0, "segment durations must be >= 0"),
            (self.stand_start_s >= 1.0 and self.stand_end_s >= 1.0,
             "stand_start_s and stand_end_s must be >= 1 s (the sensor needs a still start and end)"),
            (120.0 <= self.cadence_spm <= 230.0, "cadence_spm must be within 120-230"),
            (0.12 <= self.contact_time_s <= 0.45, "contact_time_s must be within 0.12-0.45 s"),
            (self.contact_time_s < 0.9 * 60.0 / self.cadence_spm,
             "contact_time_s must be shorter than 90 % of the step time (running has flight)"),
            (70.0 <= self.walk_cadence_spm <= 140.0, "walk_cadence_spm must be within 70-140"),
            (0.55 <= self.walk_duty_factor <= 0.7, "walk_duty_factor must be within 0.55-0.70"),
            (self.foot_strike in _STRIKE_IMPACT_BW, f"foot_strike must be one of {list(_STRIKE_IMPACT_BW)}"),
            (self.mounting in NOMINAL_MOUNTINGS, f"mounting must be one of {list(NOMINAL_MOUNTINGS)}"),
            (0.0 <= self.misalignment_deg <= 90.0, "misalignment_deg must be within 0-90"),
            (25.0 <= self.sample_rate_hz <= 3200.0, "sample_rate_hz must be within 25-3200"),
            (self.wobble_freq_hz[0] > 0 and self.wobble_freq_hz[0] <= self.wobble_freq_hz[1],
             "wobble_freq_hz must be (low, high) with 0 < low <= high"),
            (0.25 <= self.wobble_decay_per_rad <= 2.0, "wobble_decay_per_rad must be within 0.25-2"),
            (-0.3 <= self.active_shape_q <= 0.1, "active_shape_q must be within -0.3..0.1"),
            (0.0 <= self.walk_shape_q <= 0.45, "walk_shape_q must be within 0-0.45"),
            (abs(self.contact_asymmetry_pct) <= 40 and abs(self.impact_asymmetry_pct) <= 80,
             "asymmetries must be within +-40 % (contact) and +-80 % (impact)"),
            (self.gaps_per_hour >= 0 and 0 < self.gap_s[0] <= self.gap_s[1],
             "gaps_per_hour must be >= 0 and gap_s (min, max) positive"),
            (self.body_mass_kg > 20, "body_mass_kg must be > 20"),
            (self.acc_range_g > 1.5 and self.gyr_range_dps > 0, "sensor ranges must be positive"),
        ]
        for ok, msg in checks:
            if not ok:
                raise SimulationError(f"RunnerParams: {msg}")

    @property
    def impact_bw(self) -> float:
        """Impact transient amplitude (BW) actually used."""
        if self.impact_transient_bw is not None:
            return float(self.impact_transient_bw)
        return _STRIKE_IMPACT_BW[self.foot_strike]

    def to_json_dict(self) -> dict[str, Any]:
        """All knobs as JSON-friendly values."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthSignals:
    """Noise-free per-sample signals at the rows of ``raw`` (for tests and plots).

    Attributes
    ----------
    t_s : (N,) float64 true sample time, s since session start (without timestamp jitter).
    acc_sensor_mps2 : (N, 3) noise-free specific force in the sensor frame, m/s².
    gyr_sensor_dps : (N, 3) noise-free angular velocity in the sensor frame, deg/s.
    euler_zyx_rad : (N, 3) pelvis yaw (incl. heading), pitch, roll in rad: ``R_world_from_body =
        rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)``.
    vgrf_bw : (N,) total vertical GRF, body weights.
    z_m, y_m : (N,) sacral vertical / mediolateral (path frame) position, m.
    """

    t_s: F64
    acc_sensor_mps2: F64
    gyr_sensor_dps: F64
    euler_zyx_rad: F64
    vgrf_bw: F64
    z_m: F64
    y_m: F64


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedSession:
    """One simulated session: the raw recording and its ground truth.

    Attributes
    ----------
    raw : the recording in the sensor frame, as a collector would have written it.
    truth_steps : one row per foot contact (see docs/simulator.md for columns).
    truth_strides : one row per stride (every step that has two following steps in its bout).
    truth : JSON-serialisable dict: true mounting, misalignment, biases, gaps, segments, params.
    signals : optional noise-free per-sample signals (``simulate_session(keep_signals=True)``).
    """

    raw: RawSession
    truth_steps: pa.Table
    truth_strides: pa.Table
    truth: dict[str, Any]
    signals: TruthSignals | None = None


# =========================================================================================
# 1. Session plan
# =========================================================================================


@dataclass(frozen=True, slots=True, kw_only=True)
class _Steps:
    """Per-contact arrays, time-ordered (s = support start in s since session start)."""

    s: F64
    T: F64
    tc: F64
    side: F64  # +1 right foot, -1 left foot
    run: B8
    bout: I64
    first: B8
    last: B8
    fatigue: F64  # 0..1 fraction of the running time elapsed
    pace: F64  # speed factor (1 = params.speed_mps)


def _smoothstep(x: F64) -> tuple[F64, F64, F64]:
    """G(x) = x - sin(2 pi x)/(2 pi) on [0, 1], clamped; and its first two derivatives in x."""
    xc = np.clip(x, 0.0, 1.0)
    inside = (x > 0.0) & (x < 1.0)
    g = xc - np.sin(2 * np.pi * xc) / (2 * np.pi)
    g1 = np.where(inside, 1.0 - np.cos(2 * np.pi * xc), 0.0)
    g2 = np.where(inside, 2 * np.pi * np.sin(2 * np.pi * xc), 0.0)
    return g, g1, g2


@dataclass(frozen=True, slots=True, kw_only=True)
class _Transitions:
    """A sum of smooth steps: value(t) = sum_i delta_i G((t - t_i) / d_i)."""

    t0: F64
    d: F64
    delta: F64

    def eval(self, t: F64) -> tuple[F64, F64, F64]:
        """Value, first and second time derivative at sorted ``t`` (loop over few transitions)."""
        v, v1, v2 = np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)
        for t0, d, dl in zip(self.t0, self.d, self.delta, strict=True):  # few transitions
            i0, i1 = np.searchsorted(t, [t0, t0 + d])
            g, g1, g2 = _smoothstep((t[i0:i1] - t0) / d)
            v[i0:i1] += dl * g
            v[i1:] += dl
            v1[i0:i1] += dl * g1 / d
            v2[i0:i1] += dl * g2 / (d * d)
        return v, v1, v2


def _plan(p: RunnerParams, rng: np.random.Generator) -> list[tuple[str, float]]:
    """Segments (kind, planned duration s) in order."""
    segs: list[tuple[str, float]] = [("stand", p.stand_start_s)]
    if p.walk_start_s > 0:
        segs.append(("walk", p.walk_start_s))
    run_s = p.run_minutes * 60.0
    if run_s > 0:
        n_blocks = p.walk_breaks + 1
        for i in range(n_blocks):
            segs.append(("run", run_s / n_blocks))
            if i < n_blocks - 1 and p.walk_break_s > 0:
                segs.append(("walk", p.walk_break_s))
    if p.walk_end_s > 0:
        segs.append(("walk", p.walk_end_s))
    segs.append(("stand", p.stand_end_s))
    return segs


def _make_steps(p: RunnerParams, segs: list[tuple[str, float]], rng: np.random.Generator,
                pace_fn: _Transitions) -> tuple[_Steps, list[dict[str, Any]]]:
    """Draw every contact; return the steps and the actual segment times."""
    parts: dict[str, list[F64]] = {k: [] for k in ("s", "T", "tc", "run", "bout", "pace")}
    side_parts: list[F64] = []
    seg_log: list[dict[str, Any]] = []
    cursor = 0.0
    bout = -1
    prev_gait = False
    next_side = 1.0
    for kind, dur in segs:  # a handful of segments
        if kind == "stand":
            seg_log.append({"kind": kind, "start_s": cursor, "end_s": cursor + dur})
            cursor += dur
            prev_gait = False
            continue
        if not prev_gait:
            bout += 1
            next_side = float(rng.choice([-1.0, 1.0]))
        run = kind == "run"
        t_end = cursor + dur
        cad0 = p.cadence_spm if run else p.walk_cadence_spm
        n_max = int(np.ceil(dur * cad0 / 60.0 * 1.3)) + 4
        t_approx = np.asarray(cursor + np.arange(n_max) * 60.0 / cad0, dtype=np.float64)
        pace = 1.0 + pace_fn.eval(t_approx)[0] if run else np.ones(n_max)
        cad = cad0 * pace**0.35 if run else np.full(n_max, cad0)  # cadence rises slowly with speed
        eps = np.clip(rng.standard_normal(n_max), -3, 3)
        T = 60.0 / cad * (1.0 + p.step_time_cv * eps)
        s = cursor + np.concatenate([[0.0], np.cumsum(T[:-1])])
        keep = s < t_end
        n = int(keep.sum())
        if n == 0:
            continue
        s, T, pace = s[:n], T[:n], pace[:n]
        if run:
            tc = p.contact_time_s * pace ** -0.6  # contact shortens with speed (Weyand 2000)
        else:
            tc = p.walk_duty_factor * 2.0 * T
        sides = np.asarray(next_side * (-1.0) ** np.arange(n), dtype=np.float64)
        next_side = -sides[-1]
        parts["s"].append(s)
        parts["T"].append(T)
        parts["tc"].append(np.asarray(tc, dtype=float))
        parts["run"].append(np.full(n, run))
        parts["bout"].append(np.full(n, bout))
        parts["pace"].append(np.asarray(pace, dtype=float))
        side_parts.append(sides)
        seg_log.append({"kind": kind, "start_s": cursor, "end_s": float(s[-1] + T[-1])})
        cursor = float(s[-1] + T[-1])
        prev_gait = True
    if not parts["s"]:
        empty = np.zeros(0)
        return _Steps(s=empty, T=empty, tc=empty, side=empty, run=empty.astype(bool),
                      bout=empty.astype(np.int64), first=empty.astype(bool), last=empty.astype(bool),
                      fatigue=empty, pace=empty), seg_log
    s = np.concatenate(parts["s"])
    bout_a = np.concatenate(parts["bout"]).astype(np.int64)
    run_a = np.concatenate(parts["run"]).astype(bool)
    first = np.r_[True, bout_a[1:] != bout_a[:-1]]
    last = np.r_[bout_a[1:] != bout_a[:-1], True]
    # fatigue: fraction of the cumulative running time elapsed at each step
    T_a = np.concatenate(parts["T"])
    run_time = np.cumsum(np.where(run_a, T_a, 0.0)) - np.where(run_a, T_a, 0.0)
    total_run = max(float(np.sum(np.where(run_a, T_a, 0.0))), 1e-9)
    fatigue = np.clip(run_time / total_run, 0.0, 1.0)
    steps = _Steps(s=s, T=T_a, tc=np.concatenate(parts["tc"]), side=np.concatenate(side_parts),
                   run=run_a, bout=bout_a, first=first, last=last, fatigue=fatigue,
                   pace=np.concatenate(parts["pace"]))
    return steps, seg_log


# =========================================================================================
# 2. Force components (closed-form force I0, impulse I1 = int F, position I2 = int int F)
# =========================================================================================


def _sine_series(tau: F64, tc: F64, coefs: list[tuple[int, F64]], amp: F64,
                 order: int) -> tuple[F64, F64, F64]:
    """Sine series ``amp * sum_n c_n sin(n pi tau / tc)`` on [0, tc] (n <= 3); (I0, I1, I2).

    I1 and I2 are the first and second time integrals from tau = 0; past the end they continue
    as constant impulse and linear position. Trigonometry only inside the support.
    """
    i0, i1, i2 = np.zeros_like(tau), np.zeros_like(tau), np.zeros_like(tau)
    ins = np.flatnonzero((tau > 0.0) & (tau < tc))
    aft = np.flatnonzero(tau >= tc)
    tci, ampi = tc[ins], amp[ins]
    u = tau[ins] / tci
    s1, c1 = np.sin(np.pi * u), np.cos(np.pi * u)
    sin_n = {1: s1, 2: 2.0 * s1 * c1, 3: s1 * (3.0 - 4.0 * s1 * s1)}
    cos_n = {1: c1, 2: c1 * c1 - s1 * s1, 3: c1 * (4.0 * c1 * c1 - 3.0)}
    f0, f1, f2 = np.zeros(ins.size), np.zeros(ins.size), np.zeros(ins.size)
    e1, e2 = np.zeros(aft.size), np.zeros(aft.size)
    tca = tc[aft]
    for n, c in coefs:
        ci = c[ins]
        k = tci / (n * np.pi)
        f0 += ci * sin_n[n]
        if order >= 1:
            f1 += ci * k * (1.0 - cos_n[n])
            ka = tca / (n * np.pi)
            e1 += c[aft] * ka * (1.0 - (-1.0) ** n)
            if order >= 2:
                f2 += ci * k * (tau[ins] - k * sin_n[n])
                e2 += c[aft] * ka * tca
    i0[ins] = ampi * f0
    if order >= 1:
        i1[ins] = ampi * f1
        i1[aft] = amp[aft] * e1
    if order >= 2:
        i2[ins] = ampi * f2
        i2[aft] = amp[aft] * (e2 + e1 * (tau[aft] - tca))
    return i0, i1, i2


def _hann(tau: F64, t_half: F64, amp: F64, order: int) -> tuple[F64, F64, F64]:
    """Hann bump amp * sin^2(pi tau / (2 t_half)) on [0, 2 t_half]; (I0, I1, I2)."""
    end = 2.0 * t_half
    w = np.pi / t_half
    return _bump(tau, end, w, amp, order, sign=-1.0)


def _ramp(tau: F64, tr: float, amp: F64, order: int) -> tuple[F64, F64, F64]:
    """Unloading ramp amp * (1 + cos(pi tau / tr)) / 2 on [0, tr]; (I0, I1, I2)."""
    end = np.full(tau.shape, tr)
    w = np.full(tau.shape, np.pi / tr)
    return _bump(tau, end, w, amp, order, sign=1.0)


def _bump(tau: F64, end: F64, w: F64, amp: F64, order: int, sign: float
          ) -> tuple[F64, F64, F64]:
    """amp/2 (1 + sign cos(w tau)) on [0, end] with w end = pi (ramp) or 2 pi (Hann)."""
    i0, i1, i2 = np.zeros_like(tau), np.zeros_like(tau), np.zeros_like(tau)
    ins = np.flatnonzero((tau > 0.0) & (tau < end) & (amp != 0.0))
    aft = np.flatnonzero((tau >= end) & (amp != 0.0))
    x, wi, ai = tau[ins], w[ins], amp[ins]
    c = np.cos(wi * x)
    i0[ins] = 0.5 * ai * (1.0 + sign * c)
    if order >= 1:
        s = np.sin(wi * x)
        i1[ins] = 0.5 * ai * (x + sign * s / wi)
        ea, wa, aa = end[aft], w[aft], amp[aft]
        ce = np.cos(wa * ea)
        e1 = 0.5 * aa * ea  # sin(w end) = 0 for both shapes
        i1[aft] = e1
        if order >= 2:
            i2[ins] = 0.5 * ai * (x * x / 2.0 + sign * (1.0 - c) / wi**2)
            e2 = 0.5 * aa * (ea * ea / 2.0 + sign * (1.0 - ce) / wa**2)
            i2[aft] = e2 + e1 * (tau[aft] - ea)
    return i0, i1, i2


def _wobble_kernel(s: F64, b: float) -> tuple[F64, F64]:
    """K(s) = exp(-b s)(s - sin s) and K''(s) for s >= 0 (0 before): zero net velocity and shift.

    Truncated where exp(-b s) < 1e-7 (the kernel is then below 1e-5 of its peak).
    """
    k, kpp = np.zeros_like(s), np.zeros_like(s)
    ins = np.flatnonzero((s > 0.0) & (s < 16.0 / b))
    sc = s[ins]
    e = np.exp(-b * sc)
    sn = np.sin(sc)
    k[ins] = e * (sc - sn)
    kpp[ins] = e * (b * b * (sc - sn) - 2.0 * b * (1.0 - np.cos(sc)) + sn)
    return k, kpp


def _wobble_kpp_max(b: float) -> float:
    s = np.linspace(0.0, 6.0, 6001)
    return float(np.max(_wobble_kernel(s, b)[1]))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Gait:
    """Everything needed to evaluate the trajectory at any time."""

    st: _Steps
    q: F64
    r: F64
    amp: F64  # active hump amplitude (BW)
    imp_amp: F64
    imp_half: F64
    ramp_start: F64  # 1 on the first contact of a bout, else 0
    ramp_end: F64  # -1 on the last contact of a bout, else 0
    ramp_s: float
    cum_delta: F64  # sum of (J - T) of all earlier contacts (s)
    cum_const: F64  # sum of (delta ic + J sbar - T^2/2) of all earlier contacts (s^2)
    ap_amp: F64
    ml_amp: F64  # signed: side * M
    ml_cum_j: F64
    ml_cum_const: F64
    wob_b: F64  # displacement amplitude (m)
    wob_w: F64  # rad/s
    wob_delay: F64
    wob_decay: float
    pel_knots_t: F64
    pel_rot: F64
    pel_obl: F64
    pel_tilt: F64
    phase_knots_t: F64
    phase_knots_v: F64
    tilt_peak_frac: float
    heading: _Transitions
    speed: _Transitions


def _contact_vertical(g: _Gait, j: I64, t: F64, order: int, own_only: bool = False
                      ) -> tuple[F64, F64, F64]:
    """Vertical force of contact ``j`` minus its box (1 BW over its step) at times ``t``.

    Returns (I0, I1, I2): force (BW), its first and second integral from the contact start.
    ``own_only``: the foot's own force (hump + impact), no ramps, no box.
    """
    return _contact_vertical_parts(g, j, t, order, own_only)[0]


def _contact_vertical_parts(g: _Gait, j: I64, t: F64, order: int, own_only: bool = False
                            ) -> tuple[tuple[F64, F64, F64], F64]:
    """As :func:`_contact_vertical`, plus the foot's own force (BW) alone."""
    st = g.st
    tau = t - st.s[j]
    tc = st.tc[j]
    a0, a1, a2 = _sine_series(tau, tc, [(1, np.ones_like(tau)), (2, g.r[j]), (3, g.q[j])],
                              g.amp[j], order)
    b0, b1, b2 = _hann(tau, g.imp_half[j], g.imp_amp[j], order)
    f0, f1, f2 = a0 + b0, a1 + b1, a2 + b2
    if own_only:
        return (f0, f1, f2), f0
    c0, c1, c2 = _ramp(tau, g.ramp_s, g.ramp_start[j], order)
    d0, d1, d2 = _ramp(tau - st.T[j], g.ramp_s, g.ramp_end[j], order)
    T = st.T[j]
    box0 = ((tau >= 0) & (tau < T)).astype(float)
    box1 = np.clip(tau, 0.0, T)
    box2 = np.where(tau <= T, np.maximum(tau, 0.0) ** 2 / 2.0, T * T / 2.0 + T * (tau - T))
    return (f0 + c0 + d0 - box0, f1 + c1 + d1 - box1, f2 + c2 + d2 - box2), f0


def _unit_moments(st: _Steps, q: F64, r: F64, imp_amp: F64, imp_half: F64, ramp_start: F64,
                  ramp_end: F64, ramp_s: float) -> tuple[F64, F64, F64, F64]:
    """Per contact: hump impulse and first moment per unit amplitude; fixed impulse and moment."""
    tc = st.tc
    a1 = tc * (2.0 / np.pi) * (1.0 + q / 3.0)
    m1 = tc**2 * (1.0 / np.pi - r / (2.0 * np.pi) + q / (3.0 * np.pi))
    j_imp = imp_amp * imp_half
    m_imp = j_imp * imp_half
    c_ramp = ramp_s * (0.5 - 2.0 / np.pi**2)
    j_rs = ramp_start * ramp_s / 2.0
    j_re = ramp_end * ramp_s / 2.0
    jf = j_imp + j_rs + j_re
    mf = m_imp + j_rs * c_ramp + j_re * (st.T + c_ramp)
    return a1, m1, jf, mf


def _control(st: _Steps, a1: F64, q: F64, r_nat: F64, jf: F64, mf: F64, ml_nom: F64
             ) -> tuple[F64, F64, F64]:
    """Per-step impulse and timing control so CoM height and lateral position stay periodic.

    A runner keeps their height from step to step; with a prescribed force shape and step-to-step
    variation the CoM would random-walk. Vertical, per step: the impulse (hump amplitude) steers
    the velocity at the next IC to the smoothed natural value ``-g (T/2 - sbar)`` of a periodic
    step with force centroid ``sbar``; the hump's skew (``r``, which moves the force centroid
    without changing the impulse) brings the height at the next IC back to the bout's level.
    The last contact of a bout brings the velocity exactly to 0 (standing). Mediolateral: the
    velocity after each contact is steered to +-half the nominal swing minus a position
    correction. One loop over steps, because each step's state depends on the previous one.

    Returns hump amplitude (BW), skew ``r`` and signed ML amplitude (BW), each (n_steps,).
    """
    n = st.s.size
    T = st.T
    tc = st.tc

    def _m1(r: F64 | float, k: Any) -> Any:
        return tc[k] ** 2 * (1.0 / np.pi - r / (2.0 * np.pi) + q[k] / (3.0 * np.pi))

    a_nat = (T - jf) / a1
    sbar = (a_nat * _m1(r_nat, slice(None)) + mf) / T
    # hump impulse (per unit amplitude) still to come after the next IC: walking contacts overlap,
    # so the true velocity at the next IC is the "completed contacts" velocity minus g * tail
    tt = np.minimum(T, tc)
    i1_at_t = sum(c * tc / (m * np.pi) * (1.0 - np.cos(m * np.pi * tt / tc))
                  for m, c in ((1, 1.0), (2, r_nat), (3, q)))
    tail = a1 - i1_at_t
    vstar = -G_MPS2 * (T / 2.0 - sbar) - G_MPS2 * a_nat * tail
    vs = np.empty(n)
    for b in np.unique(st.bout):  # few bouts: moving average of the target within each
        idx = np.flatnonzero(st.bout == b)
        k = min(5, idx.size)
        pad = np.pad(vstar[idx], (k // 2, k - 1 - k // 2), mode="edge")
        vs[idx] = np.convolve(pad, np.ones(k) / k, mode="valid")
    vbar = G_MPS2 * ml_nom * tc / np.pi  # half the lateral velocity swing
    a1y = tc * 2.0 / np.pi
    amp, rr, mly = np.empty(n), np.empty(n), np.empty(n)
    beta, beta_y = 0.3, 0.5
    v = z = z_ref = vy = y = 0.0
    for k in range(n):  # sequential: the state after a step feeds the next
        if st.first[k]:
            v, vy, z_ref, y = 0.0, 0.0, z, 0.0
        tk = T[k]
        if st.last[k]:
            a = ((0.0 - v) / G_MPS2 + tk - jf[k]) / a1[k]
        else:
            target = vs[k + 1] - beta * (z - z_ref) / tk
            a = ((target - v) / G_MPS2 + tk - jf[k]) / (a1[k] - tail[k])
        if not st.last[k]:
            a = min(max(a, 0.4 * a_nat[k]), 1.8 * a_nat[k])
        if a <= 0:
            raise SimulationError("simulator: the last contact of a bout cannot stop the body; "
                                  "lengthen walk_end_s or stand_end_s")
        jk = a * a1[k] + jf[k]
        # skew so that the height at the next IC equals the bout level (within shape bounds)
        m_req = ((jk * tk - tk * tk / 2.0) + (v * tk + z - z_ref) / G_MPS2 - mf[k]) / a
        r = 2.0 + 2.0 * q[k] / 3.0 - 2.0 * np.pi * m_req / tc[k] ** 2
        r = min(max(r, r_nat[k] - 0.3), r_nat[k] + 0.3)
        z += v * tk + G_MPS2 * (jk * tk - (a * _m1(r, k) + mf[k]) - tk * tk / 2.0)
        v += G_MPS2 * (jk - tk)
        amp[k], rr[k] = a, r
        side = st.side[k]
        ty = 0.0 if st.last[k] else side * vbar[k] - beta_y * y / tk
        m = (ty - vy) / (G_MPS2 * side * a1y[k])
        m = min(max(m, 0.0), 3.0 * ml_nom[k])
        jy = side * m * a1y[k]
        y += vy * tk + G_MPS2 * jy * (tk - tc[k] / 2.0)
        vy += G_MPS2 * jy
        mly[k] = side * m
    return amp, rr, mly


def _own_crossings(g: _Gait, thr_bw: float) -> tuple[F64, F64]:
    """Times (s from support start) where each foot's own vGRF crosses ``thr_bw`` up and down."""
    st = g.st
    j = np.arange(st.s.size)
    lo = np.zeros(j.size)
    hi = np.minimum(0.1 * st.tc, g.imp_half + 0.0)
    hi = np.maximum(hi, 0.02 * st.tc)
    lo2, hi2 = 0.9 * st.tc, st.tc.copy()
    for _ in range(40):  # vectorised bisection over all contacts
        mid = 0.5 * (lo + hi)
        f = _contact_vertical(g, j, st.s + mid, 0, own_only=True)[0]
        up = f >= thr_bw
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
        mid2 = 0.5 * (lo2 + hi2)
        f2 = _contact_vertical(g, j, st.s + mid2, 0, own_only=True)[0]
        above = f2 >= thr_bw
        lo2 = np.where(above, mid2, lo2)
        hi2 = np.where(above, hi2, mid2)
    return 0.5 * (lo + hi), 0.5 * (lo2 + hi2)


# =========================================================================================
# 3. Evaluation of the trajectory and orientation at arbitrary times
# =========================================================================================


def _pwlinear(kt: F64, kv: F64, t: F64) -> tuple[F64, F64]:
    """Piecewise-linear interpolation (clamped) of each row of ``kv`` (m, K) and its slope (m, N)."""
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    dt = np.maximum(kt[i + 1] - kt[i], 1e-12)
    x = np.clip((t - kt[i]) / dt, 0.0, 1.0)
    out = (t >= kt[0]) & (t < kt[-1])
    v = kv[:, i] + x * (kv[:, i + 1] - kv[:, i])
    slope = np.where(out, (kv[:, i + 1] - kv[:, i]) / dt, 0.0)
    return v, slope


def _sacral_vertical_g(g: _Gait, t: F64) -> F64:
    """Noise-free vertical (world) specific force of the sacrum in g at any times ``t``."""
    st = g.st
    k = np.searchsorted(st.s, t, side="right") - 1
    total = np.ones_like(t)
    for kk in (k, k - 1):
        valid = kk >= 0
        kc = np.clip(kk, 0, st.s.size - 1)
        f = _contact_vertical(g, kc, t, 0)[0]
        _, wpp = _wobble_kernel(g.wob_w[kc] * (t - st.s[kc] - g.wob_delay[kc]), g.wob_decay)
        total += np.where(valid, f + g.wob_b[kc] * g.wob_w[kc] ** 2 * wpp / G_MPS2, 0.0)
    return total


def _evaluate(g: _Gait, t: F64, *, positions: bool, horizontal: bool = True) -> dict[str, F64]:
    """All noise-free quantities at times ``t`` (s since session start)."""
    st = g.st
    n_st = st.s.size
    out: dict[str, F64] = {}
    order = 2 if positions else 0
    if n_st == 0:
        zeros = np.zeros_like(t)
        fz = np.ones_like(t)
        out.update(F=fz, F_own_c=zeros, F_own_m=zeros, yaw_p=zeros, a_fwd=zeros, a_lat=zeros,
                   a_z=zeros, z=zeros, y=zeros, yaw=zeros, pitch=zeros, roll=zeros, yaw_d=zeros,
                   pitch_d=zeros, roll_d=zeros, wob_g=zeros)
        return out
    k = np.searchsorted(st.s, t, side="right") - 1
    kc = np.clip(k, 0, n_st - 1)
    km = np.clip(k - 1, 0, n_st - 1)
    valid_c = k >= 0
    valid_m = k >= 1
    fc, fo_c = _contact_vertical_parts(g, kc, t, order)
    fm, fo_m = _contact_vertical_parts(g, km, t, order)
    ex0 = np.where(valid_c, fc[0], 0.0) + np.where(valid_m, fm[0], 0.0)
    out["F"] = 1.0 + ex0
    # soft tissue: onset after the impact starts, decays within ~1 step
    tau_c = t - st.s[kc] - g.wob_delay[kc]
    tau_m = t - st.s[km] - g.wob_delay[km]
    wc, wcpp = _wobble_kernel(g.wob_w[kc] * tau_c, g.wob_decay)
    wm, wmpp = _wobble_kernel(g.wob_w[km] * tau_m, g.wob_decay)
    wob_acc = (np.where(valid_c, g.wob_b[kc] * g.wob_w[kc] ** 2 * wcpp, 0.0)
               + np.where(valid_m, g.wob_b[km] * g.wob_w[km] ** 2 * wmpp, 0.0))
    out["wob_g"] = wob_acc / G_MPS2
    out["a_z"] = G_MPS2 * ex0 + wob_acc
    u, u1, _ = g.speed.eval(t)
    psi_h, psi_h1, psi_h2 = g.heading.eval(t)
    if horizontal:
        # horizontal forces in the path frame: braking then propulsion; push away from the foot
        a_fwd = np.zeros_like(t)
        a_lat = np.zeros_like(t)
        for kk, valid in ((kc, valid_c), (km, valid_m)):
            tau = np.where(valid, t - st.s[kk], -1.0)
            tc = st.tc[kk]
            ones = np.ones_like(tau)
            a_fwd += _sine_series(tau, tc, [(2, -ones)], g.ap_amp[kk], 0)[0]
            a_lat += _sine_series(tau, tc, [(1, ones)], g.ml_amp[kk], 0)[0]
        out["a_fwd"] = G_MPS2 * a_fwd + u1
        out["a_lat"] = G_MPS2 * a_lat + u * psi_h1
    if positions:
        # completed contacts (<= k-2) contribute linear terms; k-1 and k are evaluated in full
        kk2 = k - 1  # number of contacts with index <= k - 2
        cd = np.where(kk2 > 0, g.cum_delta[np.clip(kk2, 0, n_st)], 0.0)
        cc = np.where(kk2 > 0, g.cum_const[np.clip(kk2, 0, n_st)], 0.0)
        z_com = G_MPS2 * (cd * t - cc + np.where(valid_c, fc[2], 0.0) + np.where(valid_m, fm[2], 0.0))
        wob_disp = (np.where(valid_c, g.wob_b[kc] * wc, 0.0) + np.where(valid_m, g.wob_b[km] * wm, 0.0))
        out["z"] = z_com + wob_disp
        out["F_own_c"] = np.where(valid_c, fo_c, 0.0)
        out["F_own_m"] = np.where(valid_m, fo_m, 0.0)
        yl = np.zeros_like(t)
        for kk, valid in ((kc, valid_c), (km, valid_m)):
            tau = t - st.s[kk]
            yl += np.where(valid, _sine_series(tau, st.tc[kk], [(1, np.ones_like(tau))],
                                               g.ml_amp[kk], 2)[2], 0.0)
        ycd = np.where(kk2 > 0, g.ml_cum_j[np.clip(kk2, 0, n_st)], 0.0)
        ycc = np.where(kk2 > 0, g.ml_cum_const[np.clip(kk2, 0, n_st)], 0.0)
        out["y"] = G_MPS2 * (ycd * t - ycc + yl)
    # pelvis angles: stride phase phi (right IC at multiples of 2 pi), envelopes per step
    n_ph, n_ph1 = _pwlinear(g.phase_knots_t, g.phase_knots_v[None, :], t)
    phi, phi1 = np.pi * n_ph[0], np.pi * n_ph1[0]
    env, env1 = _pwlinear(g.pel_knots_t, np.stack([g.pel_rot, g.pel_obl, g.pel_tilt]) / 2.0, t)
    (ar, ao, at), (ar1, ao1, at1) = env, env1
    # rotation: zero crossing with positive rate just after right IC, max at right mid-stance
    ph_y = phi - 0.1 * np.pi
    yaw_p = ar * np.sin(ph_y)
    yaw_p1 = ar1 * np.sin(ph_y) + ar * np.cos(ph_y) * phi1
    # obliquity: contralateral (left) side drops during right stance, lowest near mid-stance
    ph_r = phi + 0.15 * np.pi
    roll_p = -ao * np.sin(ph_r)
    roll_p1 = -(ao1 * np.sin(ph_r) + ao * np.cos(ph_r) * phi1)
    # tilt: two cycles per stride, most anterior near toe-off
    ph_t = 2.0 * phi - 2.0 * np.pi * g.tilt_peak_frac
    pitch = at * np.cos(ph_t)
    pitch1 = at1 * np.cos(ph_t) - at * np.sin(ph_t) * 2.0 * phi1
    # lean into turns: net force through the CoM
    c = u * psi_h1 / G_MPS2
    lean = -np.arctan(c)
    lean1 = -(u1 * psi_h1 + u * psi_h2) / G_MPS2 / (1.0 + c * c)
    out["yaw_p"] = yaw_p
    out["yaw"] = psi_h + np.radians(yaw_p)
    out["yaw_d"] = psi_h1 + np.radians(yaw_p1)
    out["pitch"] = np.radians(pitch)
    out["pitch_d"] = np.radians(pitch1)
    out["roll"] = np.radians(roll_p) + lean
    out["roll_d"] = np.radians(roll_p1) + lean1
    return out


def _body_vectors(ev: dict[str, F64]) -> tuple[F64, F64]:
    """Specific force (m/s²) and angular velocity (rad/s) in the body (pelvis) frame, (N, 3)."""
    yaw_p = np.radians(ev["yaw_p"])
    th, ph = ev["pitch"], ev["roll"]
    f_path = np.stack([ev["a_fwd"], ev["a_lat"], ev["a_z"] + G_MPS2], axis=-1)
    # R_path_from_body = rot_z(yaw_p) rot_y(th) rot_x(ph); body = R^T path
    r = rot_z(yaw_p) @ rot_y(th) @ rot_x(ph)
    f_body = np.einsum("nji,nj->ni", r, f_path)
    psi1, th1, ph1 = ev["yaw_d"], ev["pitch_d"], ev["roll_d"]
    sth, cth, sph, cph = np.sin(th), np.cos(th), np.sin(ph), np.cos(ph)
    w_body = np.stack([ph1 - psi1 * sth,
                       th1 * cph + psi1 * cth * sph,
                       -th1 * sph + psi1 * cth * cph], axis=-1)
    return f_body, w_body


# =========================================================================================
# 4. The session
# =========================================================================================


def _random_rotation(rng: np.random.Generator, angle_deg: float) -> F64:
    axis = rng.standard_normal(3)
    axis /= np.linalg.norm(axis)
    a = np.radians(angle_deg)
    kx = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    out: F64 = np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * (kx @ kx)
    return out


def _start_ns(start_time: datetime | int) -> int:
    if isinstance(start_time, datetime):
        if start_time.tzinfo is None:
            raise SimulationError("simulate_session: start_time must be timezone-aware (UTC)")
        return round(start_time.timestamp() * 1e6) * 1000
    return int(start_time)


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).isoformat()


def _build_gait(p: RunnerParams, st: _Steps, rng: np.random.Generator,
                speed: _Transitions, heading: _Transitions) -> _Gait:
    """Per-step force, tissue and pelvis parameters, then the impulse control."""
    n = st.s.size
    run = st.run
    f = st.fatigue
    left = st.side < 0
    # contact time: asymmetry and fatigue on running steps; noise everywhere
    ca = p.contact_asymmetry_pct / 200.0
    side_ct = np.where(left, 1.0 + ca, 1.0 - ca)
    noise_ct = 1.0 + p.contact_time_cv * np.clip(rng.standard_normal(n), -3, 3)
    # walking: a foot leaves the ground one double support after the other foot lands
    ds = (2.0 * p.walk_duty_factor - 1.0) * st.T * (1.0 + 0.05 * np.clip(rng.standard_normal(n), -3, 3))
    tc = np.where(run, st.tc * side_ct * (1.0 + p.fatigue_contact_pct / 100.0 * f) * noise_ct,
                  st.T + ds)
    tc = np.minimum(tc, np.where(run, 0.92 * st.T, 1.9 * st.T))
    st = _Steps(s=st.s, T=st.T, tc=tc, side=st.side, run=st.run, bout=st.bout, first=st.first,
                last=st.last, fatigue=st.fatigue, pace=st.pace)
    q = np.where(run, p.active_shape_q, p.walk_shape_q)
    r = np.where(run, 0.05, 0.0)  # running hump peaks slightly before mid-contact
    ia = p.impact_asymmetry_pct / 200.0
    side_imp = np.where(left, 1.0 + ia, 1.0 - ia)
    imp_noise = np.exp(p.impact_cv * np.clip(rng.standard_normal(n), -3, 3))
    imp_amp = np.where(run, p.impact_bw * side_imp * (1.0 + p.fatigue_impact_pct / 100.0 * f)
                       * st.pace**0.5, 0.1) * imp_noise
    imp_half = np.where(run, p.impact_time_s, 0.035) * (1.0 + 0.05 * np.clip(rng.standard_normal(n), -3, 3))
    ramp_s = 0.12
    ramp_start = st.first.astype(float)
    ramp_end = -st.last.astype(float)
    a1, _, jf, mf = _unit_moments(st, q, r, imp_amp, imp_half, ramp_start, ramp_end, ramp_s)
    ml_nom = np.where(run, p.ml_peak_bw * (1.0 + p.fatigue_ml_pct / 100.0 * f), p.walk_ml_peak_bw)
    amp, r, ml_amp = _control(st, a1, q, r, jf, mf, ml_nom)
    m1 = _unit_moments(st, q, r, imp_amp, imp_half, ramp_start, ramp_end, ramp_s)[1]
    # cumulative linear terms of completed contacts (for positions)
    jk = amp * a1 + jf
    delta = jk - st.T
    const = delta * st.s + (amp * m1 + mf) - st.T**2 / 2.0
    cum_delta = np.concatenate([[0.0], np.cumsum(delta)])
    cum_const = np.concatenate([[0.0], np.cumsum(const)])
    jy = ml_amp * tc * 2.0 / np.pi
    ml_cum_j = np.concatenate([[0.0], np.cumsum(jy)])
    ml_cum_const = np.concatenate([[0.0], np.cumsum(jy * (st.s + tc / 2.0))])
    # soft tissue: first swing amplitude grows with the impact; frequency random per step
    wob_g = np.where(run, p.wobble_base_g + p.wobble_g_per_bw * imp_amp, 0.08)
    wob_g = wob_g * np.exp(p.wobble_cv * np.clip(rng.standard_normal(n), -3, 3))
    wob_w = 2 * np.pi * rng.uniform(p.wobble_freq_hz[0], p.wobble_freq_hz[1], n)
    kpp = _wobble_kpp_max(p.wobble_decay_per_rad)
    wob_b = wob_g * G_MPS2 / (wob_w**2 * kpp)
    wob_delay = 0.8 * imp_half  # tissue peak ~25-30 ms after IC, as at the sacrum in real runs
    # horizontal
    ap_amp = np.where(run, p.ap_peak_bw * st.pace, p.walk_ap_peak_bw) * (
        1.0 + 0.05 * np.clip(rng.standard_normal(n), -3, 3))
    # pelvis: per-step ranges with variation and fatigue; zero at the bout ends
    pv = 1.0 + p.fatigue_pelvis_pct / 100.0 * f
    def _rng_var() -> F64:
        return 1.0 + p.pelvis_cv * np.clip(rng.standard_normal(n), -3, 3)
    rot = np.where(run, p.pelvis_rotation_deg * pv, p.walk_pelvis_rotation_deg) * _rng_var()
    obl = np.where(run, p.pelvis_obliquity_deg * pv, p.walk_pelvis_obliquity_deg) * _rng_var()
    tilt = np.where(run, p.pelvis_tilt_deg, p.walk_pelvis_tilt_deg) * _rng_var()
    firsts, lasts = np.flatnonzero(st.first), np.flatnonzero(st.last)
    kt = np.concatenate([st.s, st.s[firsts] - 0.4, st.s[lasts] + st.T[lasts] + 0.4])
    order = np.argsort(kt, kind="stable")
    zeros_b = np.zeros(firsts.size + lasts.size)
    pel_t = kt[order]
    pel_rot = np.concatenate([rot, zeros_b])[order]
    pel_obl = np.concatenate([obl, zeros_b])[order]
    pel_tilt = np.concatenate([tilt, zeros_b])[order]
    if n == 0:  # no gait at all: flat knots keep the evaluation code path uniform
        pel_t, ph_t = np.array([0.0, 1.0]), np.array([0.0, 1.0])
        pel_rot = pel_obl = pel_tilt = ph_v = np.zeros(2)
        return _Gait(st=st, q=q, r=r, amp=np.zeros(0), imp_amp=imp_amp, imp_half=imp_half,
                     ramp_start=ramp_start, ramp_end=ramp_end, ramp_s=ramp_s,
                     cum_delta=cum_delta, cum_const=cum_const, ap_amp=ap_amp,
                     ml_amp=ml_amp, ml_cum_j=ml_cum_j, ml_cum_const=ml_cum_const, wob_b=wob_b,
                     wob_w=wob_w, wob_delay=wob_delay, wob_decay=p.wobble_decay_per_rad,
                     pel_knots_t=pel_t, pel_rot=pel_rot, pel_obl=pel_obl, pel_tilt=pel_tilt,
                     phase_knots_t=ph_t, phase_knots_v=ph_v, tilt_peak_frac=0.7,
                     heading=heading, speed=speed)
    # stride phase: right IC at even numbers, alternating within a bout
    inc = np.ones(n)
    inc[0] = 0.0 if st.side[0] > 0 else 1.0
    pos = np.cumsum(inc)
    # at a bout start, jump so that the parity matches the foot
    parity_ok = (np.mod(pos, 2) == 0) == (st.side > 0)
    fix = np.cumsum(np.where(st.first & ~parity_ok, 1.0, 0.0))
    pos = pos + fix
    ph_t = np.concatenate([st.s, [st.s[-1] + st.T[-1]]])
    ph_v = np.concatenate([pos, [pos[-1] + 1.0]])
    return _Gait(st=st, q=q, r=r, amp=amp, imp_amp=imp_amp, imp_half=imp_half,
                 ramp_start=ramp_start, ramp_end=ramp_end, ramp_s=ramp_s,
                 cum_delta=cum_delta, cum_const=cum_const, ap_amp=ap_amp,
                 ml_amp=ml_amp, ml_cum_j=ml_cum_j, ml_cum_const=ml_cum_const, wob_b=wob_b,
                 wob_w=wob_w, wob_delay=wob_delay, wob_decay=p.wobble_decay_per_rad,
                 pel_knots_t=pel_t, pel_rot=pel_rot, pel_obl=pel_obl, pel_tilt=pel_tilt,
                 phase_knots_t=ph_t, phase_knots_v=ph_v, tilt_peak_frac=0.7,
                 heading=heading, speed=speed)


def _speed_and_heading(p: RunnerParams, seg_log: list[dict[str, Any]], rng: np.random.Generator,
                       pace_fn: _Transitions) -> tuple[_Transitions, _Transitions]:
    """Forward speed (m/s) and heading (rad) as sums of smooth transitions."""
    t0, d, dl = [], [], []
    level = 0.0
    for seg in seg_log:
        new = {"stand": 0.0, "walk": p.walk_speed_mps, "run": p.speed_mps}[seg["kind"]]
        if new != level:
            t0.append(seg["start_s"] - 1.0)
            d.append(2.0)
            dl.append(new - level)
            level = new
    t0 += list(pace_fn.t0)
    d += list(pace_fn.d)
    dl += list(p.speed_mps * pace_fn.delta)
    speed = _Transitions(t0=np.array(t0), d=np.array(d), delta=np.array(dl))
    gait = [(s["start_s"], s["end_s"]) for s in seg_log if s["kind"] != "stand"]
    total = sum(b - a for a, b in gait)
    n_turns = int(rng.poisson(p.turns_per_10min * total / 600.0)) if total > 0 else 0
    ht0, hd, hdl = [], [], []
    for _ in range(n_turns):  # a few turns
        x = rng.uniform(0, total)
        for a, b in gait:
            if x < b - a:
                start = a + x
                break
            x -= b - a
        dur = rng.uniform(3.0, 8.0)
        ang = np.radians(rng.uniform(30.0, 180.0)) * rng.choice([-1.0, 1.0])
        ht0.append(start)
        hd.append(dur)
        hdl.append(ang)
    heading = _Transitions(t0=np.array(ht0), d=np.array(hd), delta=np.array(hdl))
    return speed, heading


def _pace_changes(p: RunnerParams, segs: list[tuple[str, float]], rng: np.random.Generator
                  ) -> _Transitions:
    """Pace (speed factor - 1) changes at planned times inside the running segments."""
    starts = np.cumsum([0.0] + [d for _, d in segs[:-1]])
    runs = [(a, a + d) for a, (k, d) in zip(starts, segs, strict=True) if k == "run"]
    total = sum(b - a for a, b in runs)
    if p.speed_changes <= 0 or total <= 0:
        return _Transitions(t0=np.zeros(0), d=np.zeros(0), delta=np.zeros(0))
    fr = np.sort(rng.uniform(0.15, 0.9, p.speed_changes)) * total
    times = []
    for x in fr:
        for a, b in runs:
            if x < b - a:
                times.append(a + x)
                break
            x -= b - a
    levels = rng.uniform(-p.speed_change_pct, p.speed_change_pct, len(times)) / 100.0
    delta = np.diff(np.concatenate([[0.0], levels]))
    return _Transitions(t0=np.array(times), d=np.full(len(times), 10.0), delta=delta)


def simulate_session(params: RunnerParams = RunnerParams(), *, seed: int, session_id: str,
                     runner_id: str, start_time: datetime | int,
                     keep_signals: bool = False) -> SimulatedSession:
    """Simulate one session of a sacrum-worn IMU with its ground truth.

    Parameters
    ----------
    params : every knob (see :class:`RunnerParams`).
    seed : random seed; the same seed and params give the same session, bit for bit.
    session_id, runner_id : identifiers (letters, digits, ``._-``).
    start_time : UTC datetime (timezone-aware) or int ns since epoch of the first sample.
    keep_signals : also return noise-free per-sample signals (:class:`TruthSignals`).

    Returns
    -------
    SimulatedSession with ``raw`` in the sensor frame (m/s², deg/s, float32, gaps as missing rows)
    and truth tables per step and per stride.
    """
    p = params
    check_id(session_id, what="session_id", source="simulate_session")
    check_id(runner_id, what="runner_id", source="simulate_session")
    t0_ns = _start_ns(start_time)
    rng = np.random.default_rng(seed)
    # 1. plan, steps, smooth speed and heading
    segs = _plan(p, rng)
    pace_fn = _pace_changes(p, segs, rng)
    st, seg_log = _make_steps(p, segs, rng, pace_fn)
    speed, heading = _speed_and_heading(p, seg_log, rng, pace_fn)
    duration_s = seg_log[-1]["end_s"]
    # 2.-6. forces, control, tissue, pelvis
    gait = _build_gait(p, st, rng, speed, heading)
    # truth on a fine grid
    thr_bw = FORCE_PLATE_THRESHOLD_N / (p.body_mass_kg * G_MPS2)
    steps_tbl, strides_tbl, ic_s, to_s = _truth_tables(p, gait, thr_bw, session_id, runner_id, t0_ns)
    # 7. sensor
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
        gap_log.append({"start": _iso(t0_ns + round(i0 / fs * 1e9)),
                        "end": _iso(t0_ns + round(i1 / fs * 1e9)),
                        "samples_lost": i1 - i0, "reason": "simulated radio dropout"})
    t = t[keep]
    ev = _evaluate(gait, t, positions=keep_signals)
    f_body, w_body = _body_vectors(ev)
    r_nom = np.array(NOMINAL_MOUNTINGS[p.mounting], dtype=float)
    mis_deg = p.misalignment_deg if p.misalignment_exact else float(rng.uniform(0, p.misalignment_deg))
    r_mis = _random_rotation(rng, mis_deg)
    r_true = r_mis @ r_nom  # v_body = r_true @ v_sensor
    acc_true = f_body @ r_true  # v_sensor = r_true.T @ v_body  <=> rows: v_body @ r_true
    gyr_true = np.degrees(w_body @ r_true)
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
    t_rec_ns = t0_ns + np.round(t * 1e9).astype(np.int64)
    if p.timestamp_jitter_us > 0:
        jit = np.clip(rng.standard_normal(t.size) * p.timestamp_jitter_us * 1e3, -0.4e9 / fs, 0.4e9 / fs)
        t_rec_ns = t_rec_ns + np.round(jit).astype(np.int64)
    raw = RawSession(session_id=session_id, runner_id=runner_id, sensor=p.sensor,
                     sample_rate_hz=float(fs), time_ns=t_rec_ns,
                     acc_mps2=acc.astype(np.float32), gyr_dps=gyr.astype(np.float32),
                     mounting=r_nom, gaps=tuple(gap_log), acc_range_g=float(p.acc_range_g),
                     gyr_range_dps=float(p.gyr_range_dps), source=f"<simulated {session_id}>")
    # which contacts / strides fall in a gap
    g_s = np.array([g[0] for g in gaps]) if gaps else np.zeros(0)
    g_e = np.array([g[1] for g in gaps]) if gaps else np.zeros(0)
    steps_tbl = _mark_lost(steps_tbl, "lost_in_gap", ic_s, to_s, g_s, g_e)
    s_start = _col(strides_tbl, "_start_s")
    s_end = _col(strides_tbl, "_end_s")
    strides_tbl = _mark_lost(strides_tbl, "lost_in_gap", s_start, s_end, g_s, g_e)
    strides_tbl = strides_tbl.drop(["_start_s", "_end_s"])
    truth: dict[str, Any] = {
        "session_id": session_id,
        "runner_id": runner_id,
        "seed": int(seed),
        "start_time_ns": int(t0_ns),
        "start_time": _iso(t0_ns),
        "duration_s": float(duration_s),
        "sample_rate_hz": float(fs),
        "mounting_name": p.mounting,
        "mounting_nominal": r_nom.tolist(),
        "mounting_true": r_true.tolist(),
        "misalignment_deg": rotation_angle_deg(r_mis),
        "acc_bias_mps2": acc_bias.tolist(),
        "gyr_bias_dps": gyr_bias.tolist(),
        "saturated_values": {"acc": n_sat_acc, "gyr": n_sat_gyr},
        "gaps": [{"start_s": float(a), "end_s": float(b)} for a, b in gaps],
        "segments": seg_log,
        "n_steps": int(steps_tbl.num_rows),
        "n_strides": int(strides_tbl.num_rows),
        "force_threshold_bw": float(thr_bw),
        "params": p.to_json_dict(),
    }
    signals = None
    if keep_signals:
        signals = TruthSignals(t_s=t, acc_sensor_mps2=acc_true, gyr_sensor_dps=gyr_true,
                               euler_zyx_rad=np.stack([ev["yaw"], ev["pitch"], ev["roll"]], -1),
                               vgrf_bw=ev["F"], z_m=ev["z"], y_m=ev["y"])
    return SimulatedSession(raw=raw, truth_steps=steps_tbl, truth_strides=strides_tbl,
                            truth=truth, signals=signals)


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


def _col(tbl: pa.Table, name: str) -> F64:
    return np.asarray(tbl.column(name).to_numpy(zero_copy_only=False), dtype=float)


def _mark_lost(tbl: pa.Table, name: str, a: F64, b: F64, gs: F64, ge: F64) -> pa.Table:
    """Add a bool column: interval [a, b] overlaps any gap [gs, ge) (sorted, disjoint)."""
    if gs.size == 0:
        lost = np.zeros(a.size, dtype=bool)
    else:
        i = np.searchsorted(ge, a, side="right")
        ic = np.clip(i, 0, gs.size - 1)
        lost = (i < gs.size) & (gs[ic] < b)
    field_ = pa.field(name, pa.bool_(), nullable=False,
                      metadata={"unit": "", "description": "the interval overlaps a gap in the recording"})
    return tbl.append_column(field_, pa.array(lost, type=pa.bool_()))


# =========================================================================================
# 5. Truth tables
# =========================================================================================


def _segment_reduce(v: F64, starts: I64, ends: I64) -> tuple[F64, F64]:
    """Max and min of ``v`` over each ``[starts[i], ends[i])`` (non-empty, may overlap)."""
    vp = np.append(v, v[-1])
    idx = np.empty(2 * starts.size, dtype=np.int64)
    idx[0::2], idx[1::2] = starts, ends
    mx = np.maximum.reduceat(vp, idx)[0::2]
    mn = np.minimum.reduceat(vp, idx)[0::2]
    return mx, mn


def _detrended_range(t: F64, v: F64, i0: I64, i1: I64) -> F64:
    """Range of ``v`` over ``[i0, i1]`` after removing the line through its end points.

    Windows of the same parity (every other one) never overlap, so each pass maps every sample
    to at most one window.
    """
    out = np.empty(i0.size)
    for par in (0, 1):
        sel = np.arange(par, i0.size, 2)
        if sel.size == 0:
            continue
        a, b = i0[sel], i1[sel]
        w = np.searchsorted(a, np.arange(t.size), side="right") - 1
        wc = np.clip(w, 0, sel.size - 1)
        inside = (w >= 0) & (np.arange(t.size) <= b[wc])
        slope = (v[b] - v[a]) / np.maximum(t[b] - t[a], 1e-12)
        d = np.where(inside, v - (v[a[wc]] + slope[wc] * (t - t[a[wc]])), np.nan)
        seg_ends = b + 1
        mx, mn = _segment_reduce(np.nan_to_num(d, nan=0.0), a, seg_ends)
        out[sel] = mx - mn
    return out


def _truth_tables(p: RunnerParams, g: _Gait, thr_bw: float, session_id: str, runner_id: str,
                  t0_ns: int) -> tuple[pa.Table, pa.Table, F64, F64]:
    """Steps and strides truth measured on a noise-free 1 kHz grid over every gait bout."""
    st = g.st
    n = st.s.size
    on, off = _own_crossings(g, thr_bw) if n else (np.zeros(0), np.zeros(0))
    ic = st.s + on
    to = st.s + off
    same_next = np.r_[st.bout[1:] == st.bout[:-1], False]
    nxt = np.r_[ic[1:], np.nan]
    step_time = np.where(same_next, nxt - ic, np.nan)
    contact = to - ic
    flight = np.where(same_next & st.run, nxt - to, np.nan)
    cadence = 60.0 / step_time
    # fine grid over each bout
    impact = np.full(n, np.nan)
    grf = np.full(n, np.nan)
    vo = np.full(n, np.nan)
    n_str = 0
    stride_rows: dict[str, list[F64]] = {k: [] for k in ("k", "rot", "obl", "tilt", "ml", "t0", "t1")}
    for b in np.unique(st.bout):  # few bouts
        idx = np.flatnonzero(st.bout == b)
        ta = st.s[idx[0]] - 0.05
        tb = st.s[idx[-1]] + max(st.T[idx[-1]], st.tc[idx[-1]]) + g.ramp_s + 0.05
        tf = np.arange(ta, tb, 1.0 / TRUTH_FS_HZ)
        ev = _evaluate(g, tf, positions=True, horizontal=False)
        sv = ev["F"] + ev["wob_g"]  # sacral vertical specific force, g
        i_ic = np.searchsorted(tf, ic[idx])
        i_to = np.searchsorted(tf, to[idx], side="right")
        mx, _ = _segment_reduce(sv, i_ic, np.maximum(i_to, i_ic + 1))
        # refine local maxima above 1 g on a 1 ms grid (+-4 ms): the tissue ringing is 12-25 Hz
        lm = np.flatnonzero((sv[1:-1] >= sv[:-2]) & (sv[1:-1] > sv[2:])) + 1
        lm = lm[sv[lm] > 1.0]
        if lm.size:
            t_ref = (tf[lm][:, None] + np.arange(-4, 5)[None, :] * 1e-3).ravel()
            v_ref = _sacral_vertical_g(g, t_ref).reshape(lm.size, 9).max(axis=1)
            a_i = np.searchsorted(tf[lm], ic[idx])
            b_i = np.searchsorted(tf[lm], to[idx], side="right")
            mr, _ = _segment_reduce(v_ref, np.minimum(a_i, lm.size - 1), np.maximum(b_i, a_i + 1))
            mx = np.where(b_i > a_i, np.maximum(mx, mr), mx)
        impact[idx] = mx
        f_cur = ev["F_own_c"]
        f_prev = ev["F_own_m"]
        # vectorised: current-contact part is [ic_j, s_{j+1}), previous part [s_{j+1}, to_j]
        s_next = np.r_[st.s[idx[1:]], np.inf]
        i_sn = np.searchsorted(tf, s_next)
        a_end = np.minimum(i_sn, i_to)
        m1c, _ = _segment_reduce(f_cur, i_ic, np.maximum(a_end, i_ic + 1))
        m2p, _ = _segment_reduce(f_prev, np.minimum(i_sn, i_to), np.maximum(i_to, np.minimum(i_sn, i_to) + 1))
        m2p = np.where(i_sn < i_to, m2p, -np.inf)
        grf[idx] = np.maximum(m1c, m2p)
        # vertical oscillation: range of sacral height from this IC to the next IC
        has_next = same_next[idx]
        i_nx = np.r_[i_ic[1:], i_ic[-1] + 1]
        zmx, zmn = _segment_reduce(ev["z"], i_ic, np.maximum(i_nx + 1, i_ic + 1))
        vo[idx] = np.where(has_next, (zmx - zmn) * 100.0, np.nan)
        # strides: step k to step k + 2 in the same bout
        if idx.size >= 3:
            ks = idx[:-2]
            i0 = i_ic[:-2]
            i1 = i_ic[2:]
            stride_rows["k"].append(ks.astype(float))
            stride_rows["rot"].append(np.degrees(_detrended_range(tf, ev["yaw"], i0, i1)))
            stride_rows["obl"].append(np.degrees(_range(ev["roll"], i0, i1)))
            stride_rows["tilt"].append(np.degrees(_range(ev["pitch"], i0, i1)))
            stride_rows["ml"].append(_detrended_range(tf, ev["y"], i0, i1) * 100.0)
            stride_rows["t0"].append(ic[ks])
            stride_rows["t1"].append(ic[idx[2:]])
            n_str += ks.size
    foot = np.where(st.side > 0, "R", "L")
    act = np.where(st.run, "run", "walk")

    def _ts(x: F64) -> pa.Array:
        return pa.array(t0_ns + np.round(x * 1e9).astype(np.int64), type=pa.int64()).cast(S.TIME_TYPE)

    def _f64(x: F64) -> pa.Array:
        return pa.array(x, type=pa.float64(), from_pandas=True)

    sf = S.STEPS_SCHEMA
    steps_cols = {
        "session_id": pa.array([session_id] * n, type=pa.string()),
        "runner_id": pa.array([runner_id] * n, type=pa.string()),
        "step": pa.array(np.arange(n, dtype=np.int32), type=pa.int32()),
        "foot": pa.array(foot.tolist(), type=pa.string()),
        "activity": pa.array(act.tolist(), type=pa.string()),
        "ic_time": _ts(ic),
        "to_time": _ts(to),
        "step_time_s": _f64(step_time),
        "contact_time_s": _f64(contact),
        "flight_time_s": _f64(flight),
        "cadence_spm": _f64(cadence),
        "impact_peak_g": _f64(impact),
        "grf_peak_bw": _f64(grf),
        "vertical_oscillation_cm": _f64(vo),
    }
    fields = [sf.field(k) for k in steps_cols]
    fields[fields.index(sf.field("impact_peak_g"))] = pa.field(
        "impact_peak_g", pa.float64(), metadata={"unit": "g", "description":
            "peak of the noise-free sacral vertical (world) specific force from IC to TO"})
    fields[fields.index(sf.field("grf_peak_bw"))] = pa.field(
        "grf_peak_bw", pa.float64(), metadata={"unit": "body weights", "description":
            "peak of this foot's vertical GRF (force-plate truth)"})
    steps_tbl = pa.Table.from_arrays(list(steps_cols.values()), schema=pa.schema(fields))
    steps_tbl = steps_tbl.append_column(
        pa.field("bout", pa.int32(), metadata={"unit": "", "description": "0-based gait bout"}),
        pa.array(st.bout.astype(np.int32)))
    # strides
    def _cat(key: str) -> F64:
        return np.concatenate(stride_rows[key]) if stride_rows[key] else np.zeros(0)

    ks_all = _cat("k").astype(np.int64)
    tf_ = S.STRIDES_SCHEMA
    stride_cols = {
        "session_id": pa.array([session_id] * n_str, type=pa.string()),
        "runner_id": pa.array([runner_id] * n_str, type=pa.string()),
        "stride": pa.array(np.arange(n_str, dtype=np.int32), type=pa.int32()),
        "foot": pa.array(foot[ks_all].tolist(), type=pa.string()),
        "start_time": _ts(_cat("t0")),
        "stride_time_s": _f64(_cat("t1") - _cat("t0")),
        "pelvis_rotation_deg": _f64(_cat("rot")),
        "pelvis_obliquity_deg": _f64(_cat("obl")),
        "pelvis_tilt_deg": _f64(_cat("tilt")),
        "ml_excursion_cm": _f64(_cat("ml")),
    }
    sfields = [tf_.field(k) for k in stride_cols]
    strides_tbl = pa.Table.from_arrays(list(stride_cols.values()), schema=pa.schema(sfields))
    strides_tbl = strides_tbl.append_column(
        pa.field("step", pa.int32(), metadata={"unit": "", "description": "index of the first step"}),
        pa.array(ks_all.astype(np.int32)))
    strides_tbl = strides_tbl.append_column(
        pa.field("activity", pa.string(), metadata={"unit": "", "description": "'run' or 'walk'"}),
        pa.array(act[ks_all].tolist(), type=pa.string()))
    strides_tbl = strides_tbl.append_column("_start_s", pa.array(_cat("t0")))
    strides_tbl = strides_tbl.append_column("_end_s", pa.array(_cat("t1")))
    return steps_tbl, strides_tbl, ic, to


def _range(v: F64, i0: I64, i1: I64) -> F64:
    mx, mn = _segment_reduce(v, i0, i1 + 1)
    return mx - mn


# =========================================================================================
# 6. Files
# =========================================================================================


def write_simulated(sim: SimulatedSession, out_dir: str | Path) -> Path:
    """Write the raw file ``out_dir/<session_id>.parquet`` and the truth under ``out_dir/truth/``.

    Truth files: ``<session_id>.steps.parquet``, ``.strides.parquet`` and ``.json``. Raw files are
    the only ``*.parquet`` directly in ``out_dir``. Returns the raw file's path.
    """
    out = Path(out_dir)
    sid = sim.raw.session_id
    raw_path = write_raw(out / f"{sid}.parquet", sim.raw)
    tdir = out / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    pq.write_table(sim.truth_steps, tdir / f"{sid}.steps.parquet", compression="zstd")
    pq.write_table(sim.truth_strides, tdir / f"{sid}.strides.parquet", compression="zstd")
    (tdir / f"{sid}.json").write_text(json.dumps(sim.truth, indent=1, sort_keys=True) + "\n")
    return raw_path


__all__ = [
    "FORCE_PLATE_THRESHOLD_N",
    "NOMINAL_MOUNTINGS",
    "RunnerParams",
    "SimulatedSession",
    "SimulationError",
    "TruthSignals",
    "simulate_session",
    "write_simulated",
]
