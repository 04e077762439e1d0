"""Level-frame lateral acceleration (src/imuback/signal/orientation.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import sosfiltfilt

from imuback.core import ImuBlock
from imuback.signal.dsp import butter_sos, prefix_sum
from imuback.signal.orientation import level_lateral


def _block(bounds: list[int], fs_hz: float, seed: int) -> tuple[ImuBlock, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = bounds[-1]
    t = np.arange(n) / fs_hz
    roll_dps = 40.0 * np.sin(2 * np.pi * 1.4 * t) + rng.normal(0.0, 5.0, n) + 0.7  # gait + noise + bias
    gyr = np.asfortranarray(np.column_stack([roll_dps, rng.normal(size=n), rng.normal(size=n)]))
    acc = np.asfortranarray(np.column_stack([rng.normal(size=n), 2.0 * rng.normal(size=n) + 0.5,
                                             9.81 + 3.0 * rng.normal(size=n)]))
    gyr_int = np.stack([prefix_sum(gyr[:, k]) for k in range(3)]) / fs_hz
    block = ImuBlock(t_s=t, acc_mps2=acc, gyr_dps=gyr, frame="body", fs_hz=fs_hz,
                     seg_bounds=np.asarray(bounds, dtype=np.int64), t0_ns=0)
    return block, gyr_int


def _full_rate_roll(gyr_int: np.ndarray, bounds: np.ndarray, fs_hz: float, q: int) -> np.ndarray:
    """The roll as a full-rate array (held over each block), as it was built before."""
    out = np.zeros(gyr_int.shape[1] - 1)
    sos = butter_sos(2, (0.3 / (fs_hz / q / 2.0),), "highpass").copy()
    for a, b in itertools.pairwise(bounds):
        blocks = -(-(b - a) // q)
        if blocks > 30:
            mid = gyr_int[0, a + q // 2 + 1 : b + 1 : q]
            if mid.size < blocks:
                mid = np.append(mid, gyr_int[0, b])
            held = sosfiltfilt(sos, np.radians(mid))
            full = (b - a) // q
            out[a : a + full * q].reshape(full, q)[:] = held[:full, None]
            out[a + full * q : b] = held[full:]
    return out


@pytest.mark.parametrize(("bounds", "fs_hz", "q"), [([0, 4003, 4050, 9000, 12_345], 200.0, 4),
                                                     ([0, 3001], 100.0, 2), ([0, 100, 5000], 416.0, 8)])
def test_level_lateral_is_fy_minus_the_held_roll_times_fz_bit_for_bit(bounds: list[int], fs_hz: float,
                                                                      q: int) -> None:
    # φ applied block by block is the same arithmetic as a full-rate φ array: the same bits,
    # with segments that do not end on a block and one too short for the roll (φ = 0)
    block, gyr_int = _block(bounds, fs_hz, seed=len(bounds))
    roll = _full_rate_roll(gyr_int, block.seg_bounds, fs_hz, q)
    want = block.acc_mps2[:, 1] - roll * block.acc_mps2[:, 2]
    got = level_lateral(block, gyr_int, highpass_hz=0.3)
    assert np.array_equal(got, want)
    assert np.std(roll) > 0.03  # the roll is there (rad): the lateral is not just f_y
    if bounds[1:3] == [4003, 4050]:  # the 47-sample segment is too short: f_y unchanged there
        assert np.array_equal(got[4003:4050], block.acc_mps2[4003:4050, 1])


def test_without_a_gyroscope_the_lateral_is_the_body_frame_fy() -> None:
    block, _ = _block([0, 1000], 200.0, seed=1)
    got = level_lateral(block, None, highpass_hz=0.3)
    assert np.array_equal(got, block.acc_mps2[:, 1])
    assert got.flags.writeable and not np.shares_memory(got, block.acc_mps2)
