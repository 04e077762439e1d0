"""A small stand-in RawSession for the simulated peripheral when the full runner simulator is absent.

Sensor frame = body frame here (identity mounting: x forward, y left, z up), gravity on +z,
plus step-rate sinusoids and a little noise: enough to exercise the
BLE path, not a biomechanical model (that is :mod:`imuback.simulate.runner`).
"""

from __future__ import annotations

import time

import numpy as np

from imuback.core import G_MPS2, RawSession


def synthetic_raw(*, minutes: float = 1.0, rate_hz: float = 208.0, seed: int = 0,
                  session_id: str = "sim-session", runner_id: str = "sim-runner",
                  gyro: bool = True, start_ns: int | None = None,
                  drop_rows: tuple[tuple[int, int], ...] = ()) -> RawSession:
    """A running-like raw session: (N, 3) acc in m/s² (incl. gravity), (N, 3) gyro in deg/s.

    ``drop_rows`` removes ``[start_idx, end_idx)`` sample ranges (sensor-side gaps).
    """
    rng = np.random.default_rng(seed)
    n = max(2, int(minutes * 60 * rate_hz))
    t = np.arange(n) / rate_hz
    step_hz = 2.8  # 168 steps/min
    ph = 2 * np.pi * step_hz * t
    acc = np.empty((n, 3), np.float64)
    acc[:, 0] = 2.0 * np.sin(ph + 0.4)                                 # forward: braking/propulsion
    acc[:, 1] = 1.5 * np.sin(ph / 2)                                   # left: side to side, per stride
    acc[:, 2] = G_MPS2 + 8.0 * np.maximum(0.0, np.sin(ph)) ** 3 - 2.5  # up: impacts, incl. gravity
    acc += rng.normal(0, 0.05, acc.shape)
    gyr = np.stack([20 * np.sin(ph / 2), 35 * np.sin(ph / 2 + 1.0), 15 * np.sin(ph)], axis=1)
    gyr += rng.normal(0, 0.3, gyr.shape)
    keep = np.ones(n, bool)
    for a, b in drop_rows:
        keep[a:b] = False
    t0 = time.time_ns() if start_ns is None else start_ns
    time_ns = t0 + np.round(t * 1e9).astype(np.int64)
    return RawSession(session_id=session_id, runner_id=runner_id, sensor="synthetic",
                      sample_rate_hz=rate_hz, time_ns=time_ns[keep],
                      acc_mps2=acc[keep].astype(np.float32),
                      gyr_dps=gyr[keep].astype(np.float32) if gyro else None,
                      acc_range_g=16.0, gyr_range_dps=2000.0)
