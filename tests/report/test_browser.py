"""Both reports as a person sees them: headless Chromium (Debian) driven by Playwright.

The ``browser`` and ``page_check`` fixtures live in conftest.py (skip without Chromium, fail
under CI). Set IMUBACK_UPDATE_SCREENSHOTS=1 to refresh docs/report_session.png and
docs/report_trends.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imuback.report.session import write_session_report
from imuback.report.trends import write_trends_report


def test_session_report_in_chromium(page_check: Any, demo_dataset: tuple[Path, list[str]],
                                    tmp_path: Path) -> None:
    dataset, ids = demo_dataset
    html = write_session_report(dataset, ids[-1], tmp_path / "session.html")
    page, problems = page_check.open(html)
    try:
        assert page.title().startswith("imuback session report")
        assert page_check.plots(page, minimum=14) == 14  # 5 drift + 9 distributions
        flags = page.locator("#flags .flag")
        assert flags.count() >= 3
        text = page.locator("#flags").inner_text()
        assert "Right-side impact (sacrum peak) 12 % higher than the baseline" in text
        assert "rises late in the run" in text
        assert page.locator("table.metrics tbody tr").count() == 12
        assert page.locator("table.sides tbody tr").count() == 5
        page_check.footer(page)
        page_check.screenshot(page, "report_session.png", tmp_path)
    finally:
        page.close()
    assert problems == []


def test_trends_report_in_chromium(page_check: Any, demo_dataset: tuple[Path, list[str]],
                                   tmp_path: Path) -> None:
    dataset, _ = demo_dataset
    html = write_trends_report(dataset, "r1", tmp_path / "trends.html")
    page, problems = page_check.open(html)
    try:
        assert page_check.plots(page, minimum=16) == 16  # 11 trends + 4 asymmetry + 1 drift
        text = page.locator("#flags").inner_text()
        assert "Right-side impact (sacrum peak) up 12 % over the last 3 weeks" in text
        assert "higher on the right side" in text
        assert "rises late in runs" in text
        assert page.locator("#flags .flag-notable").count() == 1
        page_check.footer(page)
        page_check.screenshot(page, "report_trends.png", tmp_path)
    finally:
        page.close()
    assert problems == []


def test_hostile_strings_stay_text_in_the_browser(page_check: Any, fabricate: Any, tmp_path: Path) -> None:
    evil = '<img src=x onerror="document.title=\'pwned\'">'
    dataset, ids = fabricate(runner_id="r&<b>", weeks=2, sensor=evil, status_reason=evil)
    for html in (write_session_report(dataset, ids[-1], tmp_path / "s.html"),
                 write_trends_report(dataset, "r&<b>", tmp_path / "t.html")):
        page, problems = page_check.open(html)
        try:
            assert "pwned" not in page.title()
            assert page.locator("img").count() == 0 and page.locator("b").count() == 0
            assert evil in page.locator("body").inner_text()
            assert "r&<b>" in page.locator("h1 + p").inner_text()
        finally:
            page.close()
        assert problems == []


def test_print_layout_keeps_plots(page_check: Any, demo_dataset: tuple[Path, list[str]],
                                  tmp_path: Path) -> None:
    dataset, _ = demo_dataset
    html = write_trends_report(dataset, "r1", tmp_path / "trends.html", weeks=4)
    page, problems = page_check.open(html)
    try:
        page.emulate_media(media="print")
        box = page.locator("figure.plot svg").first.bounding_box()
        assert box is not None and box["width"] > 150
        pdf = page.pdf(format="A4")
        assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000
    finally:
        page.close()
    assert problems == []
