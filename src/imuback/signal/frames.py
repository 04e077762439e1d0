"""Frames and rotation helpers (the in-memory IMU block lives in :mod:`imuback.core`).

Body frame: x forward (anterior), y left, z up; right-handed. Sensor frame: the chip's own axes.
A mounting rotation ``R`` maps sensor to body: ``v_body = R @ v_sensor`` (rows of ``R`` are the
body axes written in sensor coordinates). Angles: rotation = about z (yaw), obliquity = about x
(roll), tilt = about y (pitch). See docs/frames.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2 as G_MPS2
from imuback.core import ImuBlock as ImuBlock

F64 = npt.NDArray[np.float64]


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
