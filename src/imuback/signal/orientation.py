"""Stage 3: pelvis orientation about the session's mean (body) frame, and level-frame acceleration.

The body frame is the pelvis's mean orientation. Around it the pelvis rolls and pitches by a few
degrees every stride. Integrating the body-frame gyroscope gives those small angles; a zero-phase
high-pass below the stride frequency removes the integration drift (gyro bias) without touching
the gait cycle. Per-stride angle *ranges* are computed in metrics.py by detrended integration
over each stride instead (exact periodicity, no filter).

Rolling by φ leaks gravity into the lateral axis: for small angles the pelvis-frame specific force
is ``f_y = f_level_y + φ f_z`` and ``f_x = f_level_x − θ f_z`` (θ pitch), so the level-frame
horizontal specific force is recovered as ``f_y − φ f_z`` and ``f_x + θ f_z``. Without this, the
lateral acceleration during a contact is dominated by pelvic drop instead of the ground's push.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

from imuback.signal.dsp import step_to_50hz
from imuback.signal.frames import ImuBlock

F64 = npt.NDArray[np.float64]

DRIFT_HIGHPASS_HZ = 0.3
"""Below the slowest stride frequency of walking (~0.8 Hz) and running (~1.2 Hz)."""


def small_angles_rad(body: ImuBlock, *, highpass_hz: float = DRIFT_HIGHPASS_HZ) -> F64 | None:
    """(N, 2) roll and pitch deviations (rad) about the body frame; None without gyroscope.

    The angles change at stride frequency (< 5 Hz), so they are integrated and filtered at
    ~50 Hz (exact block sums of the gyro) and held over each block.
    """
    if body.gyr_dps is None or body.n == 0:
        return None
    out = np.zeros((body.n, 2))
    dec = step_to_50hz(body.fs_hz)
    fs_d = body.fs_hz / dec
    sos = butter(2, highpass_hz / (fs_d / 2.0), btype="highpass", output="sos")
    w = np.radians(body.gyr_dps[:, :2])
    for a, b in zip(body.seg_bounds[:-1], body.seg_bounds[1:], strict=True):  # few segments
        starts = np.arange(a, b, dec)
        if starts.size > 30:
            angle = np.cumsum(np.add.reduceat(w[a:b], starts - a, axis=0), axis=0) / body.fs_hz
            out[a:b] = np.repeat(sosfiltfilt(sos, angle, axis=0), dec, axis=0)[: b - a]
    return out


def level_acceleration(body: ImuBlock, angles: F64 | None) -> F64:
    """(N, 3) specific force in the level frame (heading of the body frame, z vertical), m/s².

    Without angles (no gyroscope) the body-frame values are returned unchanged.
    """
    acc = np.array(body.acc_mps2, dtype=np.float64)
    if angles is None:
        return acc
    fz = acc[:, 2]
    acc[:, 0] += angles[:, 1] * fz
    acc[:, 1] -= angles[:, 0] * fz
    return acc
