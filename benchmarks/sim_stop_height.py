"""The simulated body at each stop: how high the sacrum rises over standing, and what pushes it.

    python benchmarks/sim_stop_height.py [--seeds 1 2] [--per-stop]

For every stop (a gait bout's last contact followed by standing) of noise-free sessions, from the
simulator's own per-step parameters (``gait.build_gait``) evaluated on a 1 kHz grid
(``kinematics.evaluate``; heights ``z``: the sacrum, CoM plus soft tissue):

* ``pre_mm``: the highest height from the second-to-last IC to the end of the last step (the
  last step's ``T``, where the standing support starts to reload) minus the standing height (the
  sacrum's height 2 s into the session's opening stand);
* ``post_mm``: the highest height over the first second after that, minus the standing height;
* ``low_mm``: the lowest height over that second, minus the standing height (a running stop's
  landing sinks and rises back);
* ``plain_mm``: for scale, the median height range (max - min) of the bout's steps IC to IC,
  the last three cut;
* ``plain_top_mm``: the highest of those steps' tops over the standing height (a walking step's
  top is at standing by construction, up to its step-to-step variation);
* ``end_mm``: the height 1 s after the last step's end (or the stand's end, if sooner) minus the
  standing height;
* ``Fmin`` / ``Fmax``: the total vertical GRF's lowest / highest value (BW) over the last step and
  the first second of standing; ``Fmean``: its mean over the same window (the body comes to rest
  near where it started it, so about 1 BW: it is carried);
* ``tail``: the last contact's own force at the last step's end (BW), the push still to come then.

Cases: walks with stops (``walk_pauses`` and ``walk_hesitations_per_min``) at 0.45, 0.8 and
1.1 m/s built like ``sim_accuracy.walking_scenario`` (noise off, no U-turns: only the stops
matter), the default session (run, walk, stand) and a run that stops without walking
(``walk_end_s`` 0), also from standing (``walk_start_s`` 0). Summaries per case: min / median /
max over the stops of every seed.
Measures the simulator only; nothing here is chosen on the pipeline.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from imuback.simulate.gait import Gait
from imuback.simulate.kinematics import contact_vertical, evaluate
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import session_gait

FS_HZ = 1000.0
QUIET = dict(noise=False, gaps_per_hour=0.0, mounting="identity", misalignment_deg=0.0,
             misalignment_exact=True, sample_rate_hz=100.0)


def _walk(v: float) -> RunnerParams:
    """A walk with stops at ``v`` m/s, the speed-dependent knobs of ``sim_accuracy.walking_scenario``."""
    frac = v / 1.35
    slow = float(np.clip((0.8 - v) / 0.35, 0.0, 1.0))
    healthy_spm = 80.0 + 32.0 * (v - 0.45) / 0.9
    return RunnerParams(
        run_minutes=0.0, stand_start_s=5.0, stand_end_s=5.0, walk_start_s=80.0, walk_end_s=40.0,
        walk_speed_mps=v, walk_cadence_spm=healthy_spm + (100.0 - healthy_spm) * slow,
        walk_duty_factor=0.68 - 0.06 * frac, walk_shape_q=0.35 * frac, walk_ap_peak_bw=0.2 * frac,
        walk_step_time_cv=0.03 + 0.045 * slow, walk_hesitations_per_min=2.0 * slow + 1.0,
        walk_shuffle_share=0.1 * slow, walk_pauses=2, pause_s=3.0, walk_transient_pct=15.0,
        walk_force_follows_speed=True, walk_wobble_g=0.08, **QUIET)  # type: ignore[arg-type]


CASES: dict[str, RunnerParams] = {
    "walk 0.45 m/s": _walk(0.45),
    "walk 0.8 m/s": _walk(0.8),
    "walk 1.1 m/s": _walk(1.1),
    "default session (run, walk, stand)": RunnerParams(run_minutes=1.0, **QUIET),  # type: ignore[arg-type]
    "run -> stop (walk_end_s 0)": RunnerParams(run_minutes=1.0, walk_end_s=0.0, **QUIET),  # type: ignore[arg-type]
    "stand -> run -> stop (walks 0)": RunnerParams(run_minutes=1.0, walk_start_s=0.0, walk_end_s=0.0,
                                                   **QUIET),  # type: ignore[arg-type]
}
COLUMNS = ("pre_mm", "post_mm", "low_mm", "plain_mm", "plain_top_mm", "end_mm", "Fmin", "Fmax", "Fmean", "tail")


def stop_rows(p: RunnerParams, seed: int) -> list[dict[str, float]]:
    """One row per stop of one session (the columns of the module docstring, plus ``t_s``)."""
    g, seg_log, _, _ = session_gait(p, np.random.default_rng(seed))
    st = g.st
    t0 = np.arange(1.5, 2.5, 1.0 / FS_HZ)
    z0 = float(np.mean(evaluate(g, t0, positions=True, horizontal=False)["z"]))
    rows = []
    stand_ends = [s["end_s"] for s in seg_log if s["kind"] == "stand"]
    for k in np.flatnonzero(st.last):
        b = np.flatnonzero(st.bout == st.bout[k])
        k0 = max(int(b[0]), k - 1)
        t_end = float(st.s[k] + st.T[k])
        t_stop = min([e for e in stand_ends if e > t_end] or [t_end + 1.0])
        t_after = min(t_end + 1.0, t_stop)
        t = np.arange(st.s[k0], t_after, 1.0 / FS_HZ)
        ev = evaluate(g, t, positions=True, horizontal=False)
        z, f = ev["z"], ev["F"]
        pre = t <= t_end
        win = t >= st.s[k]
        plain = b[:-3]
        if plain.size >= 2:
            tp = np.arange(st.s[plain[0]], st.s[plain[-1]], 1.0 / FS_HZ)
            zp = evaluate(g, tp, positions=True, horizontal=False)["z"]
            cut = np.searchsorted(tp, st.s[plain[:-1]])
            tops = np.maximum.reduceat(zp, cut)
            rng_mm = 1000.0 * float(np.median(tops - np.minimum.reduceat(zp, cut)))
            top_mm = 1000.0 * (float(np.max(tops)) - z0)
        else:
            rng_mm = top_mm = float("nan")
        rows.append({"t_s": t_end, "run": float(st.run[k]),
                     "pre_mm": 1000.0 * (float(np.max(z[pre])) - z0),
                     "post_mm": 1000.0 * (float(np.max(z[~pre])) - z0),
                     "low_mm": 1000.0 * (float(np.min(z[~pre])) - z0),
                     "plain_mm": rng_mm, "plain_top_mm": top_mm,
                     "end_mm": 1000.0 * (float(z[-1]) - z0),
                     "Fmin": float(np.min(f[win])), "Fmax": float(np.max(f[win])),
                     "Fmean": float(np.mean(f[win])),
                     "tail": _own_force(g, int(k), t_end)})
    return rows


def _own_force(g: Gait, k: int, t: float) -> float:
    """Contact ``k``'s own force (hump + impact, BW) at time ``t``."""
    return float(contact_vertical(g, np.array([k]), np.array([t]), 0, own_only=True)[0][0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--per-stop", action="store_true", help="print every stop, not only the summary")
    args = ap.parse_args(argv)
    print("case                                 | stops | " + " | ".join(f"{c:>20s}" for c in COLUMNS))
    print("(each cell: min / median / max over the stops)")
    for name, p in CASES.items():
        rows = [r | {"seed": float(s)} for s in args.seeds for r in stop_rows(p, s)]
        if args.per_stop:
            for r in rows:
                print(f"  seed {r['seed']:.0f} t {r['t_s']:7.2f} s" + ("  run" if r["run"] else " walk")
                      + "".join(f" {c} {r[c]:7.2f}" for c in COLUMNS))
        cells = []
        for c in COLUMNS:
            v = np.array([r[c] for r in rows])
            cells.append(f"{np.nanmin(v):6.2f} /{np.nanmedian(v):6.2f} /{np.nanmax(v):6.2f}")
        print(f"{name:36s} | {len(rows):5d} | " + " | ".join(f"{c:>20s}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
