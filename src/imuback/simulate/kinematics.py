"""Noise-free trajectory and pelvis orientation at arbitrary times, and body-frame IMU vectors.

Evaluates a :class:`~imuback.simulate.gait.Gait` in closed form: vertical force, soft tissue,
horizontal forces, CoM/sacral positions and pelvis Euler angles with their rates; then specific
force and angular velocity in the body (pelvis) frame.
"""

from __future__ import annotations

import numpy as np

from imuback.core import G_MPS2
from imuback.signal.frames import rot_x, rot_y, rot_z
from imuback.simulate.forces import (
    braking_propulsion,
    hann,
    ramp,
    sine_lobe,
    sine_series,
    torsion_rings,
    wobble_kernel,
)
from imuback.simulate.gait import Gait
from imuback.simulate.params import B8, F64, I64


def contact_vertical(g: Gait, j: I64, t: F64, order: int, own_only: bool = False
                      ) -> tuple[F64, F64, F64]:
    """Vertical force of contact ``j`` minus its box (1 BW over its step) at times ``t``.

    Returns (I0, I1, I2): force (BW), its first and second integral from the contact start.
    ``own_only``: the foot's own force (hump + impact; at a stop from walking unloading after the
    step's end), no ramps, no box (I1, I2 then the uncut hump's).
    """
    return _contact_vertical_parts(g, j, t, order, own_only)[0]


def _contact_vertical_parts(g: Gait, j: I64, t: F64, order: int, own_only: bool = False
                            ) -> tuple[tuple[F64, F64, F64], F64]:
    """As :func:`contact_vertical`, plus the foot's own force (BW) alone."""
    st = g.st
    tau = t - st.s[j]
    tc = st.tc[j]
    a0, a1, a2 = sine_series(tau, tc, [(1, np.ones_like(tau)), (2, g.r[j]), (3, g.q[j])],
                              g.amp[j], order)
    b0, b1, b2 = hann(tau, g.imp_half[j], g.imp_amp[j], order)
    f0, f1, f2 = a0 + b0, a1 + b1, a2 + b2
    own = f0
    # a stop from walking (``Gait.hump_cut``): past the step's end this foot unloads from the hump's
    # value there to 0 along the end ramp (the last double support), while the standing support
    # reloads: the total has the hump up to there, then its impulse as a constant (and the ramp)
    late = np.flatnonzero(tau > g.hump_cut[j])
    if late.size:
        jl = j[late]
        cut = g.hump_cut[jl]
        h0, h1, h2 = sine_series(cut, tc[late], [(1, np.ones_like(cut)), (2, g.r[jl]), (3, g.q[jl])],
                                 g.amp[jl], order)
        own = own.copy()
        own[late] = b0[late] + ramp(tau[late] - cut, g.ramp_end_s[jl], h0, 0)[0]
        if not own_only:
            f0, f1, f2 = f0.copy(), f1.copy(), f2.copy()
            f0[late] -= a0[late]
            f1[late] += h1 - a1[late]
            f2[late] += h2 + h1 * (tau[late] - cut) - a2[late]
    if own_only:
        return (own, f1, f2), own
    c0, c1, c2 = ramp(tau, g.ramp_s, g.ramp_start[j], order)
    d0, d1, d2 = ramp(tau - st.T[j], g.ramp_end_s[j], g.ramp_end[j], order)
    # a stop from running: the landing after the step's end (``Gait.land_amp``), with the ramp
    land = np.flatnonzero((g.land_amp[j] != 0.0) & (tau > st.T[j]))
    if land.size:
        jl = j[land]
        e0, e1, e2 = sine_series(tau[land] - st.T[jl], g.land_s[jl], [(1, np.ones(land.size)), (2, g.land_r[jl])],
                                 g.land_amp[jl], order)
        d0, d1, d2 = d0.copy(), d1.copy(), d2.copy()
        d0[land] += e0
        d1[land] += e1
        d2[land] += e2
    T = st.T[j]
    box0 = ((tau >= 0) & (tau < T)).astype(float)
    box1 = np.clip(tau, 0.0, T)
    box2 = np.where(tau <= T, np.maximum(tau, 0.0) ** 2 / 2.0, T * T / 2.0 + T * (tau - T))
    return (f0 + c0 + d0 - box0, f1 + c1 + d1 - box1, f2 + c2 + d2 - box2), own


def _pwlinear(kt: F64, kv: F64, t: F64, smooth: B8 | None = None) -> tuple[F64, F64]:
    """Piecewise-linear interpolation (clamped) of each row of ``kv`` (m, K) and its slope (m, N).

    ``smooth`` (K - 1,): intervals eased by the smooth step ``x - sin(2 pi x) / (2 pi)`` instead
    (zero slope and curvature at both knots).
    """
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    dt = np.maximum(kt[i + 1] - kt[i], 1e-12)
    x = np.clip((t - kt[i]) / dt, 0.0, 1.0)
    out = (t >= kt[0]) & (t < kt[-1])
    dv = kv[:, i + 1] - kv[:, i]
    if smooth is None or not np.any(smooth):
        return kv[:, i] + x * dv, np.where(out, dv / dt, 0.0)
    sm = smooth[i]
    ease = x - np.sin(2.0 * np.pi * x) / (2.0 * np.pi)
    ease1 = 1.0 - np.cos(2.0 * np.pi * x)
    v = kv[:, i] + np.where(sm, ease, x) * dv
    slope = np.where(out, np.where(sm, ease1, 1.0) * dv / dt, 0.0)
    return v, slope


def _phase(g: Gait, t: F64) -> tuple[F64, F64]:
    """Stride phase (in units of pi) and its rate: piecewise linear between contacts, a cubic
    Hermite over the steps where walking and running hand over (the rate changes smoothly).
    """
    v, slope = _pwlinear(g.phase_knots_t, g.phase_knots_v[None, :], t)
    v, slope = v[0], slope[0]
    m = g.phase_hermite_m
    kt = g.phase_knots_t
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, kt.size - 2)
    sel = np.flatnonzero(np.isfinite(m[0, i]) & (t >= kt[0]) & (t < kt[-1]))
    if sel.size == 0:
        return v, slope
    j = i[sel]
    dt = kt[j + 1] - kt[j]
    x = (t[sel] - kt[j]) / dt
    v0, v1 = g.phase_knots_v[j], g.phase_knots_v[j + 1]
    m0, m1 = m[0, j] * dt, m[1, j] * dt
    x2, x3 = x * x, x * x * x
    v[sel] = ((2 * x3 - 3 * x2 + 1) * v0 + (x3 - 2 * x2 + x) * m0 + (-2 * x3 + 3 * x2) * v1
              + (x3 - x2) * m1)
    slope[sel] = ((6 * x2 - 6 * x) * v0 + (3 * x2 - 4 * x + 1) * m0 + (-6 * x2 + 6 * x) * v1
                  + (3 * x2 - 2 * x) * m1) / dt
    return v, slope


def _stride_harmonics(phi: F64, harm: tuple[float, float, float, float]) -> tuple[F64, F64]:
    """``a1 sin(φ + q1) + a3 sin(3φ + q3)`` and its derivative in ``φ``; ``harm = (q1, a3, q3, a1)``
    (phases in rad; amplitudes so the shape spans -1..1, :func:`imuback.simulate.gait._harmonics_rad`).
    """
    q1, a3, q3, a1 = harm
    return (a1 * np.sin(phi + q1) + a3 * np.sin(3.0 * phi + q3),
            a1 * np.cos(phi + q1) + 3.0 * a3 * np.cos(3.0 * phi + q3))


def sacral_vertical_g(g: Gait, t: F64) -> F64:
    """Noise-free vertical (world) specific force of the sacrum in g at any times ``t``."""
    st = g.st
    k = np.searchsorted(st.s, t, side="right") - 1
    total = np.ones_like(t)
    for kk in (k, k - 1):
        valid = kk >= 0
        kc = np.clip(kk, 0, st.s.size - 1)
        f = contact_vertical(g, kc, t, 0)[0]
        _, wpp = wobble_kernel(g.wob_w[kc] * (t - st.s[kc] - g.wob_delay[kc]), g.wob_decay)
        total += np.where(valid, f + g.wob_b[kc] * g.wob_w[kc] ** 2 * wpp / G_MPS2, 0.0)
    return total


def evaluate(g: Gait, t: F64, *, positions: bool, horizontal: bool = True) -> dict[str, F64]:
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
    wc, wcpp = wobble_kernel(g.wob_w[kc] * tau_c, g.wob_decay)
    wm, wmpp = wobble_kernel(g.wob_w[km] * tau_m, g.wob_decay)
    wob_acc = (np.where(valid_c, g.wob_b[kc] * g.wob_w[kc] ** 2 * wcpp, 0.0)
               + np.where(valid_m, g.wob_b[km] * g.wob_w[km] ** 2 * wmpp, 0.0))
    out["wob_g"] = wob_acc / G_MPS2
    out["a_z"] = G_MPS2 * ex0 + wob_acc
    # the mediolateral soft-tissue/strap ring (walking; off by default), the same kernel, onset and decay
    ml_ring = bool(np.any(g.mlt_b))
    mlt_acc: F64 | float = 0.0
    if ml_ring:
        _, mcpp = wobble_kernel(g.mlt_w[kc] * tau_c, g.wob_decay)
        _, mmpp = wobble_kernel(g.mlt_w[km] * tau_m, g.wob_decay)
        mlt_acc = (np.where(valid_c, g.mlt_b[kc] * g.mlt_w[kc] ** 2 * mcpp, 0.0)
                   + np.where(valid_m, g.mlt_b[km] * g.mlt_w[km] ** 2 * mmpp, 0.0))
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
            run = st.run[kk]
            a_fwd += np.where(run, sine_series(tau, tc, [(2, -ones)], g.ap_amp[kk], 0)[0],
                              braking_propulsion(tau, tc, g.ap_warp[kk], g.ap_amp[kk]))
            # walking: heel-strike collision after the IC, swing-leg pull before the next one
            a_fwd -= sine_lobe(tau - g.hs_delay[kk], g.hs_s[kk], g.hs_amp[kk])
            a_fwd += sine_lobe(st.T[kk] + g.pull_delay[kk] - tau, g.pull_s[kk], g.pull_amp[kk])
            a_lat += sine_series(tau, tc, [(1, ones)], g.ml_amp[kk], 0)[0]
        out["a_fwd"] = G_MPS2 * a_fwd + u1
        out["a_lat"] = G_MPS2 * a_lat + u * psi_h1
        if ml_ring:
            out["a_lat"] += mlt_acc
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
            yl += np.where(valid, sine_series(tau, st.tc[kk], [(1, np.ones_like(tau))],
                                               g.ml_amp[kk], 2)[2], 0.0)
        ycd = np.where(kk2 > 0, g.ml_cum_j[np.clip(kk2, 0, n_st)], 0.0)
        ycc = np.where(kk2 > 0, g.ml_cum_const[np.clip(kk2, 0, n_st)], 0.0)
        # the sacrum's path: the sideways strap/tissue ring is the sensor's motion relative to it
        out["y"] = G_MPS2 * (ycd * t - ycc + yl)
    out.update(_pelvis_angles(g, t, u, u1, psi_h, psi_h1, psi_h2))
    if any(g.lever_m):
        out.update(_lever(g, t, out))
    return out


def _pelvis_angles(g: Gait, t: F64, u: F64, u1: F64, psi_h: F64, psi_h1: F64, psi_h2: F64
                   ) -> dict[str, F64]:
    """Pelvis yaw (with heading), pitch and roll (with the lean into turns) and their rates, rad."""
    out: dict[str, F64] = {}
    # stride phase phi (right IC at multiples of 2 pi), envelopes per step
    n_ph, n_ph1 = _phase(g, t)
    phi, phi1 = np.pi * n_ph, np.pi * n_ph1
    env, env1 = _pwlinear(g.pel_knots_t, np.stack([g.pel_rot, g.pel_obl, g.pel_tilt, g.pel_rot_walk,
                                                   g.pel_obl_walk]) / 2.0, t, g.pel_smooth)
    (ar, ao, at, arw, aow), (ar1, ao1, at1, arw1, aow1) = env, env1
    # running rotation: zero crossing with positive rate just after right IC, max at right mid-stance
    ph_y = phi - 0.1 * np.pi
    # running obliquity: contralateral (left) side drops during right stance, lowest near mid-stance
    ph_r = phi + 0.15 * np.pi
    # walking: first and third stride harmonics (the left side's fast drop in loading response)
    sy, sy1 = _stride_harmonics(phi, g.walk_rot_harm)
    so, so1 = _stride_harmonics(phi, g.walk_obl_harm)
    yaw_p = ar * np.sin(ph_y) + arw * sy
    yaw_p1 = ar1 * np.sin(ph_y) + ar * np.cos(ph_y) * phi1 + arw1 * sy + arw * sy1 * phi1
    if np.any(g.tor_amp):  # walking heel-strike torsion: every contact's ring, still decaying
        tk, tk1 = torsion_rings(t, g.st.s + g.tor_delay, g.tor_amp, g.tor_w, g.tor_decay)
        yaw_p = yaw_p + tk
        yaw_p1 = yaw_p1 + tk1
    roll_p = -ao * np.sin(ph_r) + aow * so
    roll_p1 = -(ao1 * np.sin(ph_r) + ao * np.cos(ph_r) * phi1) + aow1 * so + aow * so1 * phi1
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


LEVER_DT_S = 0.01
"""Half-step of the central difference that gives the pelvis's angular acceleration (s): a 20 ms
box, so the bends of the pelvis rate where its per-step envelopes and stride phase change slope
(at the knots) stay bends instead of spikes; 1.6 % less at the 5 Hz heel-strike torsion."""


def _lever(g: Gait, t: F64, ang: dict[str, F64]) -> dict[str, F64]:
    """Acceleration of the sensor relative to the pelvis's rotation centre, body frame (m/s², (N,3)).

    Rigid body: ``alpha x r + omega x (omega x r)`` with ``r = g.lever_m`` on walking steps (its
    envelope ``g.lever_env``; 0 on running steps and while standing, where nothing is computed);
    ``alpha`` by a central difference of the body angular velocity over +-:data:`LEVER_DT_S`.
    """
    out = np.zeros((t.size, 3))
    env = _pwlinear(g.pel_knots_t, g.lever_env[None, :], t)[0][0]
    sel = np.flatnonzero(env > 0.0)
    if sel.size == 0:
        return {"lever_acc": out}
    ts = t[sel]
    w = _omega_body({k: ang[k][sel] for k in ("pitch", "roll", "yaw_d", "pitch_d", "roll_d")})
    d = []
    for sgn in (1.0, -1.0):
        th = ts + sgn * LEVER_DT_S
        u, u1, _ = g.speed.eval(th)
        psi_h, psi_h1, psi_h2 = g.heading.eval(th)
        d.append(_omega_body(_pelvis_angles(g, th, u, u1, psi_h, psi_h1, psi_h2)))
    alpha = (d[0] - d[1]) / (2.0 * LEVER_DT_S)
    r = env[sel, None] * np.asarray(g.lever_m)[None, :]
    out[sel] = np.cross(alpha, r) + np.cross(w, np.cross(w, r))
    return {"lever_acc": out}


def _omega_body(ev: dict[str, F64]) -> F64:
    """Angular velocity (rad/s) in the body (pelvis) frame from the Euler angles and rates, (N, 3)."""
    th, ph = ev["pitch"], ev["roll"]
    psi1, th1, ph1 = ev["yaw_d"], ev["pitch_d"], ev["roll_d"]
    sth, cth, sph, cph = np.sin(th), np.cos(th), np.sin(ph), np.cos(ph)
    return np.stack([ph1 - psi1 * sth,
                     th1 * cph + psi1 * cth * sph,
                     -th1 * sph + psi1 * cth * cph], axis=-1)


def body_vectors(ev: dict[str, F64]) -> tuple[F64, F64]:
    """Specific force (m/s²) and angular velocity (rad/s) in the body (pelvis) frame, (N, 3)."""
    yaw_p = np.radians(ev["yaw_p"])
    th, ph = ev["pitch"], ev["roll"]
    f_path = np.stack([ev["a_fwd"], ev["a_lat"], ev["a_z"] + G_MPS2], axis=-1)
    # R_path_from_body = rot_z(yaw_p) rot_y(th) rot_x(ph); body = R^T path
    r = rot_z(yaw_p) @ rot_y(th) @ rot_x(ph)
    f_body = np.einsum("nji,nj->ni", r, f_path)
    if "lever_acc" in ev:  # the sensor is not at the pelvis's rotation centre
        f_body = f_body + ev["lever_acc"]
    return f_body, _omega_body(ev)
