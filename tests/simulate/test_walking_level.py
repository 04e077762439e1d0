"""The walking body's true height level: at standing height at mid-stance, and no dip after a run.

* The walking controller steered the height of the *completed* contacts (every started contact's
  whole impulse): a walking contact still pushes after the next IC (double support), so the true
  body stood above its standing level by the displacement still owed: each step's top +6.3 to
  +6.5 cm above standing at 112 steps/min, +7.9 to +8.1 cm at 100 steps/min and +19.4 to +19.8 cm
  for a slow walker (``python benchmarks/sim_height.py``, seeds 1-4). A walking CoM is highest near
  mid-stance, where the stance leg is at most as long as in standing (Saunders et al. 1953): the
  controller now steers each walking step's top to the standing level.
* After a run, the first walking contact landed with nothing of a previous contact's push to
  carry it: the slow walker (90 steps/min, duty 0.68, 0.6 m/s) fell 21-27 cm below its steady
  walking IC level (then itself 13.4-13.8 cm above standing) within its first eight walking ICs
  (same benchmark); in absolute terms the lowest IC went from 8.1-12.8 to 8.7-9.3 cm below
  standing, mostly by the new level (8.7-9.1 cm below now). Its landing bump now carries that push
  (its own share, the review's scratch run: 2.7-6.8 → 2.7-3.2 cm below the walking IC level).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from imuback.simulate.gait import _push_only_skew

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import sim_height


@pytest.mark.parametrize("case", list(sim_height.CASES))
def test_walking_step_tops_are_the_standing_level(case: str) -> None:
    f = sim_height.height_figures(sim_height.CASES[case], 2)
    # before: +6.5 / +8.1 / +19.8 cm
    assert abs(f["walk_top_cm"]) < 1.0, f
    # the rest of the step is lower: the mean a few cm below standing (before +4.7 / +5.9 / +15.7)
    assert -5.0 < f["walk_mean_cm"] < 0.0, f


def test_slow_walker_does_not_dip_after_a_run() -> None:
    p = sim_height.CASES["slow walker (90/min, duty 0.68, 0.6 m/s)"]
    for seed in (1, 2, 3):
        f = sim_height.height_figures(p, seed)
        # below its steady walking IC level: before -24.6 / -26.6 / -24.6 cm, now -2.6 to -3.0
        assert f["run_walk_min_cm"] > -4.5, (seed, f)
        # and back at its standing height after the walk (the last two steps hand the level back;
        # with the last step alone it stood 5.7 / 0.0 / 3.8 cm lower than before the walk)
        assert abs(f["stand_end_cm"]) < 0.3, (seed, f)


@pytest.mark.parametrize("walk_end_s", [0.4, 0.7])
def test_slow_walker_stands_at_its_height_after_one_or_two_walking_steps(walk_end_s: float) -> None:
    # a run that ends after 1 (0.4 s) or 2 (0.7 s) walking steps: the landing contact is the bout's
    # last or second-to-last, and the last contact's skew (bounded at +-0.3) could not bring the
    # slow walker back up: it stood 21-36 cm (1 step) and 14-20 cm (2 steps) lower, seeds 1-4
    p = replace(sim_height.CASES["slow walker (90/min, duty 0.68, 0.6 m/s)"], walk_end_s=walk_end_s)
    for seed in (1, 2, 3):
        f = sim_height.height_figures(p, seed)
        assert abs(f["stand_end_cm"]) < 0.5, (seed, f)


def test_the_last_contacts_skew_range_keeps_the_hump_a_push() -> None:
    q = np.array([-0.2, 0.0, 0.3])
    lo, hi = _push_only_skew(q)
    u = np.linspace(0.0, 1.0, 2001)[1:-1, None]

    def hump_min(r: np.ndarray) -> np.ndarray:
        h = np.sin(np.pi * u) + r * np.sin(2 * np.pi * u) + q * np.sin(3 * np.pi * u)
        return np.asarray(h.min(axis=0))

    # at the bounds the hump just touches zero; 0.02 beyond them it pulls somewhere
    assert np.all(hump_min(lo) > -1e-3) and np.all(hump_min(hi) > -1e-3)
    assert np.all(hump_min(lo - 0.02) < 0) and np.all(hump_min(hi + 0.02) < 0)
    # wider than the +-0.3 the other contacts keep for q >= 0 (q = 0: +-0.5)
    assert abs(hi[1] - 0.5) < 1e-3 and abs(lo[1] + 0.5) < 1e-3
