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
