"""Running toe-off: other contact models tried against the shipped spring-mass TO (issue #14).

    python benchmarks/run_to_models.py [--data ../shared/data] [--minutes 4]

Each model replaces ``signal/running.py``'s ``_spring_mass_to`` (same inputs: the low-passed
vertical specific force as ~50 Hz block means, IC, the tangent TO, the contact's last sample)
for the length of one run; nothing in the pipeline changes. Models (``t_d``: the 1 g fall of the
low-passed signal after its peak ``F_max`` at ``t_pk``; in the code ``fall_pos`` and ``peak_pos``,
full-rate sample positions):

- ``ic``: the shipped one, a half-sine from IC: ``t_c = t_d / (1 - asin(1 / F_max) / pi)``.
- ``peak``: the fall only, a quarter-cosine from the peak to TO (how the contact was loaded, an
  impact peak or a heel strike, does not move it): ``TO = t_pk + (t_d - t_pk) (pi / 2) / acos(1 / F_max)``.
- ``mean``: the mean of ``ic`` and ``peak``.
- ``impulse``: a half-sine from IC whose impulse carries body weight over the step (impulse-momentum,
  ``2 F_max t_c / pi = T``, ``T`` the mean of the steps before and after): ``t_c`` solves
  ``sin(pi t_d / t_c) = 2 t_c / (pi T)``; no amplitude is read.
- ``tangent1g``: the tangent at the 1 g fall continued to the force-onset level (0.066 g).

Each model's one choice, the low-pass, is chosen on some alcantara trials (smallest RMS TO error)
and reported on the left-out ones (by slope, by speed); then the simulated runners of validate.py
at the cut-off chosen on all trials. Also each model fed the force plate's vGRF (as
``contact_shape.py`` does for the shipped one): its error on the contact's shape alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from unittest import mock

import numpy as np
import numpy.typing as npt

import imuback.signal.running as running
from imuback.signal.dsp import argmin_between, crossings
from imuback.signal.params import EventParams, PipelineParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
import sim_accuracy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Model = Callable[[F64, int, F64, F64, F64], F64]
CUTOFFS_HZ = (4.0, 5.0, 6.0, 8.0, 10.0)
ONSET_G = 0.066


def _fall(xm_d: F64, dec: int, ic: F64, to: F64, right: F64) -> tuple[F64, F64, F64, I64, npt.NDArray[np.bool_]]:
    """Per contact: peak F_max, its position (parabolic) and the 1 g fall's (full-rate sample
    positions), the block index of the fall, and whether the model applies (as ``_spring_mass_to``)."""
    c = (dec - 1) / 2.0
    a = np.clip(np.ceil((ic - c) / dec).astype(np.int64), 0, xm_d.size - 1)
    b = np.clip(np.floor((to - c) / dec).astype(np.int64) + 1, a + 1, xm_d.size)
    pk = argmin_between(-xm_d, a, b)
    f_max = xm_d[pk]
    p0 = np.clip(pk, 1, xm_d.size - 2)
    y0, y1, y2 = xm_d[p0 - 1], xm_d[p0], xm_d[p0 + 1]
    curv = y0 - 2.0 * y1 + y2
    off = np.where(curv < 0, 0.5 * (y0 - y2) / np.where(curv < 0, curv, -1.0), 0.0)
    peak_pos = (p0 + np.clip(off, -1.0, 1.0)) * dec + c
    _, dn = crossings(xm_d, 1.0)
    j = np.minimum(np.searchsorted(dn, pk), max(dn.size - 1, 0))
    fall_pos = dn[j] * dec + c if dn.size else np.full(ic.size, np.inf)
    ok = (f_max > 1.0) & (dn.size > 0) & (np.searchsorted(dn, pk) < dn.size) & (fall_pos <= right) & (fall_pos > ic)
    k = np.clip(np.floor(dn[j]).astype(np.int64), 0, xm_d.size - 2) if dn.size else np.zeros(ic.size, np.int64)
    return np.maximum(f_max, 1.0 + 1e-9), peak_pos, fall_pos, k, ok.astype(bool) & (peak_pos < fall_pos)


def _peak(xm_d: F64, dec: int, ic: F64, to: F64, right: F64) -> F64:
    f, peak_pos, fall_pos, _, ok = _fall(xm_d, dec, ic, to, right)
    return np.where(ok, peak_pos + (fall_pos - peak_pos) * (np.pi / 2) / np.arccos(1.0 / f), to)


def _mean(xm_d: F64, dec: int, ic: F64, to: F64, right: F64) -> F64:
    f, peak_pos, fall_pos, _, ok = _fall(xm_d, dec, ic, to, right)
    to_ic_pos = ic + (fall_pos - ic) / (1.0 - np.arcsin(1.0 / f) / np.pi)
    to_peak_pos = peak_pos + (fall_pos - peak_pos) * (np.pi / 2) / np.arccos(1.0 / f)
    return np.where(ok, 0.5 * (to_ic_pos + to_peak_pos), to)


def _impulse(xm_d: F64, dec: int, ic: F64, to: F64, right: F64) -> F64:
    _, _, fall_pos, _, ok = _fall(xm_d, dec, ic, to, right)
    d = np.diff(ic)
    good = (d > 0) & (d < 1.5 * np.median(d)) if d.size else np.zeros(0, bool)
    step = np.where(good, d, np.nan)
    both = np.vstack([np.concatenate([[np.nan], step]), np.concatenate([step, [np.nan]])])
    n_ok = np.isfinite(both).sum(axis=0)
    period = np.where(n_ok > 0, np.nansum(both, axis=0) / np.maximum(n_ok, 1), np.nan)
    fall_after_ic = fall_pos - ic
    lo, hi = fall_after_ic.copy(), 2.0 * fall_after_ic
    for _ in range(40):  # bisection over all contacts at once
        mid = 0.5 * (lo + hi)
        below = np.sin(np.pi * fall_after_ic / mid) < 2.0 * mid / (np.pi * period)
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    root = (1.0 - 4.0 * fall_after_ic / (np.pi * period)) > 0  # a root between t_d and 2 t_d
    return np.where(ok & np.isfinite(period) & root, ic + 0.5 * (lo + hi), to)


def _tangent1g(xm_d: F64, dec: int, ic: F64, to: F64, right: F64) -> F64:
    _, _, fall_pos, k, ok = _fall(xm_d, dec, ic, to, right)
    slope = (xm_d[k] - xm_d[k + 1]) / dec  # g per full-rate sample
    return np.where(ok & (slope > 0), fall_pos + (1.0 - ONSET_G) / np.maximum(slope, 1e-12), to)


MODELS: dict[str, Model | None] = {"ic": None, "peak": _peak, "mean": _mean, "impulse": _impulse,
                                   "tangent1g": _tangent1g}


def _params(hz: float) -> PipelineParams:
    return PipelineParams(events=EventParams(run_to_lowpass_hz=hz))


def _with(model: Model | None) -> AbstractContextManager[object]:
    return mock.patch.object(running, "_spring_mass_to", model if model is not None else running._spring_mass_to)


def real(trials: list[real_running.Trial]) -> tuple[list[str], dict[str, float]]:
    """Per model: every cut-off on all trials, by slope and speed at the all-trial pick, held out."""
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    lines, picks = [], {}
    for name, model in MODELS.items():
        with _with(model):
            runs = {hz: real_running.score(trials, params=_params(hz)) for hz in CUTOFFS_HZ}
        best = min(CUTOFFS_HZ, key=lambda hz: real_running.rmse(runs[hz].to_err_s))
        picks[name] = best
        s = runs[best]
        by = []
        for label, group in (("m/s", speed), ("deg", slope)):
            for v in np.unique(group):
                e = s.to_err_s[np.isin(s.trial, np.flatnonzero(group == v))]
                by.append(f"{v:+g} {label} {1e3 * e.mean():+5.1f}")
        lines.append(f"{name:<10} all trials: {best:g} Hz  TO {real_running.ms(s.to_err_s)}  "
                     f"(rms by cut-off: " + " ".join(f"{hz:g} Hz {1e3 * real_running.rmse(r.to_err_s):.1f}"
                                                     for hz, r in runs.items()) + ")")
        lines.append(f"{'':<10} by group at {best:g} Hz: " + "; ".join(by))
        for gname, group in (("slope", slope), ("speed", speed)):
            held, chosen = [], []
            for v in np.unique(group):
                out = np.flatnonzero(group == v)
                pick = min(CUTOFFS_HZ,
                           key=lambda hz: real_running.rmse(runs[hz].to_err_s[~np.isin(runs[hz].trial, out)]))
                e = runs[pick].to_err_s[np.isin(runs[pick].trial, out)]
                held.append(e)
                chosen.append(f"{v:+g}: {pick:g} Hz {1e3 * e.mean():+.1f}")
            lines.append(f"{'':<10} leave one {gname} out: held-out TO {real_running.ms(np.concatenate(held))}  "
                         f"({'; '.join(chosen)})")
    return lines, picks


def on_force(root: Path, trials: list[real_running.Trial]) -> list[str]:
    """Per model at 5, 6 and 8 Hz: its TO error fed the force plate's vGRF as if it were the
    sacral signal (the model's error on this runner's contact shape alone, no sacrum)."""
    from contact_shape import detector_on
    from matching import match

    grf = np.loadtxt(root / "GRF.csv", delimiter=",")
    slope = np.array([t.slope_deg for t in trials])
    lines = []
    for name, model in MODELS.items():
        for hz in (5.0, 6.0, 8.0):
            err = []
            with _with(model):
                for k, t in enumerate(trials):
                    ic, to = detector_on(grf[k], real_running.FS_HZ, hz)
                    ei, ri = match(ic, t.ref_ic_s, 0.06)
                    err.append(to[ei] - t.ref_to_s[ri])
            by = " ".join(f"{1e3 * np.concatenate([err[k] for k in np.flatnonzero(slope == v)]).mean():+5.1f}"
                          for v in np.unique(slope))
            lines.append(f"{name:<10} {hz:g} Hz  TO {real_running.ms(np.concatenate(err))}  by slope "
                         f"(-10 .. +10 deg) {by}")
    return lines


def simulated(picks: dict[str, float], minutes: float) -> list[str]:
    """validate.py's six simulated sessions, each model at its all-trial cut-off."""
    lines = []
    for name, model in MODELS.items():
        hz = picks[name]
        per, to_all, ct_all = [], [], []
        with _with(model), mock.patch.object(sim_accuracy, "process_raw",
                                             lambda raw, _hz=hz: real_running.process_raw(raw, params=_params(_hz))):
            for i in range(6):
                e = sim_accuracy.evaluate(1, minutes, scenarios=[sim_accuracy.scenario(i, minutes)], seeds=[100 + i])
                to_all.append(e.cat("to"))
                ct_all.append(e.cat("contact"))
                per.append(f"{1e3 * np.nanmedian(e.cat('to')):+.1f}")
        to, ct = np.concatenate(to_all), np.concatenate(ct_all)
        lines.append(f"{name:<10} {hz:g} Hz  TO median |err| {1e3 * np.nanmedian(np.abs(to)):.1f} ms "
                     f"(bias {1e3 * np.nanmean(to):+.1f}), contact time {1e3 * np.nanmedian(np.abs(ct)):.1f} ms; "
                     f"per session (rearfoot, midfoot, forefoot, x2) median TO error {' '.join(per)} ms")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--minutes", type=float, default=4.0, help="minutes of running per simulated session")
    args = ap.parse_args(argv)
    root = args.data / "real" / "alcantara_treadmill"
    if not root.exists():
        print(f"alcantara_treadmill: skipped ({root} not found)")
        return 0
    trials = real_running.load_trials(root)
    lines, picks = real(trials)
    print("# real: alcantara_treadmill, TO bias ± SD; each model's low-pass chosen on the other groups")
    print("\n".join(lines))
    print("\n# real, each model fed the force plate's vGRF instead of the sacral signal (its error on the contact "
          "shape alone)")
    print("\n".join(on_force(root, trials)))
    print(f"\n# simulated: validate.py's six sessions x {args.minutes:g} min")
    print("\n".join(simulated(picks, args.minutes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
