"""Does ``steps.quality`` predict whether a step is right? AUROC and reliability on real data.

    python benchmarks/real_quality.py [--data ../shared/data]

A small scorer of its own (the walking loaders of benchmarks/validate.py may replace it):
- alcantara_treadmill (running): a step is right when |IC err| <= 10 ms and |TO err| <= 20 ms
  against the force plate (the running SD targets of issue #14);
- mobgap_lab, voisard_l5_walk (walking): a detected step is right when it is matched one-to-one
  to a reference IC within 100 ms (INDIP; foot sensors). Extra steps are the wrong ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from imuback.core import RawSession
from imuback.pipeline import process_raw

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
from gait_features import load_voisard
from matching import match

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def _quality_ic(raw: RawSession) -> tuple[F64, F64]:
    """(IC in s from the first sample, quality) of every step."""
    steps = process_raw(raw).steps
    ns = steps.column("ic_time").cast(pa.int64()).to_numpy(zero_copy_only=False)
    ic = (np.asarray(ns, dtype=np.float64) - float(raw.time_ns[0])) / 1e9
    q = np.asarray(steps.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64)
    return ic, q


def walking_quality(data: Path) -> dict[str, tuple[F64, B]]:
    """Per walking dataset: (quality, right) of every detected step inside the reference span."""
    out: dict[str, tuple[F64, B]] = {}
    mob = data / "real" / "mobgap_lab"
    if mob.exists():
        import real_walking

        qs, oks = [], []
        for name, x in real_walking.mobgap_mat_trials(mob):
            ic, q = _quality_ic(real_walking.mobgap_raw(name, x))
            wbs = x.struct["Standards"]["INDIP"]["MicroWB"]
            wbs = wbs if isinstance(wbs, list) else [wbs]
            ref = np.sort(np.concatenate([np.atleast_1d(np.asarray(w["InitialContact_Event"], float)) for w in wbs]))
            ref = ref[np.isfinite(ref)]
            ei, _ = match(ic, ref, 0.1)
            ok = np.zeros(ic.size, dtype=bool)
            ok[ei] = True
            qs.append(q)
            oks.append(ok)
        out["mobgap_lab"] = (np.concatenate(qs), np.concatenate(oks))
    voi = data / "real" / "voisard_l5_walk"
    if voi.exists():
        qs, oks = [], []
        for raw in load_voisard(voi):
            d = json.loads((voi / "GaitData" / f"{raw.session_id.removesuffix('_lb')}.json").read_text())
            ic, q = _quality_ic(raw)
            ref = np.sort(np.array([e[1] for e in d["LeftFootEvents"] + d["RightFootEvents"]], float)) / 100.0
            ref = ref[ref <= (raw.time_ns[-1] - raw.time_ns[0]) / 1e9]  # on the sensor's clock (rows skip drops)
            lo, hi = d["TrialBoundaries"][0] / 100.0, d["TrialBoundaries"][1] / 100.0
            inside = (ic >= lo - 0.5) & (ic <= hi + 0.5)
            ei, _ = match(ic, ref, 0.1)
            ok = np.zeros(ic.size, dtype=bool)
            ok[ei] = True
            qs.append(q[inside])
            oks.append(ok[inside])
        out["voisard_l5_walk"] = (np.concatenate(qs), np.concatenate(oks))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    args = ap.parse_args(argv)
    sets: dict[str, tuple[F64, B]] = {}
    alc = args.data / "real" / "alcantara_treadmill"
    if alc.exists():
        s = real_running.score(real_running.load_trials(alc))
        sets["alcantara_treadmill (running: IC ≤ 10 ms and TO ≤ 20 ms)"] = (s.quality, real_running.step_ok(s))
    for k, v in walking_quality(args.data).items():
        sets[f"{k} (walking: matched within 100 ms)"] = v
    for name, (q, ok) in sets.items():
        print(f"\n## {name}: {q.size} steps, {100 * ok.mean():.1f} % right, "
              f"AUROC {real_running.auroc(q, ok):.2f}")
        print("\n".join(real_running.reliability(q, ok)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
