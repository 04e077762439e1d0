"""The simulated body's height level in walking: against standing, and across a run→walk change.

    python benchmarks/sim_height.py [--seeds 1 2 3 4]

Noise-free sessions at 100 Hz (stand 5 s, walk 30 s, run 1 min, walk 30 s, stand 5 s), per case
and seed, from the truth signals (``z_m``: the sacral height, CoM plus soft tissue):

* ``walk_mean_cm``: mean height over each walking segment (its first and last 5 s cut) minus the
  standing level before the walk (mean over the first standing segment), then the median over the
  two walks (the CoM peaks near its standing height at mid-stance: the stance leg is never
  longer than in standing);
* ``walk_ic_cm``: the same for the height at the walking ICs;
* ``walk_top_cm``: the same for each walking step's highest height (IC to IC), averaged;
* ``run_walk_min_cm`` / ``run_walk_max_cm``: after the run, the lowest / highest height at the first
  eight walking ICs minus that walk's steady IC height (its ``walk_ic_cm``; the run→walk dip);
* ``run_ic_cm``: the mean height at the last five running ICs, from standing's;
* ``walk_run_min_cm``: the lowest height at the first eight running ICs minus the steady running
  IC height (the mean of the last five; the walk→run change);
* ``last_step_rise_cm``: the highest height from the session's last IC on (the walk's last step and
  the standing after it) minus the standing level before the walk;
* ``stand_end_cm``: the standing level at the end minus the one at the start.

``--walk-end-s 0.7`` ends the run with 1-2 walking steps; the steady walking columns then come
from the run's opening walk, and ``run_walk_min_cm`` is measured against that walk's IC level.

Cases: the default walk (112 steps/min, duty 0.62), a 100 steps/min walk and a slow walker
(90 steps/min, duty 0.68, 0.6 m/s).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import numpy as np

from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

T0_NS = 1_600_000_000 * 10**9
BASE = RunnerParams(run_minutes=1.0, stand_start_s=5.0, walk_start_s=30.0, walk_end_s=30.0, stand_end_s=5.0,
                    sample_rate_hz=100.0, noise=False, gaps_per_hour=0.0, mounting="identity",
                    misalignment_deg=0.0, misalignment_exact=True)
CASES = {
    "default walk (112/min, duty 0.62)": BASE,
    "100/min walk": replace(BASE, walk_cadence_spm=100.0),
    "slow walker (90/min, duty 0.68, 0.6 m/s)": replace(BASE, walk_cadence_spm=90.0, walk_duty_factor=0.68,
                                                        walk_speed_mps=0.6),
}
COLUMNS = ("walk_mean_cm", "walk_ic_cm", "walk_top_cm", "run_ic_cm", "run_walk_min_cm", "run_walk_max_cm",
           "walk_run_min_cm", "last_step_rise_cm", "stand_end_cm")


def height_figures(p: RunnerParams, seed: int) -> dict[str, float]:
    """The figures of the module docstring for one session."""
    sim = simulate_session(p, seed=seed, session_id="h", runner_id="sim", start_time=T0_NS, keep_signals=True)
    sig = sim.signals
    assert sig is not None
    t, z = sig.t_s, sig.z_m
    seg = sim.truth["segments"]
    ic = (np.asarray(sim.truth_steps.column("ic_time").cast("int64").to_numpy(), np.int64) - T0_NS) / 1e9
    run = np.asarray(sim.truth_steps.column("activity").to_numpy(zero_copy_only=False)) == "run"
    z_ic = np.interp(ic, t, z)
    stands = [s for s in seg if s["kind"] == "stand"]
    level = [float(np.mean(z[(t >= s["start_s"] + 0.5) & (t <= s["end_s"] - 0.5)])) for s in stands]
    walks = [s for s in seg if s["kind"] == "walk"]
    mean_w, ic_w, top_w = [], [], []
    for s in walks:
        m = (t > s["start_s"] + 5.0) & (t < s["end_s"] - 5.0)
        mi = (ic > s["start_s"] + 5.0) & (ic < s["end_s"] - 5.0)
        if np.count_nonzero(mi) < 2:  # too short a walk for a steady level
            continue
        mean_w.append(float(np.mean(z[m])) - level[0])
        ic_w.append(float(np.mean(z_ic[mi])) - level[0])
        top_w.append(float(np.mean(np.maximum.reduceat(z, np.searchsorted(t, ic[mi]))[:-1])) - level[0])
    run_start = min(s["start_s"] for s in seg if s["kind"] == "run")
    run_end = max(s["end_s"] for s in seg if s["kind"] == "run")
    last_run = z_ic[run & (ic < run_end)][-5:]
    steady_ic = ic_w[-1] if ic_w else float("nan")
    after = z_ic[~run & (ic >= run_end)][:8] - level[0] - steady_ic
    first_run = z_ic[run & (ic >= run_start)][:8] - float(np.mean(last_run))
    nan = float("nan")
    return {"walk_mean_cm": 100.0 * float(np.median(mean_w)) if mean_w else nan,
            "walk_ic_cm": 100.0 * float(np.median(ic_w)) if ic_w else nan,
            "walk_top_cm": 100.0 * float(np.median(top_w)) if top_w else nan,
            "run_ic_cm": 100.0 * (float(np.mean(last_run)) - level[0]),
            "run_walk_min_cm": 100.0 * float(np.min(after)), "run_walk_max_cm": 100.0 * float(np.max(after)),
            "walk_run_min_cm": 100.0 * float(np.min(first_run)),
            "last_step_rise_cm": 100.0 * (float(np.max(z[t >= ic[-1]])) - level[0]),
            "stand_end_cm": 100.0 * (level[-1] - level[0])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--walk-end-s", type=float, default=None, help="length of the walk after the run (s)")
    args = ap.parse_args(argv)
    for name, p in CASES.items():
        if args.walk_end_s is not None:
            p = replace(p, walk_end_s=args.walk_end_s)
        print(f"\n## {name}")
        print(" seed | " + " | ".join(f"{c:>17s}" for c in COLUMNS))
        for seed in args.seeds:
            f = height_figures(p, seed)
            print(f"{seed:5d} | " + " | ".join(f"{f[c]:17.1f}" for c in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
