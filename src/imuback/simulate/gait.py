"""Per-step model parameters (:class:`Gait`) and the per-step impulse balance (steps 3-6).

:func:`build_gait` draws every contact's force, soft-tissue and pelvis parameters, then
:func:`_control` sets each step's impulse so the centre of mass stays periodic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imuback.core import G_MPS2
from imuback.errors import SimulationError
from imuback.simulate.forces import flat_walk_shape_q, warp_for_braking_peak, wobble_kpp_max
from imuback.simulate.params import B8, F64, I64, RunnerParams
from imuback.simulate.plan import Steps, Transitions

HAND_BACK = (0.5,)
"""Share of the walking level (``_walk_level``) kept by a bout's second-to-last step (then the
third-to-last, ...); the last step hands all of it back to standing's."""

MIN_SWING_S = 0.15
"""A walking foot's shortest swing (s): a quick step's (about half of a slow walker's ~0.3-0.4 s
swing at 100 steps/min; a round figure). The contact before a quick step ends this long before the
same foot's next contact starts (its double support shortens)."""

BOUT_EASE_S = 0.4
"""The pelvis eases into its gait motion over this long before a bout's first contact and out of
it over this long after the bout's last step (s)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Gait:
    """Everything needed to evaluate the trajectory at any time."""

    st: Steps
    q: F64
    r: F64
    amp: F64  # active hump amplitude (BW)
    imp_amp: F64
    imp_half: F64
    ramp_start: F64  # 1 on the first contact of a bout, else 0
    ramp_end: F64  # on a bout's last contact minus the standing support still to reload at its step's end
    # (-1; on a stop from walking -(1 - its hump there)), else 0
    hump_cut: F64  # time after the contact starts from which its hump no longer adds to the total force (s;
    # inf, or the step time on a stop from walking: the foot unloads from the hump's value there to 0
    # along the end ramp, while the standing support reloads)
    land_amp: F64  # a stop from running: the landing hump after the step's end (BW; 0 elsewhere), part of
    # the standing support (the other foot), not this foot's own force
    land_r: F64  # its skew: land_amp (sin(pi u) + land_r sin(2 pi u)), u = (tau - T) / land_s
    land_s: F64  # its duration (s; 0 where there is none)
    ramp_s: float
    ramp_end_s: F64  # the end ramp's duration (s): ramp_s, on a stop from walking at most the last step's
    # double support (tc - T)
    cum_delta: F64  # sum of (J - T) of all earlier contacts (s)
    cum_const: F64  # sum of (delta ic + J sbar - T^2/2) of all earlier contacts (s^2)
    ap_amp: F64
    ap_warp: F64  # time warp of the braking/propulsion shape (0: plain sine; running)
    hs_amp: F64  # heel-strike collision (braking half sine) at this contact (BW; 0: running, bout start)
    hs_s: F64  # its duration (s)
    pull_amp: F64  # swing-leg pull (forward half sine) ending at the next IC (BW)
    pull_s: F64  # its duration (s)
    hs_delay: F64  # pull-to-collision turnover after the contact starts (s)
    pull_delay: F64  # the next contact's hs_delay (s)
    ml_amp: F64  # signed: side * M
    ml_cum_j: F64
    ml_cum_const: F64
    wob_b: F64  # displacement amplitude (m)
    wob_w: F64  # rad/s
    wob_delay: F64
    wob_decay: float
    mlt_b: F64  # mediolateral soft-tissue/strap ring: displacement amplitude (m, signed; 0 on running)
    mlt_w: F64  # its angular frequency (rad/s)
    pel_knots_t: F64
    pel_smooth: B8  # per knot interval: eased (smooth step) instead of linear (a bout's start and end,
    # the step that hands over between walking and running)
    pel_rot: F64  # running rotation range (deg; 0 on walking steps)
    pel_obl: F64  # running obliquity range (deg; 0 on walking steps)
    pel_rot_walk: F64  # walking rotation range (deg; 0 on running steps)
    pel_obl_walk: F64  # walking obliquity range (deg; 0 on running steps)
    pel_tilt: F64
    walk_rot_harm: tuple[float, float, float, float]  # (q1 rad, a3, q3 rad, a1) of the walking yaw
    walk_obl_harm: tuple[float, float, float, float]  # (q1 rad, a3, q3 rad, a1) of the walking roll
    lever_m: tuple[float, float, float]  # sensor minus the pelvis's rotation centre, body frame (m; walking)
    tor_amp: F64  # heel-strike yaw torsion of each contact (deg, signed by the foot; 0 on running)
    tor_w: float  # its angular frequency (rad/s)
    tor_delay: float  # its onset after the contact starts (s)
    tor_decay: float  # its decay per radian
    lever_env: F64  # 1 on walking steps, 0 on running steps and at the bout ends (knots pel_knots_t)
    phase_knots_t: F64
    phase_knots_v: F64
    phase_hermite_m: F64  # (2, K - 1): end slopes of a Hermite knot interval (NaN: linear)
    tilt_peak_frac: float
    heading: Transitions
    speed: Transitions


def _unit_moments(st: Steps, q: F64, r: F64, imp_amp: F64, imp_half: F64, ramp_start: F64,
                  ramp_end: F64, ramp_s: float, ramp_end_s: F64) -> tuple[F64, F64, F64, F64]:
    """Per contact: hump impulse and first moment per unit amplitude; fixed impulse and moment
    (the start ramp over ``ramp_s``, the end ramp over ``ramp_end_s``, s).
    """
    tc = st.tc
    a1 = tc * (2.0 / np.pi) * (1.0 + q / 3.0)
    m1 = tc**2 * (1.0 / np.pi - r / (2.0 * np.pi) + q / (3.0 * np.pi))
    j_imp = imp_amp * imp_half
    m_imp = j_imp * imp_half
    c_ramp = ramp_s * (0.5 - 2.0 / np.pi**2)
    j_rs = ramp_start * ramp_s / 2.0
    j_re = ramp_end * ramp_end_s / 2.0
    jf = j_imp + j_rs + j_re
    mf = m_imp + j_rs * c_ramp + j_re * (st.T + ramp_end_s * (0.5 - 2.0 / np.pi**2))
    return a1, m1, jf, mf


def _moving_average(x: F64, group: I64, k: int = 5) -> F64:
    """Centred ``k``-point moving average of ``x`` within each group (edges padded; few groups)."""
    out = np.empty(x.size)
    for b in np.unique(group):
        idx = np.flatnonzero(group == b)
        kk = min(k, idx.size)
        pad = np.pad(x[idx], (kk // 2, kk - 1 - kk // 2), mode="edge")
        out[idx] = np.convolve(pad, np.ones(kk) / kk, mode="valid")
    return out


def _hump_tail(T: F64, tc: F64, r: F64, q: F64, a1: F64) -> F64:
    """Hump impulse per unit amplitude still to come ``T`` after the contact starts (s).

    ``a1`` is the whole hump's impulse per unit amplitude; 0 where the contact ends before ``T``.
    """
    tt = np.minimum(T, tc)
    done: F64 = sum((c * tc / (m * np.pi) * (1.0 - np.cos(m * np.pi * tt / tc))
                     for m, c in ((1, 1.0), (2, r), (3, q))), np.zeros_like(T))
    return a1 - done


def _cut_hump_terms(T: F64, tc: F64) -> tuple[F64, F64, F64]:
    """Per contact and harmonic ``m`` = 1, 2, 3 (rows), the term ``sin(m x)`` (``x = pi tau / tc``)
    of the hump up to ``T``, per unit amplitude: impulse ``A`` (s), ``∫_0^T (T - tau) sin(m x) dtau``
    ``B`` (s^2) and the value at ``T`` ``P``; each (3, n_contacts).
    """
    u = np.minimum(T / tc, 1.0)
    k = np.stack([tc / (m * np.pi) for m in (1, 2, 3)])
    sm = np.stack([np.sin(m * np.pi * u) for m in (1, 2, 3)])
    cm = np.stack([np.cos(m * np.pi * u) for m in (1, 2, 3)])
    return k * (1.0 - cm), k * (T - k * sm), sm


def _push_only_skew(q: F64, n_grid: int = 512) -> tuple[F64, F64]:
    """Per contact: the range of the hump's skew ``r`` (dimensionless) that keeps it a push.

    The hump ``sin(pi u) + r sin(2 pi u) + q sin(3 pi u)`` (``u`` the share of the contact) must
    stay >= 0: a foot can push on the ground, not pull. Returns the lowest and highest such ``r``
    (empty when ``q`` alone makes it negative: then lo > hi).
    """
    u = (np.arange(n_grid) + 0.5) / n_grid
    s1, s2, s3 = (np.sin(m * np.pi * u)[None, :] for m in (1, 2, 3))
    base = s1 + q[:, None] * s3
    lo = np.max(np.where(s2 > 0, -base / np.where(s2 > 0, s2, 1.0), -np.inf), axis=1)
    hi = np.min(np.where(s2 < 0, base / np.where(s2 < 0, -s2, 1.0), np.inf), axis=1)
    return lo, hi


def _run_walk_landing(st: Steps, q: F64, r: F64, imp_amp: F64, imp_half: F64, a1: F64) -> tuple[F64, F64]:
    """The first walking contact after a running one lands from flight: its impact bump carries
    what a previous walking contact's push would carry over the double support.

    In steady walking the previous contact still pushes after each IC (about body weight at the
    IC, falling to zero at its toe-off); after a run nothing does, and a walking hump, rising from
    zero over a long contact, let the body fall 8-13 cm at a slow walker's first walking steps
    (90 steps/min, duty 0.68). Here that contact's impact bump (a Hann, the foot's own force) spans
    the double support and has the impulse of the nominal push it replaces (per unit amplitude
    ``a1 - i1(T)``, times the nominal amplitude ``(T - impact) / a1``). Returns the new impact
    amplitudes (BW) and half-widths (s); other contacts unchanged. ``a1``: each contact's hump
    impulse per unit amplitude (s), as :func:`_unit_moments` gives it.
    """
    k = np.flatnonzero(~st.run & np.concatenate([[False], st.run[:-1]]) & ~st.first)
    if k.size == 0:
        return imp_amp, imp_half
    T, tc, qk, rk, a1k = st.T[k], st.tc[k], q[k], r[k], a1[k]
    push = (T - imp_amp[k] * imp_half[k]) / a1k * _hump_tail(T, tc, rk, qk, a1k)  # BW s
    half = np.maximum(tc - T, 0.05) / 2.0
    amp_out, half_out = imp_amp.copy(), imp_half.copy()
    amp_out[k] = push / half
    half_out[k] = half
    return amp_out, half_out


def _walk_level(st: Steps, q: F64, r_nat: F64, a_nat: F64, imp_amp: F64, imp_half: F64,
                stretch: I64, n_grid: int = 256) -> F64:
    """Per walking step: the *completed-contacts* height at the next IC that puts the top of the
    true body's step at its standing level (m, relative to it; 0 on running steps and a bout's
    last step; on the step before, half the true height at IC, the push owed whole).

    The controller's height is that of every started contact's whole impulse: a walking contact
    still pushes after the next IC (double support), so the true height there is higher by the
    displacement still owed, ``g D``, ``D = ∫_T^tc (τ - T) f(τ) dτ``. And the IC is not the step's
    highest point: for a periodic step (this contact's nominal force ``f`` plus the previous one's
    tail, ``F - 1`` integrated twice to zero mean), ``O`` is the height at IC minus the step's
    highest height. The level returned is ``g O - g D``: the walking body is highest, near
    mid-stance, at its standing height, as an inverted pendulum whose stance leg is as long at
    mid-stance as in standing (Saunders et al. 1953), and below it for the rest of the step.
    Nominal shapes (``a_nat``, ``r_nat``), averaged over 5 steps of the walking stretch like the
    other targets. Vectorised on an ``n_grid``-point step grid.
    """
    n = st.s.size
    out = np.zeros(n)
    walk = np.flatnonzero(~st.run)
    if walk.size == 0:
        return out
    T, tc = st.T[walk, None], st.tc[walk, None]
    x = (np.arange(n_grid) + 0.5) / n_grid
    dt = T / n_grid

    def _f(tau: F64) -> F64:  # the nominal force of this walking contact (BW), zero outside it
        u = tau / tc
        hump = a_nat[walk, None] * (np.sin(np.pi * u) + r_nat[walk, None] * np.sin(2 * np.pi * u)
                                    + q[walk, None] * np.sin(3 * np.pi * u))
        th = imp_half[walk, None]
        imp = imp_amp[walk, None] * np.sin(np.pi * tau / (2.0 * th)) ** 2 * (tau <= 2.0 * th)
        out: F64 = np.where((tau > 0) & (tau < tc), hump, 0.0) + imp
        return out

    tau = x[None, :] * T
    tail_f = _f(tau + T)
    owed = np.sum(tau * tail_f, axis=1) * dt[:, 0]
    acc = _f(tau) + tail_f - 1.0
    acc = acc - acc.mean(axis=1, keepdims=True)
    vel = np.cumsum(acc, axis=1) * dt
    vel = vel - vel.mean(axis=1, keepdims=True)
    height = np.cumsum(vel, axis=1) * dt
    at_ic = -height.max(axis=1)
    level, below = np.zeros(n), np.zeros(n)
    level[walk] = G_MPS2 * (at_ic - owed)
    below[walk] = G_MPS2 * at_ic
    out = np.where(st.run, 0.0, _moving_average(level, stretch))
    # the bout's last two steps hand the level back to standing's (half, then all of it): the
    # last contact alone could not always bring the body back to its standing height. Only the
    # true height at IC is handed back (``g O``); the push still owed (``g D``) is the
    # bookkeeping's and still comes (the whole level halved put the last IC 1.6-3.2 cm above
    # standing at 0.45 m/s, by half the owed push)
    below_s = _moving_average(below, stretch)
    k = np.flatnonzero(st.last)
    for frac in HAND_BACK:
        k = k[~st.first[k]] - 1
        out[k] -= (1.0 - frac) * below_s[k]
    out[st.last] = 0.0
    return out


def _stop_step(v_mps: float, dz0_m: float, step_s: float, contact_s: float, j0_s: float, m0_s2: float,
               terms: tuple[F64, F64, F64], q: float, ramp_s: float, c_ramp_s: float,
               r_range: tuple[float, float], n_grid: int = 256) -> tuple[float, float, float, float, float]:
    """A walking bout's last contact, whose hump ``a (sin x + r sin 2x + q sin 3x)`` is cut at its
    step's end ``step_s`` (s; the contact lasts ``contact_s``), where the other foot has landed: over the reload
    (``ramp_s`` <= ``contact_s - step_s``, the eased ramp, centroid ``c_ramp_s`` after the step's end) this foot unloads
    from the hump's value there, ``f_T``, to 0 and the standing support reloads from ``f_T`` to
    1 BW (end ramp amplitude ``-(1 - f_T)``), so the other foot carries the ramp, >= 0.

    ``v_mps``: the velocity at the contact's start; ``dz0_m`` its height over the target;
    ``j0_s``, ``m0_s2``: the contact's fixed impulse and first moment without an end ramp;
    ``terms``: :func:`_cut_hump_terms` of this contact (a column each); ``q`` its natural sin 3x
    share. ``a`` and ``b = a r`` solve, both linearly, velocity 0 and the height at the target
    once the ramp has reloaded; with ``r`` outside ``r_range`` it is clipped and ``a`` brings the
    velocity alone to 0. Where that leaves ``f_T`` above 1 BW (the total would rise over body
    weight after the step's end and the body settle from above), the push-off's sin 3x term is
    freed and ``f_T = 1`` added: a third linear equation (a walker stopping pushes off less).
    Returns ``a`` (BW), ``r``, ``q``, the end ramp's amplitude (BW) and the height change over
    the step and its ramp (m).
    """
    A, B, P = terms
    T, h = step_s, ramp_s / 2.0
    # impulse: j0 - h + sum_m c_m (A_m + P_m h) = T - v / g
    # ∫(T - tau) F: (j0 T - m0) + h c_ramp + sum_m c_m (B_m - P_m h c_ramp) = T^2 / 2 - (v T + dz0) / g
    rhs = np.array([T - v_mps / G_MPS2 - j0_s + h,
                    T * T / 2.0 - (v_mps * T + dz0_m) / G_MPS2 - (j0_s * T - m0_s2) - h * c_ramp_s])
    mat = np.stack([A + P * h, B - P * h * c_ramp_s])  # (2 equations, 3 harmonics)
    m2 = np.stack([mat[:, 0] + q * mat[:, 2], mat[:, 1]], axis=1)
    a, b = np.linalg.solve(m2, rhs)
    r = b / a if a > 0 else 0.0
    if not r_range[0] <= r <= r_range[1]:
        r = min(max(r, r_range[0]), r_range[1])
        a = rhs[0] / (m2[0, 0] + r * m2[0, 1])
    if a <= 0:
        raise SimulationError("simulator: the last contact of a bout cannot stop the body; "
                              "lengthen walk_end_s or stand_end_s")
    if a * (P[0] + r * P[1] + q * P[2]) > 1.0:
        # f_T = 1: the sin 3x amplitude free (the total force stays at body weight after T)
        a, b, c = np.linalg.solve(np.vstack([mat, P]), np.r_[rhs, 1.0])
        r, q = b / a, c / a
        x = (np.arange(n_grid) + 0.5) / n_grid * np.pi * min(T / contact_s, 1.0)  # the hump up to T
        if (a <= 0 or not r_range[0] <= r <= r_range[1]
                or np.min(np.sin(x) + r * np.sin(2 * x) + q * np.sin(3 * x)) < 0.0):
            raise SimulationError("simulator: the last walking contact cannot stop the body at body "
                                  "weight as a push; lower walk_shape_q or walk_duty_factor")
    f_t = a * (P[0] + r * P[1] + q * P[2])
    end = -(1.0 - f_t)
    s_int = (j0_s * T - m0_s2) - end * h * c_ramp_s + a * (B[0] + r * B[1] + q * B[2])
    dz = v_mps * T + G_MPS2 * (s_int - T * T / 2.0)
    return float(a), float(r), float(q), float(end), float(dz)


LAND_SPANS = (1.0, 1.5, 2.0, 3.0)
"""A running stop's landing lasts the last contact's time times the first of these whose force
stays a push (``_land_step``); a longer landing absorbs more gently."""


def _land_step(v_mps: float, dz0_m: float, span_s: float, ramp_s: float, c_ramp_s: float,
               n_grid: int = 256) -> tuple[float, float, float, float]:
    """A running bout's last landing: from the flight after its last contact the other foot lands
    at the step's end and absorbs; the body comes to rest at its target height.

    The total force over the landing (``tau`` from the step's end) is the standing support
    reloading from 0 (the end ramp, amplitude -1 over ``ramp_s``, centroid ``c_ramp_s``) plus a
    landing hump ``a (sin(pi u) + r sin(2 pi u))``, ``u = tau / L``, over ``L`` (``span_s`` times
    :data:`LAND_SPANS`): ``a`` brings the velocity ``v_mps`` (m/s) at the step's end to 0 (the
    ``sin 2x`` term has no impulse), then ``b = a r`` the height ``dz0_m`` over the target (m) to 0,
    both linearly. The first ``L`` whose total force stays >= 0 is used (the body lands, sinks
    and rises back: a knee bend, never pulled). Returns ``a`` (BW), ``r``, ``L`` (s) and the
    height change from the step's end (m).
    """
    h = ramp_s / 2.0
    for mult in LAND_SPANS:
        L = max(span_s * mult, ramp_s)
        a = (h - v_mps / G_MPS2) * np.pi / (2.0 * L)
        # height: v_mps L + g [-h (L - c_ramp_s) + a L^2 / pi + b L^2 / (2 pi)] = -dz0_m
        rest = v_mps * L + G_MPS2 * (-h * (L - c_ramp_s) + a * L * L / np.pi)
        b = (-dz0_m - rest) / (G_MPS2 * L * L / (2.0 * np.pi))
        tau = (np.arange(n_grid) + 0.5) / n_grid * L
        u = tau / L
        reload = np.where(tau < ramp_s, (1.0 - np.cos(np.pi * np.minimum(tau, ramp_s) / ramp_s)) / 2.0, 1.0)
        if a > 0 and np.min(reload + a * np.sin(np.pi * u) + b * np.sin(2.0 * np.pi * u)) >= 0.0:
            return float(a), float(b / a), float(L), float(-dz0_m)
    raise SimulationError("simulator: the landing after a bout's last running contact cannot stop "
                          "the body as a push")


def _control(st: Steps, a1: F64, q: F64, r_nat: F64, jf: F64, mf: F64, ml_nom: F64,
             imp_nom: tuple[F64, F64, F64], ramp_s: float, ramp_end_s: F64
             ) -> tuple[F64, F64, F64, F64, F64, tuple[F64, F64, F64]]:
    """Per-step impulse and timing control so CoM height and lateral position stay periodic.

    A runner keeps their height from step to step; with a prescribed force shape and step-to-step
    variation the CoM would random-walk. Vertical, per step: the impulse (hump amplitude) steers
    the velocity at the next IC to the smoothed natural value ``-g (T/2 - sbar)`` of a periodic
    step with force centroid ``sbar``; the hump's skew (``r``, which moves the force centroid
    without changing the impulse) brings the height at the next IC back to the bout's level.
    Walking contacts overlap (double support): the velocity steered is that of every *started*
    contact's whole impulse, so a contact does not make up for the part of the previous one's push
    still to come after its IC (that make-up made strong and weak steps alternate, lag-1
    correlation of the amplitudes about -0.5 at a duty factor of 0.66; running contacts end before
    the next IC, so nothing changes there).
    A bout ends at rest at its standing height. A running last contact is a plain step; its flight
    ends where the other foot lands and absorbs (:func:`_land_step`: the standing support reloads
    from 0 plus a landing hump that stops the body and brings it back to its standing height;
    before, the last contact itself stopped the body, so it had to throw it up into a flight and
    the body came to rest 107-111 mm above standing). A walking last contact still
    pushes after its step ends, where the other foot lands beside it: over the reload
    (``ramp_end_s``, the eased ramp, within the double support) this foot unloads from its
    hump's value at the step's end to 0 and the total force becomes the standing one, reloading
    from that value to 1 BW, never above
    it, so the body rises onto its standing height and stops there instead of being pushed above
    it and falling back (the hump plus a full reload lifted it 4-8 cm above standing at every
    stop). Its amplitude and skew then solve a 2x2 linear system (velocity 0, the height at the
    step's end at standing's; the skew within its push-only range, else the velocity alone), and
    a third knob, the push-off's sin 3x share, where the hump at the step's end would exceed 1 BW
    (:func:`_stop_step`). Mediolateral: the
    velocity after each contact is steered to +-half the nominal swing minus a position
    correction. One loop over steps, because each step's state depends on the previous one.

    ``imp_nom`` is every contact's impact amplitude (BW), half-width (s) and fixed impulse ``jf``
    (s) *before* the run→walk landing (:func:`_run_walk_landing`): the walking level is that of a
    periodic step, which the landing bump is not.

    Returns hump amplitude (BW), skew ``r``, sin 3x share ``q``, signed ML amplitude (BW), the end ramp's amplitude
    (``Gait.ramp_end``, BW) and the landing's amplitude, skew and duration (``Gait.land_amp``,
    ``land_r``, ``land_s``), each (n_steps,).
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
    tail = _hump_tail(T, tc, r_nat, q, a1)
    vstar = -G_MPS2 * (T / 2.0 - sbar) - G_MPS2 * a_nat * tail
    # walking steers the velocity of the started contacts' whole impulses to the periodic value
    # plus the *nominal* push still owed after the next IC (a_nat * tail), not the actual one: no
    # make-up for the previous contact's tail (running: no tail, the true velocity as before)
    # (smoothed over the walking stretch: a step-to-step difference of it would alternate again)
    change = np.zeros(n, dtype=bool)
    change[1:] = (np.diff(st.bout) != 0) | (np.diff(st.run) != 0)
    stretch = np.cumsum(change)
    owed = np.where(st.run, 0.0, _moving_average(G_MPS2 * a_nat * tail, stretch))
    tail = np.where(st.run, tail, 0.0)
    vs = _moving_average(vstar, stretch)  # never across a walk<->run change (a height dip there)
    # the completed-contacts height each walking step steers to, so the true level stays standing's
    imp_amp, imp_half, jf_nom = imp_nom
    level = _walk_level(st, q, r_nat, (T - jf_nom) / a1, imp_amp, imp_half, stretch)
    level_prev = np.concatenate([[0.0], level[:-1]])
    level_prev[st.first] = 0.0
    vbar = G_MPS2 * ml_nom * tc / np.pi  # half the lateral velocity swing
    a1y = tc * 2.0 / np.pi
    # the skew's range: within 0.3 of its natural value; on a bout's last contact as far as the
    # hump stays a push (>= 0), so the last step can also bring the body back to its standing
    # height (a walk of 1-2 steps after a run left a slow walker standing up to 20 cm lower)
    push_lo, push_hi = _push_only_skew(q)
    r_lo = np.where(st.last, np.minimum(push_lo, r_nat - 0.3), r_nat - 0.3)
    r_hi = np.where(st.last, np.maximum(push_hi, r_nat + 0.3), r_nat + 0.3)
    amp, rr, mly = np.empty(n), np.empty(n), np.empty(n)
    ramp_end = -st.last.astype(float)
    cut = st.last & (tc > T)  # a stop from walking: the hump goes on past the step's end
    land = st.last & ~cut  # a stop from running: a flight, then the landing
    land_amp, land_r, land_s = np.zeros(n), np.zeros(n), np.zeros(n)
    ch_a, ch_b, ch_p = _cut_hump_terms(T, tc)
    c_ramp = ramp_s * (0.5 - 2.0 / np.pi**2)
    c_end = ramp_end_s * (0.5 - 2.0 / np.pi**2)
    q = q.copy()
    beta, beta_y = 0.3, 0.5
    v = z = z_ref = vy = y = 0.0
    for k in range(n):  # sequential: the state after a step feeds the next
        if st.first[k]:
            v, vy, z_ref, y = 0.0, 0.0, z, 0.0
        tk = T[k]
        if cut[k]:
            h_end = ramp_end_s[k] / 2.0
            a, r, q[k], ramp_end[k], dz = _stop_step(
                v, z - z_ref - level[k], tk, tc[k], jf[k] + h_end, mf[k] + h_end * (tk + c_end[k]),
                (ch_a[:, k], ch_b[:, k], ch_p[:, k]), q[k], ramp_end_s[k], c_end[k], (r_lo[k], r_hi[k]))
            z += dz
            v = 0.0
            amp[k], rr[k] = a, r
        elif land[k]:
            # a running stop: the last contact is a plain step (the flight after it a plain one); the
            # landing at the step's end stops the body (``_land_step``): its impulse and moment here
            # without the end ramp, which the landing accounts for
            jf_k, mf_k = jf[k] + ramp_s / 2.0, mf[k] + ramp_s / 2.0 * (tk + c_ramp)
            target = vs[k] - beta * (z - z_ref - level_prev[k]) / tk
            a = ((target - v) / G_MPS2 + tk - jf_k) / a1[k]
            a = min(max(a, 0.4 * (tk - jf_k) / a1[k]), 1.8 * (tk - jf_k) / a1[k])
        else:
            jf_k, mf_k = jf[k], mf[k]
            target = vs[k + 1] + owed[k] - beta * (z - z_ref - level_prev[k]) / tk
            a = ((target - v) / G_MPS2 + tk - jf_k) / (a1[k] - tail[k])
            a = min(max(a, 0.4 * a_nat[k]), 1.8 * a_nat[k])
        if not cut[k]:
            if a <= 0:
                raise SimulationError("simulator: the last contact of a bout cannot stop the body; "
                                      "lengthen walk_end_s or stand_end_s")
            jk = a * a1[k] + jf_k
            # skew so that the height at the next IC equals the bout level (within shape bounds)
            m_req = ((jk * tk - tk * tk / 2.0) + (v * tk + z - z_ref - level[k]) / G_MPS2 - mf_k) / a
            r = 2.0 + 2.0 * q[k] / 3.0 - 2.0 * np.pi * m_req / tc[k] ** 2
            r = min(max(r, r_lo[k]), r_hi[k])
            z += v * tk + G_MPS2 * (jk * tk - (a * _m1(r, k) + mf_k) - tk * tk / 2.0)
            v += G_MPS2 * (jk - tk)
            amp[k], rr[k] = a, r
        if land[k]:
            land_amp[k], land_r[k], land_s[k], dz = _land_step(v, z - z_ref - level[k], tc[k], ramp_s, c_ramp)
            z += dz
            v = 0.0
        side = st.side[k]
        ty = 0.0 if st.last[k] else side * vbar[k] - beta_y * y / tk
        m = (ty - vy) / (G_MPS2 * side * a1y[k])
        m = min(max(m, 0.0), 3.0 * ml_nom[k])
        jy = side * m * a1y[k]
        y += vy * tk + G_MPS2 * jy * (tk - tc[k] / 2.0)
        vy += G_MPS2 * jy
        mly[k] = side * m
    return amp, rr, q, mly, ramp_end, (land_amp, land_r, land_s)


def _harmonics_rad(h: tuple[float, float, float]) -> tuple[float, float, float, float]:
    """``(q1_deg, h3, q3_deg)`` -> ``(q1_rad, a3, q3_rad, a1)``, ``a1 = 1 / s``, ``a3 = h3 / s``:
    ``s`` is half the peak-to-peak of ``sin(φ + q1) + h3 sin(3φ + q3)``, so
    the walking angle ``Θ/2 [...]`` spans exactly the range knob ``Θ``.
    """
    q1, q3 = float(np.radians(h[0])), float(np.radians(h[2]))
    phi = np.linspace(0.0, 2.0 * np.pi, 3601)
    s = float(np.ptp(np.sin(phi + q1) + h[1] * np.sin(3.0 * phi + q3))) / 2.0
    return (q1, float(h[1]) / s, q3, 1.0 / s)


def _gait_change(knot_step: I64, run: B8) -> B8:
    """Per knot interval: both knots are consecutive contacts, one walking and one running."""
    a, b = knot_step[:-1], knot_step[1:]
    ok = (a >= 0) & (b == a + 1)
    out: B8 = ok & (run[np.maximum(a, 0)] != run[np.maximum(b, 0)])
    return out


def heel_strike_loading_bw_s(amp: F64, r: F64, q: F64, tc: F64, imp_amp: F64, imp_half: F64) -> F64:
    """Each contact's mean vertical loading rate from its start to its impact peak, BW/s (n,).

    The foot's own force (the hump ``amp (sin x + r sin 2x + q sin 3x)``, ``x = pi tau / tc``, plus
    the Hann impact bump of peak ``imp_amp`` BW) at the bump's peak ``tau = imp_half`` (s), over
    ``imp_half``: the average loading rate of force-plate walking studies, in absolute terms.
    """
    x = np.pi * imp_half / tc
    return (amp * (np.sin(x) + r * np.sin(2.0 * x) + q * np.sin(3.0 * x)) + imp_amp) / imp_half


def _ml_tissue(p: RunnerParams, st: Steps, rng: np.random.Generator, run: B8, load_bw_s: F64,
               kpp: float) -> tuple[F64, F64]:
    """The sideways strap/soft-tissue ring per contact: displacement amplitude (m, signed) and rad/s.

    Walking only, in proportion to the heel strike's own vertical loading rate (BW/s, absolute: a
    slow walker's flat, long contact loads slowly and rings less): a foot-signed share c (first
    swing to the left, +y, after a right heel strike) and a share of random direction, energies c²
    and 1 - c². Off by default (``walk_ml_tissue_g_per_bw_s`` 0): then all zero and nothing drawn.
    On, direction and frequency come from a child generator, so the parent's stream (every other
    draw) is unchanged.
    """
    n = len(st.T)
    if p.walk_ml_tissue_g_per_bw_s == 0.0:
        return np.zeros(n), np.ones(n)
    mlt_rng = rng.spawn(1)[0]
    c = p.walk_ml_tissue_foot_share
    mlt_sign = c * st.side + np.sqrt(1.0 - c * c) * np.where(mlt_rng.random(n) < 0.5, -1.0, 1.0)
    mlt_w = 2 * np.pi * mlt_rng.uniform(p.walk_ml_tissue_hz[0], p.walk_ml_tissue_hz[1], n)
    mlt_g = np.where(run, 0.0, p.walk_ml_tissue_g_per_bw_s * load_bw_s) * mlt_sign
    return mlt_g * G_MPS2 / (mlt_w**2 * kpp), mlt_w


def build_gait(p: RunnerParams, st: Steps, rng: np.random.Generator,
                speed: Transitions, heading: Transitions) -> Gait:
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
    # a walking foot leaves the ground a swing before it lands again, two contacts on: its double
    # support ends MIN_SWING_S before that (binds before a quick step only)
    same_bout_next = np.r_[st.bout[1:] == st.bout[:-1], False] & ~st.last
    nxt_T = np.r_[st.T[1:], np.inf]
    tc = np.where(run | ~same_bout_next, tc, np.minimum(tc, st.T + nxt_T - MIN_SWING_S))
    st = Steps(s=st.s, T=st.T, tc=tc, side=st.side, run=st.run, bout=st.bout, first=st.first,
                last=st.last, fatigue=st.fatigue, pace=st.pace, lift=st.lift)
    # walking force shape: with walk_force_follows_speed the double hump flattens and the AP peaks
    # shrink with the speed at each step (short steps in a turn on the spot barely lift the body):
    # the hump goes towards the shape whose two feet sum to the body weight (not to a single hump,
    # which bounces like running and would lift the body more the slower it walks)
    walk_frac = np.ones(n)
    q_walk = np.full(n, p.walk_shape_q)
    shuffled = bool(np.any(st.lift < 1.0))
    if (p.walk_force_follows_speed or shuffled) and n:
        if p.walk_force_follows_speed:
            walk_frac = np.clip(speed.eval(st.s)[0] / p.walk_speed_mps, 0.0, 1.0)
        # shuffles lift less: a flatter hump, weaker horizontal peaks and heel strike
        walk_frac = walk_frac * np.where(run, 1.0, st.lift)
        q_flat = flat_walk_shape_q(tc / st.T)
        q_walk = q_flat + (p.walk_shape_q - q_flat) * walk_frac
    q = np.where(run, p.active_shape_q, q_walk)
    r = np.where(run, 0.05, 0.0)  # running hump peaks slightly before mid-contact
    ia = p.impact_asymmetry_pct / 200.0
    side_imp = np.where(left, 1.0 + ia, 1.0 - ia)
    imp_noise = np.exp(p.impact_cv * np.clip(rng.standard_normal(n), -3, 3))
    imp_amp = np.where(run, p.impact_bw * side_imp * (1.0 + p.fatigue_impact_pct / 100.0 * f)
                       * st.pace**0.5, 0.1 * st.lift) * imp_noise
    imp_half = np.where(run, p.impact_time_s, 0.035) * (1.0 + 0.05 * np.clip(rng.standard_normal(n), -3, 3))
    tissue_half = imp_half  # the soft tissue rings after the heel strike proper (below)
    ramp_s = 0.12
    ramp_start = st.first.astype(float)
    ramp_end = -st.last.astype(float)
    # a stop from walking: the last foot unloads while the standing support reloads, over the
    # standing reload's ramp_s, or the last step's double support where shorter (the other foot
    # lands at the step's end; this one leaves once unloaded, never after its contact's end tc;
    # the double support itself, (2 duty - 1) T, lasts 0.6-1.5 s on a slow walk's 2-4 s stall
    # steps, where the body sank and rose 52-100 mm over the stop)
    stop_walk = st.last & (tc > st.T)
    ramp_end_s = np.where(stop_walk, np.minimum(tc - st.T, ramp_s), ramp_s)
    a1_nom, _, jf_nom, _ = _unit_moments(st, q, r, imp_amp, imp_half, ramp_start, ramp_end, ramp_s, ramp_end_s)
    imp_nom = (imp_amp, imp_half, jf_nom)  # before the landing: the walking level's periodic step
    imp_amp, imp_half = _run_walk_landing(st, q, r, imp_amp, imp_half, a1_nom)
    a1, _, jf, mf = _unit_moments(st, q, r, imp_amp, imp_half, ramp_start, ramp_end, ramp_s, ramp_end_s)
    # walking sideways: the CoM falls away from each stance foot as an inverted pendulum (LIPM,
    # a_y = g / h (y - y_foot); Hof et al. 2005) with the feet one step width apart; a periodic
    # gait crosses the midline at each IC with the lateral speed (w / 2) w0 tanh(w0 T / 2), w0 =
    # sqrt(g / h): the size of each contact's sideways push (its shape stays the half sine)
    w0 = np.sqrt(G_MPS2 / p.walk_com_height_m)
    v_lipm = p.walk_step_width_m / 2.0 * w0 * np.tanh(w0 * st.T / 2.0)
    ml_nom = np.where(run, p.ml_peak_bw * (1.0 + p.fatigue_ml_pct / 100.0 * f),
                      v_lipm * np.pi / (G_MPS2 * tc))
    amp, r, q, ml_amp, ramp_end, (land_amp, land_r, land_s) = _control(
        st, a1, q, r, jf, mf, ml_nom, imp_nom, ramp_s, ramp_end_s)
    _, m1, jf, mf = _unit_moments(st, q, r, imp_amp, imp_half, ramp_start, ramp_end, ramp_s, ramp_end_s)
    # cumulative linear terms of completed contacts (for positions); a running stop's landing
    # hump (after the step's end, T) counts with its contact: impulse 2 L a / pi (the sin 2x term
    # has none), first moment T J + a L^2 / pi - a r L^2 / (2 pi)
    j_land = land_amp * 2.0 * land_s / np.pi
    jk = amp * a1 + jf + j_land
    mom = amp * m1 + mf + st.T * j_land + land_amp * land_s**2 * (1.0 / np.pi - land_r / (2.0 * np.pi))
    # a stop from walking: the hump counts up to the step's end only (the standing support after)
    hump_cut = np.where(stop_walk, st.T, np.inf)
    cut = stop_walk
    if np.any(cut):
        ch_a, ch_b, _ = _cut_hump_terms(st.T[cut], tc[cut])
        coef = amp[cut] * np.stack([np.ones(int(cut.sum())), r[cut], q[cut]])
        j_h = np.sum(coef * ch_a, axis=0)
        jk[cut] = j_h + jf[cut]
        mom[cut] = st.T[cut] * j_h - np.sum(coef * ch_b, axis=0) + mf[cut]
    delta = jk - st.T
    const = delta * st.s + mom - st.T**2 / 2.0
    cum_delta = np.concatenate([[0.0], np.cumsum(delta)])
    cum_const = np.concatenate([[0.0], np.cumsum(const)])
    jy = ml_amp * tc * 2.0 / np.pi
    ml_cum_j = np.concatenate([[0.0], np.cumsum(jy)])
    ml_cum_const = np.concatenate([[0.0], np.cumsum(jy * (st.s + tc / 2.0))])
    # soft tissue: first swing amplitude grows with the impact; frequency random per step
    wob_g = np.where(run, p.wobble_base_g + p.wobble_g_per_bw * imp_amp, p.walk_wobble_g * st.lift)
    wob_g = wob_g * np.exp(p.wobble_cv * np.clip(rng.standard_normal(n), -3, 3))
    wob_w = 2 * np.pi * rng.uniform(p.wobble_freq_hz[0], p.wobble_freq_hz[1], n)
    kpp = wobble_kpp_max(p.wobble_decay_per_rad)
    wob_b = wob_g * G_MPS2 / (wob_w**2 * kpp)
    wob_delay = 0.8 * tissue_half  # tissue peak ~25-30 ms after IC, as at the sacrum in real runs
    mlt_b, mlt_w = _ml_tissue(p, st, rng, run, heel_strike_loading_bw_s(amp, r, q, tc, imp_amp, imp_half), kpp)
    # horizontal
    ap_amp = np.where(run, p.ap_peak_bw * st.pace, p.walk_ap_peak_bw * walk_frac) * (
        1.0 + 0.05 * np.clip(rng.standard_normal(n), -3, 3))
    # walking: braking peaks early and propulsion late in the contact (AP GRF, Winter 1991)
    ap_warp = np.where(run, 0.0, warp_for_braking_peak(p.walk_braking_peak_frac))
    # walking heel strike at the pelvis: the swing leg, braked in terminal swing, pulls the pelvis
    # forward (a half sine over the impact half-width); once the leading leg is loaded
    # (walk_collision_delay_s after the contact starts) its collision takes that momentum back over
    # walk_collision_s (equal impulses, so the speed is unchanged). Only between two walking
    # contacts of a bout: running is untouched.
    prev_run = np.concatenate([[True], run[:-1]])
    pull_next = np.where(run | prev_run | st.first, 0.0, p.walk_heel_strike_ap_bw * walk_frac)
    hs_s = np.full(n, p.walk_collision_s)
    hs_amp = pull_next * imp_half / hs_s
    pull_amp = np.concatenate([pull_next[1:], [0.0]]) if n else np.zeros(0)
    pull_amp[st.last] = 0.0
    pull_s = np.concatenate([imp_half[1:], imp_half[-1:]]) if n else np.zeros(0)  # the last pulls nothing
    hs_delay = np.full(n, p.walk_collision_delay_s)
    # as hard as the heel strike: the impact's step-to-step variation (no new draw)
    tor_amp = np.where(run, 0.0, st.side * p.walk_heel_strike_torsion[0] * walk_frac * imp_noise)
    pull_delay = np.concatenate([hs_delay[1:], hs_delay[-1:]])  # the next contact's turnover
    # pelvis: per-step ranges with variation and fatigue; zero at the bout ends
    pv = 1.0 + p.fatigue_pelvis_pct / 100.0 * f
    def _rng_var() -> F64:
        return 1.0 + p.pelvis_cv * np.clip(rng.standard_normal(n), -3, 3)
    rot = np.where(run, p.pelvis_rotation_deg * pv, p.walk_pelvis_rotation_deg) * _rng_var()
    obl = np.where(run, p.pelvis_obliquity_deg * pv, p.walk_pelvis_obliquity_deg) * _rng_var()
    tilt = np.where(run, p.pelvis_tilt_deg, p.walk_pelvis_tilt_deg) * _rng_var()
    firsts, lasts = np.flatnonzero(st.first), np.flatnonzero(st.last)
    kt = np.concatenate([st.s, st.s[firsts] - BOUT_EASE_S, st.s[lasts] + st.T[lasts] + BOUT_EASE_S])
    order = np.argsort(kt, kind="stable")
    zeros_b = np.zeros(firsts.size + lasts.size)
    pel_t = kt[order]
    # the pelvis eases into a bout and out of it (a smooth step: no jump in its angular rate)
    edge = np.concatenate([np.zeros(n, dtype=bool), np.ones(zeros_b.size, dtype=bool)])[order]
    knot_step = np.concatenate([np.arange(n), np.full(zeros_b.size, -1)])[order]
    pel_smooth = edge[:-1] | edge[1:] | _gait_change(knot_step, run)
    # running and walking ranges as separate envelopes: each has its own shape (kinematics)
    pel_rot, pel_rot_walk, pel_obl, pel_obl_walk = (
        np.concatenate([np.where(run == is_run, x, 0.0), zeros_b])[order]
        for x in (rot, obl) for is_run in (True, False))
    pel_tilt = np.concatenate([tilt, zeros_b])[order]
    lever_env = np.concatenate([(~run).astype(float), zeros_b])[order]
    if n == 0:  # no gait at all: flat knots keep the evaluation code path uniform
        pel_t, ph_t = np.array([0.0, 1.0]), np.array([0.0, 1.0])
        pel_smooth = np.zeros(1, dtype=bool)
        ph_m = np.full((2, 1), np.nan)
        pel_rot = pel_obl = pel_rot_walk = pel_obl_walk = pel_tilt = lever_env = ph_v = np.zeros(2)
        amp = np.zeros(0)
    else:
        # stride phase: right IC at even numbers, alternating within a bout
        inc = np.ones(n)
        inc[0] = 0.0 if st.side[0] > 0 else 1.0
        pos = np.cumsum(inc)
        # at a bout start, jump so that the parity matches the foot: the phase needs one extra
        # step wherever the mismatch of the unshifted count changes from one bout to the next (the
        # shifts add up; counting every mismatched bout start instead inverted the pelvis, yaw and
        # roll, against the feet in every bout after an odd number of earlier shifts)
        mismatch = ((np.mod(pos, 2) == 0) != (st.side > 0)).astype(float)
        pos = pos + np.cumsum(np.abs(np.diff(mismatch, prepend=0.0)) * st.first)
        # the phase runs on at the first (last) step's rate while the pelvis eases into (out of)
        # a bout, so the angular rate is continuous at the bout's first contact and after its last
        ph_t = np.concatenate([st.s, [st.s[-1] + st.T[-1]], st.s[firsts] - BOUT_EASE_S,
                               st.s[lasts] + st.T[lasts] + BOUT_EASE_S])
        ph_v = np.concatenate([pos, [pos[-1] + 1.0], pos[firsts] - BOUT_EASE_S / st.T[firsts],
                               pos[lasts] + 1.0 + BOUT_EASE_S / st.T[lasts]])
        o_ph = np.argsort(ph_t, kind="stable")
        ph_t, ph_v = ph_t[o_ph], ph_v[o_ph]
        # where walking and running hand over inside a bout, the phase rate changes from the
        # last step's to the next one's smoothly over the handover step (cubic Hermite)
        ph_step = np.concatenate([np.arange(n), np.full(1 + firsts.size + lasts.size, -1)])[o_ph]
        change = _gait_change(ph_step, run)
        slope = np.diff(ph_v) / np.maximum(np.diff(ph_t), 1e-12)
        ph_m = np.full((2, slope.size), np.nan)
        j = np.flatnonzero(change & (np.arange(slope.size) > 0) & (np.arange(slope.size) < slope.size - 1))
        ph_m[0, j], ph_m[1, j] = slope[j - 1], slope[j + 1]
    return Gait(st=st, q=q, r=r, amp=amp, imp_amp=imp_amp, imp_half=imp_half,
                 ramp_start=ramp_start, ramp_end=ramp_end, hump_cut=hump_cut, land_amp=land_amp,
                 land_r=land_r, land_s=land_s, ramp_s=ramp_s, ramp_end_s=ramp_end_s,
                 cum_delta=cum_delta, cum_const=cum_const, ap_amp=ap_amp, ap_warp=ap_warp,
                 hs_amp=hs_amp, hs_s=hs_s, hs_delay=hs_delay, pull_delay=pull_delay, pull_amp=pull_amp, pull_s=pull_s,
                 ml_amp=ml_amp, ml_cum_j=ml_cum_j, ml_cum_const=ml_cum_const, wob_b=wob_b,
                 wob_w=wob_w, wob_delay=wob_delay, wob_decay=p.wobble_decay_per_rad,
                 mlt_b=mlt_b, mlt_w=mlt_w,
                 pel_knots_t=pel_t, pel_smooth=pel_smooth, pel_rot=pel_rot, pel_obl=pel_obl, pel_rot_walk=pel_rot_walk,
                 pel_obl_walk=pel_obl_walk, pel_tilt=pel_tilt,
                 walk_rot_harm=_harmonics_rad(p.walk_pelvis_rotation_harmonics),
                 walk_obl_harm=_harmonics_rad(p.walk_pelvis_obliquity_harmonics),
                 lever_m=p.walk_sensor_lever_m, lever_env=lever_env, tor_amp=tor_amp,
                 tor_w=2.0 * np.pi * p.walk_heel_strike_torsion[1], tor_delay=p.walk_heel_strike_torsion[2],
                 tor_decay=p.walk_heel_strike_torsion[3],
                 phase_knots_t=ph_t, phase_knots_v=ph_v, phase_hermite_m=ph_m, tilt_peak_frac=0.7,
                 heading=heading, speed=speed)
