"""A phone in a loose running belt: the sensor on a damped spring, tipping as it bounces, and
re-seated now and then (applied between the pelvis motion and the chip, step 6b).

The belt is elastic and the phone's pocket is loose: relative to the pelvis the phone is a mass
on a spring. With the pelvis (base) specific force ``f_b`` the phone's specific force is the base
transmissibility ``H(s) = (2ζωs + ω²) / (s² + 2ζωs + ω²)`` applied to ``f_b`` (DC gain 1: gravity
passes unchanged; near ω the step impacts are amplified by ~1/(2ζ)), and its displacement
relative to the pelvis is ``X(s) = -F_b(s) / (s² + 2ζωs + ω²)``. The pocket is held at its top,
so a vertical bounce also tips the phone about the lateral axis (pitch ∝ vertical displacement).
Re-seatings: at random times the phone turns by up to ``belt_shift_deg`` about a random axis over
0.3 s and stays there; the gyroscope sees the turn. Filters are IIR difference equations on the
uniform sample grid (scipy ``lfilter``), no loop over samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import bilinear, lfilter, lfilter_zi

from imuback.signal.frames import rot_y
from imuback.simulate.params import F64, RunnerParams

SHIFT_S = 0.3
"""Duration of one re-seating of the phone (s)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BeltMotion:
    """What the loose belt did (for the truth file).

    Attributes
    ----------
    f_mps2, w_rps : (N, 3) specific force (m/s²) and angular velocity (rad/s) of the phone in the
        pelvis-aligned frame carried by the phone (before the mounting rotation).
    bounce_tilt_deg_max : largest tip of the phone from its bounce (deg).
    shifts : one ``{"t_s", "angle_deg", "axis"}`` per re-seating.
    """

    f_mps2: F64
    w_rps: F64
    bounce_tilt_deg_max: float
    shifts: tuple[dict[str, object], ...]


def _filter(b: F64, a: F64, x: F64) -> F64:
    """Causal IIR filter along axis 0, started in steady state at the first sample."""
    zi = lfilter_zi(b, a)
    out, _ = lfilter(b, a, x, axis=0, zi=zi[:, None] * x[:1] if x.ndim == 2 else zi * x[0])
    return np.asarray(out, dtype=np.float64)


def _rodrigues(axis: F64, angle: F64) -> F64:
    """Rotations (N, 3, 3) by ``angle`` (N,) rad about the unit ``axis`` (3,)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    out: F64 = np.eye(3) + s * k + (1 - c) * (k @ k)
    return out


def loose_belt(p: RunnerParams, f_body_mps2: F64, w_body_rps: F64, *, fs_hz: float,
               rng: np.random.Generator) -> BeltMotion:
    """The phone's motion from the pelvis's specific force (m/s²) and angular velocity (rad/s),
    each (N, 3) on a uniform grid at ``fs_hz`` (body frame: x forward, y left, z up).
    """
    n = f_body_mps2.shape[0]
    f, w = f_body_mps2, w_body_rps
    tilt_max = 0.0
    if p.belt_bounce_hz > 0 and n > 1:
        om, ze = 2 * np.pi * p.belt_bounce_hz, p.belt_damping_ratio
        den = np.array([1.0, 2 * ze * om, om * om])
        bh, ah = bilinear(np.array([2 * ze * om, om * om]), den, fs=fs_hz)
        f = _filter(bh, ah, f_body_mps2)
        bx, ax = bilinear(np.array([-1.0]), den, fs=fs_hz)
        fz = f_body_mps2[:, 2] - float(np.mean(f_body_mps2[:, 2]))
        x_z_m = _filter(bx, ax, fz)
        theta = np.radians(p.belt_tilt_deg_per_cm * 100.0 * x_z_m)
        tilt_max = float(np.degrees(np.max(np.abs(theta))))
        f = np.einsum("nji,nj->ni", rot_y(theta), f)  # the tipped phone: R^T f
        w = w + np.column_stack([np.zeros(n), np.gradient(theta) * fs_hz, np.zeros(n)])
    shifts: list[dict[str, object]] = []
    k = int(rng.poisson(p.belt_shifts_per_10min * n / fs_hz / 600.0)) if p.belt_shifts_per_10min > 0 else 0
    if k:
        q = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()  # phone frame relative to the pelvis
        w_rel = np.zeros((n, 3))
        for t0 in np.sort(rng.uniform(0.1, 0.9, k)) * n / fs_hz:  # a few re-seatings, in order
            axis = rng.standard_normal(3)
            axis /= np.linalg.norm(axis)
            ang = np.radians(rng.uniform(0.3, 1.0) * p.belt_shift_deg)
            i0 = int(t0 * fs_hz)
            u = np.clip((np.arange(i0, n) / fs_hz - t0) / SHIFT_S, 0.0, 1.0)
            g = u - np.sin(2 * np.pi * u) / (2 * np.pi)  # smooth start and stop
            g1 = (1.0 - np.cos(2 * np.pi * u)) / SHIFT_S
            q[i0:] = q[i0:] @ _rodrigues(axis, ang * g)
            w_rel[i0:] += axis * (ang * g1)[:, None]
            shifts.append({"t_s": float(t0), "angle_deg": float(np.degrees(ang)), "axis": axis.tolist()})
        f = np.einsum("nji,nj->ni", q, f)
        w = np.einsum("nji,nj->ni", q, w) + w_rel
    return BeltMotion(f_mps2=f, w_rps=w, bounce_tilt_deg_max=tilt_max, shifts=tuple(shifts))
