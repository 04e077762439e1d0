"""What the missed last steps of a walk and the missed U-turn steps look like, on every real walking data set.

    python benchmarks/walk_miss_anatomy.py [--data ../shared/data]

Takes the misses that ``benchmarks/walk_misses.py`` files under ``last2`` (one of the last two
reference ICs of its bout) and ``turn`` (inside a reference turn) — same scorer, one-to-one within
100 ms — and sorts each by what imuback's detections around it say (``step`` = the trial's median
interval between detections):

  last2  misplaced   an unmatched detection 100-300 ms away (the step was seen, its IC elsewhere)
         1 step on   the last detection before it is at most 1.5 steps earlier (the walk's
                     closing step, or the step before it when both are missed)
         2-3 steps   1.5-3 steps earlier (the last of two missed closing steps)
         after walk  more than 3 steps earlier (a step after the walk had stopped: the wearer
                     shuffled or walked off after standing)
  turn   misplaced   as above
         in a gap    the detections either side are more than 1.5 steps apart (a turning step
                     not detected)
         other
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from matching import match
from walk_misses import REFS, categorise

KINDS = {"last2": ("misplaced", "1 step on", "2-3 steps", "after walk"), "turn": ("misplaced", "in a gap", "other")}


def anatomy(trial: rw.Trial, det: rw.Detected, ref_name: str) -> list[tuple[str, str]]:
    """(walk_misses category, kind) of each missed reference IC of one trial filed as last2 or turn."""
    ref = trial.refs[ref_name]
    inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det.ic_s[inb]
    ei, ri = match(ic, ref.ic_s, 0.1)
    free = ic[np.setdiff1d(np.arange(ic.size), ei)]
    missed = np.setdiff1d(np.arange(ref.ic_s.size), ri)  # in the order categorise() files them
    cats, _ = categorise(trial, det, ref_name)
    step = float(np.median(np.diff(det.ic_s))) if det.ic_s.size > 1 else np.inf
    out = []
    for k, cat in zip(missed, cats, strict=True):  # misses: a few per trial
        if cat not in KINDS:
            continue
        r = ref.ic_s[k]
        near = np.abs(free - r)
        before, after = det.ic_s[det.ic_s < r - 0.1], det.ic_s[det.ic_s > r + 0.1]
        since = (r - before.max()) / step if before.size else np.inf
        span = ((after.min() if after.size else np.inf) - (before.max() if before.size else -np.inf)) / step
        if np.any((near > 0.1) & (near <= 0.3)):
            kind = "misplaced"
        elif cat == "last2":
            kind = "1 step on" if since <= 1.5 else "2-3 steps" if since <= 3.0 else "after walk"
        else:
            kind = "in a gap" if span > 1.5 else "other"
        out.append((cat, kind))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    dets = [rw.imuback_detect(t) for t in trials]
    print("imuback walking, ±100 ms: the last2 and turn misses of benchmarks/walk_misses.py, by kind")
    cols = [f"{c} {k}" for c, ks in KINDS.items() for k in ks]
    print(f"{'data / reference':28s}" + "".join(f"{c:>{len(c) + 2}s}" for c in cols))
    for ds, ref_name in REFS:
        n: collections.Counter[tuple[str, str]] = collections.Counter()
        for t, d in zip(trials, dets, strict=True):
            if t.dataset == ds and ref_name in t.refs:
                n.update(anatomy(t, d, ref_name))
        print(f"{ds + ' / ' + ref_name:28s}"
              + "".join(f"{n[(c, k)]:>{len(c) + len(k) + 3}d}" for c, ks in KINDS.items() for k in ks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
