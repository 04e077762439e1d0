"""Stage 2: sensor -> body frame without user help (x forward, y left, z up).

1. z: gravity. Over whole strides the mean specific force of a body that does not drift
   vertically equals +1 g straight up (vertical momentum balance), so the mean accelerometer
   vector over the moving samples is the up axis — of the dominant posture only (windows within
   30° of the most common direction), so stretching on the floor or sitting does not tilt it.
2. x: the principal horizontal motion. Forward (braking/propulsion) acceleration repeats every
   step; mediolateral acceleration flips sign from a left to a right step. So the horizontal
   acceleration's even part over one step lag, h(t) + h(t + T), is dominated by the
   anterior-posterior axis and its odd part by the mediolateral one: the principal direction of
   the even part is the AP line.
3. sign of x: braking — forward acceleration is negative just after initial contact.
4. y = z × x (left), by the right-hand rule.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from imuback.errors import SignalError
from imuback.signal.dsp import interval_indices

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


def forward_axis(acc_mps2: F64, z_s: F64, guess_x: F64, *, step_lag: int,
                 moving: npt.NDArray[np.bool_], ic_idx: npt.NDArray[np.int64],
                 contact_len: npt.NDArray[np.int64], every: int = 1) -> tuple[F64, float]:
    """Forward unit axis (3,) in the sensor frame, and the anisotropy of the even part (0..1).

    Parameters
    ----------
    acc_mps2 : (N, 3) sensor-frame specific force.
    z_s : (3,) up axis (sensor frame).
    guess_x : (3,) horizontal forward guess from the nominal mounting (used when the data
        cannot decide: too few steps or an isotropic even part).
    step_lag : median step duration in samples.
    moving : (N,) samples inside walking/running bouts.
    ic_idx, contact_len : step ICs and contact durations (samples) to find the braking sign.
    every : the pairs (t, t + step_lag) of the even part and the mean are taken at every
        ``every``-th sample (an evenly spread subset: the same covariance, fewer operations).
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
                if coef[0] < 0:
                    coef = -coef
    # forward sign: the nominal mounting decides (the sensor is worn within ~30° of it, so the
    # PCA axis was already oriented by it); braking checks it. Just after a running IC the
    # forward acceleration is negative (braking) in every step; if nearly all steps say the
    # opposite, the sensor is worn backwards and the axis is flipped.
    if ic_idx.size >= 20:
        ends = np.minimum(ic_idx + np.maximum(contact_len * 3 // 10, 1), n)
        sub = moving[::every]
        fwd_d = coef[0] * px[::every] + coef[1] * py[::every]
        mean = float(np.sum(fwd_d[sub])) / int(np.count_nonzero(sub)) if sub.any() else 0.0
        idx, lengths = interval_indices(ic_idx, ends)  # ends > ic_idx: each holds a sample
        fwd = coef[0] * px[idx] + coef[1] * py[idx]
        brake = np.add.reduceat(fwd, np.cumsum(lengths) - lengths) - mean * lengths
        if np.mean(brake > 0) > 0.9:
            coef = -coef
    axis = _unit(coef[0] * x0 + coef[1] * y0)
    return axis, aniso


def body_rotation(z_s: F64, x_s: F64) -> F64:
    """Rotation R (3, 3) with v_body = R @ v_sensor, from the up and forward sensor-frame axes."""
    z = _unit(z_s)
    x = _unit(x_s - np.dot(x_s, z) * z)
    y = np.cross(z, x)
    return np.vstack([x, y, z])
