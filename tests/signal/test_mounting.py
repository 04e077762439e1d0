"""Re-seat detection (src/imuback/signal/mounting.py): known answers on arrays and on a simulated phone."""

from __future__ import annotations

import dataclasses

import numpy as np

from imuback.core import G_MPS2
from imuback.signal.frames import rot_x, rot_y
from imuback.signal.mounting import mounting_shifts, step_change_deg

FS = 50.0


def _running_like(minutes: float, seed: int) -> np.ndarray:
    """(N, 3) body-frame specific force: gravity up plus step-frequency bouncing and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(minutes * 60 * FS)) / FS
    f = np.zeros((t.size, 3))
    f[:, 2] = G_MPS2 * (1.0 + 1.2 * np.sin(2 * np.pi * 2.8 * t))
    f[:, 0] = 3.0 * np.sin(2 * np.pi * 2.8 * t + 1.0)
    f[:, 1] = 2.0 * np.sin(2 * np.pi * 1.4 * t)
    return f + rng.normal(0.0, 1.0, f.shape)


def test_a_step_change_of_the_mounting_is_found_when_and_by_how_much() -> None:
    f = _running_like(10.0, 1)
    t = np.arange(f.shape[0]) / FS
    after = t >= 200.0
    f[after] = f[after] @ rot_x(np.radians(10.0)).T  # the sensor turned 10° about x at 200 s
    shifts = mounting_shifts(f, np.ones(t.size, dtype=bool), t, fs_hz=FS)
    assert shifts.n == 1
    assert abs(shifts.t_s[0] - 200.0) <= 10.0 and 8.0 < shifts.angle_deg[0] < 11.0


def test_a_steady_or_slowly_changing_posture_is_not_a_reseat() -> None:
    f = _running_like(10.0, 2)
    t = np.arange(f.shape[0]) / FS
    assert mounting_shifts(f, np.ones(t.size, dtype=bool), t, fs_hz=FS).n == 0
    tilt = np.radians(10.0) * t / t[-1]  # 10° of forward lean over the whole run: not a step change
    slow = np.einsum("nij,nj->ni", rot_y(tilt), f)
    assert mounting_shifts(slow, np.ones(t.size, dtype=bool), t, fs_hz=FS).n == 0


def test_too_little_gait_gives_no_verdict() -> None:
    f = _running_like(0.9, 3)
    idx, ang = step_change_deg(f, np.ones(f.shape[0], dtype=bool), fs_hz=FS)
    assert idx.size == ang.size == 0  # 54 s: fewer than 2 x 3 windows of 10 s


def test_the_simulated_phones_reseats_are_found_and_a_still_phone_has_none() -> None:
    from imuback.cli.demo import phone_params
    from imuback.signal.session import analyse_session
    from imuback.simulate.runner import simulate_session

    p = phone_params(8.0)
    moved = simulate_session(p, seed=3, session_id="m", runner_id="r", start_time=0)
    true_s = np.array([s["t_s"] for s in moved.truth["belt"]["shifts"]])
    found = analyse_session(moved.raw).mounting_shifts
    assert true_s.size == 3 and found.n >= 2  # at 170, 464, 585 s; the last in the final walk
    assert np.min(np.abs(found.t_s[:, None] - true_s[None, :]), axis=1).max() <= 15.0  # each found is a true one
    still = simulate_session(dataclasses.replace(p, belt_shifts_per_10min=0.0), seed=3, session_id="s",
                             runner_id="r", start_time=0)
    assert analyse_session(still.raw).mounting_shifts.n == 0
