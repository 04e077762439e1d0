"""Which real walking detections a per-step or per-bout rule removes: real steps, or invented ones?

    python benchmarks/bout_steps.py [--data ../shared/data] [--no-gyro]

Runs the pipeline on every real walking trial (voisard_l5_walk, mobgap_lab) and counts the walking
detections of each activity bout (:mod:`imuback.signal.activity`, the unit the gait check judges).
The rule tried: a bout with fewer than ``k`` detections gives no steps (``k`` = 1: the rule off;
2: no lone step-like peak, alternation needs two steps of opposite feet; 3: a rhythm's three ICs;
4: a lower bound of Mobilise-D's micro walking bout, four strides, mobgap's ``WbAssembly``). It is
applied here to the pipeline's output (the gait check itself counted the detector's peaks before
gap bridging; on these data the two gave the same removals at ``k`` = 2: docs/validation_log.md,
"Steps from sitting down, rising or a lone trunk nod"). Lists what each ``k`` removes:
per dataset and reference, the detections removed, those a reference IC matches within ±100 ms (a
scored real step lost: the house rule allows none) and those outside the reference's bouts (± 1 s,
``real_walking.BOUT_MARGIN_S``; what ``outside_bouts.py`` sorts). Then every removed detection
with its nearest reference IC (s). Prints samples/s and peak memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.activity import WALK
from imuback.signal.session import analyse_session
from matching import match

F64 = npt.NDArray[np.float64]
MATCH_S = 0.1
"""The house scorer's tolerance (s)."""
MIN_STEPS = (1, 2, 3, 4)
BASE = "min_bout_steps=1"


def walking_ics(trial: rw.Trial) -> tuple[F64, npt.NDArray[np.int64]]:
    """The pipeline's walking ICs (s from the first sample) and the detections in each one's activity bout."""
    an = analyse_session(trial.raw)
    b = an.body
    walk = an.steps.activity == WALK
    pos = an.steps.ic_pos[walk]
    bout = np.minimum(an.bouts.index_of(pos), max(an.bouts.label.size - 1, 0))
    t = np.interp(pos, np.arange(b.n), b.t_s) + (b.t0_ns - int(trial.raw.time_ns[0])) / 1e9
    return np.asarray(t, dtype=np.float64), np.asarray(np.bincount(bout)[bout], dtype=np.int64)


def _in_bouts(t: F64, ref: rw.Reference) -> npt.NDArray[np.bool_]:
    return np.asarray(np.any((t[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                             & (t[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1), dtype=bool)


def main(argv: list[str] | None = None) -> int:
    """Print what each variant removes, per dataset and reference, then each removed detection."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--no-gyro", action="store_true", help="the gyroscope dropped")
    args = ap.parse_args(argv)
    trials = rw.load(args.data, no_gyro=args.no_gyro)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: nothing to do")
        return 0
    t_start = time.perf_counter()
    det = [walking_ics(tr) for tr in trials]
    elapsed = time.perf_counter() - t_start
    keys = [(ds, r) for ds, r in (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))
            if any(t.dataset == ds for t in trials)]
    print(f"removed by each minimum of detections per activity bout{' — gyroscope dropped' if args.no_gyro else ''}; "
          f"real = a reference IC within ±{MATCH_S * 1000:.0f} ms, outside = outside the reference's bouts (± 1 s)")
    print(f"{'variant':18s} " + " ".join(f"{ds + ' / ' + r:>34s}" for ds, r in keys))
    print(f"{'':18s} " + " ".join(f"{'detections  removed  real  outside':>34s}" for _ in keys))
    listing = []
    for k in MIN_STEPS:
        name = f"min_bout_steps={k}"
        cells = []
        for ds, rname in keys:
            n_det = n_gone = n_real = n_out = 0
            for tr, (t_s, n_bout) in zip(trials, det, strict=True):
                if tr.dataset != ds:
                    continue
                ref = tr.refs[rname]
                gone = t_s[n_bout < k]
                n_det += t_s.size - gone.size
                n_gone += gone.size
                n_real += match(gone, ref.ic_s, MATCH_S)[0].size
                n_out += int(np.count_nonzero(~_in_bouts(gone, ref)))
                if name != BASE and rname == next(iter(tr.refs)):  # each detection once
                    for t in gone:
                        near = {k: float(r.ic_s[np.argmin(np.abs(r.ic_s - t))] - t) if r.ic_s.size else np.nan
                                for k, r in tr.refs.items()}
                        listing.append((name, tr.name, float(t), near))
            cells.append(f"{n_det:10d} {n_gone:8d} {n_real:5d} {n_out:8d}")
        print(f"{name:18s} " + " ".join(f"{c:>34s}" for c in cells))
    print("\nremoved detections (nearest reference IC, s)")
    for name, trial, t, near in listing:
        if name != BASE:
            print(f"{name:18s} {trial:22s} {t:8.2f}  " + "  ".join(f"{k} {v:+.2f}" for k, v in near.items()))
    print(rw.throughput_line(trials, elapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
