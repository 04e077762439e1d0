"""A fresh machine installs what was tested: README, constraints.txt, pyproject.toml and .ci/run agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not an exact pin (name==version)"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in ("test", "dev"):
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def test_every_dependency_has_a_lower_bound_and_a_pin_inside_it() -> None:
    pins = _pins()
    for req in _requirements():
        assert any(s.operator == ">=" for s in req.specifier), f"{req}: no lower bound"
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in constraints.txt (run .ci/refresh-constraints)"
        assert req.specifier.contains(pins[name]), f"constraints.txt pins {req.name} {pins[name]}, outside {req}"


def test_readme_commands_and_ci_install_the_pinned_versions() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^python3 -m venv \.venv .*$", readme, flags=re.MULTILINE)
    assert len(commands) == 2 and commands[0].endswith("imuback demo")
    assert commands[1].endswith("python -m pytest")
    assert all(" -c constraints.txt " in c for c in commands)
    ci = (ROOT / ".ci" / "run").read_text()
    readme_install = commands[1].removesuffix(" && python -m pytest")
    assert readme_install in ci  # CI's first step is the README's install, exactly
    assert "ruff check src tests benchmarks" in ci and "mypy --strict src" in ci
    assert 'pip install -q --upgrade -e ".[test]"' in ci  # the second step: newest releases
    assert '"$1" -eq 5' in ci  # pytest's "no tests collected" fails CI
