"""The layer rules of docs/architecture.md, checked by walking the imports of every module (AST).

cli/api -> (collect | pipeline | report | batch | serve | simulate) -> formats -> (signal | store)
-> core -> errors. signal imports no I/O and no store; collect knows nothing of simulate;
simulate uses signal's frames only; only cli parses arguments or prints.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "imuback"

LAYER = {
    "errors": 0, "runtime": 0,
    "core": 1,
    "signal": 2, "store": 2,
    "formats": 2.5,
    "collect": 3, "pipeline": 3, "report": 3, "batch": 3, "simulate": 3,
    "api": 4, "serve": 4, "simulated_recording": 4, "cli": 5, "__init__": 5,
}
"""A module may import its own area and any lower layer; same-layer imports are listed below."""

SAME_LAYER_ALLOWED = {
    ("batch", "pipeline"),  # a batch maps the one-session pipeline over many files
}
IO_MODULES = ("pyarrow", "duckdb", "pandas", "bleak", "bumble", "pathlib", "os", "shutil", "io", "socket")


def _area(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if rel.parts else "__init__"


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) of every import in ``path``, including those inside functions."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            if node.module == "imuback":  # `from imuback import store` names a package; constants do not
                out += [(f"imuback.{a.name}", node.lineno) for a in node.names
                        if (SRC / a.name).is_dir() or (SRC / f"{a.name}.py").exists()]
    return out


MODULES = sorted(SRC.rglob("*.py"))


def _violations(rule) -> list[str]:
    bad = []
    for path in MODULES:
        area = _area(path)
        for module, line in _imports(path):
            why = rule(area, path, module)
            if why:
                bad.append(f"{path.relative_to(SRC)}:{line} imports {module}: {why}")
    return bad


def _target(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "imuback":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _layering(area: str, path: Path, module: str) -> str | None:
    target = _target(module)
    if target is None or target == area or area not in LAYER:
        return None
    if target == "__init__" or (area, target) == ("collect", "simulate"):
        return None  # the package's version constants; collect -> simulate has its own test below
    if target not in LAYER:
        return f"unknown area {target!r}: give it a layer in docs/architecture.md and this test"
    if LAYER[target] > LAYER[area] or (LAYER[target] == LAYER[area] and (area, target) not in SAME_LAYER_ALLOWED):
        return f"{area} (layer {LAYER[area]}) may not import {target} (layer {LAYER[target]})"
    return None


def test_imports_point_down_the_layers():
    assert not (bad := _violations(_layering)), "\n".join(bad)


def test_signal_imports_no_io_and_no_store():
    def rule(area, path, module):
        if area != "signal":
            return None
        if module.split(".")[0] in IO_MODULES:
            return "signal is pure array code: no I/O"
        return None

    assert not (bad := _violations(rule)), "\n".join(bad)


def test_core_imports_only_errors_and_numpy():
    def rule(area, path, module):
        if area != "core":
            return None
        if module.split(".")[0] in ("numpy", "__future__", "dataclasses", "typing") or module == "imuback.errors":
            return None
        return "core sits below everything"

    assert not (bad := _violations(rule)), "\n".join(bad)


def test_simulate_uses_only_signal_frames():
    def rule(area, path, module):
        if area == "simulate" and module.startswith("imuback.signal") and module != "imuback.signal.frames":
            return "simulate uses signal's frames only"
        return None

    assert not (bad := _violations(rule)), "\n".join(bad)


def test_collect_knows_nothing_of_simulate():
    def rule(area, path, module):
        if area == "collect" and _target(module) == "simulate":
            return "collect knows nothing of simulate: the CLI wires the simulated peripheral in"
        return None

    assert not (bad := _violations(rule)), "\n".join(bad)


def test_only_the_cli_parses_arguments_or_prints():
    bad = []
    for path in MODULES:
        if _area(path) == "cli":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                bad.append(f"{path.relative_to(SRC)}:{node.lineno} prints")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") and \
                    isinstance(node.value, ast.Name) and node.value.id == "sys":
                bad.append(f"{path.relative_to(SRC)}:{node.lineno} writes to sys.{node.attr}")
        bad += [f"{path.relative_to(SRC)}:{line} imports argparse" for m, line in _imports(path) if m == "argparse"]
    assert not bad, "\n".join(bad)


def test_the_rules_catch_a_forbidden_import(tmp_path):
    # the walk itself works: a signal module importing the store is reported
    assert _layering("signal", SRC / "signal" / "x.py", "imuback.store.raw")
    assert _layering("store", SRC / "store" / "x.py", "imuback.pipeline")
    assert _layering("core", SRC / "core.py", "imuback.signal.frames")
    assert not _layering("batch", SRC / "batch" / "x.py", "imuback.pipeline")
    assert not _layering("cli", SRC / "cli" / "x.py", "imuback.collect.recorder")
