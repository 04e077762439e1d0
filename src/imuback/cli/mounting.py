"""The ``--mounting`` option of ``record``, ``process`` and ``batch``: the sensor's nominal mounting
R (``v_body = R @ v_sensor``, body frame x forward, y left, z up; rows = body x, y, z in sensor axes)
as JSON 3x3, or a name. The same matrix as ``mounting=`` in Python (docs/frames.md).
"""

from __future__ import annotations

import argparse

from imuback.formats.identity import NAMED_MOUNTINGS as NAMED_MOUNTINGS
from imuback.formats.identity import RECOMMENDED_MOUNTING as RECOMMENDED_MOUNTING
from imuback.formats.identity import parse_mounting
from imuback.formats.zone import FORGET

MOUNTING_HELP = ("nominal mounting R (v_body = R @ v_sensor; rows = body x forward, y left, z up in sensor "
                 "axes) as JSON 3x3, e.g. '[[0,0,-1],[0,1,0],[1,0,0]]' for an Xsens at L5 as in "
                 "voisard_l5_walk, or 'identity' / 'recommended' (the imuback sensor as in "
                 "firmware_notes/mounting.md), or 'unknown' to forget one given before for the same "
                 "recording (the file's own, else the identity assumed); docs/frames.md")


def mounting_matrix(text: str) -> list[list[float]] | str:
    """A named or JSON 3x3 proper rotation, checked while parsing (an argparse ``type``:
    :func:`imuback.formats.identity.parse_mounting`); ``unknown`` (:data:`FORGET`) as it is.
    """
    if text == FORGET:
        return text
    try:
        return parse_mounting(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; or {FORGET!r} to forget one given before") from None
