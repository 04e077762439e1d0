"""Cohort queries: DuckDB SQL over a dataset's tables (``steps``, ``strides``, ``sessions``, ``errors``,
``warnings``).

Each table is a view over its Parquet files, so a query reads only the columns (and, with the
Parquet statistics, the row groups) it needs; nothing is loaded up front. Tables with no files yet
are empty views with the documented columns, so a query never fails for lack of data. A column of
the current schema that every file of a table predates (a dataset written by an older imuback) is
not in the view as made; a query naming it fails to bind, and only then is the view re-made with
that table's missing columns as typed nulls and the query run again (:func:`stream_query`), so the
usual query pays nothing for it.

The SQL may come from anyone who can type a command, so the connection is locked down once the
views exist: DuckDB may touch files only inside the dataset folder (and its own private spill
folder), may not load extensions or reach the network, and its configuration cannot be changed
back; :func:`stream_query` runs exactly one read-only (``SELECT``-type) statement. Results stream
out in record batches, so printing the first rows or writing a large result to a file never holds
the whole result in memory. Results are written by :func:`write_result` with pyarrow, never by
DuckDB.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imuback.errors import QueryError
from imuback.store.dataset import table_files, table_pattern
from imuback.store.errors_table import ERRORS_SCHEMA, ERRORS_TABLE
from imuback.store.schema import SCHEMA_VERSION, TABLE_SCHEMAS
from imuback.store.warnings_table import WARNINGS_SCHEMA, WARNINGS_TABLE

QUERY_TABLES = ("steps", "strides", "sessions", ERRORS_TABLE, WARNINGS_TABLE)
BATCH_ROWS = 65_536
"""Rows per record batch streamed out of DuckDB."""

_SPILL_ROOT: list[Path] = []
_COLUMN_IN_ERROR = re.compile(r'[Cc]olumn (?:named )?"((?:[^"]|"")+)"')
"""The column a DuckDB Binder error names: ``Referenced column "c" not found``, ``... does not have
a column named "c"``, ``Column "c" does not exist on left side of join``, ``Column "c" in EXCLUDE
list not found``."""


def _schema(name: str) -> pa.Schema:
    return {ERRORS_TABLE: ERRORS_SCHEMA, WARNINGS_TABLE: WARNINGS_SCHEMA}.get(name) or TABLE_SCHEMAS[name]


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_parquet(ds: Path, name: str) -> str:
    # union_by_name: files written by an older minor schema version lack newer columns.
    path = table_pattern(ds, name).replace("'", "''")
    return f"read_parquet('{path}', union_by_name = true, hive_partitioning = false)"


def _spill_dir() -> Path:
    """A folder no one else uses, for DuckDB to spill large intermediate results to.

    DuckDB's default, ``<cwd>/.tmp``, is readable by every query (it is always allowed), so
    whatever lies there would leak through ``read_text``. Instead each connection gets a
    not-yet-existing folder under one private (mode 0700) folder per process, removed at exit.
    """
    if not _SPILL_ROOT:
        root = Path(tempfile.mkdtemp(prefix="imuback-query-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _SPILL_ROOT.append(root)
    return _SPILL_ROOT[0] / f"spill-{secrets.token_hex(8)}"


def connect(dataset: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per dataset table, confined to the dataset.

    After the views are made, file access is limited to the dataset folder
    (``allowed_directories``) and a private spill folder (``temp_directory``, not the default
    ``<cwd>/.tmp``), everything else external is off (``enable_external_access``: other files,
    extensions, network) and the configuration is locked (``lock_configuration``), so SQL run on
    this connection cannot read or write files elsewhere or undo the limits.
    """
    ds = Path(dataset).resolve()
    if not ds.is_dir():
        raise QueryError(f"{ds}: no such dataset folder")
    con = duckdb.connect(":memory:")
    for name in QUERY_TABLES:
        if table_files(ds, name):
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {_read_parquet(ds, name)}")
        else:
            con.register(f"_{name}_empty", _schema(name).empty_table())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")
    # The views read <dataset>/<table>/...; nothing else on the file system is any query's business.
    # (The trailing separator keeps a sibling such as <dataset>-old out.) Order matters: the
    # allowed folder is set while settings may still change, the lock comes last.
    con.execute(f"SET temp_directory = {_sql_string(str(_spill_dir()))}")
    con.execute(f"SET allowed_directories = [{_sql_string(str(ds) + os.sep)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _one_read_statement(sql: str) -> duckdb.Statement:
    """The single statement in ``sql``; QueryError if there are none, several, or not a query."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}\n(tables: {', '.join(QUERY_TABLES)}; "
                         "see docs/batch.md)") from exc
    if len(statements) != 1:
        raise QueryError(
            f"give exactly one SQL statement, got {len(statements)}"
            + (": run them one at a time (a ';' separates statements)" if statements else ""))
    (statement,) = statements
    if statement.type != duckdb.StatementType.SELECT:
        kind = str(statement.type).rsplit(".", 1)[-1]
        raise QueryError(
            f"imuback query only reads: {kind} statements are not allowed (SELECT, WITH ... "
            "SELECT, FROM ..., DESCRIBE, SUMMARIZE are); to save a result use --out FILE.csv or "
            "--out FILE.parquet")
    return statement


def _query_failed(exc: Exception) -> QueryError:
    """The one error of a failing query; a column a Binder error did not find is placed in the schema."""
    where = ""
    column = _named_column(exc) if isinstance(exc, duckdb.BinderException) else None
    if column is not None:
        tables = _tables_defining(column)
        where = (f'column "{column}" is a column of {", ".join(tables)} at schema {SCHEMA_VERSION}; '
                 if tables else f'column "{column}" is in no table of schema {SCHEMA_VERSION}; ')
    return QueryError(f"query failed: {exc}\n({where}tables: {', '.join(QUERY_TABLES)}; "
                      "see docs/batch.md)")


def _named_column(exc: duckdb.Error) -> str | None:
    """The column a Binder error did not find (first line of its message), if it names one: not a
    column named for another reason (``must appear in the GROUP BY clause``).
    """
    first = str(exc).split("\n", 1)[0]
    found = _COLUMN_IN_ERROR.search(first)
    if found is None or not any(w in first for w in ("not found", "does not have", "does not exist")):
        return None
    return found.group(1).replace('""', '"')


def _tables_defining(column: str) -> list[str]:
    """The query tables whose current schema has ``column`` (DuckDB names ignore case)."""
    return [name for name in QUERY_TABLES if column.lower() in {c.lower() for c in _schema(name).names}]


@cache
def _duckdb_types(name: str) -> tuple[str, ...]:
    """DuckDB's type of each column of table ``name``'s schema (as DuckDB reads the Arrow type)."""
    with duckdb.connect(":memory:") as con:
        return tuple(str(t) for t in con.from_arrow(_schema(name).empty_table()).types)


def _fill_predated(con: duckdb.DuckDBPyConnection, ds: Path, name: str) -> bool:
    """Re-make view ``name`` with every schema column its files all lack as a typed NULL.

    Columns keep the schema's order; columns the files hold beyond the schema follow. Returns
    whether any column was added (False: the files have every column, or there are none).
    """
    if not table_files(ds, name):
        return False  # an empty view, typed with every column already
    have = [row[0] for row in con.sql(f"DESCRIBE {name}").fetchall()]
    have_lower = {c.lower() for c in have}
    schema = _schema(name)
    if all(c.lower() in have_lower for c in schema.names):
        return False
    known = {c.lower() for c in schema.names}
    columns = [_sql_name(c) if c.lower() in have_lower else f"CAST(NULL AS {kind}) AS {_sql_name(c)}"
               for c, kind in zip(schema.names, _duckdb_types(name), strict=True)]
    columns += [_sql_name(c) for c in have if c.lower() not in known]
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(columns)} "
                f"FROM {_read_parquet(ds, name)}")
    return True


def _relation(con: duckdb.DuckDBPyConnection, ds: Path,
              statement: duckdb.Statement) -> duckdb.DuckDBPyRelation | None:
    """``con.sql(statement)``; after a Binder error, once more with every view whose files all lack
    a schema column given that column as a typed null (:func:`_fill_predated`: a column named
    through an alias, ``t.clipped``, gives an error naming no column). Any other error is the
    query's (:func:`_query_failed`), naming the column and whether the schema knows it.
    """
    try:
        return con.sql(statement)
    except duckdb.BinderException as exc:
        if not any([_fill_predated(con, ds, t) for t in QUERY_TABLES]):  # every view looked at
            raise _query_failed(exc) from exc
    try:
        return con.sql(statement)
    except duckdb.BinderException as exc:
        raise _query_failed(exc) from exc


@contextlib.contextmanager
def stream_query(dataset: str | Path, sql: str, *,
                 batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatchReader]:
    """Run one read-only SQL statement over the dataset; yield its result as a stream of batches.

    DuckDB computes the result as the batches are read: reading the first few rows and leaving
    the ``with`` block stops the query, so the whole result is never held in memory.

    Raises
    ------
    QueryError
        No dataset, SQL that does not parse, more or fewer than one statement, a statement that
        is not a query (``COPY``, ``ATTACH``, ``SET``, ``CREATE``, ...), or a failing query
        (including any attempt to read files outside the dataset), also while batches are read.
    """
    statement = _one_read_statement(sql)
    con = connect(dataset)
    try:
        try:
            rel = _relation(con, Path(dataset).resolve(), statement)
            if rel is None:
                yield pa.RecordBatchReader.from_batches(pa.schema([]), [])
                return
            duck = _arrow_reader(rel, batch_rows)
        except duckdb.Error as exc:
            raise _query_failed(exc) from exc
        yield pa.RecordBatchReader.from_batches(duck.schema, _batches(duck))
    finally:
        con.close()


def _batches(duck: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches of DuckDB's stream; its errors (raised only when a batch is computed, and
    surfacing through Arrow as OSError or ArrowInvalid) become QueryError.
    """
    while True:
        try:
            batch = duck.read_next_batch()
        except StopIteration:
            return
        except (duckdb.Error, pa.ArrowInvalid, OSError) as exc:
            raise _query_failed(exc) from exc
        yield batch


def _arrow_reader(rel: duckdb.DuckDBPyRelation, batch_rows: int) -> pa.RecordBatchReader:
    # DuckDB >= 1.5 renamed fetch_arrow_reader (deprecated since, warns) to to_arrow_reader.
    to_reader = getattr(rel, "to_arrow_reader", None)
    if to_reader is None:
        return rel.fetch_arrow_reader(batch_rows)
    reader: pa.RecordBatchReader = to_reader(batch_rows)
    return reader


def run_query(dataset: str | Path, sql: str) -> pa.Table:
    """Run one read-only SQL statement over the dataset; return the whole result as a table.

    For results that may be large, use :func:`stream_query`. Raises :class:`QueryError` as it does.
    """
    with stream_query(dataset, sql) as reader:
        return reader.read_all()


def head(reader: pa.RecordBatchReader, n_rows: int) -> tuple[pa.Table, bool]:
    """The first ``n_rows`` rows of a stream, and whether it had more; reads no further batch."""
    batches: list[pa.RecordBatch] = []
    n = 0
    for batch in reader:
        batches.append(batch)
        n += batch.num_rows
        if n > n_rows:
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    return table.slice(0, n_rows), n > n_rows


def write_result(result: pa.Table | pa.RecordBatchReader, out: str | Path) -> int:
    """Write a query result to ``.csv`` or ``.parquet`` (chosen by the file suffix), atomically.

    A stream is written batch by batch, never held whole in memory. The result goes to a
    temporary file next to ``out`` that then replaces ``out`` in one step, so ``out`` is either
    its old self or the whole new result, never a half-written file. Returns the rows written.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise QueryError(f"{out}: write .csv or .parquet (unknown suffix {out.suffix!r})")
    reader = (pa.RecordBatchReader.from_batches(result.schema, result.to_batches())
              if isinstance(result, pa.Table) else result)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so that the rename is atomic; an unpredictable name, so that runs never collide.
    tmp = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    n_rows = 0
    try:
        writer: pacsv.CSVWriter | pq.ParquetWriter
        with (pacsv.CSVWriter(tmp, reader.schema) if suffix == ".csv"
              else pq.ParquetWriter(tmp, reader.schema, compression="zstd")) as writer:
            for batch in reader:
                writer.write_batch(batch)
                n_rows += batch.num_rows
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return n_rows


def format_table(table: pa.Table, *, max_rows: int = 40, max_width: int | None = None,
                 more_rows: bool = False) -> str:
    """A plain-text table for a terminal: header, rule, up to ``max_rows`` rows, a row count.

    Values are printed whole (newlines shown as spaces) unless ``max_width`` cuts them to that
    many characters, ending in "…". ``more_rows``: the table is the head of a longer result
    (:func:`head`), whose total is unknown.
    """
    names = table.column_names
    if not names:
        return "(no result)"
    rows = table.slice(0, max_rows).to_pylist()
    cells = [[_cell(r[n], max_width) for n in names] for r in rows]
    widths = [max([len(n), *(len(c[i]) for c in cells)]) for i, n in enumerate(names)]
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
               for t in table.schema.types]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(names), line(["-" * w for w in widths]), *(line(c) for c in cells)]
    more = table.num_rows - len(rows)
    if more_rows:
        out.append(f"(first {len(rows)} row{'s' if len(rows) != 1 else ''}; more not shown; "
                   "use --out FILE.csv for all)")
    else:
        out.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''}"
                   + (f", {more} not shown; use --out FILE.csv for all" if more > 0 else "") + ")")
    return "\n".join(out)


def _cell(value: object, max_width: int | None) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, float):
        text = "NaN" if math.isnan(value) else f"{value:.6g}"
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if max_width is None or len(text) <= max_width else text[: max_width - 1] + "…"
