"""Processed dataset: written through the pipeline, read by pyarrow and DuckDB, replaced not duplicated."""

from __future__ import annotations

import duckdb
import pyarrow.dataset as pads

from imuback.pipeline import process_file
from imuback.store.dataset import read_table
from imuback.store.raw import write_raw
from tests.signal.analytic import half_sine_run


def test_reprocessing_replaces_rows_and_duckdb_reads_hive(tmp_path):
    raw, _ = half_sine_run(minutes=1.0)
    path = write_raw(tmp_path / "raw" / "analytic.parquet", raw)
    ds = tmp_path / "ds"
    first = process_file(path, dataset=ds)
    process_file(path, dataset=ds)
    steps = read_table(ds, "steps")
    assert steps.num_rows == first.steps.num_rows > 100
    con = duckdb.connect()
    n, sid, runner = con.execute(
        f"SELECT count(*), any_value(session_id), any_value(runner) FROM "
        f"read_parquet('{ds}/steps/**/*.parquet', hive_partitioning=true)").fetchone()
    assert (n, sid, runner) == (first.steps.num_rows, "analytic", "r1")
    sessions = pads.dataset(ds / "sessions", partitioning="hive").to_table()
    assert sessions.num_rows == 1
    assert sessions.column("source_sha256")[0].as_py() == first.summary["source_sha256"]
    assert not any((ds / ".staging").iterdir())
