"""The multi-week study (src/imuback/simulate/study.py)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from imuback.errors import SimulationError
from imuback.simulate.runner import RunnerParams
from imuback.simulate.study import simulate_study

FAST = RunnerParams(run_minutes=1.0, stand_start_s=3.0, stand_end_s=3.0, walk_start_s=5.0,
                    walk_end_s=5.0, sample_rate_hz=100.0)


def _impact(sim: object, foot: str) -> float:
    ts = sim.truth_steps  # type: ignore[attr-defined]
    run = np.asarray(ts.column("activity").to_pylist()) == "run"
    f = np.asarray(ts.column("foot").to_pylist()) == foot
    return float(np.median(np.asarray(ts.column("impact_peak_g").to_numpy())[run & f]))


def test_schedule_and_story() -> None:
    sims = simulate_study(runner_id="rx", weeks=4, sessions_per_week=2, minutes=1.0, seed=4,
                          params=FAST)
    assert len(sims) == 8
    starts = [s.raw.time_ns[0] for s in sims]
    assert all(b > a for a, b in itertools.pairwise(starts))
    span_days = (starts[-1] - starts[0]) / 86400e9
    assert 21 <= span_days <= 28
    assert len({s.raw.session_id for s in sims}) == 8
    assert all(s.raw.runner_id == "rx" for s in sims)
    # sensor re-clipped every session
    assert len({round(s.truth["misalignment_deg"], 6) for s in sims}) == 8
    # the story: right lands harder at the end, not at the start
    first, last = sims[0], sims[-1]
    asym_first = _impact(first, "L") / _impact(first, "R")
    asym_last = _impact(last, "L") / _impact(last, "R")
    assert asym_last < asym_first - 0.05
    assert last.truth["params"]["impact_asymmetry_pct"] < -10.0
    assert first.truth["params"]["impact_asymmetry_pct"] == 0.0


def test_no_story_and_max_sessions() -> None:
    sims = simulate_study(runner_id="ry", weeks=3, sessions_per_week=3, minutes=0.5, seed=1,
                          params=FAST, story=False, max_sessions=2)
    assert len(sims) == 2
    assert all(s.truth["params"]["impact_asymmetry_pct"] == 0.0 for s in sims)
    again = simulate_study(runner_id="ry", weeks=3, sessions_per_week=3, minutes=0.5, seed=1,
                           params=FAST, story=False, max_sessions=2)
    assert np.array_equal(sims[1].raw.acc_mps2, again[1].raw.acc_mps2)


def test_bad_schedule() -> None:
    with pytest.raises(SimulationError, match="sessions_per_week"):
        simulate_study(runner_id="r", weeks=1, sessions_per_week=9, minutes=1, seed=0)
    p = dataclasses.replace(FAST)
    with pytest.raises(SimulationError, match="weeks"):
        simulate_study(runner_id="r", weeks=0, sessions_per_week=1, minutes=1, seed=0, params=p)
