"""Print the installed distributions whose version differs from constraints.txt (the tested ones).

    python .ci/newer_than_tested.py constraints.txt

One line per difference, "name: tested X, installed Y", then a count; the dependencies that
imuback names itself (pyproject.toml) come first. Always exits 0: it only reports.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(constraints: Path) -> int:
    """Print the differences; return 0."""
    tested = {}
    for line in constraints.read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            tested[_norm(name)] = version.strip()
    project = tomllib.loads((constraints.parent / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [s for extra in project["optional-dependencies"].values() for s in extra]
    direct = {_norm(re.split(r"[\s\[<>=!~;]", s, maxsplit=1)[0]) for s in specs}
    installed = {_norm(d.metadata["Name"]): d.version for d in metadata.distributions()}
    diffs = [(name not in direct, name, tested.get(name, "(not in constraints.txt)"), version)
             for name, version in installed.items()
             if name not in ("imuback", "pip", "setuptools", "wheel") and tested.get(name) != version]
    for _, name, was, now in sorted(diffs):
        print(f"  {name}: tested {was}, installed {now}")
    print(f"{len(diffs)} installed versions differ from {constraints.name}"
          + (" (imuback's own dependencies first)" if diffs else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
