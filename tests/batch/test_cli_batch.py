from pathlib import Path

import pytest

from imuback.batch.bids import export_bids
from imuback.cli import main
from imuback.store.raw import write_raw
from tests.batch.data import running_session


@pytest.mark.parametrize("argv", [["batch"], ["query"], ["export"], ["export", "bids"]])
def test_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: imuback " + " ".join(argv))


def test_workers_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["batch", "x", "--dataset", "d", "--workers", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def _dataset_files(ds: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of a dataset: relative path -> (mtime ns, bytes)."""
    return {str(p.relative_to(ds)): (p.stat().st_mtime_ns, p.read_bytes()) for p in ds.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", ["parquet_with_start", "bids"])
def test_a_file_read_again_and_unchanged_is_up_to_date(kind: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A file the fast peek does not skip (raw Parquet with --start, a BIDS *_motion.tsv: both read
    again) whose rows would be stored identically is "skipped (up to date)", as a peeked one is,
    and the dataset is not touched; the per-file log line says so too."""
    raw = write_raw(tmp_path / "raw" / "s1.parquet", running_session("s1", "runner0", minutes=0.5))
    if kind == "bids":
        export_bids([raw], out_dir=tmp_path / "bids")
        (path,) = (tmp_path / "bids").rglob("*_motion.tsv")
        given = ["--runner", "runner0"]
    else:
        path = raw
        given = ["--runner", "runner0", "--start", "2023-11-14T22:13:20Z"]  # the file's own (T0_NS)
    ds = tmp_path / "ds"
    argv = ["batch", str(path), "--dataset", str(ds), "--workers", "1", "--progress", "log", *given]
    assert main(argv) == 0
    assert "1 processed, 0 skipped (up to date), 0 failed" in capsys.readouterr().out
    before = _dataset_files(ds)
    assert any(name.startswith("steps/") for name in before)
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "0 processed, 1 skipped (up to date), 0 failed" in out
    assert "skipped session s1 (runner runner0): already in the dataset" in err
    assert _dataset_files(ds) == before  # same names, bytes and mtimes: nothing rewritten


def zone_warned_csvs(folder: Path, n: int) -> list[Path]:
    """``n`` CSVs (one 0.3-min run, the i-th without its last i samples: ``n`` recordings, sessions
    ``run00``..., not copies of one) whose dates state +05:00: each warns once when read with another
    ``--time-zone``."""
    from tests.test_zone_source import write_karachi_csv

    first = write_karachi_csv(folder / "run00.csv")
    lines = first.read_text().splitlines(keepends=True)
    paths = [first]
    for i in range(1, n):
        paths.append(folder / f"run{i:02d}.csv")
        paths[-1].write_text("".join(lines[:-i]))
    return paths


def test_every_warning_of_a_batch_is_kept_in_the_warnings_table(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """More warned files than the summary lists: every warning is in the dataset's ``warnings`` table
    (one row per file and warning, with the file), the summary says where, ``query`` reads it; a skip
    keeps the rows, a run that re-makes the sessions without a warning removes them."""
    from imuback.store.warnings_table import read_warnings
    from tests.test_zone_source import MADRID_NOTICE

    (tmp_path / "in").mkdir()
    files = [p.resolve() for p in zone_warned_csvs(tmp_path / "in", 12)]
    ds = tmp_path / "ds"
    argv = ["batch", str(tmp_path / "in"), "--dataset", str(ds), "--runner", "cy", "--workers", "2",
            "--progress", "none"]
    assert main([*argv, "--time-zone", "Europe/Madrid"]) == 0
    out = capsys.readouterr().out
    assert "12 processed" in out
    listed = out.split("warnings:\n", 1)[1].splitlines()
    assert len([line for line in listed[:10] if line.endswith(MADRID_NOTICE)]) == 10
    assert listed[10] == (f"  ... and 2 more: see {ds.resolve() / 'warnings'}, or imuback query --dataset "
                          f"{ds.resolve()} \"SELECT source_path, message FROM warnings\"")
    expected = sorted((str(p), f"{p}: {MADRID_NOTICE}") for p in files)
    stored = read_warnings(ds).to_pylist()
    assert sorted((r["source_path"], r["message"]) for r in stored) == expected
    assert sorted(r["session_id"] for r in stored) == [f"{p.stem}-20240304T070000Z" for p in files]
    assert {r["runner_id"] for r in stored} == {"cy"}
    assert main(["query", "--dataset", str(ds), "SELECT count(*) AS n, count(DISTINCT source_path) AS files "
                 "FROM warnings WHERE message LIKE '%used, not the file''s own%'"]) == 0
    assert capsys.readouterr().out.split()[-4:] == ["12", "12", "(1", "row)"]

    assert main([*argv, "--time-zone", "Europe/Madrid"]) == 0  # up to date, not read: the rows stay
    assert "12 skipped" in capsys.readouterr().out
    assert sorted((r["source_path"], r["message"]) for r in read_warnings(ds).to_pylist()) == expected
    assert main([*argv, "--time-zone", "unknown"]) == 0  # the file's own zone again: nothing to say
    out = capsys.readouterr().out
    assert "12 processed" in out and "warnings:" not in out
    assert read_warnings(ds).num_rows == 0


def test_warnings_follow_the_last_run_that_wrote_the_session_and_a_copy_has_none(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``imuback process`` keeps the ``warnings`` table as a batch does: a session it writes again
    without a warning clears the batch's row, one it writes with a warning has its row; a copy of a
    stored file (skipped, nothing written) leaves no row of its own."""
    from imuback.store.warnings_table import read_warnings
    from tests.test_zone_source import MADRID_NOTICE

    (tmp_path / "in").mkdir()
    first, second = (p.resolve() for p in zone_warned_csvs(tmp_path / "in", 2))
    copy = tmp_path / "in" / "run00 (1).csv"
    copy.write_bytes(first.read_bytes())
    ds = tmp_path / "ds"
    assert main(["batch", str(tmp_path / "in"), "--dataset", str(ds), "--runner", "cy", "--workers", "1",
                 "--progress", "none", "--time-zone", "Europe/Madrid"]) == 0
    assert "2 processed, 1 skipped" in capsys.readouterr().out
    paths = sorted(r["source_path"] for r in read_warnings(ds).to_pylist())  # the copy read first is stored
    assert len(paths) == 2 and str(second) in paths
    stored = next(p for p in paths if p != str(second))
    assert stored in (str(first), str(copy.resolve()))

    assert main(["process", stored, "--dataset", str(ds), "--runner", "cy", "--time-zone", "unknown"]) == 0
    capsys.readouterr()
    assert [r["source_path"] for r in read_warnings(ds).to_pylist()] == [str(second)]
    assert main(["process", stored, "--dataset", str(ds), "--runner", "cy", "--time-zone", "Asia/Tokyo"]) == 0
    capsys.readouterr()
    rows = {r["source_path"]: r["message"] for r in read_warnings(ds).to_pylist()}
    assert rows[str(second)] == f"{second}: {MADRID_NOTICE}"
    assert "Asia/Tokyo" in rows[stored] and "+05:00" in rows[stored]
    assert len(rows) == 2
