"""Cohort queries: DuckDB SQL over a dataset's tables (``steps``, ``strides``, ``sessions``, ``errors``).

Each table is a view over its Parquet files, so a query reads only the columns (and, with the
Parquet statistics, the row groups) it needs; nothing is loaded up front. Tables with no files yet
are empty views with the documented columns, so a query never fails for lack of data.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imuback.batch.records import ERRORS_SCHEMA, ERRORS_TABLE
from imuback.errors import ImubackError
from imuback.store.dataset import PART_FILE
from imuback.store.schema import TABLE_SCHEMAS

QUERY_TABLES = ("steps", "strides", "sessions", ERRORS_TABLE)


class QueryError(ImubackError):
    """A cohort query cannot run (bad SQL, missing dataset, unknown output format)."""


def _schema(name: str) -> pa.Schema:
    return ERRORS_SCHEMA if name == ERRORS_TABLE else TABLE_SCHEMAS[name]


def connect(dataset: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per dataset table."""
    ds = Path(dataset)
    if not ds.is_dir():
        raise QueryError(f"{ds}: no such dataset folder")
    con = duckdb.connect(":memory:")
    for name in QUERY_TABLES:
        pattern = ds / name / "runner=*" / "session=*" / PART_FILE
        if any((ds / name).glob(f"runner=*/session=*/{PART_FILE}")):
            path = str(pattern).replace("'", "''")
            # union_by_name: files written by an older minor schema version lack newer columns.
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM "
                        f"read_parquet('{path}', union_by_name = true, hive_partitioning = false)")
        else:
            con.register(f"_{name}_empty", _schema(name).empty_table())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}_empty")
    return con


def run_query(dataset: str | Path, sql: str) -> pa.Table:
    """Run one SQL statement over the dataset; return the result as an Arrow table."""
    con = connect(dataset)
    try:
        rel = con.sql(sql)
        if rel is None:
            return pa.table({})
        return rel.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"query failed: {exc}\n(tables: {', '.join(QUERY_TABLES)}; "
                         "see docs/batch.md)") from exc
    finally:
        con.close()


def write_result(table: pa.Table, out: str | Path) -> Path:
    """Write a query result to ``.csv`` or ``.parquet`` (chosen by the file suffix)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        pacsv.write_csv(table, out)
    elif suffix in (".parquet", ".pq"):
        pq.write_table(table, out, compression="zstd")
    else:
        raise QueryError(f"{out}: write .csv or .parquet (unknown suffix {out.suffix!r})")
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
