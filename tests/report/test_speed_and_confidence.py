"""Session report: pace and stride length where there is a speed, the reason where there is none;
low-confidence steps set apart in the per-step plots."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from imuback.report.metrics import NO_SPEED_TEXT
from imuback.report.session import build_session_report
from imuback.report.trends import build_trends_report
from imuback.store.dataset import table_files

Fabricate = Callable[..., tuple[Path, list[str]]]


def _section(html: str, sid: str) -> str:
    start = html.index(f'<section id="{sid}"')
    return html[start:html.index("</section>", start)]


def test_a_treadmill_session_shows_pace_and_stride_length_checked_on_simulation(fabricate: Fabricate) -> None:
    ds, ids = fabricate(weeks=2, treadmill_speed_mps=3.3)
    speed = _section(build_session_report(ds, ids[-1]), "speed")
    assert "treadmill belt speed given: 3.30 m/s (11.9 km/h)" in speed
    assert "5:03 min/km" in speed  # 1000 / 3.3 = 303 s
    assert re.search(r"Stride length \(two steps\)</dt><dd>2\.\d\d m", speed)
    assert "step and stride length: real running with the belt speed (force treadmill)" in speed
    assert "vertical ratio: simulation only" in speed and "the belt speed given" in speed


def test_a_session_without_speed_says_so_and_shows_no_pace(fabricate: Fabricate) -> None:
    ds, ids = fabricate(weeks=2)
    speed = _section(build_session_report(ds, ids[-1]), "speed")
    assert "No speed source: pace and stride length need GPS" in speed
    assert "min/km" not in speed and "Stride length" not in speed
    assert NO_SPEED_TEXT.split(":")[0] in speed


def test_trends_show_pace_and_stride_length_by_week(fabricate: Fabricate) -> None:
    ds, _ = fabricate(weeks=3, treadmill_speed_mps=3.3)
    html = build_trends_report(ds, "r1")
    weekly = _section(html, "weekly")
    assert "Pace (min/km)" in weekly and "5:03" in weekly and "Stride length (m)" in weekly
    assert 'data-plot="trend-stride_length_m"' in html
    ds2, _ = fabricate(weeks=3)
    html2 = build_trends_report(ds2, "r1")
    assert 'data-plot="trend-stride_length_m"' not in html2 and "No speed source" in html2


def test_low_confidence_steps_are_drawn_apart_with_a_legend(fabricate: Fabricate) -> None:
    ds, ids = fabricate(weeks=2, low_quality_every=10)
    html = build_session_report(ds, ids[-1])
    plot = html[html.index('id="drift-contact_time_s"'):]
    plot = plot[:plot.index("</figure>")]
    rings = re.findall(r'<circle [^>]*stroke="#8a8a8a" fill="none"', plot)
    n_steps = int(re.search(r"Steps</dt><dd>(\d+) running", html).group(1))  # type: ignore[union-attr]
    assert len(rings) == len(range(0, n_steps, 10))  # every 10th step, each drawn
    assert "low-confidence step (quality &lt; 0.5)" in plot
    hist = html[html.index('id="dist-impact_peak_g"'):]
    assert re.search(r"low-confidence steps \(n=\d+\)", hist[:hist.index("</figure>")])
    assert "low-confidence steps (quality &lt; 0.5) included" in _section(html, "metrics")
    ds2, ids2 = fabricate(weeks=2)
    drift = _section(build_session_report(ds2, ids2[-1]), "drift")
    assert "low-confidence step (quality" not in drift and 'stroke="#8a8a8a"' not in drift


def test_sessions_made_before_the_speed_columns_still_report(fabricate: Fabricate) -> None:
    ds, ids = fabricate(weeks=2)
    new = ("step_length_m", "vertical_ratio_pct", "stride_length_m", "speed_source", "treadmill_speed_mps",
           "speed_coverage_pct", "median_speed_mps", "median_step_length_m", "median_stride_length_m",
           "median_vertical_ratio_pct", "median_pace_s_per_km")
    for table in ("steps", "strides", "sessions"):
        for f in table_files(ds, table):
            t = pq.read_table(f)
            old = t.drop_columns([c for c in new if c in t.column_names])
            pq.write_table(old.replace_schema_metadata(t.schema.metadata), f)
    html = build_session_report(ds, ids[-1])
    assert "No speed source" in _section(html, "speed")
    assert "Weekly trends" in build_trends_report(ds, "r1")


def test_a_small_group_in_a_histogram_can_be_a_share_of_all_values() -> None:
    import numpy as np

    from imuback.report import svg

    rng = np.random.default_rng(0)
    big, few = rng.normal(0, 1, 1000), np.array([0.0, 0.1, 0.2, 1.0, 2.0])
    own = svg.histogram(plot_id="a", title="t", x_label="x", groups=[("all", svg.ALL, big), ("few", svg.ALL, few)])
    shared = svg.histogram(plot_id="b", title="t", x_label="x", groups=[("all", svg.ALL, big), ("few", svg.ALL, few)],
                           denominators=[None, 1005])

    def top_tick(html: str) -> float:
        return max(float(t) for t in re.findall(r'text-anchor="end" class="tick">([\d.]+)<', html))

    assert top_tick(own) >= 20  # one of five values is 20 % of its group
    assert top_tick(shared) <= 10  # as a share of all 1005 values it is small


def test_a_session_report_with_pace_and_low_confidence_steps_prints_on_two_pages(
        page_check: Any, fabricate: Fabricate, tmp_path: Path) -> None:
    from imuback.report.session import write_session_report

    ds, ids = fabricate(treadmill_speed_mps=3.3, low_quality_every=10, right_impact_rise_pct=12.0,
                        late_obliquity_pct=20.0)
    page, problems = page_check.open(write_session_report(ds, ids[-1], tmp_path / "s.html"))
    try:
        assert page.locator("#speed dd").count() == 6  # the source and five numbers
        _assert_two_a4_pages_and_390_px(page)
    finally:
        page.close()
    assert problems == []


def _assert_two_a4_pages_and_390_px(page: Any) -> None:
    """The open report prints on at most 2 A4 pages and fits a 390 px phone screen."""
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert 1 <= len(re.findall(rb"/Type\s*/Page[^s]", pdf)) <= 2
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.locator("html").evaluate("e => e.scrollWidth - e.clientWidth")
    assert overflow <= 0, f"{overflow} px wider than a 390 px phone screen"


def test_the_reports_speak_to_the_physical_therapist_of_the_runner(demo_dataset: tuple[Path, list[str]]) -> None:
    dataset, ids = demo_dataset
    trends = build_trends_report(dataset, "r1")
    assert "rising load is worth discussing with the runner" in trends  # the load flag is there ...
    for html in (build_session_report(dataset, ids[-1]), trends):
        body = html[:html.index("<footer>")]  # the footer is the disclaimer every report carries
        text = re.sub(r"<[^>]+>", " ", body)
        assert not re.search(r"\byour\b", text, re.IGNORECASE), re.findall(r".{60}\byour\b.{30}", text)


def _phone_gps_dataset(tmp_path: Path) -> tuple[Path, str]:
    """A simulated phone run with its GPS, exported as Sensor Logger and processed into a dataset."""
    from imuback.cli.demo import phone_params
    from imuback.formats.sensorlogger import write_sensorlogger
    from imuback.pipeline import process_file
    from imuback.simulate.gps import simulated_gps
    from imuback.simulate.runner import simulate_session

    sim = simulate_session(phone_params(3.0), seed=3, session_id="p", runner_id="r1", start_time=0)
    z = write_sensorlogger(sim.raw, tmp_path / "run.zip", location=simulated_gps(sim, seed=3))
    res = process_file(z, dataset=tmp_path / "ds", csv_meta={"runner_id": "r1"})
    return tmp_path / "ds", res.session_id


def test_a_gps_session_shows_pace_through_the_run_with_low_confidence_steps_grey(tmp_path: Path) -> None:
    import numpy as np

    from imuback.report import queries

    ds, sid = _phone_gps_dataset(tmp_path)
    html = build_session_report(ds, sid)
    speed = _section(html, "speed")
    assert 'data-plot="pace"' in speed and "Pace through the run" in speed
    plot = speed[speed.index('data-plot="pace"'):]
    steps = queries.session_steps(ds, "r1", sid)
    run = steps[steps["activity"] == "run"]
    low = int(((run["quality"] < 0.5) & (run["speed_mps"] > 0.5)).sum())
    rings = re.findall(r'<circle [^>]*stroke="#8a8a8a" fill="none"', plot[:plot.index("</figure>")])
    assert len(rings) == low
    # the median line sits at the run's pace (min/km) from the GPS
    pace_min = 1000.0 / 60.0 / float(np.median(run["speed_mps"].dropna()))
    assert 4.0 < pace_min < 7.0
    ds2, ids2 = _fabricate_treadmill(tmp_path)
    assert 'data-plot="pace"' not in _section(build_session_report(ds2, ids2), "speed")  # a belt: one speed


def _fabricate_treadmill(tmp_path: Path) -> tuple[Path, str]:
    """A treadmill session (no GPS): the belt speed gives pace, there is nothing to plot through the run."""
    from imuback.pipeline import process_file
    from imuback.simulate.runner import RunnerParams, simulate_session, write_simulated

    sim = simulate_session(RunnerParams(run_minutes=2.0), seed=1, session_id="tm", runner_id="r2", start_time=0)
    res = process_file(write_simulated(sim, tmp_path / "raw"), dataset=tmp_path / "ds2", treadmill_speed_mps=3.2)
    return tmp_path / "ds2", res.session_id


def test_a_gps_session_report_prints_on_two_pages_and_fits_a_phone(page_check: Any, tmp_path: Path) -> None:
    from imuback.report.session import write_session_report

    ds, sid = _phone_gps_dataset(tmp_path)
    page, problems = page_check.open(write_session_report(ds, sid, tmp_path / "s.html"))
    try:
        assert page.locator('#speed [data-plot="pace"]').count() >= 1
        _assert_two_a4_pages_and_390_px(page)
    finally:
        page.close()
    assert problems == []
