"""Deleting one stored session, and finding a recording stored as several sessions.

:func:`delete_stored_session` removes a session's rows from every table keyed by session (``steps``,
``strides``, ``sessions``; ``errors`` and ``warnings`` are keyed by input file) under the dataset's
lock, ``sessions`` first (:func:`~imuback.store.dataset.delete_session`, as a move to another runner
removes the old copy): a reader never finds a ``sessions`` row whose steps are gone, and a deletion
cut short leaves rows that no ``sessions`` row names, which the same deletion again (or the next
batch's repair) removes. The ``warnings`` rows that name it (or of its input file) go right after its
``sessions`` row, when they speak of no other stored session. A folder that cannot be removed stops it
there, naming the folder and what the OS said. Its notes, the runner's own words, are refused unless
``with_notes``, and go last. The raw recording files are never touched.

:func:`duplicate_sessions` lists the recordings stored as several sessions: versions before 0.16.0
stored a copy of a stored file (the same bytes and first sample) under another name as a new one.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from imuback.errors import DatasetError, SessionHasNotesError, UnknownSessionError
from imuback.store.dataset import (
    PART_FILE,
    delete_session,
    partition_of,
    remove_folder,
    session_dir,
    stored_source,
    table_files,
)
from imuback.store.errors_table import ERRORS_TABLE, error_partition
from imuback.store.lock import DELETE_COMMAND, ONE_SESSION_WAIT_S, DatasetLock
from imuback.store.notes import NOTE_GLOB, NOTES_TABLE
from imuback.store.warnings_table import WARNINGS_TABLE

FILE_KEYED_TABLES = frozenset({ERRORS_TABLE, WARNINGS_TABLE})
"""Tables keyed by input file, not by session (``session=file-<hash>``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeletedSession:
    """What :func:`delete_stored_session` removed (``dry_run``: would remove; nothing was changed)."""

    runner_id: str
    session_id: str
    n_steps: int | None
    """Its rows of ``steps`` (None: its steps file could not be read; it is removed all the same)."""
    n_strides: int | None
    """Its rows of ``strides`` (None as ``n_steps``)."""
    n_notes: int
    """Its notes, removed with ``with_notes`` (a session with notes is refused without it)."""
    n_warnings: int
    """Rows of the ``warnings`` table removed: its input file's, when they speak of no other stored session."""
    tables: tuple[str, ...]
    """The tables that held it (``notes`` among them when it had notes)."""
    source_path: str | None
    """The raw file it was made from, left untouched; None when not known (its ``sessions`` row was
    gone already: a deletion cut short, finished now)."""
    dry_run: bool


def delete_stored_session(dataset: str | Path, *, runner_id: str, session_id: str, with_notes: bool = False,
                          dry_run: bool = False) -> DeletedSession:
    """Remove one session from every table of ``dataset`` that holds it (module docstring); ``dry_run``:
    say what would go and change nothing (no lock taken).

    Raises :class:`UnknownSessionError` (naming the runner's sessions, or the runners) when no table
    holds it, :class:`SessionHasNotesError` when it has notes and not ``with_notes``, and
    :class:`DatasetError` while another writer holds the dataset (a batch at once; ``imuback process``
    or another deletion after waiting :data:`ONE_SESSION_WAIT_S`).
    """
    ds = Path(dataset)
    if not ds.is_dir():
        raise DatasetError(f"{ds}: no dataset folder there" + (" (it is a file)" if ds.exists() else ""))
    if dry_run:
        return _plan(ds, runner_id, session_id, with_notes=with_notes, dry_run=True)[0]
    with DatasetLock(ds, command=DELETE_COMMAND, wait_s=ONE_SESSION_WAIT_S):
        done, warnings, notes = _plan(ds, runner_id, session_id, with_notes=with_notes, dry_run=False)
        # sessions first, then the warnings (found by the session they name, its sessions row gone), then the
        # rest; a folder that stays stops it there (remove_folder), leaving rows the same deletion finds again
        remove_folder(session_dir(ds, "sessions", runner_id, session_id))
        for part in warnings:
            remove_folder(part.parent)
        delete_session(ds, runner_id=runner_id, session_id=session_id)
        for note in notes:
            try:
                note.unlink(missing_ok=True)
            except OSError as exc:
                raise DatasetError(f"{note} cannot be removed ({exc}); the session's other rows are deleted: fix "
                                   "that and run the same deletion again") from None
        for folder in (notes[0].parent, notes[0].parent.parent) if notes else ():
            try:
                folder.rmdir()  # the session's, then the runner's: empty now, unless a note came meanwhile
            except OSError:
                break
    return done


def _plan(ds: Path, runner_id: str, session_id: str, *, with_notes: bool,
          dry_run: bool) -> tuple[DeletedSession, list[Path], list[Path]]:
    """(what the deletion removes, the ``warnings`` files it removes, the note files it removes)."""
    folders = _folders(ds, runner_id, session_id)
    if not folders:
        raise _unknown(ds, runner_id, session_id)
    notes = sorted(folders[NOTES_TABLE].glob(NOTE_GLOB)) if NOTES_TABLE in folders else []
    if notes and not with_notes:
        where = ("in its report (imuback report session) or on the clinic page" if "sessions" in folders else
                 f"in their files, {folders[NOTES_TABLE] / NOTE_GLOB} (Parquet; its sessions row is gone, what a "
                 "deletion cut short left: no report shows them)")
        raise SessionHasNotesError(
            f"{ds}: session {session_id!r} of runner {runner_id!r} has {_count(len(notes), 'note')} (pain and "
            f"effort: the runner's own words); nothing was deleted. Read them {where}; to delete them with the "
            "session, pass --with-notes (with_notes=True in Python)")
    stored = stored_source(ds, runner_id=runner_id, session_id=session_id)
    source = str(stored["source_path"]) if stored is not None and stored["source_path"] else None
    warnings = _warnings_of(ds, runner_id, session_id, source)
    done = DeletedSession(runner_id=runner_id, session_id=session_id, n_steps=_rows(folders.get("steps")),
                          n_strides=_rows(folders.get("strides")), n_notes=len(notes),
                          n_warnings=sum(_rows(p.parent) or 0 for p in warnings), tables=tuple(sorted(folders)),
                          source_path=source, dry_run=dry_run)
    return done, warnings, notes


def _plain(name: str) -> bool:
    """``name`` can be a folder's name (an id as stored, in any dataset): no path of several parts."""
    return bool(name) and name not in (".", "..") and Path(name).name == name


def _folders(ds: Path, runner_id: str, session_id: str) -> dict[str, Path]:
    """Table -> the folder of this session's rows, for every session-keyed table that holds it (notes too)."""
    if not (_plain(runner_id) and _plain(session_id)):
        return {}
    tables = [d.name for d in ds.iterdir() if d.is_dir() and not d.name.startswith(".")
              and d.name not in FILE_KEYED_TABLES]
    found = {t: session_dir(ds, t, runner_id, session_id) for t in tables}
    return {t: f for t, f in found.items() if f.is_dir()}


def _rows(folder: Path | None) -> int | None:
    """Rows of the one file in a session's ``folder`` (0: none; None: unreadable)."""
    if folder is None or not (folder / PART_FILE).exists():
        return 0
    try:
        return int(pq.read_metadata(folder / PART_FILE).num_rows)
    except (OSError, pa.ArrowInvalid):
        return None


def _warnings_of(ds: Path, runner_id: str, session_id: str, source_path: str | None) -> list[Path]:
    """The ``warnings`` files that name this session (its runner's folder) or are its input file's (keyed
    by its path, ``source_path``), when the other sessions they name are not stored from that file.
    Found by the session they name, so a deletion cut short after its ``sessions`` row went finds them.
    """
    keyed = set()
    if source_path and not source_path.startswith("<"):  # sources that are not files (<memory>) have none
        keyed = set(table_files(ds, WARNINGS_TABLE, session_id=error_partition(source_path, None)[1]))
    out = []
    for part in sorted(keyed | set(table_files(ds, WARNINGS_TABLE, runner_id=runner_id))):
        try:
            rows = pq.read_table(part, columns=["source_path", "runner_id", "session_id"]).to_pylist()
        except (OSError, pa.ArrowInvalid):
            continue  # unreadable: left as it is (repair's business)
        named = {(r["runner_id"] or "", s.strip()) for r in rows for s in (r["session_id"] or "").split(",")}
        if part not in keyed and (runner_id, session_id) not in named:
            continue
        files = {r["source_path"] for r in rows} - {None}
        others = [(r, s) for r, s in named - {(runner_id, session_id)} if _plain(r) and _plain(s)]
        if not any((stored_source(ds, runner_id=r, session_id=s) or {}).get("source_path") in files
                   for r, s in others):
            out.append(part)
    return out


def _unknown(ds: Path, runner_id: str, session_id: str) -> UnknownSessionError:
    """The refusal of a session no table holds, naming what the dataset does hold near it."""
    ids = [partition_of(p) for p in table_files(ds, "sessions")]
    if not ids:
        return UnknownSessionError(f"{ds}: no session {session_id!r} of runner {runner_id!r}: the dataset holds "
                                   "no sessions")
    elsewhere = sorted(r for r, s in ids if s == session_id)
    under = (f" (runner {elsewhere[0]!r} has a session of that id)" if len(elsewhere) == 1 else
             f" (runners {', '.join(map(repr, elsewhere))} have sessions of that id)" if elsewhere else "")
    theirs = sorted(s for r, s in ids if r == runner_id)
    if not theirs:
        return UnknownSessionError(f"{ds}: no runner {runner_id!r} in the dataset{under}; its runners: "
                                   f"{_nearest(sorted({r for r, _ in ids}), runner_id)}")
    return UnknownSessionError(f"{ds}: runner {runner_id!r} has no session {session_id!r}{under}; its sessions: "
                               f"{_nearest(theirs, session_id)}")


NEAREST_LISTED = 8
"""How many ids an unknown one's refusal lists (the closest first)."""


def _nearest(names: list[str], wanted: str) -> str:
    """``names``, the closest to ``wanted`` first, at most :data:`NEAREST_LISTED`, saying how many more."""
    likeness = {n: difflib.SequenceMatcher(None, wanted, n).ratio() for n in names}
    shown = sorted(names, key=lambda n: (-likeness[n] if likeness[n] >= 0.5 else 0.0, n))[:NEAREST_LISTED]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSession:
    """One stored session of a recording stored more than once (:func:`duplicate_sessions`)."""

    runner_id: str
    session_id: str
    source_path: str
    """The file it was made from (written last)."""
    processed_at: dt.datetime | None
    n_steps: int
    n_notes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SameRecording:
    """One recording -- the same bytes (``source_sha256``) and first sample (``start_time``) -- stored as
    several sessions, the one to keep first: the one with the most notes, then the one processed first.
    """

    source_sha256: str
    start_time: dt.datetime
    sessions: tuple[StoredSession, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Duplicates:
    """What :func:`duplicate_sessions` found."""

    recordings: tuple[SameRecording, ...]
    n_sessions: int
    """Sessions looked at."""
    unreadable: tuple[Path, ...]
    """``sessions`` files that could not be read, left out."""


_DUPLICATE_COLUMNS = ("runner_id", "session_id", "source_path", "source_sha256", "start_time", "processed_at",
                      "n_run_steps", "n_walk_steps")


def duplicate_sessions(dataset: str | Path) -> Duplicates:
    """Every recording stored as more than one session: sessions made from the same bytes
    (``sessions.source_sha256``) with the same first sample (``start_time``), in any runner -- the rule
    by which pipeline 0.16.0 takes a copy of a stored file for that session (several sessions of one
    file, a mobgap ``data.mat``, have the same bytes but other first samples). Deletes nothing.
    """
    ds = Path(dataset)
    parts = table_files(ds, "sessions")
    rows: list[dict[str, Any]] = []
    unreadable = []
    for part in parts:
        try:
            names = pq.read_schema(part).names
            table = pq.read_table(part, columns=[c for c in _DUPLICATE_COLUMNS if c in names])
        except (OSError, pa.ArrowInvalid):
            unreadable.append(part)
            continue
        rows += [{**dict.fromkeys(_DUPLICATE_COLUMNS), **r} for r in table.to_pylist()]
    groups: dict[tuple[str, dt.datetime], list[dict[str, Any]]] = {}
    for r in rows:
        if r["source_sha256"] and r["start_time"] is not None:
            groups.setdefault((str(r["source_sha256"]), r["start_time"]), []).append(r)
    notes = _note_counts(ds)
    out = []
    for (sha, start), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if len(members) < 2:
            continue
        copies = [StoredSession(runner_id=str(m["runner_id"]), session_id=str(m["session_id"]),
                                source_path=str(m["source_path"] or ""),
                                processed_at=m["processed_at"],
                                n_steps=int(m["n_run_steps"] or 0) + int(m["n_walk_steps"] or 0),
                                n_notes=notes[(str(m["runner_id"]), str(m["session_id"]))]) for m in members]
        never = dt.datetime.max.replace(tzinfo=dt.UTC)
        copies.sort(key=lambda c: (-c.n_notes, c.processed_at or never, c.runner_id, c.session_id))
        out.append(SameRecording(source_sha256=sha, start_time=start, sessions=tuple(copies)))
    return Duplicates(recordings=tuple(out), n_sessions=len(rows), unreadable=tuple(unreadable))


def _note_counts(ds: Path) -> Counter[tuple[str, str]]:
    """(runner, session) -> how many notes it has."""
    pattern = session_dir(ds, NOTES_TABLE, "*", "*").relative_to(ds) / NOTE_GLOB
    return Counter(partition_of(f) for f in ds.glob(str(pattern)))
