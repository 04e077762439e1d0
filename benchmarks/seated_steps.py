"""Per-step posture tests on real walking detections: which do they remove, real steps or invented?

    python benchmarks/seated_steps.py [--data ../shared/data]

For every imuback walking detection of every real walking trial (voisard_l5_walk, mobgap_lab) the
trunk's posture before, at and after its IC, against the session's walking posture, and what each
candidate rule in ``RULES`` would remove: detections a reference IC matches within ±100 ms (real
steps, scored by ``validate.py`` where inside a reference bout: the house rule allows none lost)
and the outside detections by their ``outside_bouts.py`` sort.

Posture, lower-back sensor, body frame (x forward, y left, z up): the 0.5 Hz low-passed specific
force is gravity's direction (as in ``outside_bouts.py``). The session's walking posture is the
median of that unit vector over the session's own walking detections (what the pipeline knows: no
reference). ``ape`` (Vähä-Ypyä et al. 2018, "angle for posture estimation", hip-worn accelerometer
against the upright walking posture): the angle (deg) between the two; ``pitch`` its signed
forward part (+ leaning back: sitting tilts the pelvis back). Each is the mean over 1-2 s before
the IC, at the IC, and the mean over 1-2 s after it. ``SIT_DEG`` = 11.6° is that paper's
sitting/standing cut-point (ROC on 30 adults: sensitivity 94.2 %, specificity 94.5 %), taken as
published, not fitted here. ``lat`` the side-to-side range (g) of the 5 Hz low-passed y within
0.3 s; ``next`` the time (s) to the next detection; lone: no detection within ``MAX_STEP_S`` either
side ("reclined before and after, lone" is the pipeline's rule, ``gait_check.seated_lone_steps``,
whose walking posture is the median over the steps that are not lone, and whose windows stop at a
segment's edge: the two can differ in a session with lone steps or gaps). Prints samples/s and peak memory.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import outside_bouts as ob
import real_walking as rw
from imuback.core import G_MPS2
from imuback.signal.activity import WALK
from imuback.signal.dsp import lowpass
from imuback.signal.params import EventParams
from imuback.signal.session import analyse_session
from matching import match

F64 = npt.NDArray[np.float64]
SIT_DEG = 11.6
"""Sitting against standing: the angle from the upright walking posture (Vähä-Ypyä et al. 2018)."""
MATCH_S = 0.1
"""The house scorer's tolerance (s)."""
MAX_STEP_S = EventParams().max_step_s
"""A step's neighbour in the rhythm is at most this far (s): the pipeline's longest walking step."""
RULES: dict[str, Callable[[dict[str, F64]], npt.NDArray[np.bool_]]] = {
    "reclined before and after": lambda d: (d["pitch_before"] >= SIT_DEG) & (d["pitch_after"] >= SIT_DEG),
    "reclined before and after, lone": lambda d: ((d["pitch_before"] >= SIT_DEG) & (d["pitch_after"] >= SIT_DEG)
                                                  & (d["prev"] > MAX_STEP_S) & (d["next"] > MAX_STEP_S)),
    "tilted (any way) before and after": lambda d: (d["ape_before"] >= SIT_DEG) & (d["ape_after"] >= SIT_DEG),
    "reclined after": lambda d: d["pitch_after"] >= SIT_DEG,
    "reclined after, no next step": lambda d: (d["pitch_after"] >= SIT_DEG) & (d["next"] > MAX_STEP_S),
    "tilted at the IC": lambda d: d["ape_at"] >= SIT_DEG,
}


def trial_table(trial: rw.Trial) -> dict[str, F64]:
    """Per walking detection of the trial: times, posture and evidence columns (module docstring)."""
    an = analyse_session(trial.raw)
    b = an.body
    t = b.t_s + (b.t0_ns - int(trial.raw.time_ns[0])) / 1e9
    walk = an.steps.activity == WALK
    ic = np.asarray(np.interp(an.steps.ic_pos[walk], np.arange(b.n), t), dtype=np.float64)
    acc_g = b.acc_mps2 / G_MPS2
    lp = lowpass(acc_g, 0.5, b.fs_hz, b.seg_bounds)
    u = lp / np.maximum(np.linalg.norm(lp, axis=1, keepdims=True), 1e-9)
    a5 = lowpass(acc_g, 5.0, b.fs_hz, b.seg_bounds)
    if ic.size:
        ref = np.median(u[np.clip(np.searchsorted(t, ic), 0, t.size - 1)], axis=0)
        ref /= np.linalg.norm(ref)
    else:
        ref = np.array([0.0, 0.0, 1.0])
    ape = np.degrees(np.arccos(np.clip(u @ ref, -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(u[:, 0], u[:, 2]) - np.arctan2(ref[0], ref[2]))
    lat_hi, lat_lo = (ob._window_stat(t, a5[:, 1], ic, -0.3, 0.3, f) for f in ("max", "min"))
    out = {"t_s": ic, "next": np.append(np.diff(ic), np.inf), "prev": np.insert(np.diff(ic), 0, np.inf),
           "lat": lat_hi - lat_lo}
    for name, y in (("ape", ape), ("pitch", pitch)):
        out[f"{name}_before"] = ob._window_stat(t, y, ic, -2.0, -1.0, "mean")
        out[f"{name}_at"] = np.interp(ic, t, y)
        out[f"{name}_after"] = ob._window_stat(t, y, ic, 1.0, 2.0, "mean")
    real = np.zeros(ic.size, bool)
    for r in trial.refs.values():
        real[match(ic, r.ic_s, MATCH_S)[0]] = True
    out["real"] = real.astype(np.float64)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print, per rule, what it removes; then every detection any rule removes."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: nothing to do")
        return 0
    t_start = time.perf_counter()
    tables = [trial_table(tr) for tr in trials]
    kinds = [{round(r["t_s"], 3): r["kind"] for r in ob.trial_rows(tr)} for tr in trials]
    elapsed = time.perf_counter() - t_start
    n_det = sum(tb["t_s"].size for tb in tables)
    n_real = int(sum(tb["real"].sum() for tb in tables))
    print(f"{n_det} real walking detections, {n_real} matched by a reference IC within ±{MATCH_S * 1000:.0f} ms; "
          f"threshold {SIT_DEG}° (Vähä-Ypyä et al. 2018)")
    short = {k: k.split(")")[0] + ")" + k.split(")")[1][:9] for k in ob.KINDS}
    print(f"{'rule':36s} {'removed':>7s} {'real':>5s} " + " ".join(f"{short[k]:>13s}" for k in ob.KINDS))
    listing: dict[tuple[str, float], list[str]] = collections.defaultdict(list)
    for name, rule in RULES.items():
        n_gone = n_gone_real = 0
        c: collections.Counter[str] = collections.Counter()
        for tr, tb, kd in zip(trials, tables, kinds, strict=True):
            gone = rule(tb) if tb["t_s"].size else np.zeros(0, bool)
            n_gone += int(gone.sum())
            n_gone_real += int((gone & (tb["real"] > 0)).sum())
            for i in np.flatnonzero(gone):
                c[kd.get(round(float(tb["t_s"][i]), 3), "inside")] += 1
                listing[(tr.name, float(tb["t_s"][i]))].append(name)
        print(f"{name:36s} {n_gone:7d} {n_gone_real:5d} " + " ".join(f"{c[k]:13d}" for k in ob.KINDS)
              + f"   (inside the bouts: {c['inside']})")
    print("\nremoved by any rule: trial, IC s, real, outside sort, ape / pitch before, at, after (deg), lat g, next s")
    for (trial, t), names in sorted(listing.items()):
        i = next(k for k, tr in enumerate(trials) if tr.name == trial)
        tb, j = tables[i], int(np.argmin(np.abs(tables[i]["t_s"] - t)))
        print(f"{trial:22s} {t:7.2f} {'real' if tb['real'][j] else '    '} "
              f"{kinds[i].get(round(t, 3), 'inside'):19s} "
              f"{tb['ape_before'][j]:4.0f}{tb['ape_at'][j]:4.0f}{tb['ape_after'][j]:4.0f} / "
              f"{tb['pitch_before'][j]:+4.0f}{tb['pitch_at'][j]:+4.0f}{tb['pitch_after'][j]:+4.0f} "
              f"{tb['lat'][j]:5.2f} {tb['next'][j]:5.2f}  " + "; ".join(names))
    print(rw.throughput_line(trials, elapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
