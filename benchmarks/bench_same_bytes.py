"""Cost of finding the stored sessions made from the same bytes (review 32 #1): the look-up every
``process`` / ``batch`` / clinic upload makes before storing a session
(``imuback.store.dataset.sessions_from_bytes``), over a dataset of N sessions.

    python benchmarks/bench_same_bytes.py                 # 1,000 sessions
    python benchmarks/bench_same_bytes.py --sessions 200

One processed session (simulated, 1 min) is stored, then its ``sessions`` file copied under N
session ids of 20 runners, each with its own ``source_sha256``; the look-up is timed cold (a fresh
process: every footer read) and warm (the same process again: the files are only stat'ed), with a
plain read of the column of every file beside it for comparison. Times are wall-clock on whatever
else the machine runs: give the load with them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import imuback
from imuback.store import dataset as store


def build(root: Path, n: int) -> str:
    """A dataset of ``n`` sessions rows; returns the hash of session ``n // 2``."""
    first = imuback.process(imuback.simulate(minutes=1, seed=1, runner_id="r00", session_id="seed"), dataset=root)
    part = store.part_path(root, "sessions", first.runner_id, first.session_id)
    table = pq.read_table(part)
    meta = table.schema.metadata
    for i in range(n):
        sid, rid = f"s{i:05d}", f"r{i % 20:02d}"
        t = table.set_column(table.schema.get_field_index("session_id"), "session_id", pa.array([sid]))
        t = t.set_column(t.schema.get_field_index("runner_id"), "runner_id", pa.array([rid]))
        t = t.set_column(t.schema.get_field_index("source_sha256"), "source_sha256",
                         pa.array([hashlib.sha256(sid.encode()).hexdigest()]))
        out = store.part_path(root, "sessions", rid, sid)
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(t.replace_schema_metadata(meta), out, compression="zstd")
    store.delete_session(root, runner_id=first.runner_id, session_id=first.session_id)
    return hashlib.sha256(f"s{n // 2:05d}".encode()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1000, help="stored sessions (default 1000)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="imuback-same-bytes-") as tmp:
        root = Path(tmp) / "ds"
        want = build(root, args.sessions)
        n = len(store.table_files(root, "sessions"))
        print(f"{n} sessions; load average {os.getloadavg()[0]:.1f}")
        t0 = time.perf_counter()
        for part in store.table_files(root, "sessions"):
            pq.read_table(part, columns=["source_sha256"])
        print(f"plain read of the column of every file: {time.perf_counter() - t0:.2f} s")
        for what in ("cold (every footer read)", "warm (files only stat'ed)", "warm again"):
            t0 = time.perf_counter()
            hits = store.sessions_from_bytes(root, source_sha256=want)
            dt = time.perf_counter() - t0
            print(f"sessions_from_bytes {what}: {dt:.3f} s ({1e3 * dt / n:.2f} ms a session), "
                  f"{len(hits)} found: {hits[0]['session_id']}")
        print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
