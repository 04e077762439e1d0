"""Running metrics at low sample rates: the same runs at 25, 50, 100, 200 Hz (and as recorded).

    python benchmarks/rate_sensitivity.py [--data ../shared/data] [--rates 25 50 100 200]

Which running numbers move when a sensor (a phone) samples slowly, and from which rate down, for
the report's low-rate caveat and the dataset's nulls (``store.schema.RATE_SENSITIVE``, review 25 #7,
review 32 #3). Two sources:

- real: alcantara_treadmill (21 trials, 500 Hz, force treadmill as reference): each trial
  resampled with scipy's polyphase filter (its FIR low-pass against aliasing, as a sensor's
  digital filter) to each rate; recall, IC / TO bias ± SD against the force plate, vGRF RMSE,
  and the medians of impact, loading rate and contact time over the matched steps.
- simulated: ``imuback.simulate`` runners (4 min each, seeds 1-3) at 400 Hz resampled the same
  way, and simulated natively at each rate (the simulator's own sensor, no anti-alias filter).

Impact and loading rate have no reference: each is given as the median over the steps and its
change against the highest rate. No constant is chosen by the pipeline here; the report's
censoring rate is read off these tables (docs/validation_log.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

import imuback
from imuback.pipeline import process_raw
from imuback.store.raw import RawSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running as rr
from matching import match

F64 = npt.NDArray[np.float64]
METRICS = ("impact_peak_g", "loading_rate_g_per_s", "contact_time_s")


def resampled(raw: RawSession, rate_hz: float) -> RawSession:
    """``raw`` (uniformly sampled) resampled to ``rate_hz`` with a polyphase anti-alias filter."""
    frac = Fraction(rate_hz / raw.sample_rate_hz).limit_denominator(1000)

    def poly(x: npt.NDArray[np.floating] | None) -> npt.NDArray[np.float32] | None:
        if x is None:
            return None
        return np.asarray(resample_poly(x.astype(np.float64), frac.numerator, frac.denominator, axis=0),
                          dtype=np.float32)

    acc = poly(raw.acc_mps2)
    assert acc is not None
    time_ns = raw.time_ns[0] + np.round(np.arange(acc.shape[0]) * 1e9 / rate_hz).astype(np.int64)
    return dataclasses.replace(raw, acc_mps2=acc, gyr_dps=poly(raw.gyr_dps), time_ns=time_ns,
                               sample_rate_hz=float(rate_hz))


def _col(steps: object, name: str) -> F64:
    import pyarrow as pa

    assert isinstance(steps, pa.Table)
    return np.asarray(steps.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _run_steps(raw: RawSession) -> tuple[F64, dict[str, F64], F64, F64]:
    """(IC s, {metric: values}, TO s, vGRF BW) of the running steps of ``raw``."""
    steps = process_raw(raw).steps
    run = np.asarray(steps.column("activity").to_numpy(zero_copy_only=False)) == "run"
    ic, to = rr._seconds(steps.column("ic_time"))[run], rr._seconds(steps.column("to_time"))[run]
    return ic, {m: _col(steps, m)[run] for m in METRICS}, to, _col(steps, "grf_peak_bw")[run]


def _med(x: F64) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _vs(value: float, ref: float) -> str:
    return f"{value:7.2f} ({100 * (value - ref) / ref:+5.1f} %)" if np.isfinite(value) else "    n/a          "


def real(data: Path, rates: list[float]) -> list[str]:
    root = data / "real" / "alcantara_treadmill"
    if not root.exists():
        return [f"no alcantara_treadmill under {data / 'real'}: skipped"]
    trials = rr.load_trials(root)
    out = ["# real: alcantara_treadmill (21 trials), matched steps (60 ms); impact g, loading rate g/s, "
           "contact ms: median (change vs 500 Hz)",
           f"{'rate':>9} {'recall':>7} {'IC ms':>14} {'TO ms':>14} {'vGRF RMSE':>10} "
           f"{'impact g':>17} {'loading g/s':>17} {'contact ms':>17}"]
    ref_meds: dict[str, float] = {}
    for rate in [rr.FS_HZ, *rates]:
        n_ref = n_hit = 0
        ic_e, to_e, grf_e, vals = [], [], [], {m: [] for m in METRICS}
        for t in trials:
            raw = t.raw if rate == rr.FS_HZ else resampled(t.raw, rate)
            ic, mets, to, grf = _run_steps(raw)
            ei, ri = match(ic, t.ref_ic_s, 0.06)
            n_ref, n_hit = n_ref + t.ref_ic_s.size, n_hit + ri.size
            ic_e.append(ic[ei] - t.ref_ic_s[ri])
            to_e.append(to[ei] - t.ref_to_s[ri])
            grf_e.append(grf[ei] - t.ref_peak_bw[ri])
            for m in METRICS:
                vals[m].append(mets[m][ei])
        meds = {m: _med(np.concatenate(vals[m])) * (1000 if m == "contact_time_s" else 1) for m in METRICS}
        ref_meds = ref_meds or meds
        ice, toe, ge = (np.concatenate(x) for x in (ic_e, to_e, grf_e))
        out.append(f"{rate:7g} Hz {n_hit / n_ref:7.3f} {rr.ms(ice):>14} {rr.ms(toe):>14} "
                   f"{rr.rmse(ge):7.3f} BW " + " ".join(_vs(meds[m], ref_meds[m]) for m in METRICS))
    return out


def simulated(rates: list[float], seeds: tuple[int, ...] = (1, 2, 3), minutes: float = 4.0) -> list[str]:
    out = [f"# simulated: {len(seeds)} runners x {minutes:g} min; impact g, loading rate g/s, contact ms: "
           "median over the running steps (change vs 400 Hz)"]
    for how in ("resampled from 400 Hz (anti-alias filter)", "simulated at the rate (no anti-alias filter)"):
        out.append(f"## {how}")
        out.append(f"{'rate':>9} {'steps':>6} {'impact g':>17} {'loading g/s':>17} {'contact ms':>17}")
        src = {s: imuback.simulate(minutes=minutes, seed=s, sample_rate_hz=400.0) for s in seeds}
        ref_meds: dict[str, float] = {}
        for rate in [400.0, *rates]:
            n, vals = 0, {m: [] for m in METRICS}
            for s in seeds:
                if rate == 400.0:
                    raw = src[s]
                elif how.startswith("resampled"):
                    raw = resampled(src[s], rate)
                else:
                    raw = imuback.simulate(minutes=minutes, seed=s, sample_rate_hz=rate)
                ic, mets, _, _ = _run_steps(raw)
                n += ic.size
                for m in METRICS:
                    vals[m].append(mets[m])
            meds = {m: _med(np.concatenate(vals[m])) * (1000 if m == "contact_time_s" else 1) for m in METRICS}
            ref_meds = ref_meds or meds
            out.append(f"{rate:7g} Hz {n:6d} " + " ".join(_vs(meds[m], ref_meds[m]) for m in METRICS))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=rr.DEFAULT_DATA)
    ap.add_argument("--rates", type=float, nargs="+", default=[200.0, 100.0, 50.0, 25.0])
    args = ap.parse_args(argv)
    print("\n".join(real(args.data, args.rates)))
    print("\n".join(simulated(args.rates)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
