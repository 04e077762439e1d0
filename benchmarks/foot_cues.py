"""Each accelerometer cue of the stance foot alone, against the reference foot (walking, no gyroscope).

    python benchmarks/foot_cues.py [--data ../shared/data] [--sim]

Runs the pipeline on every real walking trial with its gyroscope dropped (and with ``--sim`` the
six simulated realistic walking sessions of ``sim_accuracy.py``), keeps the body-frame lateral
acceleration and the walking steps handed to ``assign_feet`` (``foot_anatomy._capture``), and
for every walking step matched to a reference IC (±100 ms, unrefined IC, on the sensor's clock;
the trials with swapped reference feet left out) reads each cue, positive meaning RIGHT (the
ground pushes the body towards +y, left, in a right stance):

- ``whole step``: the pipeline's first cue, the mean lateral acceleration from IC to the next IC;
- ``single support``: the pipeline's second cue, the mean over 0.2-0.4 s after IC
  (``EventParams.foot_lone_stance_s``);
- ``loading 0.1-0.2 s``: the loading response, where the swing side's pelvis drops and gravity
  leans into the lateral axis towards the stance side (expected below 0.5: it names the other foot);
- ``jolt 30-80 ms``: the 2-12 Hz lateral acceleration 30-80 ms after IC (the heel strike's sideways jolt);
- ``0.35-0.75 step``: the mean over 35-75 % of the step (a window in the step's time, not in seconds).

Prints per data set and per voisard subject the AUROC (the chance that a right step's cue exceeds
a left step's) and the share of steps whose cue's sign names the reference foot. One cue's figures
per step; the pipeline votes over whole chains of steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, sosfiltfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import imuback.signal.session as session_mod
import real_walking as rw
from foot_anatomy import _capture
from imuback.signal.activity import WALK
from imuback.signal.dsp import interp_at
from matching import match
from real_running import auroc

CUES = ("whole step", "single support", "loading 0.1-0.2 s", "jolt 30-80 ms", "0.35-0.75 step")


def _window_mean(x: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mean of ``x`` over each ``[start, end)`` (sample indices, clipped; 0 where empty)."""
    csum = np.concatenate([[0.0], np.cumsum(x)])
    s, e = np.clip(start, 0, x.size), np.clip(end, 0, x.size)
    return np.where(e > s, (csum[e] - csum[s]) / np.maximum(e - s, 1), 0.0)


def _band(x: np.ndarray, fs: float, bounds: np.ndarray, lo: float, hi: float) -> np.ndarray:
    out = np.zeros_like(x)
    sos = butter(2, (lo / (fs / 2), hi / (fs / 2)), "bandpass", output="sos")
    for a, b in itertools.pairwise(bounds):
        if b - a > 30:
            out[a:b] = sosfiltfilt(sos, x[a:b])
    return out


def cues(got: dict[str, Any]) -> dict[str, np.ndarray]:
    """(S,) each cue per step (walking steps only are meaningful)."""
    st, fs, lat = got["steps"], got["fs"], got["lateral"] - np.mean(got["lateral"])
    ic = st.ic_pos
    i0 = np.round(ic).astype(np.int64)
    nxt = np.where(st.has_next(), np.append(ic[1:], np.nan), np.nan)
    step = np.where(np.isfinite(nxt), nxt - ic, np.nanmedian(nxt - ic) if np.isfinite(nxt).any() else 0.55 * fs)

    def at(a_s: float, b_s: float, x: np.ndarray = lat) -> np.ndarray:
        return _window_mean(x, i0 + round(a_s * fs), i0 + round(b_s * fs))

    return {"whole step": got["cue"], "single support": got["kw"]["second"],
            "loading 0.1-0.2 s": at(0.1, 0.2),
            "jolt 30-80 ms": at(0.03, 0.08, _band(lat, fs, got["bounds"], 2.0, 12.0)),
            "0.35-0.75 step": _window_mean(lat, np.round(ic + 0.35 * step).astype(np.int64),
                                           np.round(ic + 0.75 * step).astype(np.int64))}


def _capture_lateral(run: Any) -> dict[str, Any]:
    """``foot_anatomy._capture`` plus the body-frame lateral acceleration and segment bounds."""
    fc = session_mod._foot_cue
    extra: dict[str, Any] = {}

    def foot_cue(body: Any, *a: Any, **k: Any) -> Any:
        extra.update(lateral=np.asarray(body.acc_mps2[:, 1], dtype=np.float64), bounds=body.seg_bounds.copy())
        return fc(body, *a, **k)

    session_mod._foot_cue = foot_cue
    try:
        got = _capture(run)
    finally:
        session_mod._foot_cue = fc
    return {**got, **extra}


def _matched(got: dict[str, Any], ref_ic_s: np.ndarray, ref_foot: np.ndarray,
             t0_ns: int) -> tuple[np.ndarray, np.ndarray]:
    st = got["steps"]
    walk = np.flatnonzero(st.activity == WALK)
    ic_s = interp_at(got["t_s"], st.ic_pos[walk]) + (got["t0_ns"] - t0_ns) / 1e9
    ei, ri = match(ic_s, ref_ic_s, 0.1)
    return walk[ei], ref_foot[ri] == "R"


def _line(name: str, rows: list[tuple[dict[str, np.ndarray], np.ndarray]]) -> str:
    y = np.concatenate([r[1] for r in rows])
    out = f"{name:<30}{y.size:>6}"
    for c in CUES:
        x = np.concatenate([r[0][c] for r in rows])
        auc = auroc(x, y)
        acc = float(np.mean((x > 0) == y))
        out += f"        {auc:5.3f} {acc:5.3f}"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--sim", action="store_true", help="also the simulated realistic walking sessions")
    args = ap.parse_args(argv)
    groups: dict[str, list[tuple[dict[str, np.ndarray], np.ndarray]]] = {}
    trials = rw.load(args.data, no_gyro=True)
    if not trials and not args.sim:
        print(f"no real walking data under {args.data / 'real'}: skipped (python benchmarks/get_real_data.py)")
        return 0
    for t in trials:
        if t.name in rw.REFERENCE_FEET_SWAPPED:
            continue
        got = _capture_lateral(lambda t=t: rw.imuback_detect(t))
        if got.get("steps") is None or got["steps"].n == 0:
            continue
        c = cues(got)
        for ref_name, ref in t.refs.items():
            k, right = _matched(got, ref.ic_s, ref.foot, int(t.raw.time_ns[0]))
            row = ({n: v[k] for n, v in c.items()}, right)
            groups.setdefault(f"{t.dataset} / {ref_name}", []).append(row)
            if t.dataset == "voisard_l5_walk":
                groups.setdefault(f"  voisard subject {t.subject}", []).append(row)
    if args.sim:
        import sim_accuracy as sa
        from imuback.pipeline import process_raw

        for i in range(6):  # the realistic walking sessions of sim_accuracy.report_failure_modes
            sim = sa.simulate_session(sa.walking_scenario(i), seed=300 + i, session_id=f"acc{i}", runner_id="sim",
                                      start_time=sa.T0_NS)
            raw = dataclasses.replace(sim.raw, gyr_dps=None)
            got = _capture_lateral(lambda raw=raw: process_raw(raw))
            if got.get("steps") is None or got["steps"].n == 0:
                continue
            ts = sim.truth_steps
            keep = ((np.asarray(ts.column("activity").to_pylist()) == "walk")
                    & ~np.asarray(ts.column("lost_in_gap").to_pylist(), dtype=bool))
            ic = (np.asarray(ts.column("ic_time").cast("int64").to_numpy(), dtype=np.int64) - int(raw.time_ns[0])) / 1e9
            foot = np.asarray([str(f)[:1].upper() if f else "" for f in ts.column("foot").to_pylist()])
            k, right = _matched(got, ic[keep], foot[keep], int(raw.time_ns[0]))
            c = cues(got)
            groups.setdefault("simulated realistic walking", []).append(({n: v[k] for n, v in c.items()}, right))
    print("each cue alone per matched walking step, no gyroscope: AUROC, share whose sign names the reference foot")
    print(f"{'':<30}{'steps':>6}" + "".join(f"{c:>20}" for c in CUES))
    for name in sorted(groups, key=lambda g: (g.startswith("  "), g)):
        print(_line(name, groups[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
