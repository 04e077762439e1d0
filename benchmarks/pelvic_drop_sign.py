"""Which way the pelvis rolls in each stance on real walking: the sign behind ``pelvic_drop_deg``.

    python benchmarks/pelvic_drop_sign.py [--data ../shared/data]

Body frame x forward, y left, z up: a positive roll (about +x) lifts the left side. In left stance
the swing (right) side should drop, so the roll should rise; in right stance fall. Checked on
voisard_l5_walk with the foot sensors' own left/right labels (not imuback's), in the body frame
imuback finds: the roll change over the first 0.2 s after each reference initial contact.

    python benchmarks/pelvic_drop_sign.py --per-trial

checks each trial's reference feet with evidence independent of imuback: the same roll change
from the raw gyroscope turned by the nominal mounting only (no imuback alignment, no foot cue),
the share of reference stances whose roll moves the expected way, next to imuback's foot
accuracy in that trial, and the direction of gravity in the sensor frame over the first second
(standing: the mounting). A trial where most reference stances roll the wrong way while the
subject's other trials roll the right way has its reference feet swapped (or the pelvis moved
the other way in that one trial); the foot sensors' own signals are not in the data set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking
from imuback.core import RawSession
from imuback.signal.session import analyse_session
from validate import DEFAULT_DATA

WINDOW_S = 0.2
"""About the first third of a walking stance (~0.6 s), where the contralateral drop happens."""


def nominal_roll_change_deg(raw: RawSession, ic_s: np.ndarray) -> np.ndarray:
    """Roll change (deg, about body +x) over ``WINDOW_S`` after each time ``ic_s`` (s from the
    first sample), from the raw gyroscope turned by the nominal mounting only (NaN outside)."""
    assert raw.gyr_dps is not None
    roll_rate = (real_walking.VOISARD_R @ raw.gyr_dps.astype(np.float64).T)[0]  # deg/s about body +x
    t = (raw.time_ns - raw.time_ns[0]) / 1e9
    roll = np.concatenate([[0.0], np.cumsum(roll_rate[:-1] * np.diff(t))])
    a = np.interp(ic_s, t, roll, left=np.nan, right=np.nan)
    b = np.interp(ic_s + WINDOW_S, t, roll, left=np.nan, right=np.nan)
    return np.asarray(b - a, dtype=np.float64)


def per_trial(root: Path) -> None:
    """One line per trial: reference stances rolling the expected way (nominal mounting, raw
    gyroscope) and imuback's foot accuracy / unlabelled share of its matched steps there."""
    print(f"{'trial':<14}{'stances':>8}{'roll as expected':>18}{'imuback foot':>14}{'unlab':>7}"
          f"{'gravity (sensor x, y, z)':>27}")
    for trial in real_walking.voisard_trials(root):
        ref = trial.refs["foot IMU"]
        d = nominal_roll_change_deg(trial.raw, ref.ic_s)
        ok = np.isfinite(d)
        expected = np.where(ref.foot == "L", d > 0, d < 0)[ok]
        det = real_walking.imuback_detect(trial)
        f = real_walking.figures(real_walking.score([trial], [det], ref_name="foot IMU", tol_s=0.1))
        flag = "  <- reference feet disagree with the roll" if expected.mean() < 0.5 else ""
        g = np.mean(trial.raw.acc_mps2[: round(trial.raw.sample_rate_hz)].astype(np.float64), axis=0)
        g /= np.linalg.norm(g)  # standing still: the mounting (a sensor turned about the vertical flips z)
        print(f"{trial.name:<14}{ok.sum():>8}{expected.mean():>18.2f}{f.foot_acc:>14.2f}{f.unlabelled:>7.2f}"
              f"{g[0]:>+13.2f} {g[1]:>+6.2f} {g[2]:>+6.2f}{flag}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--per-trial", action="store_true",
                    help="check each trial's reference feet against the roll from the raw gyroscope")
    args = ap.parse_args(argv)
    root = args.data / "real" / "voisard_l5_walk"
    if not root.exists():
        print(f"voisard_l5_walk: skipped ({root} not found; python benchmarks/get_real_data.py fetches it)")
        return 0
    if args.per_trial:
        per_trial(root)
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
