"""Walking prominence floors raised to k x the session's own accelerometer noise (issue #14).

    python benchmarks/walk_noise_floor.py [--data ../shared/data] [--seeds 2] [--k 0 6 10 14] [--weak-only]

k (``EventParams.walk_noise_k``) is chosen on voisard_l5_walk with white accelerometer noise added
(0.01 / 0.03 g RMS at 100 Hz, ``sensor_imperfections.noise``) and reported on mobgap_lab against
INDIP and stereophotogrammetry at the same levels, recall and precision at ±100 ms, plus each
set's estimated floor (g) as recorded. Seeds as in ``sensor_imperfections.py`` (pooled).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
import sensor_imperfections as si
from imuback.signal.params import EventParams, PipelineParams


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--k", type=float, nargs="+", default=[0.0, 6.0, 10.0, 14.0])
    ap.add_argument("--weak-only", action="store_true",
                    help="raise only walk_weak_prominence_g (this process only: the clear-step floor stays 0.1 g)")
    args = ap.parse_args(argv)
    if args.weak_only:
        import imuback.signal.events as ev
        from imuback.signal import walking

        def weak(vertical_g: np.ndarray, x: np.ndarray, fs: float, p: EventParams) -> EventParams:
            return dataclasses.replace(walking.noise_floors(vertical_g, x, fs, p),
                                       walk_peak_prominence_g=p.walk_peak_prominence_g)
        ev.noise_floors = weak  # type: ignore[assignment]
    trials = rw.load(args.data)
    if not trials:
        print(f"no real data under {args.data / 'real'}: skipped")
        return 0
    levels = [None, si.noise(0.01, 0.0, "acc 0.01 g"), si.noise(0.03, 0.0, "acc 0.03 g")]
    sets = {}
    for imp in levels:
        rngs = [None] if imp is None else [np.random.default_rng(1000 * s + 11) for s in range(args.seeds)]
        sets[imp] = [t if r is None else dataclasses.replace(t, raw=si.degrade(t.raw, imp, r, [0, 1, 2]))
                     for r in rngs for t in trials]
    print(f"walking ±100 ms, accelerometer white noise only, pooled over {args.seeds} seeds")
    print(f"{'k':>5}  {'noise':<12}{'data / reference':<28}{rw.HEADER[24:]}")
    for k in args.k:
        params = PipelineParams(events=dataclasses.replace(EventParams(), walk_noise_k=k))
        for imp, ts in sets.items():
            dets = [rw.imuback_detect(t, params) for t in ts]
            for ds, ref in si.REFS:
                sel = [i for i, t in enumerate(ts) if t.dataset == ds and ref in t.refs]
                f = rw.figures(rw.score([ts[i] for i in sel], [dets[i] for i in sel], ref_name=ref, tol_s=0.1))
                label = "as recorded" if imp is None else imp.level
                print(f"{k:>5g}  {label:<12}{f'{ds} / {ref}':<28}" + rw.line("", f)[24:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
