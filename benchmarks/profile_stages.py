"""Where the time goes: CPU time per pipeline stage on one raw file, for one or more trees.

    python benchmarks/profile_stages.py fb3691e main .
    python benchmarks/profile_stages.py --rounds 4 --runs 5 --file session.parquet .

Each tree (a checkout with src/imuback, or a git commit, as in ab_pipeline.py) runs in a fresh
single-threaded process that reads and processes the file 1 + ``--runs`` times with every stage
that ``imuback.signal.session`` calls timed (process CPU time, so waiting for a core on a shared
machine does not count); the first run is left out. Rounds alternate the trees; a stage's figure
is its median over all warm runs. The stages are the calls analyse_session makes (they do not
nest), the file read and the table building; "process_raw + read_raw" is the whole.
Without ``--file``, one hour of simulated 200 Hz running (``--walking``: walking) is made first
(as bench_pipeline.py does).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab_pipeline import run_interleaved, trees_and_file

_CHILD = r"""
import collections, functools, json, sys, time
import imuback.pipeline as P
import imuback.signal.session as S
from imuback.runtime import tune_allocator
from imuback.store.raw import read_raw
tune_allocator()
spent = collections.defaultdict(float)

def timed(label, f):
    @functools.wraps(f)
    def run(*args, **kwargs):
        t0 = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - t0
    return run

for name in dir(S):
    f = getattr(S, name)
    if callable(f) and not isinstance(f, type) and getattr(f, "__module__", "").startswith("imuback.") \
            and name != "analyse_session":
        setattr(S, name, timed(name, f))
P.session_tables = timed("session_tables", P.session_tables)
read = timed("read_raw", read_raw)
runs = []
for i in range(1 + int(sys.argv[2])):
    spent.clear()
    t0 = time.process_time()
    P.process_raw(read(sys.argv[1]))
    spent["process_raw + read_raw"] = time.process_time() - t0
    if i:
        runs.append(dict(spent))
print(json.dumps(runs))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="+", help="imuback checkouts (each with src/imuback) or git commits")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=4, help="warm runs per process")
    ap.add_argument("--file", type=Path, help="raw session to process (default: 1 h simulated at 200 Hz)")
    ap.add_argument("--walking", action="store_true", help="without --file: 1 h of simulated walking")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folders, path = trees_and_file(ap, args.trees, args.file, Path(tmp), walking=args.walking)
        per_round = run_interleaved(folders, _CHILD, [str(path), str(args.runs)], args.rounds)
    runs: dict[str, list[dict[str, float]]] = {t: [run for r in rounds for run in r] for t, rounds in per_round.items()}
    stages = {s for r in runs.values() for run in r for s in run}

    def median_ms(tree: str, stage: str) -> float:
        vals = [run[stage] for run in runs[tree] if stage in run]
        return 1e3 * statistics.median(vals) if vals else float("nan")

    order = sorted(stages, key=lambda s: -max(median_ms(t, s) for t in args.trees if stage_in(runs[t], s)))
    print(f"CPU ms per stage, median of {args.rounds * args.runs} warm runs "
          f"({'' if args.file else '1 h simulated 200 Hz ' + ('walking' if args.walking else 'running') + '; '}"
          "stages below 0.5 ms left out)")
    print(f"{'stage':28s}" + "".join(f"{t[-14:]:>15s}" for t in args.trees))
    for stage in order:
        values = [median_ms(t, stage) for t in args.trees]
        if max((v for v in values if v == v), default=0.0) < 0.5:
            continue
        print(f"{stage:28s}" + "".join(f"{v:15.1f}" if v == v else f"{'-':>15s}" for v in values))
    return 0


def stage_in(runs: list[dict[str, float]], stage: str) -> bool:
    """Whether any run of a tree timed ``stage``."""
    return any(stage in r for r in runs)


if __name__ == "__main__":
    sys.exit(main())
