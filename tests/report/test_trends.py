"""The trends report's charts and captions (review 25: what a PT reads off them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from imuback.report.trends import build_trends_report

Fabricate = Callable[..., tuple[Path, list[str]]]

_FIGURE = re.compile(r'<figure class="plot" id="(trend-[^"]+)".*?</figure>', re.S)
_CLIP = re.compile(r'<clipPath id="[^"]+"><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"')
_CIRCLE = re.compile(r'<circle cx="([-\d.]+)"')


def _plot_x_extents(html: str) -> dict[str, tuple[float, float, list[float]]]:
    """Per trend chart: (plot left, plot right, every drawn circle's x) in SVG coordinates."""
    out = {}
    for fig in _FIGURE.finditer(html):
        body = fig.group(0)
        clip = _CLIP.search(body)
        if clip is None:  # "no data for this plot"
            continue
        left, width = float(clip.group(1)), float(clip.group(2))
        inside = body[clip.end():body.index("</g>", clip.end())]  # the clipped layers, not the legend
        out[fig.group(1)] = (left, left + width, [float(x) for x in _CIRCLE.findall(inside)])
    return out


@pytest.mark.parametrize("weeks", [4, 5])
def test_the_latest_weeks_points_are_on_the_chart_when_the_last_run_is_a_monday(
        fabricate: Fabricate, weeks: int) -> None:
    # one run a week, every Monday: the weekly median is drawn mid-week, after the last run
    dataset, _ = fabricate(weeks=weeks, sessions_per_week=1)
    charts = _plot_x_extents(build_trends_report(dataset, "r1"))
    assert {"trend-impact_peak_g", "trend-cadence_spm", "trend-asymmetry_impact_peak_pct"} <= set(charts)
    for plot_id, (left, right, xs) in charts.items():
        assert xs, plot_id
        assert min(xs) >= left and max(xs) <= right, (plot_id, left, right, max(xs))
