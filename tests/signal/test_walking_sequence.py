"""Walking steps chosen as one rhythmic sequence (dynamic programming over the vertical maxima,
``EventParams.walk_seq_bonus``) on hand-built signals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imuback.signal.activity import WALK, Bouts
from imuback.signal.params import EventParams
from imuback.signal.walking import walking_contacts
from tests.signal.analytic import walking_vertical

FS = 100.0
SEQ = dataclasses.replace(EventParams(), walk_seq_bonus=1.5, walk_seq_lambda=8.0, walk_seq_miss_cost=1.5)


def _ics(x: np.ndarray, p: EventParams) -> np.ndarray:
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([WALK], np.int8))
    return walking_contacts(x, bouts, FS, p)[0]


@pytest.mark.parametrize("keep_clear", [False, True])
def test_a_missed_step_and_the_last_steps_are_taken_in_rhythm_a_stop_stays_empty(keep_clear):
    p = dataclasses.replace(SEQ, walk_seq_keep_clear=keep_clear)
    every = np.arange(100.0, 1000.0, 55.0)
    clear = np.concatenate([np.delete(every, 8), np.arange(1400.0, 1800.0, 55.0)])  # a 4 s stop before 1400
    # the missed step, a bump inside the stop, two weak closing steps one step apart
    weak = np.array([every[8], 1200.0, clear[-1] + 55.0, clear[-1] + 110.0])
    ic = _ics(walking_vertical(clear, weak, 2300), p)
    for w in (weak[0], weak[2], weak[3]):
        assert np.any(np.abs(ic - w) <= 10)
    assert not np.any(np.abs(ic - weak[1]) <= 30)
    assert ic.size == clear.size + 3


def test_a_weak_bump_off_the_rhythm_is_not_a_step():
    # a weak landing-like bump a third of a step after a clear step: the rhythm says no
    clear = np.arange(100.0, 1200.0, 55.0)
    bump = np.array([clear[8] + 18.0])
    ic = _ics(walking_vertical(clear, bump, 1500), SEQ)
    assert ic.size == clear.size
    assert not np.any(np.abs(ic - bump[0]) <= 8)


def test_a_clear_peak_off_the_rhythm_is_dropped_unless_clear_steps_are_kept():
    # a second clear maximum 250 ms after one step (the double peak of voisard subject 3)
    clear = np.arange(100.0, 1200.0, 55.0)
    extra = clear[8] + 25.0
    x = walking_vertical(np.sort(np.append(clear, extra)), np.zeros(0), 1500)
    free = _ics(x, SEQ)
    kept = _ics(x, dataclasses.replace(SEQ, walk_seq_keep_clear=True))
    assert free.size == clear.size and not np.any(np.abs(free - extra) <= 10)
    assert kept.size == clear.size + 1
