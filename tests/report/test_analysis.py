"""Known answers for baselines, smallest real changes and flags on fabricated runners."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imuback.report import queries
from imuback.report.analysis import (
    COLUMNS,
    Change,
    Flag,
    Latest,
    MinChange,
    ReportParams,
    _change_flag,
    drift_windows,
    min_change,
    runner_context,
    session_flags,
    trend_flags,
    weekly_changes,
)
from imuback.signal.summary import drift

Fabricate = Callable[..., tuple[Path, list[str]]]


def _trend(dataset: Path, runner: str = "r1", params: ReportParams | None = None) -> list[Flag]:
    params = params or ReportParams()
    ctx = runner_context(queries.runner_sessions(dataset, runner), runner_id=runner, params=params)
    weekly = queries.weekly_medians(dataset, runner, ctx.comparable_ids, list(COLUMNS))
    return trend_flags(ctx, weekly_changes(ctx, weekly))


def _titles(flags: list[Flag]) -> str:
    return "\n".join(f"{f.level}: {f.title} | {f.detail}" for f in flags)


def test_right_impact_rise_of_12_pct_over_3_weeks_is_flagged_with_its_numbers(
        demo_dataset: tuple[Path, list[str]]) -> None:
    dataset, _ = demo_dataset
    flags = _trend(dataset)
    rise = [f for f in flags if f.metric == "right_impact_peak_g"]
    assert len(rise) == 1, _titles(flags)
    f = rise[0]
    assert f.level == "watch"
    assert re.fullmatch(r"Right-side impact \(sacrum peak\) up 1[12] % over the last 3 weeks", f.title)
    assert "3.00 g in the baseline → 3.3" in f.detail
    assert "since the week of 25 Mar 2024" in f.detail
    assert "smallest real change" in f.detail
    # the left side did not change, so there is no left or both-sides flag
    assert not [f for f in flags if f.metric in ("left_impact_peak_g", "median_impact_peak_g")]


def test_developing_asymmetry_is_notable_and_names_the_side(demo_dataset: tuple[Path, list[str]]) -> None:
    flags = _trend(demo_dataset[0])
    asym = [f for f in flags if f.metric == "asymmetry_impact_peak_pct"]
    assert len(asym) == 1
    assert asym[0].level == "notable"
    assert "higher on the right side" in asym[0].title
    assert "left 3.00 g, right 3.3" in asym[0].detail


def test_change_below_smallest_real_change_is_not_flagged(demo_dataset: tuple[Path, list[str]]) -> None:
    # contact time rose 20 ms over 3 weeks: below the 32 ms smallest real change
    flags = _trend(demo_dataset[0])
    assert not [f for f in flags if f.metric and "contact_time" in f.metric], _titles(flags)
    assert flags[0].level == "notable"  # most important first


def test_late_run_obliquity_rise_is_a_fatigue_flag(demo_dataset: tuple[Path, list[str]]) -> None:
    flags = _trend(demo_dataset[0])
    fatigue = [f for f in flags if f.metric == "drift_pelvis_obliquity_deg"]
    assert len(fatigue) == 1
    assert fatigue[0].title == "Pelvis obliquity / drop (range) rises late in runs"
    assert "in 4 of the last 4 sessions" in fatigue[0].detail
    assert "fatigue" in fatigue[0].detail


def test_grf_rise_below_0_28_bw_is_noise_and_above_is_real(fabricate: Fabricate) -> None:
    small, _ = fabricate(grf_rise_bw=0.20)
    assert not [f for f in _trend(small) if f.metric and "grf" in f.metric]
    big, _ = fabricate(grf_rise_bw=0.40)
    flags = [f for f in _trend(big) if f.metric and "grf" in f.metric]
    assert [f.metric for f in flags] == ["median_grf_peak_bw"], _titles(flags)
    assert flags[0].title.startswith("Peak vertical force (estimated) (both sides) up 16 %")
    assert "smallest real change (both sides) 0.28 BW (published" in flags[0].detail


def test_contact_time_rise_beyond_32_ms_is_flagged(fabricate: Fabricate) -> None:
    dataset, _ = fabricate(contact_rise_s=0.045)
    flags = [f for f in _trend(dataset) if f.metric == "median_contact_time_s"]
    assert len(flags) == 1
    assert "(both sides) up" in flags[0].title
    assert "+45 ms" in flags[0].detail or "+4" in flags[0].detail


def test_stable_runner_gets_no_flags(fabricate: Fabricate) -> None:
    dataset, _ = fabricate(seed=3)
    assert _trend(dataset) == []


def test_off_pace_session_is_not_compared(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(cadence_offsets=((10, 15.0),))
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    assert ids[10] not in ctx.comparable_ids
    note = ctx.sessions.set_index("session_id").loc[ids[10], "note"]
    assert "outside the baseline 170 ± 8" in note
    flags = _trend(dataset)
    assert any(f.level == "quality" and ids[10] in f.detail for f in flags)


def test_baseline_is_first_two_weeks_or_a_chosen_range(fabricate: Fabricate) -> None:
    dataset, ids = fabricate()
    sessions = queries.runner_sessions(dataset, "r1")
    ctx = runner_context(sessions, runner_id="r1")
    assert list(ctx.baseline["session_id"]) == ids[:6]
    chosen = ReportParams(baseline_range=(pd.Timestamp("2024-03-18", tz="UTC"),
                                          pd.Timestamp("2024-03-24", tz="UTC")))
    ctx = runner_context(sessions, runner_id="r1", params=chosen)
    assert list(ctx.baseline["session_id"]) == ids[6:9]
    assert ", chosen (UTC days)" in ctx.baseline_text
    # a run at 18:00 on 24 March in UTC-8 is 02:00 on 25 March UTC: out of a baseline ending on the 24th
    evening = sessions.copy()
    evening["start_time"] = pd.to_datetime(evening["start_time"], utc=True)
    evening.loc[evening["session_id"] == ids[8], "start_time"] = pd.Timestamp("2024-03-25T02:00", tz="UTC")
    assert list(runner_context(evening, runner_id="r1", params=chosen).baseline["session_id"]) == ids[6:8]


def test_min_change_sources() -> None:
    col = COLUMNS["median_grf_peak_bw"]
    assert min_change(col, [2.5] * 10, 2.5).method == "published"
    noisy = 2.5 + np.random.default_rng(0).normal(0, 0.3, 20)
    mc = min_change(col, noisy, 2.5)
    assert mc.method == "runner" and mc.value > 0.28  # noisier runner: never flag their noise
    cad = COLUMNS["median_cadence_spm"]
    assert min_change(cad, [170, 171], 170).method == "default"
    assert min_change(cad, [170, 171], 170).value == 3.0
    steady = min_change(cad, [170.0] * 8, 170)
    assert steady.method == "runner" and steady.value == 1.0  # floor
    # successive differences: a slow trend barely moves the noise estimate
    noise = 170 + np.random.default_rng(1).normal(0, 2.0, 400)
    flat = min_change(cad, noise, 170).value
    assert flat == pytest.approx(1.96 * np.sqrt(2) * 2.0, rel=0.1)  # MDC95 = 1.96·√2·SEM
    trending = min_change(cad, noise + np.arange(400) * 0.02, 170).value  # +8 spm over 400
    assert trending == pytest.approx(flat, rel=0.15)


def test_session_flags_against_baseline(demo_dataset: tuple[Path, list[str]]) -> None:
    dataset, ids = demo_dataset
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    first = session_flags(queries.session_row(dataset, ids[0]), ctx)
    assert [f.title for f in first] == ["This session is part of the baseline"]
    last = session_flags(queries.session_row(dataset, ids[-1]), ctx)
    metrics = {f.metric for f in last}
    assert "right_impact_peak_g" in metrics
    assert "drift_pelvis_obliquity_deg" in metrics
    assert not any(m and "contact_time" in m for m in metrics)


def test_data_quality_flags(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=1, status_reason="sensor unplugged for 2 min")
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = queries.session_row(dataset, ids[-1])
    row.update(status="partial", completeness_pct=80.0, misalignment_deg=28.0)
    titles = [f.title for f in session_flags(row, ctx) if f.level == "quality"]
    assert "Session is partial" in titles
    assert "Only 80 % of the samples arrived" in titles
    assert "Sensor worn 28° from its nominal mounting" in titles
    assert "Sensor placement differs from the baseline" in titles


# --- drift windows (mirror signal/summary.py drift()) -----------------------------------------


@pytest.mark.parametrize(("end_min", "baseline", "late", "text"), [
    (24.0, (2.0, 10.0), (14.0, 24.0), "last 10 min (min 14–24) vs min 2–10"),
    (19.0, (2.0, 10.0), (10.0, 19.0), "min 10–19 vs min 2–10"),
    (16.0, (2.0, 9.0), (9.0, 16.0), "min 9–16 vs min 2–9"),
    (13.0, (2.0, 7.5), (7.5, 13.0), "min 7.5–13 vs min 2–7.5"),
])
def test_drift_windows_follow_the_short_run_rule(end_min: float, baseline: tuple[float, float],
                                                 late: tuple[float, float], text: str) -> None:
    w = drift_windows(end_min)
    assert w is not None
    assert (w.baseline_min, w.late_min, w.text) == (baseline, late, text)
    assert drift_windows(6.0) is None  # drift() needs 3 whole minutes in each window


@pytest.mark.parametrize("end_min", range(5, 41))
def test_drift_windows_are_the_windows_signal_drift_compares(end_min: int) -> None:
    # per-minute values 1 in the baseline window, 2 in the late window, 7 elsewhere: drift() says
    # +100 % exactly when the report's windows are the ones it used
    t = np.arange(end_min, dtype=float) + 0.5
    w = drift_windows(float(end_min))
    v = np.full(end_min, 7.0)
    if w is not None:
        v[(t >= w.baseline_min[0]) & (np.floor(t) < w.baseline_min[1])] = 1.0
        v[np.floor(t) >= w.late_min[0]] = 2.0
    _, pct, _ci = drift(t, v, baseline=(2.0, 10.0), late_min=10.0)
    if w is None:
        assert np.isnan(pct)
    else:
        assert pct == pytest.approx(100.0)


def test_single_session_drift_flag_names_its_windows(demo_dataset: tuple[Path, list[str]]) -> None:
    dataset, ids = demo_dataset
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = queries.session_row(dataset, ids[-1])
    short = session_flags(row, ctx, windows=drift_windows(16.0))
    drift_flag = next(f for f in short if f.metric == "drift_pelvis_obliquity_deg")
    assert "(min 9–16 vs min 2–9)" in drift_flag.detail
    assert "Last 10 minutes" not in drift_flag.detail


def test_trend_drift_flag_names_its_numbers_and_the_report_states_the_rule_once(
        demo_dataset: tuple[Path, list[str]]) -> None:
    from imuback.report.trends import build_trends_report

    fatigue = next(f for f in _trend(demo_dataset[0]) if f.metric == "drift_pelvis_obliquity_deg")
    assert re.search(r"in \d+ of the last \d+ sessions: \+\d+\.\d % .*95 % interval ±", fatigue.detail)
    html = build_trends_report(demo_dataset[0], "r1")
    methods = html[html.index('<section id="methods"'):]
    assert "runs shorter than 20 minutes use shorter windows" in methods
    assert "runs shorter than 20 minutes" not in html[html.index('<section id="flags"'):html.index("</section>")]


# --- sides: merged only when both moved alike ---------------------------------------------------


def test_sides_that_moved_differently_are_flagged_separately(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(right_impact_rise_pct=19.0, left_impact_rise_pct=9.0)
    flags = [f for f in _trend(dataset) if f.metric and f.metric.endswith("_impact_peak_g")]
    assert sorted(f.metric for f in flags) == ["left_impact_peak_g", "right_impact_peak_g"], \
        _titles(flags)
    by = {f.metric: f.title for f in flags}
    assert re.fullmatch(r"Right-side impact \(sacrum peak\) up (18|19|20) % over the last 3 weeks",
                        by["right_impact_peak_g"])
    assert re.fullmatch(r"Left-side impact \(sacrum peak\) up (8|9|10) % over the last 3 weeks",
                        by["left_impact_peak_g"])
    # the same for one session against the baseline
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    metrics = {f.metric for f in session_flags(queries.session_row(dataset, ids[-1]), ctx)}
    assert {"left_impact_peak_g", "right_impact_peak_g"} <= metrics
    assert "median_impact_peak_g" not in metrics


def test_sides_that_moved_alike_are_one_flag_naming_each_side(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(right_impact_rise_pct=12.0, left_impact_rise_pct=12.0)
    flags = [f for f in _trend(dataset) if f.metric and f.metric.endswith("_impact_peak_g")]
    assert [f.metric for f in flags] == ["median_impact_peak_g"], _titles(flags)
    assert "(both sides) up" in flags[0].title
    assert re.search(r"Each side: left 3\.00 g → 3\.[23]\d g \(\+1[123] %\), "
                     r"right 3\.0\d g → 3\.[23]\d g \(\+1[123] %\)\.", flags[0].detail), flags[0].detail
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    last = session_flags(queries.session_row(dataset, ids[-1]), ctx)
    both = [f for f in last if f.metric == "median_impact_peak_g"]
    assert len(both) == 1 and "(both sides)" in both[0].title
    assert "Each side (baseline → this session): left" in both[0].detail


def test_change_flag_never_fires_below_the_smallest_real_change() -> None:
    col = COLUMNS["median_impact_peak_g"]
    mc = MinChange(value=0.2, method="default", note="test")
    week = pd.Timestamp("2024-04-01", tz="UTC")

    days = week + pd.to_timedelta([0, 2, 5], unit="D")
    on = Latest(rows=pd.DataFrame({"local_start": days, "median_impact_peak_g": 3.3}), end=days[-1],
                min_sessions=3, days=14.0)

    def change(latest: float) -> Change:
        return Change(column=col, baseline=3.0, latest=latest, latest_on=on,
                      min_change=mc, real=True, sustained=True, weeks=2, since=week)

    assert _change_flag(change(3.1)) is None  # +0.1 g < 0.2 g, whatever else the Change says
    flag = _change_flag(change(3.3))
    assert flag is not None and flag.title.startswith("Impact (sacrum peak) up 10 %")


# --- asymmetry titles ---------------------------------------------------------------------------


def test_asymmetry_title_keeps_one_decimal(demo_dataset: tuple[Path, list[str]]) -> None:
    dataset, ids = demo_dataset
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = queries.session_row(dataset, ids[0])
    row["asymmetry_impact_peak_pct"] = -9.7  # right higher, "watch" (5-10 %)
    flag = next(f for f in session_flags(row, ctx) if f.metric == "asymmetry_impact_peak_pct")
    assert flag.level == "watch"
    assert flag.title == "Impact (sacrum peak) is 9.7 % higher on the right side"


# --- a sustained change of cadence ---------------------------------------------------------------


def test_sustained_cadence_change_is_reported(fabricate: Fabricate) -> None:
    # gait retraining: +10 steps/min from week 5 (session 12, Monday 1 April) on
    dataset, ids = fabricate(cadence_offsets=tuple((k, 10.0) for k in range(12, 18)))
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    assert not set(ids[12:]) & set(ctx.comparable_ids)
    flags = [f for f in _trend(dataset) if f.metric == "median_cadence_spm"]
    assert len(flags) == 1, _titles(flags)
    assert re.fullmatch(r"Cadence up (9|10|11) steps/min since 01 Apr 2024: sessions at the new "
                        r"pace are not compared with the baseline", flags[0].title)
    assert "6 sessions since 01 Apr 2024" in flags[0].detail
    assert "--baseline-from 2024-04-01" in flags[0].detail


def test_single_off_pace_session_is_no_cadence_change(fabricate: Fabricate) -> None:
    dataset, _ = fabricate(cadence_offsets=((17, 12.0),))
    assert not [f for f in _trend(dataset) if f.metric == "median_cadence_spm"]


def test_the_drift_rule_is_one_rule_with_one_text() -> None:
    # the report's windows and words come from the pipeline's rule (signal.summary.drift_windows)
    from imuback.signal.summary import drift_windows as rule
    for end in (12.0, 19.0, 21.0, 30.0):
        w = drift_windows(end)
        (b0, b1), late = rule(end, baseline=(2.0, 10.0), late_min=10.0)
        assert w is not None and w.baseline_min == (b0, b1) and w.late_min == late
    from imuback.report.analysis import DRIFT_RULE_TEXT
    assert "shorter than 20 minutes" in DRIFT_RULE_TEXT  # 19-minute runs have a 9-minute late window
    assert drift_windows(19.0).late_min == (10.0, 19.0)
    assert drift_windows(21.0, late_min=5.0).late_min == (16.0, 21.0)


def test_within_run_drift_is_judged_on_the_runs_own_noise(demo_dataset: tuple[Path, list[str]]) -> None:
    # a rise well below the between-session smallest real change is still flagged when the run's
    # own noise is smaller; a larger rise inside a noisy run's interval is not
    dataset, ids = demo_dataset
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = dict(queries.session_row(dataset, ids[-1]))
    mc = ctx.min_changes["median_pelvis_rotation_deg"].value
    med = row["median_pelvis_rotation_deg"]
    small_pct = 100 * 0.5 * mc / med
    row.update(drift_pelvis_rotation_deg_pct=small_pct, drift_pelvis_rotation_deg_ci95_pct=small_pct / 3)
    flags = [f for f in session_flags(row, ctx) if f.metric == "drift_pelvis_rotation_deg"]
    assert len(flags) == 1 and flags[0].title == "Pelvis rotation (range) rises late in the run"
    assert f"±{small_pct / 3:.1f} %" in flags[0].detail
    row.update(drift_pelvis_rotation_deg_pct=3 * small_pct, drift_pelvis_rotation_deg_ci95_pct=4 * small_pct)
    assert not [f for f in session_flags(row, ctx) if f.metric == "drift_pelvis_rotation_deg"]


def test_a_two_week_rise_that_eased_in_the_latest_week_is_still_flagged(fabricate: Fabricate) -> None:
    dataset, _ = fabricate(weeks=7, right_impact_rise_pct=16.0, rise_weeks=3, eased_weeks=1)
    flags = _trend(dataset)
    right = [f for f in flags if f.metric == "right_impact_peak_g"]
    assert len(right) == 1, _titles(flags)
    assert re.fullmatch(r"Right-side impact \(sacrum peak\) was up 1\d % for [23] weeks, then eased", right[0].title)
    assert right[0].level == "watch" and "in the latest week" in right[0].detail
    asym = [f for f in flags if f.metric == "asymmetry_impact_peak_pct"]
    assert len(asym) == 1 and "right higher" in asym[0].title, _titles(flags)
    # twice a week: the eased latest week's two runs and the Wednesday before are the latest 3
    dataset, _ = fabricate(weeks=7, sessions_per_week=2, right_impact_rise_pct=16.0, rise_weeks=3, eased_weeks=1)
    right = [f for f in _trend(dataset) if f.metric == "right_impact_peak_g"]
    assert [f.level for f in right] == ["watch"] and right[0].title.endswith("then eased"), _titles(right)
    assert "in the latest 3 sessions (10 Apr – 17 Apr 2024; their median), within" in right[0].detail
    # without the eased week the same rise is a change of the latest week, told once
    dataset, _ = fabricate(weeks=6, right_impact_rise_pct=16.0, rise_weeks=3)
    titles = [f.title for f in _trend(dataset) if f.metric == "right_impact_peak_g"]
    assert len(titles) == 1 and "over the last" in titles[0]


# --- re-seats: the sensor moved on the body mid-run -------------------------------------------


def test_a_reseat_mid_run_is_not_read_as_fatigue_and_is_flagged(fabricate: Fabricate) -> None:
    from imuback.report.analysis import drift_reading, placement_text

    dataset, ids = fabricate(weeks=1)
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = queries.session_row(dataset, ids[-1])
    row.update(drift_pelvis_obliquity_deg_pct=-22.9, drift_pelvis_obliquity_deg_ci95_pct=2.2,
               drift_contact_time_s_pct=4.0, drift_contact_time_s_ci95_pct=1.0, misalignment_deg=80.0)
    still = dict(row, n_mounting_shifts=0, mounting_shift_max_deg=None, first_mounting_shift_s=None)
    assert drift_reading(still, "pelvis_obliquity_deg").word == "falls late"
    assert placement_text(still).startswith("held its place all session")
    moved = dict(row, n_mounting_shifts=2, mounting_shift_max_deg=10.4, first_mounting_shift_s=264.0)
    obl = drift_reading(moved, "pelvis_obliquity_deg")
    assert obl.pct is None and obl.word == "n/a" and "moved on the body at 4 min 24 s" in obl.reason
    assert "not the runner's" in obl.reason
    assert drift_reading(moved, "contact_time_s").word == "rises late"  # not read through the mounting
    text = placement_text(moved)
    assert "moved on the body at 4 min 24 s (and 1 more), by up to 10°" in text and "80°" in text
    assert "Sensor moved on the body mid-run" in [f.title for f in session_flags(moved, ctx)]
    assert "Sensor moved on the body mid-run" not in [f.title for f in session_flags(still, ctx)]
    assert "older imuback" in placement_text(dict(row, n_mounting_shifts=None))


def test_a_mounting_the_file_did_not_state_is_not_read_as_the_clip_worn_askew(fabricate: Fabricate) -> None:
    """An Xsens/Opal export processed without --mounting (sessions.mounting_source 'assumed'): the
    angle to the chip's own axes is no wearing fault; a stated mounting keeps the flag."""
    from imuback.report.analysis import placement_text

    dataset, ids = fabricate(weeks=1)
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    row = dict(queries.session_row(dataset, ids[-1]), misalignment_deg=64.0, n_mounting_shifts=0)
    for source in ("assumed", "given", "file", None):
        titles = [f.title for f in session_flags(dict(row, mounting_source=source), ctx)]
        text = placement_text(dict(row, mounting_source=source))
        if source == "assumed":
            assert not any(t.startswith("Sensor worn") for t in titles)
            assert "the file did not say how the sensor was worn" in text and "64°" not in text
        else:
            assert "Sensor worn 64° from its nominal mounting" in titles
            assert "64° from its nominal mounting" in text


def test_no_placement_change_is_claimed_where_the_mounting_was_assumed(fabricate: Fabricate) -> None:
    """A phone or an export without a stated mounting (``mounting_source`` 'assumed'): its angle is to
    the chip's own axes, so a different angle from the baseline's says nothing about the placement
    (review 25: an upside-down phone got "164° from nominal vs 87° in the baseline sessions")."""
    dataset, ids = fabricate(weeks=3)
    sessions = queries.runner_sessions(dataset, "r1")
    tilted = sessions.assign(misalignment_deg=np.where(np.arange(len(sessions)) % 2 == 0, 87.0, 164.0))
    for source, expect in (("assumed", False), ("given", True)):
        ctx = runner_context(tilted.assign(mounting_source=source), runner_id="r1")
        trend = [f.title for f in trend_flags(ctx, {})]
        assert any(t.startswith("Sensor placement changed") for t in trend) is expect, (source, trend)
        row = dict(queries.session_row(dataset, ids[-1]), misalignment_deg=164.0, mounting_source=source)
        titles = [f.title for f in session_flags(row, ctx)]
        assert ("Sensor placement differs from the baseline" in titles) is expect, (source, titles)


def test_a_drift_below_the_smallest_real_change_is_a_note_not_a_watch(demo_dataset: tuple[Path, list[str]]) -> None:
    """Review 25: the demo's "WATCH Ground contact time rises late in runs ... +1.3 % (+3 ms)" beside a
    32 ms smallest real change. Beyond the run's noise but within the smallest real change: a NOTE."""
    dataset, _ = demo_dataset
    sessions = queries.runner_sessions(dataset, "r1")
    recent = sessions.index[-4:]
    for pct, level in ((1.3, "info"), (100 * 0.040 / 0.240, "watch")):  # +3 ms; +40 ms of ~240 ms
        drifting = sessions.copy()
        drifting.loc[recent, "drift_contact_time_s_pct"] = pct
        drifting.loc[recent, "drift_contact_time_s_ci95_pct"] = 0.6
        ctx = runner_context(drifting, runner_id="r1")
        trend = next(f for f in trend_flags(ctx, {}) if f.metric == "drift_contact_time_s")
        assert trend.level == level, trend
        row = drifting.iloc[-1].to_dict()
        single = next(f for f in session_flags(row, ctx) if f.metric == "drift_contact_time_s")
        assert single.level == level, single
        for f in (trend, single):
            assert ("smaller than the smallest real change between sessions (32 ms" in f.detail) is (level == "info")


# --- the latest value: the latest week, or the latest 3 sessions -----------------------------------


def _flags_of(dataset: Path, metric: str) -> list[Flag]:
    return [f for f in _trend(dataset) if f.metric == metric]


@pytest.mark.parametrize("last_week_sessions", [None, 1])
def test_a_runner_who_runs_twice_a_week_gets_a_watch_on_a_real_rise(fabricate: Fabricate,
                                                                    last_week_sessions: int | None) -> None:
    """Mondays and Wednesdays (and a last week of the Monday only, as the demo's today): no week holds
    3 runs, so the latest week's median never made a WATCH, however far the impact moved. The latest
    3 runs do."""
    dataset, _ = fabricate(sessions_per_week=2, right_impact_rise_pct=12.0, last_week_sessions=last_week_sessions)
    flags = _flags_of(dataset, "right_impact_peak_g")
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert re.fullmatch(r"Right-side impact \(sacrum peak\) up \d+ % over the last 3 weeks", flags[0].title)
    span = "03 Apr – 10 Apr 2024" if last_week_sessions is None else "01 Apr – 08 Apr 2024"
    assert f"in the latest 3 sessions ({span}; their median)" in flags[0].detail
    assert "Based on" not in flags[0].detail
    asym = _flags_of(dataset, "asymmetry_impact_peak_pct")
    assert len(asym) == 1 and asym[0].level in ("watch", "notable"), _titles(asym)
    assert asym[0].title.endswith("higher on the right side")
    assert f"in the latest 3 sessions ({span}; their median)" in asym[0].detail
    # the same runner without the rise: no finding on the impact, and no WATCH at all
    steady, _ = fabricate(sessions_per_week=2, last_week_sessions=last_week_sessions)
    assert not [f for f in _trend(steady) if f.level in ("watch", "notable")], _titles(_trend(steady))
    assert not _flags_of(steady, "right_impact_peak_g")


def test_a_single_odd_latest_session_cannot_make_a_watch(fabricate: Fabricate) -> None:
    """Twice a week; the right impact 15 % up in the latest run only (a Monday): the two runs before it
    outvote it, so the trends have no finding on it (the session's own report has). Two odd runs of
    the latest three are a change, not yet a trend: a note."""
    dataset, ids = fabricate(sessions_per_week=2, right_impact_rise_pct=15.0, rise_weeks=1, last_week_sessions=1)
    assert not _flags_of(dataset, "right_impact_peak_g") and not _flags_of(dataset, "asymmetry_impact_peak_pct")
    assert not [f for f in _trend(dataset) if f.level in ("watch", "notable")], _titles(_trend(dataset))
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    last = session_flags(queries.session_row(dataset, ids[-1]), ctx)
    assert any(f.metric == "asymmetry_impact_peak_pct" and f.level == "notable" for f in last), _titles(last)
    two, _ = fabricate(sessions_per_week=2, right_impact_rise_pct=15.0, rise_weeks=1)
    flags = _flags_of(two, "right_impact_peak_g")
    assert [f.level for f in flags] == ["info"], _titles(flags)
    assert flags[0].title.endswith("in the latest 3 sessions only")
    assert ("Fewer than two weeks had moved with them (their own weeks and the week before, each once)"
            in flags[0].detail)


@pytest.mark.parametrize(("fields", "where"), [
    ({"eased_weeks": 1, "last_week_sessions": 1, "sample_rates_hz": ((15, 50.0),)},
     "the latest 3 sessions (01 Apr – 06 Apr 2024; their median)"),  # a: the last run without an impact value
    ({"eased_weeks": 1, "last_week_sessions": 1}, "the latest 3 sessions (03 Apr – 08 Apr 2024; their median)"),  # b
    ({}, "the week of 08 Apr 2024 (median of 3 sessions)"),  # c: the risen week is the last
], ids=["a-last-run-at-50-Hz", "b-last-run-normal", "c-risen-week-last"])
def test_a_one_week_rise_is_never_a_two_week_watch(fabricate: Fabricate, fields: dict[str, object],
                                                   where: str) -> None:
    """Review 35, 1: the right impact 15 % up in one week (of 01 Apr 2024, or the last) only. When the
    latest sessions reach back into that week, "sustained" compared the week with itself and made a
    WATCH "over the last 2 weeks"; two weeks have to have moved, each counted once on its own median.
    """
    from imuback.report.analysis import rate_limits

    dataset, _ = fabricate(right_impact_rise_pct=15.0, rise_weeks=1, **fields)
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    weekly = queries.weekly_medians(dataset, "r1", ctx.comparable_ids, list(COLUMNS), min_rate_hz=rate_limits())
    changes = weekly_changes(ctx, weekly)
    ch = changes["right_impact_peak_g"]
    assert ch.real and not ch.sustained
    flags = [f for f in trend_flags(ctx, changes) if f.metric == "right_impact_peak_g"]
    assert [f.level for f in flags] == ["info"], _titles(flags)
    short = "the latest week" if where.startswith("the week") else "the latest 3 sessions"
    assert flags[0].title == f"Right-side impact (sacrum peak) up 15 % in {short} only"
    assert f"→ 3.45 g in {where}: change" in flags[0].detail and "since the week of" not in flags[0].detail
    # two weeks risen (25 Mar half way, 01 Apr in full) before the same normal last run: a WATCH
    dataset, _ = fabricate(right_impact_rise_pct=15.0, rise_weeks=2, **fields)
    flags = _flags_of(dataset, "right_impact_peak_g")
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert flags[0].title.startswith("Right-side impact (sacrum peak) up ") and " over the last " in flags[0].title


def test_trend_on_one_session_in_the_latest_week_rests_on_the_latest_3_sessions(fabricate: Fabricate) -> None:
    # right impact +12 % over the last 3 weeks; the last week (of 08 Apr 2024) holds one session, the
    # week before three (Mon, Wed, Sat): its Wednesday and Saturday join the latest
    dataset, _ = fabricate(right_impact_rise_pct=12.0, last_week_sessions=1)
    flags = _flags_of(dataset, "right_impact_peak_g")
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert re.fullmatch(r"Right-side impact \(sacrum peak\) up (9|1\d) % over the last 3 weeks", flags[0].title)
    assert "in the latest 3 sessions (03 Apr – 08 Apr 2024; their median)" in flags[0].detail
    asym = _flags_of(dataset, "asymmetry_impact_peak_pct")
    assert len(asym) == 1 and "in the latest 3 sessions (03 Apr – 08 Apr 2024; their median)" in asym[0].detail


def test_trend_on_three_sessions_in_the_latest_week_is_the_weeks(fabricate: Fabricate) -> None:
    dataset, _ = fabricate(right_impact_rise_pct=12.0, last_week_sessions=3)
    flags = _flags_of(dataset, "right_impact_peak_g")
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert "in the week of 08 Apr 2024 (median of 3 sessions)" in flags[0].detail
    assert "Based on" not in flags[0].detail and "latest 3 sessions" not in flags[0].detail
    asym = _flags_of(dataset, "asymmetry_impact_peak_pct")
    assert len(asym) == 1 and "in the latest week (median of 3 sessions)" in asym[0].detail, _titles(asym)
    # two sessions in the week: the Saturday before makes three
    two, _ = fabricate(right_impact_rise_pct=12.0, last_week_sessions=2)
    flags = _flags_of(two, "right_impact_peak_g")
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert "in the latest 3 sessions (06 Apr – 10 Apr 2024; their median)" in flags[0].detail


def test_sessions_older_than_14_days_are_not_the_latest(fabricate: Fabricate) -> None:
    """Once a week on Mondays: three runs span 14 days, the bound (a WATCH). Without the run of 15 April
    the third latest (8 April) is 21 days before the last: not "now", so the trend rests on 2 sessions
    and is a note that says so, and so is the asymmetry level."""
    from imuback.report.analysis import latest_rows

    weekly, _ = fabricate(weeks=8, sessions_per_week=1, right_impact_rise_pct=15.0)
    flags = _flags_of(weekly, "right_impact_peak_g")
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert "in the latest 3 sessions (08 Apr – 22 Apr 2024; their median)" in flags[0].detail
    dataset, ids = fabricate(weeks=9, sessions_per_week=1, skip_weeks=(6,), right_impact_rise_pct=15.0)
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    latest = latest_rows(ctx, "right_impact_peak_g")
    assert latest is not None and list(latest.rows["session_id"]) == ids[-2:] and latest.thin
    flags = _flags_of(dataset, "right_impact_peak_g")
    assert [f.level for f in flags] == ["info"], _titles(flags)
    assert "in the latest 2 sessions (22 Apr – 29 Apr 2024; their median)" in flags[0].detail
    assert ("Based on 2 sessions in the 14 days to 29 Apr 2024: a median needs at least 3 sessions before one "
            "odd run cannot set it, so this is a note, not a warning") in flags[0].detail
    asym = _flags_of(dataset, "asymmetry_impact_peak_pct")
    assert [f.level for f in asym] == ["info"] and "Based on 2 sessions in the 14 days" in asym[0].detail


def test_trend_counts_only_the_latest_sessions_with_a_value(fabricate: Fabricate) -> None:
    """Three sessions in the latest week, the last at 50 Hz: no impact from it (below 100 Hz), so the
    impact's latest value rests on the week's other two and the Saturday before: 3 with a value."""
    from imuback.report.analysis import latest_rows, rate_limits

    dataset, ids = fabricate(right_impact_rise_pct=12.0, sample_rates_hz=((17, 50.0),))
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    assert ctx.sessions["right_impact_peak_g"].isna().tolist() == [False] * 17 + [True]
    weekly = queries.weekly_medians(dataset, "r1", ctx.comparable_ids, list(COLUMNS), min_rate_hz=rate_limits())
    assert int(weekly["n_sessions"].iloc[-1]) == 3
    latest = latest_rows(ctx, "right_impact_peak_g")
    assert latest is not None and list(latest.rows["session_id"]) == ids[14:17]
    flags = [f for f in trend_flags(ctx, weekly_changes(ctx, weekly)) if f.metric == "right_impact_peak_g"]
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert "in the latest 3 sessions (06 Apr – 10 Apr 2024; their median)" in flags[0].detail


# --- a change of sensor rate ---------------------------------------------------------------------


def test_rate_bias_is_read_off_the_real_table() -> None:
    from imuback.report.metrics import rate_bias_pct
    assert rate_bias_pct("impact_peak_g", 100.0) == pytest.approx(-3.6)
    assert rate_bias_pct("impact_peak_g", 1000.0) == pytest.approx(0.0)
    assert -3.6 < (rate_bias_pct("impact_peak_g", 150.0) or 0.0) < -0.8
    assert rate_bias_pct("cadence_spm", 100.0) is None
    assert rate_bias_pct("impact_peak_g", None) is None


def test_impact_rise_that_a_switch_from_100_to_200_hz_makes_is_a_note_that_says_so(
        fabricate: Fabricate) -> None:
    # a 100 Hz phone for 3 weeks, then a 200 Hz clip-on; impact up 3 % over those 3 weeks (the
    # +2.9 % 200 Hz makes of 100 Hz readings, benchmarks/rate_sensitivity.py)
    rates = tuple((k, 100.0) for k in range(9))
    dataset, _ = fabricate(right_impact_rise_pct=3.0, left_impact_rise_pct=3.0, sample_rates_hz=rates)
    flags = [f for f in _trend(dataset) if f.metric and f.metric.endswith("impact_peak_g")]
    assert [f.level for f in flags] == ["info"], _titles(flags)
    d = flags[0].detail
    assert "The baseline was sampled at 100 Hz and the week of 08 Apr 2024 at 200 Hz" in d
    assert "by +2.9 % between these rates" in d
    assert "may be the sensor's rate, not the runner" in d
    # the same rise at one rate throughout: a WATCH, with no word on rates
    same, _ = fabricate(right_impact_rise_pct=3.0, left_impact_rise_pct=3.0)
    flags = [f for f in _trend(same) if f.metric and f.metric.endswith("impact_peak_g")]
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert "sampled at" not in flags[0].detail


def test_impact_rise_beyond_a_rate_switch_stays_a_watch_and_names_the_switch(fabricate: Fabricate) -> None:
    rates = tuple((k, 100.0) for k in range(9))
    dataset, _ = fabricate(right_impact_rise_pct=12.0, left_impact_rise_pct=12.0, sample_rates_hz=rates)
    flags = [f for f in _trend(dataset) if f.metric and f.metric.endswith("impact_peak_g")]
    assert [f.level for f in flags] == ["watch"], _titles(flags)
    assert "sampled at 100 Hz and the week of 08 Apr 2024 at 200 Hz" in flags[0].detail
    assert "still beyond the smallest real change" in flags[0].detail
    # the switch is named where it spans the comparison, but a rate alone (its share measured and
    # said above) does not demote: only another sensor does (review 32, finding 2)
    assert "The sample rate changed in the week of 25 Mar 2024" in flags[0].detail


def test_the_latest_week_is_the_latest_local_week_with_mixed_zones(fabricate: Fabricate) -> None:
    """As queries.weekly_medians: the latest week is the latest local one, not the week of the
    session that started last in UTC. 23:00Z on Sunday 10 March at UTC+02:00 is Monday 11 March
    01:00 local (week of 11 March); 23:30Z with no zone is Sunday 10 March (week of 4 March): one
    session in the latest week, so the latest 3 reach back into the week before, in local order."""
    from imuback.report.analysis import latest_rows

    dataset, _ = fabricate()
    sessions = queries.runner_sessions(dataset, "r1")
    sessions = sessions[sessions["start_time"] < pd.Timestamp("2024-03-09", tz="UTC")]
    sessions = sessions.sort_values("start_time").reset_index(drop=True)
    last2 = sessions.index[-2:]
    sessions.loc[last2, "start_time"] = [pd.Timestamp("2024-03-10T23:00", tz="UTC"),
                                         pd.Timestamp("2024-03-10T23:30", tz="UTC")]
    sessions["utc_offset_min"] = pd.array([pd.NA] * len(sessions), dtype="Int32")
    sessions.loc[last2[0], "utc_offset_min"] = 120
    ctx = runner_context(sessions, runner_id="r1")
    latest = latest_rows(ctx, "median_cadence_spm")
    assert latest is not None and f"{latest.week:%Y-%m-%d}" == "2024-03-11"
    assert f"{latest.end:%a %d %b %H:%M}" == "Mon 11 Mar 01:00" and not latest.in_week
    assert list(latest.rows["session_id"]) == list(sessions.loc[[last2[1], last2[0]], "session_id"])


def test_a_baseline_of_fewer_than_three_sessions_says_why_not_at_least_three(fabricate: Fabricate) -> None:
    """Review 34, 13: the wording promised 'at least the first 3' over a baseline of 2 sessions."""
    dataset, ids = fabricate(weeks=1, last_week_sessions=2)
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    assert list(ctx.baseline["session_id"]) == ids[:2]
    assert "at least the first" not in ctx.baseline_text
    assert ctx.baseline_text.endswith("(fewer than 3: all the usable sessions so far)")
    dataset, ids = fabricate(weeks=1, cadence_offsets=((0, 15.0),))  # 3 runs, the first at another pace
    ctx = runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1")
    assert list(ctx.baseline["session_id"]) == ids[1:3]
    assert ctx.baseline_text.endswith("(fewer than 3: 1 session of the first left out, at another pace)")
    dataset, ids = fabricate()
    assert "fewer than" not in runner_context(queries.runner_sessions(dataset, "r1"), runner_id="r1").baseline_text
