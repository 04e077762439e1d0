"""Both reports as a person sees them: headless Chromium (Debian) driven by Playwright.

The ``browser`` and ``page_check`` fixtures live in conftest.py (skip without Chromium, fail
under CI). Set IMUBACK_UPDATE_SCREENSHOTS=1 to refresh docs/report_session.png and
docs/report_trends.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

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
        assert page.locator("table.metrics tbody tr").count() == 15
        assert page.locator("table.sides tbody tr").count() == 8
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


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_session_report_prints_on_two_a4_pages(page_check: Any, demo_dataset: tuple[Path, list[str]],
                                               tmp_path: Path) -> None:
    dataset, ids = demo_dataset
    page, problems = page_check.open(write_session_report(dataset, ids[-1], tmp_path / "s.html"))
    try:
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        assert 1 <= _pdf_pages(pdf) <= 2
        assert page.locator("#drift figure.plot").count() == 5  # drift plots stay in print
    finally:
        page.close()
    assert problems == []


@pytest.mark.parametrize("report", ["session", "trends"])
def test_reports_fit_a_phone_screen(report: str, page_check: Any, demo_dataset: tuple[Path, list[str]],
                                    tmp_path: Path) -> None:
    dataset, ids = demo_dataset
    html = (write_session_report(dataset, ids[-1], tmp_path / "s.html") if report == "session"
            else write_trends_report(dataset, "r1", tmp_path / "t.html"))
    page, problems = page_check.open(html)
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a 390 px phone screen"
        box = page.locator("figure.plot svg").first.bounding_box()
        assert box is not None and box["width"] <= 390
    finally:
        page.close()
    assert problems == []
