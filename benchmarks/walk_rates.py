"""Real walking at other sensors' sampling rates: every trial resampled, the same scorer.

    python benchmarks/walk_rates.py [--data ../shared/data] [--rates 50 64 100 128 200]

The recordings are 100 Hz (voisard_l5_walk's Xsens drops packets: 20-650 ms holes). Each trial is
put on a uniform 100 Hz grid (linear interpolation across the holes, as a sensor without
dropouts would have recorded it), then resampled with scipy's polyphase filter (its FIR
low-pass against aliasing) to each rate, and scored as in ``benchmarks/validate.py`` (±100 ms).
The row "100 Hz, as recorded" is the trial untouched. No constant is chosen here.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw

REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))


def resampled(raw: rw.RawSession, rate_hz: float) -> rw.RawSession:
    """``raw`` on a uniform grid at its nominal rate (holes interpolated), resampled to ``rate_hz``."""
    fs = raw.sample_rate_hz
    t = np.arange(raw.time_ns[0], raw.time_ns[-1] + 1, round(1e9 / fs), dtype=np.int64)
    frac = Fraction(rate_hz / fs).limit_denominator(1000)

    def on_grid(x: np.ndarray) -> np.ndarray:
        u = np.stack([np.interp(t, raw.time_ns, x[:, j].astype(np.float64)) for j in range(3)], axis=1)
        return np.asarray(resample_poly(u, frac.numerator, frac.denominator, axis=0), dtype=np.float32)

    acc = on_grid(raw.acc_mps2)
    gyr = None if raw.gyr_dps is None else on_grid(raw.gyr_dps)
    time_ns = raw.time_ns[0] + np.round(np.arange(acc.shape[0]) * 1e9 / rate_hz).astype(np.int64)
    return dataclasses.replace(raw, acc_mps2=acc, gyr_dps=gyr, time_ns=time_ns, sample_rate_hz=float(rate_hz))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--rates", type=float, nargs="+", default=[50.0, 64.0, 100.0, 128.0, 200.0])
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    print("imuback walking at other sampling rates, ±100 ms (n ref, recall, precision, IC bias ± SD ms, "
          "TO, foot, unlabelled)")
    for label, rate in [("100 Hz, as recorded", None), *((f"{r:g} Hz", r) for r in args.rates)]:
        ts = trials if rate is None else [dataclasses.replace(t, raw=resampled(t.raw, rate)) for t in trials]
        dets = [rw.imuback_detect(t) for t in ts]
        print(f"## {label}")
        for dataset, ref in REFS:
            sel = [i for i, t in enumerate(ts) if t.dataset == dataset and ref in t.refs]
            if sel:
                rows = rw.score([ts[i] for i in sel], [dets[i] for i in sel], ref_name=ref, tol_s=0.1)
                print(rw.line(f"{dataset} / {ref}", rw.figures(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
