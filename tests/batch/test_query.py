import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from imuback.batch.query import (
    connect,
    format_table,
    head,
    run_query,
    stream_query,
    write_result,
)
from imuback.batch.runner import run_batch
from imuback.cli import main
from imuback.errors import QueryError
from imuback.store.dataset import read_table
from tests.batch.data import Study


@pytest.fixture
def dataset(study: Study, tmp_path: Path) -> Path:
    ds = tmp_path / "ds"
    run_batch([study.root], dataset=ds, workers=2, progress="none")
    return ds


def test_tables_are_views_over_the_dataset(dataset: Path) -> None:
    t = run_query(dataset, "SELECT runner_id, count(*) AS n FROM sessions GROUP BY ALL ORDER BY 1")
    assert t.to_pydict() == {"runner_id": ["runner0", "runner1"], "n": [3, 3]}
    n_steps = run_query(dataset, "SELECT count(*) AS n FROM steps")["n"][0].as_py()
    assert n_steps == read_table(dataset, "steps").num_rows > 0
    joined = run_query(dataset, """
        SELECT s.session_id, count(*) AS steps, any_value(x.source_sha256) AS sha
        FROM steps s JOIN sessions x USING (runner_id, session_id) GROUP BY ALL""")
    assert joined.num_rows == 6 and all(len(h) == 64 for h in joined["sha"].to_pylist())
    errors = run_query(dataset, "SELECT error_type, count(*) AS n FROM errors GROUP BY ALL ORDER BY 1")
    assert errors.to_pydict() == {"error_type": ["RawFormatError", "UnitsError"], "n": [2, 1]}
    # The documented columns only (no hive partition columns added).
    cols = run_query(dataset, "SELECT * FROM steps LIMIT 0").column_names
    assert cols == read_table(dataset, "steps").column_names


def test_empty_dataset_has_typed_empty_tables(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    t = run_query(tmp_path / "ds", "SELECT count(*) AS n, max(cadence_spm) AS c FROM steps")
    assert t.to_pydict() == {"n": [0], "c": [None]}
    assert run_query(tmp_path / "ds", "SELECT * FROM errors").num_rows == 0


def test_bad_sql_and_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="no such dataset"):
        run_query(tmp_path / "nope", "SELECT 1")
    (tmp_path / "ds").mkdir()
    with pytest.raises(QueryError, match="query failed"):
        run_query(tmp_path / "ds", "SELECT nope FROM steps")


def test_outputs(dataset: Path, tmp_path: Path) -> None:
    t = run_query(dataset, "SELECT session_id, median_cadence_spm FROM sessions ORDER BY 1")
    assert write_result(t, tmp_path / "o.csv") == 6
    assert pacsv.read_csv(tmp_path / "o.csv").num_rows == 6
    assert write_result(t, tmp_path / "o.parquet") == 6
    assert pq.read_table(tmp_path / "o.parquet").equals(t)
    with pytest.raises(QueryError, match=r"csv or \.parquet"):
        write_result(t, tmp_path / "o.xlsx")
    text = format_table(t, max_rows=2)
    lines = text.splitlines()
    assert lines[0].split() == ["session_id", "median_cadence_spm"]
    assert len(lines) == 5 and lines[-1] == "(6 rows, 4 not shown; use --out FILE.csv for all)"


def test_cli(dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--dataset", str(dataset), "SELECT count(*) AS n FROM sessions"]) == 0
    assert capsys.readouterr().out.split() == ["n", "-", "6", "(1", "row)"]
    out = tmp_path / "steps.parquet"
    assert main(["query", "--dataset", str(dataset), "SELECT * FROM steps", "--out", str(out)]) == 0
    assert pq.read_table(out).num_rows == read_table(dataset, "steps").num_rows
    assert main(["query", "--dataset", str(dataset), "SELEC 1"]) == 2
    assert "query failed" in capsys.readouterr().err


def test_sql_cannot_touch_files_outside_the_dataset(dataset: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    target = tmp_path / "written.csv"
    with pytest.raises(QueryError, match="only reads: COPY"):
        run_query(dataset, f"COPY (SELECT 1) TO '{target}'")
    with pytest.raises(QueryError, match=r"query failed.*Permission"):
        run_query(dataset, f"SELECT * FROM read_csv('{secret}')")
    with pytest.raises(QueryError, match=r"query failed.*Permission"):
        run_query(dataset, f"SELECT * FROM read_csv('{dataset}/../secret.csv')")
    # Hidden extra statements: none of them runs.
    with pytest.raises(QueryError, match="exactly one SQL statement, got 2"):
        run_query(dataset, f"SELECT 1; COPY (SELECT 1) TO '{target}'")
    with pytest.raises(QueryError, match="exactly one SQL statement, got 0"):
        run_query(dataset, "  ")
    # Not even into the dataset itself, and the limits cannot be lifted.
    inside = dataset / "x.csv"
    for sql in (f"COPY sessions TO '{inside}'", f"EXPORT DATABASE '{dataset / 'db'}'",
                "SET enable_external_access = true", f"ATTACH '{tmp_path / 'a.db'}'",
                "INSTALL httpfs"):
        with pytest.raises(QueryError, match="only reads"):
            run_query(dataset, sql)
    assert not target.exists() and not inside.exists() and not (dataset / "db").exists()
    assert not (tmp_path / "a.db").exists()
    # A connection from connect() is locked down too, and its views still work.
    con = connect(dataset)
    try:
        assert con.sql("SELECT count(*) FROM sessions").fetchall() == [(6,)]
        assert con.sql("SELECT count(*) FROM errors").fetchall() == [(3,)]
        with pytest.raises(duckdb.Error, match="Permission"):
            con.sql(f"SELECT * FROM read_csv('{secret}')")
        with pytest.raises(duckdb.Error, match="Permission"):
            con.execute(f"COPY (SELECT 1) TO '{target}'")
        with pytest.raises(duckdb.Error, match="configuration"):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error, match="configuration"):
            con.execute("RESET allowed_directories")
    finally:
        con.close()
    assert not target.exists()


def test_empty_views_work_in_a_locked_connection(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    con = connect(tmp_path / "ds")
    try:
        assert con.sql("SELECT count(*) FROM steps").fetchall() == [(0,)]
        with pytest.raises(duckdb.Error, match="configuration"):
            con.execute("SET lock_configuration = false")
    finally:
        con.close()


def test_out_file_is_replaced_whole_or_not_at_all(dataset: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    t = run_query(dataset, "SELECT session_id FROM sessions ORDER BY 1")
    out = tmp_path / "res" / "o.parquet"
    write_result(t, out)
    before = out.read_bytes()

    real_writer = pq.ParquetWriter

    class FailsHalfway(real_writer):  # type: ignore[misc,valid-type]
        def write_batch(self, batch: object, *a: object, **kw: object) -> None:
            super().write_batch(batch)
            raise OSError("No space left on device")

    monkeypatch.setattr(pq, "ParquetWriter", FailsHalfway)
    with pytest.raises(OSError, match="No space"):
        write_result(t.slice(0, 1), out)
    assert out.read_bytes() == before  # the old result, untouched
    assert [p.name for p in out.parent.iterdir()] == ["o.parquet"]  # no temporary file left
    monkeypatch.undo()
    write_result(t.slice(0, 1), out)
    assert pq.read_table(out).num_rows == 1
    assert [p.name for p in out.parent.iterdir()] == ["o.parquet"]


def test_long_values_are_printed_whole(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The errors table's messages are what batch tells users to read: never cut by default.
    messages = run_query(dataset, "SELECT message FROM errors ORDER BY 1")["message"].to_pylist()
    assert max(len(m) for m in messages) > 60
    assert main(["query", "--dataset", str(dataset), "SELECT message FROM errors ORDER BY 1"]) == 0
    out = capsys.readouterr().out
    assert all(m.replace("\n", " ") in out for m in messages)
    assert "…" not in out
    # --max-width cuts on request; CSV output keeps every value whole.
    assert main(["query", "--dataset", str(dataset), "--max-width", "20",
                 "SELECT message FROM errors ORDER BY 1"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:-1]
    assert len(rows) == 3 and all(len(r) <= 20 and r.endswith("…") for r in rows)
    csv_out = dataset.parent / "errors.csv"
    assert main(["query", "--dataset", str(dataset), "SELECT message FROM errors ORDER BY 1",
                 "--out", str(csv_out)]) == 0
    assert pacsv.read_csv(csv_out)["message"].to_pylist() == messages


def test_duckdb_temp_folder_in_the_cwd_is_not_readable(dataset: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # DuckDB's default spill folder is <cwd>/.tmp, and it is always allowed: not ours.
    work = tmp_path / "work"
    (work / ".tmp").mkdir(parents=True)
    (work / ".tmp" / "secret.txt").write_text("not the dataset's business")
    monkeypatch.chdir(work)
    for path in (".tmp/secret.txt", str(work / ".tmp" / "secret.txt")):
        with pytest.raises(QueryError, match="Permission"):
            run_query(dataset, f"SELECT content FROM read_text('{path}')")
    spill = run_query(dataset, "SELECT current_setting('temp_directory') AS d")["d"][0].as_py()
    assert not Path(spill).resolve().is_relative_to(work.resolve())
    # Queries that may spill (a large sort) still run with the private spill folder set.
    t = run_query(dataset, "SELECT count(*) AS n FROM (SELECT range AS i FROM range(3000000) ORDER BY i DESC)")
    assert t["n"][0].as_py() == 3_000_000


def test_max_rows_streams_a_huge_result(tmp_path: Path) -> None:
    # 10^8 rows: materialised first (as before), the peak was 2.5 GB; streamed, a few batches.
    (tmp_path / "ds").mkdir()
    code = (
        "import resource, sys\n"
        "from imuback.cli import main\n"
        f"rc = main(['query', '--dataset', {str(tmp_path / 'ds')!r}, '--max-rows', '3',\n"
        "            \"SELECT range AS i, 'row ' || range AS s FROM range(100000000)\"])\n"
        "print('peak_rss_mb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)\n"
        "sys.exit(rc)\n")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["i", "s", "-", "-----", "0", "row", "0", "1", "row", "1", "2", "row", "2",
                                   "(first", "3", "rows;", "more", "not", "shown;", "use", "--out", "FILE.csv",
                                   "for", "all)"]
    peak_mb = int(proc.stderr.split("peak_rss_mb")[-1])
    assert peak_mb < 800, proc.stderr  # streamed: ~150-500 MB (the interpreter, DuckDB, a few batches)


def test_stream_head_and_streamed_out(dataset: Path, tmp_path: Path) -> None:
    with stream_query(dataset, "SELECT range AS i FROM range(200000)", batch_rows=1000) as reader:
        first, more = head(reader, 5)
    assert first["i"].to_pylist() == [0, 1, 2, 3, 4] and more
    with stream_query(dataset, "SELECT range AS i FROM range(5)") as reader:
        first, more = head(reader, 5)
    assert first.num_rows == 5 and not more
    with stream_query(dataset, "SELECT range AS i, range * 0.5::DOUBLE AS x FROM range(200000)",
                      batch_rows=1000) as reader:
        assert write_result(reader, tmp_path / "big.parquet") == 200_000
    t = pq.read_table(tmp_path / "big.parquet")
    assert t.num_rows == 200_000 and t["i"].to_pylist()[-1] == 199_999
    assert t.schema.field("x").type == pa.float64()
    # An error raised while streaming (not at planning time) is a QueryError too.
    with pytest.raises(QueryError, match="query failed"), \
            stream_query(dataset, "SELECT CAST(CASE WHEN range < 150000 THEN '1' ELSE 'x' END AS INT) AS v "
                         "FROM range(200000)", batch_rows=1000) as reader:
        reader.read_all()


def _as_written_before(dataset: Path, table: str, *columns: str) -> None:
    """Rewrite every file of ``table`` without ``columns``, as an older imuback wrote it."""
    for part in (dataset / table).rglob("*.parquet"):
        old = pq.read_table(part)
        pq.write_table(old.drop_columns(list(columns)).replace_schema_metadata(old.schema.metadata), part)


def test_a_column_every_file_predates_is_a_typed_null(dataset: Path) -> None:
    """A dataset whose sessions (and steps) files were all written before a column still answers
    the documented queries naming it: null, of the schema's type; the files are not rewritten."""
    _as_written_before(dataset, "sessions", "utc_offset_source")
    _as_written_before(dataset, "steps", "clipped")
    before = {p: p.read_bytes() for t in ("sessions", "steps") for p in (dataset / t).rglob("*.parquet")}
    t = run_query(dataset, "SELECT count(*) AS n, count(utc_offset_source) AS given, "
                           "typeof(any_value(utc_offset_source)) AS kind FROM sessions")
    assert t.to_pydict() == {"n": [6], "given": [0], "kind": ["VARCHAR"]}
    t = run_query(dataset, "SELECT session_id, utc_offset_source FROM sessions ORDER BY 1")
    assert t.schema.field("utc_offset_source").type == pa.string()
    assert t["utc_offset_source"].null_count == 6
    assert t["session_id"].to_pylist() == sorted(read_table(dataset, "sessions")["session_id"].to_pylist())
    # Two tables, each predating a column, qualified and in another case: both filled, typed.
    n_steps = read_table(dataset, "steps").num_rows
    t = run_query(dataset, "SELECT x.UTC_OFFSET_SOURCE AS src, s.clipped, count(*) AS n FROM steps s "
                           "JOIN sessions x USING (runner_id, session_id) GROUP BY ALL")
    assert t.to_pydict() == {"src": [None], "clipped": [None], "n": [n_steps]}
    assert t.schema.field("clipped").type == pa.bool_()
    # Named through an alias inside a subquery: DuckDB's error names the alias, not the column.
    t = run_query(dataset, "SELECT count(*) AS n FROM sessions WHERE session_id IN "
                           "(SELECT session_id FROM steps t WHERE t.clipped)")
    assert t.to_pydict() == {"n": [0]}
    # Python's Dataset.query is the same query.
    import imuback

    df = imuback.open_dataset(dataset).query("SELECT utc_offset_source FROM sessions")
    assert len(df) == 6 and df["utc_offset_source"].isna().all()
    assert {p: p.read_bytes() for p in before} == before  # read, never rewritten
    # Once a query names it, the view has every schema column in the schema's order.
    cols = run_query(dataset, "SELECT * EXCLUDE (utc_offset_source) FROM sessions LIMIT 0").column_names
    assert cols == [c for c in read_table(dataset, "sessions").column_names if c != "utc_offset_source"]


def test_a_column_in_no_schema_is_the_clear_error(dataset: Path) -> None:
    _as_written_before(dataset, "sessions", "utc_offset_source")
    with pytest.raises(QueryError, match=r'(?s)query failed: Binder Error.*"utc_offset_sourc".*'
                                         r'column "utc_offset_sourc" is in no table of schema \d+\.\d+'):
        run_query(dataset, "SELECT s.utc_offset_sourc FROM sessions s")
    with pytest.raises(QueryError, match=r'column "nope" is in no table of schema'):
        run_query(dataset, "SELECT nope FROM steps")
    # A schema column asked of a table that does not have it: still an error, saying whose it is.
    with pytest.raises(QueryError, match=r'column "utc_offset_source" is a column of sessions at schema'):
        run_query(dataset, "SELECT utc_offset_source FROM steps")
    with pytest.raises(QueryError, match=r'column "utc_offset_source" is a column of sessions'):
        run_query(dataset, "WITH t AS (SELECT session_id FROM sessions) SELECT utc_offset_source FROM t")
    with pytest.raises(QueryError, match="Parser Error"):
        run_query(dataset, "SELEC utc_offset_source FROM sessions")
    # A column named for another reason than being missing: no hint about where it lives.
    with pytest.raises(QueryError, match="GROUP BY") as err:
        run_query(dataset, "SELECT session_id, count(*) FROM sessions")
    assert "is a column of" not in str(err.value)


def test_files_that_have_the_column_are_read_as_they_are(dataset: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import imuback.batch.query as query

    def never(*_a: object) -> bool:
        raise AssertionError("a view was re-made although its files have the column")

    monkeypatch.setattr(query, "_fill_predated", never)
    t = run_query(dataset, "SELECT session_id, mounting_source FROM sessions ORDER BY 1")
    stored = read_table(dataset, "sessions").sort_by("session_id")
    assert t["mounting_source"].to_pylist() == stored["mounting_source"].to_pylist() == ["file"] * 6
    assert run_query(dataset, "SELECT * FROM sessions LIMIT 0").column_names == stored.column_names
    # Some files with the column, some without (a partly re-processed dataset): DuckDB's
    # union_by_name keeps the values there are and nulls the rest; nothing is re-made.
    _as_written_before(dataset, "sessions/runner=runner0", "mounting_source")
    t = run_query(dataset, "SELECT runner_id, count(mounting_source) AS given FROM sessions GROUP BY 1 ORDER BY 1")
    assert t.to_pydict() == {"runner_id": ["runner0", "runner1"], "given": [0, 3]}
