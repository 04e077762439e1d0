"""Accuracy of the stride pipeline: real recordings (../shared/data) and simulated sessions.

    python benchmarks/validate.py [--data ../shared/data] [--sim-sessions 6] [--sim-minutes 4]

Prints one table per data set. Real-data sections skip with a message where the folder is absent
(`python benchmarks/get_real_data.py` downloads them, checked by SHA-256).
The figures are kept in docs/validation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2, RawSession
from imuback.pipeline import process_raw

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking
from matching import match

F64 = npt.NDArray[np.float64]
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
T0_NS = 1_600_000_000 * 10**9


def _ts(col: object) -> F64:
    import pyarrow as pa

    assert isinstance(col, pa.ChunkedArray | pa.Array)
    return np.asarray(col.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64) / 1e9


# --- Alcantara 2022: treadmill running, sacral accelerometer (vertical + AP, g), force treadmill ---

@dataclass(frozen=True)
class AlcantaraResult:
    """Event and vGRF errors over all reference steps fully inside the trials."""

    ic_err_s: F64
    to_err_s: F64
    grf_err_bw: F64
    n_ref: int
    n_missed: int
    n_extra: int


def _crossings(x: F64, level: float) -> tuple[F64, F64]:
    b = x < level
    up = np.flatnonzero(b[:-1] & ~b[1:])
    dn = np.flatnonzero(~b[:-1] & b[1:])
    return up + (level - x[up]) / (x[up + 1] - x[up]), dn + (x[dn] - level) / (x[dn] - x[dn + 1])


def alcantara(root: Path, *, remove_ap_offset: bool = True) -> AlcantaraResult:
    """Run the pipeline on every trial; reference IC/TO where vGRF crosses 50 N (0.066 BW).

    The AP channel's constant offset is not a consistent tilt: with it, the mean specific force
    of a trial is ~1.3 g where any tilt would give 1 g. By default it is removed (per trial
    mean) so that gravity alignment does not mix AP propulsion into the vertical channel.
    """
    acc = np.loadtxt(root / "Accelerometer.csv", delimiter=",")
    grf = np.loadtxt(root / "GRF.csv", delimiter=",")
    fs = 500.0
    n = grf.shape[1]
    ic_e, to_e, grf_e = [], [], []
    n_ref = n_missed = n_extra = 0
    for i in range(acc.shape[0]):
        vert, ap = acc[i, :n], acc[i, n:]
        if remove_ap_offset:
            ap = ap - ap.mean()
        a = np.column_stack([ap, np.zeros(n), vert]) * G_MPS2  # ML channel absent
        raw = RawSession(session_id=f"alc{i}", runner_id="alcantara", sensor="alcantara", sample_rate_hz=fs,
                         time_ns=(T0_NS + np.round(np.arange(n) / fs * 1e9)).astype(np.int64),
                         acc_mps2=a.astype(np.float32), gyr_dps=None)
        steps = process_raw(raw).steps
        ic = _ts(steps.column("ic_time")) - T0_NS / 1e9
        to = _ts(steps.column("to_time")) - T0_NS / 1e9
        gp = np.asarray(steps.column("grf_peak_bw").to_numpy(zero_copy_only=False), dtype=np.float64)
        up, dn = _crossings(grf[i], 0.066)
        # reference contacts fully inside the trial (IC then TO), with 0.1 s margin at the edges
        j = np.searchsorted(dn, up)
        ok = j < dn.size
        r_ic, r_to = up[ok] / fs, dn[j[ok]] / fs
        keep = (r_ic > 0.1) & (r_to < n / fs - 0.1)
        r_ic, r_to = r_ic[keep], r_to[keep]
        r_pk = np.array([grf[i, int(a_ * fs):int(b_ * fs) + 1].max() for a_, b_ in zip(r_ic, r_to, strict=True)])
        ei, ri = match(ic, r_ic, 0.06)
        n_ref += r_ic.size
        n_missed += r_ic.size - ri.size
        ea, _ = match(ic, up / fs, 0.06)  # against every reference contact, edges included
        n_extra += ic.size - ea.size
        ic_e.append(ic[ei] - r_ic[ri])
        to_e.append(to[ei] - r_to[ri])
        grf_e.append(gp[ei] - r_pk[ri])
    return AlcantaraResult(ic_err_s=np.concatenate(ic_e), to_err_s=np.concatenate(to_e),
                           grf_err_bw=np.concatenate(grf_e), n_ref=n_ref, n_missed=n_missed, n_extra=n_extra)


def _ms(x: F64) -> str:
    return (f"{1e3 * np.mean(x):+6.1f} ms bias, SD {1e3 * np.std(x):5.1f} ms, "
            f"median |err| {1e3 * np.median(np.abs(x)):5.1f} ms")


def report_real(data: Path) -> dict[str, object]:
    """Print the real-recording tables; return the figures."""
    out: dict[str, object] = {}
    alc = data / "real" / "alcantara_treadmill"
    if alc.exists():
        r = alcantara(alc)
        rmse = float(np.sqrt(np.mean(r.grf_err_bw ** 2)))
        print("\n## alcantara_treadmill (real running, force treadmill, 500 Hz, 2-axis sacral accelerometer)")
        print(f"reference steps {r.n_ref}, missed {r.n_missed}, extra {r.n_extra}")
        print(f"IC  {_ms(r.ic_err_s)}   (target: bias within ±10 ms, SD ≤ 15 ms)")
        print(f"TO  {_ms(r.to_err_s)}   (target: bias within ±10 ms, SD ≤ 20 ms)")
        ct = r.to_err_s - r.ic_err_s
        print(f"contact time {_ms(ct)}")
        print(f"peak vGRF RMSE {rmse:.3f} BW, bias {np.mean(r.grf_err_bw):+.3f} BW   (target RMSE ≤ 0.20 BW)")
        out["alcantara"] = {"ic_bias_ms": 1e3 * float(np.mean(r.ic_err_s)), "ic_sd_ms": 1e3 * float(np.std(r.ic_err_s)),
                            "to_bias_ms": 1e3 * float(np.mean(r.to_err_s)), "to_sd_ms": 1e3 * float(np.std(r.to_err_s)),
                            "grf_rmse_bw": rmse, "missed": r.n_missed, "extra": r.n_extra, "n_ref": r.n_ref}
    else:
        print(f"\n## alcantara_treadmill: skipped ({alc} not found; python benchmarks/get_real_data.py fetches it)")
    trials = real_walking.load(data)
    if trials:
        dets = [real_walking.imuback_detect(t) for t in trials]
        out["walking"] = real_walking.report(trials, dets, title="imuback walking")
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
    args = ap.parse_args(argv)
    figures = report_real(args.data)
    try:
        from sim_accuracy import report_simulated  # benchmarks/sim_accuracy.py
    except ImportError:
        report_simulated = None
    if report_simulated is not None:
        figures["simulated"] = report_simulated(sessions=args.sim_sessions, minutes=args.sim_minutes)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
