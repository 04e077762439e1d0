"""Re-seats: a sensor that moved on the body mid-session (a phone re-seated in its belt).

The session's alignment (:mod:`imuback.signal.align`) finds ONE sensor -> body rotation. When the
sensor turns on the body mid-run, everything after is seen through a rotation that no longer
holds: pelvis angles mix axes and read as a change over the run (drift) that the runner never
made. This finds such step changes of the mounting from the gravity direction.

1. Over whole strides the mean specific force is gravity (vertical momentum balance), so its
   direction in the body frame, averaged over ``window_s`` of gait samples of one activity, is
   the sensor's "up" seen through the session's rotation: constant while the sensor sits still.
2. At each window boundary, the mean up direction of the ``side_windows`` windows before is
   compared with that of the windows after: the angle between them. A re-seat is a step change:
   a peak of that angle above ``min_shift_deg``, at least ``side_windows`` windows from the next.
3. Slow changes (posture, fatigue) spread over many windows and give small angles between
   neighbouring blocks; a turn's centripetal pull lasts seconds, a small part of a block.

Not seen: a turn of the sensor purely about the vertical (it leaves gravity where it was).
Arrays: ``acc_body_mps2`` (N, 3) in m/s² in the body frame (x forward, y left, z up).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.signal import find_peaks

from imuback.signal.params import MountingParams

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class MountingShifts:
    """Re-seats found: when (the block's ``t_s`` of the boundary) and by how much the up direction jumped (deg)."""

    t_s: F64 = field(default_factory=lambda: np.zeros(0))
    angle_deg: F64 = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        """Number of re-seats."""
        return int(self.t_s.size)


def step_change_deg(acc_body_mps2: F64, gait: npt.NDArray[np.bool_], *, fs_hz: float,
                    params: MountingParams = MountingParams()) -> tuple[F64, F64]:
    """(boundary sample index (B,), angle in deg (B,)) between the mean up direction of the
    ``side_windows`` counted windows before and after each boundary (steps 1-2).
    """
    w = max(1, round(params.window_s * fs_hz))
    nw = acc_body_mps2.shape[0] // w
    k = params.side_windows
    if nw < 2 * k:
        return np.zeros(0), np.zeros(0)
    f = acc_body_mps2[:nw * w].reshape(nw, w, 3)
    m = gait[:nw * w].reshape(nw, w)
    cnt = m.sum(axis=1)
    ok = cnt >= params.min_gait_frac * w
    if int(ok.sum()) < 2 * k:
        return np.zeros(0), np.zeros(0)
    mean = np.einsum("nwk,nw->nk", f, m.astype(np.float64))[ok] / cnt[ok, None]
    up = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    csum = np.concatenate([np.zeros((1, 3)), np.cumsum(up, axis=0)])
    j = np.arange(k, up.shape[0] - k + 1)
    before, after = csum[j] - csum[j - k], csum[j + k] - csum[j]
    cos = np.einsum("nk,nk->n", before, after) / (np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1))
    start_idx = np.flatnonzero(ok) * w  # first sample of each counted window
    return start_idx[j].astype(np.float64), np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def mounting_shifts(acc_body_mps2: F64, gait: npt.NDArray[np.bool_], t_s: F64, *, fs_hz: float,
                    params: MountingParams = MountingParams()) -> MountingShifts:
    """Re-seats of the sensor (step 2): step changes of its up direction above ``min_shift_deg``.

    Parameters
    ----------
    acc_body_mps2 : (N, 3) specific force in the body frame, m/s².
    gait : (N,) True on the samples of the activity compared (e.g. the running bouts).
    t_s : (N,) sample times, s (the re-seats are timed by them).
    fs_hz : sample rate.
    """
    idx, ang = step_change_deg(acc_body_mps2, gait, fs_hz=fs_hz, params=params)
    if ang.size == 0:
        return MountingShifts()
    peaks, _ = find_peaks(np.concatenate([[0.0], ang, [0.0]]), height=params.min_shift_deg,
                          distance=params.side_windows)
    peaks -= 1
    return MountingShifts(t_s=t_s[idx[peaks].astype(np.int64)], angle_deg=ang[peaks])
