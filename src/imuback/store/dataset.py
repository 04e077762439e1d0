"""The processed dataset: ``<dir>/<table>/runner=<id>/session=<id>/part-0.parquet``.

Tables: ``steps``, ``strides``, ``sessions`` (and ``errors`` and ``warnings``, written by batch). Every file holds
its own ``session_id`` and ``runner_id`` columns, so one file stands alone; the hive directories
(``runner=``, ``session=``) let DuckDB and pyarrow prune by runner or session::

    SELECT * FROM read_parquet('<dir>/steps/**/*.parquet', hive_partitioning=true)

Writing a session replaces that session's files in every table (never duplicates rows). The
session is staged in ``<dir>/.staging`` and each table's file replaces the old one in one rename,
``sessions`` last, so a reader that sees a ``sessions`` row finds the matching steps and strides.
One writer at a time: :class:`imuback.store.lock.DatasetLock`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from imuback.errors import DatasetError, SchemaError
from imuback.store.schema import SCHEMA_VERSION, TABLE_SCHEMAS

PART_FILE = "part-0.parquet"
WRITE_ORDER = ("steps", "strides", "sessions")
_RUNNER, _SESSION = "runner=", "session="
PART_GLOB = f"{_RUNNER}*/{_SESSION}*/{PART_FILE}"
"""The layout, spelled here only: ``<table>/runner=<id>/session=<id>/part-0.parquet``."""


def session_dir(dataset: str | Path, table: str, runner_id: str, session_id: str) -> Path:
    """Directory that holds one session's rows of ``table``."""
    return Path(dataset) / table / f"{_RUNNER}{runner_id}" / f"{_SESSION}{session_id}"


def part_path(dataset: str | Path, table: str, runner_id: str, session_id: str) -> Path:
    """The file that holds one session's rows of ``table``."""
    return session_dir(dataset, table, runner_id, session_id) / PART_FILE


def table_pattern(dataset: str | Path, table: str) -> str:
    """Glob pattern of every file of ``table`` (for DuckDB's ``read_parquet``)."""
    return str(Path(dataset) / table / PART_GLOB)


def partition_of(part: Path) -> tuple[str, str]:
    """(runner_id, session_id) of a file found by :func:`table_files`."""
    return part.parent.parent.name.removeprefix(_RUNNER), part.parent.name.removeprefix(_SESSION)


def table_files(dataset: str | Path, table: str, *, runner_id: str | None = None,
                session_id: str | None = None) -> list[Path]:
    """Files of ``table``, optionally of one runner and/or session (sorted). Staged and replaced
    copies (hidden names) are never listed.
    """
    root = Path(dataset) / table
    if not root.is_dir():
        return []
    out = []
    for f in sorted(root.glob(PART_GLOB)):
        runner, session = partition_of(f)
        if (runner_id is None or runner == runner_id) and (session_id is None or session == session_id):
            out.append(f)
    return out


SOURCE_COLUMNS = ["source_path", "source_sha256", "pipeline_version", "params_json"]
MOUNTING_COLUMNS = ["mounting_source", "mounting_nominal"]
"""How a stored session was read (null in files made before they were recorded)."""
READ_COLUMNS = [*MOUNTING_COLUMNS, "utc_offset_min", "utc_offset_source"]
"""How a stored session was read: its mounting (schema 1.5), where it was recorded (1.8) and who said so (1.9); null
in files made before."""


def stored_source(dataset: str | Path, *, runner_id: str, session_id: str) -> dict[str, Any] | None:
    """Where the stored rows of one session came from (``SOURCE_COLUMNS``, ``READ_COLUMNS``
    (None in older files), ``start_ns``: its first sample, UTC ns, and ``schema_version``: the
    schema the file was written at, "" if untagged); None when the session is not in the dataset
    or its sessions file cannot be read (repair's business).
    """
    part = part_path(dataset, "sessions", runner_id, session_id)
    if not part.exists():
        return None
    try:
        schema = pq.read_schema(part)
        table = pq.read_table(part, columns=[*SOURCE_COLUMNS, "start_time",
                                             *(c for c in READ_COLUMNS if c in schema.names)])
    except (OSError, pa.ArrowInvalid):
        return None
    if table.num_rows != 1:
        return None
    meta = schema.metadata or {}
    start = table.column("start_time").cast(pa.int64())[0].as_py()
    return {**dict.fromkeys(READ_COLUMNS), **table.drop_columns(["start_time"]).to_pylist()[0],
            "start_ns": start, "schema_version": meta.get(b"imuback.schema_version", b"").decode()}


def sessions_by_source(dataset: str | Path) -> dict[str, tuple[tuple[str, str], ...]]:
    """``sessions.source_path`` -> the (runner_id, session_id) of every stored session made from that
    file: one small column read per session (a batch reads it once, before handing out tasks).
    Unreadable files are left out (repair's business).
    """
    found: dict[str, list[tuple[str, str]]] = {}
    for part in table_files(dataset, "sessions"):
        try:
            rows = pq.read_table(part, columns=["source_path", "runner_id", "session_id"]).to_pylist()
        except (OSError, pa.ArrowInvalid):
            continue
        for row in rows:
            if row["source_path"]:
                found.setdefault(row["source_path"], []).append((row["runner_id"], row["session_id"]))
    return {k: tuple(v) for k, v in found.items()}


_SHA_CACHE: dict[str, tuple[int, int, int, str | None]] = {}
"""sessions file -> (mtime ns, size, inode, its ``source_sha256``): a process that looks again (a batch
worker, the clinic page) reads only the files written since (:func:`sessions_from_bytes`). The inode
tells a file put in place by a rename (every write is one) from the one it replaced, whatever their
times and sizes."""


def sessions_from_bytes(dataset: str | Path, *, source_sha256: str) -> list[dict[str, Any]]:
    """Every stored session made from these bytes (``sessions.source_sha256``), in any runner and
    under any session id: ``runner_id``, ``session_id`` and its :func:`stored_source` row
    (``source_path``, ``start_ns``...) each, sorted by (runner, session).

    Cheap: each sessions file's hash is read from its Parquet footer (the column statistics of its
    one row; the column itself where a writer left them out) and kept while the file's size,
    modification time and inode stay the same (:data:`_SHA_CACHE`); only the files that match are read. Unreadable
    files are left out (repair's business).
    """
    if not source_sha256:
        return []
    known: list[tuple[Path, str]] = []
    stale: list[tuple[Path, str, os.stat_result]] = []
    for part in table_files(dataset, "sessions"):
        try:
            st, key = part.stat(), str(part.resolve())
        except OSError:
            continue
        hit = _SHA_CACHE.get(key)
        if hit is not None and hit[:3] == (st.st_mtime_ns, st.st_size, st.st_ino):
            known.append((part, key))
        else:
            stale.append((part, key, st))
    with ThreadPoolExecutor(FOOTER_READERS) as pool:  # footers read side by side: ~3x faster on a busy machine
        for (part, key, st), (read, sha) in zip(stale, pool.map(_footer_sha256, [p for p, _k, _s in stale]),
                                                strict=True):
            if read:
                _SHA_CACHE[key] = (st.st_mtime_ns, st.st_size, st.st_ino, sha)
                known.append((part, key))
    out = []
    for part, key in sorted(known):
        if _SHA_CACHE[key][3] == source_sha256:
            runner, session = partition_of(part)
            row = stored_source(dataset, runner_id=runner, session_id=session)
            if row is not None:
                out.append({"runner_id": runner, "session_id": session, **row})
    return out


FOOTER_READERS = 8
"""Threads that read sessions files' footers for :func:`sessions_from_bytes` (1,000 cold files on 2
busy cores: 5.3 s with one, 1.9 s with eight; ``benchmarks/bench_same_bytes.py``)."""


def _footer_sha256(part: Path) -> tuple[bool, str | None]:
    """(read, ``source_sha256``) of a one-row sessions file: from its footer's statistics, else the
    column; (False, None) for a file that cannot be read (not remembered: repair's business).
    """
    try:
        return True, _read_footer_sha256(part)
    except (OSError, pa.ArrowInvalid):
        return False, None


def _read_footer_sha256(part: Path) -> str | None:
    meta = pq.read_metadata(part)
    if meta.num_rows != 1 or "source_sha256" not in meta.schema.names:
        return None
    stats = meta.row_group(0).column(meta.schema.names.index("source_sha256")).statistics
    if stats is not None and stats.has_min_max and stats.min == stats.max:
        return str(stats.min)
    value = pq.read_table(part, columns=["source_sha256"]).column(0)[0].as_py()
    return None if value is None else str(value)


def stored_treadmill_speed(dataset: str | Path, *, runner_id: str, session_id: str,
                           source_sha256: str) -> float | None:
    """The treadmill speed (m/s) given when this session was stored from the same bytes
    (``source_sha256``), or None: a speed the user gave is kept when the session is re-processed.
    """
    part = part_path(dataset, "sessions", runner_id, session_id)
    if not source_sha256 or not part.exists():
        return None
    try:
        table = pq.read_table(part)
    except (OSError, pa.ArrowInvalid):
        return None
    if table.num_rows != 1 or "treadmill_speed_mps" not in table.column_names:
        return None  # one row per session; files made before the column have no speed to keep
    row = table.select(["source_sha256", "treadmill_speed_mps"]).to_pylist()[0]
    speed = row["treadmill_speed_mps"]
    return float(speed) if row["source_sha256"] == source_sha256 and speed is not None else None


def validate_table(name: str, table: pa.Table, schema: pa.Schema | None = None) -> pa.Table:
    """Check ``table`` against the schema of ``name`` (names, order, types); return it with metadata."""
    schema = schema if schema is not None else TABLE_SCHEMAS[name]
    if table.schema.names != schema.names:
        missing = [n for n in schema.names if n not in table.schema.names]
        extra = [n for n in table.schema.names if n not in schema.names]
        raise SchemaError(f"table {name!r}: columns differ from schema {SCHEMA_VERSION} "
                          f"(missing {missing}, unexpected {extra})")
    for got, want in zip(table.schema, schema, strict=True):
        if not got.type.equals(want.type):
            raise SchemaError(f"table {name!r}: column {got.name!r} is {got.type}, schema says {want.type}")
    meta = {b"imuback.schema_version": SCHEMA_VERSION.encode(), b"imuback.table": name.encode()}
    return table.cast(schema.with_metadata(meta))


def write_session(dataset: str | Path, *, runner_id: str, session_id: str,
                  tables: dict[str, pa.Table]) -> None:
    """Write (or replace) one session's rows of each table in ``tables``.

    ``tables`` maps table name to an Arrow table matching its schema. Tables not given are
    left alone. Staged first, then each table's file replaces the old one in one rename
    (``os.replace``: a reader finds the old file or the new one, never none); ``sessions`` is
    moved last, so a reader that sees a ``sessions`` row finds its steps and strides. Two writers
    of one dataset are kept apart by :class:`imuback.store.lock.DatasetLock`.
    """
    dataset = Path(dataset)
    checked = {name: validate_table(name, t, _schema_of(name, t)) for name, t in tables.items()}
    staging = dataset / ".staging" / uuid.uuid4().hex
    staging.mkdir(parents=True)
    try:
        for name, table in checked.items():
            (staging / name).mkdir()
            pq.write_table(table, staging / name / PART_FILE, compression="zstd")
        order = [n for n in WRITE_ORDER if n in checked] + [n for n in checked if n not in WRITE_ORDER]
        for name in order:
            final = part_path(dataset, name, runner_id, session_id)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name / PART_FILE, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


SAME_RECORDING_COLUMNS = ("start_time", "duration_s")
"""A session under another runner is the same recording filed again when its source is the same
file (or the same bytes) and these match too: a corrected runner id changes a raw file's metadata
(and so its bytes), never its samples. Step counts are not compared: another pipeline version finds
other steps in the same samples."""


def refiled_under(dataset: str | Path, *, runner_id: str, session_id: str, sessions: pa.Table) -> list[str]:
    """Other runners holding this session *from the same recording* (the ``sessions`` row about to
    be written under ``runner_id``): the same source file or bytes, the same start and length. Two
    runners may use the same session id for different recordings, and an edited file at the same
    path is a different recording: a session is identified by (runner_id, session_id), so those
    are not listed. Sources that are not files (``<memory>``) never match by path.
    """
    if sessions.num_rows == 0:
        return []
    new = sessions.select(["source_path", "source_sha256", *SAME_RECORDING_COLUMNS]).to_pylist()[0]
    out = []
    for other in table_files(dataset, "sessions", session_id=session_id):
        other_runner = partition_of(other)[0]
        if other_runner == runner_id:
            continue
        try:
            row = pq.read_table(other, columns=["source_path", "source_sha256",
                                                *SAME_RECORDING_COLUMNS]).to_pylist()[0]
        except (OSError, pa.ArrowInvalid, IndexError, KeyError):
            continue
        same_bytes = bool(new["source_sha256"]) and row["source_sha256"] == new["source_sha256"]
        same_file = (bool(new["source_path"]) and not str(new["source_path"]).startswith("<")
                     and row["source_path"] == new["source_path"])
        if (same_bytes or same_file) and all(row[c] == new[c] for c in SAME_RECORDING_COLUMNS):
            out.append(other_runner)
    return out


def _schema_of(name: str, table: pa.Table) -> pa.Schema:
    if name in TABLE_SCHEMAS:
        return TABLE_SCHEMAS[name]
    return table.schema  # extra tables (e.g. batch's ``errors``) bring their own schema


KEPT_TABLES = frozenset({"notes"})
"""Tables a session's deletion or re-processing leaves alone: what people wrote, not derived rows."""


def delete_session(dataset: str | Path, *, runner_id: str, session_id: str, sessions_last: bool = False) -> None:
    """Remove one session's derived rows from every table, ``sessions`` first (the reverse of
    writing: an interrupted delete leaves no session row over missing rows, and processing again
    writes it anew); notes are kept (see KEPT_TABLES). ``sessions_last``: the session's rows are
    already written elsewhere (a move to another runner): its ``sessions`` row goes last, so an
    interrupted move leaves it to be found (:func:`refiled_under`) and finished, not rows no
    session row names. A folder that cannot be removed stops it there (:func:`remove_folder`), so
    the order holds then too.
    """
    tables = [d.name for d in Path(dataset).iterdir()
              if d.is_dir() and not d.name.startswith(".") and d.name not in KEPT_TABLES]
    for name in sorted(tables, key=lambda n: (n == "sessions") == sessions_last):
        folder = session_dir(dataset, name, runner_id, session_id)
        remove_folder(folder)
        try:
            folder.parent.rmdir()  # the runner's folder, when that was its last session
        except OSError:
            pass


def remove_folder(folder: Path) -> None:
    """Remove ``folder`` and all it holds (absent: nothing to do).

    Raises :class:`DatasetError` naming it and what the OS said when it is still there (a symbolic
    link, a file that cannot be removed): the caller stops there, touching nothing after it.
    """
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        if os.path.lexists(folder):
            raise DatasetError(f"{folder} cannot be removed ({exc}); stopped there, nothing after it was touched: "
                               "fix that and run the same command again") from None


def read_table(dataset: str | Path, name: str, *, filter: pads.Expression | None = None) -> pa.Table:
    """Read one table of the dataset (all sessions) with its schema; empty table if none yet."""
    schema = TABLE_SCHEMAS.get(name)
    files = table_files(dataset, name)
    if not files:
        if schema is None:
            raise SchemaError(f"{dataset}: no table {name!r}")
        return schema.empty_table()
    ds = pads.dataset([str(f) for f in files], format="parquet", schema=schema)
    return ds.to_table(filter=filter)
