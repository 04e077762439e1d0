"""Which way the pelvis rolls in each stance on real walking: the sign behind ``pelvic_drop_deg``.

    python benchmarks/pelvic_drop_sign.py [--data ../shared/data]

Body frame x forward, y left, z up: a positive roll (about +x) lifts the left side. In left stance
the swing (right) side should drop, so the roll should rise; in right stance fall. Checked on
voisard_l5_walk with the foot sensors' own left/right labels (not imuback's), in the body frame
imuback finds: the roll change over the first 0.2 s after each reference initial contact.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking
from imuback.signal.session import analyse_session
from validate import DEFAULT_DATA

WINDOW_S = 0.2
"""About the first third of a walking stance (~0.6 s), where the contralateral drop happens."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args(argv)
    root = args.data / "real" / "voisard_l5_walk"
    if not root.exists():
        print(f"voisard_l5_walk: skipped ({root} not found; python benchmarks/get_real_data.py fetches it)")
        return 0
    change: dict[str, list[float]] = {"L": [], "R": []}
    for trial in real_walking.voisard_trials(root):
        body = analyse_session(trial.raw).body
        if body.gyr_dps is None:
            continue
        roll = np.concatenate([[0.0], np.cumsum(body.gyr_dps[:, 0], dtype=np.float64)]) / body.fs_hz
        ref = trial.refs["foot IMU"]
        i0 = np.round(ref.ic_s * body.fs_hz).astype(np.int64)
        i1 = i0 + round(WINDOW_S * body.fs_hz)
        ok = (i0 >= 0) & (i1 <= body.n)
        for foot in ("L", "R"):
            sel = ok & (ref.foot == foot)
            change[foot] += list(roll[i1[sel]] - roll[i0[sel]])
    for foot, name in (("L", "left"), ("R", "right")):
        v = np.asarray(change[foot])
        print(f"{name} stance: {v.size} steps, roll change over {WINDOW_S:g} s after IC "
              f"median {np.median(v):+.2f} deg, "
              f"rising in {100 * np.mean(v > 0):.0f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
