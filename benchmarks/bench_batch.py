"""Batch throughput: sessions/s with 1 and 2 local workers, memory per worker, and a Dask LocalCluster.

    python benchmarks/bench_batch.py                      # 200 sessions x 30 min at 200 Hz
    python benchmarks/bench_batch.py --sessions 16 --minutes 5   # a quick run

Raw sessions come from the simulator (``imuback.simulate.runner``) when it is installed, else from
a built-in analytic generator (half-sine contacts; said so in the output). They are written once
into ``--data`` and reused by later runs with the same sizes. Every run writes a fresh dataset.
Rates include starting the worker processes, as a user would see them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from imuback.batch.runner import BatchSummary, available_cpus, run_batch
from imuback.core import G_MPS2, RawSession
from imuback.store.raw import write_raw

T0_NS = 1_700_000_000 * 10**9


def _analytic(session_id: str, runner_id: str, *, minutes: float, fs: float, seed: int) -> RawSession:
    rng = np.random.default_rng(seed)
    step_s, contact_s = 0.34 + 0.04 * rng.random(), 0.24
    t = np.arange(int(minutes * 60 * fs)) / fs
    ph, k = t % step_s, (t // step_s).astype(int)
    hump = np.where(ph < contact_s, np.sin(np.pi * ph / contact_s), 0.0)
    side = np.where(k % 2 == 0, 1.0, -1.0)
    fwd = np.where(ph < contact_s, -0.5 * np.sin(2 * np.pi * ph / contact_s), 0.0)
    acc = np.column_stack([fwd, 0.3 * side * hump, hump * step_s / (contact_s * 2 / np.pi)]) * G_MPS2
    acc += rng.normal(0, 0.05, acc.shape)
    w = np.pi / step_s
    gyr = np.column_stack([30 * np.sin(w * t), 10 * np.sin(2 * w * t), 20 * np.sin(w * t)])
    gyr += rng.normal(0, 0.1, gyr.shape)
    return RawSession(session_id=session_id, runner_id=runner_id, sensor="analytic",
                      sample_rate_hz=fs, time_ns=(T0_NS + np.round(t * 1e9)).astype(np.int64),
                      acc_mps2=acc.astype(np.float32), gyr_dps=gyr.astype(np.float32))


def _simulate_one(job: tuple[Path, int, float, float, str]) -> Path:
    folder, i, minutes, fs, source = job
    sid, rid = f"s{i:04d}", f"runner{i % 20:02d}"
    if source == "simulator":
        from imuback.simulate.runner import RunnerParams, simulate_session, write_simulated

        params = RunnerParams(run_minutes=minutes, sample_rate_hz=fs)
        start_ns = T0_NS + i * 86_400 * 10**9
        sim = simulate_session(params, seed=i, session_id=sid, runner_id=rid, start_time=start_ns)
        return write_simulated(sim, folder)
    return write_raw(folder / f"{sid}.parquet", _analytic(sid, rid, minutes=minutes, fs=fs, seed=i))


def make_sessions(data: Path, *, n: int, minutes: float, fs: float,
                  analytic: bool) -> tuple[list[Path], str]:
    """Write (or reuse) ``n`` raw sessions, in parallel; return their paths and their source."""
    source = "analytic"
    if not analytic:
        try:
            import imuback.simulate.runner  # noqa: F401
            source = "simulator"
        except ImportError:
            print("no simulator installed: using the analytic generator")
    folder = data / f"{source}_n{n}_m{minutes:g}_fs{fs:g}"
    files = sorted(folder.glob("*.parquet"))
    if len(files) == n:
        return files, source
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=available_cpus()) as pool:
        list(pool.map(_simulate_one, [(folder, i, minutes, fs, source) for i in range(n)]))
    print(f"wrote {n} sessions ({source}) in {time.perf_counter() - t0:.1f} s -> {folder}")
    return sorted(folder.glob("*.parquet")), source


def report(label: str, s: BatchSummary, n_samples: int) -> float:
    rate = len(s.outcomes) / s.elapsed_s
    per_worker: dict[str, float] = {}
    for o in s.outcomes:
        per_worker[o.worker] = max(per_worker.get(o.worker, 0.0), o.peak_rss_mb)
    busy = sum(o.elapsed_s for o in s.outcomes)
    cpu = sum(o.cpu_s for o in s.outcomes)
    mem = ", ".join(f"{v:.0f}" for v in sorted(per_worker.values()))
    print(f"{label:<36} {s.elapsed_s:7.2f} s  {rate:6.2f} sessions/s  "
          f"{n_samples / s.elapsed_s / 1e6:6.2f} M samples/s  "
          f"{busy / len(s.outcomes):.3f} s/session in worker ({cpu / len(s.outcomes):.3f} s CPU)  "
          f"peak RSS per worker (MB): {mem}  [{s.counts}]")
    assert s.ok, [o.message for o in s.failures][:3]
    return rate


DASK_ENV = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
"""Dask's default worker environment without ``MALLOC_TRIM_THRESHOLD_=65536``: with it, every
large numpy array is a fresh mmap and its pages fault in again, which nearly doubled the CPU time
per session here (0.30 -> 0.55 s for a 30-minute session)."""


def run_dask(files: list[Path], out: Path, *, label: str, environ: dict[str, int] | None,
             n_samples: int) -> float:
    import dask
    from distributed import LocalCluster

    config = {"distributed.nanny.pre-spawn-environ": environ} if environ is not None else {}
    with dask.config.set(config), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None) as cluster:
        # Each Dask worker imports the pipeline on its first task: warm up outside the timing.
        run_batch(files[:4], dataset=out / "warmup", scheduler=cluster.scheduler_address,
                  progress="none")
        s = run_batch(files, dataset=out / "ds", scheduler=cluster.scheduler_address,
                      progress="none")
    return report(f"{label}, 2 workers", s, n_samples)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--fs", type=float, default=200.0)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "imuback-bench-batch",
                    help="where the raw sessions are kept between runs")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    ap.add_argument("--analytic", action="store_true",
                    help="use the fast analytic generator instead of the simulator")
    args = ap.parse_args(argv)

    files, source = make_sessions(args.data, n=args.sessions, minutes=args.minutes, fs=args.fs,
                                  analytic=args.analytic)
    n_samples = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    raw_mb = sum(f.stat().st_size for f in files) / 2**20
    print(f"{args.sessions} sessions x {args.minutes:g} min running at {args.fs:g} Hz ({source}); "
          f"{n_samples / 1e6:.0f} M samples, {raw_mb:.0f} MB of Parquet; "
          f"{available_cpus()} CPUs, Python {sys.version.split()[0]}")
    out = Path(tempfile.mkdtemp(prefix="imuback-bench-ds-"))
    try:
        # Start the fork server (it imports the pipeline once for all workers) outside the timings.
        run_batch(files[:4], dataset=out / "warmup", workers=2, progress="none")
        rates = {}
        for n in (1, 2):
            s = run_batch(files, dataset=out / f"local{n}", workers=n, progress="none")
            rates[n] = report(f"local pool, {n} worker{'s' if n > 1 else ''}", s, n_samples)
        print(f"scaling 1 -> 2 workers: {rates[2] / rates[1]:.2f}x (target >= 1.8x)")
        again = run_batch(files, dataset=out / "local2", workers=2, progress="none")
        print(f"re-run, all up to date: {again.elapsed_s:.2f} s ({again.counts['skipped']} skipped)")
        if not args.no_dask:
            for label, environ in (("dask defaults", None), ("dask, no malloc trim", DASK_ENV)):
                rate = run_dask(files, out / label.replace(" ", "_").replace(",", ""),
                                label=label, environ=environ, n_samples=n_samples)
                print(f"{label} vs local pool (2 workers): {rate / rates[2]:.2f}x")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"driver peak RSS: {_driver_rss_mb():.0f} MB")
    return 0


def _driver_rss_mb() -> float:
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if os.uname().sysname != "Darwin" else rss / 2**20


if __name__ == "__main__":
    sys.exit(main())
