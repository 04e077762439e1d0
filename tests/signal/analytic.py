"""Analytic sessions with known answers (independent of the simulator): half-sine contacts."""

from __future__ import annotations

import numpy as np

from imuback.core import G_MPS2, RawSession
from imuback.signal.frames import rot_x, rot_z

T0_NS = 1_700_000_000 * 10**9


def half_sine_run(*, fs: float = 200.0, minutes: float = 3.0, step_s: float = 0.36, contact_s: float = 0.24,
                  mounting_err_deg: tuple[float, float] = (0.0, 0.0), gyro: bool = True,
                  drop_deg: float | None = None, seed: int = 0) -> tuple[RawSession, dict[str, float]]:
    """A running session of identical half-sine contacts (vGRF mean 1 BW per step); even steps RIGHT.

    Body frame: x forward, y left, z up. Rotated into a sensor frame by a known misalignment.
    ``drop_deg``: instead of the sinusoidal roll, the pelvis rolls so that the swing side drops by
    this much (a half-sine) in every stance and is level in flight.
    """
    t = np.arange(int(minutes * 60 * fs)) / fs
    ph = t % step_s
    k = (t // step_s).astype(int)
    hump = np.where(ph < contact_s, np.sin(np.pi * ph / contact_s), 0.0)
    f_bw = hump * step_s / (contact_s * 2 / np.pi)  # mean over a step = 1 BW
    side = np.where(k % 2 == 0, 1.0, -1.0)  # right contact pushes the body left (+y)
    ay = 0.3 * side * hump
    ax = np.where(ph < contact_s, -0.5 * np.sin(2 * np.pi * ph / contact_s), 0.0)  # brake then push
    acc_body = np.column_stack([ax, ay, f_bw]) * G_MPS2
    w = 2 * np.pi / (2 * step_s)
    gyr_body = np.column_stack([30 * np.sin(w * t), 10 * np.sin(2 * w * t), 20 * np.sin(w * t)])
    if drop_deg is not None:  # left stance (odd steps): roll rises (right side drops), right: falls
        roll_rate = -side * drop_deg * np.pi / contact_s * np.cos(np.pi * ph / contact_s)
        gyr_body[:, 0] = np.where(ph < contact_s, roll_rate, 0.0)
    r_err = rot_z(np.radians(mounting_err_deg[1])) @ rot_x(np.radians(mounting_err_deg[0]))
    # sensor frame: v_sensor = r_err^T v_body; nominal mounting is identity
    rng = np.random.default_rng(seed)
    acc = acc_body @ r_err + rng.normal(0, 0.05, acc_body.shape)
    gyr = gyr_body @ r_err + rng.normal(0, 0.1, gyr_body.shape)
    raw = RawSession(session_id="analytic", runner_id="r1", sensor="analytic", sample_rate_hz=fs,
                     time_ns=(T0_NS + np.round(t * 1e9)).astype(np.int64), acc_mps2=acc.astype(np.float32),
                     gyr_dps=gyr.astype(np.float32) if gyro else None)
    truth = {
        "step_s": step_s, "contact_s": contact_s, "peak_bw": float(f_bw.max()),
        "obliquity_deg": 2 * 30 / w, "tilt_deg": 2 * 10 / (2 * w), "rotation_deg": 2 * 20 / w,
        "misalignment_deg": float(np.degrees(np.arccos((np.trace(r_err) - 1) / 2))),
        "braking_peak_g": 0.5, "braking_impulse_mps": 0.5 * G_MPS2 * contact_s / np.pi,
    }
    return raw, truth
