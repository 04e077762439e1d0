
"""The trends report: one runner over weeks, against their own baseline, at comparable pace.

What changed and since when in plain language, weekly trend lines with minimum-change bands,
asymmetry trends, within-run drift across sessions, a weekly table and the session list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from imuback.report import queries, svg
from imuback.report.analysis import (
    COLUMNS,
    DEFAULT_PARAMS,
    DRIFT_RULE_TEXT,
    ReportParams,
    RunnerContext,
    days_text,
    not_enough_text,
    rate_limits,
    runner_context,
    trend_flags,
    weekly_changes,
)
from imuback.report.html import (
    Markup,
    definition_list,
    flag_list,
    join,
    page,
    report_title,
    section,
    table,
    tag,
    write_page,
)
from imuback.report.metrics import (
    ASYM_BY_SIDE,
    ASYM_NORMAL_PCT,
    ASYM_NOTABLE_PCT,
    BY_KEY,
    DRIFT_CHECKED,
    DRIFT_KEYS,
    NO_SPEED_TEXT,
    SPEED_METRICS,
    TREND_KEYS,
    checked_on_column,
    count,
    duration_text,
    pace_text,
    rate_text,
)
from imuback.report.notes import notes_table, pain_banner, weekly_pain
from imuback.report.setup import GAP_DAYS, gaps, setup_changes, week_start
from imuback.store.notes import read_notes


def _days(ts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Timestamps (the sessions' local starts and weeks, labelled UTC) -> days since the epoch (float),
    the x axis of every trend plot.
    """
    delta = pd.to_datetime(ts, utc=True) - pd.Timestamp(0, tz="UTC")
    return np.asarray(delta / pd.Timedelta(days=1), dtype=float)


def _week_ticks(weeks: pd.Series) -> list[tuple[float, str]]:
    days = _days(weeks)
    step = max(1, int(np.ceil(len(days) / 8)))
    return [(float(d), f"{w:%d %b}") for d, w in zip(days[::step], weeks.iloc[::step], strict=True)]


WEEK_MID_DAYS = 3.5
"""Weekly medians are drawn mid-week: the week's Monday + 3.5 days."""


def _x_range(shown: pd.DataFrame, weekly: pd.DataFrame) -> tuple[float, float]:
    """The x range (days since the epoch) holding every session and every mid-week median, ± 1 day:
    a last run early in its week still has its week's median, drawn after it, on the chart.
    """
    sessions, weeks = _days(shown["local_start"]), _days(weekly["week"])
    lo = float(min(sessions.min(), weeks.min())) - 1
    return lo, float(max(sessions.max(), weeks.max() + WEEK_MID_DAYS)) + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Marks:
    """What every trend plot marks: the gaps without sessions (grey spans, the lines break across
    them) and the changes of recording set-up (dashed lines) of :mod:`imuback.report.setup`.
    """

    spans: tuple[svg.VSpan, ...] = ()
    lines: tuple[svg.VLine, ...] = ()
    breaks_days: tuple[float, ...] = ()
    """Days since the epoch at which a line breaks (the middle of each gap)."""

    def cut(self, x: np.ndarray, y: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x``, ``y`` (x ascending) with a NaN point at each break between two points: the line
        stops at a gap and starts again after it.
        """
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        b = np.asarray(self.breaks_days, dtype=float)
        at = np.searchsorted(x, b)
        inner = (at > 0) & (at < x.size)
        return np.insert(x, at[inner], b[inner]), np.insert(y, at[inner], np.nan)


def _marks(ctx: RunnerContext) -> Marks:
    """The gaps of all the runner's sessions and the set-up changes of the compared ones."""
    long_gaps = gaps(ctx.sessions)
    changes = setup_changes(ctx.sessions[ctx.sessions["comparable"]])
    labels: set[str] = set()
    lines = []
    for c in changes:
        label = f"{c.kinds} {c.verb}"
        lines.append(svg.VLine(x=float(_days(pd.Series([c.local_start.floor("D")]))[0]),
                               label="" if label in labels else label))
        labels.add(label)
    spans = tuple(svg.VSpan(x0=float(_days(pd.Series([g.first_day]))[0]),
                            x1=float(_days(pd.Series([g.last_day]))[0]) + 1,
                            label="no sessions" if i == 0 else "", opacity=0.16)
                  for i, g in enumerate(long_gaps))
    mids = tuple((s.x0 + s.x1) / 2 for s in spans)
    return Marks(spans=spans, lines=tuple(lines), breaks_days=mids)


def _trend_chart(key: str, ctx: RunnerContext, shown: pd.DataFrame, weekly: pd.DataFrame,
                 ticks: list[tuple[float, str]], xr: tuple[float, float], marks: Marks) -> str:
    m = BY_KEY[key]
    name = f"median_{key}"
    comp = shown[shown["comparable"]]
    other = shown[shown["usable"] & ~shown["comparable"]]
    wx = _days(weekly["week"]) + WEEK_MID_DAYS
    lines, points, bands = [], [], []
    base, mc = ctx.baseline_values.get(name), ctx.min_changes.get(name)
    if base is not None and mc is not None:
        bands.append(svg.HBand(lo=(base - mc.value) * m.scale, hi=(base + mc.value) * m.scale,
                               label="baseline ± smallest real change" + (" (both sides)" if m.side else ""),
                               color=svg.BAND))
    if m.side is not None:
        for prefix, color in (("left", svg.LEFT), ("right", svg.RIGHT)):
            col = f"{prefix}_{key}"
            points.append(svg.Points(x=_days(comp["local_start"]), y=comp[col].astype(float) * m.scale,
                                     label="", color=color, radius=2.2))
            lx, ly = marks.cut(wx, weekly[col].astype(float) * m.scale)
            lines.append(svg.Line(x=lx, y=ly, label=f"{prefix} (weekly median)", color=color, markers=True))
    else:
        points.append(svg.Points(x=_days(comp["local_start"]), y=comp[name].astype(float) * m.scale,
                                 label="sessions", color=svg.ALL, radius=2.4))
        lx, ly = marks.cut(wx, weekly[name].astype(float) * m.scale)
        lines.append(svg.Line(x=lx, y=ly, label="weekly median", color=svg.ALL, markers=True))
    if len(other):
        points.append(svg.Points(x=_days(other["local_start"]), y=other[name].astype(float) * m.scale,
                                 label="other pace (not compared)", color="#999999", hollow=True))
    caption = _min_change_caption(key, ctx) + (
        f"Accuracy checked on: {checked_on_column(name if m.side is None else f'left_{key}')}.")
    return svg.render(svg.Chart(plot_id=f"trend-{key}", title=m.label, x_label="week",
                                y_label=m.axis_label, lines=lines, points=points, hbands=bands,
                                vspans=marks.spans, vlines=marks.lines, x_ticks=ticks, x_range=xr,
                                caption=caption))


def _min_change_caption(key: str, ctx: RunnerContext) -> str:
    """The smallest real change(s) of a trend chart: a metric with sides has one per side (the side
    flags quote them) and one of both sides (the band), each named.
    """
    m = BY_KEY[key]
    mc = ctx.min_changes.get(f"median_{key}")
    if mc is None:
        return ""
    sides = [ctx.min_changes.get(f"{p}_{key}") for p in ("left", "right")]
    if m.side is None or any(s is None for s in sides):
        return f"Smallest real change {m.show_unit(mc.value)}: {mc.note}. "
    left, right = (s.value for s in sides if s is not None)
    if m.show(left) == m.show(right) == m.show(mc.value):
        return f"Smallest real change {m.show_unit(mc.value)} (each side and both): {mc.note}. "
    return (f"Smallest real change: left {m.show_unit(left)}, right {m.show_unit(right)}, both sides "
            f"{m.show_unit(mc.value)} (band): {mc.note}. ")


def _asym_chart(side: str, weekly: pd.DataFrame, shown: pd.DataFrame,
                ticks: list[tuple[float, str]], xr: tuple[float, float], marks: Marks) -> str:
    a = ASYM_BY_SIDE[side]
    comp = shown[shown["comparable"]]
    label = a.label.replace(" asymmetry", "")
    lx, ly = marks.cut(_days(weekly["week"]) + WEEK_MID_DAYS, weekly[a.key].astype(float))
    return svg.render(svg.Chart(
        plot_id=f"trend-{a.key}", title=f"{label}: left/right asymmetry", x_label="week",
        y_label="% (positive: left higher)",
        hbands=[svg.HBand(lo=-ASYM_NOTABLE_PCT, hi=ASYM_NOTABLE_PCT, label="watch (5–10 %)",
                          color="#d99a1b", opacity=0.10),
                svg.HBand(lo=-ASYM_NORMAL_PCT, hi=ASYM_NORMAL_PCT, label="normal (0–5 %)",
                          color=svg.BAND, opacity=0.14)],
        points=[svg.Points(x=_days(comp["local_start"]), y=comp[a.key].astype(float),
                           label="sessions", color=svg.ALL, radius=2.4)],
        lines=[svg.Line(x=lx, y=ly, label="weekly median", color=svg.ALL, markers=True)],
        vspans=marks.spans, vlines=marks.lines, x_ticks=ticks, x_range=xr, extra_y=(-12.0, 12.0),
        caption=f"Above 10 % either way is notable. Accuracy checked on: {checked_on_column(a.key)}."))


def _drift_chart(shown: pd.DataFrame, ticks: list[tuple[float, str]], xr: tuple[float, float],
                 marks: Marks) -> str:
    comp = shown[shown["comparable"]]
    palette = ("#1f6fb2", "#d9651b", "#2e9e5b", "#8c6d1f", "#b03a7a")
    cuts = [marks.cut(_days(comp["local_start"]), comp[f"drift_{k}_pct"].astype(float)) for k in DRIFT_KEYS]
    lines = [svg.Line(x=x, y=y, label=BY_KEY[k].label, color=c, markers=True, width=1.6)
             for k, c, (x, y) in zip(DRIFT_KEYS, palette, cuts, strict=True)]
    return svg.render(svg.Chart(
        plot_id="trend-drift", title="Within-run drift per session", x_label="session date",
        y_label="% late vs early running", lines=lines, vspans=marks.spans, vlines=marks.lines,
        x_ticks=ticks, x_range=xr,
        extra_y=(0.0,), height=280,
        caption="How much each metric changed late in each run (fatigue). Near 0 % is steady. "
                f"Minutes since the first running step: {DRIFT_RULE_TEXT}. Accuracy checked on: "
                + "; ".join(f"{BY_KEY[k].label.lower()}: {BY_KEY[k].checked_on}" for k in DRIFT_KEYS)
                + f"; {DRIFT_CHECKED}."))


SPEED_TREND_KEYS = ("stride_length_m", "vertical_ratio_pct")
"""Metrics needing a speed with a weekly plot (sessions with a speed only)."""
SPEED_COLUMNS = [f"median_{m.key}" for m in SPEED_METRICS]
"""Session columns of the speed metrics (weekly medians)."""


def _has_speed(df: pd.DataFrame) -> bool:
    """Some session has a pace (a speed source)."""
    col = "median_pace_s_per_km"
    return col in df and bool(pd.to_numeric(df[col], errors="coerce").notna().any())


def _weekly_table(weekly: pd.DataFrame, pain: pd.DataFrame) -> Markup:
    cols = ["median_cadence_spm", "left_contact_time_s", "right_contact_time_s",
            "left_impact_peak_g", "right_impact_peak_g", "median_grf_peak_bw",
            "median_vertical_oscillation_cm", "median_pelvis_rotation_deg",
            "median_pelvis_obliquity_deg", "median_pelvis_tilt_deg", "median_ml_excursion_cm",
            "asymmetry_impact_peak_pct"]
    heads = ["Week of", "Sessions", "Cadence (steps/min)", "Contact L (ms)", "Contact R (ms)",
             "Impact L (g)", "Impact R (g)", "vGRF (BW)", "Vert. osc. (cm)", "Rotation (°)",
             "Obliquity (°)", "Tilt (°)", "Side-to-side (cm)", "Impact asym. (%)", "Worst pain (0–10)",
             "Effort (RPE)"]
    speed = _has_speed(weekly)
    if speed:
        heads[3:3] = ["Pace (min/km)", "Stride length (m)"]
    by_week = pain.set_index(pd.to_datetime(pain["week"], utc=True)) if not pain.empty else pain
    rows = []
    for _, w in weekly.iterrows():
        week = pd.Timestamp(w["week"])
        cells: list[object] = [f"{week:%d %b %Y}", int(w["n_sessions"])]
        for c in cols:
            if speed and c == "left_contact_time_s":
                cells += [pace_text(w["median_pace_s_per_km"]).removesuffix(" min/km"),
                          BY_KEY["stride_length_m"].show(float(w["median_stride_length_m"]))]
            v = w[c]
            cells.append(f"{v:+.1f}" if c.startswith("asym") and np.isfinite(v)
                         else COLUMNS[c].metric.show(float(v)))
        logged = by_week.loc[week] if not by_week.empty and week in by_week.index else None
        for key, fmt in (("worst_pain", "{:.0f}"), ("median_rpe", "{:.0f}")):
            v = None if logged is None else logged[key]
            cells.append("—" if v is None or pd.isna(v) else fmt.format(v))
        rows.append(cells)
    return table(heads, rows, cls="weekly",
                 caption="Weekly medians of pace-comparable sessions, beside the runner's pain and "
                         "effort notes of those weeks. Side by side only: this does not show that "
                         "one causes the other.")


def _sessions_table(shown: pd.DataFrame) -> Markup:
    rows = []
    for _, s in shown.iterrows():
        note = s["note"] or ("baseline" if s["in_baseline"] else "compared")
        comp = s["completeness_pct"]
        rows.append([f"{pd.Timestamp(s['local_start']):%a %d %b %Y %H:%M}", s["session_id"],
                     duration_text(s["duration_s"]),
                     BY_KEY["cadence_spm"].show_unit(s["median_cadence_spm"]),
                     pace_text(s.get("median_pace_s_per_km")),
                     f"{comp:.1f} %" if np.isfinite(comp) else "n/a",
                     "mounting not stated" if s.get("mounting_source") == "assumed" else
                     f"{s['misalignment_deg']:.0f}°" if np.isfinite(s["misalignment_deg"]) else "n/a",
                     s["sensor"], note])
    return table(["Start (local; UTC without a zone)", "Session", "Length", "Cadence", "Pace", "Data", "Sensor offset",
                  "Sensor", "Used as"], rows, cls="sessions")


def build_trends_report(dataset: Path, runner_id: str, *, weeks: int | None = None,
                        params: ReportParams = DEFAULT_PARAMS) -> str:
    """The trends report of ``runner_id`` as one HTML document (``weeks``: show the last N)."""
    sessions = queries.runner_sessions(dataset, runner_id)
    ctx = runner_context(sessions, runner_id=runner_id, params=params)
    all_weekly = queries.weekly_medians(dataset, runner_id, ctx.comparable_ids, [*COLUMNS, *SPEED_COLUMNS],
                                        min_rate_hz=rate_limits())
    changes = weekly_changes(ctx, all_weekly)
    flags = trend_flags(ctx, changes)
    df = ctx.sessions
    notes = read_notes(dataset, runner_id=runner_id)
    last = df["local_start"].max()  # days and weeks: the sessions' own (analysis.local_start)
    if weeks is not None:
        first_week = week_start(last) - pd.Timedelta(weeks=weeks - 1)
        shown = df[df["local_start"] >= first_week]
        weekly = all_weekly[pd.to_datetime(all_weekly["week"], utc=True) >= first_week]
        window = f"the last {count(weeks, 'week')}, from {first_week:%d %b %Y}"
    else:
        shown, weekly = df, all_weekly
        window = "all sessions"
    weekly = weekly.reset_index(drop=True)
    facts = [
        ("Runner", runner_id),
        ("Period", f"{df['local_start'].min():%d %b %Y} to {last:%d %b %Y} (showing {window}; {days_text(df)})"),
        ("Sessions", f"{len(df)} in the dataset, {int(df['comparable'].sum())} at comparable pace"),
        ("Baseline", ctx.baseline_text),
        ("Comparable pace", ctx.pace_band_text),
        ("Sensors", sensors_text(df)),
    ]
    running = bool((pd.to_numeric(df["n_run_steps"], errors="coerce").fillna(0) > 0).any())
    status = not_enough_text(ctx) if running else None
    parts: list[object] = [
        tag("h1", report_title("trends", running=running)),
        tag("p", f"{runner_id}: how the running mechanics changed week by week against the runner's own "
                 "baseline, at comparable pace." if running else
                 f"{runner_id}: walking sessions only. {walking_only_text(params)}", class_="sub"),
        pain_banner(notes, df),
        definition_list(facts),
        section("What changed", tag("p", status, class_="no-flags not-enough") if status else Markup(""),
                flag_list(flags, empty="No change beyond the smallest real change and no notable asymmetry.")
                if flags or not status else Markup(""), sid="flags"),
    ]
    if weekly.empty or shown.empty:
        parts.append(section("Weekly trends", tag("p", "No comparable sessions in this window." if running
                                                  else walking_only_text(params)), sid="trends"))
    else:
        ticks = _week_ticks(pd.to_datetime(weekly["week"], utc=True))
        xr = _x_range(shown, weekly)
        keys = [*TREND_KEYS, *(SPEED_TREND_KEYS if _has_speed(shown) else ())]
        marks = _marks(ctx)
        charts = [_trend_chart(k, ctx, shown, weekly, ticks, xr, marks) for k in keys]
        asym = [_asym_chart(s, weekly, shown, ticks, xr, marks)
                for s in ("impact_peak", "contact_time", "flight_time", "grf_peak")]
        parts += [
            section("Weekly trends", tag("p", "Dots: sessions; line: weekly median; green band: "
                                              "baseline ± smallest real change (inside it is "
                                              "noise); grey: weeks without sessions (the line breaks); "
                                              "dashed: the sensor, its sample rate or its mounting "
                                              "changed. " + ("Stride length and vertical ratio: sessions "
                                                            "with a speed (GPS or treadmill) only."
                                                            if _has_speed(shown) else NO_SPEED_TEXT),
                                         class_="note"),
                    tag("div", join(Markup(c) for c in charts), class_="plots"), sid="trends"),
            section("Left/right asymmetry", tag("div", join(Markup(c) for c in asym),
                                                class_="plots"), sid="asymmetry"),
            section("Within-run drift (fatigue)", tag("div", Markup(_drift_chart(shown, ticks, xr, marks)),
                                                      class_="plots"), sid="drift"),
            section("Week by week", _weekly_table(weekly, weekly_pain(notes, df)), sid="weekly"),
        ]
    parts += [
        section("Pain and effort log", notes_table(notes, with_session=True), sid="notes"),
        section("Sessions", _sessions_table(shown), sid="sessions"),
        section("How to read this report", _methods(running, params), sid="methods"),
    ]
    generated = f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC"
    return page(title=f"imuback trends report — {runner_id}", body=join(parts), generated=generated)


def sensors_text(df: pd.DataFrame) -> str:
    """The sensors of ``df`` (sessions, oldest first) with their sample rates, in order, each with the
    days it was used (first to last session) when they changed: ``imuback-sim, 200 Hz, 07 Sep 2026 to
    17 Sep 2026; Sensor Logger iOS (Pixel 7), 100 Hz, 06 Nov 2026 to 27 Nov 2026``.
    """
    rates = pd.to_numeric(df["sample_rate_hz"], errors="coerce") if "sample_rate_hz" in df \
        else pd.Series(np.nan, index=df.index)
    names = [f"{s if isinstance(s, str) and s else 'unknown'}"
             + (f", {rate_text(float(r))}" if np.isfinite(r) else "") for s, r in zip(df["sensor"], rates, strict=True)]
    if not names:
        return "unknown"
    runs: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []  # (set-up, first, last local start)
    for name, when in zip(names, df["local_start"], strict=True):
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1], when)
        else:
            runs.append((name, when, when))
    if len(runs) == 1:
        return runs[0][0]
    return "; ".join(f"{name}, {first:%d %b %Y} to {last:%d %b %Y}" for name, first, last in runs)


def walking_only_text(params: ReportParams) -> str:
    """What a walking-only runner's trends report holds, and why."""
    return ("The baseline, the week-by-week comparison and within-run drift are computed on running "
            f"(sessions of at least {params.min_run_steps} running steps): with no running yet, the sessions "
            "are listed, not compared.")


def _methods(running: bool, params: ReportParams) -> Markup:
    """"How to read this report": the running rules, or what a walking-only report holds."""
    if not running:
        return tag("div", join([
            tag("p", "This runner's sessions hold walking only. " + walking_only_text(params) + " Each session's "
                     "own report shows how that walk looked: cadence, step timing and the pelvis, with "
                     "how well each was checked on real walking."),
            tag("p", "Contact and flight time, impact, peak vertical force, the loading rate and pelvic drop "
                     "are running measures: imuback gives none for walking steps (docs/validation.md says "
                     "why)."),
        ]), class_="methods")
    return tag("div", join([
        tag("p", "A change is reported only when the latest value differs from the baseline by at "
                 "least the smallest real change: 0.28 BW for peak vertical force "
                 "and 32 ms for contact and flight time (published), never less than this "
                 "runner's own session-to-session variation (1.96 × 1.4826 × the median "
                 "difference between consecutive sessions); other metrics use that variation. "
                 f"The latest value is the latest week's median when the week holds {params.min_week_sessions} "
                 f"sessions or more, else the median of the latest {params.min_week_sessions} sessions within "
                 f"{params.latest_days:g} days of the last (each flag says which): a runner who runs twice a "
                 "week is judged on their last three runs, and one odd run cannot set it. "
                 "It is a trend when the week before moved the same way too; 'since' is the "
                 "first week that moved. A trend resting on fewer than "
                 f"{params.min_week_sessions} sessions in those days is a note, not a warning; so is an "
                 "asymmetry level resting on fewer. Where another "
                 "sensor took over (a dashed line in the plots, as for a new sample rate or stated "
                 "mounting), a change across it is a note too: part of it may be the sensor's. Lines "
                 f"break across more than {GAP_DAYS:g} days without sessions (grey)."),
        tag("p", f"Within-run drift compares the {DRIFT_RULE_TEXT}. A run drifts when the 95 % "
                 "interval of that difference, from the run's own step-to-step noise, excludes zero; "
                 "it is flagged when at least two and at least half of the latest sessions drift the "
                 "same way: as a watch only when the change also reaches the metric's smallest real "
                 "change between sessions, otherwise as a note."),
        tag("p", "Only sessions at a similar cadence are compared, because the sensor alone "
                 "cannot measure speed (not every session has GPS or a treadmill speed) and most "
                 "metrics change with it. Peak vertical force is "
                 "estimated and the loading rate is an index: neither is a force-plate value."),
        ]), class_="methods")


def write_trends_report(dataset: Path, runner_id: str, out: Path, *, weeks: int | None = None,
                        params: ReportParams = DEFAULT_PARAMS) -> Path:
    """Write the trends report of ``runner_id`` in ``dataset`` to ``out`` (HTML); return ``out``."""
    out = Path(out)
    html = build_trends_report(Path(dataset), runner_id, weeks=weeks, params=params)
    return write_page(out, html)
