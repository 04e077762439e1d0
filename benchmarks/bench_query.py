"""``imuback query`` on a dataset of many small session files: seconds per query, best of N, interleaved.

    python benchmarks/bench_query.py                      # 3,000 sessions files, best of 5
    git show int:src/imuback/batch/query.py > /tmp/query_int.py
    python benchmarks/bench_query.py --against /tmp/query_int.py   # this query.py vs another

One simulated session (2 min) is processed once; its ``sessions`` row is then copied into
``--files`` files, one per ``runner=<r>/session=<s>`` folder as imuback lays them out (pyarrow, with
the file metadata kept). A second copy of that dataset has one column dropped from every sessions file
(``--drop``, as an older imuback wrote them). Each round runs every (query.py, dataset, query) case
once, in turn (every other round in reverse order), so the cases share the machine's load; a
case's figure is its best round. A case that fails prints its error's first line instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq

import imuback
import imuback.batch.query as this_query
from imuback.store.dataset import part_path, table_files


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"query_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(ds: Path, row: pa.Table, n_files: int, drop: str | None) -> None:
    """``n_files`` sessions files holding ``row`` (ids changed), ``drop`` removed from each."""
    if drop is not None:
        row = row.drop_columns([drop]).replace_schema_metadata(row.schema.metadata)
    per_runner = 30
    for i in range(n_files):
        runner_id, session_id = f"r{i // per_runner:04d}", f"s{i:05d}"
        one = row.set_column(row.schema.get_field_index("runner_id"), "runner_id",
                             pa.array([runner_id], row.schema.field("runner_id").type))
        one = one.set_column(one.schema.get_field_index("session_id"), "session_id",
                             pa.array([session_id], one.schema.field("session_id").type))
        path = part_path(ds, "sessions", runner_id, session_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(one, path)


def _time(module: ModuleType, ds: Path, sql: str) -> tuple[float, float] | str:
    """Wall and CPU (all of this process's threads) seconds of one query, or its error."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        module.run_query(ds, sql)
    except Exception as exc:  # a failing case is reported, not fatal
        return str(exc).splitlines()[0]
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=3000, help="sessions files (default 3000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds; best of them (default 5)")
    ap.add_argument("--drop", default="utc_offset_source", help="column the old dataset predates")
    ap.add_argument("--normal-only", action="store_true",
                    help="only the usual path: count(*) on the current dataset")
    ap.add_argument("--against", type=Path, action="append", default=[],
                    help="another revision's query.py, timed alongside (named by its file; repeatable)")
    args = ap.parse_args(argv)

    modules = {**{path.stem: _load(path) for path in args.against}, "this": this_query}
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        seed_ds = Path(tmp) / "seed"
        imuback.process(imuback.simulate(minutes=2, seed=3), dataset=seed_ds)
        (row_file,) = table_files(seed_ds, "sessions")
        row = pq.read_table(row_file)
        datasets = {"current": Path(tmp) / "current", "old": Path(tmp) / "old"}
        t0 = time.perf_counter()
        _write(datasets["current"], row, args.files, None)
        _write(datasets["old"], row, args.files, args.drop)
        print(f"{args.files} sessions files x 2 datasets written in {time.perf_counter() - t0:.1f} s "
              f"(old: every file without {args.drop})")
        queries = {"count(*)": "SELECT count(*) AS n FROM sessions",
                   f"count({args.drop})": f"SELECT count(*) AS n, count({args.drop}) AS given FROM sessions"}
        cases = [(m, d, q) for m in modules for d in datasets for q in queries
                 if not args.normal_only or (d, q) == ("current", "count(*)")]
        best: dict[tuple[str, str, str], tuple[float, float] | str] = {}
        for r in range(args.rounds):
            for m, d, q in cases if r % 2 == 0 else cases[::-1]:  # no case always first
                took = _time(modules[m], datasets[d], queries[q])
                prev = best.get((m, d, q))
                best[(m, d, q)] = (took if isinstance(took, str) or prev is None or isinstance(prev, str)
                                   else (min(prev[0], took[0]), min(prev[1], took[1])))
        print(f"best of {args.rounds}, interleaved (query.py / dataset / query: wall s, CPU s)")
        for m, d, q in cases:
            took = best[(m, d, q)]
            print(f"  {m:16s} {d:8s} {q:24s} "
                  + (f"{took[0]:6.3f} s  cpu {took[1]:6.3f} s" if isinstance(took, tuple) else took))


if __name__ == "__main__":
    main()
