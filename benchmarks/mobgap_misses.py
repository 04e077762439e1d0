"""Why walking steps on mobgap_lab are missed: every reference initial contact (IC) that the
pipeline does not find within 100 ms, with the evidence to classify it.

    python benchmarks/mobgap_misses.py [--data ../shared/data] [-v]

Each miss gets the first category that applies:
  duplicate  another reference IC of the trial lies within 50 ms: two contacts that close cannot
             both be matched one-to-one (and are not two real steps)
  offset     a detection that matched no reference lies 100-300 ms away: the trunk event is there,
             the reference contact elsewhere (counted apart inside reference turns, where the
             detection may be a stray one)
  weak       the vertical signal (Gaussian-smoothed at McCamley's scale) swings less than half as
             much within 250 ms as at the trial's found steps: turns, shuffles, gait initiation
  other
Flags: T = inside a reference turn, E = first or last IC of its reference walking bout.
Also printed: the reference double support after each IC (the other foot's final contact minus
this IC) per participant and foot, and the nearest detection's offset in straight walking.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imuback.pipeline import process_raw
from imuback.signal.frames import G_MPS2
from matching import match
from real_walking import MOBGAP_R, mobgap_mat_trials, mobgap_raw


def _refs(x: dict) -> list[tuple[float, str, bool, bool, float]]:
    """(IC s, foot, in a turn, bout edge, the other foot's next final contact - IC s) per reference IC."""
    wbs = x["Standards"]["INDIP"]["MicroWB"]
    out = []
    for w in wbs if isinstance(wbs, list) else [wbs]:
        ic = np.atleast_1d(np.asarray(w["InitialContact_Event"], dtype=np.float64))
        lr = [str(s)[:1].upper() for s in np.atleast_1d(w["InitialContact_LeftRight"])]
        fc = np.atleast_1d(np.asarray(w["FinalContact_Event"], dtype=np.float64))
        fl = [str(s)[:1].upper() for s in np.atleast_1d(w["FinalContact_LeftRight"])]
        ts = np.atleast_1d(np.asarray(w["Turn_Start"], dtype=np.float64))
        te = np.atleast_1d(np.asarray(w["Turn_End"], dtype=np.float64))
        good = np.flatnonzero(np.isfinite(ic))
        for j, i in enumerate(good):
            other = np.array([f for f, s in zip(fc, fl, strict=False) if s != lr[i] and np.isfinite(f)])
            nxt = ic[good[j + 1]] if j + 1 < good.size else np.inf
            ds = other[(other > ic[i] - 0.05) & (other < nxt)]
            out.append((float(ic[i]), lr[i], bool(np.any((ic[i] >= ts) & (ic[i] <= te))),
                        j in (0, good.size - 1), float(ds.min() - ic[i]) if ds.size else np.nan))
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("-v", action="store_true", help="one line per missed reference IC")
    args = ap.parse_args(argv)
    root = args.data / "real" / "mobgap_lab"
    if not root.exists():
        print(f"mobgap_lab: skipped ({root} not found)")
        return 0
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    flags: collections.Counter[tuple[str, str]] = collections.Counter()
    n_ref = n_found = 0
    double_support: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    offsets: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for name, trial in mobgap_mat_trials(root):
        who = name.split("/")[0]
        raw = mobgap_raw(name, trial)
        x = trial.struct
        fs = raw.sample_rate_hz
        acc = np.asarray(x["SU"]["LowerBack"]["Acc"], dtype=np.float64) * G_MPS2
        steps = process_raw(raw).steps.to_pandas()
        det = np.sort((steps["ic_time"].astype("int64").to_numpy() - int(raw.time_ns[0])) / 1e9)
        refs = _refs(x)
        t_ref = np.array([r[0] for r in refs])
        ei, ri = match(det, t_ref, 0.1)
        free = np.setdiff1d(np.arange(det.size), ei)
        # swing of the smoothed vertical (body z = sensor x here) around each reference IC
        smooth = gaussian_filter1d(acc @ MOBGAP_R[2] / G_MPS2, 0.064 * fs)
        half = round(0.25 * fs)
        idx = np.round(t_ref * fs).astype(np.int64)
        swing = np.array([np.ptp(smooth[max(i - half, 0): i + half + 1]) for i in idx])  # a few hundred ICs
        found_swing = float(np.median(swing[ri])) if ri.size else np.nan
        n_ref += t_ref.size
        n_found += ri.size
        for k, (t, foot, turn, edge, ds) in enumerate(refs):
            if np.isfinite(ds):
                double_support[(who, foot)].append(1e3 * ds)
            if det.size and not turn:
                offsets[(who, foot)].append(1e3 * float(det[np.argmin(np.abs(det - t))] - t))
            if k in ri:
                continue
            near = det[free] - t if free.size else np.zeros(0)
            off = near[(np.abs(near) > 0.1) & (np.abs(near) <= 0.3)]
            if np.any((np.abs(t_ref - t) < 0.05) & (np.arange(t_ref.size) != k)):
                cat = "duplicate"
            elif off.size:
                cat = "offset, turn" if turn else "offset"
            elif swing[k] < 0.5 * found_swing:
                cat = "weak"
            else:
                cat = "other"
            counts[(cat, who)] += 1
            flags[("turn", who)] += turn
            flags[("edge", who)] += edge
            if args.v:
                extra = f"nearest free detection {1e3 * off[np.argmin(np.abs(off))]:+.0f} ms" if off.size else ""
                print(f"{name:22s} {t:7.2f} s {foot} {'T' if turn else ' '}{'E' if edge else ' '} {cat:9s} "
                      f"swing {swing[k]:.2f} g (found steps {found_swing:.2f} g) {extra}")
    print(f"\nmobgap_lab: {n_found} of {n_ref} reference ICs found within 100 ms ({100 * n_found / n_ref:.1f} %)")
    print("missed, by category     HA    MS")
    for cat in ("duplicate", "offset", "offset, turn", "weak", "other"):
        print(f"  {cat:20s} {counts[(cat, 'HA')]:4d}  {counts[(cat, 'MS')]:4d}")
    print(f"  (in a turn {flags[('turn', 'HA')]} / {flags[('turn', 'MS')]}; "
          f"first or last of a bout {flags[('edge', 'HA')]} / {flags[('edge', 'MS')]})")
    ceiling = n_ref - sum(counts[("duplicate", w)] + counts[("offset", w)] for w in ("HA", "MS"))
    print(f"recall if every miss but the duplicates and the straight-walking offsets were found: "
          f"{100 * ceiling / n_ref:.1f} %")
    print("\nreference double support after an IC (other foot's final contact - IC), and the nearest")
    print("detection minus the reference IC in straight walking, median ms:")
    for key in sorted(double_support):
        d, o = double_support[key], offsets.get(key, [])
        print(f"  {key[0]} {key[1]}: double support {np.median(d):4.0f} (n={len(d)}); "
              f"detection offset {np.median(o) if o else float('nan'):+4.0f} (n={len(o)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
