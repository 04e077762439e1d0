"""How much any choice among the vertical maxima could still add, on every real walking data set.

    python benchmarks/walk_candidates.py [--data ../shared/data]

imuback's walking steps are vertical maxima of the smoothed vertical acceleration (McCamley's
scale, ``EventParams.walk_detect_sigma_s``) with prominence >= ``walk_weak_prominence_g``; which of
them become steps is chosen by their cues and the rhythm. This script asks, with the pipeline's
final steps (same scorer as ``benchmarks/real_walking.py``: one-to-one within 100 ms):

1. Each missed reference IC: is there a vertical maximum whose IC window (0.25 s before it to
   0.05 s after) holds it? If not, no choice among the maxima can find it. If so, is that maximum
   already a step (a step's vertical-signal IC, before the forward-peak refinement, lies in its
   window; the step's IC lies elsewhere: a placement problem) or one not taken?
2. Each maximum not taken (inside a reference bout ± 1 s): ``recoverable`` (a missed reference IC
   in its window), ``false`` (no reference IC from 0.3 s before it to 0.1 s after) or other;
   how well its cues tell the two apart (AUROC, 0.5 = not at all): prominence, loading rise
   (steepest slope at ``walk_locate_sigma_s`` over the window), heel-strike braking fall
   (``braking_fall`` about 50 ms before the maximum, over the session's median), and its place
   in the rhythm (distance to the nearer step over the median step).
3. Each step taken: matched or not, and how well its fit to the rhythm (the better of its two
   intervals, |log(Δt / median step)|) and its prominence tell them apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.activity import WALK
from imuback.signal.frames import G_MPS2
from imuback.signal.params import EventParams, PipelineParams
from imuback.signal.session import analyse_session
from imuback.signal.walking_ic import braking_fall
from matching import match
from real_running import auroc as _auroc

F64 = npt.NDArray[np.float64]
REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))
WINDOW_S = (0.25, 0.05)  # a maximum's IC lies up to 0.25 s before it (to 0.05 s after)


def _in_bouts(t_s: F64, bouts_s: F64) -> npt.NDArray[np.bool_]:
    """True where a time lies inside a reference walking bout ± ``rw.BOUT_MARGIN_S``."""
    return np.asarray(np.any((t_s[:, None] >= bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                             & (t_s[:, None] <= bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1), dtype=bool)


def paired_vertical_s(vertical_s: F64, steps_s: F64) -> tuple[F64, int]:
    """The vertical-signal ICs (s, sorted) paired one-to-one with a pipeline step within ``WINDOW_S[0]``,
    and how many are left unpaired (printed: they are not counted as a step's IC)."""
    vi, _ = match(vertical_s, steps_s, WINDOW_S[0])
    return vertical_s[np.sort(vi)], int(vertical_s.size - vi.size)


def trial_cues(trial: rw.Trial, p: EventParams = EventParams()) -> dict[str, F64]:
    """The trial's walking steps (s) and every vertical maximum in its walking bouts with its cues."""
    a = analyse_session(trial.raw, params=PipelineParams(events=p))
    # the same steps with their IC at the vertical loading rise (IC refinement off): which maximum made each
    vert = analyse_session(trial.raw, params=PipelineParams(
        events=dataclasses.replace(p, walk_min_drop_g_per_s=1e9, walk_ic_delay_s=0.0)))
    # one IC per stance (``walk_min_step_s``) may drop a different one of two close ICs without the
    # refinement: keep the vertical ICs that pair one-to-one with a pipeline step (within 0.25 s)
    body = a.body
    fs = 1.0 / float(np.median(np.diff(body.t_s)))
    t0 = int(trial.raw.time_ns[0])

    def sec(pos: F64) -> F64:
        return (a.times_ns(pos).astype(np.float64) - t0) / 1e9

    v = body.acc_mps2[:, 2].astype(np.float64) / G_MPS2 - 1.0
    ap = body.acc_mps2[:, 0].astype(np.float64)
    walk = a.steps.ic_pos[a.steps.activity == WALK]
    pk_all, prom_all, rise_all = [], [], []
    sel = a.bouts.label == WALK
    for s0, e0 in zip(a.bouts.start_idx[sel], a.bouts.end_idx[sel], strict=True):
        d1 = gaussian_filter1d(v[s0:e0], p.walk_detect_sigma_s * fs)
        f1 = gaussian_filter1d(v[s0:e0], p.walk_locate_sigma_s * fs)
        pk, props = find_peaks(d1, prominence=p.walk_weak_prominence_g)
        slope = np.gradient(f1)
        rise = [slope[max(k - int(0.2 * fs), 0):k + int(0.05 * fs) + 1].max() for k in pk]
        pk_all.append(pk + s0)
        prom_all.append(props["prominences"])
        rise_all.append(np.asarray(rise, dtype=np.float64) * fs)
    pk = np.concatenate([np.zeros(0, np.int64), *pk_all]).astype(np.float64)
    bounds = body.seg_bounds
    level = float(np.median(braking_fall(ap, walk, fs, bounds, p))) if walk.size else float("nan")
    fall = braking_fall(ap, np.maximum(pk - round(0.05 * fs), 0.0), fs, bounds, p)
    vs, unpaired = paired_vertical_s(sec(vert.steps.ic_pos[vert.steps.activity == WALK]), sec(walk))
    return {"steps_s": sec(walk), "vertical_s": vs, "vertical_unpaired": np.array([unpaired], dtype=np.float64),
            "max_s": sec(pk), "prom": np.concatenate([np.zeros(0), *prom_all]),
            "rise": np.concatenate([np.zeros(0), *rise_all]), "fall_rel": fall / level}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args(argv)
    trials = [t for t in rw.load(args.data) if t.dataset in {d for d, _ in REFS}]
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    cues = [trial_cues(t) for t in trials]
    print("walking candidates: every vertical maximum >= walk_weak_prominence_g in the walking bouts; "
          "scored ±100 ms")
    unpaired = {t.name: int(c["vertical_unpaired"][0]) for t, c in zip(trials, cues, strict=True)}
    print(f"vertical-signal ICs with no pipeline step within {WINDOW_S[0]:g} s (not counted as a step's): "
          f"{sum(unpaired.values())} of {sum(c['vertical_s'].size for c in cues) + sum(unpaired.values())}; "
          + (", ".join(f"{k} {n}" for k, n in unpaired.items() if n) or "none"))
    for ds, ref_name in REFS:
        miss = {"none": 0, "step": 0, "not taken": 0}
        cand: list[tuple[bool, bool, float, float, float, float]] = []
        taken: list[tuple[bool, float, float]] = []
        for t, c in zip(trials, cues, strict=True):
            if t.dataset != ds or ref_name not in t.refs:
                continue
            ref = t.refs[ref_name]
            st, mx = c["steps_s"], c["max_s"]
            if st.size < 4:
                continue
            inb = _in_bouts(st, ref.bouts_s)
            ei, ri = match(st[inb], ref.ic_s, 0.1)
            missed = ref.ic_s[np.setdiff1d(np.arange(ref.ic_s.size), ri)]
            vs = c["vertical_s"]
            is_step = np.array([np.any((vs >= m - WINDOW_S[0]) & (vs <= m + WINDOW_S[1])) for m in mx], dtype=bool)
            for r in missed:
                holds = (mx - WINDOW_S[0] <= r) & (mx + WINDOW_S[1] >= r)
                miss["none" if not holds.any() else "step" if is_step[holds].any() else "not taken"] += 1
            tau = float(np.median(np.diff(st)))
            for k in np.flatnonzero(~is_step & _in_bouts(mx, ref.bouts_s)):
                m = mx[k]
                rec = bool(np.any((missed >= m - WINDOW_S[0]) & (missed <= m + WINDOW_S[1])))
                false = not np.any((ref.ic_s >= m - 0.3) & (ref.ic_s <= m + 0.1))
                j = np.searchsorted(st, m - 0.05)
                near = min(m - 0.05 - st[j - 1] if j > 0 else np.inf, st[j] - m + 0.05 if j < st.size else np.inf)
                cand.append((rec, false, c["prom"][k], c["rise"][k], c["fall_rel"][k], near / tau))
            ok = np.zeros(st.size, dtype=bool)
            ok[np.flatnonzero(inb)[ei]] = True
            d = np.diff(st)
            for i in np.flatnonzero(inb):
                fit = min(abs(np.log(d[i - 1] / tau)) if i > 0 else np.inf,
                          abs(np.log(d[i] / tau)) if i < d.size else np.inf)
                k = int(np.argmin(np.abs(mx - st[i] - 0.05))) if mx.size else -1
                taken.append((bool(ok[i]), fit, c["prom"][k] if k >= 0 else np.nan))
        n_miss = sum(miss.values())
        print(f"\n## {ds} / {ref_name}")
        print(f"missed reference ICs {n_miss}: no vertical maximum holds it {miss['none']}, its maximum is a "
              f"step placed elsewhere {miss['step']}, its maximum not taken {miss['not taken']}")
        arr = np.array(cand, dtype=np.float64).reshape(-1, 6)
        rec, false = arr[:, 0] > 0, arr[:, 1] > 0
        both = rec | false
        print(f"maxima not taken (in reference bouts ± 1 s) {arr.shape[0]}: recoverable {rec.sum()}, "
              f"false {false.sum()}, other {arr.shape[0] - both.sum()}")
        names = ("prominence", "loading rise", "braking fall / session median", "distance to the nearer step / step")
        print("  recoverable vs false, AUROC: " + ", ".join(
            f"{n} {_auroc(arr[both, i], rec[both]):.2f}" for i, n in zip(range(2, 6), names, strict=True)))
        for th in (0.3, 0.5):
            hi = arr[:, 4] >= th
            print(f"  braking fall >= {th} x median: recoverable {np.sum(hi & rec)}, false {np.sum(hi & false)}")
        tk = np.array(taken, dtype=np.float64).reshape(-1, 3)
        good = tk[:, 0] > 0
        print(f"steps taken {tk.shape[0]}: matched {good.sum()}, unmatched {(~good).sum()}; matched vs unmatched, "
              f"AUROC: rhythm fit {_auroc(-tk[:, 1], good):.2f}, "
              f"prominence {_auroc(np.nan_to_num(tk[:, 2]), good):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
