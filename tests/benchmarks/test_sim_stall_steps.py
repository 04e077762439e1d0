"""benchmarks/sim_stall_steps.py: the per-step table around the simulated steps into a stall."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import sim_stall_steps  # noqa: E402


def _rows() -> dict[str, np.ndarray]:
    # 8 steps; step 3 leads into a stall (T/med 3), step 6 is a shuffle elsewhere
    n = 8
    return {"ic_s": np.arange(n) + 10.0, "T": np.r_[0.6, 0.6, 0.6, 1.8, 0.6, 0.6, 0.6, 0.6],
            "T_rel": np.r_[1.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 1.0],
            "v_rel": np.r_[1.0, 0.9, 1.1, 0.4, 1.6, 1.0, 0.45, 1.0],
            "vgrf_rel": np.r_[1.0, 1.0, 1.0, 0.3, 1.5, 1.0, 0.5, 1.0],
            "shuffle": np.r_[0, 0, 0, 1, 0, 0, 1, 0].astype(float), "rise_mm": np.full(n, 10.0),
            "top_mm": np.full(n, 1.0)}


def test_stall_table_shows_each_stall_step_between_its_neighbours() -> None:
    lines = sim_stall_steps.stall_table(_rows())
    assert [ln.split()[0] for ln in lines] == ["12.00", ">", "14.00"]
    assert lines[1].split()[1:4] == ["13.00", "shuffle", "1.80"]


def test_summary_line_keeps_stalls_shuffles_and_plain_steps_apart() -> None:
    cells = sim_stall_steps.summary_line("v", _rows()).split("|")
    stall, shuffles, plain = (c.split() for c in cells[1:])
    assert stall == ["1", "0.40", "1", "0.30", "10.0"]  # the weak stall step
    assert shuffles == ["1", "0.45", "1", "0.50", "10.0"]  # step 6 (steps 2-4 are next to the stall)
    assert plain[:3] == ["4", "1.00", "0"]  # steps 0, 1, 5, 7


def test_kept_ics_needs_a_next_ic_and_a_second_either_side() -> None:
    ic = np.array([0.5, 2.0, 2.6, 7.0, 7.6, 9.5])  # 7.6 + 1 s runs past the 850 samples
    assert sim_stall_steps.kept_ics(ic, n=850, fs=100.0).tolist() == [False, True, False, True, False, False]
