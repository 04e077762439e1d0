"""benchmarks/cadence_bouts.py: the bout cadence listing's per-bout figures and causes on hand-built bouts."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import cadence_bouts as cb  # noqa: E402
import real_walking as rw  # noqa: E402

STEP_S = 0.6


def _trial(ic: np.ndarray, other: np.ndarray | None = None) -> SimpleNamespace:
    def ref(a: np.ndarray) -> rw.Reference:
        return rw.Reference(ic_s=a, foot=np.array(["L", "R"] * (a.size // 2) + ["L"] * (a.size % 2)),
                            to_s=np.full(a.size, np.nan), bout_id=np.zeros(a.size, np.int64),
                            turn=np.zeros(a.size, bool), bouts_s=np.array([[ic[0], ic[-1]]]),
                            speed_mps=np.array([1.0]))
    refs = {"a": ref(ic)} | ({} if other is None else {"b": ref(other)})
    return SimpleNamespace(name="t", refs=refs, raw=SimpleNamespace(sample_rate_hz=100.0))


IC = 1.0 + STEP_S * np.arange(12)


def test_a_detector_on_the_reference_has_no_error() -> None:
    (b,) = cb.bouts(_trial(IC), "a", IC.copy(), None)  # type: ignore[arg-type]
    assert b["n_ref"] == 12 and b["n_ours"] == 12 and b["miss"] == 0 and b["extra"] == 0
    assert abs(b["ours_pct"]) < 1e-9 and b["why"] == "within one sample"  # type: ignore[arg-type]
    assert np.isnan(b["mg_pct"]) and np.isnan(b["other_pct"])  # type: ignore[arg-type]


def test_missed_steps_that_make_the_median_span_two_are_named() -> None:
    ours = IC[[0, 2, 4, 6, 8, 9, 11]]  # every other step gone: most intervals are strides
    (b,) = cb.bouts(_trial(IC), "a", ours, IC)  # type: ignore[arg-type]
    assert b["miss"] == 5 and b["why"] == "missed step: the median spans two"
    assert abs(b["ours_pct"] - (-50.0)) < 1e-6 and abs(b["mg_pct"]) < 1e-9  # type: ignore[operator]


def test_a_late_foot_with_one_interval_more_on_its_side_shifts_the_median_by_the_offset() -> None:
    # one foot's ICs 40 ms late: intervals alternate 640 / 560 ms; 11 intervals, 6 long: the median is long
    ours = IC + np.where(np.arange(12) % 2 == 1, 0.04, 0.0)
    (b,) = cb.bouts(_trial(IC), "a", ours, None)  # type: ignore[arg-type]
    assert abs(b["ours_ms"] - 640.0) < 1e-6 and abs(b["alt_ours"] + 80.0) < 1e-6  # type: ignore[operator]
    assert b["why"] == "left/right alternation -80 ms"
    assert abs(b["ours_pct"] - 100.0 * (600.0 / 640.0 - 1.0)) < 1e-6  # type: ignore[operator]
    # the same offset with 5 long and 5 short intervals: the median averages the two sides
    (b,) = cb.bouts(_trial(IC), "a", ours[1:], None)  # type: ignore[arg-type]
    assert abs(b["ours_ms"] - 600.0) < 1e-6 and b["why"] == "within one sample"


def test_the_other_reference_is_scored_as_a_detector() -> None:
    other = IC * 1.02 - 0.02  # its steps 2 % longer
    (b,) = cb.bouts(_trial(IC, other), "a", IC.copy(), None)  # type: ignore[arg-type]
    assert abs(b["other_pct"] - 100.0 * (1.0 / 1.02 - 1.0)) < 1e-6  # type: ignore[operator]


def test_the_paired_bootstrap_sees_a_tie_and_a_clear_lead() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    lo, hi, share = cb.paired_bootstrap(a, a.copy())
    assert lo == hi == 0.0 and share == 0.0
    lo, hi, share = cb.paired_bootstrap(a + 1.0, a)
    assert lo == hi == 1.0 and share == 1.0
