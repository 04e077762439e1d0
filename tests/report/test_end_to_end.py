"""Simulator -> pipeline -> dataset -> both reports, checked in Chromium.

A simulated runner over 4 weeks (2 sessions of 21 min a week) develops a right-side impact asymmetry
in the last two weeks (impact_asymmetry_pct = 100 (L-R)/mean: negative = right higher).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from imuback.report.session import write_session_report
from imuback.report.trends import write_trends_report

WEEKS, PER_WEEK = 4, 2
ASYMMETRY = (0.0, 0.0, -30.0, -30.0)  # per week, % of the impact transient (right higher)


@pytest.fixture(scope="module")
def simulated_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    runner = pytest.importorskip("imuback.simulate.runner")
    pipeline = pytest.importorskip("imuback.pipeline")
    root = tmp_path_factory.mktemp("e2e")
    ids = []
    for k in range(WEEKS * PER_WEEK):
        week, nth = divmod(k, PER_WEEK)
        params = runner.RunnerParams(run_minutes=21.0, stand_start_s=5.0, stand_end_s=5.0,
                                     walk_start_s=10.0, walk_end_s=10.0,
                                     impact_asymmetry_pct=ASYMMETRY[week])
        start = datetime(2024, 3, 4, 7, tzinfo=UTC) + timedelta(days=7 * week + 3 * nth)
        sim = runner.simulate_session(params, seed=100 + k, session_id=f"sim-{k:02d}",
                                      runner_id="simrunner", start_time=start)
        raw = runner.write_simulated(sim, root / "raw")
        pipeline.process_file(raw, dataset=root / "dataset")
        ids.append(f"sim-{k:02d}")
    return root / "dataset", ids


def test_simulated_runner_reports(simulated_dataset: tuple[Path, list[str]], tmp_path: Path,
                                  page_check: Any) -> None:
    dataset, ids = simulated_dataset
    trends = write_trends_report(dataset, "simrunner", tmp_path / "trends.html")
    page, problems = page_check.open(trends)
    try:
        assert page_check.plots(page, minimum=16) == 16
        page_check.footer(page)
        flags = page.locator("#flags").inner_text()
        sessions = page.locator("#sessions tbody tr").count()
    finally:
        page.close()
    assert problems == []
    assert sessions == len(ids)
    # the developing asymmetry is found and named, with the side
    assert "Impact (sacrum peak) is" in flags and "higher on the right side" in flags, flags

    session = write_session_report(dataset, ids[-1], tmp_path / "session.html")
    page, problems = page_check.open(session)
    try:
        assert page_check.plots(page, minimum=14) == 14
        page_check.footer(page)
        header = page.locator("dl.facts").first.inner_text()
        side_rows = page.locator("table.sides tbody tr").count()
    finally:
        page.close()
    assert problems == []
    assert "simrunner" in header and "from its nominal mounting" in header
    assert side_rows == 8
