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


FS = 100.0


def _stages(clear_s: list[float], weak_s: list[float], vertical_ic_s: list[float], n: int = 2000) -> dict:
    """What the pipeline's stages would hand over: vertical bumps (clear 0.3 g, weak 0.08 g) at the
    given times, a heel-strike braking fall (-0.3 g in 20 ms) after each clear one, no sideways force."""
    t = np.arange(n) / FS
    vertical = np.ones(n)
    ap = np.zeros(n)
    for c in clear_s:
        vertical += 0.3 * np.exp(-0.5 * ((t - c) / 0.05) ** 2)
        ap -= 3.0 * np.clip((t - c) / 0.02, 0.0, 1.0) * (t < c + 0.2)
    for c in weak_s:
        vertical += 0.08 * np.exp(-0.5 * ((t - c) / 0.05) ** 2)
    return {"fs": FS, "bounds": np.array([0, n]), "t0_ns": 0, "t_s": t, "vertical_g": vertical, "ap": ap,
            "ml": np.zeros(n), "before": np.round(np.asarray(clear_s) * FS),
            "vertical_ic": np.asarray(vertical_ic_s) * FS}


def _turn_trial(ref_ic: list[float], turn: list[bool]) -> SimpleNamespace:
    trial = _trial(ref_ic, turn)
    trial.raw = SimpleNamespace(time_ns=np.array([0]))
    trial.tilt_deg, trial.subject = 0.0, "s"
    return trial


def test_turning_step_losses_by_stage() -> None:
    from imuback.signal.params import PipelineParams

    p = PipelineParams()
    ref = [1.0 + STEP_S * k for k in range(12)]  # 1.0 .. 6.5 s
    turn = [5 <= k <= 7 for k in range(12)]  # ICs at 3.5, 4.0, 4.5
    trial = _turn_trial(ref, turn)
    straight = [r for r, tu in zip(ref, turn, strict=True) if not tu]
    # 3.5: nothing at all; 4.0: a weak vertical maximum without braking; 4.5: detected 200 ms late,
    # its vertical-signal IC already there
    got = _stages(straight, [4.0], [*straight[:5], 4.7, *straight[5:]])
    det = _det([*straight[:5], 4.7, *straight[5:]])
    missed, extra, shares = wma.turn_losses(trial, det, got, "ref", p)
    assert sorted(missed) == ["misplaced, vertical off", "no candidate", "weak, no braking"]
    assert extra == ["misplaced"]
    assert len(shares) == 1 and shares[0][0] < p.events.walk_bridge_fall_frac
    # the same late detection whose vertical-signal IC was right: the forward refinement moved it
    got = _stages(straight, [], [*straight[:5], 4.5, *straight[5:]])
    missed, _, _ = wma.turn_losses(trial, det, got, "ref", p)
    assert "misplaced, vertical ok" in missed
    # a second detection 250 ms after a found turning step
    full = sorted([*straight, 3.5, 4.0, 4.5])
    got = _stages(full, [], full)
    missed, extra, _ = wma.turn_losses(trial, _det(sorted([*full, 4.25])), got, "ref", p)
    assert missed == [] and extra == ["double"]
    # a detection 500 ms from the turning steps either side of a slow turn
    slow = [*ref[:5], 3.5, 4.5, *[r + 1.0 for r in ref[6:11]]]
    trial = _turn_trial(slow, [3.4 <= r <= 4.6 for r in slow])
    got = _stages(slow, [], slow)
    missed, extra, _ = wma.turn_losses(trial, _det(sorted([*slow, 4.0])), got, "ref", p)
    assert missed == [] and extra == ["far"]
