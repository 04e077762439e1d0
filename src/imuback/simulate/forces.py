"""Closed-form force shapes: value I0, impulse I1 = int F and position I2 = int int F.

Sine series (active hump, braking/propulsion, mediolateral push), Hann impact bump, unloading ramp
and the soft-tissue (wobbling-mass) kernel. Pure functions of time since contact start, vectorised
over samples; no state, no random draws.
"""

from __future__ import annotations

import numpy as np

from imuback.simulate.params import F64


def sine_series(tau: F64, tc: F64, coefs: list[tuple[int, F64]], amp: F64,
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


def braking_propulsion(tau: F64, tc: F64, warp: F64, amp: F64) -> F64:
    """Horizontal force ``-amp sin(2 pi w(u))`` on [0, tc], ``u = tau / tc``, time-warped (value only).

    ``w(u) = u + warp sin(2 pi u) / (2 pi)`` (``|warp| < 1``, monotonic, w(0.5) = 0.5) moves the
    braking peak early and the propulsive peak late by the same amount; the peaks stay ``amp``,
    braking starts ``1 + warp`` times as steeply, and the net impulse stays 0 (the shape is
    antisymmetric about mid-contact). ``warp = 0`` is the plain ``-amp sin(2 pi u)``.
    """
    out = np.zeros_like(tau)
    ins = np.flatnonzero((tau > 0.0) & (tau < tc))
    u = tau[ins] / tc[ins]
    x = 2.0 * np.pi * u
    out[ins] = -amp[ins] * np.sin(x + warp[ins] * np.sin(x))
    return out


def warp_for_braking_peak(frac: float) -> float:
    """The ``warp`` of :func:`braking_propulsion` whose braking peak lies at ``frac`` of the contact."""
    return 2.0 * np.pi * (0.25 - frac) / float(np.sin(2.0 * np.pi * frac))


def sine_lobe(x: F64, half: F64, amp: F64) -> F64:
    """Half sine ``amp * sin(pi x / half)`` on [0, half], 0 elsewhere (value only)."""
    out = np.zeros_like(x)
    ins = np.flatnonzero((x > 0.0) & (x < half) & (amp != 0.0))
    out[ins] = amp[ins] * np.sin(np.pi * x[ins] / half[ins])
    return out


def hann(tau: F64, t_half: F64, amp: F64, order: int) -> tuple[F64, F64, F64]:
    """Hann bump amp * sin^2(pi tau / (2 t_half)) on [0, 2 t_half]; (I0, I1, I2)."""
    end = 2.0 * t_half
    w = np.pi / t_half
    return _bump(tau, end, w, amp, order, sign=-1.0)


def ramp(tau: F64, tr: float | F64, amp: F64, order: int) -> tuple[F64, F64, F64]:
    """Unloading ramp amp * (1 + cos(pi tau / tr)) / 2 on [0, tr] (``tr`` s, scalar or per
    element); (I0, I1, I2).
    """
    end = np.broadcast_to(np.asarray(tr, dtype=float), tau.shape).copy()
    w = np.pi / end
    return _bump(tau, end, w, amp, order, sign=1.0)


def _bump(tau: F64, end: F64, w: F64, amp: F64, order: int, sign: float
          ) -> tuple[F64, F64, F64]:
    """amp/2 (1 + sign cos(w tau)) on [0, end] with w end = pi (ramp) or 2 pi (Hann)."""
    i0, i1, i2 = np.zeros_like(tau), np.zeros_like(tau), np.zeros_like(tau)
    # tau = 0 belongs to the support: a ramp starts at its full value (a sample exactly at a bout's
    # first contact would otherwise lose the standing support: one sample of free fall)
    ins = np.flatnonzero((tau >= 0.0) & (tau < end) & (amp != 0.0))
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


def wobble_kernel(s: F64, b: float) -> tuple[F64, F64]:
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


def wobble_kpp_max(b: float) -> float:
    """Peak of :func:`wobble_kernel`'s second derivative for decay ``b`` (scales the tissue amplitude)."""
    s = np.linspace(0.0, 6.0, 6001)
    return float(np.max(wobble_kernel(s, b)[1]))


def flat_walk_shape_q(tc_over_t: F64) -> F64:
    """The double-hump ``q`` of a walking contact ``sin x + q sin 3x`` whose two overlapping feet
    carry exactly the body weight at mid single support, for contact time over step time ``tc / T``.

    Mid single support is half-way through the stance (``x = pi / 2``, force ``a (1 - q)``); the
    amplitude that carries one body weight per step is ``a = T / (tc (2 / pi)(1 + q / 3))``.
    Setting ``a (1 - q) = 1`` gives ``q = (1 - c) / (1 + c / 3)``, ``c = 2 tc / (pi T)``: the summed
    force of the two feet is then 1 BW at mid single support (no vertical acceleration there) and
    near its flattest (the smallest ripple lies at a q within ~0.05 of it), the limit of
    walking ever more slowly (Nilsson & Thorstensson 1989: the vGRF of slow walking flattens to
    ~1 BW). A smaller ``q`` bounces (force above body weight at mid-stance, as in running), a
    larger one vaults (the inverted pendulum of walking: a trough at mid-stance).
    """
    c = 2.0 * tc_over_t / np.pi
    return (1.0 - c) / (1.0 + c / 3.0)


def torsion_kernel(s: F64, b: float) -> tuple[F64, F64]:
    """K(s) = exp(-b s)(1 - cos s)^2 / 4 and dK/ds for s >= 0 (0 before): a decaying ring that
    starts at rest and smoothly (K and its first three derivatives are 0 at s = 0: no jump in the
    angular acceleration) and returns to where it started (the pelvis's yaw after a heel strike).

    Truncated where exp(-b s) < 1e-7.
    """
    k, kp = np.zeros_like(s), np.zeros_like(s)
    ins = np.flatnonzero((s > 0.0) & (s < 16.0 / b))
    sc = s[ins]
    e = np.exp(-b * sc)
    c = 1.0 - np.cos(sc)
    k[ins] = e * c * c / 4.0
    kp[ins] = e * (c * np.sin(sc) / 2.0 - b * c * c / 4.0)
    return k, kp


_TORSION_HARMONICS = ((0, 3.0 / 8.0), (1, -0.5), (2, 1.0 / 8.0))
"""``(1 - cos s)^2 / 4 = 3/8 - cos(s)/2 + cos(2 s)/8``: :func:`torsion_kernel` as three damped
harmonics ``Re e^{(-b + i m) s}``."""


def torsion_rings(t: F64, onset_s: F64, amp: F64, w: float, b: float) -> tuple[F64, F64]:
    """The sum over every ring, ``sum_j amp_j K(w (t - onset_j))`` (:func:`torsion_kernel`), and
    its time derivative, in closed form at sorted or unsorted times ``t``.

    Each ring is three damped harmonics, so the sum of all rings started up to the latest onset
    ``c_k <= t`` is ``Re sum_m a_m z_mk exp((-b + i m) w (t - c_k))`` with the state
    ``z_mk = sum_{j <= k} amp_j exp((-b + i m) w (c_k - c_j))``, carried from ring to ring by one
    complex multiplication (a loop over the rings, not over samples): every earlier ring keeps
    decaying, none is cut off. Rings with ``amp = 0`` are skipped. Zero where the latest ring has
    decayed below 1e-7 of its start (``exp(-b s) < 1e-7``, as :func:`torsion_kernel`).
    ``onset_s`` must be sorted.
    """
    val, rate = np.zeros_like(t), np.zeros_like(t)
    nz = np.flatnonzero(amp != 0.0)
    if nz.size == 0:
        return val, rate
    c, a = onset_s[nz], amp[nz]
    lam = np.array([complex(-b, m) * w for m, _ in _TORSION_HARMONICS])
    coef = np.array([x for _, x in _TORSION_HARMONICS])
    z = np.empty((c.size, lam.size), dtype=np.complex128)
    state = np.zeros(lam.size, dtype=np.complex128)
    prev = c[0]
    for j in range(c.size):  # one step per ring: each state feeds the next
        state = state * np.exp(lam * (c[j] - prev)) + a[j]
        z[j] = state
        prev = c[j]
    k = np.searchsorted(c, t, side="right") - 1
    live = np.flatnonzero((k >= 0) & (t - c[np.maximum(k, 0)] < 16.0 / (b * w)))
    kl = k[live]
    e = z[kl] * np.exp(lam[None, :] * (t[live] - c[kl])[:, None])
    val[live] = (e.real * coef).sum(axis=1)
    rate[live] = ((e * lam[None, :]).real * coef).sum(axis=1)
    return val, rate
