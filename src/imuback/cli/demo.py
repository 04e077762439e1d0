"""``imuback demo``: the whole product on a simulated sensor, no hardware and no server.

1. simulate a runner's last weeks of sessions (with fatigue drift and a developing asymmetry),
2. record today's run from a simulated sensor over a BLE virtual link (bumble) with the real
   collector (bleak API), exactly as a runner would with a real sensor,
3. process every session into a Parquet dataset,
4. print today's summary and write the session and trends reports for a physical therapist.

``imuback demo --phone`` instead simulates a run with a phone in a loose running belt (any
orientation, bouncing, re-seated now and then), exports it as the Sensor Logger app would (a zip),
and processes that export end to end: the path of a runner who owns only a phone.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import shutil
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imuback.cli import paths
from imuback.cli.numbers import positive_float
from imuback.errors import DemoError
from imuback.pipeline import process_file
from imuback.report.metrics import duration_text, rate_text

if TYPE_CHECKING:
    from imuback.simulate.runner import RunnerParams, SimulatedSession
    from imuback.simulate.study import PlannedSession

RUNNER_ID = "demo-runner"


def _fmt(value: Any, spec: str, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:{spec}}{unit}"


def format_summary(s: Mapping[str, Any]) -> str:
    """A runner-readable summary of one processed session from its ``sessions`` row ``s``."""
    from imuback.report.analysis import drift_reading, placement_text, running_s

    run_s = running_s(s)
    lines = [
        f"Session {s['session_id']} ({s['sensor']}, {rate_text(s['sample_rate_hz'])}): "
        f"{duration_text(s['duration_s'])} recorded, {_fmt(s['completeness_pct'], '.1f')} % of samples",
        f"  placement       {placement_text(dict(s))}",
        f"  steps           {s['n_run_steps']} running, {s['n_walk_steps']} walking "
        f"({duration_text(run_s) + ' running' if run_s > 0 else 'no running'})",
        f"  cadence         {_fmt(s['median_cadence_spm'], '.0f')} steps/min",
        f"  contact time    {_fmt(1e3 * (s['median_contact_time_s'] or math.nan), '.0f')} ms "
        f"(L {_fmt(1e3 * (s['left_contact_time_s'] or math.nan), '.0f')} / "
        f"R {_fmt(1e3 * (s['right_contact_time_s'] or math.nan), '.0f')} ms, "
        f"asymmetry {_fmt(s['asymmetry_contact_time_pct'], '+.1f')} %)",
        f"  flight time     {_fmt(1e3 * (s['median_flight_time_s'] or math.nan), '.0f')} ms",
        f"  impact          {_fmt(s['median_impact_peak_g'], '.2f')} g peak at the sacrum just after landing "
        f"(L {_fmt(s['left_impact_peak_g'], '.2f')} / R {_fmt(s['right_impact_peak_g'], '.2f')} g, "
        f"asymmetry {_fmt(s['asymmetry_impact_peak_pct'], '+.1f')} %)",
        f"  peak force      {_fmt(s['median_grf_peak_bw'], '.2f')} BW estimated mid-stance peak "
        f"(L {_fmt(s['left_grf_peak_bw'], '.2f')} / R {_fmt(s['right_grf_peak_bw'], '.2f')} BW, "
        f"asymmetry {_fmt(s['asymmetry_grf_peak_pct'], '+.1f')} %)",
        f"  vertical osc.   {_fmt(s['median_vertical_oscillation_cm'], '.1f')} cm",
        f"  pelvis          rotation {_fmt(s['median_pelvis_rotation_deg'], '.1f')}°, obliquity "
        f"{_fmt(s['median_pelvis_obliquity_deg'], '.1f')}°, tilt {_fmt(s['median_pelvis_tilt_deg'], '.1f')}° (ranges)",
        f"  braking         {_fmt(s['median_braking_peak_g'], '.2f')} g peak deceleration, "
        f"{_fmt(s['median_braking_impulse_mps'], '.2f')} m/s of speed lost per step",
        f"  pelvic drop     swing side in left stance {_fmt(s['left_pelvic_drop_deg'], '.1f')}°, "
        f"in right stance {_fmt(s['right_pelvic_drop_deg'], '.1f')}°",
        f"  side-to-side    {_fmt(s['median_ml_excursion_cm'], '.1f')} cm excursion, "
        f"{_fmt(s['median_ml_acc_rms_g'], '.2f')} g RMS",
        f"  regularity      step {_fmt(s['step_regularity'], '.2f')}, stride {_fmt(s['stride_regularity'], '.2f')}",
        _speed_line(s),
        "  drift over the run (late vs early running; counted when beyond the run's own noise):",
    ]
    for key, label in (("contact_time_s", "contact time"), ("impact_peak_g", "impact"),
                       ("pelvis_obliquity_deg", "obliquity"), ("pelvis_rotation_deg", "rotation"),
                       ("ml_excursion_cm", "side-to-side")):
        d = drift_reading(dict(s), key)
        if d.pct is None:
            lines.append(f"    {label:<14}      n/a   ({d.reason})")
            continue
        noise = "" if d.ci95_pct is None else f" ± {d.ci95_pct:.1f} %"
        lines.append(f"    {label:<14}{d.pct:>+8.1f} %{noise:<9} {d.word}")
    if s["status_reason"]:
        lines.append(f"  note: {s['status_reason']}")
    return "\n".join(lines)


def _speed_line(s: Mapping[str, Any]) -> str:
    """Pace and lengths with their source, or why there are none."""
    from imuback.report.metrics import pace_text, speed_source_text

    if s.get("speed_source") not in ("gps", "treadmill"):
        return "  pace, length    n/a   (no speed source: needs GPS from a phone export, or --speed-mps on a treadmill)"
    step, stride = _fmt(s.get("median_step_length_m"), ".2f"), _fmt(s.get("median_stride_length_m"), ".2f")
    ratio = _fmt(s.get("median_vertical_ratio_pct"), ".1f")
    return (f"  pace, length    {pace_text(s.get('median_pace_s_per_km'))}, step {step} m, stride {stride} m, "
            f"vertical ratio {ratio} % (speed from {speed_source_text(s)})")


DEMO_PARTS = ("raw", "recorded", "dataset", "truth-of-today", "report_session.html",
              "report_trends.html", "phone")
"""What the demo writes into its folder (cleared before a rerun, once checked to hold only the demo's files)."""


DEMO_DATASET_PARTS = frozenset({"sessions", "steps", "strides", ".staging", ".imuback.lock", ".imuback.locks"})
"""What the demo writes into its dataset; notes (a pain log), uploads or errors are someone's own."""

OS_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""What a file browser leaves in a folder it showed (macOS Finder, Windows Explorer): never a reason to
refuse a folder, never deleted on their own (only with a folder that is otherwise the demo's)."""

_SID = rf"(?:{re.escape(RUNNER_ID)}-(?:\d{{8}}-\d{{2}}|today)|phone-truth)"
_DEMO_FILE = re.compile(
    # a simulated session (write_simulated: the raw file, an unfinished one's temp file, its truth)
    rf"(?:raw|truth-of-today)/(?:{_SID}\.parquet|\.{_SID}\.parquet\.tmp"
    rf"|truth/{_SID}\.(?:json|steps\.parquet|strides\.parquet))"
    # today's recording over the simulated link (the collector's journal while it records)
    rf"|recorded/(?:{_SID}\.parquet|\.{_SID}\.parquet\.tmp|{_SID}\.journal(?:\.corrupt)?)"
    r"|phone/phone-run\.zip")
"""The files the demo writes under raw/, recorded/, truth-of-today/ and phone/ (relative, '/'-separated)."""
_DEMO_SUBDIRS = frozenset({"raw/truth", "truth-of-today/truth"})


def _not_the_demos_files(out_dir: Path) -> list[str]:
    """What raw/, recorded/, truth-of-today/ and phone/ hold that no demo wrote (as relative names)."""
    found = []
    for part in ("raw", "recorded", "truth-of-today", "phone"):
        if not (out_dir / part).is_dir():
            continue
        for p in sorted((out_dir / part).rglob("*")):
            rel = p.relative_to(out_dir).as_posix()
            if p.name in OS_FILES or (rel in _DEMO_SUBDIRS if p.is_dir() else _DEMO_FILE.fullmatch(rel)):
                continue
            found.append(rel)
    return found


def _not_the_demos(dataset: Path) -> list[str]:
    """What the demo's dataset holds that no demo wrote: a pain log or uploads made in it with
    ``imuback note`` or the clinic page, another runner's sessions (as ``dataset/...`` names).
    """
    if not dataset.is_dir():
        return []
    found = [f"dataset/{p.name}" for p in sorted(dataset.iterdir())
             if p.name not in DEMO_DATASET_PARTS | OS_FILES]
    for table in ("sessions", "steps", "strides"):
        if (dataset / table).is_dir():
            found += [f"dataset/{table}/{p.name}" for p in sorted((dataset / table).iterdir())
                      if p.name != f"runner={RUNNER_ID}" and p.name not in OS_FILES]
    return found


def _prepare_out_dir(out_dir: Path) -> None:
    """Make ``out_dir`` ready for a run: clear what an earlier demo wrote there, touch nothing else.

    A folder that holds anything else is refused rather than mixed with the demo's files: at its
    top, in the folders the demo writes (a file of one's own put into ``raw/``), and in a demo
    dataset that someone has since used (notes, uploads, other runners' sessions). A file
    browser's own files (:data:`OS_FILES`) are neither refused nor deleted on their own.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"{out_dir} is a file; choose a folder with --out")
    other = (sorted(p.name for p in out_dir.iterdir() if p.name not in (*DEMO_PARTS, *OS_FILES))
             if out_dir.is_dir() else [])
    other += _not_the_demos_files(out_dir) + _not_the_demos(out_dir / "dataset")
    if other:
        raise DemoError(f"{out_dir} holds files that imuback demo did not make ({', '.join(other[:3])}"
                        f"{' ...' if len(other) > 3 else ''}); choose an empty or new folder with --out")
    for name in DEMO_PARTS:
        part = out_dir / name
        if part.is_dir():
            shutil.rmtree(part)
        elif part.exists():
            part.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def demo_plan(*, now: datetime, weeks: int, sessions_per_week: int, history_minutes: float, minutes: float,
              seed: int) -> tuple[list[PlannedSession], PlannedSession]:
    """The demo's history (``weeks`` whole weeks before the week of ``now``) and today's run at ``now``.

    One story (:func:`imuback.simulate.study.plan_study`): today is the next session of the plan,
    this week's first. The history is the same simulated sensor as today's recording, under one name.
    """
    from imuback.simulate.runner import RunnerParams
    from imuback.simulate.study import plan_study
    from imuback.simulated_recording import simulated_label

    monday = (now - timedelta(days=now.weekday(), weeks=weeks)).replace(hour=7, minute=0, second=0,
                                                                         microsecond=0)
    # the runner clips the sensor on much the same way
    worn = RunnerParams(misalignment_deg=10.0, sensor=simulated_label("imuback"))
    plan = plan_study(runner_id=RUNNER_ID, weeks=weeks + 1, sessions_per_week=sessions_per_week,
                      minutes=history_minutes, seed=seed, params=worn, start=monday)
    n_history = weeks * sessions_per_week
    nxt = plan[n_history]
    today = dataclasses.replace(nxt, session_id=f"{RUNNER_ID}-today", start_time=now,
                                params=dataclasses.replace(nxt.params, run_minutes=minutes))
    return plan[:n_history], today


def run_demo(*, out_dir: Path, minutes: float = 12.0, seed: int = 7, weeks: int = 6,
             speedup: float = 60.0, sessions_per_week: int = 2, history_minutes: float = 10.0) -> int:
    """Run the demo into ``out_dir`` (cleared first if an earlier demo made it); return an exit code.

    The history and today's run are one story (:func:`imuback.simulate.study.plan_study`): today
    is the next session of the plan, recorded over the simulated BLE link. History runs last
    ``history_minutes`` of running, enough for within-run drift (at least 8 minutes).
    """
    from imuback.report import write_session_report, write_trends_report
    from imuback.simulate.peripheral import NO_FAULTS
    from imuback.simulate.runner import write_simulated
    from imuback.simulate.study import simulate_planned
    from imuback.simulated_recording import record_simulated

    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir)
    raw_dir, rec_dir, dataset = out_dir / "raw", out_dir / "recorded", out_dir / "dataset"
    t0 = time.perf_counter()
    print(f"imuback demo -> {out_dir.resolve()}")
    print(f"1/4 simulating {weeks} weeks of history ({sessions_per_week} runs a week) ...", flush=True)
    # the recorder stamps today's run with the host clock: the plan's history ends last week and
    # its next session, this week's first, is today's run
    history, today_plan = demo_plan(now=datetime.now(UTC), weeks=weeks, sessions_per_week=sessions_per_week,
                                    history_minutes=history_minutes, minutes=minutes, seed=seed)
    paths = [write_simulated(simulate_planned(ps, runner_id=RUNNER_ID), raw_dir) for ps in history]
    today = simulate_planned(today_plan, runner_id=RUNNER_ID)
    write_simulated(today, out_dir / "truth-of-today")
    print(f"2/4 recording today's run ({duration_text(today.raw.n_samples / today.raw.sample_rate_hz)} at "
          f"{today.raw.sample_rate_hz:g} Hz) from a simulated sensor over a BLE virtual link, "
          f"sped up to {speedup:g}x real time ...", flush=True)

    def status(line: str) -> None:
        if sys.stdout.isatty():
            print(f"\r    {line}", end="", flush=True)

    # the sensor's backlog holds the whole run: sped up 60-100x, a host that falls 0.6 s behind (a
    # loaded machine) is a minute of sensor time, which a real sensor's buffer (NO_FAULTS: 60 s) would
    # overwrite; that loss would be the simulation's own, not the link's, so here load only slows
    run_s = today.raw.n_samples / today.raw.sample_rate_hz
    whole_run = dataclasses.replace(NO_FAULTS, buffer_s=max(NO_FAULTS.buffer_s, 2.0 * run_s))
    t_rec = time.perf_counter()
    recorded = record_simulated(today.raw, rec_dir, speedup=speedup, status=status, faults=whole_run)
    wall_s = time.perf_counter() - t_rec
    if sys.stdout.isatty():
        print()
    # both BLE stacks run in this one Python process: on a slow machine they, not the sensor's
    # clock, set the pace, and the sensor's own stack queues what waits
    print(f"    recorded {recorded} in {wall_s:.1f} s ({run_s / wall_s:.0f}x real time)")
    print("3/4 processing every session into the Parquet dataset ...", flush=True)
    # the demo owns its dataset: a second demo into the same folder replaces today's run (recorded
    # anew, so other bytes under the same ids), which a user's dataset would refuse without --replace
    for p in paths:
        process_file(p, dataset=dataset, replace=True)
    res = process_file(recorded, dataset=dataset, replace=True)
    print()
    print(format_summary(res.summary))
    print()
    print("4/4 writing reports ...", flush=True)
    session_html = write_session_report(dataset, res.session_id, out_dir / "report_session.html")
    trends_html = write_trends_report(dataset, RUNNER_ID, out_dir / "report_trends.html", weeks=weeks + 1)
    print(f"    session report: {session_html}")
    print(f"    trends report:  {trends_html}")
    print(f"    dataset:        {dataset}  (DuckDB: SELECT * FROM read_parquet('{dataset}/steps/**/*.parquet', "
          "hive_partitioning=true, union_by_name=true))")
    print(f"done in {time.perf_counter() - t0:.1f} s. imuback informs; it never diagnoses.")
    return 0


def phone_params(minutes: float) -> RunnerParams:
    """A phone in a loose running belt (benchmarks/sim_accuracy.py's phone scenario): any orientation,
    a 9 Hz bounce, re-seated about twice in 10 minutes, 100 Hz with 2 ms timestamp jitter.
    """
    from imuback.simulate.runner import RunnerParams

    return RunnerParams(run_minutes=minutes, walk_breaks=1, sample_rate_hz=100.0, timestamp_jitter_us=2000.0,
                        gaps_per_hour=0.0, mounting_random=True, belt_bounce_hz=9.0, belt_shifts_per_10min=2.0)


def run_phone_demo(*, out_dir: Path, minutes: float = 12.0, seed: int = 7) -> int:
    """Simulate a run with a phone in a loose belt, export it as a Sensor Logger zip, process that
    export into ``out_dir/dataset`` and write the session report; return an exit code.
    """
    from imuback.formats.sensorlogger import write_sensorlogger
    from imuback.report import write_session_report
    from imuback.report.metrics import pace_text
    from imuback.simulate.gps import simulated_gps
    from imuback.simulate.runner import simulate_session, write_simulated

    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir)
    t0 = time.perf_counter()
    print(f"imuback demo --phone -> {out_dir.resolve()}")
    print(f"1/3 simulating a {minutes:g}-minute run with a phone in a loose running belt (any orientation, "
          "bouncing, re-seated now and then) ...", flush=True)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sim = simulate_session(phone_params(minutes), seed=seed, session_id="phone-truth", runner_id=RUNNER_ID,
                           start_time=start)
    write_simulated(sim, out_dir / "truth-of-today")
    gps = simulated_gps(sim, seed=seed)
    export = write_sensorlogger(sim.raw, out_dir / "phone" / "phone-run.zip", platform="ios", location=gps)
    print(f"    exported as the Sensor Logger app does (iOS zip): {export}")
    print(f"    with the phone's GPS (Location.csv): {gps.time_ns.size} fixes, one a second, speed off by "
          f"{gps.speed_accuracy_mps[0]:.2f} m/s (SD) as a phone's is")
    print("2/3 processing the phone export ...", flush=True)
    res = process_file(export, dataset=out_dir / "dataset", replace=True, csv_meta={"runner_id": RUNNER_ID})
    s = res.summary
    print()
    print(format_summary(s))
    truth = sim.truth_steps.to_pydict()
    n_run = sum(1 for a, lost in zip(truth["activity"], truth["lost_in_gap"], strict=True) if a == "run" and not lost)
    print(f"  simulated truth {n_run} running steps at a median {true_run_speed_mps(sim):.2f} m/s "
          f"({pace_text(1000.0 / true_run_speed_mps(sim))})")
    print()
    print("3/3 writing the session report ...", flush=True)
    html = write_session_report(out_dir / "dataset", res.session_id, out_dir / "report_session.html")
    print(f"    session report: {html}")
    print(f"done in {time.perf_counter() - t0:.1f} s. imuback informs; it never diagnoses.")
    return 0


def true_run_speed_mps(sim: SimulatedSession) -> float:
    """Median true speed (m/s) of the simulated running steps (at each step's middle)."""
    import numpy as np

    st = sim.truth_steps.to_pandas()
    run = st[(st["activity"] == "run") & ~st["lost_in_gap"]]
    mid_s = (run["ic_time"].astype("int64") - int(sim.truth["start_time_ns"])) / 1e9 + run["step_time_s"] / 2
    return float(np.median(sim.true_speed_mps(np.sort(mid_s.to_numpy(dtype=np.float64)))))


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.phone:
        return run_phone_demo(out_dir=Path(args.out), minutes=args.minutes, seed=args.seed)
    return run_demo(out_dir=Path(args.out), minutes=args.minutes, seed=args.seed,
                    weeks=args.weeks, speedup=args.speedup)


def register(subparsers: Any) -> None:
    """Add ``demo`` to the ``imuback`` command."""
    p = subparsers.add_parser("demo", help="simulate a runner, record over a simulated BLE link, process, report",
                              description="Run the whole product on a simulated sensor: no hardware needed.")
    p.add_argument("--out", default="imuback-demo", type=paths.out_folder, help="output folder (default: imuback-demo)")
    p.add_argument("--minutes", type=float, default=12.0, help="minutes of running in the recorded run (default 12)")
    p.add_argument("--weeks", type=int, default=6, help="weeks of history for the trends report")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--speedup", type=positive_float, default=60.0,
                   help="how much faster than real time the simulated sensor streams (default 60)")
    p.add_argument("--phone", action="store_true",
                   help="instead: a run with a phone in a loose running belt, exported as the Sensor Logger "
                        "app does (zip), processed end to end")
    p.set_defaults(func=_cmd_demo)

