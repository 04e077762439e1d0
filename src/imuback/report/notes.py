"""The pain and effort log in the reports: the notes of a session, the weeks of pain, when to see someone.

DOMAIN.md: pain lasting more than one to two weeks is the usual point to see a professional. A
report says so at the top in plain words when the runner's own log shows it; it never diagnoses
and never replaces that visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from imuback.report.html import Markup, join, table, tag
from imuback.report.metrics import count

PERSISTENT_PAIN_DAYS = 7.0
"""Pain over at least this many days (the runs of the first to the last note with pain, no
pain-free note between) is "more than one to two weeks" in DOMAIN.md's sense at its lower end."""


def note_dates(notes: pd.DataFrame, sessions: pd.DataFrame | None, *, local: bool = False) -> pd.Series:
    """When each note's pain was felt, as a PT reads a log: the start of the run it is about
    (``sessions`` ``session_id`` -> ``start_time``; ``local``: its ``local_start``, the runner's
    clock, where ``sessions`` has it), else, for a note about no stored run, when it was written.
    Notes are often written days later, several at once.
    """
    written = pd.to_datetime(notes["written_at"], utc=True)
    if sessions is None or sessions.empty:
        return written
    column = "local_start" if local and "local_start" in sessions else "start_time"
    start = sessions.drop_duplicates("session_id").set_index("session_id")[column]
    return pd.to_datetime(notes["session_id"].map(start), utc=True).fillna(written)


@dataclass(frozen=True, slots=True, kw_only=True)
class PainSpell:
    """The latest run of notes with pain >= 1, unbroken by a pain-free note, dated by their runs
    (:func:`note_dates`).
    """

    first: pd.Timestamp
    last: pd.Timestamp
    n_notes: int
    worst: int

    @property
    def days(self) -> float:
        """Days from the first to the last note's run."""
        return float((self.last - self.first).total_seconds()) / 86400.0


def latest_pain_spell(notes: pd.DataFrame, sessions: pd.DataFrame | None = None) -> PainSpell | None:
    """The latest spell of pain in ``notes`` (NOTES_SCHEMA columns), in the order of the runs they
    are about (``sessions``: the runner's sessions; without, when they were written), or None.
    """
    dated = notes.assign(_when=note_dates(notes, sessions)).sort_values(["_when", "written_at"], kind="stable")
    rated = dated.dropna(subset=["pain_0_10"])
    if rated.empty:
        return None
    pain = rated["pain_0_10"].astype(int).to_numpy()
    if pain[-1] < 1:
        return None
    free = (pain < 1).nonzero()[0]
    start = int(free[-1]) + 1 if free.size else 0
    spell = rated.iloc[start:]
    return PainSpell(first=pd.Timestamp(spell["_when"].iloc[0]),
                     last=pd.Timestamp(spell["_when"].iloc[-1]), n_notes=len(spell),
                     worst=int(spell["pain_0_10"].max()))


def pain_banner(notes: pd.DataFrame, sessions: pd.DataFrame | None = None) -> Markup:
    """A plain-words notice at the top of a report when pain has lasted a week or more (dated by
    the runs the notes are about, :func:`note_dates`), else empty.
    """
    spell = latest_pain_spell(notes, sessions)
    if spell is None or spell.days < PERSISTENT_PAIN_DAYS:
        return Markup("")
    return tag("div", join([
        tag("strong", f"Pain over {spell.days:.0f} days of runs"),
        f" ({count(spell.n_notes, 'note')} about runs from {spell.first:%d %b} to {spell.last:%d %b %Y}, "
        f"worst {spell.worst}/10; each note dated by its run, not by when it was written). Pain that lasts "
        "more than one to two weeks is the time to see a physical therapist or doctor — a movement "
        "specialist first if it is a movement issue. This report does not replace that visit.",
    ]), class_="pain-banner", role="alert")


def notes_table(notes: pd.DataFrame, *, with_session: bool) -> Markup:
    """The notes as a table (newest first); escaped like every other text."""
    if notes.empty:
        return tag("p", "No pain or effort notes for this " + ("runner." if with_session else "session.")
                   + " Add one with imuback note or on the clinic page.", class_="note")
    rows = []
    for _, n in notes.iloc[::-1].iterrows():
        cells: list[object] = [f"{pd.Timestamp(n['written_at']):%d %b %Y %H:%M}"]
        if with_session:
            cells.append(n["session_id"])
        cells += ["—" if pd.isna(n["pain_0_10"]) else f"{int(n['pain_0_10'])}/10",
                  n["pain_where"] or "—",
                  "—" if pd.isna(n["rpe_1_10"]) else f"{int(n['rpe_1_10'])}/10", n["text"] or ""]
        rows.append(cells)
    headers = ["Written (UTC)", *(["Session"] if with_session else []), "Pain", "Where", "Effort (RPE)",
               "Note"]
    return table(headers, rows, cls="notes",
                 caption="The runner's own words. Pain 0–10 (0 none); effort: perceived exertion 1–10.")


def weekly_pain(notes: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """Worst pain and median effort per week (Monday, the session's local day as the weekly medians;
    UTC for a note about no stored run) of the sessions the notes are about.

    Columns ``week``, ``worst_pain``, ``median_rpe``; one row per week with notes.
    """
    if notes.empty:
        return pd.DataFrame({"week": pd.Series(dtype="datetime64[ns, UTC]"), "worst_pain": [],
                             "median_rpe": []})
    when = note_dates(notes, sessions, local=True)
    week = (when - pd.to_timedelta(when.dt.day_of_week, unit="D")).dt.floor("D")
    frame = pd.DataFrame({"week": week, "pain": pd.to_numeric(notes["pain_0_10"]),
                          "rpe": pd.to_numeric(notes["rpe_1_10"])})
    g = frame.groupby("week")
    return pd.DataFrame({"worst_pain": g["pain"].max(), "median_rpe": g["rpe"].median()}).reset_index()
