"""benchmarks/real_walking.py's steady straight walking, and walk_steady.py's stages, on hand-built references."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402
import walk_steady as ws  # noqa: E402

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


def test_steps_after_the_trial_s_walk_are_not_steady() -> None:
    # voisard: the reference bout holds the steps after the trial (the wearer turning round to stop)
    ref = _ref(_straight(16))
    inside = rw.Reference(**{**ref.__dict__, "trial_s": (0.0, 1.0 + 9 * STEP_S)})
    ok = rw.steady_rhythm(inside)
    assert ok[1:10].all() and not ok[10:].any()
    assert rw.steady_rhythm(ref)[1:15].all()  # unbounded: every step with two steady neighbours
    # and the steps before the trial's walk (weight shifts in standing, the first steps) neither
    late = rw.Reference(**{**ref.__dict__, "trial_s": (1.0 + 3 * STEP_S, 1.0 + 9 * STEP_S)})
    ok = rw.steady_rhythm(late)
    assert not ok[:3].any() and ok[3:10].all() and not ok[10:].any()


def test_the_steady_condition_excludes_a_bout_s_first_and_last_two_steps() -> None:
    ref = _ref(_straight(12))
    trial = SimpleNamespace(tilt_deg=0.0, subject="s")
    c = rw._conditions(trial, ref, ref.ic_s)  # type: ignore[arg-type]
    assert c["steady"].tolist() == ["other"] * 2 + ["steady straight"] * 8 + ["other"] * 2
    # a detection 40 ms after a steady reference IC is in steady walking too
    d = rw._conditions(trial, ref, ref.ic_s[5:6] + 0.04)  # type: ignore[arg-type]
    assert d["steady"].tolist() == ["steady straight"]


def test_a_voisard_reference_knows_the_walk_its_trial_recorded() -> None:
    # foot events after TrialBoundaries (steps after the trial) widen the bout, not the trial
    meta = {"LeftFootEvents": [[100, 150], [250, 300], [2600, 2650]], "RightFootEvents": [[180, 220], [330, 380]],
            "TrialBoundaries": [120, 2000], "UTurnBoundaries": [900, 1100]}
    ref = rw._voisard_ref(meta, 3000, 100.0)
    assert ref.trial_s == (1.2, 20.0)
    assert ref.bouts_s[0, 1] == 26.5


def test_each_miss_gets_the_first_cause_that_applies() -> None:
    plain = ws.Context(in_trial=True, yaw_dps=5.0, gap_s=0.0, one_foot_twice=False, foot_offset_ms=0.0)
    assert plain.cause() == "steady walking"
    assert plain.cause("dropout") == "lost data"
    assert ws.Context(in_trial=False, yaw_dps=90.0, gap_s=0.06, one_foot_twice=True,
                      foot_offset_ms=0.0).cause() == "lost data"
    assert ws.Context(in_trial=False, yaw_dps=90.0, gap_s=0.02, one_foot_twice=True,
                      foot_offset_ms=0.0).cause() == "outside the trial"
    assert ws.Context(in_trial=True, yaw_dps=-ws.TURNING_DPS, gap_s=0.0, one_foot_twice=True,
                      foot_offset_ms=0.0).cause() == "trunk turning"
    assert ws.Context(in_trial=True, yaw_dps=ws.TURNING_DPS - 1, gap_s=0.0, one_foot_twice=True,
                      foot_offset_ms=0.0).cause() == "reference: one foot twice"


def test_plain_steady_walking_leaves_out_turns_lost_packets_and_steps_after_the_trial() -> None:
    fs = 100.0
    t_s = np.arange(1000) / fs  # 10 s on the grid
    yaw = np.where(t_s < 5.0, 20.0 * np.sin(2 * np.pi * t_s), 90.0)  # step oscillation, then a turn
    body = SimpleNamespace(t0_ns=0, t_s=t_s, gyr_dps=np.column_stack([0 * t_s, 0 * t_s, yaw]), fs_hz=fs)
    raw_ns = np.round(t_s[(t_s < 3.0) | (t_s >= 3.1)] * 1e9).astype(np.int64)  # 0.1 s of packets lost at 3 s
    trial = SimpleNamespace(raw=SimpleNamespace(time_ns=raw_ns, sample_rate_hz=fs))
    runs = SimpleNamespace(a=SimpleNamespace(body=body))
    ref = _ref(_straight(12))
    ref = rw.Reference(**{**ref.__dict__, "trial_s": (1.0, 9.0)})
    t = np.array([0.5, 2.0, 3.05, 3.2, 4.0, 7.0, 9.5])
    ok = ws._plain(trial, runs, ref, t)  # type: ignore[arg-type]
    assert ok.tolist() == [False, True, False, False, True, False, False]
    only = ws._plain(trial, runs, ref, t, trial_only=True)  # type: ignore[arg-type]
    assert only.tolist() == [False, True, True, True, True, True, False]


def test_set_changes_one_event_parameter_and_names_a_wrong_one() -> None:
    assert ws.event_params(["walk_edge_steps=3", "walk_rhythm_off_s=0.1"]).walk_edge_steps == 3
    with pytest.raises(SystemExit, match="walk_edge_step"):
        ws.event_params(["walk_edge_step=3"])
    with pytest.raises(SystemExit, match="__post_init__"):
        ws.event_params(["__post_init__=1"])
