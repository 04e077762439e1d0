"""Cohort queries: DuckDB SQL over a dataset's tables (``steps``, ``strides``, ``sessions``, ``errors``).

Each table is a view over its Parquet files, so a query reads only the columns (and, with the
Parquet statistics, the row groups) it needs; nothing is loaded up front. Tables with no files yet
are empty views with the documented columns, so a query never fails for lack of data.

The SQL may come from anyone who can type a command, so the connection is locked down once the
views exist: DuckDB may touch files only inside the dataset folder, may not load extensions or
reach the network, and its configuration cannot be changed back; :func:`run_query` runs exactly
one read-only (``SELECT``-type) statement. Results are written by :func:`write_result` with
pyarrow, never by DuckDB.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imuback.errors import QueryError
from imuback.store.dataset import table_files, table_pattern
from imuback.store.errors_table import ERRORS_SCHEMA, ERRORS_TABLE
from imuback.store.schema import TABLE_SCHEMAS

QUERY_TABLES = ("steps", "strides", "sessions", ERRORS_TABLE)


def _schema(name: str) -> pa.Schema:
    return ERRORS_SCHEMA if name == ERRORS_TABLE else TABLE_SCHEMAS[name]


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(dataset: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per dataset table, confined to the dataset.

    After the views are made, file access is limited to the dataset folder
    (``allowed_directories``), everything else external is off (``enable_external_access``:
    other files, extensions, network) and the configuration is locked (``lock_configuration``),
    so SQL run on this connection cannot read or write files elsewhere or undo the limits.
    """
    ds = Path(dataset).resolve()
    if not ds.is_dir():
        raise QueryError(f"{ds}: no such dataset folder")
    con = duckdb.connect(":memory:")
    for name in QUERY_TABLES:
        if table_files(ds, name):
            path = table_pattern(ds, name).replace("'", "''")
            # union_by_name: files written by an older minor schema version lack newer columns.
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM "
                        f"read_parquet('{path}', union_by_name = true, hive_partitioning = false)")
        else:
            con.register(f"_{name}_empty", _schema(name).empty_table())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")
    # The views read <dataset>/<table>/...; nothing else on the file system is any query's business.
    # (The trailing separator keeps a sibling such as <dataset>-old out.) Order matters: the
    # allowed folder is set while settings may still change, the lock comes last.
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


def run_query(dataset: str | Path, sql: str) -> pa.Table:
    """Run one read-only SQL statement over the dataset; return the result as an Arrow table.

    Raises
    ------
    QueryError
        No dataset, SQL that does not parse, more or fewer than one statement, a statement that
        is not a query (``COPY``, ``ATTACH``, ``SET``, ``CREATE``, ...), or a failing query
        (including any attempt to read files outside the dataset).
    """
    statement = _one_read_statement(sql)
    con = connect(dataset)
    try:
        rel = con.sql(statement)
        if rel is None:
            return pa.table({})
        return rel.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}\n(tables: {', '.join(QUERY_TABLES)}; "
                         "see docs/batch.md)") from exc
    finally:
        con.close()


def write_result(table: pa.Table, out: str | Path) -> Path:
    """Write a query result to ``.csv`` or ``.parquet`` (chosen by the file suffix), atomically.

    The result goes to a temporary file next to ``out`` that then replaces ``out`` in one step,
    so ``out`` is either its old self or the whole new result, never a half-written file.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise QueryError(f"{out}: write .csv or .parquet (unknown suffix {out.suffix!r})")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so that the rename is atomic; an unpredictable name, so that runs never collide.
    tmp = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        if suffix == ".csv":
            pacsv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return out


def format_table(table: pa.Table, *, max_rows: int = 40, max_width: int = 32) -> str:
    """A plain-text table for a terminal: header, rule, up to ``max_rows`` rows, a row count."""
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
    out.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''}"
               + (f", {more} not shown; use --out FILE.csv for all" if more > 0 else "") + ")")
    return "\n".join(out)


def _cell(value: object, max_width: int) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, float):
        text = "NaN" if math.isnan(value) else f"{value:.6g}"
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= max_width else text[: max_width - 1] + "…"
