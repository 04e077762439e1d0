"""collect/ knows nothing of simulate/ (issue 13): the simulated peripheral is wired in above both."""

from __future__ import annotations

import ast
from pathlib import Path

import imuback.collect

COLLECT = Path(imuback.collect.__file__).parent


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_collect_never_imports_simulate() -> None:
    # commands.py is the CLI layer (it moves to imuback/cli/); it may wire the simulation in
    offenders = {p.name: sorted(m for m in _imports(p) if m.startswith("imuback.simulate"))
                 for p in COLLECT.glob("*.py") if p.name != "commands.py"}
    assert {k: v for k, v in offenders.items() if v} == {}
