"""benchmarks/outside_bouts.py: the sort of detections outside the reference bouts, rule by rule."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import outside_bouts as ob  # noqa: E402


def _row(**kw: object) -> dict:
    base = {"other_ref": False, "foot_silent": False, "pitch_before": 0.0, "pitch_after": 0.0,
            "lat_lo": -0.2, "lat_hi": 0.2, "run": 1}
    return {**base, **kw}


def test_each_rule_applies_in_order():
    assert ob.sort(_row(other_ref=True, pitch_before=20.0, pitch_after=20.0)) == "(a) other ref"
    assert ob.sort(_row(foot_silent=True, run=5)) == "(b) no foot event"
    assert ob.sort(_row(pitch_before=15.0, pitch_after=12.0, run=5)) == "(b) seated"
    # beside sitting: a seat's impact has no step's sway, a step beside a chair has it
    assert ob.sort(_row(pitch_after=12.0, lat_lo=-0.05, lat_hi=0.1, run=5)) == "(b) sit transition"
    assert ob.sort(_row(pitch_after=12.0, lat_lo=-0.2, lat_hi=0.25, run=5)) == "(a) in a walk"
    assert ob.sort(_row(run=ob.RUN_MIN)) == "(a) in a walk"
    assert ob.sort(_row(run=ob.RUN_MIN - 1, pitch_before=-30.0)) == "(c) unclear"


def test_runs_split_at_long_intervals():
    t = np.array([1.0, 1.6, 2.2, 5.0, 5.5, 20.0])
    assert ob._runs(t).tolist() == [3, 3, 3, 2, 2, 1]
    assert ob._runs(np.zeros(0)).size == 0


def test_plot_without_matplotlib_stops_before_any_work(monkeypatch, tmp_path, capsys) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    with pytest.raises(SystemExit) as e:
        ob.main(["--plot", str(tmp_path / "plots"), "--data", str(tmp_path / "nodata")])
    assert e.value.code == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "plots").exists()
