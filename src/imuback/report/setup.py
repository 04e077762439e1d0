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

from imuback.report.metrics import RATE_BIAS_PCT, rate_bias_pct, rate_text

GAP_DAYS = 14.0
"""More than this many days between two sessions (more than two weeks without one) is a gap: the
weekly lines break across it and the report names it. Two weeks is the longest a weekly trend
("the week before moved the same way too") can bridge without resting on weeks nobody ran."""


RATE_SAME_PCT = 1.0
"""Two sample rates are one set-up when no metric a rate moves reads this many % or more differently
at them (:data:`imuback.report.metrics.RATE_BIAS_PCT`, real running resampled; review 33b): every rate
from 200 Hz up (impact -0.8 % at 200 Hz, 0 % at 500 Hz), 100 vs 104 Hz, but not 52 vs 100 Hz (loading
rate -15.9 vs -2.5 %). 1 % is below the floor of the smallest real change of the median impact
(0.05 g of about 3 g): a phone at its "fastest" setting, 397-419 Hz from session to session, is one
set-up, not a change at every session."""


def week_start(ts: pd.Timestamp) -> pd.Timestamp:
    """Monday 00:00 of the week of ``ts`` (a local start, labelled UTC: the weekly medians' weeks)."""
    return (ts - pd.Timedelta(days=ts.weekday())).floor("D")


def same_rate(a_hz: float, b_hz: float) -> bool:
    """Whether sample rates ``a_hz`` and ``b_hz`` cannot move the metrics (:data:`RATE_SAME_PCT`)."""
    return all(abs((rate_bias_pct(key, a_hz) or 0.0) - (rate_bias_pct(key, b_hz) or 0.0)) < RATE_SAME_PCT
               for key in RATE_BIAS_PCT)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupChange:
    """The set-up of a session that differs from the session before it."""

    session_id: str
    """The first session with the new set-up."""
    local_start: pd.Timestamp
    """Its start on the runner's clock (labelled UTC, :func:`imuback.report.analysis.local_start`)."""
    what: tuple[tuple[str, str, str], ...]
    """(kind, before, after) of each change, e.g. ``("sample rate", "200 Hz", "100 Hz")``."""
    flips: int = 1
    """How many changes back and forth between the same two set-ups this one stands for (a runner
    alternating two sensors): more than one is told once, as alternating, from its first change."""
    counts: tuple[int, int] = (0, 0)
    """Of alternating set-ups: the sessions with the before and the after set-up, from the session
    before the first change to the last session of the alternation."""

    @property
    def week(self) -> pd.Timestamp:
        """Monday 00:00 of its week (the weekly medians' weeks)."""
        return week_start(self.local_start)

    @property
    def alternates(self) -> bool:
        """Whether the set-up went back and forth between two set-ups from here on."""
        return self.flips > 1

    @property
    def verb(self) -> str:
        """``changed``, or ``alternates`` (:attr:`alternates`)."""
        return "alternates" if self.alternates else "changed"

    @property
    def text(self) -> str:
        """``sensor imuback-sim → Sensor Logger iOS and sample rate 200 Hz → 100 Hz``; alternating:
        ``alternates 7 times between sensor Polar H10, sample rate 52 Hz (4 sessions) and sensor iPhone,
        sample rate 100 Hz (4 sessions)``.
        """
        if self.alternates:
            a, b = (", ".join(f"{kind} {w[i]}" for kind, *w in self.what) for i in (0, 1))
            return (f"alternates {self.flips} times between {a} ({self.counts[0]} sessions) and {b} "
                    f"({self.counts[1]} sessions)")
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
        return week_start(self.last_day + pd.Timedelta(days=1))

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

    Compared: the sensor's name, the sample rate (the same while it cannot move the metrics,
    :func:`same_rate`, against the rate the set-up started with; said as people say it,
    :func:`metrics.rate_text`: a phone's 99.99 Hz is its 100 Hz) and whether the mounting was stated
    (a file's or the user's statement of it are the same mounting; ``assumed``: nobody said how the
    sensor was worn). An unknown value (null) is no change. Changes back and forth between the same
    two set-ups are one change that alternates (:attr:`SetupChange.flips`).
    """
    if len(sessions) < 2:
        return []
    rows = sessions.reset_index(drop=True)
    n = len(rows)
    kinds = {
        "sensor": list(rows["sensor"].astype(object).where(rows["sensor"].notna(), None))
        if "sensor" in rows else [None] * n,
        "sample rate": _rate_spells(pd.to_numeric(rows.get("sample_rate_hz", pd.Series([None] * n)),
                                                  errors="coerce").to_numpy(float)),
        "mounting": [_mounting(v) if v is not None and pd.notna(v) else None
                     for v in rows.get("mounting_source", pd.Series([None] * n))],
    }
    out: list[tuple[int, SetupChange]] = []
    for i in range(1, n):  # a loop over sessions (tens), not samples
        what = []
        for kind, values in kinds.items():
            before, after = values[i - 1], values[i]
            if before is not None and after is not None and before != after:
                what.append((kind, str(before), str(after)))
        if what:
            out.append((i, SetupChange(session_id=str(rows["session_id"].iloc[i]),
                                       local_start=pd.Timestamp(rows["local_start"].iloc[i]), what=tuple(what))))
    return _alternations(out, n)


def _rate_spells(rates_hz: np.ndarray) -> list[str | None]:
    """Each session's sample rate as said: the rate its spell started with while the rate cannot
    move the metrics (:func:`same_rate`; anchored, so a slow drift still shows), or an earlier spell's
    that it cannot move them from (a set-up returned to is the same set-up).
    """
    out: list[str | None] = []
    anchors: list[float] = []
    for hz in rates_hz:  # a loop over sessions (tens), not samples
        if not np.isfinite(hz) or hz <= 0:
            out.append(None)
            continue
        if not anchors or not same_rate(anchors[-1], float(hz)):
            anchors.append(next((a for a in reversed(anchors) if same_rate(a, float(hz))), float(hz)))
        out.append(rate_text(anchors[-1]))
    return out


def _alternations(changes: list[tuple[int, SetupChange]], n: int) -> list[SetupChange]:
    """``changes`` (index of the session, change) with each run of changes back and forth between the
    same two set-ups (A → B → A ...) told once, at its first change, with the sessions of each.
    """
    out: list[SetupChange] = []
    j = 0
    while j < len(changes):
        i0, first = changes[j]
        k = j
        while k + 1 < len(changes) and changes[k + 1][1].what == _back(changes[k][1].what):
            k += 1
        if k == j:
            out.append(first)
        else:
            end = changes[k + 1][0] if k + 1 < len(changes) else n  # the alternation's sessions: [i0 - 1, end)
            at = [changes[m][0] for m in range(j, k + 1)] + [end]
            spell = np.diff(np.asarray([i0 - 1, *at]))  # sessions in each spell: A, B, A, ...
            counts = (int(spell[0::2].sum()), int(spell[1::2].sum()))
            out.append(SetupChange(session_id=first.session_id, local_start=first.local_start, what=first.what,
                                   flips=k - j + 1, counts=counts))
        j = k + 1
    return out


def _back(what: tuple[tuple[str, str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((kind, after, before) for kind, before, after in what)


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
