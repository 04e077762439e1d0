from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from imuback.batch.query import QueryError, format_table, run_query, write_result
from imuback.batch.runner import run_batch
from imuback.cli import main
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
