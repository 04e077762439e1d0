from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from imuback.batch.query import connect, format_table, run_query, write_result
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
    assert pacsv.read_csv(write_result(t, tmp_path / "o.csv")).num_rows == 6
    assert pq.read_table(write_result(t, tmp_path / "o.parquet")).equals(t)
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

    def fails_halfway(table: object, where: object, **kw: object) -> None:
        Path(str(where)).write_bytes(b"PAR1 half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(pq, "write_table", fails_halfway)
    with pytest.raises(OSError, match="No space"):
        write_result(t.slice(0, 1), out)
    assert out.read_bytes() == before  # the old result, untouched
    assert [p.name for p in out.parent.iterdir()] == ["o.parquet"]  # no temporary file left
    monkeypatch.undo()
    write_result(t.slice(0, 1), out)
    assert pq.read_table(out).num_rows == 1
    assert [p.name for p in out.parent.iterdir()] == ["o.parquet"]
