
"""Baseline, pace-comparable sessions, smallest real changes, trends and plain-language flags.

Numbered steps (see docs/report.md for the reasoning):

1. Usable sessions: not empty, at least ``min_run_steps`` running steps.
2. Baseline: the runner's first ``baseline_days`` of usable sessions (at least
   ``min_baseline_sessions``), or a chosen date range.
3. Pace comparability: a single sacral IMU has no speed, so sessions are compared only when their
   median cadence is within ``cadence_band_spm`` of the baseline's (cadence rises with speed).
4. Smallest real change per column: the published value where there is one (0.28 BW peak vGRF,
   32 ms contact and flight time), never below the runner's own session-to-session noise:
   ``z * 1.4826 * median(|successive differences|)`` over comparable sessions (the minimal
   detectable change 1.96 * sqrt(2) * SEM with a robust SEM from successive differences, which a
   slow trend barely inflates). Without enough sessions, a stated conservative default.
5. Trends: weekly medians (DuckDB) of comparable sessions against the baseline. A change is real
   when the latest value (the latest week's median, or the latest 3 sessions' when the week holds
   fewer: :func:`latest_rows`) differs from the baseline by at least the smallest real change; it
   is a trend when two weeks differ by half of it in its direction, each week once on its own median
   (the weeks of those sessions and the week before them); it started after the last week that had
   not yet moved half of it in that direction.
6. Flags for people, each naming its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from imuback.report.metrics import (
    ASYM_BY_SIDE,
    ASYMMETRIES,
    BY_KEY,
    DRIFT_KEYS,
    FLAGGED_ASYMMETRY,
    METRICS,
    SHORT_SESSION_STEPS,
    VALIDATED_RATE_HZ,
    Metric,
    asymmetry_class,
    checked_on_column,
    contact_balance_left_pct,
    count,
    duration_text,
    higher_side,
    is_simulation_only,
    rate_bias_pct,
    rate_text,
)
from imuback.report.setup import GAP_DAYS, Gap, SetupChange, gaps, setup_changes, spans, week_start
from imuback.signal.params import MetricParams
from imuback.signal.summary import drift_rule_text
from imuback.signal.summary import drift_windows as signal_drift_windows
from imuback.store.schema import RATE_SENSITIVE, RATE_TOLERANCE, below_rate

LEVELS = ("notable", "watch", "info", "quality")
"""Flag levels, most important first. ``quality`` is about the data, not the runner."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportParams:
    """Choices behind baselines, comparability and flags (defaults explained in docs/report.md)."""

    baseline_days: float = 14.0
    """Default baseline: usable sessions in the first this many days."""
    min_baseline_sessions: int = 3
    """...but at least this many sessions (the first ones) if the first days hold fewer."""
    baseline_range: tuple[pd.Timestamp, pd.Timestamp] | None = None
    """Chosen baseline [start, end] dates (inclusive), the sessions' own days (local where their zone
    is known, else UTC: :func:`local_start`); overrides the default."""
    cadence_band_spm: float = 8.0
    """Sessions within +-this of the baseline median cadence are pace-comparable (~5 %)."""
    min_run_steps: int = 100
    """Sessions with fewer running steps are listed but not used."""
    min_sessions_for_noise: int = 4
    """Sessions needed to derive a smallest real change from the runner's own variation."""
    mdc_z: float = 1.96
    """z of the minimal detectable change (95 %)."""
    recent_sessions: int = 4
    """Within-run drift flags look at this many latest comparable sessions."""
    episode_weeks: int = 4
    """Trends also look back this many weeks before the latest for a change that lasted at least
    two weeks in a row and has eased since (a rise the latest week alone would hide)."""
    misalignment_check_deg: float = 25.0
    """Sensor further than this from its nominal mounting: ask to check placement."""
    placement_change_deg: float = 10.0
    """Misalignment differing from the baseline's by more than this: placement changed."""
    completeness_check_pct: float = 95.0
    """Less data than this (% of samples present): say the numbers rest on less data."""
    min_week_sessions: int = 3
    """The latest value of a trend is the latest week's median when the week holds at least this
    many sessions with a value, else the median of the latest this many (within ``latest_days``);
    a WATCH needs that many, fewer: a NOTE that says so. 3 as ``min_baseline_sessions``, the other
    side of the comparison: the fewest sessions whose median one odd run cannot set."""
    latest_days: float = GAP_DAYS
    """The latest sessions are those within this many days before the latest one (its local day
    and the 14 before): a runner's "now". As :data:`GAP_DAYS`, the longest a two-week trend bridges:
    three weekly runs on one weekday fit, an older session belongs to the weeks before."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MinChange:
    """The smallest change of one column that counts as real, and where it comes from."""

    value: float
    """Stored units."""
    method: str
    """``published``, ``runner``, ``default``, or ``none`` (relative, no baseline: ``value`` NaN)."""
    note: str
    """Where it comes from, in words."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """One plain-language finding; ``detail`` names the numbers behind it."""

    level: str
    title: str
    detail: str
    metric: str | None = None

    @property
    def checked_on(self) -> str | None:
        """Where the accuracy of the flag's metric was checked (None: a data flag)."""
        return checked_on_column(self.metric)

    @property
    def simulation_only(self) -> bool:
        """The flag's metric was checked on simulation only."""
        return is_simulation_only(self.checked_on)


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """A session-table column the report follows, with its metric and side."""

    name: str
    metric: Metric
    side: str | None = None
    """``left``, ``right`` or None (median or asymmetry)."""

    @property
    def label(self) -> str:
        """E.g. ``Right-side impact (sacrum peak)``."""
        if self.side is None:
            return self.metric.label
        return f"{self.side.capitalize()}-side {self.metric.label[0].lower()}{self.metric.label[1:]}"


def tracked_columns() -> list[Column]:
    """Median, left and right columns of every metric, then the asymmetries."""
    cols = []
    for m in METRICS:
        cols.append(Column(name=f"median_{m.key}", metric=m))
        if m.side is not None:
            cols += [Column(name=f"left_{m.key}", metric=m, side="left"),
                     Column(name=f"right_{m.key}", metric=m, side="right")]
    cols += [Column(name=a.key, metric=a) for a in ASYMMETRIES]
    return cols


COLUMNS: dict[str, Column] = {c.name: c for c in tracked_columns()}
ASYMMETRY_KEYS = frozenset(a.key for a in ASYMMETRIES)
FLAGGED_ASYMMETRY_KEYS = frozenset(ASYM_BY_SIDE[side].key for side in FLAGGED_ASYMMETRY)

DEFAULT_PARAMS = ReportParams()


@dataclass(frozen=True, kw_only=True)
class RunnerContext:
    """One runner's sessions with baseline, comparability and smallest real changes."""

    runner_id: str
    sessions: pd.DataFrame
    """Sessions rows, oldest first, plus ``usable``, ``in_baseline``, ``comparable``, ``note``."""
    baseline_cadence_spm: float | None
    baseline_values: dict[str, float]
    min_changes: dict[str, MinChange]
    params: ReportParams
    baseline_text: str
    baseline_misalignment_deg: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def pace_band_text(self) -> str:
        """The cadence band sessions are compared within, in words (plainly none without a baseline)."""
        if self.baseline_cadence_spm is None:
            return (f"none: no baseline cadence yet (needs sessions of at least "
                    f"{self.params.min_run_steps} running steps)")
        return (f"median cadence within ±{self.params.cadence_band_spm:g} steps/min of the baseline's "
                f"{self.baseline_cadence_spm:.0f}")

    @property
    def comparable_ids(self) -> list[str]:
        """Session ids of the usable, pace-comparable sessions."""
        return list(self.sessions.loc[self.sessions["comparable"], "session_id"])

    @property
    def baseline(self) -> pd.DataFrame:
        """Baseline session rows."""
        return self.sessions[self.sessions["in_baseline"]]


def _finite(values: Any) -> npt.NDArray[np.float64]:
    arr: npt.NDArray[np.float64] = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"),
                                              dtype=float)
    return arr[np.isfinite(arr)]


def _median(values: Any) -> float | None:
    arr = _finite(values)
    return float(np.median(arr)) if arr.size else None


UTC_DAYS = "dates are UTC days, weeks start Monday 00:00 UTC"
"""The days and weeks of sessions whose zone is unknown (``sessions.utc_offset_min`` null: made before
schema 1.8, or from a file that does not say where it was recorded): a run at 18:00 on 3 March in
UTC-8 is on 4 March for them (docs/report.md)."""
LOCAL_DAYS = "dates are local days (where each session was recorded), weeks start Monday 00:00 local time"
"""The days and weeks of sessions whose UTC offset is known: cut in the time where they were recorded."""


def local_start(rows: pd.DataFrame) -> pd.Series:
    """Each session's start on the runner's clock: ``start_time`` plus ``utc_offset_min`` (nothing
    where it is null: UTC). Still labelled UTC, so that its date, weekday and hour read as the local
    ones; for days, weeks and display only, never to order or compare instants.
    """
    start = pd.to_datetime(rows["start_time"], utc=True)
    offset = pd.to_numeric(rows["utc_offset_min"], errors="coerce") if "utc_offset_min" in rows else None
    if offset is None:
        return start
    return start + pd.to_timedelta(offset.fillna(0).to_numpy(float), unit="min")


def days_text(rows: pd.DataFrame, *, short: bool = False) -> str:
    """Which days the reports' dates are: :data:`LOCAL_DAYS`, :data:`UTC_DAYS`, or local with the
    number of sessions without a zone in UTC days (``short``: ``local days``, ``UTC days``...).
    """
    known = pd.to_numeric(rows["utc_offset_min"], errors="coerce").notna() if "utc_offset_min" in rows \
        else pd.Series(False, index=rows.index)
    n_utc = int((~known).sum())
    local, utc = ("local days", "UTC days") if short else (LOCAL_DAYS, UTC_DAYS)
    if n_utc == 0 and len(rows):
        return local
    if not known.any():
        return utc
    return f"{local}; UTC days for {count(n_utc, 'session')} without a zone"


def local_time_text(row: dict[str, Any]) -> str:
    """The zone a session's local times are in: ``UTC+05:00``, or ``UTC`` when it is unknown."""
    offset = _num_or_none(row.get("utc_offset_min"))
    if offset is None:
        return "UTC; its time zone is unknown"
    from imuback.formats.zone import offset_text

    return f"local time, UTC{offset_text(int(offset))}"


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%d %b %Y}"


def rate_columns(key: str) -> list[str]:
    """The sessions columns of metric ``key`` that a too-slow sample rate leaves out."""
    side = BY_KEY[key].side
    return [f"{p}_{key}" for p in ("median", "left", "right")] + (
        [f"asymmetry_{side}_pct"] if side else []) + [f"drift_{key}{s}" for s in ("_pct", "_ci95_pct", "_per_10min")]


def rate_limits() -> dict[str, float]:
    """{sessions column: the slowest sample rate (Hz) it is used from} (:data:`RATE_SENSITIVE`)."""
    return {c: limit * (1 - RATE_TOLERANCE) for key, limit in RATE_SENSITIVE.items() for c in rate_columns(key)}


SHORT_COLUMNS = ("step_regularity", "stride_regularity", "step_symmetry",
                 *(a.key for a in ASYM_BY_SIDE.values()))
"""The sessions columns a too-short session leaves out (:data:`SHORT_SESSION_STEPS`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionLimits:
    """What a session's sample rate and length leave out of its report, and why."""

    row: dict[str, Any]
    """The sessions row with the left-out columns None."""
    rate_keys: tuple[str, ...]
    """Metrics (keys) not given at this rate."""
    too_short: bool
    notes: tuple[tuple[str, str], ...]
    """(title, detail) of each limit, for the header and the data flags."""


def session_limits(row: dict[str, Any]) -> SessionLimits:
    """The limits of one sessions ``row``: below :data:`VALIDATED_RATE_HZ` a caveat on the running
    timing; below a :data:`RATE_SENSITIVE` rate those metrics left out; fewer than
    :data:`SHORT_SESSION_STEPS` steps of its activity: no regularity, symmetry or asymmetry.
    """
    rate = _num_or_none(row.get("sample_rate_hz"))
    n_run = int(_num_or_none(row.get("n_run_steps")) or 0)
    n_steps = n_run or int(_num_or_none(row.get("n_walk_steps")) or 0)
    out, notes = dict(row), []
    lo, hi = VALIDATED_RATE_HZ
    if below_rate(rate, lo):
        notes.append((f"Sample rate {rate_text(rate)}: below the validated range ({lo:g}–{hi:g} Hz)",
                      "Step events were checked on real data at 50 Hz and more. Below, running contacts "
                      "and their timing (contact and flight time, peak vertical force) are less certain: "
                      "on real running resampled to 25 Hz, initial contacts came 13.5 ms early, contact time "
                      "read 8 % long and the force estimate erred more (benchmarks/rate_sensitivity.py). "
                      "Record at 100 Hz or more."))
    keys = tuple(k for k, limit in RATE_SENSITIVE.items() if below_rate(rate, limit))
    if keys:
        for k in keys:
            out.update(dict.fromkeys(rate_columns(k)))
        limit = max(RATE_SENSITIVE[k] for k in keys)
        names = " and ".join(BY_KEY[k].label.lower() for k in keys)
        notes.append((f"No {names} below {limit:g} Hz",
                      f"At {rate_text(rate)} the sensor samples too slowly for the sharp landing transient: "
                      "on real running resampled from 500 Hz, the median impact read 15 % lower at 50 Hz "
                      "and 25 % lower at 25 Hz, the loading-rate index 16 % and 68 % lower "
                      f"(benchmarks/rate_sensitivity.py). They are not given for this session (n/a)."))
    short = 0 < n_steps < SHORT_SESSION_STEPS
    if short:
        out.update(dict.fromkeys(SHORT_COLUMNS))
        notes.append((f"Too short for regularity, symmetry and left/right asymmetry ({n_steps} steps)",
                      f"Those need at least {SHORT_SESSION_STEPS} steps ({SHORT_SESSION_STEPS // 2} strides, "
                      f"{SHORT_SESSION_STEPS // 2} steps a side) to be repeatable: they are not given. "
                      "The other numbers rest on few steps too: read them with care."))
    return SessionLimits(row=out, rate_keys=keys, too_short=short, notes=tuple(notes))


def runner_context(sessions: pd.DataFrame, *, runner_id: str,
                   params: ReportParams = DEFAULT_PARAMS) -> RunnerContext:
    """Steps 1-4 over one runner's ``sessions`` rows (oldest first); a metric a session's sample
    rate leaves out (:data:`RATE_SENSITIVE`) is missing in that session.
    """
    df = sessions.copy().reset_index(drop=True)
    df["start_time"] = pd.to_datetime(df["start_time"], utc=True)
    df["local_start"] = local_start(df)
    if "sample_rate_hz" in df:  # as the weekly medians leave them out (queries.weekly_medians)
        rate = pd.to_numeric(df["sample_rate_hz"], errors="coerce")
        for col, slowest in rate_limits().items():
            if col in df:
                df.loc[(rate < slowest).to_numpy(bool), col] = np.nan
    # 1. usable
    n_run = pd.to_numeric(df["n_run_steps"], errors="coerce").fillna(0)
    empty = df["status"].fillna("ok").eq("empty")
    df["usable"] = ~empty & (n_run >= params.min_run_steps)
    df["note"] = ""
    df.loc[~df["usable"], "note"] = [
        f"not used: {'no steps' if e else f'only {int(n)} running steps'}"
        for e, n in zip(empty[~df["usable"]], n_run[~df["usable"]], strict=True)]
    usable = df[df["usable"]]
    # 2. baseline
    if params.baseline_range is not None:
        lo, hi = params.baseline_range
        day = df["local_start"].dt.floor("D")
        in_base = df["usable"] & (day >= lo) & (day <= hi)
        baseline_text = f"sessions from {_day(lo)} to {_day(hi)}, chosen ({days_text(df, short=True)})"
    elif not usable.empty:
        first = usable["start_time"].iloc[0]
        in_base = df["usable"] & (df["start_time"] < first + pd.Timedelta(days=params.baseline_days))
        if in_base.sum() < params.min_baseline_sessions:
            in_base = df["usable"] & df.index.isin(usable.index[: params.min_baseline_sessions])
        baseline_text = (f"the sessions of the first {params.baseline_days:g} days (the first "
                         f"{params.min_baseline_sessions} when those days hold fewer)")
    else:
        in_base = df["usable"]
        baseline_text = "no usable sessions"
    df["in_baseline"] = in_base
    base = df[df["in_baseline"]]
    notes = []
    if base.empty and not usable.empty:
        notes.append("No usable session falls in the chosen baseline range: nothing is compared.")
    # 3. pace comparability
    base_cad = _median(base["median_cadence_spm"]) if not base.empty else None
    cad = pd.to_numeric(df["median_cadence_spm"], errors="coerce")
    paced_out = 0  # baseline sessions left out at another pace
    if base_cad is None:
        df["comparable"] = False
    else:
        close = (cad - base_cad).abs() <= params.cadence_band_spm
        df["comparable"] = df["usable"] & close
        off = df["usable"] & ~close
        df.loc[off, "note"] = [f"not compared: cadence {c:.0f} steps/min is outside the baseline "
                               f"{base_cad:.0f} ± {params.cadence_band_spm:g}" for c in cad[off]]
        paced_out = int((df["in_baseline"] & ~df["comparable"]).sum())
        df.loc[df["in_baseline"] & ~df["comparable"], "in_baseline"] = False
        base = df[df["in_baseline"]]
    if not base.empty:
        baseline_text += (f": {count(len(base), 'session')}, {_day(base['local_start'].iloc[0])} to "
                          f"{_day(base['local_start'].iloc[-1])}")
        if params.baseline_range is None and len(base) < params.min_baseline_sessions:
            why = (f"{count(paced_out, 'session')} of the first left out, at another pace" if paced_out else
                   "all the usable sessions so far")
            baseline_text += f" (fewer than {params.min_baseline_sessions}: {why})"
    # 4. smallest real changes
    comp = df[df["comparable"]]
    base_values = {c: v for c in COLUMNS if c in df and (v := _median(base[c])) is not None}
    min_changes = {c: min_change(COLUMNS[c], comp[c], base_values.get(c), params=params)
                   for c in COLUMNS if c in df}
    return RunnerContext(runner_id=runner_id, sessions=df, baseline_cadence_spm=base_cad,
                         baseline_values=base_values, min_changes=min_changes, params=params,
                         baseline_text=baseline_text,
                         baseline_misalignment_deg=_median(base.loc[_mounting_known(base), "misalignment_deg"]),
                         notes=notes)


def min_change(column: Column, values: Any, baseline: float | None, *,
               params: ReportParams = DEFAULT_PARAMS) -> MinChange:
    """Step 4: smallest real change of ``column`` from comparable session ``values`` (oldest first)."""
    m = column.metric
    v = _finite(values)
    ref = abs(baseline) if baseline is not None else 0.0
    floor = m.floor * ref if m.relative else m.floor
    derived = None
    if v.size >= params.min_sessions_for_noise:
        derived = params.mdc_z * 1.4826 * float(np.median(np.abs(np.diff(v))))
    runner_note = f"this runner's session-to-session variation over {v.size} sessions"
    if m.published_min_change is not None:
        if derived is not None and derived > m.published_min_change:
            return MinChange(value=derived, method="runner",
                             note=f"{runner_note}, larger than the published "
                                  f"{m.show_unit(m.published_min_change)}")
        return MinChange(value=m.published_min_change, method="published",
                         note="published smallest real change (Patoz 2022)")
    if derived is not None:
        if derived < floor:
            return MinChange(value=floor, method="runner",
                             note=f"{runner_note}, raised to the floor {m.show_unit(floor)}")
        return MinChange(value=derived, method="runner", note=runner_note)
    if m.relative and baseline is None:  # a share of nothing: unknown, never 0
        return MinChange(value=float("nan"), method="none",
                         note="no baseline to take a share of (needs baseline sessions)")
    fallback = m.fallback * ref if m.relative else m.fallback
    return MinChange(value=fallback, method="default",
                     note=f"conservative default: fewer than {params.min_sessions_for_noise} "
                          "comparable sessions to measure this runner's variation")


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    """Consecutive weeks (at least two) beyond the smallest real change, the same way."""

    first_week: pd.Timestamp
    last_week: pd.Timestamp
    n_weeks: int
    peak: float
    """The value furthest from the baseline in those weeks (stored units)."""


def _episode(dev: npt.NDArray[np.float64], weeks: pd.Series, vals: npt.NDArray[np.float64],
             min_change: float, lookback: int, first_after: int) -> Episode | None:
    """The latest run of >= 2 weekly deviations ``dev`` beyond ``min_change`` one way, among the
    ``lookback`` weeks before the latest (and after the baseline: index >= ``first_after``).
    """
    lo = max(first_after, len(dev) - 1 - lookback)
    window = np.arange(lo, len(dev) - 1)
    for sign in (1.0, -1.0):
        beyond = np.zeros(len(dev), dtype=bool)
        beyond[window] = sign * dev[window] >= min_change
        if not beyond.any():
            continue
        # runs of consecutive True: starts where it switches on
        edges = np.diff(np.concatenate(([0], beyond.astype(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = (ends - starts) >= 2
        if long.any():
            a, b = int(starts[long][-1]), int(ends[long][-1])
            k = a + int(np.argmax(sign * dev[a:b]))
            return Episode(first_week=weeks.iloc[a], last_week=weeks.iloc[b - 1], n_weeks=b - a,
                           peak=float(vals[k]))
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Latest:
    """The sessions a latest value rests on (:func:`latest_rows`) and how to say so."""

    rows: pd.DataFrame
    """Comparable sessions rows with a value, oldest first (local time)."""
    end: pd.Timestamp
    """The latest comparable session's local start ("now"; it may have no value)."""
    min_sessions: int
    """:attr:`ReportParams.min_week_sessions`."""
    days: float
    """:attr:`ReportParams.latest_days`."""

    @property
    def week(self) -> pd.Timestamp:
        """Monday 00:00 of the latest week (the weekly medians' last week)."""
        return week_start(self.end)

    @property
    def n(self) -> int:
        """Sessions the value rests on."""
        return len(self.rows)

    @property
    def first_week(self) -> pd.Timestamp:
        """Monday 00:00 of the earliest of them (:attr:`week` when :attr:`in_week`)."""
        return self.week if self.n == 0 else week_start(self.rows["local_start"].min())

    @property
    def in_week(self) -> bool:
        """Whether they are all the latest week's (else they reach back into the weeks before)."""
        return bool(self.first_week == self.week)

    @property
    def thin(self) -> bool:
        """Fewer than ``min_sessions``: one odd run could set their median (a note, not a warning)."""
        return self.n < self.min_sessions

    @property
    def short(self) -> str:
        """``the latest week`` or ``the latest 3 sessions``."""
        return "the latest week" if self.in_week else f"the latest {self.n} sessions"

    @property
    def span(self) -> str:
        """The days of the first and last of them: ``30 Nov – 07 Dec 2026``."""
        first, last = self.rows["local_start"].min(), self.rows["local_start"].max()
        return f"{_day(first)} – {_day(last)}" if first.year != last.year else f"{first:%d %b} – {_day(last)}"

    @property
    def text(self) -> str:
        """``the week of 07 Dec 2026`` or ``the latest 3 sessions (30 Nov – 07 Dec 2026)``."""
        return f"the week of {_day(self.week)}" if self.in_week else f"{self.short} ({self.span})"

    @property
    def what(self) -> str:
        """``one session``, ``median of 2 sessions`` (of the latest week) or ``their median``."""
        if not self.in_week:
            return "their median"
        return "one session" if self.n == 1 else f"median of {self.n} sessions"

    @property
    def where(self) -> str:
        """``the week of 07 Dec 2026 (median of 3 sessions)``, ``the latest 3 sessions (30 Nov – 07 Dec
        2026; their median)``: :attr:`text` and :attr:`what`.
        """
        return f"{self.text} ({self.what})" if self.in_week else f"{self.short} ({self.span}; {self.what})"

    @property
    def thin_text(self) -> str:
        """Why a finding on fewer than ``min_sessions`` sessions is a note: the one wording of
        :attr:`ReportParams.min_week_sessions`, for trends and asymmetry levels alike.
        """
        n_text = "one session" if self.n == 1 else count(self.n, "session")
        return (f" Based on {n_text} in the {self.days:g} days to {_day(self.end)}: a median needs at "
                f"least {self.min_sessions} sessions before one odd run cannot set it, so this is a "
                "note, not a warning; look again after more runs.")


def latest_rows(ctx: RunnerContext, column: str, *, after: pd.Timestamp | None = None) -> Latest | None:
    """The sessions the latest value of ``column`` rests on, the one definition of "latest".

    Of the comparable sessions with a value (from local time ``after`` on, when given): the latest
    week's (the week of the latest comparable session, local, as :func:`queries.weekly_medians`)
    when they are at least ``min_week_sessions``; else the latest ``min_week_sessions`` of those within
    ``latest_days`` of the latest comparable session (all of them when fewer: :attr:`Latest.thin`).
    A runner who runs twice a week is so judged on their last three runs, and an older session never
    makes a current finding. None: no comparable session.
    """
    p = ctx.params
    comp = ctx.sessions[ctx.sessions["comparable"]]
    if after is not None:
        comp = comp[comp["local_start"] >= after]
    if comp.empty:
        return None
    end = comp["local_start"].max()
    values = pd.to_numeric(comp[column], errors="coerce") if column in comp else pd.Series(np.nan, index=comp.index)
    have = comp[np.isfinite(values.to_numpy(float))].sort_values("local_start", kind="stable")
    rows = have[have["local_start"] >= week_start(end)]
    if len(rows) < p.min_week_sessions:
        rows = have[have["local_start"] >= end.floor("D") - pd.Timedelta(days=p.latest_days)].tail(p.min_week_sessions)
    return Latest(rows=rows, end=end, min_sessions=p.min_week_sessions, days=p.latest_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """Step 5 for one column: its latest value against the baseline."""

    column: Column
    baseline: float
    latest: float
    latest_on: Latest
    """The sessions ``latest`` is the median of."""
    min_change: MinChange
    real: bool
    sustained: bool
    weeks: int
    """Weeks since the last week within half the smallest real change."""
    since: pd.Timestamp | None
    """Start of the first week outside it."""
    episode: Episode | None = None
    """The latest run of >= 2 weeks beyond the smallest real change before the latest week."""
    rate_shift: float = 0.0
    """Stored units: how much of ``delta`` the sample rates alone make, the baseline's against the
    latest sessions' (:func:`rate_shift`; 0 at one rate or for a metric a rate does not move)."""
    rates_hz: tuple[float, float] | None = None
    """(baseline, latest sessions) median sample rates behind ``rate_shift`` (None: it is 0)."""

    @property
    def latest_week(self) -> pd.Timestamp:
        """Monday of the latest week (the weekly medians' last)."""
        return self.latest_on.week

    @property
    def latest_n(self) -> int:
        """Sessions ``latest`` rests on."""
        return self.latest_on.n

    @property
    def delta(self) -> float:
        """Latest minus baseline, stored units."""
        return self.latest - self.baseline

    @property
    def pct(self) -> float:
        """Change in % of the baseline."""
        return 100.0 * self.delta / abs(self.baseline) if self.baseline else float("nan")


def weekly_changes(ctx: RunnerContext, weekly: pd.DataFrame) -> dict[str, Change]:
    """Step 5 for every tracked column in ``weekly`` (from :func:`queries.weekly_medians`)."""
    out: dict[str, Change] = {}
    if weekly.empty or ctx.baseline.empty:
        return out
    base_week = week_start(ctx.baseline["local_start"].max())  # the weeks of queries.weekly_medians: local ones
    weekly = weekly.sort_values("week").reset_index(drop=True)
    weeks = pd.to_datetime(weekly["week"], utc=True)
    after = weeks > base_week  # weeks after the last baseline week
    if not after.iloc[-1]:
        return out  # nothing after the baseline yet
    for name, col in COLUMNS.items():
        if name not in weekly or name not in ctx.baseline_values:
            continue
        latest = latest_rows(ctx, name, after=base_week + pd.Timedelta(weeks=1))
        if latest is None or not latest.n:
            continue
        week_vals = pd.to_numeric(weekly[name], errors="coerce").to_numpy(float)  # each week's own median
        vals = week_vals.copy()
        vals[-1] = float(np.median(latest.rows[name].astype(float)))  # the latest week's, or the latest sessions'
        b = ctx.baseline_values[name]
        mc = ctx.min_changes[name]
        dev = vals - b
        real = abs(dev[-1]) >= mc.value
        # sustained: two weeks moved this way by half of it, each week once on its own median: the
        # weeks the latest sessions span and the one before the earliest of them (review 35, 1)
        own = (vals if latest.in_week else week_vals) - b  # in the latest week: the same sessions
        spanned = (after & (weeks >= latest.first_week)).to_numpy(bool)
        before = np.flatnonzero(after.to_numpy(bool) & ~spanned)
        counted = spanned.copy()
        counted[before[-1:]] = True
        sustained = bool(real and np.count_nonzero(counted & (own * np.sign(dev[-1]) >= mc.value / 2)) >= 2)
        normal = np.flatnonzero(dev * np.sign(dev[-1]) < mc.value / 2)  # not yet moving this way
        if normal.size:
            last_normal = int(normal[-1])
            n_weeks = round((weeks.iloc[-1] - weeks.iloc[last_normal]).days / 7)
            since = weeks.iloc[last_normal + 1] if last_normal + 1 < len(weeks) else None
        else:
            n_weeks, since = len(weeks), weeks.iloc[0]
        episode = None if real else _episode(dev, weeks, vals, mc.value, ctx.params.episode_weeks,
                                             int(np.argmax(after.to_numpy(bool))))
        shift, rates = rate_shift(col, b, ctx.baseline, latest.rows)
        out[name] = Change(column=col, baseline=b, latest=float(vals[-1]), rate_shift=shift, rates_hz=rates,
                           latest_on=latest, min_change=mc, real=bool(real), sustained=sustained,
                           weeks=max(n_weeks, 1), since=since, episode=episode)
    return out


def not_enough_text(ctx: RunnerContext) -> str | None:
    """Why a trends report compares nothing yet, in words (None: it compares).

    Fewer usable sessions than :attr:`ReportParams.min_baseline_sessions` are all baseline (step 2):
    "no change" would read as reassurance when nothing was compared. A chosen baseline range says
    its own (:attr:`RunnerContext.notes`).
    """
    p = ctx.params
    n = int(ctx.sessions["usable"].sum())
    if p.baseline_range is not None or n == 0:
        return None
    if n < p.min_baseline_sessions:
        return (f"Not enough sessions for trends yet ({n}; the baseline needs {p.min_baseline_sessions} "
                f"sessions of at least {p.min_run_steps} running steps): nothing is compared yet.")
    base_end = ctx.baseline["local_start"].max() if not ctx.baseline.empty else None
    if base_end is not None and not (ctx.sessions["comparable"] & ~ctx.sessions["in_baseline"]
                                     & (ctx.sessions["local_start"] > base_end)).any():
        return (f"No sessions after the baseline yet (it ends {_day(base_end)}): the first comparison "
                "comes with the next run at comparable pace.")
    return None


def rate_shift(column: Column, baseline: float, base_rows: pd.DataFrame,
               latest_rows: pd.DataFrame) -> tuple[float, tuple[float, float] | None]:
    """How far column's ``baseline`` moves (stored units) from the sample rates alone, the latest
    sessions (:func:`latest_rows`) against the baseline's (those with a value and a known rate), and their median
    rates: the medians of each session's reading at its rate (:func:`metrics.rate_bias_pct`, real
    running) divided. (0.0, None) for a metric a rate does not move or without known rates.
    """
    key = column.metric.key
    if rate_bias_pct(key, 500.0) is None or "sample_rate_hz" not in base_rows:
        return 0.0, None
    groups = []
    for rows in (base_rows, latest_rows):
        have = rows[np.isfinite(pd.to_numeric(rows[column.name], errors="coerce").to_numpy(float))]
        hz = _finite(have["sample_rate_hz"])
        if not hz.size:
            return 0.0, None
        reads = [1 + (rate_bias_pct(key, float(h)) or 0.0) / 100 for h in hz]
        groups.append((float(np.median(hz)), float(np.median(reads))))
    (base_hz, base_read), (late_hz, late_read) = groups
    shift = baseline * (late_read / base_read - 1)
    return (shift, (base_hz, late_hz)) if shift else (0.0, None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftWindows:
    """The two windows a session's within-run drift compares, in minutes since its first running
    step: ``[baseline_min[0], baseline_min[1])`` against ``[late_min[0], late_min[1])``.
    """

    baseline_min: tuple[float, float]
    late_min: tuple[float, float]

    @property
    def late_text(self) -> str:
        """``last 10 min (min 14–24)`` or, on short runs, ``min 9–16``."""
        lo, hi = self.late_min
        span = f"min {_minutes(lo)}–{_minutes(hi)}"
        return f"last {_minutes(hi - lo)} min ({span})" if hi - lo >= 10 else span

    @property
    def baseline_text(self) -> str:
        """``min 2–10``."""
        return f"min {_minutes(self.baseline_min[0])}–{_minutes(self.baseline_min[1])}"

    @property
    def text(self) -> str:
        """``last 10 min (min 14–24) vs min 2–10``."""
        return f"{self.late_text} vs {self.baseline_text}"


DRIFT_BASELINE_MIN = (MetricParams().baseline_start_min, MetricParams().baseline_end_min)
"""The pipeline's default drift baseline window, minutes of running (2, 10)."""
DRIFT_LATE_MIN = MetricParams().drift_late_min
"""The pipeline's default late window on long runs, minutes (10)."""
DRIFT_RULE_TEXT = drift_rule_text(baseline=DRIFT_BASELINE_MIN, late_min=DRIFT_LATE_MIN)
"""The rule of :func:`imuback.signal.summary.drift_windows` in words, for text about several sessions."""


def _minutes(value: float) -> str:
    return f"{round(value, 1):g}"


def drift_windows(end_min: float, *, baseline_min: tuple[float, float] = DRIFT_BASELINE_MIN,
                  late_min: float = DRIFT_LATE_MIN) -> DriftWindows | None:
    """The drift windows of a run whose last running minute is ``end_min - 1`` (None: too short).

    The windows are :func:`imuback.signal.summary.drift_windows` (the one rule the pipeline
    uses); drift() needs at least 3 whole minutes in each window, otherwise it gives no
    percentage and this gives None.
    """
    (b0, b1), (late0, end) = signal_drift_windows(end_min, baseline=baseline_min, late_min=late_min)
    n_base = math.ceil(b1) - math.ceil(b0)  # whole minutes m with b0 <= m < b1
    n_late = int(end) - math.ceil(late0)  # m with late0 <= m <= end_min - 1
    if n_base < 3 or n_late < 3:
        return None
    return DriftWindows(baseline_min=(b0, b1), late_min=(late0, end))


def _word(delta: float) -> str:
    return "up" if delta > 0 else "down"


def _pct_text(delta: float, base: float, m: Metric) -> str:
    """``+19 %`` of ``base``, or the change in units when the baseline is 0."""
    return f"{100 * delta / abs(base):+.0f} %" if base else m.show_unit(delta, signed=True)


def _sides_text(m: Metric, sides: list[tuple[str, float, float]]) -> str:
    """``left 3.00 g → 3.27 g (+9 %), right 3.00 g → 3.57 g (+19 %)`` from (side, before, after)."""
    return ", ".join(f"{side} {m.show_unit(before)} → {m.show_unit(after)} "
                     f"({_pct_text(after - before, before, m)})" for side, before, after in sides)


def _sides_agree(left_delta: float, right_delta: float, left_mc: float, right_mc: float) -> bool:
    """Both sides moved the same way by about the same amount, so one "both sides" flag is fair.

    About the same: the two changes differ by no more than one smallest real change (the larger of
    the two sides': a smaller gap between them could be the noisier side's noise).
    """
    return bool(np.sign(left_delta) == np.sign(right_delta)
                and abs(left_delta - right_delta) <= max(left_mc, right_mc))


def _which(column: Column) -> str:
    """`` (right side)``, `` (both sides)`` or '': whose smallest real change a flag quotes, as the
    trend chart's caption names each (a metric with sides has one per side and one of both).
    """
    if column.side is not None:
        return f" ({column.side} side)"
    return " (both sides)" if column.metric.side is not None else ""


RISING_LOAD_TEXT = " A rising load is worth discussing with the runner."
"""A WATCH's advice on a rising load: dropped when the WATCH becomes a NOTE (:func:`_across_setup`)."""


def _change_flag(ch: Change, *, sides: tuple[Change, Change] | None = None) -> Flag | None:
    """The flag of one real change (None below its smallest real change).

    ``sides``: the (left, right) changes behind a "both sides" flag of the median ``ch``; each
    side's before → after is named in the detail. A trend whose latest value rests on fewer than
    ``min_week_sessions`` sessions is a note that says so (one odd run could set that median).
    """
    if not np.isfinite(ch.delta) or abs(ch.delta) < ch.min_change.value:
        return None
    m = ch.column.metric
    label = ch.column.label + (" (both sides)" if sides else "")
    pct = f"{abs(ch.pct):.0f} %" if np.isfinite(ch.pct) else m.show_unit(abs(ch.delta))
    latest = ch.latest_on
    thin = ch.sustained and latest.thin
    mc = ch.min_change.value
    rated = abs(ch.delta - ch.rate_shift) < mc  # without the rates' share, no real change
    if ch.sustained:
        span = "week" if ch.weeks == 1 else f"{ch.weeks} weeks"
        title = f"{label} {_word(ch.delta)} {pct} over the last {span}"
        level = "info" if (m.load and ch.delta < 0) or thin or rated else "watch"  # less load is no worry
    else:
        title = f"{label} {_word(ch.delta)} {pct} in {latest.short} only"
        level = "info"
    since = f", since the week of {_day(ch.since)}" if ch.sustained and ch.since is not None else ""
    detail = (f"{m.show_unit(ch.baseline)} in the baseline → {m.show_unit(ch.latest)} in {latest.where}{since}: change "
              f"{m.show_unit(ch.delta, signed=True)}; smallest real change{_which(ch.column)} "
              f"{m.show_unit(ch.min_change.value)} ({ch.min_change.note}).")
    if sides:
        detail += (" Each side: "
                   + _sides_text(m, [(s.column.side or "", s.baseline, s.latest) for s in sides])
                   + ".")
    if ch.rates_hz is not None and (rated or abs(ch.rate_shift) >= mc):
        base_hz, late_hz = ch.rates_hz
        share = 100 * ch.rate_shift / abs(ch.baseline) if ch.baseline else float("nan")
        detail += (f" The baseline was sampled at {rate_text(base_hz)} and {latest.text} "
                   f"at {rate_text(late_hz)}: on real running the sampling alone moves "
                   f"{m.label[0].lower()}{m.label[1:]} by {share:+.1f} % between these rates "
                   f"(benchmarks/rate_sensitivity.py), {m.show_unit(ch.rate_shift, signed=True)} here")
        detail += (": without it the change is below the smallest real change, so it may be the sensor's "
                   "rate, not the runner; this is a note, not a warning." if rated else
                   f", as much as a real change by itself; without it the change would be "
                   f"{m.show_unit(ch.delta - ch.rate_shift, signed=True)}, still beyond the smallest real change.")
    if thin:
        detail += latest.thin_text
    if not ch.sustained:
        detail += (" One week is not a trend yet: look again next week." if latest.in_week else
                   " Fewer than two weeks had moved with them (their own weeks and the week before, each "
                   "once): not a trend yet; look again next week.")
    elif m.load and ch.delta > 0 and level == "watch":
        detail += RISING_LOAD_TEXT
    return Flag(level=level, title=title, detail=detail, metric=ch.column.name)


def _side_change_flags(med: Change | None, left: Change, right: Change) -> list[Flag] | None:
    """Flags of a metric with sides: one "both sides" flag when both moved alike, else one per
    side that moved beyond its smallest real change (None: neither side moved).
    """
    moved = [ch for ch in (left, right) if ch.real]
    if not moved:
        return None
    if (len(moved) == 2 and med is not None
            and _sides_agree(left.delta, right.delta, left.min_change.value, right.min_change.value)
            and (flag := _change_flag(med, sides=(left, right))) is not None):
        return [flag]
    return [f for ch in moved if (f := _change_flag(ch)) is not None]


def trend_flags(ctx: RunnerContext, changes: dict[str, Change]) -> list[Flag]:
    """Step 6 for the trends report: real changes, asymmetry levels, within-run drift, data notes.

    A change across a change of recording set-up or a gap says so (:func:`_across_setup`); an
    asymmetry level resting on fewer than ``min_week_sessions`` latest sessions (:func:`latest_rows`) is
    a note (:attr:`Latest.thin_text`), as a trend's is.
    """
    flags: list[Flag] = []
    for m in METRICS:
        med, left, right = (changes.get(f"{p}_{m.key}") for p in ("median", "left", "right"))
        if m.side is not None and left is not None and right is not None:
            side_flags = _side_change_flags(med, left, right)
            if side_flags is not None:
                flags += side_flags
                continue
        if (med is not None and med.real
                and (flag := _change_flag(med)) is not None):
            flags.append(flag)
    setups = setup_changes(ctx.sessions[ctx.sessions["comparable"]])
    long_gaps = gaps(ctx.sessions)
    flags = [_across_setup(f, changes.get(f.metric or ""), ctx, setups, long_gaps) for f in flags]
    moved = []  # asymmetries that changed for real but are still in the normal range
    for side, a in ASYM_BY_SIDE.items():
        # a level, not a change: the latest sessions whether or not in the baseline
        latest = latest_rows(ctx, a.key)
        if latest is None or not latest.n or side not in FLAGGED_ASYMMETRY:
            continue
        value = float(np.median(latest.rows[a.key].astype(float)))
        when = f"in the latest week ({latest.what})" if latest.in_week else f"in {latest.where}"
        flag = _asymmetry_flag(side, a, value, latest.rows, ctx, when=when)
        if flag is not None and latest.thin:  # the trends' rule (_change_flag); one run's is its report's
            flag = Flag(level="info", title=flag.title, metric=flag.metric, detail=flag.detail + latest.thin_text)
        if flag is not None:
            flags.append(flag)
        elif (ch := changes.get(a.key)) is not None and ch.real and ch.sustained:
            moved.append(f"{a.label.replace(' asymmetry', '').lower()} {_asym_text(ch.baseline)} → "
                         f"{_asym_text(ch.latest)} in {ch.latest_on.short} (smallest real change "
                         f"{ch.min_change.value:.1f} points)")
    if moved:
        flags.append(Flag(level="info", title="Left/right asymmetry moved but stays in the normal range",
                          detail="Baseline → latest: " + "; ".join(moved) + ". Asymmetry "
                                 "0–5 % is normal; worth following if it keeps growing.",
                          metric="asymmetry"))
    flagged = {f.metric for f in flags}
    flags += [_across_setup(f, changes.get(f.metric or ""), ctx, setups, long_gaps, episode=True)
              for f in episode_flags(changes) if f.metric not in flagged]
    flags += drift_flags(ctx.sessions[ctx.sessions["comparable"]].tail(ctx.params.recent_sessions),
                         min_changes=ctx.min_changes)
    flags += cadence_shift_flags(ctx)
    flags += _data_flags(ctx)
    flags += [Flag(level="quality", title=f"The {c.kinds} {c.verb} from the week of {_day(c.week)}"
                   if c.alternates else f"The {c.kinds} changed in the week of {_day(c.week)}",
                   detail=f"{c.text[0].upper()}{c.text[1:]}, from session {c.session_id} "
                          f"({c.local_start:%d %b %Y}; dashed line in the plots). " + (
                              "Sessions were recorded two ways in turn: a change across them may be partly "
                              "the recording's, not the runner's." if c.moves_numbers and c.alternates else
                              "Sessions before and after were recorded differently: a change across it may "
                              "be partly the recording's, not the runner's." if c.moves_numbers else
                              "The metrics are found from the data either way, so this does not move them; "
                              "only the sensor's angle from its nominal mounting is not compared across it."))
              for c in setups]
    flags += [Flag(level="quality", title=f"{g.text[0].upper()}{g.text[1:]}",
                   detail="The weekly lines break across it (grey in the plots): there is nothing to say how "
                          "the running went in those weeks, and a change 'over the last weeks' may have "
                          "happened at any time in them.") for g in long_gaps]
    return sort_flags(flags)


def _across_setup(flag: Flag, ch: Change | None, ctx: RunnerContext, setups: list[SetupChange],
                  long_gaps: list[Gap], *, episode: bool = False) -> Flag:
    """A change ``flag`` (of :class:`Change` ``ch``) said again where its comparison, from the
    baseline's first session to the latest week (``episode``: to the episode's last week), spans a
    change of set-up or a gap (:mod:`imuback.report.setup`).

    Across a change of sensor a WATCH becomes a NOTE: the baseline and the latest week were recorded
    by different sensors, whose own effect on the metrics is not known, so the change cannot be told
    from the recording's; a PT acts on it only once the new sensor has its own baseline, which the
    note tells how to choose. Across a change of sample rate alone the level stays: the rate's share
    is measured on real running and said, and decides the level, in the flag itself (:func:`rate_shift`;
    review 32: 200 vs 100 Hz alone moves the median impact by 3.7 % on the same run). A change of
    stated mounting alone moves no metric (:attr:`SetupChange.moves_numbers`): not said here.
    """
    if ch is None or ctx.baseline.empty:
        return flag
    first = ctx.baseline["local_start"].min()
    last_week = ch.episode.last_week if episode and ch.episode is not None else ch.latest_week
    last = last_week + pd.Timedelta(days=7)
    across = [c for c in setups if c.moves_numbers and spans(c, first, last)]
    within = [g for g in long_gaps if first < g.first_day and g.last_day < last]
    if not across and not within:
        return flag
    detail, level, title = flag.detail, flag.level, flag.title
    for g in within:
        detail += f" There were {g.text}: the weeks in between have no data."
    # a trend that starts as sessions resume is "after" the gap; one that started before it, "across" it
    # (a trend that starts weeks after they resumed is the weeks it names: review 33b)
    at = [("after", g) for g in within if ch.since == g.resumed_week] + [
        ("across", g) for g in within if ch.since is not None and ch.since < g.first_day]
    if at and not episode and ch.sustained and ch.since is not None and " over the last " in title:
        word, g = at[0]
        title = (title.split(" over the last ")[0] + f" since the week of {_day(ch.since)}, {word} "
                 f"{round(g.days / 7):.0f} weeks without sessions")
    if across:
        c = across[-1]
        detail += (f" The {c.kinds} {c.verb} {'from' if c.alternates else 'in'} the week of {_day(c.week)} "
                   "(Data, below): part of this change may be the recording's, not the runner's.")
        if level == "watch" and any(c.new_sensor for c in across):
            level = "info"
            detail = detail.replace(RISING_LOAD_TEXT, "")  # a WATCH's advice, not a note's
            detail += " Another sensor's reading cannot be told from the runner's, so this is a note, not a warning."
        n_new = int((ctx.sessions["comparable"] & (ctx.sessions["local_start"] >= c.local_start)).sum())
        detail += (" To compare like with like, record with one set-up from now on and choose a new baseline "
                   "among its sessions." if c.alternates else
                   " To compare like with like, choose a new baseline among the sessions from then on "
                   f"(--baseline-from {c.local_start:%Y-%m-%d}; {count(n_new, 'session')} so far, it needs "
                   f"{ctx.params.min_baseline_sessions}).")
    return Flag(level=level, title=title, detail=detail, metric=flag.metric)


def episode_flags(changes: dict[str, Change]) -> list[Flag]:
    """Changes that lasted two weeks or more in the last weeks but eased in the latest week (or
    latest sessions: :func:`latest_rows`).

    Side columns are preferred to the median of a metric with sides (the side that moved is the
    finding); an asymmetry is told as its level.
    """
    flags = []
    for name, ch in changes.items():
        ep, col = ch.episode, ch.column
        if ep is None:
            continue
        if col.side is None and col.metric.side is not None and name.startswith("median_") and any(
                (c := changes.get(f"{side}_{col.metric.key}")) is not None and c.episode is not None
                for side in ("left", "right")):
            continue
        m = col.metric
        weeks = f"the weeks of {_day(ep.first_week)} to {_day(ep.last_week)}"
        delta = ep.peak - ch.baseline
        if name in ASYMMETRY_KEYS and name not in FLAGGED_ASYMMETRY_KEYS:
            continue
        if name in ASYMMETRY_KEYS:
            grew = abs(ep.peak) > abs(ch.baseline)
            title = (f"{col.label} reached {_asym_text(ep.peak)} for {ep.n_weeks} weeks, "
                     "then eased")
            level = "watch" if grew and asymmetry_class(ep.peak) != "normal" else "info"
        else:
            pct = f"{abs(100 * delta / ch.baseline):.0f} %" if ch.baseline else m.show_unit(abs(delta))
            title = f"{col.label} was {_word(delta)} {pct} for {ep.n_weeks} weeks, then eased"
            level = "watch" if m.load and delta > 0 else "info"
        show = _asym_text if name in ASYMMETRY_KEYS else m.show_unit
        latest = ch.latest_on
        now, looks = ((f"the latest week (week of {_day(ch.latest_week)})", "the latest week looks")
                      if latest.in_week else (latest.where, f"{latest.short} look"))
        detail = (f"{show(ch.baseline)} in the baseline → up to {show(ep.peak)} in {weeks}; "
                  f"{show(ch.latest)} in {now}, within the smallest real change "
                  f"{m.show_unit(ch.min_change.value)} of the baseline. A change that lasted {ep.n_weeks} "
                  f"weeks is worth asking about, even when {looks} normal.")
        flags.append(Flag(level=level, title=title, detail=detail, metric=name))
    return flags


def cadence_shift_flags(ctx: RunnerContext) -> list[Flag]:
    """A sustained change of pace: the recent sessions' cadence outside the comparable-pace band.

    Such sessions are left out of every comparison (step 3), so without this flag a runner who
    deliberately raised their cadence (gait retraining) would simply get no trends. Recent: the
    last ``recent_sessions`` usable sessions after the baseline (at least 2); it is a shift when
    their median cadence is more than ``cadence_band_spm`` from the baseline's. It started with the
    first session after the last one that was not yet beyond the band that way.
    """
    p, base_cad = ctx.params, ctx.baseline_cadence_spm
    df = ctx.sessions
    if base_cad is None or ctx.baseline.empty:
        return []
    usable = df[df["usable"]]
    recent = usable[usable["start_time"] > ctx.baseline["start_time"].max()].tail(p.recent_sessions)
    recent_cad = _median(recent["median_cadence_spm"])
    if len(recent) < 2 or recent_cad is None or abs(recent_cad - base_cad) <= p.cadence_band_spm:
        return []
    shift = recent_cad - base_cad
    away = np.sign(shift) * (pd.to_numeric(usable["median_cadence_spm"], errors="coerce")
                             - base_cad) > p.cadence_band_spm
    before = np.flatnonzero(~away.to_numpy(bool))
    first = int(before[-1]) + 1 if before.size else 0
    since, n_new = usable["local_start"].iloc[first], len(usable) - first  # the day --baseline-from takes
    cad = BY_KEY["cadence_spm"]
    title = (f"Cadence {_word(shift)} {abs(shift):.0f} steps/min since {_day(since)}: sessions at "
             "the new pace are not compared with the baseline")
    detail = (f"Median cadence {cad.show_unit(base_cad)} in the baseline → "
              f"{cad.show_unit(recent_cad)} in the last {count(len(recent), 'session')}, beyond the "
              f"±{p.cadence_band_spm:g} steps/min band of comparable pace; {count(n_new, 'session')} "
              f"since {_day(since)}. Most metrics change with pace, so these sessions are left out "
              "of the trends above and do not count as changes. If the new cadence is deliberate "
              "(e.g. gait retraining), choose a new baseline among them (--baseline-from "
              f"{since:%Y-%m-%d}) so that they are compared with each other.")
    return [Flag(level="info", title=title, detail=detail, metric="median_cadence_spm")]


def _asym_text(value: float) -> str:
    """``4.8 % right higher`` for 100*(L-R)/mean = -4.8."""
    return f"{abs(value):.1f} % {higher_side(value)} higher" if abs(value) >= 0.05 else "even"


def _asymmetry_flag(side: str, a: Metric, value: float, rows: pd.DataFrame, ctx: RunnerContext, *,
                    when: str) -> Flag | None:
    m = next(m for m in METRICS if m.side == side)
    cls = asymmetry_class(value)
    left, right = _median(rows[f"left_{m.key}"]), _median(rows[f"right_{m.key}"])
    sides = f"left {m.show_unit(left)}, right {m.show_unit(right)}"
    extra = ""
    if side == "contact_time":
        extra = f"; left share of contact time {contact_balance_left_pct(value):.1f} % (50 % is even)"
    base = ctx.baseline_values.get(a.key)
    was = f"; baseline {_asym_text(base)}" if base is not None else ""
    detail = (f"{abs(value):.1f} % {when} ({sides}{extra}{was}). Asymmetry 0–5 % is normal, "
              "5–10 % worth watching, above 10 % notable.")
    if cls in ("notable", "watch"):
        hi = higher_side(value)
        title = f"{m.label} is {abs(value):.1f} % higher on the {hi} side"
        if cls == "notable":
            detail += " One side loading differently is worth a closer look."
        return Flag(level=cls, title=title, detail=detail, metric=a.key)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReading:
    """One session's late-vs-early change of one metric, judged on the run's own noise."""

    pct: float | None
    """Late vs early change, % of the early window (None: no value)."""
    ci95_pct: float | None
    """Half-width of its 95 % confidence interval from the run's minute-to-minute noise."""
    absolute: float | None
    """The change in stored units (pct of the session median)."""
    reason: str
    """Why there is no value, in words ('' when there is one)."""

    @property
    def significant(self) -> bool:
        """The change's 95 % confidence interval excludes zero: more than this run's own noise."""
        return (self.pct is not None and self.ci95_pct is not None
                and abs(self.pct) > self.ci95_pct)

    @property
    def word(self) -> str:
        """``rises late``, ``falls late``, ``steady`` or ``n/a``."""
        if self.pct is None:
            return "n/a"
        if not self.significant:
            return "steady"
        return "rises late" if self.pct > 0 else "falls late"


MOUNTING_SENSITIVE = frozenset({"pelvis_obliquity_deg", "pelvis_rotation_deg", "pelvis_tilt_deg",
                                "ml_excursion_cm", "ml_acc_rms_g"})
"""Metrics read through the sensor's mounting: a re-seat mid-run changes them by itself."""


def reseat_text(row: dict[str, Any]) -> str | None:
    """'the sensor moved on the body at 6 min (by 11°)...' when a re-seat was found, else None."""
    n = _num_or_none(row.get("n_mounting_shifts"))
    if not n:
        return None
    at, deg = _num_or_none(row.get("first_mounting_shift_s")), _num_or_none(row.get("mounting_shift_max_deg"))
    when = f" at {duration_text(at)}" if at is not None else ""
    more = f" (and {n - 1:.0f} more)" if n > 1 else ""
    size = f", by up to {deg:.0f}°" if deg is not None else ""
    return f"the sensor moved on the body{when}{more}{size}"


def mounting_known(row: dict[str, Any]) -> bool:
    """Whether the session's nominal mounting was stated (by the file, its format or the user): only
    then is ``misalignment_deg`` how far the sensor was worn from where it should sit. An assumed
    mounting (``mounting_source`` 'assumed': an Xsens or Opal export processed without
    ``--mounting``) makes it the angle to the chip's own axes, which says nothing about the wearing.
    Rows made before the column was recorded (null) count as known, as they were read then.
    """
    return row.get("mounting_source") != "assumed"


def _mounting_known(rows: pd.DataFrame) -> pd.Series:
    """(N,) bool: :func:`mounting_known` of each sessions row (no column: all known, older rows)."""
    if "mounting_source" not in rows:
        return pd.Series(True, index=rows.index)
    return rows["mounting_source"].ne("assumed").fillna(True).astype(bool)


def no_gait(row: dict[str, Any]) -> bool:
    """Whether a sessions ``row`` holds no steps at all (no walking, no running found): its report
    says so instead of describing a walk. Rows without the step counts are not judged (False).
    """
    n_run, n_walk = _num_or_none(row.get("n_run_steps")), _num_or_none(row.get("n_walk_steps"))
    return n_run is not None and n_walk is not None and n_run + n_walk == 0


def running_s(row: Mapping[str, Any]) -> float:
    """Seconds of running in a sessions ``row``: 0 without a running step (older rows stored a second
    of running for a walk), the one rule for the session report, its drift and ``imuback demo``.
    """
    return (_num_or_none(row.get("run_time_s")) or 0.0) if _num_or_none(row.get("n_run_steps")) else 0.0


def placement_text(row: dict[str, Any]) -> str:
    """One statement on the sensor's placement: whether it held still enough for the numbers to hold.

    The body frame is always found from the data (any orientation, docs/frames.md), so how far
    the sensor sits from its nominal mounting matters less than whether it stayed put: a re-seat
    mid-run changes the angle figures after it. When the file did not say how the sensor was worn
    (``mounting_source`` 'assumed'), there is no nominal mounting to measure from: no angle is given.
    """
    if no_gait(row):
        return "not judged: no steps were found, so there is no running or walking to judge it by"
    mis = _num_or_none(row.get("misalignment_deg"))
    if not mounting_known(row):
        found = "orientation found from the recording; the file did not say how the sensor was worn"
    elif mis is not None:
        found = f"orientation found from the data, {mis:.0f}° from its nominal mounting"
    else:
        found = "orientation found from the data"
    moved = reseat_text(row)
    if moved is not None:
        return (f"{moved} ({found}): pelvis angles and side-to-side figures after that rest on "
                "another mounting; their drift is not judged. Seat the sensor firmly before the run")
    if row.get("n_mounting_shifts") is None:
        return f"{found}; not checked for moving mid-run (processed by an older imuback)"
    return f"held its place all session ({found}): the numbers hold"


def drift_reading(row: dict[str, Any], key: str) -> DriftReading:
    """The drift of metric ``key`` in the sessions ``row``, with the reason when there is none.

    A metric read through the sensor's mounting (:data:`MOUNTING_SENSITIVE`) has no drift when the
    sensor moved on the body mid-run (a re-seat): its late-vs-early change would be the sensor's,
    which a reader could take for the runner tiring.
    """
    pct, ci = _num_or_none(row.get(f"drift_{key}_pct")), _num_or_none(row.get(f"drift_{key}_ci95_pct"))
    med = _num_or_none(row.get(f"median_{key}"))
    moved = reseat_text(row)
    if moved is not None and key in MOUNTING_SENSITIVE:
        return DriftReading(pct=None, ci95_pct=None, absolute=None,
                            reason=f"{moved}: a change after that is the sensor's, not the runner's")
    if pct is None:
        run_s = running_s(row)
        run_min = run_s / 60.0
        reason = ("no running steps for this metric in the run" if run_min == 0 else
                  f"{duration_text(run_s)} of running is too short: drift needs at least 3 minutes in "
                  "each window after the first 2 minutes (about 8 minutes of running)"
                  if run_min < 8 else "too few steps with this metric in one of the windows")
        return DriftReading(pct=None, ci95_pct=ci, absolute=None, reason=reason)
    absolute = pct / 100 * med if med is not None else None
    reason = "" if ci is not None else "no confidence interval (processed by an older imuback)"
    return DriftReading(pct=pct, ci95_pct=ci, absolute=absolute, reason=reason)


def _num_or_none(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def drift_flags(rows: pd.DataFrame, *, single: bool = False, windows: DriftWindows | None = None,
                min_changes: Mapping[str, MinChange] | None = None) -> list[Flag]:
    """Within-run drift (fatigue): late vs early running beyond the run's own noise.

    A session drifts when the 95 % confidence interval of its late-vs-early change excludes zero
    (:class:`DriftReading`); over several sessions a flag needs at least two and at least half of
    ``rows`` to drift the same way. ``windows``: the windows of a single session (from
    :func:`drift_windows`); without them the text states the rule. A rise is a WATCH only when its
    size (the median of the drifting sessions) also reaches the metric's smallest real change
    between sessions (``min_changes``, by ``median_<key>``): a drift within it is beyond the run's
    noise but smaller than what counts as a real change, so it is a NOTE that says so.
    """
    flags: list[Flag] = []
    n = len(rows)
    if n == 0:
        return flags
    records = rows.to_dict("records")
    for key in DRIFT_KEYS:
        m = BY_KEY[key]
        readings = [drift_reading(r, key) for r in records]
        for sign, word in ((1.0, "rises"), (-1.0, "falls")):
            hits = [r for r in readings if r.significant and r.pct is not None and r.pct * sign > 0]
            k = len(hits)
            if not ((single and k == 1) or (not single and k >= 2 and k >= n / 2)):
                continue
            p = float(np.median([r.pct for r in hits if r.pct is not None]))
            ci = float(np.median([r.ci95_pct for r in hits if r.ci95_pct is not None]))
            absolutes = [r.absolute for r in hits if r.absolute is not None]
            size = float(np.median(absolutes)) if absolutes else None
            a = m.show_unit(size, signed=True) if size is not None else "n/a"
            where = "in this run" if single else f"in {k} of the last {n} sessions"
            if single:
                compared = windows.text if windows is not None else DRIFT_RULE_TEXT
                detail = (f"Late vs early running {where} ({compared}): {p:+.1f} % ({a}), more than "
                          f"this run's own step-to-step noise allows (95 % interval ±{ci:.1f} %).")
            else:  # the windows are stated once, in the report's method text
                detail = (f"Late vs early running {where}: {p:+.1f} % ({a}) (median), more than each "
                          f"run's own step-to-step noise allows (95 % interval ±{ci:.1f} %).")
            rising_bad = word == "rises"
            mc = (min_changes or {}).get(f"median_{key}")
            small = (mc is not None and size is not None and math.isfinite(mc.value)
                     and abs(size) < mc.value)
            if rising_bad:
                detail += (" Mechanics changing late in a run can be a sign of tiring muscles "
                           "(fatigue).")
            if small and mc is not None:
                detail += (f" It is smaller than the smallest real change between sessions "
                           f"({m.show_unit(mc.value)}, {mc.note}), so it is a note, not a warning.")
            flags.append(Flag(level="watch" if rising_bad and not small else "info",
                              title=f"{m.label} {word} late in {'the run' if single else 'runs'}",
                              detail=detail, metric=f"drift_{key}"))
    return flags


def session_flags(row: dict[str, Any], ctx: RunnerContext, *,
                  windows: DriftWindows | None = None) -> list[Flag]:
    """Step 6 for one session: asymmetry, against the baseline, drift, data.

    ``windows``: this session's drift windows (:func:`drift_windows`), named in the drift flag.
    """
    flags: list[Flag] = []
    row = session_limits(row).row
    frame = pd.DataFrame([row])
    sid = row["session_id"]
    srow = ctx.sessions[ctx.sessions["session_id"] == sid]
    in_base = bool(srow["in_baseline"].any()) if not srow.empty else False
    comparable = bool(srow["comparable"].any()) if not srow.empty else False
    for side, a in ASYM_BY_SIDE.items():
        value = row.get(a.key)
        if value is not None and np.isfinite(value) and side in FLAGGED_ASYMMETRY:
            flag = _asymmetry_flag(side, a, float(value), frame, ctx, when="in this session")
            if flag is not None:
                flags.append(flag)
    if comparable and not in_base:
        for m in METRICS:
            hits = []
            for prefix in ("left", "right") if m.side else ():
                hits += _vs_baseline(row, ctx, f"{prefix}_{m.key}")
            if len(hits) == 2 and _sides_agree(hits[0][1], hits[1][1], hits[0][2], hits[1][2]):
                both = _vs_baseline(row, ctx, f"median_{m.key}", sides=True)
                if both:
                    flags += [h[0] for h in both]
                    continue
            if hits:
                flags += [h[0] for h in hits]
            else:
                flags += [h[0] for h in _vs_baseline(row, ctx, f"median_{m.key}")]
    flags += drift_flags(frame, single=True, windows=windows, min_changes=ctx.min_changes)
    if below_rate(_num_or_none(row.get("sample_rate_hz")), VALIDATED_RATE_HZ[0]):
        flags = [_slow_timing(f, row) for f in flags]
    flags += _session_data_flags(row, ctx, in_base=in_base, comparable=comparable)
    return sort_flags(flags)


TIMING_KEYS = ("contact_time_s", "flight_time_s", "grf_peak_bw")
"""Metrics read off the contact's timing: below :data:`VALIDATED_RATE_HZ` their events move (at 25 Hz
IC -13.5 ± 12.3 ms on real running, a sample every 40 ms)."""


def _slow_timing(flag: Flag, row: dict[str, Any]) -> Flag:
    """A finding on a contact-timing metric of a session sampled below the validated range: a note,
    saying why (a 9 ms side difference is a quarter of one 25 Hz sample).
    """
    if flag.metric is None or not any(k in flag.metric or (BY_KEY[k].side or "~") in flag.metric
                                      for k in TIMING_KEYS) or flag.level in ("info", "quality"):
        return flag
    rate = rate_text(_num_or_none(row.get("sample_rate_hz")))
    return Flag(level="info", title=flag.title, metric=flag.metric,
                detail=f"{flag.detail} Sampled at {rate}, below the validated range: contact timing is "
                       "uncertain at this rate, so this is a note, not a warning.")


def _vs_baseline(row: dict[str, Any], ctx: RunnerContext, name: str, *,
                 sides: bool = False) -> list[tuple[Flag, float, float]]:
    """[(flag, change, smallest real change)] of column ``name`` against the baseline, or [].

    ``sides``: a "both sides" flag of a median column, naming each side's change.
    """
    v, b, mc = row.get(name), ctx.baseline_values.get(name), ctx.min_changes.get(name)
    if v is None or b is None or mc is None or not np.isfinite(v):
        return []
    delta = float(v) - b
    if abs(delta) < mc.value:
        return []
    col = COLUMNS[name]
    m = col.metric
    label = col.label + (" (both sides)" if sides else "")
    pct = f"{abs(100 * delta / b):.0f} %" if b else m.show_unit(abs(delta))
    word = "higher" if delta > 0 else "lower"
    detail = (f"{m.show_unit(float(v))} in this session vs {m.show_unit(b)} in the baseline "
              f"(change {m.show_unit(delta, signed=True)}); smallest real change{_which(col)} "
              f"{m.show_unit(mc.value)} ({mc.note}).")
    if sides:
        each = [(side, ctx.baseline_values.get(f"{side}_{m.key}"), row.get(f"{side}_{m.key}"))
                for side in ("left", "right")]
        detail += " Each side (baseline → this session): " + _sides_text(
            m, [(side, before, float(after)) for side, before, after in each
                if before is not None and after is not None]) + "."
    level = "watch" if m.load and delta > 0 else "info"
    return [(Flag(level=level, title=f"{label} {pct} {word} than the baseline", detail=detail,
                  metric=name), delta, mc.value)]


def _data_flags(ctx: RunnerContext) -> list[Flag]:
    df = ctx.sessions
    flags = [Flag(level="quality", title="Baseline", detail=n) for n in ctx.notes]
    off = df[df["usable"] & ~df["comparable"]]
    if len(off):
        flags.append(Flag(level="quality", title=f"{count(len(off), 'session')} at a different pace not compared",
                          detail="Their median cadence is outside the baseline band "
                                 f"({ctx.baseline_cadence_spm or float('nan'):.0f} ± "
                                 f"{ctx.params.cadence_band_spm:g} steps/min), so their numbers are "
                                 "not comparable: " + ", ".join(off["session_id"]) + "."))
    unusable = df[~df["usable"]]
    if len(unusable):
        flags.append(Flag(level="quality", title=f"{count(len(unusable), 'session')} without enough running",
                          detail=", ".join(unusable["session_id"]) + "."))
    if ctx.baseline_misalignment_deg is not None:  # known mountings only (see mounting_known)
        off_deg = (pd.to_numeric(df["misalignment_deg"], errors="coerce") - ctx.baseline_misalignment_deg).abs()
        moved = df[_mounting_known(df) & (off_deg > ctx.params.placement_change_deg)]
        if len(moved):
            flags.append(Flag(level="quality", title=f"Sensor placement changed in {count(len(moved), 'session')}",
                              detail=f"The sensor sat more than {ctx.params.placement_change_deg:g}° "
                                     "differently from the baseline sessions: "
                                     + ", ".join(moved["session_id"]) + ". Compare those with care."))
    return flags


def _session_data_flags(row: dict[str, Any], ctx: RunnerContext, *, in_base: bool,
                        comparable: bool) -> list[Flag]:
    p = ctx.params
    flags = [Flag(level="quality", title=title, detail=detail) for title, detail in session_limits(row).notes]
    if row.get("status") not in (None, "ok"):
        flags.append(Flag(level="quality", title=f"Session is {row.get('status')}",
                          detail=str(row.get("status_reason") or "no reason recorded")))
    comp = row.get("completeness_pct")
    if comp is not None and comp < p.completeness_check_pct:
        flags.append(Flag(level="quality", title=f"Only {comp:.0f} % of the samples arrived",
                          detail=f"{count(int(row.get('n_gaps') or 0), 'gap')}, {row.get('gap_total_s') or 0:.0f} s "
                                 "missing: the numbers rest on less data."))
    moved = reseat_text(row)
    if moved is not None:
        flags.append(Flag(level="quality", title="Sensor moved on the body mid-run",
                          detail=f"{moved[0].upper()}{moved[1:]} (a phone re-seated in its belt, a clip that "
                                 "slipped): pelvis angles and side-to-side figures after that rest on another "
                                 "mounting, so their change over the run is not read as fatigue."))
    mis = row.get("misalignment_deg")
    if mis is not None and mis > p.misalignment_check_deg and mounting_known(row):
        flags.append(Flag(level="quality", title=f"Sensor worn {mis:.0f}° from its nominal mounting",
                          detail="imuback corrects this, but check the clip sits flat on the "
                                 "lower back at the same place each run."))
    if (mis is not None and ctx.baseline_misalignment_deg is not None and mounting_known(row)
            and abs(mis - ctx.baseline_misalignment_deg) > p.placement_change_deg):
        flags.append(Flag(level="quality", title="Sensor placement differs from the baseline",
                          detail=f"{mis:.0f}° from nominal vs {ctx.baseline_misalignment_deg:.0f}° "
                                 "in the baseline sessions: compare with care."))
    if in_base:
        flags.append(Flag(level="quality", title="This session is part of the baseline",
                          detail=f"Baseline: {ctx.baseline_text}. Later sessions are compared "
                                 "against it."))
    elif not comparable:
        run = _num_or_none(row.get("n_run_steps")) or 0
        walk = not run and (_num_or_none(row.get("n_walk_steps")) or 0) > 0
        flags.append(Flag(level="quality", title="Not compared with the baseline",
                          detail=("This session has no steps (no walking or running found); the baseline is "
                                  "running " if no_gait(row) else
                                  "This session is walking; the baseline is running " if walk else
                                  "This session's pace (cadence) or amount of running differs from the "
                                  "baseline ") + f"({ctx.baseline_text})."))
    return flags


def sort_flags(flags: list[Flag]) -> list[Flag]:
    """Most important first; within a level, findings on metrics checked on real data before those
    checked on simulation only (stable otherwise). A simulation-only finding keeps its level, as a
    change against the runner's own baseline with the same sensor and pipeline, and says where its
    metric was checked (:attr:`Flag.checked_on`).
    """
    return sorted(flags, key=lambda f: (LEVELS.index(f.level), f.simulation_only))
