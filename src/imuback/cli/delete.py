"""``imuback delete`` (one stored session out of the dataset) and ``imuback duplicates`` (recordings
stored as several sessions, with the ``imuback delete`` line for each extra one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
from typing import TYPE_CHECKING, Any

from imuback.cli import paths

if TYPE_CHECKING:
    from imuback.store.delete import DeletedSession, Duplicates


def _cmd_delete(args: argparse.Namespace) -> int:
    from imuback.store.delete import delete_stored_session

    done = delete_stored_session(args.dataset, runner_id=args.runner, session_id=args.session,
                                 with_notes=args.with_notes, dry_run=args.dry_run)
    print(deleted_text(done))
    return 0


def deleted_text(done: DeletedSession) -> str:
    """What a deletion removed (or would remove), in words: ``deleted session S of runner R: N steps, M strides``."""
    def rows(n: int | None, what: str) -> str:
        return f"{n} {what}" if n is not None else f"{what} (its file unreadable)"

    parts = [rows(done.n_steps, "steps"), rows(done.n_strides, "strides")]
    if done.n_notes:
        parts.append(f"{done.n_notes} note{'' if done.n_notes == 1 else 's'}")
    if done.n_warnings:
        parts.append(f"{done.n_warnings} warning{'' if done.n_warnings == 1 else 's'} of its file")
    verb = "would delete" if done.dry_run else "deleted"
    lines = [f"{verb} session {done.session_id} of runner {done.runner_id}: {', '.join(parts)}"]
    if "sessions" not in done.tables:
        lines.append("its sessions row was gone already: what a deletion cut short left"
                     + (" is deleted" if not done.dry_run else ""))
    if done.source_path:
        lines.append(f"its recording is left as it is: {done.source_path} (processing it again stores it again)")
    if done.dry_run:
        lines.append("dry run: nothing changed")
    return "\n".join(lines)


def _cmd_duplicates(args: argparse.Namespace) -> int:
    from imuback.store.delete import duplicate_sessions

    print(duplicates_text(duplicate_sessions(args.dataset), dataset=args.dataset))
    return 0


def duplicates_text(found: Duplicates, *, dataset: str) -> str:
    """The listing of ``imuback duplicates``: each recording stored more than once, the session kept, and
    the ``imuback delete`` line of each extra one.
    """
    lines = []
    for path in found.unreadable:
        lines.append(f"warning: {path}: cannot be read; left out")
    if not found.recordings:
        lines.append("no duplicates: " + (f"each of the {found.n_sessions} stored sessions is a recording of its own"
                                          if found.n_sessions else "the dataset holds no sessions"))
        return "\n".join(lines)
    n = len(found.recordings)
    lines.append(f"{n} recording{' is' if n == 1 else 's are'} stored as more than one session (the same bytes and "
                 "first sample):")
    for rec in found.recordings:
        start = f"{rec.start_time.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
        lines.append(f"recording with SHA-256 {rec.source_sha256[:12]}..., first sample {start}:")
        for i, s in enumerate(rec.sessions):
            about = [f"from {s.source_path}", f"{s.n_steps} steps"]
            if s.n_notes:
                about.append(f"{s.n_notes} note{'' if s.n_notes == 1 else 's'}")
            if s.processed_at is not None:
                about.append(f"processed {s.processed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}Z")
            lines.append(f"  {'keep ' if i == 0 else 'extra'} session {s.session_id} of runner {s.runner_id} "
                         f"({', '.join(about)})")
            if i:
                lines.append(f"        imuback delete {_option('dataset', dataset)} {_option('runner', s.runner_id)} "
                             f"{_option('session', s.session_id)}")
            if i and s.n_notes:
                lines.append("        (it has notes: read them first; the line refuses until --with-notes is added)")
        runners = sorted({s.runner_id for s in rec.sessions})
        if len(runners) > 1:
            lines.append(f"  stored under runners {', '.join(runners)}: keep the right runner's session, "
                         "whichever it is")
    lines.append("kept: the session with the most notes, then the one processed first; nothing was deleted")
    return "\n".join(lines)


def _option(name: str, value: str) -> str:
    """``--name=value`` for a shell: an id may start with ``-`` (``--runner -ann`` is no value to argparse)."""
    return shlex.quote(f"--{name}={value}")


def register(subparsers: Any) -> None:
    """Add ``delete`` and ``duplicates`` to the ``imuback`` command."""
    p = subparsers.add_parser(
        "delete", help="delete one stored session from a dataset (its raw recording is left alone)",
        description="Delete one session from the dataset: its rows of steps, strides and sessions, and the "
                    "warnings of its input file when they speak of no other stored session, under the dataset's "
                    "lock (the sessions row first: a deletion cut short leaves no session without its steps, "
                    "and the same command again finishes it). The raw recording files are never touched: "
                    "processing one again stores it again. A session with notes (pain, effort: the runner's "
                    "own words) is refused unless --with-notes.")
    p.add_argument("--dataset", required=True, type=paths.dataset_to_read, help="processed dataset directory")
    p.add_argument("--runner", required=True, metavar="ID", help="runner id (as in the dataset)")
    p.add_argument("--session", required=True, metavar="ID", help="session id (as in the dataset)")
    p.add_argument("--with-notes", action="store_true",
                   help="delete the session's notes too (without it a session with notes is refused)")
    p.add_argument("--dry-run", action="store_true", help="say what would be deleted and change nothing")
    p.set_defaults(func=_cmd_delete)

    p = subparsers.add_parser(
        "duplicates", help="list recordings stored as more than one session, with the delete lines",
        description="List the recordings the dataset holds as more than one session: the same bytes "
                    "(sessions.source_sha256) and first sample (sessions.start_time), e.g. a copy of a file "
                    "processed under another name before pipeline 0.16.0. For each, the session to keep "
                    "(the one with the most notes, then the one processed first) and the 'imuback delete' "
                    "line of each extra one. Deletes nothing.")
    p.add_argument("--dataset", required=True, type=paths.dataset_to_read, help="processed dataset directory")
    p.set_defaults(func=_cmd_duplicates)
