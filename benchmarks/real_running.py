"""Real running: Alcantara 2022 treadmill trials (sacral accelerometer, force treadmill) -> scores.

    python benchmarks/real_running.py [--data ../shared/data]

Loader and scorer for ``../shared/data/real/alcantara_treadmill`` (one runner, 2.5-4.17 m/s,
slopes -10..+10 deg, 500 Hz; 2 axes: vertical and anterior-posterior, in g; no gyroscope).
Reference IC/TO: vGRF crossing 50 N (0.066 BW) up/down. Every figure is given per trial so it
can be broken down by speed and slope, and any constant checked leave-one-group-out.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.pipeline import process_raw
from imuback.signal.frames import G_MPS2
from imuback.store.raw import RawSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import match

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
T0_NS = 1_600_000_000 * 10**9
FS_HZ = 500.0
ONSET_BW = 0.066
"""Reference contact threshold: 50 N for the 76.8 kg runner (Alcantara 2022)."""


@dataclass(frozen=True)
class Trial:
    """One treadmill trial: the raw session, its reference contacts and its condition."""

    raw: RawSession
    speed_mps: float
    slope_deg: float
    ref_ic_s: F64
    ref_to_s: F64
    ref_peak_bw: F64
    all_ref_ic_s: F64
    """Every reference IC, also those cut by the trial's edges (for counting extra steps)."""
    ref_impact_peak: npt.NDArray[np.bool_]
    """Per reference contact: its force maximum lies in the first 25 % of the contact (the
    impact peak of a heel strike), not in the active peak of mid-stance."""


@dataclass(frozen=True)
class RunScore:
    """Matched steps (within 60 ms of a reference IC) over a set of trials.

    ``trial`` gives each matched step's trial index, so any figure can be broken down.
    """

    trial: I64
    ic_err_s: F64
    to_err_s: F64
    grf_err_bw: F64
    quality: F64
    impact_peak: npt.NDArray[np.bool_]
    """The matched reference contact's force maximum is its impact peak (Trial.ref_impact_peak)."""
    n_ref: I64
    """(T,) reference contacts fully inside each trial."""
    n_missed: I64
    n_extra: I64


def _crossings(x: F64, level: float) -> tuple[F64, F64]:
    b = x < level
    up = np.flatnonzero(b[:-1] & ~b[1:])
    dn = np.flatnonzero(~b[:-1] & b[1:])
    return up + (level - x[up]) / (x[up + 1] - x[up]), dn + (x[dn] - level) / (x[dn] - x[dn + 1])


def load_trials(root: Path, *, remove_ap_offset: bool = True) -> list[Trial]:
    """Every trial of the folder as a raw session (body frame: x forward, y left, z up) + reference.

    The AP channel's constant offset is not a consistent tilt: with it, the mean specific force
    of a trial is ~1.3 g where any tilt would give 1 g. By default it is removed (per trial
    mean) so that gravity alignment does not mix AP propulsion into the vertical channel.
    """
    acc = np.loadtxt(root / "Accelerometer.csv", delimiter=",")
    grf = np.loadtxt(root / "GRF.csv", delimiter=",")
    meta = np.genfromtxt(root / "trials.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    n = grf.shape[1]
    out = []
    for i in range(acc.shape[0]):
        vert, ap = acc[i, :n], acc[i, n:]
        if remove_ap_offset:
            ap = ap - ap.mean()
        a = np.column_stack([ap, np.zeros(n), vert]) * G_MPS2  # ML channel absent
        raw = RawSession(session_id=f"alc{i}", runner_id="alcantara", sensor="alcantara", sample_rate_hz=FS_HZ,
                         time_ns=(T0_NS + np.round(np.arange(n) / FS_HZ * 1e9)).astype(np.int64),
                         acc_mps2=a.astype(np.float32), gyr_dps=None, acc_absent=("acc_y",))
        up, dn = _crossings(grf[i], ONSET_BW)
        # reference contacts fully inside the trial (IC then TO), with 0.1 s margin at the edges
        j = np.searchsorted(dn, up)
        ok = j < dn.size
        r_ic, r_to = up[ok] / FS_HZ, dn[j[ok]] / FS_HZ
        keep = (r_ic > 0.1) & (r_to < n / FS_HZ - 0.1)
        r_ic, r_to = r_ic[keep], r_to[keep]
        segs = [grf[i, int(a_ * FS_HZ):int(b_ * FS_HZ) + 1] for a_, b_ in zip(r_ic, r_to, strict=True)]
        r_pk = np.array([g.max() for g in segs])
        impact = np.array([np.argmax(g) < 0.25 * g.size for g in segs], dtype=bool)
        out.append(Trial(raw=raw, speed_mps=float(meta["Speed"][i]), slope_deg=float(meta["Slope"][i]),
                         ref_ic_s=r_ic, ref_to_s=r_to, ref_peak_bw=r_pk, all_ref_ic_s=up / FS_HZ,
                         ref_impact_peak=impact))
    return out


def _seconds(col: object) -> F64:
    import pyarrow as pa

    assert isinstance(col, pa.ChunkedArray | pa.Array)
    ns = col.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return (np.asarray(ns, dtype=np.float64) - T0_NS) / 1e9


def score(trials: list[Trial], **process_kw: object) -> RunScore:
    """Run the pipeline on every trial and match its steps one-to-one to the reference (60 ms)."""
    tr, ic_e, to_e, grf_e, qs, imp = [], [], [], [], [], []
    n_ref, n_missed, n_extra = [], [], []
    for k, t in enumerate(trials):
        steps = process_raw(t.raw, **process_kw).steps  # type: ignore[arg-type]
        ic, to = _seconds(steps.column("ic_time")), _seconds(steps.column("to_time"))
        gp = np.asarray(steps.column("grf_peak_bw").to_numpy(zero_copy_only=False), dtype=np.float64)
        q = np.asarray(steps.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64)
        ei, ri = match(ic, t.ref_ic_s, 0.06)
        ea, _ = match(ic, t.all_ref_ic_s, 0.06)  # against every reference contact, edges included
        n_ref.append(t.ref_ic_s.size)
        n_missed.append(t.ref_ic_s.size - ri.size)
        n_extra.append(ic.size - ea.size)
        tr.append(np.full(ei.size, k))
        ic_e.append(ic[ei] - t.ref_ic_s[ri])
        to_e.append(to[ei] - t.ref_to_s[ri])
        grf_e.append(gp[ei] - t.ref_peak_bw[ri])
        qs.append(q[ei])
        imp.append(t.ref_impact_peak[ri])
    return RunScore(trial=np.concatenate(tr).astype(np.int64), ic_err_s=np.concatenate(ic_e),
                    to_err_s=np.concatenate(to_e), grf_err_bw=np.concatenate(grf_e), quality=np.concatenate(qs),
                    impact_peak=np.concatenate(imp),
                    n_ref=np.asarray(n_ref), n_missed=np.asarray(n_missed), n_extra=np.asarray(n_extra))


def ms(x: F64) -> str:
    """``bias ± SD`` in ms."""
    if x.size == 0:
        return "      n/a      "
    return f"{1e3 * np.mean(x):+6.1f} ± {1e3 * np.std(x):5.1f} ms"


def rmse(x: F64) -> float:
    """Root mean square."""
    return float(np.sqrt(np.mean(x ** 2))) if x.size else float("nan")


def step_ok(s: RunScore, *, ic_tol_s: float = 0.010, to_tol_s: float = 0.020) -> npt.NDArray[np.bool_]:
    """A matched step is "right" when both its events are within tolerance of the force plate
    (the IC and TO SD targets of issue #14)."""
    return np.asarray((np.abs(s.ic_err_s) <= ic_tol_s) & (np.abs(s.to_err_s) <= to_tol_s), dtype=bool)


def auroc(score_: F64, positive: npt.NDArray[np.bool_]) -> float:
    """Area under the ROC curve of ``score_`` for ``positive`` (Mann-Whitney, ties count half);
    NaN when one class is empty."""
    from scipy.stats import rankdata

    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = rankdata(score_)
    return float((r[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def reliability(score_: F64, positive: npt.NDArray[np.bool_],
                edges: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.9, 1.0001)) -> list[str]:
    """Reliability table: per quality bin, the steps in it and the share that are right."""
    lines = [f"{'quality':<12}{'steps':>7}{'right':>8}"]
    for lo, hi in itertools.pairwise(edges):
        sel = (score_ >= lo) & (score_ < hi)
        share = f"{positive[sel].mean():8.2f}" if sel.any() else f"{'-':>8}"
        lines.append(f"[{lo:.1f}, {min(hi, 1.0):.1f}{')' if hi < 1 else ']'}{'':<2}{int(sel.sum()):>7}{share}")
    return lines


def breakdown(trials: list[Trial], s: RunScore) -> list[str]:
    """One line per speed and per slope group, then all: n, recall, IC, TO, vGRF RMSE."""
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    lines = [f"{'group':<14}{'trials':>7}{'steps':>7}{'recall':>8}  {'IC':<17}  {'TO':<17}  vGRF RMSE"]
    groups = ([(f"{v:.2f} m/s", speed == v) for v in np.unique(speed)]
              + [(f"{v:+.0f} deg", slope == v) for v in np.unique(slope)]
              + [("all", np.ones(len(trials), dtype=bool))])
    for name, sel in groups:
        m = sel[s.trial]
        nr = int(s.n_ref[sel].sum())
        rec = 1.0 - s.n_missed[sel].sum() / max(nr, 1)
        lines.append(f"{name:<14}{int(sel.sum()):>7}{nr:>7}{rec:>8.3f}  {ms(s.ic_err_s[m]):<17}  "
                     f"{ms(s.to_err_s[m]):<17}  {rmse(s.grf_err_bw[m]):.3f} BW")
    lines.append(f"extra steps: {int(s.n_extra.sum())}")
    imp = s.impact_peak
    n_tr = np.unique(s.trial[imp]).size
    lines.append(f"peak vGRF: the force maximum is the impact peak (first 25 % of contact) in {int(imp.sum())} of "
                 f"{imp.size} steps ({n_tr} trials): RMSE there {rmse(s.grf_err_bw[imp]):.3f} BW, "
                 f"on the others {rmse(s.grf_err_bw[~imp]):.3f} BW")
    return lines


TO_LOWPASS_CANDIDATES: tuple[float | None, ...] = (None, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0)
"""``EventParams.run_to_lowpass_hz`` candidates (None: the tangent TO, no spring-mass model)."""


def _label(c: float | None) -> str:
    return "tangent" if c is None else f"{c:g} Hz"


def held_out_to(trials: list[Trial]) -> list[str]:
    """The spring-mass TO's low-pass, chosen on some trials and reported on the others.

    For each candidate the pipeline runs on every trial; then, leaving out one trial (one slope,
    one speed) at a time, the candidate with the smallest RMS TO error on the remaining trials
    is applied to the left-out one. Printed: every candidate on all trials (chosen-on figures),
    then the pooled held-out TO bias ± SD and which candidates the folds picked.
    """
    from imuback.signal.params import EventParams, PipelineParams

    runs = {c: score(trials, params=PipelineParams(events=EventParams(run_to_lowpass_hz=c)))
            for c in TO_LOWPASS_CANDIDATES}
    lines = ["TO by spring-mass low-pass (every trial; the default is 5 Hz):"]
    for c, r in runs.items():
        lines.append(f"  {_label(c):<9} TO {ms(r.to_err_s)}   rms {1e3 * rmse(r.to_err_s):5.1f} ms   "
                     f"IC {ms(r.ic_err_s)}")
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    for name, group in (("trial", np.arange(len(trials))), ("slope", slope), ("speed", speed)):
        held, picks = [], []
        for v in np.unique(group):
            out = np.flatnonzero(group == v)
            best = min(TO_LOWPASS_CANDIDATES,
                       key=lambda c: rmse(runs[c].to_err_s[~np.isin(runs[c].trial, out)]))
            picks.append(_label(best))
            held.append(runs[best].to_err_s[np.isin(runs[best].trial, out)])
        counts = ", ".join(f"{k} x{picks.count(k)}" for k in sorted(set(picks)))
        lines.append(f"leave one {name} out: held-out TO {ms(np.concatenate(held))}  (picked: {counts})")
    return lines


GRF_WEIGHTS: tuple[float, ...] = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))
"""``MetricParams.grf_spring_mass_weight`` candidates (0: the 8 Hz sacral peak alone, 1: the
spring-mass peak from the step's timing alone)."""


def held_out_grf(trials: list[Trial]) -> list[str]:
    """Peak vGRF's spring-mass weight, chosen on some trials and reported on the others.

    The estimate is linear in the weight, so the pipeline runs twice (weights 0 and 1) and every
    candidate is their mix. Printed: each candidate on all trials (chosen-on: RMSE on all steps,
    on active-peak and on impact-peak steps), then, leaving out one trial (slope, speed) at a
    time, the held-out RMSE of the candidate with the smallest RMSE on the others, every fold's
    pick and its held-out RMSE.
    """
    from imuback.signal.params import MetricParams, PipelineParams

    a, b = (score(trials, params=PipelineParams(metrics=MetricParams(grf_spring_mass_weight=w))) for w in (0.0, 1.0))
    err = {w: (1.0 - w) * a.grf_err_bw + w * b.grf_err_bw for w in GRF_WEIGHTS}
    imp = a.impact_peak
    lines = ["peak vGRF by spring-mass weight (every trial; the default is 0.3): "
             "RMSE all / active-peak / impact-peak steps"]
    for w, e in err.items():
        lines.append(f"  w {w:.1f}  {rmse(e):.3f} / {rmse(e[~imp]):.3f} / {rmse(e[imp]):.3f} BW   "
                     f"bias {np.mean(e):+.3f} BW")
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    for name, group, fmt in (("trial", np.arange(len(trials)), "{:.0f}"), ("slope", slope, "{:+.0f} deg"),
                             ("speed", speed, "{:.2f} m/s")):
        held, folds = [], []
        for v in np.unique(group):
            out = np.isin(a.trial, np.flatnonzero(group == v))
            best = min(GRF_WEIGHTS, key=lambda w: rmse(err[w][~out]))
            held.append(err[best][out])
            folds.append(f"{fmt.format(v)}: w {best:.1f} {rmse(err[best][out]):.3f}")
        h = np.concatenate(held)
        lines.append(f"leave one {name} out: held-out RMSE {rmse(h):.3f} BW (bias {np.mean(h):+.3f})")
        if name != "trial":
            lines.append("    " + "; ".join(folds))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--keep-ap-offset", action="store_true",
                    help="keep the AP channel's offset (the sensor's tilt, as recorded) and print the table only")
    args = ap.parse_args(argv)
    root = args.data / "real" / "alcantara_treadmill"
    if not root.exists():
        print(f"alcantara_treadmill: skipped ({root} not found)")
        return 0
    trials = load_trials(root, remove_ap_offset=not args.keep_ap_offset)
    s = score(trials)
    print("\n".join(breakdown(trials, s)))
    if args.keep_ap_offset:
        acc = np.loadtxt(root / "Accelerometer.csv", delimiter=",")
        n = acc.shape[1] // 2
        print("per trial (slope): AP channel's mean (g), |mean specific force| (g) as recorded")
        v_mean, ap_mean = acc[:, :n].mean(axis=1), acc[:, n:].mean(axis=1)
        print("  " + "; ".join(f"{t.slope_deg:+.0f}: {ap_mean[i]:+.2f} {np.hypot(v_mean[i], ap_mean[i]):.2f}"
                             for i, t in enumerate(trials)))
        return 0
    print()
    print("\n".join(held_out_to(trials)))
    print()
    print("\n".join(held_out_grf(trials)))
    ok = step_ok(s)
    print(f"\nquality vs step right (|IC err| <= 10 ms and |TO err| <= 20 ms): AUROC {auroc(s.quality, ok):.2f}")
    print("\n".join(reliability(s.quality, ok)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
