"""DuckDB queries over the dataset: ids as parameters, staging ignored, clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imuback.errors import ReportDataError, SchemaError
from imuback.report import queries
from imuback.store.dataset import read_table

Fabricate = Callable[..., tuple[Path, list[str]]]


def test_runner_sessions_and_rows(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=2)
    df = queries.runner_sessions(dataset, "r1")
    assert list(df["session_id"]) == ids
    assert str(df["start_time"].dt.tz) == "UTC"
    row = queries.session_row(dataset, ids[2])
    assert row["runner_id"] == "r1" and row["n_run_steps"] > 3000
    assert isinstance(row["median_cadence_spm"], float)
    assert queries.runner_ids(dataset) == ["r1"]


def test_steps_strides_and_quartiles_match_pyarrow(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=1)
    steps = queries.session_steps(dataset, "r1", ids[0])
    ref = read_table(dataset, "steps").to_pandas()
    ref = ref[ref["session_id"] == ids[0]]
    assert len(steps) == len(ref)
    assert steps["contact_time_s"].tolist() == ref["contact_time_s"].tolist()
    strides = queries.session_strides(dataset, "r1", ids[0])
    assert len(strides) == len(steps) // 2
    q = queries.side_quartiles(dataset, "r1", ids[0], activity="run", columns=["impact_peak_g"])
    assert list(q.index) == ["L", "R"]
    left = ref.loc[ref["foot"] == "L", "impact_peak_g"]
    assert q.loc["L", "impact_peak_g_p50"] == pytest.approx(left.median())
    assert q.loc["L", "n_steps"] == len(left)


def test_weekly_medians(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=3)
    w = queries.weekly_medians(dataset, "r1", ids[:7], ["median_cadence_spm"])
    assert list(w["n_sessions"]) == [3, 3, 1]
    assert [f"{t:%Y-%m-%d %a}" for t in w["week"]] == ["2024-03-04 Mon", "2024-03-11 Mon",
                                                       "2024-03-18 Mon"]
    assert queries.weekly_medians(dataset, "r1", [], ["median_cadence_spm"]).empty


def test_unknown_session_and_runner_say_what_is_there(fabricate: Fabricate) -> None:
    dataset, _ = fabricate(weeks=1)
    with pytest.raises(ReportDataError, match=r"session 'nope' is not in dataset .*3 sessions"):
        queries.session_row(dataset, "nope")
    with pytest.raises(ReportDataError, match=r"runner 'x' has no sessions .*runners there: r1"):
        queries.runner_sessions(dataset, "x")
    # a quote in an id is a parameter, not SQL
    with pytest.raises(ReportDataError):
        queries.runner_sessions(dataset, "r1' OR '1'='1")


def test_staging_and_replaced_directories_are_not_read(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=1)
    src = next((dataset / "sessions").glob("runner=r1/session=*/part-0.parquet"))
    for junk in (dataset / ".staging" / "abc" / "sessions", dataset / "sessions" / "runner=r1" /
                 f".session={ids[0]}.old-123"):
        junk.mkdir(parents=True)
        (junk / "part-0.parquet").write_bytes(src.read_bytes())
    assert len(queries.runner_sessions(dataset, "r1")) == 3


def test_missing_column_names_table_and_column(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=1)
    f = next((dataset / "strides").glob(f"runner=r1/session={ids[0]}/part-0.parquet"))
    table = pq.read_table(f)
    table = table.drop_columns(["pelvis_obliquity_deg"]).replace_schema_metadata(table.schema.metadata)
    pq.write_table(table, f)
    with pytest.raises(SchemaError, match=r"strides: column\(s\) \['pelvis_obliquity_deg'\] missing"):
        queries.session_strides(dataset, "r1", ids[0])


def test_foreign_parquet_file_is_refused(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(weeks=1)
    f = next((dataset / "sessions").glob(f"runner=r1/session={ids[0]}/part-0.parquet"))
    pq.write_table(pa.table({"session_id": [ids[0]]}), f)
    with pytest.raises(SchemaError, match=r"no imuback\.schema_version"):
        queries.runner_sessions(dataset, "r1")


def test_a_session_id_shared_by_two_runners_is_refused_not_mixed(tmp_path):
    import dataclasses

    from imuback.pipeline import process_file
    from imuback.report.queries import session_row
    from imuback.store.raw import write_raw
    from tests.signal.analytic import half_sine_run

    raw, _ = half_sine_run(minutes=0.5)
    ds = tmp_path / "ds"
    for runner, gain in (("ann", 1.0), ("bob", 1.01)):
        path = write_raw(tmp_path / f"{runner}.parquet",
                         dataclasses.replace(raw, session_id="s1", runner_id=runner, acc_mps2=raw.acc_mps2 * gain))
        process_file(path, dataset=ds)
    with pytest.raises(ReportDataError, match=r"several runners.*ann, bob"):
        session_row(ds, "s1")
