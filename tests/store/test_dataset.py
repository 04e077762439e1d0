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


def test_two_runners_may_share_a_session_id_and_refiling_moves_a_session(tmp_path):
    import dataclasses

    from imuback.store.raw import read_raw

    raw, _ = half_sine_run(minutes=0.5)
    a = write_raw(tmp_path / "a.parquet", dataclasses.replace(raw, session_id="s01", runner_id="alice"))
    b = write_raw(tmp_path / "b.parquet", dataclasses.replace(raw, session_id="s01", runner_id="bob",
                                                            acc_mps2=raw.acc_mps2 * 1.01))
    ds = tmp_path / "ds"
    process_file(a, dataset=ds)
    process_file(b, dataset=ds)
    owners = sorted(read_table(ds, "sessions").column("runner_id").to_pylist())
    assert owners == ["alice", "bob"]  # different recordings: both kept
    # the same file re-filed under a corrected runner id replaces its old copy
    fixed = write_raw(tmp_path / "a.parquet", dataclasses.replace(read_raw(a), runner_id="alice2"))
    process_file(fixed, dataset=ds)
    owners = sorted(read_table(ds, "sessions").column("runner_id").to_pylist())
    assert owners == ["alice2", "bob"]
    assert set(read_table(ds, "steps").column("runner_id").to_pylist()) == {"alice2", "bob"}


def test_csv_sidecar_is_part_of_the_input_hash(tmp_path):
    from imuback.pipeline import file_sha256

    csv = tmp_path / "run.csv"
    csv.write_text("time,acc_x,acc_y,acc_z\n0,0,0,9.8\n0.01,0,0,9.8\n")
    before = file_sha256(csv)
    (tmp_path / "run.csv.json").write_text('{"imuback.sample_rate_hz": "100"}')
    with_sidecar = file_sha256(csv)
    (tmp_path / "run.csv.json").write_text('{"imuback.sample_rate_hz": "50"}')
    assert len({before, with_sidecar, file_sha256(csv)}) == 3
