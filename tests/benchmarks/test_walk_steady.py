"""benchmarks/real_walking.py's steady straight walking, and walk_steady.py's stages, on hand-built references."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402

STEP_S = 0.5


def _ref(ic: list[float], turn: list[bool] | None = None) -> rw.Reference:
    a = np.asarray(ic, dtype=np.float64)
    return rw.Reference(ic_s=a, foot=np.array(["L", "R"] * (a.size // 2) + ["L"] * (a.size % 2)),
                        to_s=np.full(a.size, np.nan), bout_id=np.zeros(a.size, np.int64),
                        turn=np.zeros(a.size, bool) if turn is None else np.asarray(turn),
                        bouts_s=np.array([[a[0], a[-1]]]), speed_mps=np.array([1.0]))


def _straight(n: int, start: float = 1.0) -> list[float]:
    return [start + STEP_S * k for k in range(n)]


def test_a_steady_walk_is_steady_inside_its_ends() -> None:
    ok = rw.steady_rhythm(_ref(_straight(12)))
    # every step with two neighbours at the bout's rhythm; the ends have one neighbour
    assert ok.tolist() == [False] + [True] * 10 + [False]


def test_steps_around_a_pause_or_a_turn_are_not_steady() -> None:
    # a walk, 3 s standing, a weight shift, 3 s, then walking on: the shift and its neighbours
    ic = [*_straight(8), 1.0 + 7 * STEP_S + 3.0, *_straight(8, start=1.0 + 7 * STEP_S + 6.0)]
    ok = rw.steady_rhythm(_ref(ic))
    assert not ok[7] and not ok[8] and not ok[9]
    assert ok[1:7].all() and ok[10:16].all()
    # two reference ICs either side of a turn's are not steady either
    turn = [6 <= k <= 8 for k in range(16)]
    ok = rw.steady_rhythm(_ref(_straight(16), turn))
    assert not ok[4:11].any() and ok[1:4].all() and ok[11:15].all()


def test_the_steady_condition_excludes_a_bout_s_first_and_last_two_steps() -> None:
    ref = _ref(_straight(12))
    trial = SimpleNamespace(tilt_deg=0.0, subject="s")
    c = rw._conditions(trial, ref, ref.ic_s)  # type: ignore[arg-type]
    assert c["steady"].tolist() == ["other"] * 2 + ["steady straight"] * 8 + ["other"] * 2
    # a detection 40 ms after a steady reference IC is in steady walking too
    d = rw._conditions(trial, ref, ref.ic_s[5:6] + 0.04)  # type: ignore[arg-type]
    assert d["steady"].tolist() == ["steady straight"]
