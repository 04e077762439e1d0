"""Speed, pace, step and stride length, vertical ratio: known answers on simulated runs.

The simulated runner runs at a known constant speed (no pace changes), so its true step length is
speed x true step time and its true stride length speed x true stride time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from imuback.errors import RawFormatError
from imuback.pipeline import SessionTables, process_file, process_raw
from imuback.signal.metrics import step_lengths, stride_lengths
from imuback.simulate.runner import RunnerParams, SimulatedSession, simulate_session, write_simulated
from imuback.store.schema import SPEED_SOURCES

SPEED_MPS = 3.2


@pytest.fixture(scope="module")
def steady() -> SimulatedSession:
    """Four minutes of running at a constant 3.2 m/s, no walking breaks."""
    p = RunnerParams(run_minutes=4.0, speed_mps=SPEED_MPS, speed_changes=0, walk_breaks=0)
    return simulate_session(p, seed=11, session_id="steady", runner_id="r1",
                            start_time=dt.datetime(2024, 3, 4, 7, tzinfo=dt.UTC))


def _truth_running(sim: SimulatedSession) -> tuple[float, float, float]:
    """(true median step length, true median stride length, true median vertical ratio) of running."""
    steps = sim.truth_steps.to_pandas()
    strides = sim.truth_strides.to_pandas()
    run = steps[steps["activity"] == "run"]
    step_len = SPEED_MPS * run["step_time_s"]
    return (float(step_len.median()),
            float(SPEED_MPS * strides.loc[strides["activity"] == "run", "stride_time_s"].median()),
            float((run["vertical_oscillation_cm"] / step_len).median()))


def _close(got: float, want: float, pct: float) -> None:
    assert abs(got - want) <= pct / 100 * abs(want), f"{got} vs {want} (more than {pct} % apart)"


def test_step_length_and_vertical_ratio_are_speed_times_time_and_oscillation_over_length() -> None:
    length, ratio = step_lengths(np.array([3.0, np.nan, 3.0, 0.0]), np.array([0.35, 0.35, np.nan, 0.35]),
                                 np.array([8.4, 8.0, 8.0, 8.0]))
    np.testing.assert_allclose(length, [1.05, np.nan, np.nan, np.nan])
    np.testing.assert_allclose(ratio, [8.0, np.nan, np.nan, np.nan])  # 8.4 cm over 1.05 m = 8 %
    np.testing.assert_allclose(stride_lengths(np.array([1.0, 1.1, np.nan, 1.2]), np.array([0, 1, 2])),
                               [2.1, np.nan, np.nan])


def test_treadmill_speed_gives_stride_length_and_pace_within_2_percent(steady: SimulatedSession) -> None:
    s = process_raw(steady.raw, treadmill_speed_mps=SPEED_MPS).summary
    true_step, true_stride, true_ratio = _truth_running(steady)
    assert s["speed_source"] == "treadmill" and s["treadmill_speed_mps"] == SPEED_MPS
    assert s["speed_coverage_pct"] == 100.0
    assert s["median_pace_s_per_km"] == pytest.approx(1000 / SPEED_MPS)
    _close(s["median_step_length_m"], true_step, 2.0)
    _close(s["median_stride_length_m"], true_stride, 2.0)
    _close(s["median_vertical_ratio_pct"], true_ratio, 5.0)


def test_gps_speed_gives_step_lengths_where_there_is_a_fix(steady: SimulatedSession) -> None:
    raw = steady.raw
    speed = np.full(raw.n_samples, SPEED_MPS, dtype=np.float32)
    t_s = (raw.time_ns - raw.time_ns[0]) / 1e9
    speed[t_s < 90.0] = np.nan  # no fix in the first 90 s (standing, walking and the first minute)
    res = process_raw(dataclasses.replace(raw, speed_mps=speed))
    s = res.summary
    assert s["speed_source"] == "gps" and s["treadmill_speed_mps"] is None
    assert 40.0 < s["speed_coverage_pct"] < 90.0
    steps = res.steps.to_pandas()
    with_fix = steps["speed_mps"].notna() & steps["step_time_s"].notna()
    assert with_fix.any() and steps.loc[~steps["speed_mps"].notna(), "step_length_m"].isna().all()
    np.testing.assert_allclose(steps.loc[with_fix, "step_length_m"],
                               steps.loc[with_fix, "speed_mps"] * steps.loc[with_fix, "step_time_s"])
    true_step, true_stride, _ = _truth_running(steady)
    _close(s["median_step_length_m"], true_step, 2.0)
    _close(s["median_stride_length_m"], true_stride, 2.0)


def test_without_a_speed_source_nothing_is_guessed(steady: SimulatedSession) -> None:
    res = process_raw(steady.raw)
    s = res.summary
    assert s["speed_source"] == "none" and s["speed_source"] in SPEED_SOURCES
    for col in ("median_speed_mps", "median_pace_s_per_km", "median_step_length_m", "median_stride_length_m",
                "median_vertical_ratio_pct", "treadmill_speed_mps"):
        assert s[col] is None, col
    assert res.steps.column("step_length_m").null_count == res.steps.num_rows
    assert res.strides.column("stride_length_m").null_count == res.strides.num_rows


@pytest.mark.parametrize("bad", [0.0, -3.0, 40.0, float("nan")])
def test_a_treadmill_speed_that_is_no_belt_speed_is_refused(steady: SimulatedSession, bad: float) -> None:
    with pytest.raises(RawFormatError, match=r"treadmill speed .* is not a belt speed"):
        process_raw(steady.raw, treadmill_speed_mps=bad)


def _stored(dataset: Path) -> dict[str, object]:
    row: dict[str, object] = pq.read_table(next((dataset / "sessions").rglob("*.parquet"))).to_pylist()[0]
    return row


def test_a_given_treadmill_speed_is_kept_when_the_session_is_processed_again(steady: SimulatedSession,
                                                                           tmp_path: Path) -> None:
    path = write_simulated(steady, tmp_path / "raw")
    ds = tmp_path / "ds"
    first: SessionTables = process_file(path, dataset=ds, treadmill_speed_mps=3.0)
    assert first.summary["speed_source"] == "treadmill"
    again = process_file(path, dataset=ds)  # e.g. a batch run after a new pipeline version
    assert again.summary["treadmill_speed_mps"] == 3.0 and _stored(ds)["treadmill_speed_mps"] == 3.0
    process_file(path, dataset=ds, treadmill_speed_mps=SPEED_MPS)  # corrected: the new speed is stored
    row = _stored(ds)
    assert row["treadmill_speed_mps"] == SPEED_MPS and row["median_pace_s_per_km"] == pytest.approx(312.5)


def test_process_speed_mps_on_the_command_line(steady: SimulatedSession, tmp_path: Path) -> None:
    from imuback.cli import main

    path = write_simulated(steady, tmp_path / "raw")
    assert main(["process", str(path), "--dataset", str(tmp_path / "ds"), "--speed-mps", "3.2"]) == 0
    row = _stored(tmp_path / "ds")
    assert row["speed_source"] == "treadmill" and row["median_speed_mps"] == SPEED_MPS
