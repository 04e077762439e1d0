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
