"""Inline-SVG charts: ticks, NaN gaps, empty data, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from imuback.report import svg


@pytest.mark.parametrize(("lo", "hi", "first", "last"), [
    (0.0, 1.0, 0.0, 1.0), (2.93, 3.41, 2.9, 3.5), (148.0, 191.0, 140.0, 200.0), (-11.3, 0.4, -12.5, 2.5),
])
def test_nice_ticks_cover_the_range(lo: float, hi: float, first: float, last: float) -> None:
    ticks = svg.nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert (ticks[0], ticks[-1]) == (pytest.approx(first), pytest.approx(last))
    assert 3 <= len(ticks) <= 8


def _svg(html: str) -> ET.Element:
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    return ET.fromstring(html[start:end])  # well-formed XML, or this raises


def test_chart_breaks_lines_at_nan_and_escapes_text() -> None:
    html = svg.render(svg.Chart(
        plot_id="p1", title='<script>"x"</script>', x_label="a & b", y_label="ms",
        lines=[svg.Line(x=np.arange(6), y=[1, 2, np.nan, 4, 5, 6], label="<left>")],
        hbands=[svg.HBand(lo=2, hi=3, label="band")]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    root = _svg(html)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{ns}polyline")) == 2  # the NaN splits the line
    assert root.find(f"{ns}title").text == '<script>"x"</script>'


def test_empty_chart_says_so() -> None:
    html = svg.render(svg.Chart(plot_id="e", title="t", x_label="x", y_label="y",
                                lines=[svg.Line(x=[], y=[], label="none")]))
    assert "no data for this plot" in html
    _svg(html)


def test_histogram_counts_groups_and_is_valid_svg() -> None:
    rng = np.random.default_rng(0)
    html = svg.histogram(plot_id="h", title="h", x_label="ms",
                         groups=[("left", svg.LEFT, rng.normal(250, 10, 500)),
                                 ("right", svg.RIGHT, [np.nan, *rng.normal(255, 10, 400)])])
    assert "left (n=500)" in html and "right (n=400)" in html
    _svg(html)


@pytest.mark.parametrize("lo, hi, labels", [
    (2.22, 2.58, ["2.2", "2.3", "2.4", "2.5", "2.6"]),  # was 2.200 / 2.300: float noise in the step
    (0.06, 0.29, ["0.05", "0.10", "0.15", "0.20", "0.25", "0.30"]),
    (79.0, 90.0, ["77.5", "80.0", "82.5", "85.0", "87.5", "90.0"]),
    (170.0, 180.0, ["170", "172", "174", "176", "178", "180"]),
])
def test_tick_labels_carry_the_decimals_their_step_needs(lo: float, hi: float, labels: list[str]) -> None:
    html = svg.render(svg.Chart(plot_id="p", title="t", x_label="x", y_label="y",
                                lines=[svg.Line(x=[0, 1], y=[lo, hi], label="l")]))
    ticks = re.findall(r'text-anchor="end" class="tick">([^<]+)<', html)  # the y axis
    assert ticks == labels
