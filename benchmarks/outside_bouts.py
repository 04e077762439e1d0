"""Real walking detections outside the reference walking bouts: steps, or invented?

    python benchmarks/outside_bouts.py [--data ../shared/data] [--plot DIR]

``validate.py`` leaves unscored every imuback walking detection more than ``BOUT_MARGIN_S`` (1 s)
outside a reference walking bout (mobgap_lab: INDIP 36, stereophotogrammetry 43; voisard 1).
mobgap_lab's references list initial contacts (ICs) only inside their micro walking bouts (the .mat
files hold ``MicroWB`` and ``ContinuousWalkingPeriod``, the same bouts here: no per-foot IC outside a
bout); voisard's foot sensors list every foot event of the file. This script lists each detection
outside the bouts of at least one reference of its trial with the evidence used to sort it, then
sorts it by the first rule that applies:

  (a) other ref      the other reference of the trial has an IC within 100 ms (outside one
                     reference's bouts, a step in the other's)
  (b) no foot event  voisard: the foot sensors record no foot event within 1 s (they list every
                     one in the file, weight shifts in standing included)
  (b) seated         the trunk is reclined (pitch more than ``RECLINED_DEG`` behind its walking
                     posture) both before and after: a movement while sitting (a reach, a shift)
  (b) sit transition reclined before or after only, and the trunk sways less than ``STEP_SWAY_G``
                     from side to side: sitting down (the seat's impact, on both sides of the
                     pelvis at once) or rising; a step loads one leg and sways the trunk over it
  (a) in a walk      one of a run of >= ``RUN_MIN`` detections (intervals <= ``RUN_GAP_S``): a
                     walk's closing steps or a walk too short or irregular for the reference's
                     bout rules (mobgap's micro-WB needs whole strides)
  (c) unclear        the rest: one or two detections while standing, turning or bending

Evidence columns, each from the lower-back signal in the body frame the pipeline found (x forward,
y left, z up): ``vert`` the largest 5 Hz low-passed z specific force within 0.3 s of the IC (g);
``lat`` the range of the y specific force within 0.3 s (g); ``yaw`` the largest |yaw rate| (3 Hz
low-pass) within 0.5 s (deg/s); ``pitch -2/0/+2`` the trunk's pitch (0.5 Hz low-passed gravity
direction, positive: leaning back) 1-2 s before, at, and 1-2 s after the IC, relative to its
walking posture (the median over the trial's detections a reference matches); ``run`` the length of
its run of detections; ``near INDIP / stereo / foot IMU`` the signed time to the nearest reference
IC (s); ``in`` which references' bouts (± 1 s) hold it; ``bout ok`` the detections of its activity
bout that a reference matches / all the bout's detections (the gait check judges a bout as a whole).

``RECLINED_DEG``, ``STEP_SWAY_G``, ``RUN_MIN``, ``RUN_GAP_S`` were set by eye on the plots of these very detections
(``--plot``): a descriptive sort, not a pipeline constant. ``--plot DIR`` draws each group of
outside detections (vertical, forward, lateral, yaw rate, pitch; both references' ICs and bouts).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.core import G_MPS2
from imuback.signal.activity import WALK
from imuback.signal.dsp import lowpass
from imuback.signal.session import analyse_session
from matching import match

F64 = npt.NDArray[np.float64]
RECLINED_DEG = 7.0
"""Pitch behind the walking posture (leaning back) read as sitting: seated 8-20° on these plots,
walking and standing within ±5° (by eye, HA and MS participants)."""
STEP_SWAY_G = 0.3
"""Lateral range (g, within 0.3 s of the IC) below which a detection beside sitting has no step's
sway: the walking steps on these plots sway 0.3-0.6 g, seat impacts 0.1-0.2 g (by eye)."""
RUN_MIN = 3
"""Detections in a run that make it a short walk."""
RUN_GAP_S = 1.2
"""Largest interval (s) between two detections of one run (slow walking steps: <= ~1 s)."""
MATCH_S = 0.1
"""A reference IC this close (s) is the same step (the house scorer's tolerance)."""
FOOT_SILENT_S = 1.0
"""voisard: no foot event within this (s) of a detection means no foot moved."""
KINDS = ("(a) other ref", "(a) in a walk", "(b) no foot event", "(b) seated", "(b) sit transition",
         "(c) unclear")


def _in_bouts(t: F64, ref: rw.Reference) -> npt.NDArray[np.bool_]:
    return np.asarray(np.any((t[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                             & (t[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1), dtype=bool)


def _nearest(t: F64, ref: rw.Reference) -> F64:
    """Signed time (s) from each of ``t`` to the nearest reference IC (NaN without any)."""
    if ref.ic_s.size == 0:
        return np.full(t.size, np.nan)
    j = np.argmin(np.abs(ref.ic_s[None, :] - t[:, None]), axis=1)
    return np.asarray(ref.ic_s[j] - t, dtype=np.float64)


def _runs(t: F64) -> npt.NDArray[np.int64]:
    """Length of the run (intervals <= ``RUN_GAP_S``) each detection belongs to."""
    if t.size == 0:
        return np.zeros(0, np.int64)
    rid = np.concatenate([[0], np.cumsum(np.diff(t) > RUN_GAP_S)])
    return np.asarray(np.bincount(rid)[rid], dtype=np.int64)


def _window_stat(t: F64, y: F64, at: F64, lo: float, hi: float, fn: str) -> F64:
    """``fn`` (max / min / mean / absmax) of ``y`` over ``[at + lo, at + hi]`` per time in ``at`` (NaN: empty)."""
    out = np.full(at.size, np.nan)
    a, b = np.searchsorted(t, at + lo), np.searchsorted(t, at + hi, side="right")
    for k in range(at.size):  # a few dozen detections
        seg = y[a[k]:b[k]]
        if seg.size:
            out[k] = {"max": seg.max(), "min": seg.min(), "mean": seg.mean(),
                      "absmax": seg[np.argmax(np.abs(seg))]}[fn]
    return out


def sort(row: dict) -> str:
    """The first rule (module docstring) that applies to one outside detection's evidence."""
    if row["other_ref"]:
        return KINDS[0]
    if row["foot_silent"]:
        return KINDS[2]
    before, after = row["pitch_before"] > RECLINED_DEG, row["pitch_after"] > RECLINED_DEG
    if before and after:
        return KINDS[3]
    if (before or after) and row["lat_hi"] - row["lat_lo"] < STEP_SWAY_G:
        return KINDS[4]
    if row["run"] >= RUN_MIN:
        return KINDS[1]
    return KINDS[5]


def trial_rows(trial: rw.Trial) -> list[dict]:
    """One row of evidence per detection outside the bouts of at least one reference of the trial."""
    det = rw.imuback_detect(trial)
    outs = {k: ~_in_bouts(det.ic_s, r) for k, r in trial.refs.items()}
    anyout = np.any(np.stack(list(outs.values())), axis=0)
    if not anyout.any():
        return []
    an = analyse_session(trial.raw)
    b = an.body
    t = b.t_s + (b.t0_ns - int(trial.raw.time_ns[0])) / 1e9
    acc_g = b.acc_mps2 / G_MPS2
    lp = lowpass(acc_g, 0.5, b.fs_hz, b.seg_bounds)
    pitch = np.degrees(np.arctan2(lp[:, 0], lp[:, 2]))  # gravity's forward share: + leaning back
    a5 = lowpass(acc_g, 5.0, b.fs_hz, b.seg_bounds)
    yaw = (lowpass(b.gyr_dps[:, 2], 3.0, b.fs_hz, b.seg_bounds) if b.gyr_dps is not None
           else np.full(t.size, np.nan))
    matched = np.zeros(det.ic_s.size, bool)
    for r in trial.refs.values():
        ei, _ = match(det.ic_s, r.ic_s, MATCH_S)
        matched[ei] = True
    posture = float(np.median(np.interp(det.ic_s[matched], t, pitch))) if matched.any() else 0.0
    # the activity bout of each detection: the gait check keeps or drops a bout's steps together
    wb = an.bouts.label == WALK
    bs = t[np.minimum(an.bouts.start_idx[wb], t.size - 1)]
    be = t[np.minimum(an.bouts.end_idx[wb], t.size) - 1]
    bout = np.searchsorted(be, det.ic_s)
    bout_ok = np.bincount(bout[matched], minlength=bs.size + 1)
    bout_all = np.bincount(bout, minlength=bs.size + 1)
    run = _runs(det.ic_s)
    x = det.ic_s[anyout]
    ev = {"vert": _window_stat(t, a5[:, 2], x, -0.3, 0.3, "max"),
          "lat_lo": _window_stat(t, a5[:, 1], x, -0.3, 0.3, "min"),
          "lat_hi": _window_stat(t, a5[:, 1], x, -0.3, 0.3, "max"),
          "yaw": _window_stat(t, yaw, x, -0.5, 0.5, "absmax"),
          "pitch_before": _window_stat(t, pitch, x, -2.0, -1.0, "mean") - posture,
          "pitch_at": np.interp(x, t, pitch) - posture,
          "pitch_after": _window_stat(t, pitch, x, 1.0, 2.0, "mean") - posture}
    near = {k: _nearest(x, r) for k, r in trial.refs.items()}
    rows = []
    for j, i in enumerate(np.flatnonzero(anyout)):
        out_of = [k for k in trial.refs if outs[k][i]]
        inside = [k for k in trial.refs if not outs[k][i]]
        row = {"dataset": trial.dataset, "trial": trial.name, "t_s": float(det.ic_s[i]), "foot": det.foot[i] or "?",
               "out_of": out_of, "inside": inside, "near": {k: float(v[j]) for k, v in near.items()},
               "run": int(run[i]), "bout_ok": (int(bout_ok[bout[i]]), int(bout_all[bout[i]])),
               **{k: float(v[j]) for k, v in ev.items()}}
        # a step the other reference holds: an IC of a reference whose bouts do not exclude it
        row["other_ref"] = any(abs(row["near"][k]) <= MATCH_S for k in trial.refs)
        row["foot_silent"] = trial.dataset == "voisard_l5_walk" and all(
            not np.isfinite(v) or abs(v) > FOOT_SILENT_S for v in row["near"].values())
        row["kind"] = sort(row)
        rows.append(row)
    return rows


def _plot(trial: rw.Trial, rows: list[dict], out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    det = rw.imuback_detect(trial)
    an = analyse_session(trial.raw)
    b = an.body
    t = b.t_s + (b.t0_ns - int(trial.raw.time_ns[0])) / 1e9
    acc_g = b.acc_mps2 / G_MPS2
    a5 = lowpass(acc_g, 5.0, b.fs_hz, b.seg_bounds)
    lp = lowpass(acc_g, 0.5, b.fs_hz, b.seg_bounds)
    pitch = np.degrees(np.arctan2(lp[:, 0], lp[:, 2]))
    yaw = (lowpass(b.gyr_dps[:, 2], 3.0, b.fs_hz, b.seg_bounds) if b.gyr_dps is not None
           else np.zeros(t.size))
    xs = np.array([r["t_s"] for r in rows])
    kinds = {round(r["t_s"], 3): r["kind"] for r in rows}
    for g in np.split(xs, np.flatnonzero(np.diff(xs) > 4.0) + 1):
        t0, t1 = g[0] - 4.0, g[-1] + 4.0
        w = (t >= t0) & (t <= t1)
        fig, ax = plt.subplots(5, 1, figsize=(12, 10), sharex=True)
        series = (("vertical (g)", a5[w, 2]), ("forward (g)", a5[w, 0]), ("lateral (g)", a5[w, 1]),
                  ("yaw (deg/s)", yaw[w]), ("pitch (deg, + back)", pitch[w]))
        for k, (lab, y) in enumerate(series):
            ax[k].plot(t[w], y, "k", lw=0.8)
            ax[k].set_ylabel(lab)
            for d in det.ic_s[(det.ic_s >= t0) & (det.ic_s <= t1)]:
                ax[k].axvline(d, color="r" if round(float(d), 3) in kinds else "g", lw=0.8, alpha=0.6)
        for (name, ref), c in zip(trial.refs.items(), ("b", "m"), strict=False):
            m = (ref.ic_s >= t0) & (ref.ic_s <= t1)
            top = float(np.max(a5[w, 2])) if w.any() else 1.0
            ax[0].plot(ref.ic_s[m], np.full(int(m.sum()), top + (0.1 if c == "b" else 0.05)), "v", color=c,
                       label=name)
            for s, e in ref.bouts_s:
                ax[0].axvspan(s, e, color=c, alpha=0.07)
        for d in g:
            ax[0].text(d, float(np.min(a5[w, 2])), kinds[round(float(d), 3)].split()[0], fontsize=8)
        ax[0].set_xlim(t0, t1)
        ax[0].legend(loc="upper right")
        ax[0].set_title(f"{trial.name} {t0:.1f}-{t1:.1f} s: red = outside a reference's bouts")
        fig.tight_layout()
        fig.savefig(out / f"{trial.name.replace('/', '_')}_{g[0]:.1f}.png", dpi=70)
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Print the table of outside detections and the counts per kind and per reference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--plot", type=Path, default=None,
                    help="draw each group of outside detections to DIR (needs matplotlib)")
    args = ap.parse_args(argv)
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        ap.error("--plot needs matplotlib (pip install matplotlib); it is not installed")
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: nothing to do")
        return 0
    t_start = time.perf_counter()
    rows: list[dict] = []
    for tr in trials:
        r = trial_rows(tr)
        rows += r
        if args.plot is not None and r:
            args.plot.mkdir(parents=True, exist_ok=True)
            _plot(tr, r, args.plot)
    elapsed = time.perf_counter() - t_start
    print("detections outside the bouts of at least one reference (± 1 s); pitch relative to the walking "
          "posture, + leaning back")
    print(f"{'trial':22s} {'IC s':>7s} ft {'outside':14s} {'near INDIP':>10s} {'stereo':>7s} {'foot IMU':>8s} "
          f"{'run':>3s} {'vert':>5s} {'lat':>11s} {'yaw':>5s} {'pitch -2/0/+2':>15s} {'bout ok':>8s}  kind")
    for r in rows:
        n = r["near"]
        f = {k: (f"{n[k]:+.2f}" if k in n and np.isfinite(n[k]) else "-") for k in ("INDIP", "stereo", "foot IMU")}
        print(f"{r['trial']:22s} {r['t_s']:7.2f} {r['foot']:>2s} {'/'.join(r['out_of']):14s} {f['INDIP']:>10s} "
              f"{f['stereo']:>7s} {f['foot IMU']:>8s} {r['run']:3d} {r['vert']:5.2f} "
              f"{r['lat_lo']:+5.2f}..{r['lat_hi']:+4.2f} {r['yaw']:+5.0f} "
              f"{r['pitch_before']:+5.0f}{r['pitch_at']:+5.0f}{r['pitch_after']:+5.0f} "
              f"{r['bout_ok'][0]:3d}/{r['bout_ok'][1]:<4d}  {r['kind']}")
    print()
    print("counts (a detection outside both mobgap_lab references counts under each)")
    print(f"{'data / reference':30s} {'outside':>7s} " + " ".join(f"{k:>18s}" for k in KINDS))
    for ds, ref in (("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"), ("voisard_l5_walk", "foot IMU"),
                    ("every real dataset", "any")):
        sel = [r for r in rows if (ref == "any" or ref in r["out_of"])
               and ds in ("every real dataset", r["dataset"])]
        c = collections.Counter(r["kind"] for r in sel)
        print(f"{ds + ' / ' + ref:30s} {len(sel):7d} " + " ".join(f"{c[k]:18d}" for k in KINDS))
    print(rw.throughput_line(trials, elapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
