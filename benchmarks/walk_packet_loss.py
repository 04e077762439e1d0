"""How many steady walking steps a lossy wireless link costs: real walking, packets dropped on purpose.

    python benchmarks/walk_packet_loss.py [--data ../shared/data] [--seeds 3]

voisard_l5_walk's Xsens link drops packets (runs of 2-9 samples at 100 Hz, in one trial 20 % of
them), and there the packet loss was the largest single cause of missed steady walking steps
(``benchmarks/walk_steady.py``). This script takes every voisard trial that lost under 1 % of its
samples, drops further samples in bursts (``BURSTS``: lengths drawn from voisard's own dropped
runs, or geometric with a mean of 50 or 150 ms) at an overall loss rate — never the first or
last sample — and scores the walking steps against the foot-sensor reference as ``validate.py`` does
(one-to-one within 100 ms): all ICs, and the steady straight ones (``real_walking.steady_rhythm``).
Each loss rate is run with the gap bridging as it is (``ResampleParams.max_fill_s``) and with
gaps up to 0.3 s bridged, over ``--seeds`` random drop patterns.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.params import PipelineParams, ResampleParams

LOSS = (0.0, 0.02, 0.05, 0.1, 0.2)
BURSTS = ("voisard's own", 5.0, 15.0)
"""Burst lengths: drawn from voisard_l5_walk's own dropped runs (pooled over its trials: mostly 1-3
samples), or geometric with this mean (samples at 100 Hz; a lost BLE notification carries several
samples)."""
SETTINGS = {"max_fill_s 0.1 (now)": PipelineParams(),
            "max_fill_s 0.3": PipelineParams(resample=dataclasses.replace(ResampleParams(), max_fill_s=0.3))}


def burst_mask(n: int, loss: float, burst: float | npt.NDArray[np.int64], rng: np.random.Generator
               ) -> npt.NDArray[np.bool_]:
    """True for the samples kept: bursts at overall rate ``loss``, of geometric length with mean
    ``burst`` samples, or drawn from the lengths in the array ``burst``; kept runs geometric."""
    keep = np.ones(n, dtype=bool)
    if loss <= 0.0:
        return keep
    mean = float(np.mean(burst))
    good = mean * (1.0 - loss) / loss  # mean run of kept samples between bursts
    k = int(2 * n / (good + mean)) + 8  # enough bursts to pass the end
    runs = np.empty(2 * k, dtype=np.int64)
    runs[0::2] = rng.geometric(1.0 / good, k)
    runs[1::2] = (rng.geometric(1.0 / mean, k) if np.ndim(burst) == 0
                  else rng.choice(np.asarray(burst, dtype=np.int64), k))
    keep = np.repeat(np.tile(np.array([True, False]), k), runs)[:n]  # kept run, burst, kept run, ...
    keep = np.concatenate([keep, np.ones(n - keep.size, dtype=bool)])
    keep[[0, -1]] = True
    return keep


def voisard_bursts(trials: list[rw.Trial]) -> npt.NDArray[np.int64]:
    """Every run of consecutive samples voisard_l5_walk's link dropped (on its sample counter)."""
    runs = []
    for t in trials:
        k = np.round((t.raw.time_ns - t.raw.time_ns[0]) * t.raw.sample_rate_hz / 1e9).astype(np.int64)
        d = np.diff(k) - 1
        runs.append(d[d > 0])
    return np.concatenate([np.zeros(0, np.int64), *runs])


def loss_share(trials: list[rw.Trial]) -> npt.NDArray[np.float64]:
    """Share of samples each trial lost."""
    return np.array([1.0 - t.raw.time_ns.size / ((t.raw.time_ns[-1] - t.raw.time_ns[0])
                                                  * t.raw.sample_rate_hz / 1e9 + 1) for t in trials])


def drop(trial: rw.Trial, keep: npt.NDArray[np.bool_]) -> rw.Trial:
    """The trial with only the ``keep`` samples received."""
    r = trial.raw
    raw = dataclasses.replace(r, time_ns=r.time_ns[keep], acc_mps2=r.acc_mps2[keep],
                              gyr_dps=None if r.gyr_dps is None else r.gyr_dps[keep])
    return dataclasses.replace(trial, raw=raw)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)
    trials = [t for t in rw.load(args.data) if t.dataset == "voisard_l5_walk"]
    if not trials:
        print(f"no voisard_l5_walk under {args.data / 'real'}: skipped")
        return 0
    fs = trials[0].raw.sample_rate_hz
    own = voisard_bursts(trials)
    lost = loss_share(trials)
    print(f"voisard_l5_walk's own packet loss: per trial median {100 * np.median(lost):.1f} %, "
          f"max {100 * lost.max():.1f} %, {np.sum(lost >= 0.05)} of {lost.size} trials >= 5 %; "
          f"{own.size} dropped runs, mean {own.mean():.2f} samples, {100 * np.mean(own > 10):.1f} % longer "
          f"than 10 (max {own.max()})")
    clean = [t for t, x in zip(trials, lost, strict=True) if x < 0.01]
    print(f"voisard_l5_walk: {len(clean)} of {len(trials)} trials lost < 1 % of their samples; further samples "
          f"dropped in bursts; ±100 ms, {args.seeds} drop patterns each (recall / precision)")
    print(f"{'loss':>5} {'burst':>6}  " + "".join(f"{k + ': all':>27}{k + ': steady':>30}" for k in SETTINGS))
    for b in BURSTS:
        burst = own if isinstance(b, str) else b
        for loss in LOSS:
            cells = []
            for params in SETTINGS.values():
                dets, tr = [], []
                for seed in range(args.seeds if loss > 0 else 1):
                    rng = np.random.default_rng(1000 * seed + 7)
                    for t in clean:
                        lossy = drop(t, burst_mask(t.raw.time_ns.size, loss, burst, rng))
                        tr.append(lossy)
                        dets.append(rw.imuback_detect(lossy, params))
                rows = rw.score(tr, dets, ref_name="foot IMU", tol_s=0.1)
                a, s = rw.figures(rows), rw.figures(rows, "steady", "steady straight")
                cells.append(f"{a.recall:>19.3f} / {a.precision:.3f}{s.recall:>22.3f} / {s.precision:.3f}")
            label = "own" if isinstance(b, str) else f"{b / fs * 1e3:.0f}ms"
            print(f"{100 * loss:>4.0f}% {label:>6}  " + "".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
