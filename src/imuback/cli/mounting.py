"""The ``--mounting`` option of ``record``, ``process`` and ``batch``: the sensor's nominal mounting
R (``v_body = R @ v_sensor``, body frame x forward, y left, z up; rows = body x, y, z in sensor axes)
as JSON 3x3, or a name. The same matrix as ``mounting=`` in Python (docs/frames.md).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

RECOMMENDED_MOUNTING = [[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
"""The imuback sensor worn as firmware_notes/mounting.md recommends: chip +y up, +z backwards."""

NAMED_MOUNTINGS = {"identity": np.eye(3).tolist(), "recommended": RECOMMENDED_MOUNTING}
"""Mountings given by name: the chip's axes are the body's, and the imuback sensor's recommended one."""

MOUNTING_HELP = ("nominal mounting R (v_body = R @ v_sensor; rows = body x forward, y left, z up in sensor "
                 "axes) as JSON 3x3, e.g. '[[0,0,-1],[0,1,0],[1,0,0]]' for an Xsens at L5 as in "
                 "voisard_l5_walk, or 'identity' / 'recommended' (the imuback sensor as in "
                 "firmware_notes/mounting.md); docs/frames.md")


def mounting_matrix(text: str) -> list[list[float]]:
    """A named or JSON 3x3 proper rotation, checked while parsing (an argparse ``type``)."""
    if text in NAMED_MOUNTINGS:
        return NAMED_MOUNTINGS[text]
    try:
        r = np.asarray(json.loads(text), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"not a JSON 3x3 matrix nor one of {sorted(NAMED_MOUNTINGS)} "
                                         f"({exc})") from None
    if r.shape != (3, 3) or not np.isfinite(r).all() or not np.allclose(r @ r.T, np.eye(3), atol=1e-3) \
            or np.linalg.det(r) < 0:
        raise argparse.ArgumentTypeError("must be a 3x3 rotation matrix (rows = body x, y, z in sensor axes)")
    return [[float(v) for v in row] for row in r]
