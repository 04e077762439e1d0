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


_FLAG = re.compile(r'<li class="flag flag-(\w+)" data-metric="([^"]*)">(.*?)</li>', re.S)


def test_every_flag_and_chart_says_where_its_metric_was_checked(demo_dataset: tuple[Path, list[str]]) -> None:
    """The session report's "Accuracy checked on" (Metric.checked_on, docs/validation.md's table) on
    each trend flag and chart (review 25: the top WATCH was a simulation-only loading-rate index)."""
    from imuback.report.metrics import REAL_RUNNING, SENSOR_AT_REAL_EVENTS, SIMULATION_ONLY

    dataset, _ = demo_dataset
    html = build_trends_report(dataset, "r1")
    flags = _FLAG.findall(html)
    findings = [(level, metric, body) for level, metric, body in flags if level != "quality"]
    assert findings
    for _level, metric, body in findings:
        assert "Accuracy checked on: " in body, (metric, body)
    by_metric = {metric: body for _, metric, body in findings}
    assert f"Accuracy checked on: {SENSOR_AT_REAL_EVENTS}; left/right labels in running: {SIMULATION_ONLY}" \
        in by_metric["right_impact_peak_g"]
    assert f"Accuracy checked on: {SIMULATION_ONLY}" in by_metric["drift_pelvis_obliquity_deg"]
    for fig in _FIGURE.finditer(html):
        assert "Accuracy checked on: " in fig.group(0), fig.group(1)
    cadence = next(f.group(0) for f in _FIGURE.finditer(html) if f.group(1) == "trend-cadence_spm")
    loading = next(f.group(0) for f in _FIGURE.finditer(html) if f.group(1) == "trend-loading_rate_g_per_s")
    assert f"Accuracy checked on: {REAL_RUNNING}." in cadence
    assert f"Accuracy checked on: {SIMULATION_ONLY}" in loading


def test_a_simulation_only_finding_comes_after_the_checked_ones_of_its_level() -> None:
    from imuback.report.analysis import Flag, sort_flags

    flags = [Flag(level="watch", title="loading rate", detail="", metric="right_loading_rate_g_per_s"),
             Flag(level="info", title="cadence", detail="", metric="median_cadence_spm"),
             Flag(level="watch", title="impact", detail="", metric="right_impact_peak_g"),
             Flag(level="watch", title="vGRF", detail="", metric="median_grf_peak_bw")]
    assert [f.title for f in sort_flags(flags)] == ["impact", "vGRF", "loading rate", "cadence"]
    assert flags[0].simulation_only and not flags[2].simulation_only


def test_each_smallest_real_change_says_which_side_it_is_and_flag_and_caption_agree(
        demo_dataset: tuple[Path, list[str]]) -> None:
    """Review 25: the flags gave 0.21 g (right) and 0.14 g (left), the chart caption 0.19 g, unlabelled."""
    dataset, _ = demo_dataset
    html = build_trends_report(dataset, "r1")
    right_flag = next(body for _, metric, body in _FLAG.findall(html) if metric == "right_impact_peak_g")
    flag_mc = re.search(r"smallest real change \(right side\) ([\d.]+ g)", right_flag)
    assert flag_mc is not None, right_flag
    impact = next(f.group(0) for f in _FIGURE.finditer(html) if f.group(1) == "trend-impact_peak_g")
    caption = impact[impact.index("<figcaption>"):]
    assert f"right {flag_mc.group(1)}" in caption, caption
    assert re.search(r"Smallest real change: left [\d.]+ g, right [\d.]+ g, both sides [\d.]+ g \(band\)",
                     caption), caption


def _what_changed(html: str) -> str:
    section = re.search(r'<section id="flags">(.*?)</section>', html, re.S)
    assert section is not None
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(1)))


@pytest.mark.parametrize("weeks, per_week, expected", [
    (1, 1, "Not enough sessions for trends yet (1; the baseline needs 3 sessions of at least 100 running steps)"),
    (1, 2, "Not enough sessions for trends yet (2; the baseline needs 3"),
    (2, 2, "No sessions after the baseline yet (it ends 13 Mar 2024)"),
])
def test_too_few_sessions_say_so_instead_of_no_change(fabricate: Fabricate, weeks: int, per_week: int,
                                                      expected: str) -> None:
    """Review 32, finding 4: one session read "No change beyond the smallest real change"."""
    dataset, _ = fabricate(weeks=weeks, sessions_per_week=per_week)
    text = _what_changed(build_trends_report(dataset, "r1"))
    assert expected in text
    assert "No change beyond" not in text


def test_enough_sessions_without_a_change_still_say_no_change(fabricate: Fabricate) -> None:
    text = _what_changed(build_trends_report(fabricate(weeks=4)[0], "r1"))
    assert "No change beyond the smallest real change" in text and "Not enough" not in text


@pytest.mark.parametrize("last_week_sessions, level", [(1, None), (2, "watch"), (None, "watch")])
def test_an_asymmetry_level_rests_on_the_latest_3_sessions_as_a_trend_does(
        fabricate: Fabricate, last_week_sessions: int | None, level: str | None) -> None:
    """Review 32, finding 5: one session raised a WATCH on asymmetry while a side's change from one
    session was a note; one rule for both (analysis.latest_rows). The latest week of one odd run: the
    two runs before it outvote it; two of the latest three set the level (a thin one: test_analysis)."""
    dataset, _ = fabricate(weeks=6, right_impact_rise_pct=8, rise_weeks=1, last_week_sessions=last_week_sessions)
    flags = {m: (lv, body) for lv, m, body in _FLAG.findall(build_trends_report(dataset, "r1"))}
    if level is None:
        assert "asymmetry_impact_peak_pct" not in flags, flags
        return
    lv, body = flags["asymmetry_impact_peak_pct"]
    assert "higher on the right side" in body
    assert lv == level
    assert "Based on" not in body
    assert ("in the latest week (median of 3 sessions)" if last_week_sessions is None
            else "in the latest 3 sessions (06 Apr – 10 Apr 2024; their median)") in body
