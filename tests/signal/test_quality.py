"""Per-step quality (signal/quality.py): high for steps that repeat their neighbours, low for an
extra or misplaced one, and predictive of correct steps on real recordings."""

from __future__ import annotations

import numpy as np
import pytest

import real_quality
import real_running
from imuback.signal.activity import RUN
from imuback.signal.events import UNKNOWN, Steps
from imuback.signal.quality import step_quality

FS_D = 100.0


def _steps(ic: np.ndarray) -> Steps:
    n = ic.size
    return Steps(ic_pos=ic, to_pos=ic + 10.0, activity=np.full(n, RUN, np.int8), chain=np.zeros(n, np.int64),
                 foot=np.full(n, UNKNOWN, np.int8), quality=np.ones(n))


def _running_signal(n_steps: int, step_s: float) -> np.ndarray:
    t = np.arange(round(n_steps * step_s * FS_D)) / FS_D
    ph = t % step_s
    return np.where(ph < 0.24, 2.5 * np.sin(np.pi * ph / 0.24), 0.0)


def test_regular_steps_have_high_quality():
    x = _running_signal(40, 0.36)
    ic = np.arange(1, 39) * 0.36 * FS_D
    q = step_quality(x, _steps(ic), fs_hz=FS_D)
    assert q.min() > 0.95


def test_an_extra_step_and_a_lonely_step_have_low_quality():
    x = _running_signal(40, 0.36)
    ic = np.arange(1, 39) * 0.36 * FS_D
    extra = (ic[19] + ic[20]) / 2.0  # in the middle of a flight: splits an interval, wrong shape
    steps = _steps(np.sort(np.append(ic, extra)))
    q = step_quality(x, steps, fs_hz=FS_D)
    k = int(np.flatnonzero(steps.ic_pos == extra)[0])
    assert q[k] < 0.2
    assert np.median(np.delete(q, [k - 1, k, k + 1])) > 0.95
    lonely = Steps(ic_pos=ic, to_pos=ic + 10.0, activity=np.full(ic.size, RUN, np.int8),
                   chain=np.arange(ic.size, dtype=np.int64), foot=np.full(ic.size, UNKNOWN, np.int8),
                   quality=np.ones(ic.size))
    assert np.all(step_quality(x, lonely, fs_hz=FS_D) == 0.0)


@pytest.mark.skipif(not (real_running.DEFAULT_DATA / "real").exists(), reason="../shared/data/real absent")
def test_quality_predicts_right_steps_on_real_data():
    # what is reached (benchmarks/real_quality.py), with a small margin; on main the flight/foot-vote
    # quality gave 0.50 (alcantara), 0.54 (mobgap_lab), 0.59 (voisard_l5_walk)
    want = {"mobgap_lab": 0.72, "voisard_l5_walk": 0.67}
    got = real_quality.walking_quality(real_running.DEFAULT_DATA)
    for name, floor in want.items():
        if name in got:
            q, ok = got[name]
            assert real_running.auroc(q, ok) >= floor, name
    alc = real_running.DEFAULT_DATA / "real" / "alcantara_treadmill"
    if alc.exists():
        s = real_running.score(real_running.load_trials(alc))
        assert real_running.auroc(s.quality, real_running.step_ok(s)) >= 0.55
