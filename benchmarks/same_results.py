"""Do two imuback trees give the same rows, bit for bit? For speed work that must not change results.

    python benchmarks/same_results.py main .
    python benchmarks/same_results.py --data ../shared/data main HEAD

Each tree (a checkout with src/imuback, or a git commit of this repository, as in ab_pipeline.py)
processes the same sessions in its own process: one hour of simulated 200 Hz running and one of
walking (as bench_pipeline.py makes them), the example session in data/, two simulated sessions (100 Hz with
gaps, 416 Hz) and every real recording under ``--data`` (skipped where absent). Every column of
the steps, strides and sessions rows is compared exactly (NaN equals NaN); only the columns that
name the run (processing time, source path, versions, parameters) are left out. Prints each
difference and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ab_pipeline import REPO, source_tree
from bench_pipeline import ONE_CORE, make_raw

VOLATILE = {"processed_at", "source_path", "pipeline_version", "params_json"}

_CHILD = r"""
import pickle, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from imuback.pipeline import process_raw
from imuback.simulate.runner import RunnerParams, simulate_session
from imuback.store.raw import read_raw
import real_running, real_walking

def sessions(hour, walk_hour, example, data):
    yield "simulated hour", read_raw(hour)
    yield "simulated walking hour", read_raw(walk_hour)
    yield "example", read_raw(example)
    for seed, kw in ((3, dict(run_minutes=6.0, gaps_per_hour=40.0, sample_rate_hz=100.0)),
                     (5, dict(run_minutes=4.0, sample_rate_hz=416.0))):
        yield f"simulated {kw['sample_rate_hz']:g} Hz", simulate_session(
            RunnerParams(**kw), seed=seed, session_id=f"s{seed}", runner_id="r", start_time=1_700_000_000 * 10**9).raw
    alc = data / "real" / "alcantara_treadmill"
    if alc.exists():
        for i, t in enumerate(real_running.load_trials(alc)):
            yield f"alcantara {i}", t.raw
    for i, t in enumerate(real_walking.load(data)):
        yield f"walking {i}", t.raw

out = {}
for name, raw in sessions(*(Path(a) for a in sys.argv[1].split(",")), Path(sys.argv[2]), Path(sys.argv[3])):
    rows = process_raw(raw)
    out[name] = {f"{table}.{col}": t.column(col).to_pylist() for table, t in rows.tables().items()
                 for col in t.column_names if col not in sys.argv[5].split(",")}
pickle.dump(out, sys.stdout.buffer)
"""


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)  # NaN equals NaN
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs=2, help="two imuback checkouts (each with src/imuback) or git commits")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="real recordings")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            folders = [source_tree(spec, Path(tmp)) for spec in args.trees]
        except ValueError as exc:
            ap.error(str(exc))
        hour = Path(tmp) / "bench_1h.parquet"
        make_raw(hour, 1.0)
        walk_hour = Path(tmp) / "bench_1h_walking.parquet"
        make_raw(walk_hour, 1.0, walking=True)
        results = []
        example = REPO / "data" / "example-20240304-00.parquet"
        for folder in folders:
            env = {**os.environ, **ONE_CORE, "PYTHONPATH": str((folder / "src").resolve())}
            out = subprocess.run([sys.executable, "-c", _CHILD, f"{hour},{walk_hour}", str(example), str(args.data),
                                  str(Path(__file__).resolve().parent), ",".join(sorted(VOLATILE))],
                                 env=env, capture_output=True)
            if out.returncode != 0:
                last = out.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
                print(f"error: {folder}: processing failed ({last[0]}); this script needs trees with "
                      "the current API (pipeline 0.4 or later)", file=sys.stderr)
                return 2
            results.append(pickle.loads(out.stdout))
    a, b = results
    diffs = [f"{name}: only in {args.trees[0] if name in a else args.trees[1]}" for name in sorted(a.keys() ^ b.keys())]
    columns = 0
    for name in a.keys() & b.keys():
        for col in sorted(a[name].keys() | b[name].keys()):
            columns += 1
            if col not in a[name] or col not in b[name]:  # a column one schema version added
                diffs.append(f"{name}: {col} only in {args.trees[0] if col in a[name] else args.trees[1]}")
            elif not _same(a[name][col], b[name][col]):
                diffs.append(f"{name}: {col} differs")
    for d in diffs:
        print(d)
    print(f"{len(a.keys() & b.keys())} sessions, {columns} columns compared: "
          f"{'identical' if not diffs else f'{len(diffs)} differences'} ({args.trees[0]} vs {args.trees[1]})")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
