"""benchmarks/walk_to.py: the TO candidates on hand-built signals whose cue is known, the pairing
of the other foot's final contact to the step before it, and the reference order check."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402
import walk_to  # noqa: E402

FS = 100.0
STEP = 55  # samples
CUE = 14  # the other foot's final contact, samples after each IC


def _walk(vertical: np.ndarray, forward: np.ndarray, ic: np.ndarray, nxt: np.ndarray) -> walk_to.Walk:
    n = vertical.size
    return walk_to.Walk(trial=None, t_s=np.arange(n) / FS, vertical_g=vertical, forward_g=forward,  # type: ignore[arg-type]
                        fs=FS, bounds=np.array([0, n]), ic=ic.astype(np.float64), nxt=nxt,
                        foot=np.array(["L", "R"] * (ic.size // 2) + ["L"] * (ic.size % 2)))


def _steps(k: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ic = 100 + STEP * np.arange(k)
    nxt = np.append(np.arange(1, k), -1)  # one chain: the last step has no next
    t = np.arange(ic[-1] + 200)
    return ic, nxt, t


def test_forward_min_puts_the_next_ics_cue_on_the_step_before() -> None:
    ic, nxt, t = _steps()
    # forward acceleration: a sharp minimum CUE samples after every IC, flat elsewhere
    forward = np.zeros(t.size)
    for c in ic:  # steps: few
        forward -= 0.3 * np.exp(-0.5 * ((t - c - CUE) / 4.0) ** 2)
    to = walk_to.forward_min(_walk(np.zeros(t.size), forward, ic, nxt))
    # step j's toe-off is the cue after step j + 1's IC (the other foot's contact)
    assert np.allclose(to[:-1], ic[1:] + CUE, atol=1.0)
    assert np.isnan(to[-1])


def test_mccamley_takes_the_steepest_fall_of_the_vertical_loading_peak() -> None:
    ic, nxt, t = _steps()
    # a vertical loading peak after each IC; its steepest fall (the cue) is one sigma after the peak
    sigma = 6.0
    vertical = np.zeros(t.size)
    for c in ic:  # steps: few
        vertical += 0.3 * np.exp(-0.5 * ((t - c - CUE + sigma) / sigma) ** 2)
    to = walk_to.mccamley(_walk(vertical, np.zeros(t.size), ic, nxt), sigma_s=0.01)
    assert np.allclose(to[:-1], ic[1:] + CUE, atol=2.0)
    assert np.isnan(to[-1])


def test_a_step_with_no_next_step_in_its_chain_gets_no_toe_off() -> None:
    ic, nxt, t = _steps()
    nxt[5] = -1  # a chain breaks after step 5
    to = walk_to.rhythm(_walk(np.zeros(t.size), np.zeros(t.size), ic, nxt), share=0.25)
    assert np.isnan(to[5]) and np.isnan(to[-1])
    assert np.allclose(to[4], ic[5] + 0.25 * STEP)


def test_reference_order_flags_stops_and_missed_swings() -> None:
    ic = np.array([0.0, 0.55, 1.1, 1.65, 2.2, 2.75, 5.0, 5.55, 6.1])
    to = ic + 0.7  # the same foot's toe-off, 0.15 s after the other foot's contact
    to[1] = 3.0  # past this foot's next contact: a swing the foot sensors missed
    foot = np.array(["L", "R"] * 4 + ["L"])
    ref = rw.Reference(ic_s=ic, foot=foot, to_s=to, bout_id=np.zeros(ic.size, np.int64),
                       turn=np.zeros(ic.size, bool), bouts_s=np.array([[0.0, 7.0]]), speed_mps=np.array([1.0]))
    ok = walk_to.reference_in_order(ref)
    # 1: missed swing; 4, 5: the stop between 2.75 and 5.0 breaks the rhythm; 7, 8: no two ICs after
    assert ok.tolist() == [True, False, True, True, False, False, True, False, False]


def test_regular_rhythm_leaves_out_the_steps_around_an_irregular_interval() -> None:
    ic, nxt, t = _steps()
    ic = ic.astype(np.float64)
    ic[6:] += 30  # step 5 lasts 85 samples instead of 55
    ok = walk_to.regular(_walk(np.zeros(t.size + 30), np.zeros(t.size + 30), ic, nxt), 0.2)
    # step 5 itself, the step before it (its next is long) and the step after it (its previous is
    # long); at the chain's ends a step with an unknown interval around it (the first, the last two)
    assert ok.tolist() == [False] + [True] * 3 + [False] * 3 + [True] * 3 + [False] * 2


def test_not_turning_leaves_out_the_steps_over_a_turn() -> None:
    ic, nxt, t = _steps()
    yaw = np.zeros(t.size)
    yaw[ic[6]:ic[7]] = 90.0  # a turn during step 6 (deg/s)
    w = _walk(np.zeros(t.size), np.zeros(t.size), ic, nxt)
    w = walk_to.Walk(**{**w.__dict__, "yaw_dps": yaw})
    ok = walk_to.not_turning(w, 30.0)
    # each step is judged from its IC to the IC after its next step: steps 5 and 6 cross the turn
    assert ok.tolist() == [True] * 5 + [False] * 2 + [True] * 4 + [False]
    assert walk_to.not_turning(walk_to.Walk(**{**w.__dict__, "yaw_dps": None}), 30.0)[:-1].all()
