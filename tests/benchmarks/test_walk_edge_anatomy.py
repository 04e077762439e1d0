"""benchmarks/walk_edge_anatomy.py: each class of a missed first / last step of a walk, built by hand."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import walk_edge_anatomy as wea  # noqa: E402
from imuback.signal.params import EventParams  # noqa: E402

P = EventParams()
# a closing step with a weak vertical maximum that lands, one step after the last detection: in
# reach of the gait-termination rule
IN_REACH = wea.EdgeMiss(edge="last2", trial="t", ref_ic_s=10.0, nearest_free_s=np.inf, misplaced=False,
                        ref_pause_steps=1.0, in_bout=True, prominence_g=0.05, rise_share=0.5,
                        rhythm_off_steps=0.1, fall_share=0.3)


def test_each_class_in_the_order_of_the_docstring() -> None:
    assert wea.kind_of(IN_REACH, P) == "other"
    cases = [
        ({"rhythm_off_steps": 0.4}, "off rhythm"),
        ({"rhythm_off_steps": np.inf}, "off rhythm"),  # no neighbouring detection on that side
        ({"rise_share": 0.1}, "no landing"),
        ({"prominence_g": 0.02}, "weak"),
        ({"prominence_g": np.nan, "rise_share": np.nan}, "no maximum"),
        ({"in_bout": False}, "outside bout"),
        ({"ref_pause_steps": 3.5}, "after pause"),
        ({"ref_pause_steps": np.inf}, "after pause"),  # the only reference IC of its walk
        ({"misplaced": True, "ref_pause_steps": 3.5, "in_bout": False}, "misplaced"),
    ]
    for change, kind in cases:
        assert wea.kind_of(dataclasses.replace(IN_REACH, **change), P) == kind, change
    assert set(k for _, k in cases) | {"other"} == set(wea.KINDS)


def test_the_classes_follow_the_detector_s_constants() -> None:
    # the same miss is in or out of reach as the detector's floors and rhythm tolerance move
    m = dataclasses.replace(IN_REACH, prominence_g=0.025, rise_share=0.15, rhythm_off_steps=0.3)
    assert wea.kind_of(m, P) == "weak"
    assert wea.kind_of(m, dataclasses.replace(P, walk_weak_prominence_g=0.02)) == "no landing"
    assert wea.kind_of(m, dataclasses.replace(P, walk_weak_prominence_g=0.02, walk_weak_rise_frac=0.1)) == "off rhythm"
    assert wea.kind_of(m, dataclasses.replace(P, walk_weak_prominence_g=0.02, walk_weak_rise_frac=0.1,
                                              walk_missed_tol_steps=0.35)) == "other"
