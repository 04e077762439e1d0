"""Accuracy of the stride pipeline: real recordings (../shared/data) and simulated sessions.

    python benchmarks/validate.py [--data ../shared/data] [--sim-sessions 6] [--sim-minutes 4]
    python benchmarks/validate.py --no-gyro   # real walking only, its gyroscope dropped

Prints one table per data set. Real-data sections skip with a message where the folder is absent
(`python benchmarks/get_real_data.py` downloads them, checked by SHA-256).
The figures are kept in docs/validation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
import real_walking

F64 = npt.NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
T0_NS = 1_600_000_000 * 10**9


def _ts(col: object) -> F64:
    import pyarrow as pa

    assert isinstance(col, pa.ChunkedArray | pa.Array)
    return np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64) / 1e9


# --- Alcantara 2022 running: loader and scorer in benchmarks/real_running.py ---


def _ms(x: F64) -> str:
    return (f"{1e3 * np.mean(x):+6.1f} ms bias, SD {1e3 * np.std(x):5.1f} ms, "
            f"median |err| {1e3 * np.median(np.abs(x)):5.1f} ms")


def report_real(data: Path, *, no_gyro: bool = False) -> dict[str, object]:
    """Print the real-recording tables (``no_gyro``: only the walking ones, as an accelerometer-only
    sensor would have recorded them); return the figures."""
    out: dict[str, object] = {}
    alc = data / "real" / "alcantara_treadmill"
    if no_gyro:
        pass  # alcantara has no gyroscope: its table does not change
    elif alc.exists():
        trials = real_running.load_trials(alc)
        r = real_running.score(trials)
        print("\n## alcantara_treadmill (real running, force treadmill, 500 Hz, 2-axis sacral accelerometer)")
        print("matched within 60 ms of a force-plate IC (50 N); IC and TO bias ± SD; by speed and slope")
        print("\n".join(real_running.breakdown(trials, r)))
        print("(targets, held-back trials: recall 1.00, IC bias within ±5 ms SD ≤ 10 ms, "
              "TO bias within ±5 ms SD ≤ 15 ms, peak vGRF RMSE ≤ 0.15 BW)")
        auc = real_running.auroc(r.quality, real_running.step_ok(r))
        print(f"quality AUROC (step right: |IC err| ≤ 10 ms and |TO err| ≤ 20 ms): {auc:.2f}")
        out["alcantara"] = {"ic_bias_ms": 1e3 * float(np.mean(r.ic_err_s)), "ic_sd_ms": 1e3 * float(np.std(r.ic_err_s)),
                            "to_bias_ms": 1e3 * float(np.mean(r.to_err_s)), "to_sd_ms": 1e3 * float(np.std(r.to_err_s)),
                            "grf_rmse_bw": real_running.rmse(r.grf_err_bw), "missed": int(r.n_missed.sum()),
                            "extra": int(r.n_extra.sum()), "n_ref": int(r.n_ref.sum()), "quality_auroc": auc}
    else:
        print(f"\n## alcantara_treadmill: skipped ({alc} not found; python benchmarks/get_real_data.py fetches it)")
    trials = real_walking.load(data, no_gyro=no_gyro)
    if trials:
        dets = [real_walking.imuback_detect(t) for t in trials]
        title = "imuback walking, gyroscope dropped" if no_gyro else "imuback walking"
        out["walking"] = real_walking.report(trials, dets, title=title)
    else:
        print(f"\n## real walking: skipped (neither voisard_l5_walk nor mobgap_lab under "
              f"{data / 'real'}; python benchmarks/get_real_data.py fetches them)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--sim-sessions", type=int, default=6)
    ap.add_argument("--sim-minutes", type=float, default=4.0)
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--no-gyro", action="store_true",
                    help="only real walking, with the gyroscope dropped (an accelerometer-only sensor)")
    args = ap.parse_args(argv)
    figures = report_real(args.data, no_gyro=args.no_gyro)
    if args.no_gyro:
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=float))
        return 0
    try:
        from sim_accuracy import report_failure_modes, report_simulated  # benchmarks/sim_accuracy.py
    except ImportError:
        report_simulated = None
    if report_simulated is not None:
        figures["simulated"] = report_simulated(sessions=args.sim_sessions, minutes=args.sim_minutes)
        figures["simulated_failure_modes"] = report_failure_modes(sessions=args.sim_sessions,
                                                                  minutes=args.sim_minutes)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
