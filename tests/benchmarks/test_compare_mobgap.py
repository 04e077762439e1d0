"""benchmarks/compare_mobgap.py: a failing peer interpreter is one PeerError carrying its last line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import compare_mobgap  # noqa: E402


def test_an_interpreter_that_cannot_start_is_a_peer_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-python")
    with pytest.raises(compare_mobgap.PeerError, match=r"the peers failed in .*no-python: .*No such file") as exc:
        compare_mobgap.run_peers([], [], data=tmp_path, python=missing)
    assert "No such file" in exc.value.tail


def test_a_child_that_fails_gives_its_last_stderr_line(tmp_path: Path) -> None:
    # this interpreter has no mobgap (or, if it has, no data under tmp_path): the child's traceback ends in one line
    with pytest.raises(compare_mobgap.PeerError) as exc:
        compare_mobgap.run_peers([], [], data=tmp_path, python=sys.executable)
    assert exc.value.tail and "\n" not in exc.value.tail and "Traceback" not in exc.value.tail
    assert str(exc.value) == f"the peers failed in {sys.executable}: {exc.value.tail}"
