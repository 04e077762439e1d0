from pathlib import Path

import pytest

from imuback.batch.inputs import discover_inputs
from imuback.errors import BatchInputError


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"time,acc_x,acc_y,acc_z\n" if path.suffix.lower() == ".csv" else b"x")
    return path


def test_files_folders_and_globs(tmp_path: Path) -> None:
    a = _touch(tmp_path / "raw" / "a.parquet")
    b = _touch(tmp_path / "raw" / "deep" / "b.CSV")
    _touch(tmp_path / "raw" / "notes.txt")
    _touch(tmp_path / "raw" / ".hidden" / "c.parquet")
    _touch(tmp_path / "raw" / ".d.parquet.tmp")
    c = _touch(tmp_path / "other" / "c.parquet")
    odd = _touch(tmp_path / "named.bin")

    assert discover_inputs([tmp_path / "raw"]) == [a.resolve(), b.resolve()]
    assert discover_inputs([str(tmp_path / "**" / "*.parquet")]) == sorted([a.resolve(), c.resolve()])
    # An explicitly named file is taken whatever its suffix (it will fail loudly, not vanish).
    assert discover_inputs([odd]) == [odd.resolve()]
    # Duplicates across specs collapse; the order is stable (sorted paths).
    assert discover_inputs([a, tmp_path / "raw", a]) == [a.resolve(), b.resolve()]


def test_dataset_inside_inputs_is_excluded(tmp_path: Path) -> None:
    a = _touch(tmp_path / "a.parquet")
    _touch(tmp_path / "ds" / "steps" / "runner=r" / "session=s" / "part-0.parquet")
    assert discover_inputs([tmp_path], exclude=[tmp_path / "ds"]) == [a.resolve()]


@pytest.mark.parametrize("spec", ["missing.parquet", "empty_dir", "*.nothing"])
def test_spec_matching_nothing_is_an_error(tmp_path: Path, spec: str) -> None:
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(BatchInputError, match=r"no such file|matches no raw session files"):
        discover_inputs([str(tmp_path / spec)])


def test_tables_that_are_not_raw_sessions_are_ignored_in_folders(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = tmp_path / "sim" / "s1.parquet"
    raw.parent.mkdir()
    pq.write_table(pa.table({"time": [1], "acc_x": [1.0]}), raw)
    truth = tmp_path / "sim" / "truth" / "s1.steps.parquet"  # the simulator's truth tables
    truth.parent.mkdir()
    pq.write_table(pa.table({"step": [0], "foot": ["L"]}), truth)
    notes = tmp_path / "sim" / "notes.csv"
    notes.write_text("subject,comment\nr1,ok\n")
    broken = _touch(tmp_path / "sim" / "broken.parquet")  # unreadable: kept, to be reported

    skipped: list[Path] = []
    found = discover_inputs([tmp_path / "sim"], not_raw=skipped)
    assert found == sorted([raw.resolve(), broken.resolve()])
    assert sorted(skipped) == sorted([truth.resolve(), notes.resolve()])
    assert discover_inputs([truth]) == [truth.resolve()]  # named explicitly: taken


def test_csvs_process_reads_are_found_in_folders_whatever_their_delimiter(tmp_path: Path) -> None:
    """`imuback process` reads `;`- and tab-separated CSVs and reports an empty one: a folder scan
    must take them too, not drop them as "not raw sessions"."""
    header = ["time", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    semi = tmp_path / "in" / "semi.csv"
    semi.parent.mkdir()
    semi.write_text(";".join(header) + "\n0;0;0;9.8;0;0;0\n")
    tab = tmp_path / "in" / "tab.csv"
    tab.write_text("\t".join(header) + "\n0\t0\t0\t9.8\t0\t0\t0\n")
    empty = tmp_path / "in" / "empty.csv"  # a failed copy: reported as empty, as an empty .parquet is
    empty.write_bytes(b"")
    notes = tmp_path / "in" / "notes.csv"
    notes.write_text("subject;comment\nr1;ok\n")

    skipped: list[Path] = []
    found = discover_inputs([tmp_path / "in"], not_raw=skipped)
    assert found == sorted([semi.resolve(), tab.resolve(), empty.resolve()])
    assert skipped == [notes.resolve()]


def test_phone_exports_are_inputs_zips_and_unzipped_folders(tmp_path: Path) -> None:
    """A zip is a phone export; a folder holding the app's Accelerometer.csv is one input (its CSV
    files are not inputs of their own); the same folder named directly is that one input."""
    z = _touch(tmp_path / "raw" / "run1.zip")
    folder = tmp_path / "raw" / "run2"
    for name in ("Accelerometer.csv", "Gyroscope.csv", "Metadata.csv"):
        _touch(folder / name)
    a = _touch(tmp_path / "raw" / "a.parquet")
    assert discover_inputs([tmp_path / "raw"]) == sorted([z.resolve(), folder.resolve(), a.resolve()])
    assert discover_inputs([folder]) == [folder.resolve()]


def test_batch_processes_phone_exports_with_the_runner_given(tmp_path: Path) -> None:
    """``batch --runner``: phone exports (zip and folder) get that runner; a raw Parquet file names its
    own and keeps it (the batch's warnings say so), and its own given is accepted silently."""
    import zipfile
    from datetime import UTC, datetime

    import duckdb

    from imuback.batch.runner import run_batch
    from imuback.formats.sensorlogger import write_sensorlogger
    from imuback.simulate.runner import RunnerParams, simulate_session, write_simulated

    p = RunnerParams(run_minutes=0.5, stand_start_s=3.0, stand_end_s=3.0, walk_start_s=5.0, walk_end_s=5.0,
                     sample_rate_hz=100.0, gaps_per_hour=0.0)
    sims = [simulate_session(p, seed=s, session_id=f"s{s}", runner_id="own", start_time=datetime(2024, 5, s, 7,
                                                                                                   tzinfo=UTC))
            for s in (1, 2, 3)]
    raw = tmp_path / "raw"
    write_sensorlogger(sims[0].raw, raw / "run1.zip")
    with zipfile.ZipFile(write_sensorlogger(sims[1].raw, tmp_path / "run2.zip")) as zf:
        zf.extractall(raw / "run2")
    write_simulated(sims[2], raw / "sim")
    ds = tmp_path / "ds"
    summary = run_batch([raw], dataset=ds, workers=1, runner_id="ann")
    assert summary.ok and [o.status for o in summary.outcomes] == ["processed"] * 3
    (said,) = summary.warnings
    assert said[0].endswith(".parquet") and said[1].endswith(": names runner 'own'; --runner 'ann' applies only "
                                                             "to files naming none")
    again = run_batch([raw / "sim"], dataset=ds, workers=1, runner_id="own")
    assert again.ok and not again.warnings
    rows = duckdb.connect().execute(
        f"SELECT runner_id, session_id FROM read_parquet('{ds}/sessions/**/*.parquet', hive_partitioning=true) "
        "ORDER BY session_id").fetchall()
    assert rows == [("ann", "run1-20240501T070000Z"), ("ann", "run2-20240502T070000Z"), ("own", "s3")]
