"""The ``warnings`` table: what reading an input file said without failing, one row per file and
warning (a zone given over the file's own, a reader's notice): written by a batch's driver, and by
:func:`imuback.pipeline.process_file_sessions` outside a batch when it writes a session.

Stored beside the ``errors`` table and in its layout, one file per input file:
``<dataset>/warnings/runner=<id>/session=file-<hash of the input path>/part-0.parquet``
(:func:`~imuback.store.errors_table.error_partition`). Keyed by the input path: the next run of the file
that says something replaces its rows, and a run that processes it again without a warning removes
them, so the table holds what was said about each file's stored sessions (a file skipped unread, or
failing, keeps the rows of the run that made them).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from imuback.store.dataset import table_files, write_session
from imuback.store.errors_table import error_partition
from imuback.store.schema import WARNINGS_SCHEMA as WARNINGS_SCHEMA

WARNINGS_TABLE = "warnings"


def write_warnings(dataset: str | Path, *, source_path: str, messages: Sequence[str], source_sha256: str | None,
                   session_id: str | None, runner_id: str | None, pipeline_version: str,
                   warned_at: datetime | None = None, worker: str | None = None) -> None:
    """Write (or replace) the warning rows of one input file, one per message; none: remove them."""
    clear_warnings(dataset, source_path=source_path)  # filed under another runner (or none) before
    if not messages:
        return
    n = len(messages)
    rows = {
        "source_path": [source_path] * n, "source_sha256": [source_sha256] * n, "session_id": [session_id] * n,
        "runner_id": [runner_id] * n, "message": list(messages), "pipeline_version": [pipeline_version] * n,
        "warned_at": [warned_at or datetime.now(UTC)] * n, "worker": [worker] * n,
    }
    rid, sid = error_partition(source_path, runner_id)
    write_session(dataset, runner_id=rid, session_id=sid,
                  tables={WARNINGS_TABLE: pa.Table.from_pydict(rows, schema=WARNINGS_SCHEMA)})


def clear_warnings(dataset: str | Path, *, source_path: str) -> None:
    """Delete the warning rows filed for ``source_path``, if any."""
    _, sid = error_partition(source_path, None)
    for part in table_files(dataset, WARNINGS_TABLE, session_id=sid):
        shutil.rmtree(part.parent, ignore_errors=True)


def read_warnings(dataset: str | Path) -> pa.Table:
    """All rows of the ``warnings`` table (typed empty table when there are none)."""
    files = table_files(dataset, WARNINGS_TABLE)
    if not files:
        return WARNINGS_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=WARNINGS_SCHEMA) for f in files])
