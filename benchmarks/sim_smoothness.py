"""How smooth the simulated signals are where gait starts, stops and changes, against steady walking.

    python benchmarks/sim_smoothness.py

Noise-free sessions at 1 kHz, sensor frame = body frame. Roughness of a sample: how far it lies from
the mean of its two neighbours (max over the three axes; g for the specific force, deg/s for the
angular rate). Printed per session: the largest roughness in steady walking (more than 1.5 s from
any change of segment), from 0.5 s before to 0.5 s after each bout's start and each walk<->run
change inside a bout (there the specific force on the walking side only: running has its impacts),
and from 1.2 s before to 0.5 s after each bout's end (its last steps). The sessions of
``tests/simulate/test_walk_start.py`` and a realistic 0.45 m/s walk of
``sim_accuracy.walking_scenario``. Run it with main's ``src`` on ``PYTHONPATH`` for "before".
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from imuback.core import G_MPS2
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sim_accuracy import walking_scenario

STOP_START = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=30.0, walk_end_s=0.0,
                          walk_pauses=1, pause_s=3.0, walk_transient_pct=15.0)
SESSIONS = {
    "stop-start walk (seed 4)": (STOP_START, 4),
    "walk-run-walk (seed 4)": (replace(STOP_START, walk_pauses=0, walk_transient_pct=0.0, run_minutes=0.5,
                                       walk_end_s=20.0), 4),
    "realistic walk at 0.45 m/s (seed 300)": (walking_scenario(0), 300),
}


def roughness(params: RunnerParams, seed: int) -> list[str]:
    """One line per place: steady walking, then every bout start/end and walk<->run change."""
    p = replace(params, sample_rate_hz=1000.0, noise=False, misalignment_deg=0.0, misalignment_exact=True,
                mounting="identity", gaps_per_hour=0.0, mounting_random=False)
    sim = simulate_session(p, seed=seed, session_id="smooth", runner_id="sim", start_time=0, keep_signals=True)
    assert sim.signals is not None
    t = sim.signals.t_s[1:-1]
    a = sim.signals.acc_sensor_mps2 / G_MPS2
    w = sim.signals.gyr_sensor_dps
    acc = np.abs(a[1:-1] - (a[:-2] + a[2:]) / 2.0).max(axis=1)
    gyr = np.abs(w[1:-1] - (w[:-2] + w[2:]) / 2.0).max(axis=1)
    segs = sim.truth["segments"]
    steady = np.zeros(t.size, dtype=bool)
    for s in segs:
        if s["kind"] == "walk":
            steady |= (t > s["start_s"] + 1.5) & (t < s["end_s"] - 1.5)
    out = [f"  steady walking           acc {acc[steady].max():.4f} g   gyr {gyr[steady].max():6.3f} deg/s"]
    for prev, s in zip([{"kind": "stand"}, *segs[:-1]], segs, strict=True):
        if prev["kind"] == s["kind"]:
            continue
        x = s["start_s"]
        what = {("stand", "walk"): "walk starts", ("walk", "stand"): "walk ends", ("walk", "run"): "walk -> run",
                ("run", "walk"): "run -> walk", ("stand", "run"): "run starts", ("run", "stand"): "run ends"}
        near = (t > x - (1.2 if s["kind"] == "stand" else 0.5)) & (t < x + 0.5)
        side = near  # the specific force on the walking side only (running has its impacts)
        if {prev["kind"], s["kind"]} == {"walk", "run"}:
            side = near & ((t > x) if s["kind"] == "walk" else (t < x))
        out.append(f"  {what[(prev['kind'], s['kind'])]:11s} at {x:7.2f} s  acc {acc[side].max():.4f} g   "
                   f"gyr {gyr[near].max():6.3f} deg/s")
    return out


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    for name, (p, seed) in SESSIONS.items():
        print(f"## {name}: largest roughness (a 1 kHz sample's distance from its neighbours' mean)")
        print("\n".join(roughness(p, seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
