"""benchmarks/walk_misses.py --extras: each kind of extra detection, built by hand."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import real_walking as rw  # noqa: E402
import walk_misses as wm  # noqa: E402


def _det(ic: list[float]) -> rw.Detected:
    a = np.asarray(ic, dtype=np.float64)
    return rw.Detected(ic_s=a, to_s=np.full(a.size, np.nan), foot=np.full(a.size, ""))


def test_extra_rows_name_the_stage_the_double_and_the_reference_gap():
    # reference: L R L R every 0.5 s, then the foot sensors skip the L step at 3.0 s (R at 2.5 and 3.5 s)
    ic = np.array([1.0, 1.5, 2.0, 2.5, 3.5, 4.0])
    foot = np.array(["L", "R", "L", "R", "R", "L"])
    ref = rw.Reference(ic_s=ic, foot=foot, to_s=np.full(ic.size, np.nan), bout_id=np.zeros(ic.size, np.int64),
                       turn=np.zeros(ic.size, bool), bouts_s=np.array([[1.0, 4.0]]), speed_mps=np.array([1.0]),
                       trial_s=(0.5, 3.8))
    trial = SimpleNamespace(name="t", subject="s", refs={"ref": ref}, tilt_deg=0.0)
    # detections: every reference step, a second one 0.2 s into the stance at 1.5 s, the step the
    # reference lost at 3.0 s, and the one at 4.0 s (after the trial's walk)
    det = _det([1.0, 1.5, 1.7, 2.0, 2.5, 3.0, 3.5, 4.0])
    full = {"bridge": _det([1.0, 1.5, 1.7, 2.0, 2.5, 3.5, 4.0]),  # 3.0 s came from the bridge
            "fill": det, "rhythm": det, "forward": _det([1.0, 1.5, 1.62, 2.0, 2.5, 3.0, 3.5, 4.0])}
    rows = wm.extra_rows(trial, det, "ref", full)
    by_t = {round(float(r["t_s"]), 2): r for r in rows}
    assert sorted(by_t) == [1.7, 3.0]
    double, lost = by_t[1.7], by_t[3.0]
    assert double["kind"] == "near" and double["double"] and double["stage"] == "forward"
    assert wm._cause(double) == "double"
    assert lost["kind"] == "far" and lost["stage"] == "bridge" and lost["ref_twice"]
    assert wm._cause(lost) == "reference: one foot twice"
    # outside the trial's walk comes first
    assert wm._cause({**lost, "outside": True}) == "outside the trial"
