"""Per stop from walking: min of what the other foot carries, max force and height over standing after the step end.

    python benchmarks/sim_stop_support.py  (review 23 finding 1; run from the repo root)
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import numpy as np

from imuback.simulate.kinematics import evaluate
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import session_gait


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    sys.path.insert(0, "tests/simulate")
    from test_stop_height import _walk

    cases = [("q045 duty0.68 seed1", _walk(1.1, 104.0, 0.68, 0.45), 1),
             ("q045 duty0.70 seed5", _walk(1.1, 104.0, 0.70, 0.45), 5),
             ("defaults q0.45 seed1", replace(RunnerParams(), walk_shape_q=0.45, noise=False, gaps_per_hour=0.0), 1),
             ("slow seed3", _walk(0.45, 100.0, 0.66, 0.12), 3), ("normal seed3", _walk(1.1, 104.0, 0.63, 0.29), 3)]
    for name, p, seed in cases:
        g = session_gait(p, np.random.default_rng(seed))[0]
        st = g.st
        z0 = float(np.mean(evaluate(g, np.arange(1.5, 2.5, 1e-3), positions=True, horizontal=False)["z"]))
        for k in np.flatnonzero(st.last & ~st.run):
            te = st.s[k] + st.T[k]
            t = np.arange(st.s[k - 1] + 5e-4, te + 1.0, 1e-3)
            ev = evaluate(g, t, positions=True, horizontal=False)
            a = t > te
            other = ev["F"] - ev["F_own_c"] - ev["F_own_m"]
            print(f"{name}: stop {k}: other foot min {other.min():+.3f} BW, F after end max {ev['F'][a].max():.3f} BW, "
                  f"z after end max {1e3*(ev['z'][a]-z0).max():+.2f} mm, rest {1e3*(ev['z'][-1]-z0):+.3f} mm")


if __name__ == "__main__":
    main()
