"""The simulated slow walk's quick steps and near-stops: carried, within standing height.

    python benchmarks/sim_quick_steps.py [--seeds 300 304]

The realistic walks at 0.45 m/s (``sim_accuracy.walking_scenario`` 0 and 4; as validate.py, seeds
300 + i), built noise-free by the simulator's own stages (``runner.session_gait``) and evaluated on a
1 ms grid from the contact before each quick step to the contact after it; measures the simulator
only (issue #14 item 7). Per group (quick steps, the plain steps two or more away from any quick
step), min / median / max over the steps of:

* ``T s``: the step time, IC to next IC;
* ``Fmin``: the lowest total vGRF over the window (BW; >= 0: the feet push, never pull);
* ``other``: the lowest force besides the two feet's own forces in the window (BW; the standing
  support and the neighbours' contacts, >= 0);
* ``top mm``: the highest sacral CoM height over the step, above the standing level (mean over
  1.5-2.5 s): a walking body's top is at its standing height, never far above;
* ``rng mm``: the height's range over the step (IC to next IC);
* ``peak``: the step's own vertical force peak (truth ``grf_peak_bw``) over its 5-step running
  median;
* ``swing s``: from the previous contact's truth TO to the next contact's truth IC of the same foot.

Then per near-stop (the step into it, its double-support pause, the next bout's first step), from the
contact before the step into it to the end of the first step after it, min / median / max of:
``IC-IC s`` (the step into it to the next IC), ``Fmin``, ``other`` (as above: the standing support
of the pause included), ``top mm`` (the highest height over standing), ``pause mm`` (the height's
range over the pause), ``v min`` (the lowest forward speed, m/s).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sim_accuracy as sa
from imuback.core import G_MPS2
from imuback.simulate.kinematics import evaluate
from imuback.simulate.params import FORCE_PLATE_THRESHOLD_N
from imuback.simulate.runner import session_gait
from imuback.simulate.truth import truth_tables

SLOW_SCENARIOS = (0, 4)


def rows(i: int, seed: int) -> dict[str, np.ndarray]:
    """Per walking step of scenario ``i`` built with ``seed``: the columns of the docstring and whether quick."""
    p = sa.walking_scenario(i)
    g, log, _, _ = session_gait(p, np.random.default_rng(seed))
    st = g.st
    thr = FORCE_PLATE_THRESHOLD_N / (p.body_mass_kg * G_MPS2)
    steps, _, ic_s, to_s = truth_tables(p, g, thr, "q", "r", 0)
    peak = np.asarray(steps.column("grf_peak_bw").to_numpy(zero_copy_only=False), dtype=float)
    quick_s = np.asarray([x for seg in log for x in seg.get("quick_s", [])])
    quick = np.isin(st.s, quick_s)
    z0 = float(np.mean(evaluate(g, np.arange(1.5, 2.5, 1e-3), positions=True, horizontal=False)["z"]))
    peak_rel = peak / median_filter(peak, size=5, mode="nearest")
    out: dict[str, list[float]] = {k: [] for k in ("T", "Fmin", "other", "top", "rng", "peak", "swing", "quick")}
    k_ok = np.flatnonzero(~st.first & ~st.last & ~np.r_[st.last[1:], True] & ~st.run)
    for k in k_ok:
        t = np.arange(st.s[k - 1] + 5e-4, st.s[k + 1] + st.T[k + 1], 1e-3)
        ev = evaluate(g, t, positions=True, horizontal=False)
        step = (t >= st.s[k]) & (t < st.s[k + 1])
        z = (ev["z"] - z0) * 1e3
        out["T"].append(st.T[k])
        out["Fmin"].append(float(ev["F"].min()))
        out["other"].append(float((ev["F"] - ev["F_own_c"] - ev["F_own_m"]).min()))
        out["top"].append(float(z[step].max()))
        out["rng"].append(float(np.ptp(z[step])))
        out["peak"].append(float(peak_rel[k]))
        out["swing"].append(float(ic_s[k + 1] - to_s[k - 1]))
        out["quick"].append(float(quick[k]))
    return {k: np.asarray(v) for k, v in out.items()}


def near_rows(i: int, seed: int) -> dict[str, np.ndarray]:
    """Per near-stop of scenario ``i`` built with ``seed``: the near-stop columns of the docstring."""
    p = sa.walking_scenario(i)
    g, log, speed, _ = session_gait(p, np.random.default_rng(seed))
    st = g.st
    z0 = float(np.mean(evaluate(g, np.arange(1.5, 2.5, 1e-3), positions=True, horizontal=False)["z"]))
    out: dict[str, list[float]] = {k: [] for k in ("T", "Fmin", "other", "top", "pause", "vmin")}
    for a, b in (x for seg in log for x in seg.get("near_stops", [])):
        k = int(np.searchsorted(st.s, a)) - 1  # the step into it ends at a
        t = np.arange(st.s[k - 1] + 5e-4, st.s[k + 1] + st.T[k + 1], 1e-3)
        ev = evaluate(g, t, positions=True, horizontal=False)
        z = (ev["z"] - z0) * 1e3
        pause = (t >= a) & (t < b)
        out["T"].append(st.s[k + 1] - st.s[k])
        out["Fmin"].append(float(ev["F"].min()))
        out["other"].append(float((ev["F"] - ev["F_own_c"] - ev["F_own_m"]).min()))
        out["top"].append(float(z.max()))
        out["pause"].append(float(np.ptp(z[pause])))
        out["vmin"].append(float(speed.eval(t)[0].min()))
    return {k: np.asarray(v) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="one per scenario (default 300 + i)")
    args = ap.parse_args(argv)
    seeds = args.seeds or [300 + i for i in SLOW_SCENARIOS]
    parts = [rows(i, s) for i, s in zip(SLOW_SCENARIOS, seeds, strict=True)]
    r = {k: np.concatenate([x[k] for x in parts]) for k in parts[0]}
    quick = r["quick"] > 0
    near = np.convolve(quick.astype(float), np.ones(5), mode="same") > 0  # within two steps of a quick step
    print("# quick steps of the simulated 0.45 m/s walks (min / median / max)")
    cols = ("T", "Fmin", "other", "top", "rng", "peak", "swing")
    heads = ("T s", "Fmin BW", "other BW", "top mm", "rng mm", "peak/med", "swing s")
    print(f"{'group':18s} {'n':>4s} | " + " | ".join(f"{c:^20s}" for c in heads))
    for name, m in (("quick steps", quick), ("plain (2+ away)", ~near)):
        cells = " | ".join(f"{r[c][m].min():6.2f} {np.median(r[c][m]):6.2f} {r[c][m].max():6.2f}" for c in cols)
        print(f"{name:18s} {int(m.sum()):4d} | {cells}")
    nr = [near_rows(i, s) for i, s in zip(SLOW_SCENARIOS, seeds, strict=True)]
    r = {k: np.concatenate([x[k] for x in nr]) for k in nr[0]}
    cols = ("T", "Fmin", "other", "top", "pause", "vmin")
    heads = ("IC-IC s", "Fmin BW", "other BW", "top mm", "pause mm", "v min m/s")
    print(f"\n{'near-stops':18s} {'n':>4s} | " + " | ".join(f"{c:^20s}" for c in heads))
    if r["T"].size:
        cells = " | ".join(f"{r[c].min():6.2f} {np.median(r[c]):6.2f} {r[c].max():6.2f}" for c in cols)
        print(f"{'':18s} {r['T'].size:4d} | {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
