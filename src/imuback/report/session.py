
"""The session report: one run, against the runner's own baseline.

Header (runner, date, sensor, placement and misalignment, data completeness), flags, the main
metrics, a left/right table, within-run drift plots and per-step/per-stride distributions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imuback.report import queries, svg
from imuback.report.analysis import (
    DEFAULT_PARAMS,
    DRIFT_BASELINE_MIN,
    DRIFT_LATE_MIN,
    DRIFT_RULE_TEXT,
    DriftWindows,
    ReportParams,
    RunnerContext,
    SessionLimits,
    drift_reading,
    drift_windows,
    local_start,
    local_time_text,
    no_gait,
    placement_text,
    runner_context,
    running_s,
    session_flags,
    session_limits,
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
    BY_KEY,
    DRIFT_KEYS,
    FLAGGED_ASYMMETRY,
    METRICS,
    RUNNING_ONLY,
    SIMULATION_ONLY,
    SPEED_METRICS,
    Metric,
    asymmetry_class,
    contact_balance_left_pct,
    count,
    duration_text,
    percent_text,
    rate_text,
    show_speed_metric,
    speed_source_text,
)
from imuback.report.notes import notes_table, pain_banner
from imuback.signal.clipping import CENSORED_METRICS, censored_quantile
from imuback.signal.params import QualityParams
from imuback.store.notes import read_notes

LOW_QUALITY = QualityParams().low_quality
"""Steps below this ``quality`` are low-confidence (as ``sessions.low_quality_step_pct`` counts them)."""
LOW_COLOR = "#8a8a8a"
"""Grey: low-confidence steps in the plots."""

STEP_PLOTS = ("contact_time_s", "impact_peak_g")
STRIDE_PLOTS = ("pelvis_obliquity_deg", "pelvis_rotation_deg", "ml_excursion_cm")
HIST_STEP = ("contact_time_s", "flight_time_s", "impact_peak_g", "grf_peak_bw",
             "vertical_oscillation_cm")
HIST_STRIDE = ("pelvis_rotation_deg", "pelvis_obliquity_deg", "pelvis_tilt_deg", "ml_excursion_cm")


WALK_NOT_COMPARED_TEXT = ("This session is walking; the baseline is running, so no Baseline, Change or "
                          "smallest real change is shown: walking and running numbers are not compared.")
"""Why a walking-only session's metrics table has no baseline columns."""


NO_STEPS_TEXT = ("No steps were found in this session, so there are no medians, left/right values, drift or "
                 "per-step distributions to show.")
"""The metrics section of a session without steps (:func:`imuback.report.metrics.no_gait`): in place of
the table, the pace, left/right, drift and distribution sections (review 33b)."""


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _reading(m: Metric, value: float | None, base: float | None, mc: float | None,
             comparable: bool) -> Markup:
    bits = []
    if value is not None and base is not None and mc is not None and comparable:
        delta = value - base
        if abs(delta) >= mc:
            bits.append(tag("span", f"{'higher' if delta > 0 else 'lower'} than baseline",
                            class_="tag tag-" + ("watch" if m.load and delta > 0 else "out")))
        else:
            bits.append(tag("span", "as baseline", class_="tag tag-within"))
    return join(part for bit in bits for part in (bit, " "))


def _local_start(row: dict[str, Any]) -> pd.Timestamp:
    """The session's start on the runner's clock (:func:`~imuback.report.analysis.local_start`)."""
    return pd.Timestamp(local_start(pd.DataFrame([{"start_time": row["start_time"],
                                                   "utc_offset_min": row.get("utc_offset_min")}])).iloc[0])


def _no_gait_text(row: dict[str, Any]) -> str:
    """The summary of a session without steps: why (its status reason) and that nothing is described."""
    reason = str(row.get("status_reason") or "no walking or running found")
    return (f"{reason[0].upper()}{reason[1:]}. There are no steps to describe: no number below describes "
            "the runner.")


def _header(row: dict[str, Any], clipping: str | None = None, limits: SessionLimits | None = None) -> Markup:
    start = _local_start(row)
    dur = _num(row.get("duration_s")) or 0.0
    run = running_s(row)
    comp = _num(row.get("completeness_pct"))
    gyro = "accelerometer + gyroscope" if row.get("has_gyro") else "accelerometer only (no pelvis angles)"
    status = str(row.get("status") or "ok")
    if row.get("status_reason"):
        status += f" — {row['status_reason']}"
    facts = [
        ("Runner", row["runner_id"]), ("Session", row["session_id"]),
        ("Date", f"{start:%A %d %B %Y, %H:%M} ({local_time_text(row)})"),
        ("Duration", f"{duration_text(dur)} ({duration_text(run) + ' running' if run > 0 else 'no running'})"),
        ("Sensor", f"{row.get('sensor') or 'unknown'}, {rate_text(_num(row.get('sample_rate_hz')))}, {gyro}"),
        ("Placement", f"lower back (sacrum); {placement_text(row)}"),
        ("Data completeness", (f"{comp:.1f} % of samples" if comp is not None else "n/a")
         + f", {count(int(row.get('n_gaps') or 0), 'gap')}, {_num(row.get('gap_total_s')) or 0:.1f} s missing"),
        ("Steps", f"{row.get('n_run_steps') or 0} running, {row.get('n_walk_steps') or 0} walking"),
        ("Step confidence", "n/a" if (low := _num(row.get("low_quality_step_pct"))) is None else
         "every step of normal confidence" if low == 0 else
         f"{percent_text(low)} of steps of low confidence (their events are less certain; grey in "
         f"the plots): {row.get('low_quality_reason') or 'irregular rhythm or shape'}"
         + ("; read this session's numbers with care" if low > 30 else "")),
        ("Status", status),
        *([("Sensor clipping", clipping)] if clipping else []),
        *([("Limits", " ".join(f"{t}. {d}" for t, d in limits.notes))] if limits and limits.notes else []),
        ("Processed by", f"imuback pipeline {row.get('pipeline_version') or '?'}"),
    ]
    return definition_list(facts)


def _metrics_table(row: dict[str, Any], ctx: RunnerContext, comparable: bool, activity: str) -> Markup:
    """The main metrics of the session's ``activity`` (``"run"``, else ``"walk"``: a walking-only
    session), each with where its accuracy was checked for that activity.
    """
    rows = []
    for m in METRICS:
        name = f"median_{m.key}"
        v = _num(row.get(name))
        where = m.checked_on_for(activity)
        checked = tag("span", where, class_="checked " + (
            "sim-only" if where == SIMULATION_ONLY else "not-given" if where == RUNNING_ONLY else "real"))
        if activity != "run":  # the baseline is running (analysis step 1): a walk is not set against it
            rows.append([m.label, m.show_unit(v), "—", "—", "—", "", checked])
            continue
        base = ctx.baseline_values.get(name)
        mc = ctx.min_changes.get(name)
        change = m.show_unit(v - base, signed=True) if v is not None and base is not None else "n/a"
        rows.append([m.label, m.show_unit(v), m.show_unit(base), change,
                     m.show_unit(mc.value) if mc else "n/a",
                     _reading(m, v, base, mc.value if mc else None, comparable), checked])
    return table(["Metric (session median)", "This session", "Baseline", "Change",
                  "Smallest real change", "Reading", "Accuracy checked on"], rows, cls="metrics",
                 caption="Accuracy checked on: where imuback's numbers were compared with a reference "
                         "(docs/validation.md). Numbers checked on simulation only are best read as "
                         "changes against this runner's own baseline.")


def _pace_plot(steps: pd.DataFrame, t0: pd.Timestamp) -> Markup:
    """Pace through the run from each step's GPS speed (``steps.speed_mps``), median per 30 s
    (1 min beyond 30 min of running), low-confidence steps as grey rings.
    """
    t = ((steps["ic_time"] - t0).dt.total_seconds() / 60).to_numpy(float)
    v = pd.to_numeric(steps["speed_mps"], errors="coerce").to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = np.where(v > 0.5, 1000.0 / 60.0 / v, np.nan)  # min/km; slower than 33 min/km: standing
    width = 0.5 if (float(np.nanmax(t)) if t.size else 0.0) <= 30 else 1.0
    b = _binned(t, pace, width)
    low = _low_confidence(steps) & np.isfinite(pace)
    points = ([svg.Points(x=t[low], y=pace[low], label=f"low-confidence step (quality < {LOW_QUALITY:g})",
                          color=LOW_COLOR, radius=2.2, hollow=True)] if low.any() else [])
    return Markup(svg.render(svg.Chart(
        plot_id="pace", title="Pace through the run", x_label="minutes since the first running step",
        y_label="min/km",
        lines=[svg.Line(x=b["t"], y=b["p50"], label="median", color=svg.ALL)],
        areas=[svg.Area(x=b["t"], lo=b["p25"], hi=b["p75"], label="middle 50 % of steps", color=svg.ALL,
                        opacity=0.12)],
        points=points,
        caption=f"Higher is slower. From the phone's GPS speed over each step, median per {width * 60:.0f} s "
                "(a phone's GPS speed errs by a few tenths of a m/s, so single steps scatter)"
                + (f"; grey rings: the {count(int(low.sum()), 'low-confidence step')}." if low.any() else "."))))


def _speed_section(row: dict[str, Any], steps: pd.DataFrame, t0: pd.Timestamp | None, activity: str) -> Markup:
    """Pace, speed, step and stride length, vertical ratio (and pace through the run from GPS),
    or why there are none.
    """
    source = row.get("speed_source")
    if source not in ("gps", "treadmill"):
        return tag("p", speed_source_text(row), class_="no-speed")
    facts = [(m.label, show_speed_metric(m, _num(row.get(f"median_{m.key}")))) for m in SPEED_METRICS]
    plot = (tag("div", _pace_plot(steps, t0), class_="plots")  # in print: a quarter of the width
            if source == "gps" and t0 is not None and "speed_mps" in steps
            and pd.to_numeric(steps["speed_mps"], errors="coerce").notna().any() else Markup(""))
    return join([
        definition_list([("Speed from", speed_source_text(row)), *facts]),
        tag("p", "Session medians. Accuracy: pace and speed are the speed source's own ("
                 + ("the belt speed given" if source == "treadmill" else "phone GPS, not validated by imuback")
                 + f"); step and stride length: {BY_KEY['step_length_m'].checked_on_for(activity)}; vertical "
                 f"ratio: {BY_KEY['vertical_ratio_pct'].checked_on_for(activity)}. Step length is one foot's "
                 "landing to the other's (what Garmin calls stride length); stride length is two steps, same "
                 "foot to same foot; vertical ratio = vertical oscillation / step length. Shown, not compared with the "
                 "baseline.", class_="note"),
        plot,
    ])


def _side_table(row: dict[str, Any], quart: pd.DataFrame) -> Markup:
    rows = []
    for side, a in ASYM_BY_SIDE.items():
        m = next(m for m in METRICS if m.side == side)
        cells: list[object] = [m.label]
        for foot, prefix in (("L", "left"), ("R", "right")):
            v = _num(row.get(f"{prefix}_{m.key}"))
            iqr = ""
            if foot in quart.index and f"{m.key}_p25" in quart:
                q25, q75 = quart.loc[foot, f"{m.key}_p25"], quart.loc[foot, f"{m.key}_p75"]
                iqr = f" ({m.show(_num(q25))}–{m.show(_num(q75))})"
            cells.append(m.show_unit(v) + iqr)
        asym = _num(row.get(a.key))
        cls = asymmetry_class(asym) if side in FLAGGED_ASYMMETRY else "not judged"
        text = "n/a" if asym is None else f"{asym:+.1f} %"
        if side == "contact_time" and asym is not None:
            text += f" (left share {contact_balance_left_pct(asym):.1f} %)"
        cells += [text, tag("span", cls, class_=f"tag tag-{cls.replace(' ', '-')}")]
        rows.append(cells)
    n = quart["n_steps"] if "n_steps" in quart else pd.Series(dtype=float)
    caption = ("Median (interquartile range) per foot. Asymmetry = 100·(L−R)/mean(L,R): positive "
               "means the left is higher. 0–5 % normal, 5–10 % watch, above 10 % notable. "
               "Impact (sacrum peak) is the sharp transient just after landing; peak vertical force "
               "is the estimated mid-stance peak of the whole body's loading: two moments of the "
               "contact, so they can be higher on different sides. Left/right labels were checked "
               "on real walking; in running on simulation only. Steps: "
               + ", ".join(f"{'left' if f == 'L' else 'right'} {int(c)}" for f, c in n.items()))
    censored = [c for key in CENSORED_METRICS for c in (f"{key}_p25", f"{key}_p75") if c in quart]
    if censored and np.isposinf(quart[censored].to_numpy(float)).any():
        caption += (". n/a in impact or loading rate: not known, the sensor clipped the hardest "
                    "landings (see the header)")
    return table(["Metric", "Left", "Right", "Asymmetry", "Reading"], rows, cls="sides",
                 caption=caption)


def _binned(t_min: np.ndarray, v: np.ndarray, width_min: float,
            clipped: np.ndarray | None = None) -> pd.DataFrame:
    """Per-time-bin 25/50/75th percentiles (bin centres ``t`` in minutes), bins of 5 values or more.

    ``clipped`` (S,): steps whose value is unknown but larger than every unclipped one (a clipped
    contact's impact): counted as +inf, as the session medians count them
    (:func:`~imuback.signal.clipping.censored_quantile`), so a percentile that rests on one is NaN
    (a bin with half or more clipped has no median). ``p50_min``: the median with them at the
    highest unclipped value instead, the least it can be; ``n_clipped`` per bin.
    """
    c = np.zeros(v.size, dtype=bool) if clipped is None else np.asarray(clipped, dtype=bool)
    v = np.where(c, np.inf, v)
    ok = np.isfinite(t_min) & (np.isfinite(v) | c)
    floor = float(np.max(v[ok & ~c])) if (ok & ~c).any() else float("nan")
    df = pd.DataFrame({"bin": np.floor(t_min[ok] / width_min), "v": v[ok], "c": c[ok],
                       "v_min": np.where(c[ok], floor, v[ok])})
    if df.empty:
        return pd.DataFrame({"t": [], "p25": [], "p50": [], "p75": [], "p50_min": [], "n_clipped": []})
    g = df.groupby("bin")
    out = pd.DataFrame({f"p{q}": g["v"].agg(censored_quantile, q / 100) for q in (25, 50, 75)})
    out["p50_min"] = g["v_min"].median()
    out["n"], out["n_clipped"] = g.size(), g["c"].sum()
    out = out[out["n"] >= 5]
    out["t"] = (out.index.to_numpy(float) + 0.5) * width_min
    return out.reset_index(drop=True)


CLIP_COLOR = "#c0392b"
"""Red: medians the sensor's clipping left unknown."""


def _clipped(steps: pd.DataFrame) -> np.ndarray:
    """(S,) bool: steps whose contact the accelerometer clipped (schema 1.4; older rows: none)."""
    if "clipped" not in steps:
        return np.zeros(len(steps), dtype=bool)
    return np.asarray(steps["clipped"].astype("boolean").fillna(False).to_numpy(bool), dtype=bool)


def _clipping_unknown(steps: pd.DataFrame) -> bool:
    """Whether ``steps`` hold running steps whose ``clipped`` is null: processed before schema 1.4,
    so whether the sensor clipped them is not known.
    """
    if "activity" not in steps or not (run := (steps["activity"] == "run").to_numpy(bool)).any():
        return False
    return "clipped" not in steps or bool(steps.loc[run, "clipped"].isna().any())


CLIPPING_UNKNOWN_TEXT = (
    "Not known: this session was processed before schema 1.4 (imuback 0.13), which records whether "
    "the sensor clipped. Re-process the session for clipping to be shown; until then clipped steps, if "
    "any, are read as measured.")


def clipping_text(steps: pd.DataFrame) -> str | None:
    """In plain words: how many of ``steps`` the accelerometer clipped, and about the least their
    impact can be (the highest impact read in an unclipped step: not a strict bound, as impact is
    the body-frame vertical and clipping is per sensor axis); that it is not known for running
    steps stored before schema 1.4; None when none is clipped.
    """
    clip = _clipped(steps)
    if not clip.any():
        return CLIPPING_UNKNOWN_TEXT if _clipping_unknown(steps) else None
    m = BY_KEY["impact_peak_g"]
    read = pd.to_numeric(steps.loc[~clip, "impact_peak_g"], errors="coerce").to_numpy(float)
    read = read[np.isfinite(read)]
    least = (f"probably about {m.show_unit(float(read.max()))} or more (the highest impact read in an "
             "unclipped step; a sensor axis can clip below it)" if read.size else "not known")
    return (f"The sensor clipped (its accelerometer saturated at its full-scale range) in "
            f"{count(int(clip.sum()), 'step')} of {len(steps)}: their impact and loading rate were "
            f"not measured; the impact there was {least}. The medians count these steps as the "
            "hardest landings; a median that falls on them is unknown (shown as n/a). A range of ±8 g "
            "or more avoids this at the sacrum, where running impacts reach 4–6 g.")


def _recorded_drift_baseline(row: dict[str, Any]) -> tuple[float, float]:
    """The drift baseline window (minutes of running) the pipeline used for this session: from
    its recorded parameters (``params_json`` -> ``metrics``), else the pipeline's default.
    """
    try:
        metrics = json.loads(str(row.get("params_json") or "{}")).get("metrics", {})
        return float(metrics["baseline_start_min"]), float(metrics["baseline_end_min"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return DRIFT_BASELINE_MIN


def _recorded_late_min(row: dict[str, Any]) -> float:
    """The late window the session was processed with (older rows: the default)."""
    try:
        return float(json.loads(str(row.get("params_json") or "{}"))["metrics"]["drift_late_min"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return DRIFT_LATE_MIN


def _drift_clock(steps: pd.DataFrame, row: dict[str, Any]) -> tuple[pd.Timestamp | None,
                                                                     DriftWindows | None]:
    """(first running step's time, drift windows) as the pipeline's drift clock has them.

    The clock starts at the first step with ``activity == 'run'``; the run ends at the last
    running minute + 1 (see :func:`analysis.drift_windows`). (None, None) without running steps.
    """
    run = steps.loc[steps["activity"] == "run", "ic_time"] if not steps.empty else steps
    if len(run) == 0:
        return None, None
    t0 = run.min()
    end_min = float(np.floor((run.max() - t0).total_seconds() / 60)) + 1.0
    return t0, drift_windows(end_min, baseline_min=_recorded_drift_baseline(row),
                             late_min=_recorded_late_min(row))


def _drift_plots(steps: pd.DataFrame, strides: pd.DataFrame, t0: pd.Timestamp,
                 windows: DriftWindows | None) -> Markup:
    """Drift plots against minutes since the first running step (``t0``), with the windows the
    drift numbers compare shaded.
    """
    t_steps = ((steps["ic_time"] - t0).dt.total_seconds() / 60).to_numpy(float)
    run_minutes = float(np.nanmax(t_steps)) if t_steps.size else 0.0
    width = 0.5 if run_minutes <= 30 else 1.0
    spans = []
    if windows is not None:
        spans = [svg.VSpan(x0=windows.baseline_min[0], x1=windows.baseline_min[1],
                           label=f"early: {windows.baseline_text}", color="#2e9e5b"),
                 svg.VSpan(x0=windows.late_min[0], x1=windows.late_min[1],
                           label=f"late: {windows.late_text}", color="#c0392b")]
    x_label = "minutes since the first running step"
    figs = []
    clip_all = _clipped(steps)
    for key in STEP_PLOTS:
        m = BY_KEY[key]
        # a clipped contact's impact: unknown but larger than every unclipped one (censored)
        clip = clip_all if key in CENSORED_METRICS else np.zeros(len(steps), dtype=bool)
        lines, areas = [], []
        allb = _binned(t_steps, steps[key].to_numpy(float) * m.scale, width, clip)
        areas.append(svg.Area(x=allb["t"], lo=allb["p25"], hi=allb["p75"],
                              label="middle 50 % of steps", color=svg.ALL, opacity=0.12))
        for foot, color, name in (("L", svg.LEFT, "left"), ("R", svg.RIGHT, "right")):
            sel = (steps["foot"] == foot).to_numpy()
            b = _binned(t_steps[sel], steps.loc[sel, key].to_numpy(float) * m.scale, width, clip[sel])
            lines.append(svg.Line(x=b["t"], y=b["p50"], label=f"{name} median", color=color))
        low = _low_confidence(steps)
        points = ([svg.Points(x=t_steps[low], y=steps.loc[low, key].to_numpy(float) * m.scale,
                              label=f"low-confidence step (quality < {LOW_QUALITY:g})", color=LOW_COLOR,
                              radius=2.2, hollow=True)] if low.any() else [])
        # drawable only where a step of the run is unclipped (p50_min is NaN otherwise)
        unknown = allb[allb["p50"].isna() & (allb["n_clipped"] > 0) & np.isfinite(allb["p50_min"])]
        if len(unknown):
            points.append(svg.Points(x=unknown["t"], y=unknown["p50_min"], color=CLIP_COLOR, radius=3.5,
                                     label="median unknown (sensor clipped): about this or more", hollow=True))
        caption = (f"Median per {width * 60:.0f} s by foot over all steps; shaded: middle 50 % of steps"
                   + (f"; grey rings: the {count(int(low.sum()), 'low-confidence step')}, one by one."
                      if low.any() else "; no step of low confidence."))
        if clip.any():
            caption += (f" {clipping_text(steps)} Here: a line or band breaks where its value is unknown"
                        + (f"; red rings: the {count(len(unknown), 'time bin')} with half or more of "
                           "the steps clipped, at about the least their median can be." if len(unknown) else "."))
        figs.append(svg.render(svg.Chart(
            plot_id=f"drift-{key}", title=f"{m.label} through the run", x_label=x_label,
            y_label=m.axis_label, lines=lines, areas=areas, vspans=spans, points=points,
            caption=caption)))
    t_str = ((strides["start_time"] - t0).dt.total_seconds() / 60).to_numpy(float)
    for key in STRIDE_PLOTS:
        m = BY_KEY[key]
        b = _binned(t_str, strides[key].to_numpy(float) * m.scale, width)
        figs.append(svg.render(svg.Chart(
            plot_id=f"drift-{key}", title=f"{m.label} through the run", x_label=x_label,
            y_label=m.axis_label, vspans=spans,
            lines=[svg.Line(x=b["t"], y=b["p50"], label="median per stride", color=svg.ALL)],
            areas=[svg.Area(x=b["t"], lo=b["p25"], hi=b["p75"], label="middle 50 % of strides",
                            color=svg.ALL)],
            caption=f"Median per {width * 60:.0f} s of strides; shaded: middle 50 %.")))
    return tag("div", join(Markup(f) for f in figs), class_="plots row5")


def _drift_table(row: dict[str, Any], windows: DriftWindows | None) -> Markup:
    rows = []
    reasons = []
    for key in DRIFT_KEYS:
        m = BY_KEY[key]
        d = drift_reading(row, key)
        slope = _num(row.get(f"drift_{key}_per_10min"))
        change = ("n/a" if d.pct is None else
                  f"{d.pct:+.1f} % ({m.show_unit(d.absolute, signed=True)})")
        noise = "n/a" if d.ci95_pct is None else f"±{d.ci95_pct:.1f} %"
        if d.reason:
            reasons.append(f"{m.label}: {d.reason}.")
        tag_cls = "watch" if d.significant else "within"
        rows.append([m.label, m.show_unit(slope, signed=True), change, noise,
                     tag("span", d.word, class_="tag tag-" + tag_cls)])
    compared = (windows.text[0].upper() + windows.text[1:] if windows is not None
                else "Late vs early running")
    caption = ("Minutes since the first running step. " + (
        f"Late window {windows.late_text} against the early window {windows.baseline_text}. "
        if windows is not None else f"Rule: {DRIFT_RULE_TEXT}. ")
        + "A change counts when it is larger than this run's own step-to-step noise allows "
          "(the 95 % interval of the difference excludes zero). " + " ".join(reasons))
    return table(["Metric", "Trend per 10 min", compared, "Run's own noise (95 %)", "Reading"], rows,
                 cls="drift", caption=caption)


def _low_confidence(steps: pd.DataFrame) -> np.ndarray:
    """(S,) bool: steps whose ``quality`` is below :data:`LOW_QUALITY` (unknown quality: not low)."""
    q = pd.to_numeric(steps["quality"], errors="coerce").to_numpy(float) if "quality" in steps else np.zeros(0)
    return np.asarray(q < LOW_QUALITY, dtype=bool) if q.size == len(steps) else np.zeros(len(steps), bool)


def _distributions(steps: pd.DataFrame, strides: pd.DataFrame) -> Markup:
    figs = []
    low = _low_confidence(steps)
    n_clip = int(_clipped(steps).sum())
    for key in HIST_STEP:
        m = BY_KEY[key]
        clip_note = (f" Not shown: the {count(n_clip, 'clipped step')}, whose {m.label.lower()} was not "
                     "measured (see the header)." if n_clip and key in CENSORED_METRICS else "")
        groups = [(name, color, steps.loc[(steps["foot"] == foot).to_numpy() & ~low, key].to_numpy(float))
                  for foot, color, name in (("L", svg.LEFT, "left"), ("R", svg.RIGHT, "right"))]
        dens: list[int | None] = [None, None]
        if low.any():
            groups.append(("low-confidence steps", LOW_COLOR, steps.loc[low, key].to_numpy(float)))
            dens.append(len(steps))
        figs.append(svg.histogram(plot_id=f"dist-{key}", title=f"{m.label} per step",
                                  x_label=m.axis_label, groups=groups, scale=m.scale, denominators=dens,
                                  caption=("Left and right: steps of normal confidence, % of each; grey: "
                                           f"low-confidence steps (quality < {LOW_QUALITY:g}), both feet, "
                                           "% of all steps." if low.any() else "") + clip_note))
    for key in HIST_STRIDE:
        m = BY_KEY[key]
        figs.append(svg.histogram(plot_id=f"dist-{key}", title=f"{m.label} per stride",
                                  x_label=m.axis_label, scale=m.scale,
                                  groups=[("strides", svg.ALL, strides[key].to_numpy(float))]))
    return tag("div", join(Markup(f) for f in figs), class_="plots")


def _methods(ctx: RunnerContext) -> Markup:
    return tag("div", join([
        tag("p", f"Baseline: {ctx.baseline_text}. Sessions are compared only at a similar pace: "
                 f"{ctx.pace_band_text} (the sensor alone cannot measure speed and not every "
                   "session has GPS or a treadmill speed; cadence follows speed)."),
        tag("p", "A difference counts only when it reaches the smallest real change: 0.28 BW for "
                 "peak vertical force and 32 ms for contact and flight time (published), never "
                 "less than this runner's own session-to-session variation; other metrics use "
                 "that variation alone. Smaller differences are noise and are not flagged."),
        tag("p", "Peak vertical force is estimated from the sacrum and the loading rate is an "
                 "index: neither is a force-plate value. No population \"typical\" bands are "
                 "shown: the runner's own baseline is the reference."),
    ]), class_="methods")


def build_session_report(dataset: Path, session_id: str, *, runner_id: str | None = None,
                         params: ReportParams = DEFAULT_PARAMS) -> str:
    """The session report of ``session_id`` (of ``runner_id``, where the id is shared) as one HTML
    document.
    """
    limits = session_limits(queries.session_row(dataset, session_id, runner_id=runner_id))
    row = limits.row  # without what its sample rate or length leaves out
    runner = str(row["runner_id"])
    ctx = runner_context(queries.runner_sessions(dataset, runner), runner_id=runner, params=params)
    activity = "run" if (row.get("n_run_steps") or 0) > 0 else "walk"
    steps = queries.session_steps(dataset, runner, session_id)
    steps = steps[steps["activity"] == activity]  # run steps when there are any
    strides = queries.session_strides(dataset, runner, session_id)
    if not strides.empty and not steps.empty:  # strides of the same bouts as the steps shown
        strides = strides[strides["start_time"].between(steps["ic_time"].min(), steps["ic_time"].max())]
    quart = queries.side_quartiles(dataset, runner, session_id, activity=activity,
                                   columns=[m.key for m in METRICS if m.side])
    if limits.rate_keys:  # not measured at this rate: no per-step values or quartiles either
        steps = steps.assign(**{k: np.nan for k in limits.rate_keys if k in steps})
        quart = quart.assign(**{c: np.nan for k in limits.rate_keys for c in (f"{k}_p25", f"{k}_p75")
                                if c in quart})
    srow = ctx.sessions[ctx.sessions["session_id"] == session_id]
    comparable = bool(srow["comparable"].any()) and not bool(srow["in_baseline"].any())
    start = pd.Timestamp(row["start_time"])
    t0, windows = _drift_clock(steps, row)
    flags = session_flags(row, ctx, windows=windows)
    reg = [(label, f"{v:.2f}" if (v := _num(row.get(col))) is not None else "n/a")
           for label, col in (("Step regularity", "step_regularity"),
                              ("Stride regularity", "stride_regularity"),
                              ("Step symmetry", "step_symmetry"))]
    gait = not no_gait(row)
    measured = [  # what the steps say: a session without any has one line in their place
        section("Main metrics", _metrics_table(row, ctx, comparable, activity),
                tag("p", f"Medians over all {'running' if activity == 'run' else 'walking'} steps and "
                         f"strides of this session, low-confidence steps (quality < {LOW_QUALITY:g}) included. "
                         + ("Clipped steps count as the hardest landings in impact and loading rate; "
                            "n/a there: half or more clipped (see the header). " if _clipped(steps).any() else "")
                         + ("" if comparable else WALK_NOT_COMPARED_TEXT if activity != "run" else
                            "This session is not compared with the baseline (part of it, or at a "
                            "different pace)."), class_="note"), sid="metrics"),
        section("Pace and stride length", _speed_section(row, steps, t0, activity), sid="speed"),
        section("Left and right", _side_table(row, quart),
                definition_list(reg), tag("p", "Regularity and symmetry from the autocorrelation "
                                          "of vertical acceleration (Moe-Nilssen & Helbostad 2004): "
                                          "1 is perfectly repeatable. Step symmetry compares the "
                                          "rhythm of successive steps, not their load: it can be "
                                          "near 1 while one side lands harder.", class_="note"), sid="sides"),
        section("Within the run (fatigue drift)", _drift_table(row, windows),
                _drift_plots(steps, strides, start if t0 is None else t0, windows), sid="drift")
        if activity == "run" else
        section("Fatigue drift", tag("p", "Within-session drift is computed on running steps only "
                                          "(minutes since the first running step): this session has "
                                          "none, so there is no drift to show.", class_="note"),
                sid="drift"),
    ] if gait else [section("Main metrics", tag("p", NO_STEPS_TEXT, class_="note"), sid="metrics")]
    body = join([
        tag("h1", report_title("session", running=activity == "run", gait=gait)),
        tag("p", f"{runner} — {_local_start(row):%d %B %Y}. " + (
            _no_gait_text(row) if not gait else
            f"For the physical therapist: how this {'run' if activity == 'run' else 'walk (no running in it)'} "
            "looked step by step, against the runner's own baseline."), class_="sub"),
        pain_banner(read_notes(dataset, runner_id=runner), ctx.sessions),
        _header(row, clipping_text(steps), limits),
        section("What stands out", flag_list(flags, empty="Nothing beyond normal variation in this "
                                                          "session."), sid="flags"),
        *measured,
        section("Pain and effort", notes_table(read_notes(dataset, runner_id=runner,
                                                          session_id=session_id), with_session=False),
                sid="notes"),
        *([section("Per-step and per-stride distributions", _distributions(steps, strides), sid="dist",
                   screen_only=True)] if gait else []),  # a session without steps: none of these
        section("How to read this report", _methods(ctx), sid="methods"),
    ])
    generated = f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d %H:%M} UTC"
    return page(title=f"imuback session report — {runner} — {session_id}", body=body,
                generated=generated)


def write_session_report(dataset: Path, session_id: str, out: Path, *, runner_id: str | None = None,
                         params: ReportParams = DEFAULT_PARAMS) -> Path:
    """Write the session report of ``session_id`` in ``dataset`` to ``out`` (HTML); return ``out``."""
    out = Path(out)
    html = build_session_report(Path(dataset), session_id, runner_id=runner_id, params=params)
    return write_page(out, html)


__all__ = ["build_session_report", "write_session_report"]
