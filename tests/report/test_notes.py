"""The pain and effort log in the reports: shown, escaped, set beside the weeks, and the visit advice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from imuback.report import queries
from imuback.report.notes import latest_pain_spell
from imuback.report.session import build_session_report
from imuback.report.trends import build_trends_report
from imuback.store.notes import add_note, read_notes

Fabricate = Callable[..., tuple[Path, list[str]]]
VISIT = "time to see a physical therapist or doctor"


def _at(day: int) -> dt.datetime:
    return dt.datetime(2024, 4, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=day)


def test_pain_over_a_week_puts_the_visit_advice_on_top_of_both_reports(fabricate: Fabricate) -> None:
    """Pain is dated by the runs the notes are about (sessions Mon/Wed/Sat): a log typed in on one
    evening about runs 12 days apart is 12 days of pain, not 0."""
    dataset, ids = fabricate(weeks=6)
    for sid, pain in ((ids[-7], 0), (ids[-6], 3), (ids[-4], 4), (ids[-1], 5)):  # week 5 Mon .. week 6 Sat
        add_note(dataset, runner_id="r1", session_id=sid, pain_0_10=pain, pain_where="<b>right</b> low back",
                 written_at=_at(60))
    notes, sessions = read_notes(dataset, runner_id="r1"), queries.runner_sessions(dataset, "r1")
    spell = latest_pain_spell(notes, sessions)
    assert spell is not None and (spell.n_notes, spell.worst, round(spell.days)) == (3, 5, 12)
    assert latest_pain_spell(notes).days == 0  # by when they were written: one evening
    session = build_session_report(dataset, ids[-1])
    trends = build_trends_report(dataset, "r1")
    for html in (session, trends):
        assert VISIT in html and html.index(VISIT) < html.index("What ")  # above the findings
        assert "Pain over 12 days of runs" in html and "3 notes about runs from 01 Apr to 13 Apr 2024" in html
        assert "<b>right</b>" not in html and "&lt;b&gt;right&lt;/b&gt; low back" in html
    assert "Worst pain (0–10)" in trends and "does not show that one causes the other" in trends


def test_short_or_ended_pain_gives_no_visit_advice(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=3)
    # notes written over 9 days about runs of one week (Mon to Sat): 5 days of pain, no advice yet
    for day, sid in ((0, ids[-3]), (4, ids[-2]), (9, ids[-1])):
        add_note(dataset, runner_id="r1", session_id=sid, pain_0_10=4, written_at=_at(day))
    assert VISIT not in build_trends_report(dataset, "r1")
    for note in Path(dataset, "notes").rglob("*.parquet"):
        note.unlink()
    add_note(dataset, runner_id="r1", session_id=ids[0], pain_0_10=6, written_at=_at(0))
    add_note(dataset, runner_id="r1", session_id=ids[1], pain_0_10=0, written_at=_at(10))
    add_note(dataset, runner_id="r1", session_id=ids[2], pain_0_10=2, written_at=_at(12))
    assert VISIT not in build_trends_report(dataset, "r1")  # 0 days of pain since the pain-free note
    assert latest_pain_spell(pd.DataFrame({"pain_0_10": [2.0, 0.0], "written_at": [_at(0), _at(9)]})) is None
