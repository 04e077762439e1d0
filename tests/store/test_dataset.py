"""Processed dataset: written through the pipeline, read by pyarrow and DuckDB, replaced not duplicated."""

from __future__ import annotations

from dataclasses import replace as dataclasses_replace

import duckdb
import pyarrow.dataset as pads
import pytest

from imuback import PIPELINE_VERSION
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


def test_two_runners_may_share_a_session_id_and_a_refile_is_refused_unless_replace(tmp_path):
    import dataclasses

    from imuback.errors import RefiledError
    from imuback.store.notes import add_note, read_notes
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
    add_note(ds, runner_id="alice", session_id="s01", pain_0_10=6, text="left side")
    # the same file under a corrected runner id: refused, naming both runners and --replace; nothing moves
    fixed = write_raw(tmp_path / "a.parquet", dataclasses.replace(read_raw(a), runner_id="alice2"))
    with pytest.raises(RefiledError, match=r"under runner 'alice'.*not filed again under runner 'alice2'.*--replace"):
        process_file(fixed, dataset=ds)
    assert sorted(read_table(ds, "sessions").column("runner_id").to_pylist()) == ["alice", "bob"]
    assert set(read_table(ds, "steps").column("runner_id").to_pylist()) == {"alice", "bob"}
    # on purpose: the session moves, with its notes, and the result says so
    res = process_file(fixed, dataset=ds, replace=True)
    assert res.moved_from == (("alice", 1),)
    assert res.moved_text == "session s01 moved from runner 'alice' to 'alice2' with 1 note"
    assert sorted(read_table(ds, "sessions").column("runner_id").to_pylist()) == ["alice2", "bob"]
    assert set(read_table(ds, "steps").column("runner_id").to_pylist()) == {"alice2", "bob"}
    assert read_notes(ds, runner_id="alice").empty
    moved = read_notes(ds, runner_id="alice2", session_id="s01")
    assert moved[["runner_id", "pain_0_10", "text"]].values.tolist() == [["alice2", 6, "left side"]]
    assert not (ds / "notes" / "runner=alice").exists()
    # processed again, nothing is left to move
    assert process_file(fixed, dataset=ds).moved_from == ()


def test_a_move_interrupted_while_deleting_is_finished_by_processing_again(tmp_path, monkeypatch):
    """Review 26: a --replace move stopped inside the old copy's deletion left its steps behind under
    no session row (a rerun could not find them). The old ``sessions`` row now goes last, so the
    rerun finds the unfinished move and completes it."""
    import dataclasses
    import shutil
    from pathlib import Path

    from imuback.store import dataset as store_dataset
    from imuback.store.raw import read_raw

    raw, _ = half_sine_run(minutes=0.5)
    a = write_raw(tmp_path / "a.parquet", dataclasses.replace(raw, session_id="s01", runner_id="ann"))
    ds = tmp_path / "ds"
    process_file(a, dataset=ds)
    fixed = write_raw(tmp_path / "a.parquet", dataclasses.replace(read_raw(a), runner_id="bob"))
    calls = []
    rmtree = shutil.rmtree

    def stops_after_one(path, *args, **kwargs):  # the first of the old copy's folders, then a stop
        if "runner=ann" in str(path):
            calls.append(Path(path))
            if len(calls) > 1:
                raise KeyboardInterrupt
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(store_dataset.shutil, "rmtree", stops_after_one)
    with pytest.raises(KeyboardInterrupt):
        process_file(fixed, dataset=ds, replace=True)
    monkeypatch.undo()
    assert "sessions" not in calls[0].parts[-3]  # the old copy's derived rows went first
    assert sorted(read_table(ds, "sessions").column("runner_id").to_pylist()) == ["ann", "bob"]
    finished = process_file(fixed, dataset=ds, replace=True)
    assert finished.moved_from == (("ann", 0),)
    assert not finished.up_to_date  # bob's rows were written already, but the move changed the dataset
    for table in ("sessions", "steps", "strides"):
        assert set(read_table(ds, table).column("runner_id").to_pylist()) == {"bob"}, table
        assert not (ds / table / "runner=ann").exists(), table
    assert process_file(fixed, dataset=ds, replace=True).up_to_date  # nothing left to do


def test_csv_sidecar_is_part_of_the_input_hash(tmp_path):
    from imuback.formats import file_sha256

    csv = tmp_path / "run.csv"
    csv.write_text("time,acc_x,acc_y,acc_z\n0,0,0,9.8\n0.01,0,0,9.8\n")
    before = file_sha256(csv)
    (tmp_path / "run.csv.json").write_text('{"imuback.sample_rate_hz": "100"}')
    with_sidecar = file_sha256(csv)
    (tmp_path / "run.csv.json").write_text('{"imuback.sample_rate_hz": "50"}')
    assert len({before, with_sidecar, file_sha256(csv)}) == 3


@pytest.mark.parametrize("name", ["run.csv", "UP.CSV"])
def test_a_csv_and_its_sidecar_hash_as_before_schema_1_6_whatever_the_case(tmp_path, name):
    """A CSV's hash is its bytes then its sidecar's, as stored before 1.6: an unchanged ``UP.CSV`` with
    ``UP.CSV.json`` is the same recording, not "made from other bytes".
    """
    import hashlib

    from imuback.formats import file_sha256

    csv = tmp_path / name
    csv.write_text("time,acc_x,acc_y,acc_z\n0,0,0,9.8\n0.01,0,0,9.8\n")
    sidecar = tmp_path / f"{name}.json"
    sidecar.write_text('{"imuback.sample_rate_hz": "100"}')
    assert file_sha256(csv) == hashlib.sha256(csv.read_bytes() + sidecar.read_bytes()).hexdigest()


def test_readers_never_see_a_sessions_row_without_its_steps(tmp_path):
    """One writer process replaces a session over and over while this process reads: a sessions
    row must always find its steps file (docs/data_contract.md's promise).
    """
    import subprocess
    import sys
    import time

    from imuback.store.dataset import part_path, table_files

    raw, _ = half_sine_run(minutes=0.5)
    path = write_raw(tmp_path / "analytic.parquet", raw)
    ds = tmp_path / "ds"
    process_file(path, dataset=ds)
    code = ("import sys, time; from imuback.pipeline import process_raw; from imuback.store.raw import read_raw; "
            "from imuback.store.dataset import write_session; t = process_raw(read_raw(sys.argv[1])).tables(); "
            "end = time.monotonic() + 4\n"
            "while time.monotonic() < end: write_session(sys.argv[2], runner_id='r1', session_id='analytic', "
            "tables=t)")
    writer = subprocess.Popen([sys.executable, "-c", code, str(path), str(ds)])
    sessions_part = part_path(ds, "sessions", "r1", "analytic")
    steps_part = part_path(ds, "steps", "r1", "analytic")
    reads = missing = 0
    try:
        time.sleep(1.0)  # the writer's imports
        while writer.poll() is None:
            if sessions_part.exists():
                reads += 1
                missing += not steps_part.exists()
    finally:
        writer.wait()
    assert writer.returncode == 0
    assert reads > 1000
    assert table_files(ds, "sessions") == [sessions_part]
    assert missing == 0, f"{missing} of {reads} reads saw a sessions row without its steps"


def test_process_does_not_write_into_a_dataset_another_writer_holds(tmp_path, capsys):
    from imuback.cli import main
    from imuback.store.lock import DatasetLock

    raw, _ = half_sine_run(minutes=0.5)
    path = write_raw(tmp_path / "analytic.parquet", raw)
    ds = tmp_path / "ds"
    with DatasetLock(ds, command="imuback batch"):  # a running batch (this process, alive)
        assert main(["process", str(path), "--dataset", str(ds)]) == 1
    err = capsys.readouterr().err
    assert "imuback batch" in err and "is writing this dataset" in err and str(ds) in err
    assert read_table(ds, "sessions").num_rows == 0
    assert main(["process", str(path), "--dataset", str(ds)]) == 0  # lock released: it writes


def test_another_recording_under_the_same_ids_is_refused_unless_replace(tmp_path, capsys):
    import dataclasses

    from imuback.cli import main

    raw, _ = half_sine_run(minutes=1.0)
    long = write_raw(tmp_path / "long.parquet", raw)
    excerpt = write_raw(tmp_path / "excerpt.parquet", dataclasses.replace(
        raw, time_ns=raw.time_ns[:1000], acc_mps2=raw.acc_mps2[:1000], gyr_dps=raw.gyr_dps[:1000]))
    ds = tmp_path / "ds"
    assert main(["process", str(long), "--dataset", str(ds)]) == 0
    n_steps = read_table(ds, "steps").num_rows
    assert main(["process", str(long), "--dataset", str(ds)]) == 0  # the same bytes: fine
    capsys.readouterr()
    assert main(["process", str(excerpt), "--dataset", str(ds)]) == 1
    err = capsys.readouterr().err
    assert "excerpt.parquet" in err and str(long.resolve()) in err and "--replace" in err
    assert read_table(ds, "steps").num_rows == n_steps  # nothing replaced
    assert main(["process", str(excerpt), "--dataset", str(ds), "--replace"]) == 0
    assert read_table(ds, "steps").num_rows < n_steps


def test_two_single_session_writers_take_turns(tmp_path):
    import threading

    from imuback.store.lock import PROCESS_COMMAND, DatasetLock

    raw, _ = half_sine_run(minutes=0.5)
    path = write_raw(tmp_path / "analytic.parquet", raw)
    ds = tmp_path / "ds"
    lock = DatasetLock(ds, command=PROCESS_COMMAND)
    lock.__enter__()
    threading.Timer(0.5, lock.__exit__, args=(None, None, None)).start()  # the other write ends
    assert process_file(path, dataset=ds).session_id == "analytic"  # waited for it, then wrote
    assert read_table(ds, "sessions").num_rows == 1


def test_an_edited_file_or_an_in_memory_session_never_removes_another_runners_session(tmp_path):
    import dataclasses

    import imuback

    raw, _ = half_sine_run(minutes=0.5)
    ds = tmp_path / "ds"
    # in memory: both sources are "<memory>", the recordings differ
    imuback.process(dataclasses.replace(raw, session_id="s1", runner_id="runner-a"), dataset=ds)
    imuback.process(dataclasses.replace(raw, session_id="s1", runner_id="runner-b",
                                        acc_mps2=raw.acc_mps2[::-1].copy()), dataset=ds)
    assert sorted(read_table(ds, "sessions").column("runner_id").to_pylist()) == ["runner-a", "runner-b"]
    # one path, edited samples and another runner: a different recording, both kept
    path = tmp_path / "x.parquet"
    process_file(write_raw(path, dataclasses.replace(raw, session_id="s2", runner_id="runner-a")), dataset=ds)
    short = dataclasses.replace(raw, session_id="s2", runner_id="runner-b", time_ns=raw.time_ns[: raw.n_samples // 2],
                                acc_mps2=raw.acc_mps2[: raw.n_samples // 2],
                                gyr_dps=raw.gyr_dps[: raw.n_samples // 2])
    process_file(write_raw(path, short), dataset=ds)
    s2 = read_table(ds, "sessions").to_pandas().query("session_id == 's2'")
    assert sorted(s2["runner_id"]) == ["runner-a", "runner-b"]


def test_taking_over_a_dead_holders_lock_never_removes_a_fresh_one(tmp_path):
    import json

    from imuback.store.lock import LOCK_FILE, DatasetLock

    lock = DatasetLock(tmp_path)
    dead = {"host": "h", "pid": 999999, "started": "then", "command": "imuback batch"}
    fresh = {"host": "h", "pid": 4242, "started": "now", "command": "imuback process"}
    # another writer took the dead holder's lock over between our look and our removal
    (tmp_path / LOCK_FILE).write_text(json.dumps(fresh))
    lock._take_over(dead)
    assert json.loads((tmp_path / LOCK_FILE).read_text()) == fresh
    # the dead holder's own lock is removed
    (tmp_path / LOCK_FILE).write_text(json.dumps(dead))
    lock._take_over(dead)
    assert not (tmp_path / LOCK_FILE).exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_processing_the_same_bytes_again_changes_nothing(tmp_path):
    from pathlib import Path

    from imuback.store.dataset import table_files

    raw, _ = half_sine_run(minutes=0.5)
    path = write_raw(tmp_path / "a.parquet", raw)
    ds = tmp_path / "ds"
    process_file(path, dataset=ds)
    files = {f: Path(f).stat().st_mtime_ns for t in ("steps", "strides", "sessions") for f in table_files(ds, t)}
    before = read_table(ds, "sessions").column("processed_at").to_pylist()
    process_file(path, dataset=ds)
    assert {f: Path(f).stat().st_mtime_ns for f in files} == files  # not rewritten
    assert read_table(ds, "sessions").column("processed_at").to_pylist() == before


def test_a_session_lock_keeps_a_second_writer_of_the_same_ids_out(tmp_path):
    import pytest

    from imuback.errors import DatasetError
    from imuback.store.lock import SessionLock, repair_dataset

    with SessionLock(tmp_path, runner_id="p", session_id="s1"):
        with pytest.raises(DatasetError, match="session 's1' of runner 'p'"):
            with SessionLock(tmp_path, runner_id="p", session_id="s1", wait_s=0.0):
                pass
        with SessionLock(tmp_path, runner_id="p", session_id="s2", wait_s=0.0):
            pass  # another session: not held up
    with SessionLock(tmp_path, runner_id="p", session_id="s1", wait_s=0.0):
        pass  # released
    left = SessionLock(tmp_path, runner_id="p", session_id="s3").__enter__()  # a killed worker's leftover
    assert left.path.exists()
    repair_dataset(tmp_path)
    assert not left.path.exists()


def test_a_recording_lock_keeps_a_copy_of_the_same_bytes_out(tmp_path):
    """Two copies of one file in a batch (review 32 #1) wait for each other, whatever their session ids."""
    import pytest

    from imuback.errors import DatasetError
    from imuback.store.lock import RecordingLock, SessionLock

    with RecordingLock(tmp_path, source_sha256="ab" * 32):
        with pytest.raises(DatasetError, match="the recording with SHA-256 abababababab"):
            with RecordingLock(tmp_path, source_sha256="ab" * 32, wait_s=0.0):
                pass
        with RecordingLock(tmp_path, source_sha256="cd" * 32, wait_s=0.0), \
                SessionLock(tmp_path, runner_id="", session_id="ab" * 32, wait_s=0.0):
            pass  # other bytes, and a session lock, are not held up
    with RecordingLock(tmp_path, source_sha256="ab" * 32, wait_s=0.0):
        pass  # released


def _clipped_dataset(tmp_path, range_g):
    from imuback.store.raw import write_raw
    from tests.clipped import asymmetric_run, clipped

    raw = asymmetric_run() if range_g is None else clipped(asymmetric_run(), range_g)
    path = write_raw(tmp_path / "raw" / f"clip-{range_g}.parquet", raw)
    ds = tmp_path / "ds"
    return ds, process_file(path, dataset=ds)


def test_the_clipped_flag_round_trips_through_the_dataset(tmp_path):
    import pyarrow.parquet as pq

    from imuback.report import queries
    from imuback.store.dataset import part_path
    from imuback.store.schema import SCHEMA_VERSION

    ds, result = _clipped_dataset(tmp_path, 3.0)
    part = part_path(ds, "steps", "r1", "clip")
    assert pq.read_schema(part).metadata[b"imuback.schema_version"].decode() == SCHEMA_VERSION == "1.9"
    steps = read_table(ds, "steps").to_pandas()
    assert steps["clipped"].equals(result.steps.to_pandas()["clipped"])
    run = steps["activity"] == "run"
    assert (~run).any() and steps.loc[~run, "clipped"].isna().all()  # walking: not looked at (null)
    assert steps.loc[run, "clipped"].notna().all()
    clip = steps["clipped"].astype("boolean").fillna(False).astype(bool)
    assert 0.05 < clip[run].mean() < 0.5  # partial
    # a null impact now says why: clipped (unknown), and no unclipped contact lost its impact
    assert steps.loc[clip, ["impact_peak_g", "loading_rate_g_per_s"]].isna().all().all()
    assert steps.loc[run & ~clip, "impact_peak_g"].notna().all()
    assert steps.loc[clip, "grf_peak_bw"].notna().all()  # from the timing
    via_duckdb = queries.session_steps(ds, "r1", "clip")
    assert via_duckdb["clipped"].tolist() == steps["clipped"].tolist()


def _as_written_at_1_3(ds, runner_id, session_id):
    """Rewrite a stored session as imuback 1.3 wrote it: the same columns without `clipped` (1.4) and
    the mounting columns (1.5), tagged 1.3."""
    import pyarrow.parquet as pq

    from imuback.store.dataset import part_path

    for table in ("steps", "strides", "sessions"):
        part = part_path(ds, table, runner_id, session_id)
        t = pq.read_table(part)
        t = t.drop_columns([c for c in ("clipped", "mounting_source", "mounting_nominal") if c in t.column_names])
        pq.write_table(t.replace_schema_metadata({**t.schema.metadata, b"imuback.schema_version": b"1.3"}),
                       part, compression="zstd")


def test_a_session_stored_at_schema_1_3_is_rewritten_at_the_current_schema_when_processed_again(tmp_path):
    import pyarrow.parquet as pq

    from imuback.batch.work import SessionTask, already_processed, process_session
    from imuback.store.dataset import part_path, stored_source
    from imuback.store.schema import SCHEMA_VERSION

    ds, _ = _clipped_dataset(tmp_path, 3.0)
    raw_path = tmp_path / "raw" / "clip-3.0.parquet"
    _as_written_at_1_3(ds, "r1", "clip")
    stored = stored_source(ds, runner_id="r1", session_id="clip")
    assert stored is not None and stored["schema_version"] == "1.3"
    # same bytes, pipeline version and parameters: only the schema differs, and that is enough
    task = SessionTask(path=str(raw_path), dataset=str(ds), pipeline_version=PIPELINE_VERSION)
    assert already_processed(task, session_id="clip", runner_id="r1") is None
    process_file(raw_path, dataset=ds)
    part = part_path(ds, "steps", "r1", "clip")
    assert pq.read_schema(part).metadata[b"imuback.schema_version"].decode() == SCHEMA_VERSION == "1.9"
    steps = read_table(ds, "steps").to_pandas()
    run = steps["activity"] == "run"
    assert steps.loc[run, "clipped"].notna().all() and steps.loc[run, "clipped"].astype(bool).any()
    assert already_processed(task, session_id="clip", runner_id="r1") is not None  # now at the current schema: skipped
    # the batch path too: a 1.3 session is processed, not skipped
    _as_written_at_1_3(ds, "r1", "clip")
    assert process_session(task).status == "processed"
    assert stored_source(ds, runner_id="r1", session_id="clip")["schema_version"] == SCHEMA_VERSION


def test_a_worker_of_another_schema_refuses_the_task(tmp_path):
    from imuback.batch.work import SessionTask, process_session

    raw, _ = half_sine_run(minutes=0.5)
    path = write_raw(tmp_path / "a.parquet", raw)
    task = SessionTask(path=str(path), dataset=str(tmp_path / "ds"), pipeline_version=PIPELINE_VERSION,
                       schema_version="1.3")
    out = process_session(task)
    assert out.status == "failed" and out.error_type == "VersionMismatchError" and "schema 1.3" in out.message
    assert not (tmp_path / "ds" / "steps").exists()


def test_a_dataset_written_at_schema_1_3_still_reads_and_is_left_alone(tmp_path):
    import hashlib

    from imuback.batch.query import connect
    from imuback.report import queries
    from imuback.report.session import build_session_report
    from imuback.store.dataset import table_files

    ds, old = _clipped_dataset(tmp_path, None)
    _as_written_at_1_3(ds, "r1", "clip")
    # and a session processed now (the current schema) beside it
    from imuback.store.raw import write_raw
    from tests.clipped import asymmetric_run, clipped

    raw = clipped(asymmetric_run(), 3.0)
    new_raw = write_raw(tmp_path / "raw" / "new.parquet", dataclasses_replace(raw, session_id="new"))
    process_file(new_raw, dataset=ds)

    def digest():
        return {str(f): hashlib.sha256(f.read_bytes()).hexdigest()
                for t in ("steps", "strides", "sessions") for f in table_files(ds, t)}

    before = digest()
    steps = read_table(ds, "steps").to_pandas()
    old_rows = steps[steps["session_id"] == "clip"].reset_index(drop=True)
    assert old_rows["clipped"].isna().all()  # not known: made before the flag
    ref = old.steps.to_pandas().drop(columns=["clipped"])
    assert old_rows.drop(columns=["clipped"]).equals(ref)  # nothing else lost or changed
    assert (steps.loc[steps["session_id"] == "new", "clipped"] == True).any()  # noqa: E712
    assert queries.session_steps(ds, "r1", "clip")["clipped"].isna().all()
    con = connect(ds)
    n_known, n_clip = con.execute("SELECT count(clipped), count_if(clipped) FROM steps").fetchone()
    assert n_known == int(((steps["session_id"] == "new") & (steps["activity"] == "run")).sum()) and n_clip > 0
    html = build_session_report(ds, "clip", runner_id="r1")
    # no guessing: the report says clipping is not known and how to have it shown
    assert "Sensor clipping" in html and "processed before schema 1.4" in html
    assert "Re-process the session for clipping to be shown" in html
    assert "processed before schema 1.4" not in build_session_report(ds, "new", runner_id="r1")
    assert "Sensor clipping" in build_session_report(ds, "new", runner_id="r1")
    assert digest() == before  # reading and reporting never rewrite a file


def test_the_documented_duckdb_sql_reads_a_dataset_of_two_schema_versions(tmp_path):
    """README and docs/data_contract.md give SQL over the dataset's files: it must read a dataset
    holding files of an older schema beside new ones (a column a file predates is null)."""
    import re
    from pathlib import Path

    from tests.clipped import asymmetric_run, clipped

    ds, _ = _clipped_dataset(tmp_path, 3.0)
    _as_written_at_1_3(ds, "r1", "clip")
    new_raw = write_raw(tmp_path / "raw" / "new.parquet",
                        dataclasses_replace(clipped(asymmetric_run(), 3.0), session_id="new"))
    process_file(new_raw, dataset=ds)
    root = Path(__file__).resolve().parents[2]
    contract = re.search(r"SELECT \* FROM read_parquet\('<dataset>/steps/[^;]*\)",
                         (root / "docs" / "data_contract.md").read_text()).group(0)
    steps = duckdb.sql(contract.replace("<dataset>", str(ds))).to_df()
    assert steps.loc[steps["session_id"] == "clip", "clipped"].isna().all()
    assert steps.loc[steps["session_id"] == "new", "clipped"].fillna(False).astype(bool).any()
    readme = re.search(r"```sql\n(SELECT foot.*?;)\n```", (root / "README.md").read_text(), re.S).group(1)
    by_foot = duckdb.sql(readme.replace("imuback-demo/dataset", str(ds))
                         .replace("median(grf_peak_bw)", "count(clipped) AS n_known")).fetchall()
    assert {foot for foot, *_ in by_foot} == {"L", "R"}


def test_a_sessions_file_renamed_over_one_of_the_same_size_and_time_is_read_again(tmp_path):
    """Review 33b: the footer cache was kept by (mtime, size); a file put in place by a rename (every
    write is one) with the same two kept its predecessor's hash."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    from imuback.store.dataset import _SHA_CACHE, part_path, sessions_from_bytes

    part = part_path(tmp_path, "sessions", "r1", "s1")
    part.parent.mkdir(parents=True)
    new = part.with_name(".new.parquet")
    for path, sha in ((part, "a" * 64), (new, "b" * 64)):
        pq.write_table(pa.table({"source_sha256": [sha]}), path)
    assert part.stat().st_size == new.stat().st_size
    sessions_from_bytes(tmp_path, source_sha256="a" * 64)
    st = part.stat()
    os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(new, part)
    sessions_from_bytes(tmp_path, source_sha256="b" * 64)
    assert _SHA_CACHE[str(part.resolve())][-1] == "b" * 64
