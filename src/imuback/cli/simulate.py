"""``imuback simulate``: write simulated raw sessions and their truth tables."""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path
from typing import Any

from imuback.cli import paths
from imuback.cli.numbers import positive_float, positive_int
from imuback.simulate.runner import NOMINAL_MOUNTINGS, RunnerParams, write_simulated
from imuback.simulate.study import simulate_study


def register(subparsers: Any) -> None:
    """Add the ``simulate`` subcommand to the ``imuback`` parser."""
    p = subparsers.add_parser(
        "simulate",
        help="write simulated runner sessions (raw Parquet + truth tables)",
        description=(
            "Simulate a runner wearing a 6-axis IMU at the sacrum: standing, walking and running "
            "with physically consistent accelerations and rotations (vertical momentum balance, "
            "soft-tissue ringing, pelvis rotation/obliquity/tilt, turns), a mounting misalignment, "
            "sensor noise, bias, clipping and radio gaps. Writes DIR/<session>.parquet (raw "
            "contract, sensor frame) and DIR/truth/<session>.{steps.parquet,strides.parquet,json}. "
            "Several sessions form a multi-week history (a few per week) whose last weeks show a "
            "developing right/left impact asymmetry. See docs/simulator.md."
        ),
    )
    p.add_argument("--out", required=True, type=paths.out_folder, help="output folder (created if missing)")
    p.add_argument("--sessions", type=positive_int, default=1, help="number of sessions")
    p.add_argument("--minutes", type=float, default=12.0,
                   help="minutes of running per session (plus a short stand and walk around it)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    p.add_argument("--runner", default="runner-01", help="runner id")
    p.add_argument("--per-week", type=positive_int, default=3, help="sessions per week")
    p.add_argument("--rate", type=positive_float, default=200.0, help="sample rate in Hz (25-3200)")
    p.add_argument("--mounting", choices=sorted(NOMINAL_MOUNTINGS), default="identity",
                   help="nominal sensor mounting written to the raw file's metadata")
    p.add_argument("--misalignment-deg", type=float, default=25.0,
                   help="largest random misalignment from the nominal mounting (deg)")
    p.add_argument("--misalignment-exact", action="store_true",
                   help="use exactly --misalignment-deg (random axis) instead of up to it")
    p.add_argument("--gaps", action=argparse.BooleanOptionalAction, default=True,
                   help="drop samples in simulated radio gaps (missing rows)")
    p.add_argument("--walk", action=argparse.BooleanOptionalAction, default=True,
                   help="walk before and after the run")
    p.add_argument("--noise", action=argparse.BooleanOptionalAction, default=True,
                   help="sensor noise, bias and quantisation")
    p.add_argument("--story", action=argparse.BooleanOptionalAction, default=True,
                   help="a developing right/left impact asymmetry over the last two weeks")
    p.add_argument("--foot-strike", choices=["rearfoot", "midfoot", "forefoot"], default="rearfoot",
                   help="foot-strike pattern (size of the impact transient)")
    p.add_argument("--cadence", type=positive_float, default=170.0, help="running cadence, steps/min")
    p.add_argument("--acc-range-g", type=positive_float, default=16.0, help="accelerometer range (+-g)")
    p.set_defaults(func=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    """Simulate and write the sessions; print one line per session."""
    base = RunnerParams()
    params = dataclasses.replace(
        base,
        sample_rate_hz=args.rate,
        mounting=args.mounting,
        misalignment_deg=args.misalignment_deg,
        misalignment_exact=args.misalignment_exact,
        gaps_per_hour=base.gaps_per_hour if args.gaps else 0.0,
        walk_start_s=base.walk_start_s if args.walk else 0.0,
        walk_end_s=base.walk_end_s if args.walk else 0.0,
        noise=args.noise,
        foot_strike=args.foot_strike,
        cadence_spm=args.cadence,
        acc_range_g=args.acc_range_g,
    )
    n = args.sessions
    weeks = math.ceil(n / args.per_week)
    sims = simulate_study(runner_id=args.runner, weeks=weeks, sessions_per_week=args.per_week,
                          minutes=args.minutes, seed=args.seed, params=params, story=args.story,
                          max_sessions=n)
    out = Path(args.out)
    for sim in sims:
        path = write_simulated(sim, out)
        t = sim.truth
        print(f"{path}: {sim.raw.n_samples} samples at {sim.raw.sample_rate_hz:g} Hz, "
              f"{t['n_steps']} steps, {t['n_strides']} strides, misalignment "
              f"{t['misalignment_deg']:.1f} deg, {len(t['gaps'])} gaps")
    print(f"truth tables in {out / 'truth'}")
    return 0
