"""Does ``steps.quality`` predict whether a step is right? Calibration, AUROC and reliability on real data.

    python benchmarks/real_quality.py [--data ../shared/data]

The pipeline's agreement score (signal/quality.py, before calibration) is mapped to a probability
by knots fitted here (pool-adjacent-violators over quantile bins: monotone, no shape assumed).
Calibrated on some data, reported on others: walking fitted on voisard_l5_walk and reported on
mobgap_lab (and the reverse); running (alcantara_treadmill only) leave one slope out. The knots
fitted on voisard_l5_walk and on all alcantara trials are printed for ``QualityParams``.

A small scorer of its own (the walking loaders of benchmarks/validate.py may replace it):
- alcantara_treadmill (running): a step is right when |IC err| <= 10 ms and |TO err| <= 20 ms
  against the force plate (the running SD targets of issue #14);
- mobgap_lab, voisard_l5_walk (walking): a detected step is right when it is matched one-to-one
  to a reference IC within 100 ms (INDIP; foot sensors). Extra steps are the wrong ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from imuback.core import RawSession
from imuback.pipeline import process_raw
from imuback.signal.activity import RUN, WALK
from imuback.signal.params import PipelineParams, QualityParams
from imuback.signal.quality import calibrate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

import real_running
from gait_features import load_voisard
from matching import match

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


RAW = PipelineParams(quality=QualityParams(walk_calibration=(), run_calibration=()))
"""The pipeline with the agreement score stored as quality (no calibration)."""


def _quality_ic(raw: RawSession, params: PipelineParams) -> tuple[F64, F64]:
    """(IC in s from the first sample, quality) of every step."""
    steps = process_raw(raw, params=params).steps
    ns = steps.column("ic_time").cast(pa.int64()).to_numpy(zero_copy_only=False)
    ic = (np.asarray(ns, dtype=np.float64) - float(raw.time_ns[0])) / 1e9
    q = np.asarray(steps.column("quality").to_numpy(zero_copy_only=False), dtype=np.float64)
    return ic, q


def walking_quality(data: Path, params: PipelineParams = PipelineParams()) -> dict[str, tuple[F64, B]]:
    """Per walking dataset: (quality, right) of every detected step inside the reference span."""
    out: dict[str, tuple[F64, B]] = {}
    mob = data / "real" / "mobgap_lab"
    if mob.exists():
        import real_walking

        qs, oks = [], []
        for name, x in real_walking.mobgap_mat_trials(mob):
            ic, q = _quality_ic(real_walking.mobgap_raw(name, x), params)
            wbs = x.struct["Standards"]["INDIP"]["MicroWB"]
            wbs = wbs if isinstance(wbs, list) else [wbs]
            ref = np.sort(np.concatenate([np.atleast_1d(np.asarray(w["InitialContact_Event"], float)) for w in wbs]))
            ref = ref[np.isfinite(ref)]
            ei, _ = match(ic, ref, 0.1)
            ok = np.zeros(ic.size, dtype=bool)
            ok[ei] = True
            qs.append(q)
            oks.append(ok)
        out["mobgap_lab"] = (np.concatenate(qs), np.concatenate(oks))
    voi = data / "real" / "voisard_l5_walk"
    if voi.exists():
        qs, oks = [], []
        for raw in load_voisard(voi):
            d = json.loads((voi / "GaitData" / f"{raw.session_id.removesuffix('_lb')}.json").read_text())
            ic, q = _quality_ic(raw, params)
            ref = np.sort(np.array([e[1] for e in d["LeftFootEvents"] + d["RightFootEvents"]], float)) / 100.0
            ref = ref[ref <= (raw.time_ns[-1] - raw.time_ns[0]) / 1e9]  # on the sensor's clock (rows skip drops)
            lo, hi = d["TrialBoundaries"][0] / 100.0, d["TrialBoundaries"][1] / 100.0
            inside = (ic >= lo - 0.5) & (ic <= hi + 0.5)
            ei, _ = match(ic, ref, 0.1)
            ok = np.zeros(ic.size, dtype=bool)
            ok[ei] = True
            qs.append(q[inside])
            oks.append(ok[inside])
        out["voisard_l5_walk"] = (np.concatenate(qs), np.concatenate(oks))
    return out


def fit_knots(score: F64, right: B, *, n_bins: int = 8) -> tuple[tuple[float, float], ...]:
    """Monotone (score, share right) knots: quantile bins of the score, their shares made
    non-decreasing by pooling adjacent violators (weighted by the steps in each)."""
    edges = np.unique(np.quantile(score, np.linspace(0.0, 1.0, n_bins + 1)))
    b = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, max(edges.size - 2, 0))
    blocks = []  # [sum score, sum right, n] per pooled block
    for k in np.unique(b):  # a loop over a few bins
        m = b == k
        blocks.append([float(score[m].sum()), float(right[m].sum()), int(m.sum())])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [blocks[-1][0] + last[0], blocks[-1][1] + last[1], blocks[-1][2] + last[2]]
    return tuple((round(x / n, 3), round(r / n, 3)) for x, r, n in blocks)


def _apply(score: F64, knots: tuple[tuple[float, float], ...], label: int) -> F64:
    """The pipeline's own mapping (signal.quality.calibrate) of scores of one activity."""
    params = QualityParams(walk_calibration=knots, run_calibration=knots)
    return calibrate(score, np.full(score.size, label, np.int8), params=params)


def reliability(p: F64, right: B, edges: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0001)
                ) -> list[str]:
    """Predicted against observed: per bin of quality, the steps, their mean quality and the
    share right; then the expected calibration error (step-weighted mean |predicted - observed|)
    and the Brier score."""
    lines = [f"{'quality':<14}{'steps':>7}{'predicted':>11}{'observed':>10}"]
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        sel = (p >= lo) & (p < hi)
        if not sel.any():
            lines.append(f"[{lo:.2f}, {min(hi, 1.0):.2f}){'':<1}{0:>7}{'-':>11}{'-':>10}")
            continue
        ece += sel.sum() * abs(p[sel].mean() - right[sel].mean())
        lines.append(f"[{lo:.2f}, {min(hi, 1.0):.2f}){'':<1}{int(sel.sum()):>7}{p[sel].mean():>11.2f}"
                     f"{right[sel].mean():>10.2f}")
    brier = float(np.mean((p - right) ** 2))
    lines.append(f"calibration error {ece / max(p.size, 1):.3f}, Brier {brier:.3f} "
                 f"(a constant at the base rate: {float(right.mean() * (1 - right.mean())):.3f})")
    return lines


def _report(title: str, p: F64, right: B) -> None:
    print(f"\n## {title}: {p.size} steps, {100 * right.mean():.1f} % right, AUROC {real_running.auroc(p, right):.2f}")
    print("\n".join(reliability(p, right)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    args = ap.parse_args(argv)
    alc = args.data / "real" / "alcantara_treadmill"
    if alc.exists():
        trials = real_running.load_trials(alc)
        s = real_running.score(trials, params=RAW)
        ok = real_running.step_ok(s)
        slope = np.array([t.slope_deg for t in trials])[s.trial]
        held = np.empty(ok.size)
        for v in np.unique(slope):  # leave one slope out
            m = slope == v
            held[m] = _apply(s.quality[m], fit_knots(s.quality[~m], ok[~m]), RUN)
        print("# running: alcantara_treadmill (right: |IC err| <= 10 ms and |TO err| <= 20 ms)")
        _report("agreement score (uncalibrated)", s.quality, ok)
        _report("calibrated leave one slope out (reported on the left-out slope)", held, ok)
        print(f"\nrun_calibration (fitted on all {len(trials)} trials): {fit_knots(s.quality, ok)}")
        s_now = real_running.score(trials)
        _report("as the pipeline stores it now (its knots fitted on these very steps)", s_now.quality,
                real_running.step_ok(s_now))
    walk = walking_quality(args.data, RAW)
    if len(walk) == 2:
        print("\n# walking (right: matched within 100 ms of a reference IC)")
        (qv, okv), (qm, okm) = walk["voisard_l5_walk"], walk["mobgap_lab"]
        kv, km = fit_knots(qv, okv), fit_knots(qm, okm)
        _report("voisard_l5_walk, agreement score (uncalibrated)", qv, okv)
        _report("mobgap_lab, agreement score (uncalibrated)", qm, okm)
        _report("mobgap_lab, calibrated on voisard_l5_walk", _apply(qm, kv, WALK), okm)
        _report("voisard_l5_walk, calibrated on mobgap_lab", _apply(qv, km, WALK), okv)
        print(f"\nwalk_calibration (fitted on voisard_l5_walk): {kv}")
        print(f"(fitted on mobgap_lab: {km})")
        now = walking_quality(args.data)
        for name, (q, ok_) in now.items():
            _report(f"{name} as the pipeline stores it now", q, ok_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
