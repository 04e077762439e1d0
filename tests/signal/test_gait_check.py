"""Never invent steps: movement without gait's structure gives no steps, and the sessions table
says why (signal/gait_check.py). The signals are benchmarks/gait_features.py's; on main (before the
check) they gave 161 (white noise), 336 (vibration) and 243 (car ride) steps."""

from __future__ import annotations

import numpy as np
import pytest

import real_running
import real_walking
from gait_features import load_voisard, non_gait, raw_of, verdict
from imuback.errors import UnitsError
from imuback.pipeline import process_raw
from imuback.signal.params import GaitCheckParams

WHY = {"white-noise": "not gait", "vibration-2.8Hz": "no horizontal motion at the step rhythm",
       "car-ride": "no horizontal motion at the step rhythm"}


@pytest.mark.parametrize("with_gyro", [True, False], ids=["6-axis", "accelerometer-only"])
@pytest.mark.parametrize("name", list(WHY))
def test_non_gait_gives_no_steps_and_says_why(name, with_gyro):
    acc, gyr = non_gait(np.random.default_rng(7))[name]
    if with_gyro and name != "car-ride":
        # a gyroscope that barely turns while the accelerometer shakes is refused when the session
        # is built (it could be in rad/s), with a message that names the other reading: not worn
        with pytest.raises(UnitsError, match="no gait to find"):
            raw_of(acc, gyr, name=name)
        return
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


@pytest.mark.skipif(not (real_running.DEFAULT_DATA / "real").exists(), reason="../shared/data/real absent")
def test_real_gait_is_never_rejected():
    # every bout of real gait passes, with margin (benchmarks/gait_features.py prints the figures)
    real = real_running.DEFAULT_DATA / "real"
    raws = []
    if (real / "alcantara_treadmill").exists():
        raws += [t.raw for t in real_running.load_trials(real / "alcantara_treadmill")]
    if (real / "voisard_l5_walk").exists():
        raws += load_voisard(real / "voisard_l5_walk")
    if (real / "mobgap_lab").exists():
        raws += [real_walking.mobgap_raw(n, x) for n, x in real_walking.mobgap_mat_trials(real / "mobgap_lab")]
    p = GaitCheckParams()
    for raw in raws:
        v = verdict(raw)
        assert v.keep.all(), raw.session_id
        assert np.all(v.horizontal_ratio >= 2 * p.min_horizontal_ratio), raw.session_id
        rot = v.rotation_dps[np.isfinite(v.rotation_dps)]
        assert np.all(rot >= 1.5 * p.min_rotation_dps), raw.session_id
