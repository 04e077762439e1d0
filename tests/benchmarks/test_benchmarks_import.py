"""Every script in benchmarks/ imports and answers ``--help``: a broken import or argument parser fails CI.

The figures in docs/ come from these scripts; one that no longer imports at today's pipeline (a
renamed function, a moved constant) is caught here instead of when someone reruns a documented
command. This checks only that each script loads and parses its arguments, not what it measures.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py"))
# Shared helpers imported by the scripts; they are not run on their own.
HELPERS = {"matching", "real_walking"}


def _module(name: str) -> object:
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module(name)


def test_the_benchmarks_folder_is_found() -> None:
    assert len(SCRIPTS) > 40, SCRIPTS
    assert HELPERS <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_imports_and_prints_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = _module(name)
    main = getattr(module, "main", None)
    if name in HELPERS:
        assert main is None, f"{name} has a main: remove it from HELPERS so its --help is checked"
        return
    assert callable(main), f"benchmarks/{name}.py has no main()"
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "--help" in out, out[:200]
