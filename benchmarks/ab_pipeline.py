"""Side-by-side speed of two or more imuback source trees on one raw file, in interleaved rounds.

    python benchmarks/ab_pipeline.py --rounds 8 fb3691e .
    python benchmarks/ab_pipeline.py --rounds 9 main HEAD .

Each tree is a checkout (a folder with src/imuback) or any git commit of this repository (a
hash, branch or tag: its ``src/`` is exported with ``git archive`` to a temporary folder, so no
worktree is needed; committed code only — pass ``.`` for the working tree's uncommitted state).

Each round runs every tree once, in a fresh single-threaded process that reads and processes the
file 1 + ``--runs`` times; the best of its warm runs (all but the first) counts. ``--clock cpu``
times the process's CPU time instead of the wall clock: on a machine shared with other work,
waiting for a core then does not count (memory and cache contention still do). Interleaving puts every tree under the
same machine load (on a shared VM single runs vary by 10 % or more), and the order of the trees
turns by one place each round, so ``--rounds`` must be a multiple of the number of trees (default: the
smallest multiple of it from 8 up: 8 for two trees, 9 for three). Prints the best and median
per tree, and the median over rounds of its time divided by the first tree's in the same round.
Without ``--file``, one hour of simulated 200 Hz running (``--walking``: walking) is made first
(as bench_pipeline.py does).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import ONE_CORE, make_raw

REPO = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, time
from imuback.store.raw import read_raw
from imuback.pipeline import process_raw
from imuback.runtime import tune_allocator
tune_allocator()
clock = time.process_time if sys.argv[2] == "cpu" else time.perf_counter
runs = []
for _ in range(1 + int(sys.argv[3])):
    t0 = clock()
    process_raw(read_raw(sys.argv[1]))
    runs.append(clock() - t0)
print(json.dumps(min(runs[1:])))
"""


def source_tree(spec: str, tmp: Path) -> Path:
    """A folder with ``src/imuback`` for ``spec``: the folder itself, else the git commit it names.

    Raises
    ------
    ValueError
        ``spec`` is neither a checkout nor a commit of this repository.
    """
    folder = Path(spec)
    if (folder / "src" / "imuback").is_dir():
        return folder
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"],
                         capture_output=True, text=True)
    if rev.returncode != 0:
        raise ValueError(f"{spec}: neither a folder with src/imuback nor a git commit of {REPO}")
    commit = rev.stdout.strip()
    out = tmp / f"tree-{commit[:10]}"
    out.mkdir(exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, "src"],
                             capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    if not (out / "src" / "imuback").is_dir():
        raise ValueError(f"{spec}: commit {commit[:10]} has no src/imuback")
    return out


def trees_and_file(ap: argparse.ArgumentParser, specs: list[str], file: Path | None,
                   tmp: Path, *, walking: bool = False) -> tuple[dict[str, Path], Path]:
    """The source folder of each tree spec, and the raw file (``file``, else one hour of simulated
    200 Hz running, or walking with ``walking``, written into ``tmp``); a bad spec ends the
    program with its message.
    """
    try:
        folders = {spec: source_tree(spec, tmp) for spec in specs}
    except ValueError as exc:
        ap.error(str(exc))
    if file is None:
        file = tmp / "bench_1h.parquet"
        make_raw(file, 1.0, walking=walking)
    return folders, file


def run_interleaved(folders: dict[str, Path], code: str, child_args: list[str], rounds: int) -> dict[str, list[Any]]:
    """Run ``code`` (a child that prints one JSON line last) once per tree per round, the trees in
    turn, each in a fresh single-threaded process with that tree's ``src`` first on the path.
    Each round starts one tree later than the one before (A B C, B C A, C A B, ...), so every
    tree takes every place equally often over a multiple of the number of trees (on this machine
    the first place looked favoured in some runs: docs/performance.md).
    """
    out: dict[str, list[Any]] = {tree: [] for tree in folders}
    items = list(folders.items())
    for r in range(rounds):
        for tree, folder in items[r % len(items):] + items[:r % len(items)]:
            env = {**os.environ, **ONE_CORE, "PYTHONPATH": str((folder / "src").resolve())}
            res = subprocess.run([sys.executable, "-c", code, *child_args], env=env, check=True,
                                 capture_output=True, text=True)
            out[tree].append(json.loads(res.stdout.strip().splitlines()[-1]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="+", help="imuback checkouts (each with src/imuback) or git commits")
    ap.add_argument("--rounds", type=int, default=None,
                    help="a multiple of the number of trees (default: the smallest one from 8 up)")
    ap.add_argument("--file", type=Path, help="raw session to process (default: 1 h simulated at 200 Hz)")
    ap.add_argument("--runs", type=int, default=2, help="warm runs per process (best counts)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    ap.add_argument("--walking", action="store_true", help="without --file: 1 h of simulated walking")
    args = ap.parse_args(argv)
    n_trees = len(args.trees)
    if args.rounds is None:
        args.rounds = -(-8 // n_trees) * n_trees
    elif args.rounds < 1 or args.rounds % n_trees:
        ap.error(f"--rounds {args.rounds}: use a multiple of the number of trees ({n_trees}), so that each "
                 "tree takes each place in a round equally often")
    with tempfile.TemporaryDirectory() as tmp:
        folders, path = trees_and_file(ap, args.trees, args.file, Path(tmp), walking=args.walking)
        times: dict[str, list[float]] = run_interleaved(folders, _CHILD, [str(path), args.clock, str(args.runs)],
                                                        args.rounds)
    first = times[args.trees[0]]
    for tree, t in times.items():
        # the same round's runs follow each other: their ratio cancels most of the machine's drift
        paired = statistics.median(x / y for x, y in zip(t, first, strict=True))
        print(f"{tree:40s} best {min(t) * 1e3:6.1f} ms  median {statistics.median(t) * 1e3:6.1f} ms "
              f"over {len(t)} rounds ({args.clock} clock); median ratio to {args.trees[0]} in the "
              f"same round {paired:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
