"""Why the running IC and TO biases move with slope and speed (issue #14): the cue, the frame or the sacrum.

    python benchmarks/run_slopes.py [--data ../shared/data]

On alcantara's 21 trials, by speed, slope and foot strike (``trials.csv``: the three +10 deg trials
are the only mid/forefoot strikes, every other trial is 100 % rearfoot; "rear": the rearfoot
trials alone by speed), four measurements:

1. **The cue.** The event detector fed the force plate's vGRF, as if it were the sacral signal
   (``contact_shape.detector_on``): its IC error is the tangent cue's on the contact's own shape;
   what the pipeline on the sacrum adds is the sacrum's. Beside it, a cue that follows the force's
   onset on every landing: the tangent at the first crossing of ``delta`` above the signal's
   minimum before the contact, continued down to 0.066 g above that minimum (``low_crossing_ic``).
2. **The sacrum against the force** (both low-passed at the pipeline's 20 Hz): how much earlier the
   sacral signal crosses 0.5 g and 1 g than the force crosses 0.5 and 1 BW on the rise, its excess
   over the force 30-10 ms before the force-plate IC (the foot not yet loaded), the force's impact
   peak; how much later it falls through 1 g and 0.5 g before TO.
3. **The frame.** The force plate reads the force normal to the belt; the loader's vertical is the
   sensor's axis. In flight the body is in free fall, so every axis reads 0: the AP channel's level
   there (force < 0.02 BW) is its offset, and what is left of its mean gives the sensor's sagittal
   tilt from gravity (``sagittal_tilt``). The detector is then fed the signal rotated into gravity
   and into the belt normal (that tilt plus the slope).
4. **Held out**: two IC cues that need only the vertical signal, each with one constant, chosen
   leaving one slope and one speed out (smallest RMS IC error on the others) among the pipeline's
   tangent, the tangent continued below the onset level to ``L`` (``TANGENT_TO_G``: a softer
   landing's toe lasts longer in proportion to how much slower it loads, so a fixed level below
   the onset corrects copies of one loading shape stretched in time) and the low crossing above
   (``DELTAS_G``); reported on the left-out group.

Sections 1-3 use the force plate (flight phases, the slope) where the pipeline could not: a
diagnosis. Nothing in the pipeline changes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import binary_erosion

from imuback.signal.dsp import lowpass
from imuback.signal.params import EventParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
from contact_shape import detector_on
from matching import match

F64 = npt.NDArray[np.float64]
Errs = list[tuple[F64, F64]]
"""Per trial: (IC errors, TO errors) in s of its matched steps."""
FS = real_running.FS_HZ
ONSET_G = EventParams().onset_g
LP_HZ = EventParams().lowpass_hz
MIN_SLOPE = EventParams().min_edge_slope_g_per_s
DELTAS_G = (0.2, 0.3, 0.5, 0.7, 1.0)
TANGENT_TO_G = (0.0, -0.1, -0.2, -0.3)


def low_crossing_ic(x: F64, anchors: F64, delta_g: float, fs_hz: float, *, core_g: float = 1.0) -> F64:
    """IC (fractional samples) from the first crossing of ``delta_g`` above the signal's minimum
    over the 0.12 s before each contact's core, its tangent continued down to ``ONSET_G`` above
    that minimum (as the pipeline's tangent: not where it is flatter than
    ``min_edge_slope_g_per_s``, the crossing itself then). ``x``: the 20 Hz signal (g);
    ``anchors``: an IC per contact (the pipeline's), whose core (``x >= core_g``) starts within
    0.15 s after it. NaN where there is none.
    """
    out = np.full(anchors.size, np.nan)
    look, back = int(0.15 * fs_hz), int(0.12 * fs_hz)
    for i, a in enumerate(anchors):  # a few hundred contacts: clearer as a loop
        s = max(int(a) - 5, 1)
        core = np.flatnonzero(x[s:s + look] >= core_g)
        if core.size == 0:
            continue
        e = s + int(core[0])
        m = max(e - back, 0) + int(np.argmin(x[max(e - back, 0):e + 1]))
        level = x[m] + delta_g
        above = np.flatnonzero(x[m:m + look] >= level)
        if above.size == 0 or above[0] == 0:
            continue
        q = m + int(above[0]) - 1  # x[q] < level <= x[q + 1]
        slope = x[q + 1] - x[q]
        run = (delta_g - ONSET_G) / slope if slope * fs_hz >= MIN_SLOPE else 0.0
        out[i] = q + (level - x[q]) / slope - run
    return out


def sagittal_tilt(vert_g: F64, ap_g: F64, grf_bw: F64) -> tuple[float, float]:
    """(tilt of the sensor's axis from gravity in deg, forward lean positive; the AP channel's
    offset in g): the AP channel's mean over flight (vGRF < 0.02 BW, 20 ms in from its edges: free
    fall reads 0) is its offset; the mean specific force over the trial is gravity."""
    flight = binary_erosion(grf_bw < 0.02, iterations=10)
    offset = float(ap_g[flight].mean())
    return float(np.degrees(np.arctan2(-(ap_g.mean() - offset), vert_g.mean()))), offset


def rotate(vert_g: F64, ap_g: F64, tilt_deg: float) -> F64:
    """The specific force along the axis ``tilt_deg`` behind the sensor's (the sensor's axis leans
    forward by ``tilt_deg`` from it): ``v cos(b) - ap sin(b)``."""
    b = np.radians(tilt_deg)
    return np.asarray(vert_g * np.cos(b) - ap_g * np.sin(b), dtype=np.float64)


def crossing_lag(v: F64, f: F64, at_s: F64, level: float, *, rising: bool, fs_hz: float) -> F64:
    """Per event: when ``v`` crosses ``level`` minus when ``f`` does (s), the rising crossing
    within 80 ms before to 120 ms after each ``at_s`` (``rising``) or the falling one within
    160 ms before to 80 ms after it (the first rising, the last falling); NaN if either has none."""
    lo, hi = (round(w * fs_hz) for w in ((-0.08, 0.12) if rising else (-0.16, 0.08)))

    def cross(x: F64) -> F64:
        out = np.full(at_s.size, np.nan)
        for i, t in enumerate(at_s):
            a = int(np.rint(t * fs_hz)) + lo
            seg = x[max(a, 0):max(a, 0) + hi - lo]
            below = seg < level
            c = np.flatnonzero(below[:-1] & ~below[1:]) if rising else np.flatnonzero(~below[:-1] & below[1:])
            if c.size:
                k = int(c[0] if rising else c[-1])
                out[i] = (max(a, 0) + k + (level - seg[k]) / (seg[k + 1] - seg[k])) / fs_hz
        return out

    return cross(v) - cross(f)


def detector_errors(trials: list[real_running.Trial], signals: list[F64], onset_g: float = ONSET_G) -> Errs:
    """The detector (the pipeline's events, 5 Hz spring-mass TO) fed one signal per trial, its
    tangents continued to ``onset_g``."""
    out = []
    for t, x in zip(trials, signals, strict=True):
        ic, to = detector_on(x, FS, onset_g=onset_g)
        ei, ri = match(ic, t.ref_ic_s, 0.06)
        out.append((ic[ei] - t.ref_ic_s[ri], to[ei] - t.ref_to_s[ri]))
    return out


def low_crossing_errors(trials: list[real_running.Trial], signals: list[F64], delta_g: float) -> list[F64]:
    """Per trial: the IC error (s) of :func:`low_crossing_ic` around the detector's contacts
    matched to the reference (the detector's IC kept where the crossing is not found)."""
    out = []
    b = np.array([0, signals[0].size])
    for t, x in zip(trials, signals, strict=True):
        ic, _ = detector_on(x, FS)
        ei, ri = match(ic, t.ref_ic_s, 0.06)
        new = low_crossing_ic(lowpass(x, LP_HZ, FS, b), ic[ei] * FS, delta_g, FS) / FS
        out.append(np.where(np.isfinite(new), new, ic[ei]) - t.ref_ic_s[ri])
    return out


def _groups(trials: list[real_running.Trial], strike: list[str]) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    speed = np.array([t.speed_mps for t in trials])
    slope = np.array([t.slope_deg for t in trials])
    foot = np.array(strike)
    return ([(f"{v:.2f} m/s", speed == v) for v in np.unique(speed)]
            + [(f"{v:+.0f} deg", slope == v) for v in np.unique(slope)]
            + [(v, foot == v) for v in sorted(set(strike))]
            + [(f"rear {v:.2f} m/s", (foot == "rearfoot") & (speed == v)) for v in np.unique(speed)]
            + [("all", np.ones(len(trials), dtype=bool))])


def _cat(per: list[F64], sel: npt.NDArray[np.bool_]) -> F64:
    return np.concatenate([per[k] for k in np.flatnonzero(sel)])


def foot_strikes(root: Path) -> list[str]:
    """Per trial: "rearfoot" (RFS 100 %) or "mid/forefoot" (trials.csv)."""
    meta = np.genfromtxt(root / "trials.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    return ["rearfoot" if float(r) >= 100.0 else "mid/forefoot" for r in meta["RFS"]]


def cue_table(trials: list[real_running.Trial], groups: list[tuple[str, npt.NDArray[np.bool_]]],
              sacrum: Errs, force: Errs, low: dict[str, list[F64]]) -> list[str]:
    """IC and TO by group: pipeline on the sacrum, detector on the force, the low crossing at 0.3 g."""
    lines = [f"{'group':<14}{'steps':>6}  {'IC sacrum':<17}  {'IC force (cue)':<17}  {'sacrum adds':>11}  "
             f"{'IC 0.3 g force':<17}  {'IC 0.3 g sacrum':<17}  {'TO sacrum':<17}  {'TO force':<17}"]
    for name, sel in groups:
        ics, icf = _cat([e[0] for e in sacrum], sel), _cat([e[0] for e in force], sel)
        lines.append(f"{name:<14}{ics.size:>6}  {real_running.ms(ics):<17}  {real_running.ms(icf):<17}  "
                     f"{1e3 * (ics.mean() - icf.mean()):>+8.1f} ms  {real_running.ms(_cat(low['force'], sel)):<17}  "
                     f"{real_running.ms(_cat(low['sacrum'], sel)):<17}  "
                     f"{real_running.ms(_cat([e[1] for e in sacrum], sel)):<17}  "
                     f"{real_running.ms(_cat([e[1] for e in force], sel)):<17}")
    return lines


def sacrum_rows(trials: list[real_running.Trial], vert: list[F64], grf: list[F64]) -> list[dict[str, F64]]:
    """Per trial, per reference contact: the sacral signal against the force (both at 20 Hz) at
    the rise and the fall (s), its excess over the force 30-10 ms before IC (g), the force's peak
    over the first 60 ms (BW)."""
    b = np.array([0, vert[0].size])
    ms10, ms30, ms60 = (round(w * FS) for w in (0.01, 0.03, 0.06))
    rows = []
    for t, v_raw, f_raw in zip(trials, vert, grf, strict=True):
        v, f = lowpass(v_raw, LP_HZ, FS, b), lowpass(f_raw, LP_HZ, FS, b)
        d = v - f
        ic = np.round(t.ref_ic_s * FS).astype(np.int64)
        rows.append({"rise 0.5": crossing_lag(v, f, t.ref_ic_s, 0.5, rising=True, fs_hz=FS),
                     "rise 1": crossing_lag(v, f, t.ref_ic_s, 1.0, rising=True, fs_hz=FS),
                     "pre": np.array([d[i - ms30:i - ms10].mean() for i in ic]),
                     "impact": np.array([f_raw[i:i + ms60].max() for i in ic]),
                     "fall 1": crossing_lag(v, f, t.ref_to_s, 1.0, rising=False, fs_hz=FS),
                     "fall 0.5": crossing_lag(v, f, t.ref_to_s, 0.5, rising=False, fs_hz=FS)})
    return rows


def sacrum_table(groups: list[tuple[str, npt.NDArray[np.bool_]]], rows: list[dict[str, F64]],
                 sacrum: Errs, force: Errs) -> list[str]:
    """:func:`sacrum_rows` by group (medians), then per trial how the IC the sacrum adds follows them."""
    lines = [f"{'group':<14}{'rise 0.5 g':>11}{'rise 1 g':>10}{'pre-contact':>13}{'impact peak':>13}"
             f"{'fall 1 g':>10}{'fall 0.5 g':>12}"]
    for name, sel in groups:
        med = {key: float(np.nanmedian(_cat([r[key] for r in rows], sel))) for key in rows[0]}
        lines.append(f"{name:<14}{1e3 * med['rise 0.5']:>+8.1f} ms{1e3 * med['rise 1']:>+7.1f} ms"
                     f"{med['pre']:>+11.2f} g{med['impact']:>10.2f} BW{1e3 * med['fall 1']:>+7.1f} ms"
                     f"{1e3 * med['fall 0.5']:>+9.1f} ms")
    adds = np.array([s[0].mean() - f[0].mean() for s, f in zip(sacrum, force, strict=True)])
    per = {key: np.array([np.nanmedian(r[key]) for r in rows]) for key in rows[0]}
    r = {key: float(np.corrcoef(adds, per[key])[0, 1]) for key in ("rise 0.5", "pre", "impact")}
    lines.append(f"per trial (21): r(IC the sacrum adds, rise 0.5 g) {r['rise 0.5']:+.2f}, "
                 f"r(it, pre-contact) {r['pre']:+.2f}, r(it, impact peak) {r['impact']:+.2f}; "
                 f"r(pre-contact, impact peak) {np.corrcoef(per['pre'], per['impact'])[0, 1]:+.2f}")
    return lines


def frame_table(trials: list[real_running.Trial], vert: list[F64], ap: list[F64], grf: list[F64]) -> list[str]:
    """The sensor's tilt by slope, and IC / TO by slope and speed with the signal rotated."""
    tilt_off = [sagittal_tilt(v, a, f) for v, a, f in zip(vert, ap, grf, strict=True)]
    slope = np.array([t.slope_deg for t in trials])
    speed = np.array([t.speed_mps for t in trials])
    tilt, offset = np.array([x[0] for x in tilt_off]), np.array([x[1] for x in tilt_off])
    lines = ["sensor's tilt from gravity (deg, forward +), per trial, by slope: "
             + "; ".join(f"{s:+.0f}: " + " ".join(f"{x:+.0f}" for x in tilt[slope == s]) for s in np.unique(slope)),
             "AP channel's offset (g, its flight level), per trial, by slope: "
             + "; ".join(f"{s:+.0f}: " + " ".join(f"{x:+.2f}" for x in offset[slope == s]) for s in np.unique(slope)),
             f"{'frame':<26}{'event':<7}{'all':<19}" + "".join(f"{s:+.0f} deg{'':>5}" for s in np.unique(slope))
             + "".join(f"{s:.2f} m/s{'':>2}" for s in np.unique(speed))]
    rot: dict[str, Callable[[int], F64]] = {
        "as loaded (sensor axis)": lambda k: vert[k],
        "gravity": lambda k: rotate(vert[k], ap[k] - tilt_off[k][1], tilt[k]),
        "belt normal": lambda k: rotate(vert[k], ap[k] - tilt_off[k][1], tilt[k] + slope[k]),
    }
    for name, fn in rot.items():
        errs = detector_errors(trials, [fn(k) for k in range(len(trials))])
        for j, event in enumerate(("IC", "TO")):
            per = [e[j] for e in errs]
            a = np.concatenate(per)
            lines.append(f"{name if j == 0 else '':<26}{event:<7}{real_running.ms(a):<19}"
                         + "".join(f"{1e3 * _cat(per, slope == s).mean():>+7.1f} ms  " for s in np.unique(slope))
                         + "".join(f"{1e3 * _cat(per, speed == s).mean():>+7.1f} ms  " for s in np.unique(speed)))
    return lines


def held_out_table(trials: list[real_running.Trial], cands: dict[str, list[F64]]) -> list[str]:
    """Each fold's pick among ``cands`` (per-trial IC errors) by RMS on the other groups: its
    chosen-on and held-out IC, then the pooled held-out IC against the pipeline's tangent alone."""
    lines = []
    for name, group, fmt in (("slope", np.array([t.slope_deg for t in trials]), "{:+.0f} deg"),
                             ("speed", np.array([t.speed_mps for t in trials]), "{:.2f} m/s")):
        held, tangent = [], []
        lines.append(f"leave one {name} out: {'fold':<10}{'pick':<10}{'chosen-on':<19}{'held-out':<19}tangent held-out")
        for v in np.unique(group):
            out = group == v
            best = min(cands, key=lambda c: real_running.rmse(_cat(cands[c], ~out)))
            h = _cat(cands[best], out)
            held.append(h)
            tangent.append(_cat(cands["tangent"], out))
            lines.append(f"{'':<22}{fmt.format(v):<10}{best:<10}{real_running.ms(_cat(cands[best], ~out)):<19}"
                         f"{real_running.ms(h):<19}{real_running.ms(tangent[-1])}")
        lines.append(f"{'':<22}{'pooled':<20}{'':<19}{real_running.ms(np.concatenate(held)):<19}"
                     f"{real_running.ms(np.concatenate(tangent))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    args = ap_.parse_args(argv)
    root = args.data / "real" / "alcantara_treadmill"
    if not root.exists():
        print(f"alcantara_treadmill: skipped ({root} not found)")
        return 0
    trials = real_running.load_trials(root)
    grf = list(np.loadtxt(root / "GRF.csv", delimiter=","))
    acc = np.loadtxt(root / "Accelerometer.csv", delimiter=",")
    n = grf[0].size
    vert, ap = list(acc[:, :n]), list(acc[:, n:])
    groups = _groups(trials, foot_strikes(root))
    s = real_running.score(trials)
    sacrum = [(s.ic_err_s[s.trial == k], s.to_err_s[s.trial == k]) for k in range(len(trials))]
    force = detector_errors(trials, grf)
    low = {"force": low_crossing_errors(trials, grf, 0.3), "sacrum": low_crossing_errors(trials, vert, 0.3)}
    print("# 1. the cue: IC and TO bias ± SD by group; the pipeline on the sacrum, the detector fed the force "
          "plate's vGRF,\n#    and the tangent at the first crossing of 0.3 g above the pre-contact minimum "
          "(on the force, on the sacrum)")
    print("\n".join(cue_table(trials, groups, sacrum, force, low)))
    print("\n# 2. the sacrum against the force (20 Hz, medians): its crossing of 0.5 and 1 g minus the force's on "
          "the rise\n#    and the fall, its excess over the force 30-10 ms before the force-plate IC, the "
          "force's peak over the first 60 ms")
    print("\n".join(sacrum_table(groups, sacrum_rows(trials, vert, grf), sacrum, force)))
    print("\n# 3. the frame: the detector fed the signal rotated into gravity and into the belt normal "
          "(the AP channel's flight level removed)")
    print("\n".join(frame_table(trials, vert, ap, grf)))
    print("\n# 4. held out: the pipeline's tangent, the tangent continued below the onset level (\"to L g\"), or "
          "the low\n#    crossing's delta (\"delta g\"), chosen by RMS IC error on the other groups")
    cands = {"tangent": [e[0] for e in sacrum]}
    cands |= {f"to {v:+g} g": [e[0] for e in detector_errors(trials, vert, v)] for v in TANGENT_TO_G}
    cands |= {f"{d:g} g": low_crossing_errors(trials, vert, d) for d in DELTAS_G}
    print("\n".join(held_out_table(trials, cands)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
