"""benchmarks/slow_steps.py: the steps into a stall and the weak steps, counted both ways."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import slow_steps  # noqa: E402


def test_stall_line_counts_stalls_and_weak_steps_both_ways() -> None:
    # 3 steps into a stall (T/med > 1.6), one of them weak (vert/med < 0.5); 3 more weak steps
    # (one at T/med 1.6: not a stall)
    r = {"T_rel": np.array([1.0, 1.7, 2.5, 1.61, 1.0, 1.0, 1.6]),
         "v_rel": np.array([1.0, 0.4, 1.9, 0.8, 0.2, 0.49, 0.1])}
    cells = slow_steps.stall_line("set", r).replace("|", " ").split()
    assert cells == ["set", "3", "1", "0.40", "to", "1.90", "4", "1"]
