"""Every subcommand, given bad paths and bad files, ends with a one-line error naming the path:
exit code != 0, no traceback (#12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imuback.cli import main
from tests.test_cli import _subcommands

NO_PATHS = {("scan",)}
"""Subcommands that take no path (scan lists BLE devices)."""


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    (root / "afile.parquet").write_bytes(b"not a dataset, not parquet")
    (root / "adir").mkdir()
    (root / "garbage.parquet").write_bytes(b"garbage")
    (root / "in.csv").write_text("t;x\n1;2\n")
    (root / "side.csv").write_text("time,acc_x,acc_y,acc_z\n1700000000,0,0,9.8\n")
    (root / "side.csv.json").write_text("[1, 2]")
    (root / "ds").mkdir()
    return root


CASES = [
    # (argv with {p} for the folder, the path the message must name)
    (["process", "{p}/garbage.parquet", "--dataset", "{p}/afile.parquet"], "afile.parquet"),
    (["process", "{p}/adir", "--dataset", "{p}/ds"], "adir"),
    (["process", "{p}/nope.parquet", "--dataset", "{p}/ds"], "nope.parquet"),
    (["process", "{p}/garbage.parquet", "--dataset", "{p}/ds"], "garbage.parquet"),
    (["process", "{p}/in.csv", "--dataset", "{p}/ds"], "in.csv"),
    (["process", "{p}/side.csv", "--dataset", "{p}/ds", "--runner", "r1"], "side.csv.json"),
    (["process", "{p}/side.csv", "--dataset", "{p}/ds", "--runner", "r" * 300], "side.csv"),
    (["batch", "{p}/adir", "--dataset", "{p}/afile.parquet"], "afile.parquet"),
    (["batch", "{p}/nope", "--dataset", "{p}/ds"], "nope"),
    (["query", "SELECT 1", "--dataset", "{p}/afile.parquet"], "afile.parquet"),
    (["query", "SELECT 1", "--dataset", "{p}/nope"], "nope"),
    (["query", "SELECT 1", "--dataset", "{p}/ds", "--out", "{p}/adir"], "adir"),
    (["export", "bids", "{p}/garbage.parquet", "--out", "{p}/afile.parquet"], "afile.parquet"),
    (["export", "bids", "{p}/garbage.parquet", "--out", "{p}/bids", "--dataset", "{p}/afile.parquet"],
     "afile.parquet"),
    (["export", "bids", "{p}/garbage.parquet", "--out", "{p}/bids"], "garbage.parquet"),
    (["report", "session", "--dataset", "{p}/afile.parquet", "--session", "s", "--out", "{p}/r.html"],
     "afile.parquet"),
    (["report", "session", "--dataset", "{p}/ds", "--session", "s", "--out", "{p}/adir"], "adir"),
    (["report", "trends", "--dataset", "{p}/nope", "--runner", "r", "--out", "{p}/t.html"], "nope"),
    (["report", "trends", "--dataset", "{p}/ds", "--runner", "r", "--out", "{p}/afile.parquet/t.html"],
     "afile.parquet"),
    (["simulate", "--out", "{p}/afile.parquet"], "afile.parquet"),
    (["demo", "--out", "{p}/afile.parquet"], "afile.parquet"),
    (["record", "--simulate", "--out", "{p}/afile.parquet"], "afile.parquet"),
    (["recover", "{p}/garbage.parquet"], "garbage.parquet"),
    (["recover", "{p}/adir"], "adir"),
    (["recover", "{p}/nope.journal"], "nope.journal"),
    (["note", "--dataset", "{p}/afile.parquet", "--runner", "r", "--session", "s", "--pain", "3"], "afile.parquet"),
    (["note", "--dataset", "{p}/nope", "--runner", "r", "--session", "s", "--pain", "3"], "nope"),
    (["note", "--dataset", "{p}/ds", "--runner", "r", "--session", "s", "--pain", "3"], "ds"),
    (["delete", "--dataset", "{p}/afile.parquet", "--runner", "r", "--session", "s"], "afile.parquet"),
    (["delete", "--dataset", "{p}/nope", "--runner", "r", "--session", "s"], "nope"),
    (["delete", "--dataset", "{p}/ds", "--runner", "r", "--session", "s"], "ds"),
    (["duplicates", "--dataset", "{p}/afile.parquet"], "afile.parquet"),
    (["duplicates", "--dataset", "{p}/nope"], "nope"),
    (["serve", "--dataset", "{p}/afile.parquet"], "afile.parquet"),
    (["serve", "--dataset", "{p}/nope", "--read-only"], "nope"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=lambda c: " ".join(c) if isinstance(c, list) else c)
def test_bad_paths_and_files_give_one_line_errors(place, argv, named, capsys):
    args = [a.replace("{p}", str(place)) for a in argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse: a usage error
        code = exc.code
    err = capsys.readouterr().err
    assert code not in (0, None), err
    assert named in err, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert "error" in last and named in last, err


def test_every_subcommand_is_covered():
    covered = {tuple(a for a in argv[:2] if not a.startswith("{") and not a.startswith("-")) for argv, _ in CASES}
    names = {tuple(c) for c in _subcommands()}
    leaves = {n for n in names if not any(m != n and m[:len(n)] == n for m in names)}
    missing = {n for n in leaves - NO_PATHS if not any(c[:len(n)] == n for c in covered)}
    assert not missing, f"subcommands without a bad-path case: {missing}"


def test_no_traceback_from_the_console_script(place):
    proc = subprocess.run([sys.executable, "-m", "imuback.cli", "batch", str(place / "adir"), "--dataset",
                           str(place / "afile.parquet")], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "afile.parquet: is a file, not a dataset folder" in proc.stderr


def _format_files(root: Path) -> dict[str, Path]:
    """One bad file per reader: the problems of issue #15 item 4 (wrong export type, missing
    gyroscope, unknown platform, corrupt zip) and cut-short binary files."""
    import datetime as dt
    import json

    from tests.formats.cwa_spec import write_cwa
    from tests.formats.test_apdm import _write as write_apdm
    from tests.formats.test_phone import _flat, _meta, _write_zip
    from tests.signal.analytic import half_sine_run

    raw = half_sine_run(fs=100.0, minutes=0.1)[0]
    acc, gyr = raw.acc_mps2.astype(float), raw.gyr_dps.astype(float)
    start = dt.datetime(2024, 3, 4, 7)
    out = {"wrong export type": _write_zip(root / "other.zip", {"notes.csv": "a,b\n1,2\n"}),
           "unknown platform": _write_zip(root / "symbian.zip", {**_flat("iOS"), "Metadata.csv": _meta("Symbian")}),
           "missing gyroscope (AX3)": write_cwa(root / "ax3.cwa", acc_mps2=acc, gyr_dps=None, fs=100.0, start=start,
                                                sensor_config=0)}
    good = _write_zip(root / "good.zip", _flat("iOS"))
    (root / "broken.zip").write_bytes(good.read_bytes()[:200])
    out["corrupt zip"] = root / "broken.zip"
    cwa = write_cwa(root / "cut.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=start)
    cwa.write_bytes(cwa.read_bytes()[:-300])
    out["truncated .cwa"] = cwa
    h5 = write_apdm(root / "cut.h5", {"XI-1": "Lumbar"})[0]
    h5.write_bytes(h5.read_bytes()[:3000])
    out["truncated .h5"] = h5
    (root / "acc.json").write_text(json.dumps({"Meas": {"Acc": [{"Timestamp": 1, "ArrayAcc": [{"x": 0, "y": 0,
                                                                                                "z": 9.8}]}]}}))
    out["missing gyroscope (Movesense)"] = root / "acc.json"
    return out


FORMAT_PROBLEMS = {"wrong export type": "not a phone export imuback reads", "unknown platform": "unknown platform",
                   "missing gyroscope (AX3)": "accelerometer-only", "corrupt zip": "not a readable zip file",
                   "truncated .cwa": "truncated", "truncated .h5": "not a readable HDF5 file",
                   "missing gyroscope (Movesense)": "accelerometer-only"}


@pytest.mark.parametrize("problem", sorted(FORMAT_PROBLEMS))
def test_bad_files_of_each_format_give_one_line_errors(tmp_path, problem, capsys):
    path = _format_files(tmp_path)[problem]
    code = main(["process", str(path), "--runner", "r1", "--dataset", str(tmp_path / "ds")])
    err = capsys.readouterr().err
    assert code not in (0, None) and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: {path}: ") and FORMAT_PROBLEMS[problem] in last, err


@pytest.mark.parametrize("argv, option", [
    (["simulate", "--out", "{p}/sim", "--sessions", "0"], "--sessions"),  # simulated one session
    (["simulate", "--out", "{p}/sim", "--sessions", "-2"], "--sessions"),
    (["simulate", "--out", "{p}/sim", "--per-week", "0"], "--per-week"),  # ZeroDivisionError
    (["simulate", "--out", "{p}/sim", "--cadence", "0"], "--cadence"),  # ZeroDivisionError
    (["simulate", "--out", "{p}/sim", "--rate", "nan"], "--rate"),
    (["demo", "--out", "{p}/demo", "--speedup", "0"], "--speedup"),  # streamed forever
    (["demo", "--out", "{p}/demo", "--speedup", "inf"], "--speedup"),  # not finite, though above 0
    (["record", "--out", "{p}/rec", "--address", "AA", "--runner", "r1", "--stop-after", "inf"], "--stop-after"),
    (["record", "--simulate", "--out", "{p}/rec", "--speedup", "-3"], "--speedup"),  # hung
    (["record", "--out", "{p}/rec", "--address", "AA", "--runner", "r1", "--stop-after", "0"], "--stop-after"),
    (["batch", "{p}/adir", "--dataset", "{p}/ds", "--workers", "0"], "--workers"),
])
def test_counts_and_rates_that_must_be_positive_are_usage_errors(place, argv, option, capsys):
    """Checked while parsing, before anything runs: exit 2 naming the option, no traceback."""
    from imuback.cli.main import build_parser

    args = [a.replace("{p}", str(place)) for a in argv]
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and option in err and "Traceback" not in err, err
