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

def level_lateral(body: ImuBlock, gyr_int_deg: F64 | None, *, highpass_hz: float) -> F64:
    """(N,) lateral (+y, left) specific force in the level frame (m/s²): ``f_y − φ f_z`` with the
    pelvis roll φ (rad, about body x, about the body frame). Without a gyroscope
    (``gyr_int_deg`` None), the body-frame ``f_y``.

    ``gyr_int_deg`` (3, N + 1) are the running integrals of the body-frame gyro (deg; see
    :func:`~imuback.signal.dsp.prefix_sum`). The angle changes at stride frequency (< 5 Hz), so
    it is read at each ~50 Hz block's middle, high-passed at ``highpass_hz`` (zero phase) and
    held over the block; segments of 30 blocks or fewer have φ = 0. φ is applied block by block
    (never stored at the full rate).
    """
    fy, fz = body.acc_mps2[:, 1], body.acc_mps2[:, 2]
    if gyr_int_deg is None:
        return np.array(fy, dtype=np.float64)
    out = np.empty(fy.shape[0])
    q = step_to_50hz(body.fs_hz)
    sos = butter_sos(2, (highpass_hz / (body.fs_hz / q / 2.0),), "highpass").copy()
    for a, b in itertools.pairwise(body.seg_bounds):  # few segments
        blocks = -(-(b - a) // q)
        if blocks <= 30:
            np.multiply(fz[a:b], 0.0, out=out[a:b])  # φ = 0 (as 0·f_z: NaN and inf stay what they are)
            np.subtract(fy[a:b], out[a:b], out=out[a:b])
            continue
        # the integral at each block's middle (prefix index middle + 1); a short last block
        # reads the segment's end
        mid = gyr_int_deg[0, a + q // 2 + 1 : b + 1 : q]
        if mid.size < blocks:
            mid = np.append(mid, gyr_int_deg[0, b])
        held = sosfiltfilt(sos, np.radians(mid))
        full = (b - a) // q
        e = a + full * q
        o = out[a:e].reshape(full, q)  # held over each block
        np.multiply(held[:full, None], fz[a:e].reshape(full, q), out=o)
        np.subtract(fy[a:e].reshape(full, q), o, out=o)
        np.multiply(held[full:], fz[e:b], out=out[e:b])
        np.subtract(fy[e:b], out[e:b], out=out[e:b])
    return out
