"""Print a constraints file that pins every dependency of imuback (and its test extra) at its lower bound.

    python .ci/oldest_constraints.py > oldest.txt && pip install -c oldest.txt -e ".[test]"

The lower bounds in pyproject.toml claim that the oldest allowed releases work: .ci/run installs
them all together and runs the tests, so the claim is checked, not just written down.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def main() -> int:
    """Print ``name==bound`` for each ``name>=bound`` of the runtime and test dependencies."""
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        m = re.match(r"^\s*([A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)", spec)
        if m is None:
            print(f"oldest_constraints: {spec!r} in pyproject.toml has no lower bound", file=sys.stderr)
            return 1
        print(f"{m.group(1)}=={m.group(2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
