"""Step and stride length, pace and vertical ratio with a known speed: simulated and real running.

    python benchmarks/speed_lengths.py [--data ../shared/data] [--seeds 3]

1. Simulated runners at a constant known speed (no pace changes), processed with that speed given
   as a treadmill speed: session median step length, stride length and vertical ratio against the
   simulator's truth (speed x true step/stride time; true vertical oscillation / true step length).
   The simulated gait does not depend on its speed setting (cadence and contacts have their own),
   so the three speeds give the same % errors: the check is of step timing and the arithmetic.
2. A simulated phone in a loose belt with its simulated GPS (``imuback demo --phone``'s scenario,
   12 minutes with its pace changes; GPS speed error SD 0.25 m/s correlated over 3 s,
   src/imuback/simulate/gps.py), exported as Sensor Logger and read back: session pace and
   median stride length against the truth (median true speed of the running steps; that speed
   x the true stride time). The GPS noise is simulated, so this checks the path from Location.csv
   to pace, not a real phone's GPS.
3. Real running (Alcantara 2022 force-treadmill trials, if present): each trial processed with its
   belt speed; every step matched to a force-plate contact (60 ms) has its step length compared
   with the belt speed x the force plate's step time (this IC to the next). Nothing is chosen on
   these data (no parameter): every trial is reported. No vertical-oscillation reference exists
   there, so the vertical ratio is checked on simulation only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

from imuback.pipeline import process_raw
from imuback.simulate.runner import RunnerParams, simulate_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import match
from real_running import DEFAULT_DATA, _seconds, load_trials

SPEEDS_MPS = (2.5, 3.2, 4.0)


def simulated(seeds: int) -> list[str]:
    """One line per speed and seed: % error of the session medians against the truth."""
    lines = [f"{'speed':>8}{'seed':>6}{'step length':>14}{'stride length':>15}{'vertical ratio':>16}"]
    errs: list[tuple[float, float, float]] = []
    for v in SPEEDS_MPS:
        for seed in range(1, seeds + 1):
            p = RunnerParams(run_minutes=4.0, speed_mps=v, speed_changes=0, walk_breaks=0)
            sim = simulate_session(p, seed=seed, session_id=f"v{v}-{seed}", runner_id="sim",
                                   start_time=dt.datetime(2024, 3, 4, 7, tzinfo=dt.UTC))
            s = process_raw(sim.raw, treadmill_speed_mps=v).summary
            steps, strides = sim.truth_steps.to_pandas(), sim.truth_strides.to_pandas()
            run = steps[steps["activity"] == "run"]
            true_step = v * run["step_time_s"]
            truth = (float(true_step.median()),
                     float(v * strides.loc[strides["activity"] == "run", "stride_time_s"].median()),
                     float((run["vertical_oscillation_cm"] / true_step).median()))
            got = (s["median_step_length_m"], s["median_stride_length_m"], s["median_vertical_ratio_pct"])
            e = tuple(100.0 * (g - t) / t for g, t in zip(got, truth, strict=True))
            errs.append(e)  # type: ignore[arg-type]
            lines.append(f"{v:>6.1f} m/s{seed:>4}{e[0]:>+13.2f} %{e[1]:>+14.2f} %{e[2]:>+15.2f} %")
    worst = np.max(np.abs(np.asarray(errs)), axis=0)
    lines.append(f"worst |error|: step length {worst[0]:.2f} %, stride length {worst[1]:.2f} %, "
                 f"vertical ratio {worst[2]:.2f} %")
    return lines


def phone_gps(seeds: int) -> list[str]:
    """One line per seed: pace and stride length of a simulated phone export with GPS against the truth."""
    import tempfile

    from imuback.cli.demo import phone_params, true_run_speed_mps
    from imuback.formats.sensorlogger import write_sensorlogger
    from imuback.pipeline import process_file
    from imuback.simulate.gps import simulated_gps

    lines = [f"{'seed':>4}{'true pace':>11}{'GPS pace':>10}{'error':>9}{'true stride':>13}{'stride':>8}{'error':>9}"]
    errs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, seeds + 1):
            sim = simulate_session(phone_params(12.0), seed=seed, session_id=f"phone{seed}", runner_id="sim",
                                   start_time=dt.datetime(2024, 3, 4, 7, tzinfo=dt.UTC))
            z = write_sensorlogger(sim.raw, Path(tmp) / f"p{seed}.zip", location=simulated_gps(sim, seed=seed))
            s = process_file(z, csv_meta={"runner_id": "sim"}).summary
            v = true_run_speed_mps(sim)
            st = sim.truth_strides.to_pandas()
            true_stride = float(np.median(v * st.loc[st["activity"] == "run", "stride_time_s"]))
            e_pace = 100.0 * (s["median_pace_s_per_km"] / (1000.0 / v) - 1.0)
            e_stride = 100.0 * (s["median_stride_length_m"] / true_stride - 1.0)
            errs.append((e_pace, e_stride))
            lines.append(f"{seed:>4}{1000.0 / v:>9.1f} s{s['median_pace_s_per_km']:>8.1f} s{e_pace:>+8.1f} %"
                         f"{true_stride:>11.2f} m{s['median_stride_length_m']:>6.2f} m{e_stride:>+8.1f} %")
    worst = np.max(np.abs(np.asarray(errs)), axis=0)
    lines.append(f"worst |error|: pace {worst[0]:.1f} %, stride length {worst[1]:.1f} % (pace in s per km)")
    return lines


def real(root: Path) -> list[str]:
    """Per belt speed: matched steps, step length error (bias ± SD) against belt speed x force-plate step time."""
    trials = load_trials(root)
    by_speed: dict[float, list[float]] = {}
    ref_len: dict[float, list[float]] = {}
    for t in trials:
        steps = process_raw(t.raw, treadmill_speed_mps=t.speed_mps).steps
        ic = _seconds(steps.column("ic_time"))
        length = np.asarray(steps.column("step_length_m").to_numpy(zero_copy_only=False), dtype=np.float64)
        ei, ri = match(ic, t.ref_ic_s, 0.06)
        nxt = np.searchsorted(t.all_ref_ic_s, t.ref_ic_s[ri] + 1e-6)  # the force plate's next contact
        ok = (nxt < t.all_ref_ic_s.size) & np.isfinite(length[ei])
        ref = t.speed_mps * (t.all_ref_ic_s[nxt[ok]] - t.ref_ic_s[ri][ok])
        by_speed.setdefault(t.speed_mps, []).extend(length[ei][ok] - ref)
        ref_len.setdefault(t.speed_mps, []).extend(ref)
    lines = [f"{'belt speed':>10}{'steps':>7}{'step length':>13}{'error (bias ± SD)':>22}{'in %':>18}"]
    all_e: list[float] = []
    all_r: list[float] = []
    for v in sorted(by_speed):
        e, r = np.asarray(by_speed[v]), np.asarray(ref_len[v])
        all_e += list(e)
        all_r += list(r)
        lines.append(f"{v:>6.2f} m/s{e.size:>7}{np.median(r):>11.2f} m{100 * e.mean():>+11.1f} ± {100 * e.std():.1f} cm"
                     f"{100 * np.mean(e / r):>+9.1f} ± {100 * np.std(e / r):.1f} %")
    e, r = np.asarray(all_e), np.asarray(all_r)
    lines.append(f"{'all':>10}{e.size:>7}{np.median(r):>11.2f} m{100 * e.mean():>+11.1f} ± {100 * e.std():.1f} cm"
                 f"{100 * np.mean(e / r):>+9.1f} ± {100 * np.std(e / r):.1f} %")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--seeds", type=int, default=3, help="simulated runs per speed (default 3)")
    args = ap.parse_args(argv)
    print("simulated, constant speed given (4 min of running each):")
    print("\n".join(simulated(args.seeds)))
    print("\nsimulated phone in a loose belt, 12 min, speed from its simulated GPS (SD 0.25 m/s, 3 s):")
    print("\n".join(phone_gps(args.seeds)))
    root = args.data / "real" / "alcantara_treadmill"
    print("\nreal running, alcantara_treadmill, each trial's belt speed given (no parameter chosen on it):")
    if not root.exists():
        print(f"skipped ({root} not found)")
        return 0
    print("\n".join(real(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
