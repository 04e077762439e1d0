"""The ``errors`` table: one row per input file that failed in its latest batch run.

Stored like the other tables, one file per input file:
``<dataset>/errors/runner=<id>/session=file-<hash of the input path>/part-0.parquet``, with
``runner=_unidentified`` when the file is too broken to name its runner (a truncated Parquet file,
say). Keyed by the input path, a re-run replaces a file's row instead of adding one, and two files
that claim the same session keep one row each. A later successful run of the file deletes its row:
the table says what is wrong *now*, not a history.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from imuback.store.dataset import table_files, write_session
from imuback.store.schema import ERRORS_SCHEMA as ERRORS_SCHEMA

ERRORS_TABLE = "errors"
UNIDENTIFIED_RUNNER = "_unidentified"




def error_partition(source_path: str, runner_id: str | None) -> tuple[str, str]:
    """(runner, session) directory keys under which a failure of ``source_path`` is stored."""
    digest = hashlib.sha256(source_path.encode()).hexdigest()[:16]
    return runner_id or UNIDENTIFIED_RUNNER, f"file-{digest}"


def write_error(dataset: str | Path, *, source_path: str, source_sha256: str | None,
                session_id: str | None, runner_id: str | None, error_type: str, message: str,
                pipeline_version: str, failed_at: datetime | None = None,
                worker: str | None = None) -> None:
    """Write (or replace) the error row of one input file."""
    failed_at = failed_at or datetime.now(UTC)
    row = {
        "source_path": [source_path], "source_sha256": [source_sha256], "session_id": [session_id],
        "runner_id": [runner_id], "error_type": [error_type], "message": [message],
        "pipeline_version": [pipeline_version], "failed_at": [failed_at], "worker": [worker],
    }
    rid, sid = error_partition(source_path, runner_id)
    # The file may have been filed under another runner (or none) before.
    clear_error(dataset, source_path=source_path)
    write_session(dataset, runner_id=rid, session_id=sid,
                  tables={ERRORS_TABLE: pa.Table.from_pydict(row, schema=ERRORS_SCHEMA)})


def clear_error(dataset: str | Path, *, source_path: str) -> None:
    """Delete the error row filed for ``source_path``, if any."""
    _, sid = error_partition(source_path, None)
    for part in table_files(dataset, ERRORS_TABLE, session_id=sid):
        shutil.rmtree(part.parent, ignore_errors=True)


def has_error(dataset: str | Path, *, source_path: str) -> bool:
    """Whether an error row is filed for ``source_path`` (its last run failed, wholly or in part)."""
    _, sid = error_partition(source_path, None)
    return bool(table_files(dataset, ERRORS_TABLE, session_id=sid))


def read_errors(dataset: str | Path) -> pa.Table:
    """All rows of the ``errors`` table (typed empty table when there are none)."""
    files = table_files(dataset, ERRORS_TABLE)
    if not files:
        return ERRORS_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=ERRORS_SCHEMA) for f in files])
