"""Pipeline speed and memory: 1 h and 24 h of 200 Hz 6-axis running, end to end (read -> rows).

    python benchmarks/bench_pipeline.py [--hours 1 24] [--repeat 3] [--mobgap] [--skdh] [--peer-python PY]

Each measurement runs in a fresh subprocess on one core (BLAS threads 1) and reports wall time,
samples/s and the peak of traced (numpy/Python) allocations over the raw input size. ``--mobgap``
and ``--skdh`` also time the peers (mobgap's ``MobilisedPipelineHealthy``; scikit-digital-health's
``GaitLumbar`` with the whole run given as gait; ``pip install imuback[bench]`` in their own venv) on
the same 1 h recording, in rounds interleaved with imuback, and print the median ratio.
Targets (issue): >= 2 M samples/s (1 h in < 0.4 s), peak memory < 10x the raw input.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def make_raw(path: Path, hours: float, *, walking: bool = False) -> int:
    """Write ``hours`` of simulated 200 Hz running (1 h simulated, then tiled) to ``path``;
    ``walking``: the same length of walking instead (15 s standing at each end, as the running).
    """
    import numpy as np

    from imuback.core import RawSession
    from imuback.simulate.runner import RunnerParams, simulate_session
    from imuback.store.raw import write_raw

    minutes = min(60.0, hours * 60.0)
    params = (RunnerParams(run_minutes=0.0, walk_start_s=(minutes * 60.0 - 30.0) / 2,
                           walk_end_s=(minutes * 60.0 - 30.0) / 2, gaps_per_hour=0.0, sample_rate_hz=200.0)
              if walking else RunnerParams(run_minutes=minutes, gaps_per_hour=0.0, sample_rate_hz=200.0))
    sim = simulate_session(params, seed=11, session_id="bench", runner_id="bench", start_time=1_700_000_000 * 10**9)
    r = sim.raw
    reps = max(1, int(np.ceil(hours * 3600 * 200 / r.n_samples)))
    n = r.n_samples
    period_ns = round(1e9 / r.sample_rate_hz)
    t = (r.time_ns[0] + np.arange(n * reps, dtype=np.int64) * period_ns)[: int(hours * 3600 * 200)]
    m = t.size
    raw = RawSession(session_id="bench", runner_id="bench", sensor=r.sensor, sample_rate_hz=r.sample_rate_hz,
                     time_ns=t, acc_mps2=np.tile(r.acc_mps2, (reps, 1))[:m],
                     gyr_dps=None if r.gyr_dps is None else np.tile(r.gyr_dps, (reps, 1))[:m], mounting=r.mounting)
    write_raw(path, raw)
    return m


_CHILD = r"""
import json, sys, time, tracemalloc
from imuback.store.raw import read_raw
from imuback.pipeline import process_raw
from imuback.runtime import tune_allocator
tune_allocator()  # as the imuback command and batch workers run
path, traced = sys.argv[1], sys.argv[2] == "mem"
if traced:
    tracemalloc.start()
runs = []
for _ in range(1 if traced else 2):  # the first file in a fresh process, then a second one (warm)
    t0 = time.perf_counter()
    raw = read_raw(path)
    res = process_raw(raw)
    runs.append(time.perf_counter() - t0)
peak = tracemalloc.get_traced_memory()[1] if traced else 0
print(json.dumps({"seconds": runs[-1], "cold_seconds": runs[0], "n": raw.n_samples, "steps": res.steps.num_rows,
                  "peak_bytes": peak, "raw_bytes": raw.n_samples * (8 + 6 * 4)}))
"""

_MOBGAP = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
from imuback.store.raw import read_raw
from mobgap.data import GaitDatasetFromData
from mobgap.pipeline import MobilisedPipelineHealthy
raw = read_raw(sys.argv[1])
# mobgap's lower-back convention (McRoberts MM+): x up, y right, z forward; acc in m/s^2, gyro deg/s
body_to_mm = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]], dtype=float)
r = body_to_mm @ raw.mounting
acc, gyr = raw.acc_mps2 @ r.T, raw.gyr_dps @ r.T
df = pd.DataFrame({"acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
                   "gyr_x": gyr[:, 0], "gyr_y": gyr[:, 1], "gyr_z": gyr[:, 2]})
ds = GaitDatasetFromData({"bench": {"LowerBack": df}}, raw.sample_rate_hz,
                         {"bench": {"height_m": 1.75, "sensor_height_m": 1.0, "cohort": "HA"}},
                         {"bench": {"measurement_condition": "free_living"}})
t0 = time.perf_counter()
MobilisedPipelineHealthy().safe_run(ds[0])
print(json.dumps({"seconds": time.perf_counter() - t0, "n": raw.n_samples}))
"""

_SKDH = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
from imuback.store.raw import read_raw
from skdh.gait import GaitLumbar
raw = read_raw(sys.argv[1])
fs = raw.sample_rate_hz
acc = raw.acc_mps2.astype(float) @ raw.mounting.T / 9.80665  # body frame in g, as skdh wants
gyr = np.deg2rad(raw.gyr_dps.astype(float) @ raw.mounting.T)
t = raw.time_ns / 1e9
t0 = time.perf_counter()
# skdh's gait classifier (PredictGaitLumbarLgbm) finds no walking in a run and GaitLumbar would then
# do nothing: the whole recording is handed over as gait, so skdh finds every step as imuback does
res = GaitLumbar().predict(time=t, accel=acc, gyro=gyr, fs=fs, height=1.75, gait_pred=True)
print(json.dumps({"seconds": time.perf_counter() - t0, "n": raw.n_samples, "steps": len(res["IC Timestamp"])}))
"""

PEERS = {"mobgap": ("mobgap MobilisedPipelineHealthy", _MOBGAP),
         "skdh": ("skdh GaitLumbar (whole run as gait)", _SKDH)}


def run_child(code: str, path: Path, *args: str, python: str = sys.executable) -> dict[str, float]:
    """Run ``code`` on ``path`` in a fresh single-threaded interpreter; return its JSON line."""
    env = {**os.environ, **ONE_CORE}
    out = subprocess.run([python, "-c", code, str(path), *args], check=True, capture_output=True, text=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 24.0])
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    ap.add_argument("--mobgap", action="store_true", help="also time mobgap on the 1 h file")
    ap.add_argument("--skdh", action="store_true", help="also time scikit-digital-health on the 1 h file")
    ap.add_argument("--peer-python", "--mobgap-python", default=sys.executable,
                    help="interpreter that has the peers installed")
    ap.add_argument("--peer-rounds", "--mobgap-rounds", type=int, default=3, help="interleaved peer/imuback rounds")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ours_1h = None
        for hours in args.hours:
            path = Path(tmp) / f"bench_{hours:g}h.parquet"
            t = time.perf_counter()
            n = make_raw(path, hours)
            os.sync()  # the file's write-back must not run during the timed children
            print(f"{hours:g} h: {n:,} samples at 200 Hz, 6 axes (made in {time.perf_counter() - t:.1f} s)")
            runs = [run_child(_CHILD, path, "time") for _ in range(args.repeat if hours <= 1 else 1)]
            best = min(runs, key=lambda r: r["seconds"])
            mem = run_child(_CHILD, path, "mem")
            rate = best["n"] / best["seconds"]
            cold = min(r["cold_seconds"] for r in runs)
            print(f"  imuback end to end (read + process), warm: {best['seconds']:.3f} s = "
                  f"{rate / 1e6:.2f} M samples/s; "
                  f"first file in a fresh process: {cold:.3f} s = {best['n'] / cold / 1e6:.2f} M samples/s")
            print(f"  {best['steps']:,} steps; peak traced memory {mem['peak_bytes'] / 2**20:.0f} MiB = "
                  f"{mem['peak_bytes'] / best['raw_bytes']:.1f}x the raw input ({best['raw_bytes'] / 2**20:.0f} MiB: "
                  "int64 time + 6 float32 columns)")
            if hours == 1.0:
                ours_1h = best
        for peer in [p for p in PEERS if getattr(args, p)]:
            if ours_1h is None:
                break
            # interleaved rounds: a shared machine's speed drifts, a ratio needs both under one load
            name, code = PEERS[peer]
            path = Path(tmp) / "bench_1h.parquet"
            ratios = []
            for k in range(args.peer_rounds):
                try:
                    mg = run_child(code, path, python=args.peer_python)
                except subprocess.CalledProcessError as exc:
                    print(f"  {peer} failed: {exc.stderr.strip().splitlines()[-1] if exc.stderr else exc}")
                    break
                ours = run_child(_CHILD, path, "time")["seconds"]
                ratios.append(mg["seconds"] / ours)
                print(f"  round {k + 1}: {name} on the same 1 h {mg['seconds']:.1f} s, "
                      f"imuback {ours:.3f} s -> {ratios[-1]:.0f}x")
            if ratios:
                print(f"  imuback is {statistics.median(ratios):.0f}x faster than {peer} (median of "
                      f"{len(ratios)} interleaved rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
