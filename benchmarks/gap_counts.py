"""Gaps counted by the resampler (``sessions.n_gaps``, ``gap_total_s``) on real and simulated recordings.

    python benchmarks/gap_counts.py [--data ../shared/data]

A gap is samples actually missing; timestamp jitter around the period is none. Per real dataset:
trials, trials with gaps, the gaps and their missing time summed, and the samples missing by count
(time span x rate + 1 - samples present, summed: what ``completeness_pct`` says). Then simulated
sessions whose missing rows are known (``truth['gaps']``): a phone (100 Hz, 2 ms timestamp jitter)
without and with gaps, and a sensor without jitter with gaps.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
import real_walking
from imuback.core import RawSession
from imuback.signal.resample import to_grid


def _line(label: str, raws: Iterable[RawSession], true: list[tuple[int, float]] | None = None) -> None:
    n_tr = with_gaps = n_gaps = 0
    gap_s = by_count_s = 0.0
    for raw in raws:
        _, g = to_grid(raw.time_ns, raw.acc_mps2, raw.gyr_dps, fs_hz=raw.sample_rate_hz)
        n_tr += 1
        with_gaps += g.n_gaps > 0
        n_gaps += g.n_gaps
        gap_s += g.gap_total_s
        by_count_s += (g.duration_s * raw.sample_rate_hz + 1 - raw.n_samples) / raw.sample_rate_hz
    extra = ""
    if true is not None:
        extra = f" | true: {sum(k for k, _ in true)} gaps, {sum(s for _, s in true):.2f} s"
    print(f"{label:<34} {n_tr:>4} {with_gaps:>6} {n_gaps:>7} {gap_s:>10.2f} {by_count_s:>10.2f}{extra}")


def _simulated(kind: str, seeds: range) -> tuple[list[RawSession], list[tuple[int, float]]]:
    from imuback.cli.demo import phone_params
    from imuback.simulate.runner import simulate_session

    raws, true = [], []
    for seed in seeds:
        p = phone_params(6.0)
        if kind == "phone+gaps":
            p = dataclasses.replace(p, gaps_per_hour=60.0, gap_s=(0.05, 1.0))
        elif kind == "no jitter+gaps":
            p = dataclasses.replace(p, timestamp_jitter_us=0.0, gaps_per_hour=60.0, gap_s=(0.05, 1.0))
        s = simulate_session(p, seed=seed, session_id="g", runner_id="g",
                             start_time=datetime(2024, 6, 1, 6, 30, tzinfo=UTC))
        fs = s.raw.sample_rate_hz
        # rows removed: the grid samples inside each gap (gaps are kept away from both ends)
        grid = np.arange(round((s.raw.time_ns[-1] - s.raw.time_ns[0]) / 1e9 * fs) + 1) / fs
        gaps = s.truth["gaps"]
        k = [int(np.count_nonzero((grid >= g["start_s"]) & (grid < g["end_s"]))) for g in gaps]
        raws.append(s.raw)
        true.append((sum(1 for x in k if x > 0), sum(k) / fs))
    return raws, true


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args(argv)
    print(f"{'recordings':<34} {'n':>4} {'w/gaps':>6} {'n_gaps':>7} {'gap_s':>10} {'by_count_s':>10}")
    walks = real_walking.load(args.data)
    for name in ("voisard_l5_walk", "mobgap_lab"):
        _line(name, (t.raw for t in walks if t.dataset == name))
    alc = args.data / "real" / "alcantara_treadmill"
    if alc.exists():
        _line("alcantara_treadmill", (t.raw for t in real_running.load_trials(alc)))
    for kind in ("phone", "phone+gaps", "no jitter+gaps"):
        raws, true = _simulated(kind, range(1, 4))
        _line(f"simulated {kind} (6 min x3)", raws, true)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
