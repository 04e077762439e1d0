"""Where imuback's walking misses and extra steps are, on every real walking data set.

    python benchmarks/walk_misses.py [--data ../shared/data] [--off walk_bridge_fall_frac=1e9 ...]

Scored as in ``benchmarks/real_walking.py`` (one-to-one within 100 ms). Each missed reference
initial contact (IC) gets the first category that applies:

  first2 / last2  one of the first / last two reference ICs of its walking bout (gait initiation,
                  termination)
  turn            inside a reference turn
  offset          an unmatched detection lies 100-300 ms away: the step was seen, its IC elsewhere
  other
Each unmatched detection inside a reference bout (± 1 s) is ``near`` (a reference IC within
300 ms: a misplaced IC) or ``far``; and, in a second breakdown, ``after end`` (more than 300 ms
after its bout's last reference IC: a step the reference's walk does not hold), ``before start``
(likewise before the first), ``turn`` (nearest reference IC in a turn) or ``straight``.
Where a trial has two references (mobgap_lab: INDIP and stereophotogrammetry), a third breakdown
asks the other reference about each detection the first does not hold: an unmatched detection
inside the first's bouts is ``other has it`` (the other reference has an IC within 100 ms: a real
step the first misplaces or omits), ``near`` (an IC of the first within 300 ms) or ``far``; a
detection outside the first's bouts (± 1 s) is ``other has it``, ``in other's bout`` or
``outside both``. ``--off NAME=VALUE`` runs with EventParams fields changed
(e.g. to see a change's share).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.params import PipelineParams
from matching import match

REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))
MISSES = ("first2", "last2", "turn", "offset", "other")


def categorise(trial: rw.Trial, det: rw.Detected, ref_name: str) -> tuple[list[str], list[str]]:
    """(category per missed reference IC, category per unmatched detection) of one trial."""
    ref = trial.refs[ref_name]
    inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det.ic_s[inb]
    ei, ri = match(ic, ref.ic_s, 0.1)
    free = np.setdiff1d(np.arange(ic.size), ei)
    missed: list[str] = []
    for k in np.setdiff1d(np.arange(ref.ic_s.size), ri):  # misses: a few per trial
        in_bout = np.flatnonzero(ref.bout_id == ref.bout_id[k])
        rank = int(np.searchsorted(in_bout, k))
        near = np.abs(ic[free] - ref.ic_s[k])
        if rank < 2:
            missed.append("first2")
        elif rank >= in_bout.size - 2:
            missed.append("last2")
        elif ref.turn[k]:
            missed.append("turn")
        elif np.any((near > 0.1) & (near <= 0.3)):
            missed.append("offset")
        else:
            missed.append("other")
    d = np.abs(ic[free][:, None] - ref.ic_s[None, :]).min(axis=1) if ref.ic_s.size else np.full(free.size, np.inf)
    return missed, ["near" if x <= 0.3 else "far" for x in d]


EXTRAS = ("after end", "before start", "turn", "straight")


def where_extra(trial: rw.Trial, det: rw.Detected, ref_name: str) -> list[str]:
    """Category (``EXTRAS``) of each unmatched detection inside a reference bout (± 1 s) of one trial."""
    ref = trial.refs[ref_name]
    inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det.ic_s[inb]
    ei, _ = match(ic, ref.ic_s, 0.1)
    t = ic[np.setdiff1d(np.arange(ic.size), ei)]
    if ref.ic_s.size == 0:
        return ["straight"] * t.size
    b = np.argmin(np.abs(t[:, None] - ref.bouts_s.mean(axis=1)[None, :]), axis=1)  # the nearest bout
    first = np.array([ref.ic_s[ref.bout_id == i].min(initial=np.inf) for i in range(ref.bouts_s.shape[0])])
    last = np.array([ref.ic_s[ref.bout_id == i].max(initial=-np.inf) for i in range(ref.bouts_s.shape[0])])
    turn = rw._conditions(trial, ref, t)["turn"] == "turn"
    return ["after end" if x > last[i] + 0.3 else "before start" if x < first[i] - 0.3 else
            "turn" if tu else "straight" for x, i, tu in zip(t, b, turn, strict=True)]


CROSS = ("extra: other has it", "extra: near", "extra: far", "outside: other has it", "outside: in other's bout",
         "outside: outside both")


def _in_bouts(ic: np.ndarray, ref: rw.Reference) -> np.ndarray:
    return np.any((ic[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                  & (ic[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)


def cross_check(trial: rw.Trial, det: rw.Detected, ref_name: str, other_name: str) -> list[str]:
    """Category (``CROSS``) of each detection that reference ``ref_name`` does not hold, asked of ``other_name``."""
    ref, other = trial.refs[ref_name], trial.refs[other_name]
    ic = det.ic_s
    inb = _in_bouts(ic, ref)
    ei, _ = match(ic[inb], ref.ic_s, 0.1)
    held = np.zeros(ic.size, dtype=bool)
    held[np.flatnonzero(inb)[ei]] = True
    eo, _ = match(ic, other.ic_s, 0.1)
    by_other = np.zeros(ic.size, dtype=bool)
    by_other[eo] = True
    near = (np.abs(ic[:, None] - ref.ic_s[None, :]).min(axis=1) <= 0.3 if ref.ic_s.size
            else np.zeros(ic.size, dtype=bool))
    in_other = _in_bouts(ic, other)
    out = []
    for k in np.flatnonzero(~held):  # the detections one reference does not hold: a few per trial
        if inb[k]:
            out.append("extra: other has it" if by_other[k] else "extra: near" if near[k] else "extra: far")
        else:
            out.append("outside: other has it" if by_other[k] else "outside: in other's bout" if in_other[k]
                       else "outside: outside both")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    params = PipelineParams(events=rw.event_params(args.off))
    changes = {k: getattr(params.events, k) for k in (a.split("=", 1)[0] for a in args.off)}
    dets = [rw.imuback_detect(t, params) for t in trials]
    print(f"imuback walking, ±100 ms{' with ' + str(changes) if changes else ''}")
    print(f"{'data / reference':28s}{'n ref':>6}{'missed':>7}  " + "".join(f"{m:>8}" for m in MISSES)
          + f"{'extra':>7}{'near':>6}{'far':>5}")
    where: dict[str, collections.Counter[str]] = {}
    for ds, ref_name in REFS:
        n_ref = 0
        miss: collections.Counter[str] = collections.Counter()
        extra: collections.Counter[str] = collections.Counter()
        for t, d in zip(trials, dets, strict=True):
            if t.dataset == ds and ref_name in t.refs:
                m, e = categorise(t, d, ref_name)
                n_ref += t.refs[ref_name].ic_s.size
                miss.update(m)
                extra.update(e)
                where.setdefault(f"{ds} / {ref_name}", collections.Counter()).update(where_extra(t, d, ref_name))
        print(f"{ds + ' / ' + ref_name:28s}{n_ref:>6}{sum(miss.values()):>7}  "
              + "".join(f"{miss[m]:>8}" for m in MISSES)
              + f"{sum(extra.values()):>7}{extra['near']:>6}{extra['far']:>5}")
    print(f"\nwhere the extra detections are\n{'data / reference':28s}" + "".join(f"{e:>14}" for e in EXTRAS))
    for k, c in where.items():
        print(f"{k:28s}" + "".join(f"{c[e]:>14}" for e in EXTRAS))
    cross: dict[str, collections.Counter[str]] = {}
    for ref_name, other_name in (("INDIP", "stereo"), ("stereo", "INDIP")):
        for t, d in zip(trials, dets, strict=True):
            if ref_name in t.refs and other_name in t.refs:
                cross.setdefault(f"{t.dataset} / {ref_name}", collections.Counter()).update(
                    cross_check(t, d, ref_name, other_name))
    if cross:
        print("\ndetections one reference does not hold, asked of the other reference (INDIP <-> stereo)")
        print(f"{'data / reference':28s}" + "".join(f"{e:>26}" for e in CROSS))
        for k, c in cross.items():
            print(f"{k:28s}" + "".join(f"{c[e]:>26}" for e in CROSS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
