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
