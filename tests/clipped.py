"""A simulated run through an accelerometer that clips (±2 g, ±3 g...), for the store and report tests."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np

from imuback.core import G_MPS2, RawSession
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

T0_NS = 1_709_535_600 * 10**9  # 2024-03-04 07:00 UTC


@cache
def asymmetric_run() -> RawSession:
    """5 min of running; the right foot lands ~14 % harder, so clipping takes more right contacts."""
    return simulate_session(RunnerParams(run_minutes=5, impact_asymmetry_pct=-14.0), seed=1,
                            session_id="clip", runner_id="r1", start_time=T0_NS).raw


def clipped(raw: RawSession, range_g: float, *, declared: bool = False) -> RawSession:
    """``raw`` with every accelerometer axis clipped at ±``range_g``, the range declared in the
    file's metadata or not (then found from the data).
    """
    lim = np.float32(range_g * G_MPS2)
    return dataclasses.replace(raw, acc_mps2=np.clip(raw.acc_mps2, -lim, lim),
                               acc_range_g=range_g if declared else None)
