"""Never invent steps: movement without gait's structure gives no steps, and the sessions table
says why (signal/gait_check.py)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import butter, sosfiltfilt

from imuback.pipeline import process_raw
from imuback.signal.frames import G_MPS2
from imuback.store.raw import RawSession

FS_HZ = 100.0
N = int(120 * FS_HZ)
F32 = npt.NDArray[np.float32]


def _raw(acc: npt.NDArray[np.float64], gyr: npt.NDArray[np.float64] | None, name: str) -> RawSession:
    return RawSession(session_id=name, runner_id="r", sensor="test", sample_rate_hz=FS_HZ,
                      time_ns=(1_600_000_000 * 10**9 + np.round(np.arange(N) / FS_HZ * 1e9)).astype(np.int64),
                      acc_mps2=acc.astype(np.float32), gyr_dps=None if gyr is None else gyr.astype(np.float32))


def _white_noise(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """White noise of 0.3 g on every axis around gravity (on main: 152 steps)."""
    return np.array([0.0, 0.0, G_MPS2]) + rng.normal(0.0, 0.3 * G_MPS2, (N, 3))


def _vibration(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """A pure 2.8 Hz vertical vibration of 0.5 g (a machine, a car seat; on main: 336 steps)."""
    t = np.arange(N) / FS_HZ
    acc = np.tile([0.0, 0.0, G_MPS2], (N, 1)) + rng.normal(0.0, 0.01 * G_MPS2, (N, 3))
    acc[:, 2] += 0.5 * G_MPS2 * np.sin(2 * np.pi * 2.8 * t)
    return acc


def _car_ride(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Road bumps (1-15 Hz vertical), engine hum, slow lateral/forward sway of curves and braking
    (on main: 242 steps)."""
    t = np.arange(N) / FS_HZ
    road = sosfiltfilt(butter(2, [1.0, 15.0], "bandpass", fs=FS_HZ, output="sos"), rng.normal(0.0, 1.0, N))
    acc = np.tile([0.0, 0.0, G_MPS2], (N, 1))
    acc[:, 2] += 0.3 * G_MPS2 * road / road.std() + 0.05 * G_MPS2 * np.sin(2 * np.pi * 30.0 * t)
    acc[:, 1] += 0.2 * G_MPS2 * np.sin(2 * np.pi * 0.05 * t)
    acc[:, 0] += 0.1 * G_MPS2 * np.sin(2 * np.pi * 0.03 * t)
    return acc


def _car_gyro(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    gyr = rng.normal(0.0, 0.5, (N, 3))
    gyr[:, 2] += 10.0 * np.sin(2 * np.pi * 0.05 * np.arange(N) / FS_HZ)  # the car turning
    return gyr


@pytest.mark.parametrize("with_gyro", [True, False], ids=["6-axis", "accelerometer-only"])
@pytest.mark.parametrize(("make", "why"), [
    (_white_noise, "not gait"),
    (_vibration, "no horizontal motion at the step rhythm"),
    (_car_ride, "no horizontal motion at the step rhythm"),
], ids=["white-noise", "vibration-2.8Hz", "car-ride"])
def test_non_gait_gives_no_steps_and_says_why(make, why, with_gyro):
    rng = np.random.default_rng(7)
    acc = make(rng)
    gyr = (_car_gyro(rng) if make is _car_ride else rng.normal(0.0, 1.0, (N, 3))) if with_gyro else None
    res = process_raw(_raw(acc, gyr, name=make.__name__.strip("_")))
    assert res.steps.num_rows == 0
    reason = res.sessions.column("non_gait_reason")[0].as_py()
    assert reason is not None and why in reason
    assert "not counted as steps" in res.sessions.column("status_reason")[0].as_py()


def test_gait_keeps_its_steps_and_has_no_reason(analytic_run):
    raw, _truth = analytic_run
    res = process_raw(raw)
    assert res.steps.num_rows > 100
    assert res.sessions.column("non_gait_reason")[0].as_py() is None
