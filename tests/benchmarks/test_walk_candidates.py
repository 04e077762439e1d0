"""benchmarks/walk_candidates.py: the vertical-signal ICs pair one-to-one with the pipeline's steps."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import walk_candidates as wc  # noqa: E402


def test_vertical_ics_pair_one_to_one_and_the_rest_are_counted() -> None:
    steps = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 3.1])
    # two vertical ICs near the step at 1.5 (the nearer pairs), one far from every step, and one
    # between two close steps (it pairs once)
    vertical = np.array([0.98, 1.46, 1.55, 2.02, 3.05, 4.0])
    paired, unpaired = wc.paired_vertical_s(vertical, steps)
    assert paired.tolist() == [0.98, 1.46, 2.02, 3.05]
    assert unpaired == 2
    # within WINDOW_S[0] and no further
    tol = wc.WINDOW_S[0]
    assert wc.paired_vertical_s(np.array([1.0 - tol + 1e-6]), np.array([1.0]))[1] == 0
    assert wc.paired_vertical_s(np.array([1.0 - tol - 1e-6]), np.array([1.0]))[1] == 1
    empty, n = wc.paired_vertical_s(np.zeros(0), steps)
    assert empty.size == 0 and n == 0
    assert wc.paired_vertical_s(vertical, np.zeros(0))[1] == vertical.size
