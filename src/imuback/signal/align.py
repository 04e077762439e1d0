"""Stage 2: sensor -> body frame without user help (x forward, y left, z up), from ANY orientation.

The sensor may be worn in any orientation (a phone in a running belt: screen in or out, top up,
down or sideways); nothing below depends on the nominal mounting except a tie-break when the data
cannot decide (too few steps), which is then said in the session's notes.

1. z: gravity. Over whole strides the mean specific force of a body that does not drift
   vertically equals +1 g straight up (vertical momentum balance), so the mean accelerometer
   vector over the moving samples is the up axis — of the dominant posture only (windows within
   30° of the most common direction), so stretching on the floor or sitting does not tilt it.
2. x line: the principal horizontal motion. Forward (braking/propulsion) acceleration repeats
   every step; mediolateral acceleration flips sign from a left to a right step. So the
   horizontal acceleration's even part over one step lag, h(t) + h(t + T), is dominated by the
   anterior-posterior axis and its odd part by the mediolateral one: the principal direction of
   the even part is the AP line.
3. sign of x: the exchange of the centre of mass's energies over each step. Walking is an
   inverted pendulum: the body slows down while it rises (first half of single support) and
   speeds up while it falls, so the forward acceleration and the vertical velocity are
   anti-correlated (Cavagna et al. 1977). Running is a spring-mass bounce: the body brakes while
   it falls into the contact and pushes off while it rises, so they are correlated (Cavagna et
   al. 1977; Blickhan 1989). In running, braking just after each IC (forward acceleration < 0)
   is a second, independent cue. Measured on the real walking recordings in ../shared/data
   (58 trials with known axes) the walking correlation lies between -0.88 and -0.19; on all 21
   real treadmill running trials it is positive (docs/frames.md, benchmarks/align_any.py).
4. y = z × x (left), by the right-hand rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import sosfilt

from imuback.errors import SignalError
from imuback.signal.dsp import butter_sos, decimated_bounds, interval_indices

F64 = npt.NDArray[np.float64]


def _unit(v: F64) -> F64:
    n = float(np.linalg.norm(v))
    if n == 0.0 or not np.isfinite(n):
        raise SignalError("cannot normalise a zero or non-finite vector")
    return np.asarray(v / n, dtype=np.float64)


def up_axis(acc_mps2: F64, mask: npt.NDArray[np.bool_] | None = None, *, window: int,
            upright_cone_deg: float, max_candidates: int = 128) -> F64:
    """Unit up vector (3,) in the sensor frame: the mean specific force over ``mask`` samples in
    the dominant posture.

    Each ``window`` of samples has a gravity direction; the direction with the most ``mask``
    samples within ``upright_cone_deg`` (see
    :class:`~imuback.signal.params.AlignParams`) (checked for up to ``max_candidates`` evenly spaced
    windows) is the dominant posture, and the mean runs over the masked samples of the windows
    within that cone. A session that also holds stretching on the floor or sitting keeps the up
    axis of its walking and running; a session in one posture gets the plain mean.
    """
    n = acc_mps2.shape[0]
    if n == 0:
        raise SignalError("no samples to find the direction of gravity")
    m = np.ones(n, dtype=bool) if mask is None or not mask.any() else mask
    starts = np.arange(0, n, window)
    sums = np.add.reduceat(acc_mps2, starts, axis=0)  # all samples: only the direction is used
    weight = np.add.reduceat(m.astype(np.int64), starts).astype(np.float64)
    masked = sums if m.all() else np.add.reduceat(acc_mps2 * m[:, None], starts, axis=0)
    norms = np.linalg.norm(sums, axis=1)
    ok = (weight > 0) & (norms > 0)
    if not ok.any():
        return _unit(np.sum(acc_mps2[m], axis=0))
    unit = np.where(ok[:, None], sums / np.where(norms > 0, norms, 1.0)[:, None], 0.0)
    cand = unit[ok][np.linspace(0, int(ok.sum()) - 1, min(max_candidates, int(ok.sum()))).astype(np.int64)]
    cos_cone = np.cos(np.radians(upright_cone_deg))
    support = (cand @ unit.T >= cos_cone) @ weight
    in_cone = unit @ cand[int(np.argmax(support))] >= cos_cone
    return _unit(np.sum(masked[in_cone], axis=0))


def horizontal_guess(z_s: F64, mounting: F64) -> F64:
    """Nominal forward axis (row 0 of the mounting: body x in sensor coordinates) made horizontal."""
    h = mounting[0] - np.dot(mounting[0], z_s) * z_s
    if np.linalg.norm(h) < 0.2:  # nominal forward nearly vertical: take it from the nominal left
        yh = mounting[1] - np.dot(mounting[1], z_s) * z_s
        h = np.cross(yh, z_s)
    return _unit(h)


PENDULUM_BAND_HZ = (0.5, 4.0)
"""Band of the energy-exchange cue: around the step frequency of walking (~1.6-2 Hz) and running
(~2.5-3.2 Hz), below the impact and soft-tissue content."""

ENERGY_WINDOWS = 10
"""The energy cue is read in at most this many one-minute windows, those with the most gait."""

MIN_SIGN_EVIDENCE = 0.1
"""|evidence| (a correlation, -1..1) below which the data do not decide the forward sign and the
nominal mounting does. Real walking gives 0.19-0.88, white noise ~0."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardAxis:
    """The forward axis found from the data.

    Attributes
    ----------
    axis : (3,) unit forward axis in the sensor frame (horizontal: orthogonal to the up axis).
    anisotropy : 0..1, how much the step-even horizontal acceleration prefers one line (< 0.2:
        the line is not from the data but from the energy cue or the nominal mounting).
    sign_evidence : -1..1, how strongly the data say this sign (see :data:`MIN_SIGN_EVIDENCE`).
    sign_from : "gait" (energy exchange, plus braking in running) or "mounting" (data undecided).
    """

    axis: F64
    anisotropy: float
    sign_evidence: float
    sign_from: str


def _energy_exchange(px: F64, py: F64, vert: F64, sel: npt.NDArray[np.bool_], fs_hz: float,
                     bounds: npt.NDArray[np.int64]) -> tuple[F64, float]:
    """Covariance (2,) of the horizontal components (``px``, ``py``) with the vertical velocity
    over the ``sel`` samples, and its magnitude as a correlation (0..1).

    All inputs at ``fs_hz`` (N,), segments ``bounds``. Read in the :data:`ENERGY_WINDOWS`
    one-minute windows with the most ``sel`` samples (never across a gap). One causal band-pass
    ``H`` for all three: the same filter on both sides keeps their relative phase (the
    cross-spectrum is only weighted by ``|H|²``), so no zero-phase pass is needed; the vertical
    velocity's step part is ``H`` applied to the running integral of the vertical acceleration
    (``H`` has two zeros at DC, so the integral's offset dies out within the first second).
    """
    lo, hi = PENDULUM_BAND_HZ
    if not sel.any() or fs_hz <= 2.0 * hi or px.size < 2:
        return np.zeros(2), 0.0
    sos = butter_sos(2, (lo / (fs_hz / 2.0), hi / (fs_hz / 2.0)), "bandpass").copy()  # writable for scipy
    settle = round(fs_hz / lo / 2.0)  # 1 s: ~3 time constants of the 0.5 Hz edge
    edges = np.union1d(bounds, np.arange(0, px.size, round(60.0 * fs_hz)))
    count = np.add.reduceat(sel.astype(np.int64), edges[:-1])
    sums = np.zeros(4)  # Σ hx·vz, Σ hy·vz, Σ vz², Σ (hx² + hy²)
    for w in np.sort(np.argsort(-count, kind="stable")[:ENERGY_WINDOWS]):  # a few windows
        a, b = int(edges[w]), int(edges[w + 1])
        if b - a <= settle or count[w] == 0:
            continue
        seg = np.vstack([px[a:b], py[a:b], np.cumsum(vert[a:b] - np.mean(vert[a:b])) / fs_hz])
        hx, hy, vz = sosfilt(sos, seg, axis=1)[:, settle:][:, sel[a + settle:b]]
        sums += [np.sum(hx * vz), np.sum(hy * vz), np.sum(vz * vz), np.sum(hx * hx) + np.sum(hy * hy)]
    norm = float(np.sqrt(sums[2] * sums[3]))
    return sums[:2], (float(np.hypot(sums[0], sums[1])) / norm if norm > 0 else 0.0)


def forward_axis(acc_mps2: F64, z_s: F64, guess_x: F64, *, step_lag: int,
                 moving: npt.NDArray[np.bool_], ic_idx: npt.NDArray[np.int64],
                 contact_len: npt.NDArray[np.int64], running: bool, fs_hz: float,
                 bounds: npt.NDArray[np.int64], every: int = 1,
                 acc_every_mps2: F64 | None = None) -> ForwardAxis:
    """Forward unit axis in the sensor frame, from any sensor orientation.

    Parameters
    ----------
    acc_mps2 : (N, 3) sensor-frame specific force.
    z_s : (3,) up axis (sensor frame).
    guess_x : (3,) horizontal forward guess from the nominal mounting (used only when the data
        cannot decide: too few steps, no step rhythm).
    step_lag : median step duration in samples.
    moving : (N,) samples inside walking/running bouts (of the major activity).
    ic_idx, contact_len : running ICs and contact durations (samples), for the braking cue.
    running : the major activity is running (spring-mass) rather than walking (pendulum).
    fs_hz : sample rate of ``acc_mps2``.
    bounds : (K + 1,) segment bounds of ``acc_mps2`` (filters never cross a gap).
    every : the pairs (t, t + step_lag) of the even part, the mean and the energy cue are taken
        at every ``every``-th sample (an evenly spread subset: the same covariance, fewer operations).
    acc_every_mps2 : (ceil(N / every), 3) ``acc_mps2[::every]`` when the caller holds it as a
        contiguous copy (the same values: the result does not change, a strided pass over
        ``acc_mps2`` is saved).
    """
    y0 = _unit(np.cross(z_s, guess_x))
    x0 = _unit(np.cross(y0, z_s))
    n = acc_mps2.shape[0]
    # every axis below lies in the horizontal plane (x0, y0): project once, then work in 1-D
    px, py = np.vstack([x0, y0]) @ acc_mps2.T  # (2, N): contiguous rows for F-ordered columns
    coef = np.array([1.0, 0.0])  # the axis as coef[0]·x0 + coef[1]·y0
    aniso = 0.0
    if step_lag > 0 and n > step_lag + 10:
        first, second = slice(0, n - step_lag, every), slice(step_lag, n, every)
        valid = moving[first] & moving[second]
        if valid.sum() * every > 10 * step_lag:
            ex = (px[first] + px[second])[valid]  # the even part
            ey = (py[first] + py[second])[valid]
            ex -= ex.mean()
            ey -= ey.mean()
            # np.sum, not a BLAS dot: a threaded dot's rounding depends on the thread count, and a
            # session must give the same rows in a batch worker as in the main process
            sxy = float(np.sum(ex * ey))
            cov = np.array([[np.sum(ex * ex), sxy], [sxy, np.sum(ey * ey)]]) / max(ex.size - 1, 1)
            w, v = np.linalg.eigh(cov)
            aniso = float(1.0 - w[0] / w[1]) if w[1] > 0 else 0.0
            if aniso > 0.2:
                coef = v[:, 1] / np.linalg.norm(v[:, 1])
    # sign (and, where the even part has no preferred line, the line): the energy exchange.
    # Its covariance vector points backwards in walking and forwards in running.
    sub = moving[::every]
    a = acc_mps2[::every] if acc_every_mps2 is None else acc_every_mps2
    # the vertical, one axis after the other: unlike ``a @ z_s`` (a BLAS gemv, whose rounding
    # depends on the library and the layout) the same bits for a strided view or a copy, on any
    # machine. 0.5.0 used the gemv: the last bits of the horizontal metrics of very short
    # sessions (tens of samples between gaps) can differ from it; longer sessions' rows do not.
    vert = a[:, 0] * z_s[0]
    vert += a[:, 1] * z_s[1]
    vert += a[:, 2] * z_s[2]
    cov_h, corr = _energy_exchange(px[::every], py[::every], vert, sub, fs_hz / every,
                                   decimated_bounds(bounds, every))
    toward = cov_h if running else -cov_h
    if aniso <= 0.2 and corr >= MIN_SIGN_EVIDENCE:
        coef = toward / np.linalg.norm(toward)
    size = float(np.linalg.norm(toward))
    evidence = corr * float(np.dot(coef, toward)) / size if size > 0 else 0.0  # corr · cos(angle)
    if running and ic_idx.size >= 20:
        # just after a running IC the forward acceleration is negative (braking) in nearly every
        # step: the share of steps that brake along +coef, as -1..1, averaged with the energy cue
        ends = np.minimum(ic_idx + np.maximum(contact_len * 3 // 10, 1), n)
        fwd_d = coef[0] * px[::every][sub] + coef[1] * py[::every][sub]  # only where it is averaged
        mean = float(np.sum(fwd_d)) / fwd_d.size if fwd_d.size else 0.0
        idx, lengths = interval_indices(ic_idx, ends)  # ends > ic_idx: each holds a sample
        fwd = coef[0] * px[idx] + coef[1] * py[idx]
        brake = np.add.reduceat(fwd, np.cumsum(lengths) - lengths) - mean * lengths
        evidence = 0.5 * (evidence + (1.0 - 2.0 * float(np.mean(brake > 0))))
    decided = abs(evidence) >= MIN_SIGN_EVIDENCE
    if (evidence < 0) if decided else (coef[0] < 0):  # undecided: the nominal mounting decides
        coef = -coef
    return ForwardAxis(axis=_unit(coef[0] * x0 + coef[1] * y0), anisotropy=aniso,
                       sign_evidence=abs(evidence), sign_from="gait" if decided else "mounting")


def body_rotation(z_s: F64, x_s: F64) -> F64:
    """Rotation R (3, 3) with v_body = R @ v_sensor, from the up and forward sensor-frame axes."""
    z = _unit(z_s)
    x = _unit(x_s - np.dot(x_s, z) * z)
    y = np.cross(z, x)
    return np.vstack([x, y, z])
