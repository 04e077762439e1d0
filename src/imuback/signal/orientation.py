"""Stage 3: pelvis roll about the session's mean (body) frame, and level-frame lateral acceleration.

The body frame is the pelvis's mean orientation. Around it the pelvis rolls by a few degrees every
stride. Integrating the body-frame gyroscope gives that small angle; a zero-phase high-pass below
the stride frequency removes the integration drift (gyro bias) without touching the gait cycle.
Per-stride angle *ranges* are computed in metrics.py by detrended integration over each stride
instead (exact periodicity, no filter).

Rolling by φ leaks gravity into the lateral axis: for small angles the pelvis-frame specific force
is ``f_y = f_level_y + φ f_z``, so the level-frame lateral specific force is recovered as
``f_y − φ f_z``. Without this, the lateral acceleration during a contact is dominated by pelvic
drop instead of the ground's push.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from scipy.signal import sosfiltfilt

from imuback.core import ImuBlock
from imuback.signal.dsp import butter_sos, step_to_50hz

F64 = npt.NDArray[np.float64]

def roll_rad(gyr_int_deg: F64 | None, seg_bounds: npt.NDArray[np.int64], fs_hz: float, *,
             highpass_hz: float) -> F64 | None:
    """(N,) roll (about body x, rad) about the body frame; None without gyroscope.

    ``gyr_int_deg`` (3, N + 1) are the running integrals of the body-frame gyro (deg; see
    :func:`~imuback.signal.dsp.prefix_sum`). The angle changes at stride frequency (< 5 Hz), so
    it is read and filtered at ~50 Hz and held over each block of samples.
    """
    if gyr_int_deg is None:
        return None
    out = np.zeros(gyr_int_deg.shape[1] - 1)
    q = step_to_50hz(fs_hz)
    sos = butter_sos(2, (highpass_hz / (fs_hz / q / 2.0),), "highpass").copy()
    for a, b in itertools.pairwise(seg_bounds):  # few segments
        blocks = -(-(b - a) // q)
        if blocks > 30:
            # the integral at each block's middle (prefix index middle + 1); a short last block
            # reads the segment's end
            mid = gyr_int_deg[0, a + q // 2 + 1 : b + 1 : q]
            if mid.size < blocks:
                mid = np.append(mid, gyr_int_deg[0, b])
            held = sosfiltfilt(sos, np.radians(mid))
            full = (b - a) // q
            out[a : a + full * q].reshape(full, q)[:] = held[:full, None]  # held over each block
            out[a + full * q : b] = held[full:]
    return out


def level_lateral(body: ImuBlock, roll: F64 | None) -> F64:
    """(N,) lateral (+y, left) specific force in the level frame (m/s²): ``f_y − φ f_z`` with the
    roll φ (N,). Without it (no gyroscope), the body-frame ``f_y``.
    """
    if roll is None:
        return np.array(body.acc_mps2[:, 1], dtype=np.float64)
    fy = roll * body.acc_mps2[:, 2]
    np.subtract(body.acc_mps2[:, 1], fy, out=fy)
    return fy
