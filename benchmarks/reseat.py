"""Re-seat detection (src/imuback/signal/mounting.py): its threshold chosen on simulation, checked on real walking.

    python benchmarks/reseat.py [--data ../shared/data] [--seeds 6]

1. Simulated phones in a loose belt (``imuback demo --phone``'s scenario, 12 min), with the belt's
   re-seats off and on (2 per 10 min, each 30-100 % of 15° about a random axis): the largest
   step-change angle of the gravity direction in sessions without a re-seat (the noise floor),
   and the re-seats found against the true ones (a find within 30 s of a true one is a hit;
   re-seats closer than that are one step change).
2. Real walking (voisard_l5_walk, mobgap_lab; nothing chosen on it): the largest step-change angle
   in every trial long enough to have one (2 x 3 windows of 10 s of walking); none should reach
   the threshold.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from imuback.cli.demo import phone_params
from imuback.core import RawSession
from imuback.signal.activity import RUN, WALK
from imuback.signal.dsp import interval_indices
from imuback.signal.mounting import MountingParams, step_change_deg
from imuback.signal.session import analyse_session
from imuback.simulate.runner import simulate_session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_running import DEFAULT_DATA


def _largest(raw: RawSession) -> tuple[float, object]:
    """(largest step-change angle in deg or NaN, the analysis)."""
    a = analyse_session(raw)
    lab = RUN if np.count_nonzero(a.steps.activity == RUN) >= np.count_nonzero(a.steps.activity == WALK) else WALK
    sel = a.bouts.label == lab
    mask = np.zeros(a.body.n, dtype=bool)
    mask[interval_indices(a.bouts.start_idx[sel], a.bouts.end_idx[sel])[0]] = True
    _, ang = step_change_deg(a.body.acc_mps2, mask, fs_hz=a.body.fs_hz)
    return (float(ang.max()) if ang.size else float("nan")), a


def simulated(seeds: int) -> list[str]:
    """Noise floor without re-seats; hits and false finds with them."""
    floor, hits, missed, false = [], 0, [], 0
    lines = [f"{'seed':>4}  {'largest angle, no re-seat':>26}  true re-seats (s, deg) -> found (s, deg)"]
    for seed in range(1, seeds + 1):
        p = phone_params(12.0)
        still, _ = _largest(simulate_session(dataclasses.replace(p, belt_shifts_per_10min=0.0), seed=seed,
                                             session_id="s", runner_id="r", start_time=0).raw)
        floor.append(still)
        sim = simulate_session(p, seed=seed, session_id="m", runner_id="r", start_time=0)
        found = analyse_session(sim.raw).mounting_shifts
        true = [(s["t_s"], s["angle_deg"]) for s in sim.truth["belt"]["shifts"]]
        t_true = np.array([t for t, _ in true])
        for t in found.t_s:
            hits += int(t_true.size > 0 and np.min(np.abs(t_true - t)) <= 30.0)
            false += int(t_true.size == 0 or np.min(np.abs(t_true - t)) > 30.0)
        missed += [d for t, d in true if found.n == 0 or np.min(np.abs(found.t_s - t)) > 30.0]
        lines.append(f"{seed:>4}  {still:>24.1f}°  " + ", ".join(f"{t:.0f} s {d:.1f}°" for t, d in true)
                     + " -> " + ", ".join(f"{t:.0f} s {d:.1f}°" for t, d in zip(found.t_s, found.angle_deg,
                                                                               strict=True)))
    lines.append(f"no re-seat: largest angle {max(floor):.1f}° over {seeds} sessions; threshold "
                 f"{MountingParams().min_shift_deg:g}°; found {hits} true re-seats, {false} false, missed "
                 f"{len(missed)} (true sizes of the missed: {', '.join(f'{d:.1f}°' for d in missed) or '-'}; "
                 "a miss in a walk or stand between runs or after the last run is not looked for)")
    return lines


def real(data: Path) -> list[str]:
    """The largest step-change angle per real walking trial that has one."""
    from real_walking import load

    trials = load(data)
    vals = [(t.dataset, t.name, _largest(t.raw)[0]) for t in trials]
    with_value = [(d, n, v) for d, n, v in vals if np.isfinite(v)]
    lines = [f"{d}/{n}: largest angle {v:.1f}°" for d, n, v in with_value]
    thr = MountingParams().min_shift_deg
    top = max((v for _, _, v in with_value), default=float("nan"))
    lines.append(f"{len(vals)} trials, {len(with_value)} long enough; largest {top:.1f}°; "
                 f"at or above {thr:g}°: {sum(v >= thr for _, _, v in with_value)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--seeds", type=int, default=6, help="simulated sessions (default 6)")
    args = ap.parse_args(argv)
    print("simulated phone in a loose belt, 12 min:")
    print("\n".join(simulated(args.seeds)))
    print("\nreal walking (nothing chosen on it):")
    if not (args.data / "real").exists():
        print(f"skipped ({args.data / 'real'} not found)")
        return 0
    print("\n".join(real(args.data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
