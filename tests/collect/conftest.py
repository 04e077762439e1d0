from __future__ import annotations

import numpy as np

from imuback.core import RawSession
from imuback.simulate.peripheral_data import synthetic_raw


def make_raw(*, rate_hz: float, seconds: float, seed: int = 0, **kw: object) -> RawSession:
    return synthetic_raw(minutes=seconds / 60.0, rate_hz=rate_hz, seed=seed, **kw)  # type: ignore[arg-type]


def assert_accounted(raw_idx: np.ndarray, got_n: int, gaps: tuple[dict, ...], *,
                     expected_span: int | None = None) -> None:
    """Rows + samples reported lost == samples the sensor produced between first and last row."""
    lost = sum(int(g["samples_lost"]) for g in gaps)
    span = expected_span if expected_span is not None else int(raw_idx.size)
    assert got_n + lost == span, (got_n, lost, span)
