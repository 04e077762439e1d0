"""A runner's recording set-up over time: where the sensor, its sample rate or its mounting changed,
and the spells of weeks without sessions.

A trend across a change of set-up mixes two things: the runner and the recording. The same
simulated run reads its median impact 3.7 % lower at 100 Hz than at 200 Hz (review 32), and a
phone in a belt is not a clip on the sacrum. The trends report marks each change at the week it
happens and says so in every finding that spans it; it breaks its lines across long gaps and names
them, so that seven empty weeks do not read as a steady line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from imuback.report.metrics import rate_text

GAP_DAYS = 14.0
"""More than this many days between two sessions (more than two weeks without one) is a gap: the
weekly lines break across it and the report names it. Two weeks is the longest a weekly trend
("the week before moved the same way too") can bridge without resting on weeks nobody ran."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupChange:
    """The set-up of a session that differs from the session before it."""

    session_id: str
    """The first session with the new set-up."""
    local_start: pd.Timestamp
    """Its start on the runner's clock (labelled UTC, :func:`imuback.report.analysis.local_start`)."""
    what: tuple[tuple[str, str, str], ...]
    """(kind, before, after) of each change, e.g. ``("sample rate", "200 Hz", "100 Hz")``."""

    @property
    def week(self) -> pd.Timestamp:
        """Monday 00:00 of its week (the weekly medians' weeks)."""
        return (self.local_start - pd.Timedelta(days=self.local_start.weekday())).floor("D")

    @property
    def text(self) -> str:
        """``sensor imuback-sim → Sensor Logger iOS and sample rate 200 Hz → 100 Hz``."""
        return and_text([f"{kind} {before} → {after}" for kind, before, after in self.what])

    @property
    def moves_numbers(self) -> bool:
        """Whether the change can move the metrics by itself: a new sensor or sample rate. Whether
        the mounting was stated does not (the body frame is found from the data either way,
        docs/frames.md); only the angle from the nominal mounting is then not compared.
        """
        return any(kind != "mounting" for kind, _, _ in self.what)

    @property
    def new_sensor(self) -> bool:
        """Whether another sensor recorded from here on: what that alone does to the metrics is not
        known (a phone in a belt is not a clip on the sacrum). A sample rate's share is, for the metrics
        it moves (:data:`imuback.report.metrics.RATE_BIAS_PCT`, said by the trends' rate note).
        """
        return any(kind == "sensor" for kind, _, _ in self.what)

    @property
    def kinds(self) -> str:
        """``sensor and sample rate``: what changed."""
        return and_text([kind for kind, _, _ in self.what])


@dataclass(frozen=True, slots=True, kw_only=True)
class Gap:
    """More than :data:`GAP_DAYS` without a session: from the day after one session to the day
    before the next (the runner's days).
    """

    first_day: pd.Timestamp
    last_day: pd.Timestamp

    @property
    def days(self) -> int:
        """Whole days without a session."""
        return int((self.last_day - self.first_day).days) + 1

    @property
    def resumed_week(self) -> pd.Timestamp:
        """Monday 00:00 of the week sessions resumed in (the week of the day after the gap)."""
        day = self.last_day + pd.Timedelta(days=1)
        return (day - pd.Timedelta(days=day.weekday())).floor("D")

    @property
    def text(self) -> str:
        """``no sessions from 18 Sep to 01 Nov 2026 (45 days, 6 weeks)``."""
        return (f"no sessions from {self.first_day:%d %b} to {self.last_day:%d %b %Y} "
                f"({self.days} days, {self.days / 7:.0f} weeks)")


def and_text(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items else ""


def _mounting(value: object) -> str:
    return "not stated" if value == "assumed" else "stated"


def setup_changes(sessions: pd.DataFrame) -> list[SetupChange]:
    """The changes of set-up between consecutive ``sessions`` rows (oldest first; columns
    ``session_id``, ``local_start``, ``sensor``, ``sample_rate_hz``, ``mounting_source``).

    Compared: the sensor's name, the sample rate as people say it (:func:`metrics.rate_text`: a
    phone's 99.99 Hz is its 100 Hz) and whether the mounting was stated (a file's or the user's
    statement of it are the same mounting; ``assumed``: nobody said how the sensor was worn). An
    unknown value (null) is no change.
    """
    if len(sessions) < 2:
        return []
    rows = sessions.reset_index(drop=True)
    n = len(rows)
    kinds = {
        "sensor": rows["sensor"].astype(object).where(rows["sensor"].notna(), None)
        if "sensor" in rows else pd.Series([None] * n),
        "sample rate": pd.Series([rate_text(float(v)) if pd.notna(v) else None
                                  for v in pd.to_numeric(rows.get("sample_rate_hz", pd.Series([None] * n)),
                                                         errors="coerce")]),
        "mounting": pd.Series([_mounting(v) if v is not None and pd.notna(v) else None
                               for v in rows.get("mounting_source", pd.Series([None] * n))]),
    }
    out: list[SetupChange] = []
    for i in range(1, n):  # a loop over sessions (tens), not samples
        what = []
        for kind, values in kinds.items():
            before, after = values.iloc[i - 1], values.iloc[i]
            if before is not None and after is not None and before != after:
                what.append((kind, str(before), str(after)))
        if what:
            out.append(SetupChange(session_id=str(rows["session_id"].iloc[i]),
                                   local_start=pd.Timestamp(rows["local_start"].iloc[i]), what=tuple(what)))
    return out


def gaps(sessions: pd.DataFrame, *, gap_days: float = GAP_DAYS) -> list[Gap]:
    """Spells of more than ``gap_days`` between consecutive ``sessions`` (column ``local_start``,
    any order), oldest first.
    """
    d = pd.DatetimeIndex(pd.to_datetime(sessions["local_start"], utc=True).dt.floor("D").unique()).sort_values()
    if d.size < 2:
        return []
    step = np.asarray((d[1:] - d[:-1]) / pd.Timedelta(days=1), dtype=float)
    at = np.flatnonzero(step > gap_days)
    return [Gap(first_day=d[i] + pd.Timedelta(days=1), last_day=d[i + 1] - pd.Timedelta(days=1)) for i in at]


def spans(change: SetupChange, first: pd.Timestamp, last: pd.Timestamp) -> bool:
    """Whether ``change`` lies within a comparison from ``first`` to ``last`` (local starts):
    sessions before it and from it on are both in the comparison.
    """
    return bool(first < change.local_start <= last)
