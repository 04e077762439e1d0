"""The session report's drift clock and windows: those of the pipeline's drift numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from imuback.report import session
from imuback.report.session import build_session_report

Fabricate = Callable[..., tuple[Path, list[str]]]


def _steps(activity_minutes: list[tuple[str, float]]) -> pd.DataFrame:
    """One step every 0.5 s through consecutive (activity, minutes) bouts from 07:00 UTC."""
    start, rows = pd.Timestamp("2024-03-04 07:00", tz="UTC"), []
    t = 0.0
    for activity, minutes in activity_minutes:
        for _ in range(int(minutes * 120)):
            rows.append({"activity": activity, "ic_time": start + pd.Timedelta(seconds=t)})
            t += 0.5
    return pd.DataFrame(rows)


def test_drift_clock_starts_at_the_first_running_step() -> None:
    # 3 min of warm-up walking, then 16 min of running: the run ends at minute 16, not 19
    steps = _steps([("walk", 3.0), ("run", 16.0)])
    t0, windows = session._drift_clock(steps, {"params_json": "{}"})
    assert t0 == pd.Timestamp("2024-03-04 07:03", tz="UTC")
    assert windows is not None
    assert (windows.baseline_min, windows.late_min) == ((2.0, 9.0), (9.0, 16.0))


def test_drift_clock_uses_the_recorded_baseline_window() -> None:
    steps = _steps([("run", 30.0)])
    params = '{"metrics": {"baseline_start_min": 3.0, "baseline_end_min": 8.0}}'
    _, windows = session._drift_clock(steps, {"params_json": params})
    assert windows is not None and windows.text == "last 10 min (min 20–30) vs min 3–8"
    assert session._drift_clock(_steps([("walk", 20.0)]), {})[1] is None


@pytest.mark.parametrize(("minutes", "header", "early", "late"), [
    (24.0, "Last 10 min (min 14–24) vs min 2–10", "early: min 2–10", "late: last 10 min (min 14–24)"),
    (14.0, "Min 8–14 vs min 2–8", "early: min 2–8", "late: min 8–14"),
])
def test_session_report_prints_and_draws_the_windows_used(fabricate: Fabricate, minutes: float,
                                                          header: str, early: str, late: str) -> None:
    dataset, ids = fabricate(weeks=1, minutes=minutes)
    html = build_session_report(dataset, ids[-1])
    assert f'<th scope="col">{header}</th>' in html
    assert early in html and late in html
    assert "minutes since the first running step" in html
    assert "Last 10 min vs min 2–10" not in html


def test_the_header_says_how_many_steps_are_of_low_confidence(tmp_path) -> None:
    import imuback
    from imuback.report.session import build_session_report
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=1.0)
    imuback.process(raw, dataset=tmp_path / "ds")
    html = build_session_report(tmp_path / "ds", raw.session_id)
    assert "Step confidence" in html and "every step of normal confidence" in html  # a clean analytic run


def test_the_header_gives_the_share_of_low_confidence_steps(fabricate) -> None:
    from imuback.report.session import build_session_report

    dataset, ids = fabricate(weeks=2, low_quality_every=10)
    html = build_session_report(dataset, ids[-1])
    assert "10 % of steps of low confidence" in html and "grey in the plots" in html
    assert "a low-quality share, the reason in words" in html  # sessions.low_quality_reason, as stored
