"""Never invent steps: movement without gait's structure gives no steps, and the sessions table
says why (signal/gait_check.py). The signals are benchmarks/gait_features.py's; on main (before the
check) they gave 161 (white noise), 336 (vibration) and 243 (car ride) steps."""

from __future__ import annotations

import numpy as np
import pytest

from gait_features import non_gait, raw_of
from imuback.pipeline import process_raw

WHY = {"white-noise": "not gait", "vibration-2.8Hz": "no horizontal motion at the step rhythm",
       "car-ride": "no horizontal motion at the step rhythm"}


@pytest.mark.parametrize("with_gyro", [True, False], ids=["6-axis", "accelerometer-only"])
@pytest.mark.parametrize("name", list(WHY))
def test_non_gait_gives_no_steps_and_says_why(name, with_gyro):
    acc, gyr = non_gait(np.random.default_rng(7))[name]
    res = process_raw(raw_of(acc, gyr if with_gyro else None, name=name))
    assert res.steps.num_rows == 0
    reason = res.sessions.column("non_gait_reason")[0].as_py()
    assert reason is not None and WHY[name] in reason
    assert "not counted as steps" in res.sessions.column("status_reason")[0].as_py()


def test_gait_keeps_its_steps_and_has_no_reason(analytic_run):
    raw, _truth = analytic_run
    res = process_raw(raw)
    assert res.steps.num_rows > 100
    assert res.sessions.column("non_gait_reason")[0].as_py() is None
