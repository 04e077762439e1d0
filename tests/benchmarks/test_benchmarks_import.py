"""Every script in benchmarks/ imports and answers ``--help``: a broken import or argument parser fails CI.

The figures in docs/ come from these scripts; one that no longer imports at today's pipeline (a
renamed function, a moved constant) is caught here instead of when someone reruns a documented
command. This checks that each script loads and parses its arguments, and that every name it takes
from another benchmark or from imuback exists, also where the import sits inside a function (run
only on some branch of the script, e.g. when a data set is present); not what it measures.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
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


def _names_used(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for every name a script takes from a sibling script or from imuback.

    ``from M import n`` anywhere in the file (also inside functions), and ``alias.n`` where
    ``import M as alias`` (read, not assigned).
    """
    local = set(SCRIPTS) | {"imuback"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used: list[tuple[int, str, str]] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in local:
                used += [(node.lineno, node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                if top in local:  # `import M as alias` binds M; `import M.sub` binds M's top package
                    aliases[a.asname or top] = a.name if a.asname else top
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and not isinstance(node.ctx, ast.Store)):
            used.append((node.lineno, aliases[node.value.id], node.attr))
    return used


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_takes_only_names_that_exist(name: str) -> None:
    path = BENCHMARKS / f"{name}.py"
    _module(name)  # puts benchmarks/ on sys.path
    missing = []
    for line, module_name, attr in _names_used(path):
        module = importlib.import_module(module_name)
        if not hasattr(module, attr) and importlib.util.find_spec(f"{module_name}.{attr}") is None:
            missing.append(f"benchmarks/{name}.py:{line}: {module_name}.{attr}")
    assert not missing, "names that no longer exist:\n" + "\n".join(missing)
