"""Resampling onto the nominal grid: which gaps are bridged and which split the recording."""

from __future__ import annotations

import numpy as np

from imuback.signal.resample import to_grid


def _recording(fs: float, n: int, missing: slice) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(n, bool)
    keep[missing] = False
    t_ns = (np.arange(n) * 1e9 / fs).astype(np.int64)[keep]
    acc = np.column_stack([np.zeros(n), np.zeros(n), np.full(n, 9.81)])[keep].astype(np.float32)
    return t_ns, acc


def test_a_few_dropped_wireless_packets_do_not_split_the_recording():
    # voisard_l5_walk's Xsens link drops up to ~9 consecutive packets at 100 Hz: a 80 ms gap is far
    # shorter than a step (> 0.22 s) and must not cut a walk into pieces
    t_ns, acc = _recording(100.0, 3000, slice(1500, 1508))
    block, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert block.seg_bounds.size == 2 and gaps.dropped_s == 0.0


def test_a_gap_of_half_a_step_splits_the_recording():
    t_ns, acc = _recording(100.0, 3000, slice(1500, 1515))  # 150 ms: could hold a contact edge
    block, _ = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert block.seg_bounds.size == 3
