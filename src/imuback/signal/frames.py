"""Frames, the in-memory IMU block, and rotation helpers.

Body frame: x forward (anterior), y left, z up; right-handed. Sensor frame: the chip's own axes.
A mounting rotation ``R`` maps sensor to body: ``v_body = R @ v_sensor`` (rows of ``R`` are the
body axes written in sensor coordinates). Angles: rotation = about z (yaw), obliquity = about x
(roll), tilt = about y (pitch). See docs/frames.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
G_MPS2 = 9.80665


@dataclass(frozen=True, slots=True, kw_only=True)
class ImuBlock:
    """Uniformly sampled IMU data split into contiguous segments.

    Attributes
    ----------
    t_s : (N,) float64, seconds since ``t0_ns``; uniform at ``fs_hz`` inside each segment.
    acc_mps2 : (N, 3) float64 specific force, m/s², in ``frame``.
    gyr_dps : (N, 3) float64 angular velocity, deg/s, in ``frame``; None without gyro.
    frame : "sensor" or "body".
    fs_hz : sample rate of the grid.
    seg_bounds : (K + 1,) int64; segment k is samples ``[seg_bounds[k], seg_bounds[k + 1])``.
        Gaps in the recording fall between segments; nothing is interpolated across them.
    t0_ns : int, UTC ns of ``t_s == 0``.
    """

    t_s: F64
    acc_mps2: F64
    gyr_dps: F64 | None
    frame: Literal["sensor", "body"]
    fs_hz: float
    seg_bounds: npt.NDArray[np.int64]
    t0_ns: int

    def __post_init__(self) -> None:
        n = self.t_s.shape[0]
        if self.acc_mps2.shape != (n, 3):
            raise ValueError(f"acc_mps2 must be ({n}, 3), got {self.acc_mps2.shape}")
        if self.gyr_dps is not None and self.gyr_dps.shape != (n, 3):
            raise ValueError(f"gyr_dps must be ({n}, 3), got {self.gyr_dps.shape}")
        b = self.seg_bounds
        if b.ndim != 1 or b.size < 1 or b[0] != 0 or b[-1] != n or np.any(np.diff(b) < 0):
            raise ValueError(f"seg_bounds must run from 0 to {n}, non-decreasing; got {b}")
        for a in (self.t_s, self.acc_mps2, self.gyr_dps, self.seg_bounds):
            if a is not None:
                a.flags.writeable = False

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.t_s.shape[0])

    def segment_ids(self) -> npt.NDArray[np.int64]:
        """(N,) index of the segment each sample belongs to."""
        ids = np.zeros(self.n, dtype=np.int64)
        ids[self.seg_bounds[1:-1]] = 1
        return np.cumsum(ids)

    def rotated(self, r: F64) -> ImuBlock:
        """The same block in the body frame: every vector becomes ``r @ v``.

        The body-frame arrays are column-major (each axis contiguous): the stages read them one
        axis at a time, and ``(r @ a.T).T`` is also the fastest product here.
        """
        return ImuBlock(
            t_s=self.t_s,
            acc_mps2=(r @ self.acc_mps2.T).T,
            gyr_dps=None if self.gyr_dps is None else (r @ self.gyr_dps.T).T,
            frame="body",
            fs_hz=self.fs_hz,
            seg_bounds=self.seg_bounds,
            t0_ns=self.t0_ns,
        )


def rot_x(a_rad: float | F64) -> F64:
    """Rotation matrix (..., 3, 3) about x by ``a_rad`` (right-hand rule)."""
    a = np.asarray(a_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a_rad: float | F64) -> F64:
    """Rotation matrix (..., 3, 3) about y by ``a_rad`` (right-hand rule)."""
    a = np.asarray(a_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a_rad: float | F64) -> F64:
    """Rotation matrix (..., 3, 3) about z by ``a_rad`` (right-hand rule)."""
    a = np.asarray(a_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def rotation_angle_deg(r: F64) -> float:
    """Angle (deg) of the rotation matrix ``r`` (3, 3)."""
    c = (np.trace(r) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))
