"""The pain and effort log: ``<dir>/notes/runner=<id>/session=<id>/note-<time>-<id>.parquet``.

A note is never replaced or merged: each one is its own file, written under a temporary name and
renamed into place, so a reader sees whole notes only and two writers never collide. Notes belong
to a session that is already in the dataset.
"""

from __future__ import annotations

import datetime as dt
import glob
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from imuback.core import check_id
from imuback.errors import NoteError
from imuback.store.dataset import session_dir, validate_table
from imuback.store.schema import NOTES_SCHEMA

NOTES_TABLE = "notes"
NOTE_GLOB = "note-*.parquet"
"""The notes of one session: the files in its folder (``note-<time>-<id>.parquet``)."""
MAX_TEXT_CHARS = 2000
"""Longest free text (and pain location) kept in one note."""


def _in_range(value: int | None, lo: int, hi: int, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise NoteError(f"{what} must be a whole number from {lo} to {hi}, not {value!r}")
    return value


def _text(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_TEXT_CHARS:
        raise NoteError(f"{what} is {len(value)} characters long; at most {MAX_TEXT_CHARS} are kept")
    return value.strip()


def add_note(dataset: str | Path, *, runner_id: str, session_id: str, pain_0_10: int | None = None,
             pain_where: str | None = None, rpe_1_10: int | None = None, text: str | None = None,
             written_at: dt.datetime | None = None) -> Path:
    """Store one note about a session of the dataset; return its file.

    Raises :class:`NoteError` when the session is not in the dataset, a value is out of range or
    the note says nothing.
    """
    where = f"{dataset}"
    runner_id = check_id(runner_id, what="runner id", source=where)
    session_id = check_id(session_id, what="session id", source=where)
    sessions = session_dir(dataset, "sessions", runner_id, session_id)
    if not sessions.is_dir():
        raise NoteError(f"{dataset}: no session {session_id!r} of runner {runner_id!r}; a note belongs "
                        "to a processed session (imuback query --dataset DIR \"SELECT runner_id, "
                        "session_id FROM sessions\" lists them)")
    note_id = uuid.uuid4().hex
    now = written_at or dt.datetime.now(tz=dt.UTC)
    row = {
        "note_id": note_id,
        "session_id": session_id,
        "runner_id": runner_id,
        "written_at": now,
        "pain_0_10": _in_range(pain_0_10, 0, 10, "pain"),
        "pain_where": _text(pain_where, "pain location"),
        "rpe_1_10": _in_range(rpe_1_10, 1, 10, "effort (RPE)"),
        "text": _text(text, "note text"),
    }
    if all(row[k] is None for k in ("pain_0_10", "pain_where", "rpe_1_10", "text")):
        raise NoteError("an empty note: give at least one of pain, where, effort (RPE) or text")
    table = validate_table(NOTES_TABLE, pa.Table.from_pylist([row], schema=NOTES_SCHEMA), NOTES_SCHEMA)
    folder = session_dir(dataset, NOTES_TABLE, runner_id, session_id)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"note-{now:%Y%m%dT%H%M%S}-{note_id[:12]}.parquet"
    tmp = folder / f".{final.name}.tmp"
    pq.write_table(table, tmp)
    tmp.rename(final)
    return final


def read_notes(dataset: str | Path, *, runner_id: str, session_id: str | None = None) -> pd.DataFrame:
    """A runner's notes (optionally of one session), oldest first; NOTES_SCHEMA columns."""
    # ids as stored (older datasets may hold any), escaped: they are names here, never patterns
    sid = glob.escape(session_id) if session_id is not None else "*"  # "*": every session's
    folders = session_dir(dataset, NOTES_TABLE, glob.escape(runner_id), sid)
    files = sorted(Path(dataset).glob(str(folders.relative_to(dataset) / NOTE_GLOB)))
    if not files:
        return NOTES_SCHEMA.empty_table().to_pandas()
    table = pa.concat_tables([pq.read_table(f, schema=NOTES_SCHEMA) for f in files])
    return table.to_pandas().sort_values("written_at", kind="stable").reset_index(drop=True)


def move_notes(dataset: str | Path, *, session_id: str, from_runner: str, to_runner: str) -> int:
    """Move one session's notes from one runner to another (a session filed again under a
    corrected runner id); return how many moved. Each note is written under its new runner (its
    ``runner_id`` column too) before its old file is removed: an interrupted move leaves a note in
    both places, never in none.
    """
    old = session_dir(dataset, NOTES_TABLE, from_runner, session_id)
    files = sorted(old.glob(NOTE_GLOB)) if old.is_dir() else []
    if not files:
        return 0
    new = session_dir(dataset, NOTES_TABLE, to_runner, session_id)
    new.mkdir(parents=True, exist_ok=True)
    for f in files:
        table = pq.read_table(f, schema=NOTES_SCHEMA)
        table = table.set_column(table.schema.get_field_index("runner_id"), NOTES_SCHEMA.field("runner_id"),
                                 pa.array([to_runner] * table.num_rows, NOTES_SCHEMA.field("runner_id").type))
        tmp = new / f".{f.name}.tmp"
        pq.write_table(validate_table(NOTES_TABLE, table, NOTES_SCHEMA), tmp)
        tmp.rename(new / f.name)
        f.unlink()
    for folder in (old, old.parent):  # empty now (unless something else was put there)
        try:
            folder.rmdir()
        except OSError:
            break
    return len(files)
