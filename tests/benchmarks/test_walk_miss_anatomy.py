"""benchmarks/walk_miss_anatomy.py: each kind of missed last step and U-turn step, built by hand."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402
import walk_miss_anatomy as wma  # noqa: E402

STEP_S = 0.5


def _trial(ref_ic: list[float], turn: list[bool]) -> SimpleNamespace:
    ic = np.asarray(ref_ic)
    ref = rw.Reference(ic_s=ic, foot=np.array(["L", "R"] * (ic.size // 2) + ["L"] * (ic.size % 2)),
                       to_s=np.full(ic.size, np.nan), bout_id=np.zeros(ic.size, np.int64),
                       turn=np.asarray(turn), bouts_s=np.array([[ic[0], ic[-1]]]), speed_mps=np.array([1.0]))
    return SimpleNamespace(refs={"ref": ref})


def _det(ic: list[float]) -> rw.Detected:
    a = np.asarray(ic, dtype=np.float64)
    return rw.Detected(ic_s=a, to_s=np.full(a.size, np.nan), foot=np.full(a.size, ""))


def _straight(n: int) -> list[float]:
    return [1.0 + STEP_S * k for k in range(n)]


def test_a_walk_s_closing_steps_by_how_far_the_last_detection_lies() -> None:
    ref = _straight(12)
    trial = _trial(ref, [False] * 12)
    # the last step missed, the one before found: one step on
    assert wma.anatomy(trial, _det(ref[:11]), "ref") == [("last2", "1 step on")]
    # both last steps missed: the last one lies 2 steps after the last detection
    assert wma.anatomy(trial, _det(ref[:10]), "ref") == [("last2", "1 step on"), ("last2", "2-3 steps")]
    # two steps far after the walk (after standing): more than 3 steps since the last detection
    late = [*ref[:10], ref[9] + 4.0, ref[9] + 4.5]
    assert wma.anatomy(_trial(late, [False] * 12), _det(ref[:10]), "ref") == [
        ("last2", "after walk"), ("last2", "after walk")]
    # the last step seen 150 ms late: misplaced, not missing
    assert wma.anatomy(trial, _det([*ref[:11], ref[11] + 0.15]), "ref") == [("last2", "misplaced")]


def test_turning_steps_in_a_gap_or_misplaced() -> None:
    ref = _straight(14)
    turn = [6 <= k <= 8 for k in range(14)]
    trial = _trial(ref, turn)
    # the 7th step (in the turn) missed: its neighbours are two steps apart
    assert wma.anatomy(trial, _det(ref[:7] + ref[8:]), "ref") == [("turn", "in a gap")]
    # detected 200 ms early instead
    assert wma.anatomy(trial, _det([*ref[:7], ref[7] - 0.2, *ref[8:]]), "ref") == [("turn", "misplaced")]
    # misses outside the last two and outside turns are not this script's
    assert wma.anatomy(trial, _det(ref[:3] + ref[4:]), "ref") == []
