"""The session report's drift clock and windows: those of the pipeline's drift numbers."""

from __future__ import annotations

import dataclasses
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


def test_binned_counts_clipped_values_as_the_largest_of_their_bin() -> None:
    import numpy as np

    t = np.repeat([0.1, 0.6], 6)  # two 0.5 min bins of 6 steps
    v = np.array([1.0, 2.0, 3.0, 4.0, np.nan, np.nan, 1.0, 2.0, 3.0, np.nan, np.nan, np.nan])
    clip = np.isnan(v)  # bin 0: 2 of 6 clipped, bin 1: 3 of 6
    b = session._binned(t, v, 0.5, clip)
    assert b["p50"][0] == 3.5  # the censored median: (3 + 4) / 2, not the 2.5 of the rest
    assert b["p25"][0] == pytest.approx(2.25) and np.isnan(b["p75"][0])  # a third clipped: p75 unknown
    # half clipped: unknown, at least the median with them at the highest unclipped value (4)
    assert np.isnan(b["p50"][1]) and b["p50_min"][1] == 3.5
    assert list(b["n_clipped"]) == [2, 3]
    assert session._binned(t, v, 0.5).empty  # unflagged NaN are left out: 4 and 3 values, < 5


def _run_steps(result) -> tuple:  # type: ignore[no-untyped-def]
    st = result.steps.to_pandas()
    st = st[st["activity"] == "run"]
    assert st["clipped"].notna().all()
    t = ((st["ic_time"] - st["ic_time"].min()).dt.total_seconds() / 60).to_numpy(float)
    return t, st["impact_peak_g"].to_numpy(float), st["clipped"].to_numpy(bool)


def test_impact_band_under_partial_clipping_reads_as_without_it() -> None:
    import numpy as np

    from imuback.pipeline import process_raw
    from tests.clipped import asymmetric_run, clipped

    truth = session._binned(*_run_steps(process_raw(asymmetric_run()))[:2], 0.5)
    t, v, clip = _run_steps(process_raw(clipped(asymmetric_run(), 3.0)))
    assert 0.1 < clip.mean() < 0.5
    got = session._binned(t, v, 0.5, clip)
    naive = session._binned(t, v, 0.5)  # clipped contacts left out: what the band read before 1.4
    assert len(got) == len(truth) >= 8
    assert np.allclose(got["p50"], truth["p50"], rtol=0.01)
    assert (naive["p50"] < truth["p50"]).all() and (truth["p50"] - naive["p50"]).mean() > 0.03


def test_session_report_says_the_sensor_clipped_and_the_least_impact(tmp_path: Path) -> None:
    import re

    from imuback.pipeline import store_session
    from tests.clipped import asymmetric_run, clipped

    ds = tmp_path / "ds"
    result = store_session(clipped(asymmetric_run(), 2.5, declared=True), dataset=ds)
    st = result.steps.to_pandas()
    st = st[st["activity"] == "run"]
    assert st["clipped"].notna().all()  # every running contact is looked at
    st = st.assign(clipped=st["clipped"].astype(bool))
    n_clip = int(st["clipped"].sum())
    assert 0.5 < n_clip / len(st) < 1.0
    least = st.loc[~st["clipped"], "impact_peak_g"].max()
    html = build_session_report(ds, "clip", runner_id="r1")
    assert "Sensor clipping" in html
    assert f"in {n_clip} steps of {len(st)}" in html
    assert f"the impact there was probably about {least:.2f} g or more" in html
    fig = html[html.index('id="drift-impact_peak_g"'):]
    fig = fig[:fig.index("</figure>")]
    rings = re.findall(r'<circle [^>]*stroke="#c0392b" fill="none"', fig)
    assert len(rings) >= 1 and "median unknown (sensor clipped)" in fig
    # the unclipped run's report says nothing of it
    store_session(dataclasses.replace(asymmetric_run(), session_id="clean"), dataset=ds)
    assert "Sensor clipping" not in build_session_report(ds, "clean", runner_id="r1")


def _figure(html: str, plot_id: str) -> str:
    fig = html[html.index(f'id="{plot_id}"'):]
    return fig[:fig.index("</figure>")]


def test_every_clipped_reading_in_the_report_is_censored_and_said(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each place the report shows impact under clipping: the per-foot quartiles (SQL), the side
    table's caption, the drift lines, rings and captions, the histograms' note, the main note;
    contact time (not censored) is left as measured.
    """
    import re

    import numpy as np

    from imuback.pipeline import store_session
    from imuback.report import queries, svg
    from tests.clipped import asymmetric_run, clipped

    ds = tmp_path / "ds"
    st = store_session(clipped(asymmetric_run(), 2.5, declared=True), dataset=ds).steps.to_pandas()
    st = st[st["activity"] == "run"]
    clip = st["clipped"].astype(bool).to_numpy()
    # the per-foot quartiles: a clipped contact counts as larger than any unclipped (not left out)
    quart = queries.side_quartiles(ds, "r1", "clip", activity="run", columns=["impact_peak_g", "contact_time_s"])
    read = []
    for foot in ("L", "R"):
        sel = (st["foot"] == foot).to_numpy()
        v = np.where(clip[sel], 1e9, st.loc[sel, "impact_peak_g"].to_numpy(float))
        for q in (25, 50, 75):
            want, got = np.quantile(v, q / 100), quart.loc[foot, f"impact_peak_g_p{q}"]
            assert np.isposinf(got) if want >= 1e9 else got == pytest.approx(want)
            read.append(want < 1e9)
        assert np.isfinite(quart.loc[foot, "contact_time_s_p75"])  # contact time: measured
    assert any(read) and not all(read)  # some quartiles read, some unknown
    lines: list[tuple[str, np.ndarray]] = []
    line = svg.Line

    def spy(**kw):  # type: ignore[no-untyped-def]
        lines.append((kw["label"], np.asarray(kw["y"], dtype=float)))
        return line(**kw)

    monkeypatch.setattr(svg, "Line", spy)
    html = build_session_report(ds, "clip", runner_id="r1")
    side = html[html.index('class="sides"'):]
    assert "n/a in impact or loading rate: not known, the sensor clipped" in side[:side.index("</table>")]
    assert "Clipped steps count as the hardest landings in impact and loading rate" in html
    impact, contact = _figure(html, "drift-impact_peak_g"), _figure(html, "drift-contact_time_s")
    assert "The sensor clipped" in impact and "The sensor clipped" not in contact
    assert "red rings" not in contact and not re.findall(r'stroke="#c0392b" fill="none"', contact)
    # drift lines: per-foot impact medians break where unknown; contact time's never do
    medians = [y for label, y in lines if label.endswith(" median")]
    assert len(medians) == 4  # contact L, R, impact L, R
    assert all(np.isfinite(y).all() for y in medians[:2]) and all(np.isnan(y).any() for y in medians[2:])
    # rings: one per bin whose median (not merely its upper quartile) is unknown
    t = ((st["ic_time"] - st["ic_time"].min()).dt.total_seconds() / 60).to_numpy(float)
    b = session._binned(t, st["impact_peak_g"].to_numpy(float), 0.5, clip)
    n_rings = int((b["p50"].isna() & (b["n_clipped"] > 0)).sum())
    assert n_rings > 0
    assert len(re.findall(r'<circle [^>]*stroke="#c0392b" fill="none"', impact)) == n_rings
    assert f"red rings: the {n_rings} time bins" in impact
    # the histograms: clipped steps are not shown, and said so, for impact only
    assert "Not shown: the" in _figure(html, "dist-impact_peak_g")
    assert "Not shown" not in _figure(html, "dist-contact_time_s")


def test_no_ring_is_promised_when_every_step_clipped() -> None:
    import numpy as np

    t = np.repeat([0.1, 0.6], 6)
    b = session._binned(t, np.full(12, np.nan), 0.5, np.ones(12, dtype=bool))
    assert b["p50"].isna().all() and b["p50_min"].isna().all()  # nothing to draw a ring at


def _censored_steps(bins: list[list[float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Running steps, 6 per 0.5 min bin (one every 5 s, feet alternating), impact per bin as
    given (NaN: clipped, unknown), and a few strides; for the drift plots alone.
    """
    import numpy as np

    t0 = pd.Timestamp("2024-03-04 07:00", tz="UTC")
    v = np.concatenate([np.asarray(b, dtype=float) for b in bins])
    ic = t0 + pd.to_timedelta(1.0 + 5.0 * np.arange(v.size), unit="s")  # 1 s in: no step on a bin edge
    steps = pd.DataFrame({"ic_time": ic, "activity": "run", "foot": np.resize(["L", "R"], v.size),
                          "contact_time_s": 0.25, "impact_peak_g": v, "clipped": np.isnan(v), "quality": 1.0})
    strides = pd.DataFrame({"start_time": ic, "pelvis_obliquity_deg": 8.0, "pelvis_rotation_deg": 12.0,
                            "ml_excursion_cm": 4.0})
    return steps, strides


def test_red_rings_mark_exactly_the_bins_whose_median_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 21 (M13): a bin whose upper quartile is unknown but whose median is known gets no ring;
    a bin whose median is unknown gets one, at the least its median can be (its clipped steps at the
    highest impact read unclipped), and the caption counts those bins alone.
    """
    import re

    import numpy as np

    from imuback.report import svg

    nan = float("nan")
    known = [2.0, 2.1, 2.2, 2.3, 2.4, 2.5]
    upper_unknown = [2.0, 2.2, 2.4, 2.6, nan, nan]  # 2 of 6 clipped: median 2.5, upper quartile unknown
    median_unknown = [1.8, 2.0, 2.2, nan, nan, nan]  # 3 of 6: median unknown
    points: list[svg.Points] = []
    real_points = svg.Points

    def spy(**kw):  # type: ignore[no-untyped-def]
        points.append(real_points(**kw))
        return points[-1]

    monkeypatch.setattr(svg, "Points", spy)

    def rings(bins: list[list[float]]) -> tuple[list[tuple[float, float]], str]:
        points.clear()
        steps, strides = _censored_steps(bins)
        html = str(session._drift_plots(steps, strides, steps["ic_time"].min() - pd.Timedelta(seconds=1), None))
        red = [p for p in points if p.color == session.CLIP_COLOR]
        assert len(red) <= 1
        xy = list(zip(np.asarray(red[0].x, float), np.asarray(red[0].y, float), strict=True)) if red else []
        return xy, _figure(html, "drift-impact_peak_g")

    # the median of bin 2 is unknown: at least (2.2 + 2.6) / 2 with its clipped steps at 2.6
    xy, fig = rings([known, upper_unknown, median_unknown])
    assert xy == [(pytest.approx(1.25), pytest.approx(2.4))]
    assert len(re.findall(r'<circle [^>]*stroke="#c0392b" fill="none"', fig)) == 1
    assert "red rings: the 1 time bin with half or more" in fig
    # only upper quartiles unknown: no ring, none promised
    xy, fig = rings([known, upper_unknown, upper_unknown])
    assert xy == [] and "red rings" not in fig and "The sensor clipped" in fig
    assert not re.findall(r'stroke="#c0392b" fill="none"', fig)


@pytest.mark.parametrize(("rate_hz", "below_validated", "no_impact"),
                         [(25.0, True, True), (49.0, True, True), (50.0, False, True), (64.0, False, True),
                          (99.2, False, False), (100.0, False, False), (200.0, False, False)])
def test_a_slow_sensor_is_said_and_its_impact_and_loading_rate_are_not_given(
        fabricate: Fabricate, rate_hz: float, below_validated: bool, no_impact: bool) -> None:
    """Review 25: at 25 Hz impact 2.84 vs 3.01 g and loading rate 26 vs 47 g/s, with a WATCH on the
    loading rate and no word on the rate. Real running resampled (benchmarks/rate_sensitivity.py):
    impact -15 % and loading rate -16 % at 50 Hz, -4 % and -3 % at 100 Hz."""
    from imuback.report import queries
    from imuback.report.analysis import COLUMNS, rate_limits, runner_context, session_flags

    dataset, ids = fabricate(weeks=3, sample_rate_hz=rate_hz, right_impact_rise_pct=15.0)
    html = build_session_report(dataset, ids[-1])
    assert ("below the validated range (50–200 Hz)" in html) is below_validated
    assert ("No impact (sacrum peak) and loading rate (index) below 100 Hz" in html) is no_impact
    metrics = html[html.index('class="metrics"'):]
    impact_row = metrics[metrics.index("<td>Impact (sacrum peak)</td>"):]
    impact_row = impact_row[:impact_row.index("</tr>")]
    assert (impact_row.count("n/a") >= 2) is no_impact, impact_row  # this session, its baseline
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    flagged = {f.metric for f in session_flags(queries.session_row(dataset, ids[-1]), ctx)}
    censored = {m for m in flagged if m and ("impact" in m or "loading_rate" in m)}
    assert not censored if no_impact else censored, flagged
    weekly = queries.weekly_medians(dataset, "r1", ctx.comparable_ids, list(COLUMNS), min_rate_hz=rate_limits())
    assert bool(weekly["median_impact_peak_g"].isna().all()) is no_impact
    assert bool(weekly["median_contact_time_s"].notna().all())


def test_a_session_too_short_for_symmetry_gives_none_and_says_so(fabricate: Fabricate) -> None:
    """Review 25: a 6 s upload of 5 steps showed regularity and symmetry as findings."""
    from imuback.report.metrics import SHORT_SESSION_STEPS

    dataset, ids = fabricate(weeks=1, minutes=0.2)  # 0.2 min at ~170 steps/min: 34 steps
    html = build_session_report(dataset, ids[-1])
    assert "Too short for regularity, symmetry and left/right asymmetry (" in html
    assert f"at least {SHORT_SESSION_STEPS} steps" in html
    sides = html[html.index('id="sides"'):]
    sides = sides[:sides.index("</section>")]
    assert "0.82" not in sides and "0.95" not in sides  # the fabricated regularity and symmetry
    assert "higher on the" not in html  # no asymmetry flag
    long_enough, long_ids = fabricate(weeks=1)
    assert "Too short for" not in build_session_report(long_enough, long_ids[-1])


@pytest.mark.parametrize(("rate_hz", "level"), [(25.0, "info"), (200.0, "watch")])
def test_a_timing_finding_below_the_validated_rate_is_a_note(fabricate: Fabricate, rate_hz: float,
                                                              level: str) -> None:
    """Review 25's 25 Hz phone: "WATCH Flight time is 6.9 % higher on the right side" is 9 ms, a
    quarter of one 40 ms sample."""
    from imuback.report import queries
    from imuback.report.analysis import runner_context, session_flags

    dataset, ids = fabricate(weeks=3, sample_rate_hz=rate_hz)
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = dict(queries.session_row(dataset, ids[-1]), asymmetry_flight_time_pct=-6.9)
    flag = next(f for f in session_flags(row, ctx) if f.metric == "asymmetry_flight_time_pct")
    assert flag.level == level and ("below the validated range" in flag.detail) is (level == "info")


def test_a_session_without_steps_says_no_gait_found_not_how_a_walk_looked(
        fabricate: Fabricate, tmp_path: Path) -> None:
    """Review 32, finding 7: an 8-second file with no steps was a "Walking session report" whose sensor
    "held its place all session ... the numbers hold" and whose pace "differs from the baseline"."""
    import re
    from html import unescape

    import numpy as np

    import imuback
    from imuback.core import G_MPS2, RawSession
    from imuback.report.html import FOOTER

    dataset, _ = fabricate(weeks=2)
    n, fs = 800, 100.0  # 8 s of a sensor lying still
    rng = np.random.default_rng(1)
    still = RawSession(session_id="still", runner_id="r1", sensor="t", sample_rate_hz=fs,
                       time_ns=1_710_000_000_000_000_000 + np.arange(n, dtype=np.int64) * int(1e9 / fs),
                       acc_mps2=(np.tile([0.3, -0.2, G_MPS2], (n, 1)) + rng.normal(0, 0.02, (n, 3))).astype(np.float32),
                       gyr_dps=rng.normal(0, 0.1, (n, 3)).astype(np.float32))
    imuback.process(still, dataset=dataset)
    html = build_session_report(dataset, "still")
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
    assert "<h1>Session report: no gait found</h1>" in html
    assert "Walking session report" not in html and "how this walk" not in text
    assert "There are no steps to describe" in text
    assert "Placement lower back (sacrum); not judged: no steps were found" in text
    assert "held its place" not in text and "the numbers hold" not in text
    assert "This session has no steps (no walking or running found); the baseline is running" in text
    assert "pace (cadence) or amount of running differs" not in text
    assert "No steps were found in this session, so there are no medians" in text  # review 33b
    assert "Medians over all" not in text and "This session is walking" not in text
    assert "not given in walking" not in text and 'id="dist"' not in html and "<svg" not in html
    assert unescape(FOOTER) in text  # the disclaimer stays; the accuracy tags went with the numbers (33b)
