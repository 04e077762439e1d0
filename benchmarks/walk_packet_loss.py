"""How many steady walking steps a lossy wireless link costs: real walking, packets dropped on purpose.

    python benchmarks/walk_packet_loss.py [--data ../shared/data] [--seeds 3] [--fills 0.1 0.2 0.3] [--bridges-only]

voisard_l5_walk's Xsens link drops packets (mostly runs of 1-3 samples at 100 Hz; one trial lost
20 % of them, and there the packet loss was the largest single cause of missed steady walking
steps, ``benchmarks/walk_steady.py``). This script takes every voisard trial that lost under 1 %
of its samples, and every mobgap_lab trial, drops further samples in bursts (``BURSTS``: lengths
drawn from voisard's own dropped runs, or geometric with a mean of 50 or 150 ms) at an overall
loss rate — never the first or last sample — and scores the walking steps as ``validate.py`` does
(one-to-one within 100 ms): all ICs, and the steady straight ones (``real_walking.steady_rhythm``);
mobgap_lab's trials (no gaps of their own) the same way, held out. Each loss rate runs with gaps
bridged up to each of ``FILLS_S`` (``ResampleParams.max_fill_s``; the one chosen on voisard is
reported on mobgap_lab), over ``--seeds`` random drop patterns. Then the running steps of
alcantara_treadmill under the same losses: recall, IC, TO and peak vGRF (a running contact over a
bridge longer than ``ResampleParams.exact_fill_s`` reports no TO: counted). Between the two, what
the default bridges take from the walking figures (ICs inside a bridge, steps and strides left
without a time). The drops are bursts placed uniformly at random, with the same seeds at every loss
rate (so the patterns of different rates are correlated), not locked to the steps.
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
FILLS_S = (0.1, 0.2, 0.3)
"""Candidates for ``ResampleParams.max_fill_s`` (0.1 before issue #14's steady-walking work)."""
REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))


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


def _params(fill_s: float) -> PipelineParams:
    r = ResampleParams()
    return PipelineParams(resample=dataclasses.replace(r, max_fill_s=fill_s, exact_fill_s=min(fill_s, r.exact_fill_s)))


def walking(trials: list[rw.Trial], own: npt.NDArray[np.int64], seeds: int, fills: tuple[float, ...] = FILLS_S
            ) -> None:
    """Walking recall / precision (all, steady straight) per data set, burst model, loss and bridge."""
    fs = trials[0].raw.sample_rate_hz
    lost = loss_share(trials)
    clean = [t for t, x in zip(trials, lost, strict=True) if x < 0.01]
    print(f"walking: {sum(t.dataset == 'voisard_l5_walk' for t in clean)} voisard_l5_walk trials that lost < 1 % of "
          f"their samples, {sum(t.dataset == 'mobgap_lab' for t in clean)} mobgap_lab trials; further samples "
          f"dropped in bursts; ±100 ms, {seeds} drop patterns each; recall / precision, all and steady straight")
    print(f"{'data / reference':28s}{'burst':>6}{'loss':>5}  "
          + "".join(f"{f'max_fill_s {f:g}':>32}" for f in fills))
    rows: dict[tuple[str, str, float, float], tuple[rw.Figures, rw.Figures]] = {}
    for b in BURSTS:
        burst = own if isinstance(b, str) else b
        for loss in LOSS:
            lossy = []
            for seed in range(seeds if loss > 0 else 1):
                rng = np.random.default_rng(1000 * seed + 7)
                lossy += [drop(t, burst_mask(t.raw.time_ns.size, loss, burst, rng)) for t in clean]
            dets = {f: [rw.imuback_detect(t, _params(f)) for t in lossy] for f in fills}
            for ds, ref in REFS:
                sel = [i for i, t in enumerate(lossy) if t.dataset == ds and ref in t.refs]
                cells = []
                for f in fills:
                    r = rw.score([lossy[i] for i in sel], [dets[f][i] for i in sel], ref_name=ref, tol_s=0.1)
                    a, st = rw.figures(r), rw.figures(r, "steady", "steady straight")
                    rows[(f"{ds} / {ref}", str(b), loss, f)] = (a, st)
                    cells.append(f"{a.recall:.3f}/{a.precision:.3f} {st.recall:.3f}/{st.precision:.3f}")
                label = "own" if isinstance(b, str) else f"{b / fs * 1e3:.0f}ms"
                print(f"{ds + ' / ' + ref:28s}{label:>6}{100 * loss:>4.0f}%  " + "".join(f"{c:>32}" for c in cells),
                      flush=True)
    # chosen on voisard (steady recall + precision over every burst model and loss), reported on mobgap_lab
    def total(key: str, f: float) -> float:
        return sum(v[1].recall + v[1].precision for k, v in rows.items() if k[0] == key and k[3] == f)

    best = max(fills, key=lambda f: total("voisard_l5_walk / foot IMU", f))
    print(f"chosen on voisard_l5_walk (steady recall + precision summed over bursts and losses): max_fill_s {best:g}; "
          "held out, mobgap_lab: " + ", ".join(f"{ref} {f:g}: {total('mobgap_lab / ' + ref, f):.3f}"
                                              for ref in ("INDIP", "stereo") for f in fills))


def over_bridges(trials: list[rw.Trial], seeds: int) -> None:
    """What the default bridges (``max_fill_s`` 0.3 s) take from the walking figures: the clean
    trials with samples dropped in 50 ms bursts; walking ICs inside a bridge, walking steps and
    strides that lose their time (NaN: they read the interpolated line), time interpolated."""
    from imuback.signal.session import analyse_session

    clean = [t for t, x in zip(trials, loss_share(trials), strict=True) if x < 0.01]
    fs = clean[0].raw.sample_rate_hz
    print(f"\nwalking over bridges (default max_fill_s {ResampleParams().max_fill_s:g}, listed over "
          f"exact_fill_s {ResampleParams().exact_fill_s:g}): the {len(clean)} clean trials, 50 ms bursts, "
          f"{seeds} drop patterns each")
    print(f"{'loss':>5}{'bridges':>9}{'interp. s':>10}{'walk ICs':>9}{'in bridge':>10}{'steps':>7}{'no time':>8}"
          f"{'strides':>8}{'no time':>8}")
    for loss in (0.02, 0.05, 0.1):
        n = np.zeros(8)
        for seed in range(seeds):
            rng = np.random.default_rng(1000 * seed + 7)
            for t in clean:
                a = analyse_session(drop(t, burst_mask(t.raw.time_ns.size, loss, 0.05 * fs, rng)).raw)
                walk = a.steps.activity == 1
                timed = walk & a.steps.has_next()
                b = a.gaps.bridged_idx
                j = np.searchsorted(b[:, 0], np.ceil(a.steps.ic_pos), side="right") - 1
                inside = (j >= 0) & (b[np.maximum(j, 0), 1] > np.floor(a.steps.ic_pos)) if b.size else ~walk & walk
                k = a.stride.first_step
                sw = walk[k]  # strides starting with a walking step
                n += (b.shape[0], float(np.sum(b[:, 1] - b[:, 0])) / fs, walk.sum(), (walk & inside).sum(),
                      timed.sum(), (timed & np.isnan(a.step.step_time_s)).sum(), sw.sum(),
                      (sw & np.isnan(a.stride.stride_time_s)).sum())
        print(f"{100 * loss:>4.0f}%{n[0]:>9.0f}{n[1]:>10.1f}{n[2]:>9.0f}{n[3]:>10.0f}{n[4]:>7.0f}{n[5]:>8.0f}"
              f"{n[6]:>8.0f}{n[7]:>8.0f}", flush=True)


def running(root: Path, own: npt.NDArray[np.int64], seeds: int, fills: tuple[float, ...] = FILLS_S) -> None:
    """Running steps on alcantara_treadmill (500 Hz) with samples dropped in 50 ms bursts (and
    voisard's own drop lengths, scaled to 500 Hz)."""
    import real_running as rr

    trials = rr.load_trials(root)
    fs = trials[0].raw.sample_rate_hz
    print(f"\nrunning: alcantara_treadmill, {len(trials)} trials at {fs:g} Hz, samples dropped in bursts; "
          f"{seeds} drop patterns each; matched within 60 ms; TO and peak vGRF over the steps that report them")
    print(f"{'burst':>6}{'loss':>5} {'max_fill_s':>10}{'recall':>8}{'extra':>6}{'IC bias ± SD ms':>18}"
          f"{'TO bias ± SD ms':>18}{'no TO':>7}{'vGRF RMSE':>10}")
    for b, burst in (("own", own * round(fs / 100.0)), ("50ms", 0.05 * fs)):
        for loss in (0.05, 0.1):
            for f in fills:
                tr = []
                for seed in range(seeds):
                    rng = np.random.default_rng(1000 * seed + 7)
                    tr += [dataclasses.replace(t, raw=drop(t, burst_mask(t.raw.time_ns.size, loss, burst, rng)).raw)
                           for t in trials]
                s = rr.score(tr, params=_params(f))
                ok = np.isfinite(s.to_err_s)
                n = int(s.n_ref.sum())
                g = s.grf_err_bw[np.isfinite(s.grf_err_bw)]
                print(f"{b:>6}{100 * loss:>4.0f}% {f:>10g}{1 - s.n_missed.sum() / n:>8.3f}{int(s.n_extra.sum()):>6}"
                      f"{1e3 * np.mean(s.ic_err_s):>+9.1f} ± {1e3 * np.std(s.ic_err_s):>5.1f}"
                      f"{1e3 * np.mean(s.to_err_s[ok]):>+9.1f} ± {1e3 * np.std(s.to_err_s[ok]):>5.1f}"
                      f"{int((~ok).sum()):>7}{rr.rmse(g):>10.3f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--fills", type=float, nargs="+", default=list(FILLS_S),
                    help="max_fill_s candidates (s); default %(default)s")
    ap.add_argument("--bridges-only", action="store_true", help="only the walking-over-bridges table")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    vo = [t for t in trials if t.dataset == "voisard_l5_walk"]
    if not vo:
        print(f"no voisard_l5_walk under {args.data / 'real'}: skipped")
        return 0
    own = voisard_bursts(vo)
    lost = loss_share(vo)
    print(f"voisard_l5_walk's own packet loss: per trial median {100 * np.median(lost):.1f} %, "
          f"max {100 * lost.max():.1f} %, {np.sum(lost >= 0.05)} of {lost.size} trials >= 5 %; "
          f"{own.size} dropped runs, mean {own.mean():.2f} samples, {100 * np.mean(own > 10):.1f} % longer "
          f"than 10 (max {own.max()})")
    if not args.bridges_only:
        walking(trials, own, args.seeds, tuple(args.fills))
    over_bridges(trials, args.seeds)
    if args.bridges_only:
        return 0
    alc = args.data / "real" / "alcantara_treadmill"
    if alc.exists():
        running(alc, own, args.seeds, tuple(args.fills))
    return 0


if __name__ == "__main__":
    sys.exit(main())
