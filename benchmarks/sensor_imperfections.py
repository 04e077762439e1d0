"""Real recordings through a worse sensor: one imperfection of a cheaper IMU at a time.

    python benchmarks/sensor_imperfections.py [--data ../shared/data] [--seeds 3] [--only NAME ...]

Every real dataset (voisard_l5_walk / foot IMU, mobgap_lab / INDIP and / stereo: walking;
alcantara_treadmill: running) is degraded by one imperfection of a phone, a DIY board or a
consumer wearable and scored as ``benchmarks/validate.py`` scores it: walking one-to-one within
±100 ms (recall, precision, IC bias ± SD, feet right of labelled, unlabelled share); running
matched within 60 ms (recall, extra steps, IC and TO bias ± SD, peak vGRF RMSE). Random
imperfections run ``--seeds`` draws (seeds 0..n-1, the same at every level) pooled into one row.

Each imperfection acts on the channels as the sensor recorded them (the sensor frame for the
walking sets; alcantara's two recorded axes, vertical and anterior-posterior, for running: its
lateral channel is absent and stays zero). Levels and where they come from (``LEVELS``):

- gyroscope bias, constant, each axis ±b deg/s (random sign): Bosch BMG160 zero-rate offset
  ±1 deg/s (typ., over life-time; CISS manual 4.11.2); 3 and 5 deg/s: uncalibrated consumer parts
  out of the box (the brief's levels).
- gyroscope bias drift: each axis from 0 to ±3 deg/s, linear over the recording (a warm-up; the
  BMG160's 0.015 deg/s/K over 20 K is 0.3 deg/s: 3 deg/s is a stress level).
- accelerometer bias, each axis ±0.02 / ±0.05 g (random sign): Bosch BMA280 zero-g offset ±50 mg
  (typ., over life-time; CISS manual 4.11.1).
- accelerometer scale error, each axis ×(1 ± 2 %) / ×(1 ± 5 %) (random sign): the brief's levels
  (consumer parts' sensitivity tolerance plus a wrong range setting's rounding).
- white noise: datasheet level first (BMA280 120 µg/√Hz, BMG160 0.014 deg/s/√Hz, CISS manual;
  over the Nyquist band of 100 Hz sampling, ×√50 Hz: 0.85 mg and 0.10 deg/s RMS), the row that
  gives each figure's noise (it should change nothing); then phone / cheap-board levels 0.01 /
  0.03 g and 0.3 / 1 deg/s RMS at 100 Hz (the brief's; 12-35× and 3-10× the datasheet's white
  noise: vibration of a soft mount, low-power modes). Noise density is kept across sampling rates
  (RMS × √(fs / 100 Hz) at alcantara's 500 Hz).
- quantisation: a 12-bit ±8 g accelerometer (3.9 mg LSB) and a 16-bit ±2000 deg/s gyroscope
  (0.061 deg/s LSB), as the BMI160/LSM6DS3 class registers hold them.
- accelerometer saturation at ±2 / ±4 / ±8 g per axis (the BMA280's and LSM6DS3's ranges; many
  phone and DIY firmwares leave the ±2 g or ±4 g default; sacral running impacts reach 4-6 g).
- timestamp jitter: each sample's time moved uniformly within ±j ms (a host that stamps samples on
  arrival; phones' sensor events), j = 1, 2, 5 ms at 100 Hz, capped at 0.45 of the sample period
  so that the order of the samples is kept (0.9 ms at alcantara's 500 Hz).

No constant of the pipeline is chosen here. A validation script, not a speed benchmark: it prints
the peak memory at the end and no samples/s.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running as rr
import real_walking as rw
from imuback.core import G_MPS2
from imuback.store.raw import RawSession

F64 = npt.NDArray[np.float64]
REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))
DATASHEET_ACC_UG_RTHZ = 120.0
"""Bosch BMA280 accelerometer noise density (typ.), µg/√Hz."""
DATASHEET_GYR_DPS_RTHZ = 0.014
"""Bosch BMG160 gyroscope noise density (typ.), deg/s/√Hz."""


@dataclass(frozen=True, kw_only=True)
class Imperfection:
    """One imperfection at one level: ``apply(acc, gyr, t_ns, fs, axes, rng)`` -> (acc, gyr, t_ns).

    ``axes``: the recorded accelerometer axes (alcantara: x and z); ``gyr`` may be None."""

    name: str
    level: str
    apply: Callable[..., tuple[F64, F64 | None, npt.NDArray[np.int64]]]
    random: bool = True
    gyro: bool = False
    """Acts on the gyroscope only (alcantara, without one, skips it)."""
    range_g: float | None = None
    """The accelerometer range the degraded file declares (None: as the recording declared it)."""


def _signs(rng: np.random.Generator) -> F64:
    return rng.choice(np.array([-1.0, 1.0]), 3)


def gyro_bias(b_dps: float) -> Imperfection:
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        return acc, None if gyr is None else gyr + b_dps * _signs(rng), t
    return Imperfection(name="gyro bias", level=f"±{b_dps:g} deg/s", apply=f, gyro=True)


def gyro_drift(b_dps: float) -> Imperfection:
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        if gyr is None:
            return acc, None, t
        ramp = (t - t[0]) / max(float(t[-1] - t[0]), 1.0)
        return acc, gyr + ramp[:, None] * (b_dps * _signs(rng))[None, :], t
    return Imperfection(name="gyro bias drift", level=f"0→±{b_dps:g} deg/s", apply=f, gyro=True)


def acc_bias(b_g: float) -> Imperfection:
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        out = acc.copy()
        out[:, axes] += (b_g * G_MPS2 * _signs(rng))[axes]
        return out, gyr, t
    return Imperfection(name="acc bias", level=f"±{b_g:g} g", apply=f)


def acc_scale(s: float) -> Imperfection:
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        return acc * (1.0 + s * _signs(rng))[None, :], gyr, t
    return Imperfection(name="acc scale", level=f"±{100 * s:g} %", apply=f)


def noise(acc_g_rms: float, gyr_dps_rms: float, label: str) -> Imperfection:
    """White noise of ``acc_g_rms`` / ``gyr_dps_rms`` RMS at 100 Hz (same density at other rates)."""
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        k = np.sqrt(fs / 100.0)
        out = acc.copy()
        out[:, axes] += rng.standard_normal((acc.shape[0], len(axes))) * acc_g_rms * G_MPS2 * k
        g = None if gyr is None else gyr + rng.standard_normal(gyr.shape) * gyr_dps_rms * k
        return out, g, t
    return Imperfection(name="white noise", level=label, apply=f)


def quantised(acc_bits: int, acc_range_g: float, gyr_bits: int, gyr_range_dps: float) -> Imperfection:
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        la = 2 * acc_range_g * G_MPS2 / 2 ** acc_bits
        lg = 2 * gyr_range_dps / 2 ** gyr_bits
        return np.round(acc / la) * la, None if gyr is None else np.round(gyr / lg) * lg, t
    return Imperfection(name="quantisation", level=f"{acc_bits}-bit ±{acc_range_g:g} g, {gyr_bits}-bit "
                        f"±{gyr_range_dps:g} deg/s", apply=f, random=False)


def saturated(range_g: float, *, declared: bool) -> Imperfection:
    """Clipped at ±``range_g``; ``declared``: the file says its range (``RawSession.acc_range_g``,
    as imuback's collector and .cwa files do), else not (phone apps, CSV exports)."""
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        lim = np.float32(range_g * G_MPS2)  # at the float32 value the file will hold
        return np.clip(acc, -lim, lim), gyr, t
    return Imperfection(name="acc saturation", level=f"±{range_g:g} g, range {'declared' if declared else 'unknown'}",
                        apply=f, random=False, range_g=range_g if declared else None)


def jitter(j_ms: float) -> Imperfection:
    def f(acc: F64, gyr: F64 | None, t: npt.NDArray[np.int64], fs: float, axes: list[int],
          rng: np.random.Generator) -> tuple[F64, F64 | None, npt.NDArray[np.int64]]:
        j_ns = min(j_ms * 1e6, 0.45e9 / fs)
        dt = np.round(rng.uniform(-j_ns, j_ns, t.size)).astype(np.int64)
        dt[[0, -1]] = 0
        return acc, gyr, t + dt
    return Imperfection(name="timestamp jitter", level=f"±{j_ms:g} ms (≤ 0.45 sample period)", apply=f)


DATASHEET = noise(DATASHEET_ACC_UG_RTHZ * 1e-6 * np.sqrt(50.0), DATASHEET_GYR_DPS_RTHZ * np.sqrt(50.0),
                  "datasheet (0.85 mg, 0.10 deg/s)")
LEVELS: tuple[Imperfection, ...] = (
    DATASHEET,
    gyro_bias(1.0), gyro_bias(3.0), gyro_bias(5.0), gyro_drift(3.0),
    acc_bias(0.02), acc_bias(0.05), acc_scale(0.02), acc_scale(0.05),
    noise(0.01, 0.3, "phone (0.01 g, 0.3 deg/s)"), noise(0.03, 1.0, "cheap board (0.03 g, 1 deg/s)"),
    quantised(12, 8.0, 16, 2000.0),
    *(saturated(r, declared=d) for r in (8.0, 4.0, 2.0) for d in (True, False)),
    jitter(1.0), jitter(2.0), jitter(5.0),
)


def degrade(raw: RawSession, imp: Imperfection, rng: np.random.Generator, axes: list[int]) -> RawSession:
    """``raw`` as the imperfect sensor would have recorded it."""
    acc = raw.acc_mps2.astype(np.float64)
    gyr = None if raw.gyr_dps is None else raw.gyr_dps.astype(np.float64)
    a, g, t = imp.apply(acc, gyr, raw.time_ns, raw.sample_rate_hz, axes, rng)
    return dataclasses.replace(raw, acc_mps2=a.astype(np.float32),
                               gyr_dps=None if g is None else g.astype(np.float32), time_ns=t,
                               acc_range_g=raw.acc_range_g if imp.range_g is None else imp.range_g)


def _rngs(imp: Imperfection, seeds: int) -> list[np.random.Generator]:
    return [np.random.default_rng(1000 * s + 11) for s in range(seeds if imp.random else 1)]


def walking_rows(trials: list[rw.Trial], imp: Imperfection | None, seeds: int) -> dict[str, rw.Figures]:
    """Figures per dataset / reference (±100 ms) of the trials degraded by ``imp`` (None: as recorded)."""
    if imp is None:
        ts = trials
    else:
        ts = [dataclasses.replace(t, raw=degrade(t.raw, imp, rng, [0, 1, 2])) for rng in _rngs(imp, seeds)
              for t in trials]
    dets = [rw.imuback_detect(t) for t in ts]
    out = {}
    for ds, ref in REFS:
        sel = [i for i, t in enumerate(ts) if t.dataset == ds and ref in t.refs]
        if sel:
            out[f"{ds} / {ref}"] = rw.figures(rw.score([ts[i] for i in sel], [dets[i] for i in sel],
                                                       ref_name=ref, tol_s=0.1))
    return out


def running_line(trials: list[rr.Trial], imp: Imperfection | None, seeds: int) -> str:
    """alcantara_treadmill's running figures of the trials degraded by ``imp``."""
    ts = trials if imp is None else [dataclasses.replace(t, raw=degrade(t.raw, imp, rng, [0, 2]))
                                     for rng in _rngs(imp, seeds) for t in trials]
    s = rr.score(ts)
    n = int(s.n_ref.sum())
    ok = np.isfinite(s.to_err_s)
    has = np.isfinite(s.grf_err_bw)
    g = s.grf_err_bw[has]
    return (f"{1 - s.n_missed.sum() / n:>7.3f}{int(s.n_extra.sum()):>6}  {rr.ms(s.ic_err_s):<17}  "
            f"{rr.ms(s.to_err_s[ok]):<17}{int((~ok).sum()):>6}{rr.rmse(g):>10.3f}{int((~has).sum()):>8}")


def clipped_same_steps(trials: list[rr.Trial], levels: list[Imperfection]) -> None:
    """Peak vGRF RMSE of the clipped runs on the same steps: read from the clipped sacral signal
    (the clip handling switched off in this process only) vs from the steps' timing (as shipped)."""
    from unittest import mock

    import imuback.signal.session as session_module

    def off(sm: object, **kw: npt.NDArray[np.bool_]) -> tuple[object, npt.NDArray[np.bool_]]:
        return sm, np.zeros(kw["run_mask"].size, dtype=bool)

    print("\n# peak vGRF RMSE of clipped alcantara runs on the same steps: clipped sacral peak -> timing")
    for imp in levels:
        if imp.name != "acc saturation" or imp.range_g is None:
            continue
        ts = [dataclasses.replace(t, raw=degrade(t.raw, imp, rng, [0, 2])) for rng in _rngs(imp, 1) for t in trials]
        shipped = rr.score(ts).grf_err_bw
        with mock.patch.object(session_module, "peaks_without_clipping", off):
            sacral = rr.score(ts).grf_err_bw
        both = np.isfinite(shipped) & np.isfinite(sacral)
        lost = np.isfinite(sacral) & ~both
        print(f"  {imp.level:<40}{rr.rmse(sacral[both]):.3f} -> {rr.rmse(shipped[both]):.3f} BW on "
              f"{int(both.sum())} steps" + (f"; the {int(lost.sum())} steps without a timing vGRF had "
                                            f"{rr.rmse(sacral[lost]):.3f} BW" if lost.any() else ""), flush=True)


def noise_anatomy(trials: list[rw.Trial], seeds: int) -> None:
    """The cheap-board white noise split: accelerometer only, gyroscope only, both; recall at
    ±100 and ±250 ms and precision at ±100 ms, per dataset / reference and per subject."""
    print("\n## cheap-board white noise taken apart: recall ±100 / ±250 ms, precision ±100 ms; per subject")
    for label, imp in (("as recorded", None), ("acc 0.03 g only", noise(0.03, 0.0, "acc")),
                       ("gyro 1 deg/s only", noise(0.0, 1.0, "gyro")), ("both", noise(0.03, 1.0, "both"))):
        ts = trials if imp is None else [dataclasses.replace(t, raw=degrade(t.raw, imp, rng, [0, 1, 2]))
                                         for rng in _rngs(imp, seeds) for t in trials]
        dets = [rw.imuback_detect(t) for t in ts]
        for ds, ref in REFS:
            sel = [i for i, t in enumerate(ts) if t.dataset == ds and ref in t.refs]
            for subj in ["all", *sorted({ts[i].subject for i in sel})] if ds == "mobgap_lab" else ["all"]:
                k = [i for i in sel if subj in ("all", ts[i].subject)]
                a, b = (rw.figures(rw.score([ts[i] for i in k], [dets[i] for i in k], ref_name=ref, tol_s=tol))
                        for tol in (0.1, 0.25))
                print(f"  {label:<20}{f'{ds} / {ref} / {subj}':<40}{a.n_ref:>6}{a.recall:>8.3f}{b.recall:>8.3f}"
                      f"{a.precision:>8.3f}", flush=True)


def simulated_pelvic_drop(sessions: int, minutes: float) -> None:
    """Pelvic drop per foot of simulated running (symmetric runners: the truth has no left/right
    difference; no real running recording here has a gyroscope) through a gyroscope with a
    constant bias about every axis (random sign), the same sessions at every level."""
    from imuback.signal.session import analyse_session
    from imuback.simulate.params import RunnerParams
    from imuback.simulate.runner import simulate_session

    print(f"\n# pelvic drop, simulated running ({sessions} symmetric runners, {minutes:g} min each, "
          "gyro bias added on top of the simulator's own ±1 deg/s): median per foot, |L - R| per session")
    print(f"{'gyro bias':<14}{'L deg':>7}{'R deg':>7}{'|L-R| mean deg':>16}{'max':>6}")
    sims = [simulate_session(RunnerParams(run_minutes=minutes), seed=s, session_id=f"s{s}", runner_id="r",
                             start_time=1_600_000_000 * 10**9).raw for s in range(sessions)]
    for b in (0.0, 1.0, 3.0, 5.0):
        med = []
        for s, raw in enumerate(sims):
            imp = gyro_bias(b)
            a = analyse_session(degrade(raw, imp, np.random.default_rng(1000 * s + 11), [0, 1, 2]))
            d, f = a.step.pelvic_drop_deg, a.steps.foot
            run = a.steps.activity == 2
            med.append([float(np.nanmedian(d[run & (f == side)])) for side in (0, 1)])
        m = np.asarray(med)
        diff = np.abs(m[:, 0] - m[:, 1])
        print(f"±{b:<13g}{np.mean(m[:, 0]):>7.2f}{np.mean(m[:, 1]):>7.2f}{np.mean(diff):>16.2f}{np.max(diff):>6.2f}",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", nargs="+", default=None, help="imperfection names to run (e.g. 'gyro bias')")
    ap.add_argument("--sim-sessions", type=int, default=4, help="simulated running sessions for the pelvic drop")
    ap.add_argument("--sim-minutes", type=float, default=3.0)
    args = ap.parse_args(argv)
    levels = [x for x in LEVELS if args.only is None or x.name in args.only]
    trials = rw.load(args.data)
    alc = args.data / "real" / "alcantara_treadmill"
    run_trials = rr.load_trials(alc) if alc.exists() else []
    if not trials and not run_trials:
        print(f"no real data under {args.data / 'real'}: skipped")
        return 0
    print(f"real recordings through an imperfect sensor; random imperfections pooled over {args.seeds} seeds")
    if trials:
        print("\n# walking, ±100 ms: " + rw.HEADER[24:].strip())
        print(f"{'imperfection':<56}{rw.HEADER[24:]}")
        for imp in [None, *levels]:
            label = "as recorded" if imp is None else f"{imp.name}, {imp.level}"
            print(f"## {label}")
            for key, fig in walking_rows(trials, imp, args.seeds).items():
                print(f"  {key:<54}" + rw.line("", fig)[24:], flush=True)
        if DATASHEET in levels:
            print("\n## noise of each figure: datasheet white noise, each seed alone")
            for s in range(args.seeds):
                one = dataclasses.replace(DATASHEET, level=f"{DATASHEET.level}, seed {s}")
                ts = [dataclasses.replace(t, raw=degrade(t.raw, one, np.random.default_rng(1000 * s + 11), [0, 1, 2]))
                      for t in trials]
                dets = [rw.imuback_detect(t) for t in ts]
                for ds, ref in REFS:
                    sel = [i for i, t in enumerate(ts) if t.dataset == ds and ref in t.refs]
                    f = rw.figures(rw.score([ts[i] for i in sel], [dets[i] for i in sel], ref_name=ref, tol_s=0.1))
                    print(f"  {f'{ds} / {ref}, seed {s}':<54}" + rw.line("", f)[24:], flush=True)
        if any(x.name == "white noise" for x in levels):
            noise_anatomy(trials, args.seeds)
    if run_trials:
        print(f"\n# running, alcantara_treadmill ({len(run_trials)} trials, 500 Hz, no gyroscope): matched within "
              "60 ms; TO and peak vGRF over the steps that report them")
        print(f"{'imperfection':<56}{'recall':>7}{'extra':>6}  {'IC bias ± SD':<17}  {'TO bias ± SD':<17}"
              f"{'no TO':>6}{'vGRF RMSE':>10}{'no vGRF':>8}")
        for imp in [None, *levels]:
            if imp is not None and imp.gyro:
                continue
            label = "as recorded" if imp is None else f"{imp.name}, {imp.level}"
            print(f"{label:<56}{running_line(run_trials, imp, args.seeds)}", flush=True)
        clipped_same_steps(run_trials, levels)
    if args.sim_sessions > 0:
        simulated_pelvic_drop(args.sim_sessions, args.sim_minutes)
    print(f"\npeak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (a validation "
          "script: it times nothing, so no samples/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
