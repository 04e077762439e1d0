"""The clip (saturation) rule of :func:`imuback.signal.clipping.clipped_rows`: false positives on
unclipped, quantised runs and misses on clipped, calibrated ones, with the range unknown.

    python benchmarks/clip_rule.py [--data ../shared/data] [--minutes 30] [--seeds 4] [--fs 500]

A validation script (not a speed benchmark): it prints the share of sessions called clipped, and,
as STYLE asks of every benchmark, the rule's samples/s and the peak memory of the process.

- Unclipped: simulated rearfoot and forefoot running (``--fs`` Hz, ``--minutes``, ``--seeds``) and
  the real recordings (alcantara_treadmill 21 x 5 s at 500 Hz; voisard_l5_walk and mobgap_lab
  walking), quantised as coarse sensors and CSV files store them. Any session called clipped is a
  false positive.
- Clipped at ±2 / ±4 g per axis, then calibrated per axis as a phone or a factory calibration does
  (scale ±1-2 %, offset ±0.03 g; random sign) and stored 12-bit; a cross-axis (3 x 3) calibration
  is the known limitation (no axis stays flat). Sessions found / truly clipped.
- alcantara_treadmill clipped at ±2 / ±4 g: trials found / trials truly clipped.
- A level sweep: the simulated runs and alcantara_treadmill clipped (float32, no calibration) at
  every level from 2.0 to 4.5 g in 0.1 g steps, sessions found / truly clipped: a clip level among
  most contacts' peaks (review 21: ±2.5 g missed) as well as above and below them.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running as rr
import real_walking as rw
from imuback.core import G_MPS2
from imuback.signal.clipping import clipped_rows
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import simulate_session

F32 = npt.NDArray[np.float32]
QUANTA_G = {"float32": None, "16-bit ±16 g": 32 / 65536, "12-bit ±8 g": 16 / 4096, "CSV 0.01 g": 0.01,
            "10-bit ±16 g": 32 / 1024, "8-bit ±8 g": 16 / 256}
CALIBRATIONS = ((0.0, 0.0, 0.0), (0.01, 0.0, 0.0), (0.02, 0.03, 0.0), (0.0, 0.0, 0.01))
_rows_checked = 0
_rule_s = 0.0


def called(acc_mps2: F32, fs_hz: float) -> bool:
    """The rule says the recording holds clipped samples (range unknown)."""
    global _rows_checked, _rule_s
    t_ns = (np.arange(acc_mps2.shape[0]) * (1e9 / fs_hz)).astype(np.int64)
    t0 = time.perf_counter()
    rows = clipped_rows(acc_mps2, acc_range_g=None, acc_extremes=(float(acc_mps2.max()), float(acc_mps2.min())),
                        time_ns=t_ns)
    _rule_s += time.perf_counter() - t0
    _rows_checked += acc_mps2.shape[0]
    return rows is not None


def quantise(acc_mps2: npt.NDArray[np.float64], lsb_g: float | None) -> F32:
    if lsb_g is None:
        return acc_mps2.astype(np.float32)
    return (np.round(acc_mps2 / G_MPS2 / lsb_g) * lsb_g * G_MPS2).astype(np.float32)


def clip_and_calibrate(acc_mps2: npt.NDArray[np.float64], range_g: float, cal: tuple[float, float, float],
                       rng: np.random.Generator) -> F32:
    lim = range_g * G_MPS2
    lsb = 2 * range_g / 4096
    b = np.clip(np.round(acc_mps2 / G_MPS2 / lsb) * lsb * G_MPS2, -lim, lim)
    scale, off_g, cross = cal
    m = np.diag(1 + scale * rng.choice([-1, 1], 3)) + cross * rng.uniform(-1, 1, (3, 3)) * (1 - np.eye(3))
    out: F32 = (b @ m.T + off_g * G_MPS2 * rng.choice([-1, 1], 3)).astype(np.float32)
    return out


SWEEP_G = np.round(np.arange(2.0, 4.51, 0.1), 1)


def sweep(name: str, sessions: list[tuple[npt.NDArray[np.float32], float]], *, bits: int | None = None) -> None:
    """One line: sessions found / truly clipped with each axis clipped at each ``SWEEP_G``; with
    ``bits``, quantised first as a part of that range and resolution stores it (LSB 2 x level / 2^bits).
    """
    cells = []
    for level_g in SWEEP_G:
        lim = np.float32(level_g * G_MPS2)
        truth = [bool(np.any(np.abs(a) >= lim)) for a, _ in sessions]
        lsb = None if bits is None else 2 * float(level_g) / 2**bits
        found = [t and called(np.clip(quantise(a.astype(np.float64), lsb), -lim, lim), fs)
                 for (a, fs), t in zip(sessions, truth, strict=True)]
        cells.append(f"{sum(found)}/{sum(truth)}")
    print(f"    {name:<18}" + " ".join(f"{c:>5}" for c in cells), flush=True)


def sweep_header() -> None:
    print("  level sweep, clipped at the level (float32): sessions found / truly clipped")
    print(f"    {'level (g)':<18}" + " ".join(f"{v:>5.1f}" for v in SWEEP_G))


def simulated(fs: float, minutes: float, seeds: int) -> None:
    sweeps: dict[str, list[tuple[npt.NDArray[np.float32], float]]] = {}
    for strike in ("rearfoot", "forefoot"):
        sims = [simulate_session(RunnerParams(run_minutes=minutes, quantize=False, sample_rate_hz=fs,
                                              foot_strike=strike, acc_range_g=64.0),
                                 seed=s, session_id="a", runner_id="r", start_time=1_600_000_000 * 10**9
                                 ).raw.acc_mps2.astype(np.float64) for s in range(seeds)]
        print(f"\n## simulated {strike}, {minutes:g} min at {fs:g} Hz, {seeds} seeds")
        print("  unclipped, quantised: sessions called clipped")
        for name, lsb in QUANTA_G.items():
            n = sum(called(quantise(a, lsb), fs) for a in sims)
            print(f"    {name:<16}{n}/{seeds}", flush=True)
        print("  clipped, calibrated, 12-bit: sessions found / truly clipped")
        for range_g in (2.0, 4.0):
            for cal in CALIBRATIONS:
                truth = [bool(np.any(np.abs(a) >= range_g * G_MPS2)) for a in sims]
                found = [called(clip_and_calibrate(a, range_g, cal, np.random.default_rng(s)), fs)
                         for s, a in enumerate(sims)]
                hits = sum(f and t for f, t in zip(found, truth, strict=True))
                print(f"    ±{range_g:g} g, scale ±{cal[0] * 100:g} %, offset ±{cal[1]:g} g, "
                      f"cross-axis ±{cal[2] * 100:g} %: {hits}/{sum(truth)}", flush=True)
        sweeps[f"sim {strike}"] = [(a.astype(np.float32), fs) for a in sims]
    print(f"\n## simulated, {minutes:g} min at {fs:g} Hz, {seeds} seeds")
    sweep_header()
    for name, sessions in sweeps.items():
        sweep(name, sessions)
        sweep(f"{name} 8-bit", sessions, bits=8)


def real(data: Path) -> None:
    alc = data / "real" / "alcantara_treadmill"
    trials = rr.load_trials(alc) if alc.exists() else []
    walks = rw.load(data)
    if not trials and not walks:
        print(f"\nno real data under {data / 'real'}: skipped")
        return
    print(f"\n## real: alcantara_treadmill ({len(trials)} trials, 500 Hz, stored at 0.01 g), walking "
          f"({len(walks)} trials): sessions called clipped, unclipped and quantised")
    for name, lsb in QUANTA_G.items():
        a = sum(called(quantise(t.raw.acc_mps2.astype(np.float64), lsb), t.raw.sample_rate_hz) for t in trials)
        w = sum(called(quantise(t.raw.acc_mps2.astype(np.float64), lsb), t.raw.sample_rate_hz) for t in walks)
        print(f"    {name:<16}alcantara {a}/{len(trials)}   walking {w}/{len(walks)}", flush=True)
    for range_g in (2.0, 4.0):
        lim = np.float32(range_g * G_MPS2)
        truth = [bool(np.any(np.abs(t.raw.acc_mps2) >= lim)) for t in trials]
        found = [called(np.clip(t.raw.acc_mps2, -lim, lim), t.raw.sample_rate_hz) for t in trials]
        hits = sum(f and t for f, t in zip(found, truth, strict=True))
        wrong = sum(f and not t for f, t in zip(found, truth, strict=True))
        print(f"    alcantara clipped at ±{range_g:g} g: found {hits}/{sum(truth)} truly clipped, "
              f"called clipped while not {wrong}", flush=True)
    if trials:
        sweep_header()
        sweep("alcantara", [(t.raw.acc_mps2, t.raw.sample_rate_hz) for t in trials])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--fs", type=float, default=500.0)
    args = ap.parse_args(argv)
    print("clip rule, range unknown: per axis and sign, an extreme >= 1.9 g held in >= 3 excursions "
          "> 0.1 s apart, with at least twice as many samples as any single value in the 0.1 g below it")
    simulated(args.fs, args.minutes, args.seeds)
    real(args.data)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nrule: {_rows_checked / max(_rule_s, 1e-9):.3g} samples/s over {_rows_checked} samples; "
          f"peak memory {peak_mb:.0f} MB (the whole script)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
