"""DuckDB queries over the processed dataset (embedded, no server).

The dataset layout belongs to :mod:`imuback.store.dataset` (see
:mod:`imuback.store.dataset`). Files are listed here with fixed patterns, so staging and
replaced-session directories (``.staging``, ``.session=...old-...``) are never read, and ids are
passed to DuckDB as parameters, never pasted into SQL. Every read checks the columns the report
needs and the schema's major version, and says which column or file is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from imuback.errors import ReportDataError, SchemaError
from imuback.signal.clipping import CENSORED_METRICS
from imuback.store.dataset import partition_of
from imuback.store.dataset import table_files as store_table_files
from imuback.store.schema import SCHEMA_VERSION, SPEED_MEDIANS, TABLE_SCHEMAS

STEP_COLUMNS = (
    "foot", "activity", "ic_time", "contact_time_s", "flight_time_s", "impact_peak_g",
    "grf_peak_bw", "loading_rate_g_per_s", "vertical_oscillation_cm", "cadence_spm", "quality",
    "speed_mps", "step_length_m", "vertical_ratio_pct", "clipped",
)
STRIDE_COLUMNS = (
    "foot", "start_time", "stride_time_s", "pelvis_rotation_deg", "pelvis_obliquity_deg",
    "pelvis_tilt_deg", "ml_excursion_cm", "ml_acc_rms_g", "impact_asymmetry_pct",
    "contact_asymmetry_pct", "stride_length_m",
)
LATER_COLUMNS = frozenset({
    "speed_mps", "step_length_m", "vertical_ratio_pct", "stride_length_m", "speed_source",
    "treadmill_speed_mps", "speed_coverage_pct", "median_pace_s_per_km", "low_quality_reason",
    "n_mounting_shifts", "mounting_shift_max_deg", "first_mounting_shift_s", "clipped",
    "mounting_source", "mounting_nominal", "utc_offset_min",
    *(f"median_{m}" for m, _unit in SPEED_MEDIANS),
})
"""Columns added after schema 1.1 (speed, length, why steps are of low quality, the clipped flag of
1.4, where the nominal mounting came from, the UTC offset of 1.8): files made before them read them
as null."""


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with UTC as its time zone."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    return con


def table_files(dataset: str | Path, table: str, *, runner_id: str | None = None,
                session_id: str | None = None) -> list[str]:
    """Parquet files of ``table``, optionally of one runner and/or session (sorted paths)."""
    return [str(f) for f in store_table_files(dataset, table, runner_id=runner_id, session_id=session_id)]


def _check(con: duckdb.DuckDBPyConnection, files: list[str], table: str,
           columns: Sequence[str]) -> set[str]:
    """Raise :class:`SchemaError` naming the file and column if ``files`` cannot serve ``columns``;
    return the columns the files have (:data:`LATER_COLUMNS` may be missing: read as null).
    """
    major = SCHEMA_VERSION.split(".")[0]
    versions = con.sql(
        "SELECT file_name, decode(value) FROM parquet_kv_metadata($files) "
        "WHERE decode(key) = 'imuback.schema_version'", params={"files": files}).fetchall()
    tagged = {str(name) for name, _ in versions}
    for name, version in versions:
        if str(version).split(".")[0] != major:
            raise SchemaError(f"{name}: schema version {version}, this imuback reads {SCHEMA_VERSION}; "
                              "re-process the session with this version")
    untagged = [f for f in files if f not in tagged]
    if untagged:
        raise SchemaError(f"{untagged[0]}: no imuback.schema_version in the file metadata; "
                          f"it was not written by imuback.store (table {table!r})")
    described = con.sql("DESCRIBE SELECT * FROM read_parquet($files, union_by_name = true)",
                        params={"files": files}).fetchall()
    have = {row[0] for row in described}
    missing = [c for c in columns if c not in have and c not in LATER_COLUMNS]
    if missing:
        raise SchemaError(f"{Path(files[0]).parents[3]}/{table}: column(s) {missing} missing "
                          f"(schema {SCHEMA_VERSION} has {len(TABLE_SCHEMAS[table].names)} columns); "
                          "re-process the sessions with this imuback version")
    return have


def _col(c: str, have: set[str], expr: str = '"{c}"') -> str:
    """``expr`` of column ``c`` AS ``c``, or NULL AS ``c`` where the files predate it."""
    return f'{expr.format(c=c) if c in have else "NULL"} AS "{c}"'


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    # Through Arrow, so timestamps keep their UTC zone.
    return con.sql(sql, params=params).to_arrow_table().to_pandas()


def _read(dataset: str | Path, table: str, columns: Sequence[str], *, runner_id: str | None,
          session_id: str | None, where: str = "", order: str = "",
          params: dict[str, Any] | None = None) -> pd.DataFrame:
    files = table_files(dataset, table, runner_id=runner_id, session_id=session_id)
    if not files:
        return pd.DataFrame(columns=list(columns))
    con = connect()
    try:
        have = _check(con, files, table, columns)
        cols = ", ".join(_col(c, have) for c in columns)
        sql = f"SELECT {cols} FROM read_parquet($files, union_by_name = true) {where} {order}"
        return _frame(con, sql, {"files": files, **(params or {})})
    finally:
        con.close()


def runner_ids(dataset: str | Path) -> list[str]:
    """Runner ids that have at least one ``sessions`` row."""
    return sorted({partition_of(f)[0] for f in store_table_files(dataset, "sessions")})


def session_row(dataset: str | Path, session_id: str, *, runner_id: str | None = None) -> dict[str, Any]:
    """The ``sessions`` row of one session as a dict; :class:`ReportDataError` if absent.

    A session is (runner, session): give ``runner_id`` where one session id is used by several
    runners (without it such an id is refused, naming the runners).
    """
    where, params = "WHERE session_id = $sid", {"sid": session_id}
    if runner_id is not None:
        where, params = where + " AND runner_id = $rid", params | {"rid": runner_id}
    df = _read(dataset, "sessions", TABLE_SCHEMAS["sessions"].names, runner_id=runner_id,
               session_id=session_id, where=where, params=params)
    if df.empty:
        n = len(table_files(dataset, "sessions"))
        whose = f" of runner {runner_id!r}" if runner_id is not None else ""
        raise ReportDataError(f"session {session_id!r}{whose} is not in dataset {dataset} ({n} sessions "
                              "there); process its raw file first with `imuback process`")
    owners = sorted(set(df["runner_id"]))
    if len(owners) > 1:  # a session is (runner, session): one id used by several runners
        raise ReportDataError(f"session id {session_id!r} belongs to several runners in {dataset} "
                              f"({', '.join(owners)}); name the runner (--runner)")
    return {k: _py(v) for k, v in df.iloc[-1].items()}


def runner_sessions(dataset: str | Path, runner_id: str) -> pd.DataFrame:
    """All ``sessions`` rows of one runner, oldest first; :class:`ReportDataError` if none."""
    df = _read(dataset, "sessions", TABLE_SCHEMAS["sessions"].names, runner_id=runner_id,
               session_id=None, where="WHERE runner_id = $rid",
               order="ORDER BY start_time, session_id", params={"rid": runner_id})
    if df.empty:
        known = ", ".join(runner_ids(dataset)) or "none"
        raise ReportDataError(f"runner {runner_id!r} has no sessions in dataset {dataset} "
                              f"(runners there: {known})")
    return df.reset_index(drop=True)


def session_steps(dataset: str | Path, runner_id: str, session_id: str) -> pd.DataFrame:
    """Per-step rows of one session in step order (columns :data:`STEP_COLUMNS`)."""
    return _read(dataset, "steps", STEP_COLUMNS, runner_id=runner_id, session_id=session_id,
                 where="WHERE session_id = $sid", order="ORDER BY step", params={"sid": session_id})


def session_strides(dataset: str | Path, runner_id: str, session_id: str) -> pd.DataFrame:
    """Per-stride rows of one session in stride order (columns :data:`STRIDE_COLUMNS`)."""
    return _read(dataset, "strides", STRIDE_COLUMNS, runner_id=runner_id, session_id=session_id,
                 where="WHERE session_id = $sid", order="ORDER BY stride",
                 params={"sid": session_id})


def side_quartiles(dataset: str | Path, runner_id: str, session_id: str, *, activity: str,
                   columns: Sequence[str]) -> pd.DataFrame:
    """Per-foot 25th/50th/75th percentiles of step ``columns`` (one row per foot, index L/R).

    Columns ``<col>_p25``, ``<col>_p50``, ``<col>_p75`` and ``n_steps``. A clipped contact's
    impact and loading rate (:data:`~imuback.signal.clipping.CENSORED_METRICS`) count as larger
    than every unclipped one, as in the session medians: a percentile resting on one is +inf
    (not known).
    """
    files = table_files(dataset, "steps", runner_id=runner_id, session_id=session_id)
    if not files:
        return pd.DataFrame()
    con = connect()
    try:
        have = _check(con, files, "steps", ["foot", "activity", *columns])

        def value(c: str) -> str:  # a clipped contact's impact: larger than any unclipped (+inf)
            censor = c in CENSORED_METRICS and "clipped" in have
            return f"""CASE WHEN clipped THEN 'inf'::DOUBLE ELSE "{c}" END""" if censor else f'"{c}"'

        parts = [f'quantile_cont({value(c)}, {q / 100}) AS "{c}_p{q}"' for c in columns for q in (25, 50, 75)]
        sql = (f"SELECT foot, count(*) AS n_steps, {', '.join(parts)} "
               "FROM read_parquet($files, union_by_name = true) "
               "WHERE session_id = $sid AND activity = $act AND foot IN ('L', 'R') "
               "GROUP BY foot ORDER BY foot")
        return _frame(con, sql, {"files": files, "sid": session_id, "act": activity}).set_index("foot")
    finally:
        con.close()


def weekly_medians(dataset: str | Path, runner_id: str, session_ids: Sequence[str],
                   columns: Sequence[str], *, min_rate_hz: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Per-week medians of session ``columns`` over ``session_ids``: weeks from Monday 00:00 in each
    session's local time (``start_time`` + ``utc_offset_min``; UTC where that is null), as the
    reports' days (:func:`imuback.report.analysis.local_start`).

    Columns ``week`` (timestamp labelled UTC: the local Monday's date), ``n_sessions`` and one per
    column; oldest week first.
    ``min_rate_hz``: per column, the sessions sampled slower than this (Hz) are left out of its median.
    """
    files = table_files(dataset, "sessions", runner_id=runner_id)
    if not files or not session_ids:
        return pd.DataFrame(columns=["week", "n_sessions", *columns])
    con = connect()
    try:
        have = _check(con, files, "sessions", ["start_time", *columns])
        local = ("start_time + to_minutes(coalesce(utc_offset_min, 0))" if "utc_offset_min" in have
                 else "start_time")
        limits = min_rate_hz or {}
        meds = ", ".join(_col(c, have, 'median("{c}")' if c not in limits else
                              "median(CASE WHEN sample_rate_hz IS NULL OR sample_rate_hz >= "
                              f'{float(limits[c])!r} THEN "{{c}}" END)') for c in columns)
        sql = (f"SELECT date_trunc('week', {local}) AS week, count(*) AS n_sessions, {meds} "
               "FROM read_parquet($files, union_by_name = true) "
               "WHERE runner_id = $rid AND list_contains($ids, session_id) "
               "GROUP BY week ORDER BY week")
        return _frame(con, sql, {"files": files, "rid": runner_id, "ids": list(session_ids)})
    finally:
        con.close()


def _py(value: Any) -> Any:
    """Pandas/numpy scalars to plain Python (NaN and NaT -> None)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        return value.item()
    return value
