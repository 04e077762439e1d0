"""Does ``steps.quality`` predict whether a step is right? Calibration, AUROC and reliability on real data.

    python benchmarks/real_quality.py [--data ../shared/data]

Walking (signal/quality.py): the probability that a step is right is a logistic model of three
pieces of evidence that transfer between data sets (``python benchmarks/quality_evidence.py``
measures each): the agreement score, and the step's vertical swing and heel-strike braking against
the session's typical step. Steps scored as benchmarks/validate.py scores them (a walking step inside a
reference bout ± 1 s is right when matched one-to-one within 100 ms of a reference IC; mobgap_lab:
of either of its references, INDIP or stereophotogrammetry, and each is also shown). The model is
fitted (maximum likelihood, a small L2 penalty) on one data set and reported on the other, both
ways; the coefficients of both fits are printed for ``QualityParams.walk_logit``.

Running (alcantara_treadmill only; a step is right when |IC err| <= 10 ms and |TO err| <= 20 ms
against the force plate): the agreement score mapped by knots (pool-adjacent-violators over
quantile bins), fitted leave one slope out.

Calibration error: expected calibration error over 10 equal bins of quality (step-weighted mean
|mean quality - share right|).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.signal.params import PipelineParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

import quality_evidence
import real_running
import real_walking

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


RAW = quality_evidence.RAW
"""The pipeline with the agreement score stored as quality (no calibration)."""

OLD_WALK_KNOTS = ((0.148, 0.459), (0.495, 0.586), (0.632, 0.714), (0.714, 0.724), (0.789, 0.857), (0.874, 0.931))
"""The walking calibration of pipeline 0.9.0 (knots on the agreement score, fitted on mobgap_lab
against INDIP over every detected step): printed for comparison on the same steps."""

FEATURES = ("score", "swing", "braking")
"""The evidence in the walking model, in the order of ``QualityParams.walk_logit[1:]``."""


def design(r: quality_evidence.StepRows) -> F64:
    """(S, 4) the walking model's inputs with a leading 1 (signal.quality.walk_inputs)."""
    return np.column_stack([np.ones(r.trial.size), r.inputs])


def fit_logit(x: F64, y: B, *, l2: float = 1.0) -> tuple[float, ...]:
    """Logistic regression by Newton's method (intercept not penalised; ``l2`` on the others)."""
    w = np.zeros(x.shape[1])
    pen = l2 * np.r_[0.0, np.ones(x.shape[1] - 1)]
    for _ in range(50):  # Newton steps: converges in < 10
        p = 1.0 / (1.0 + np.exp(-x @ w))
        h = x.T @ (x * (p * (1 - p))[:, None]) + np.diag(pen)
        w -= np.linalg.solve(h, x.T @ (p - y) + pen * w)
    return tuple(round(float(v), 3) for v in w)


def walking_quality(data: Path, params: PipelineParams = PipelineParams()) -> dict[str, tuple[F64, B]]:
    """Per walking dataset: (quality as ``params`` store it, right) of every scored walking step
    (mobgap_lab: right against either reference)."""
    rows = quality_evidence.step_rows(real_walking.load(data), params)
    return {name: (r.quality, r.right["right (either)" if "right (either)" in r.right else next(iter(r.right))])
            for name, r in rows.items()}


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


def _apply(score: F64, knots: tuple[tuple[float, float], ...]) -> F64:
    """Scores mapped through knots (linear between, flat beyond), as signal.quality.calibrate maps
    running scores."""
    xs, ps = np.asarray(knots, dtype=np.float64).T
    return np.asarray(np.interp(score, xs, ps), dtype=np.float64)


def ece(p: F64, right: B, *, n_bins: int = 10) -> float:
    """Expected calibration error: over ``n_bins`` equal bins of ``p``, the step-weighted mean of
    |mean p - share right|."""
    b = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    n = np.bincount(b, minlength=n_bins)
    gap = np.abs(np.bincount(b, p, n_bins) - np.bincount(b, right.astype(np.float64), n_bins))
    return float(gap.sum() / max(p.size, 1)) if n.sum() else float("nan")


def reliability(p: F64, right: B, *, n_bins: int = 10) -> list[str]:
    """Predicted against observed: per bin of quality, the steps, their mean quality and the
    share right; then the expected calibration error and the Brier score."""
    lines = [f"{'quality':<14}{'steps':>7}{'predicted':>11}{'observed':>10}"]
    for lo, hi in itertools.pairwise(np.linspace(0.0, 1.0, n_bins + 1)):
        sel = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if not sel.any():
            lines.append(f"[{lo:.2f}, {hi:.2f}{')' if hi < 1 else ']'}{'':<1}{0:>7}{'-':>11}{'-':>10}")
            continue
        lines.append(f"[{lo:.2f}, {hi:.2f}{')' if hi < 1 else ']'}{'':<1}{int(sel.sum()):>7}{p[sel].mean():>11.2f}"
                     f"{right[sel].mean():>10.2f}")
    brier = float(np.mean((p - right) ** 2))
    lines.append(f"calibration error {ece(p, right):.3f}, Brier {brier:.3f} "
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
            held[m] = _apply(s.quality[m], fit_knots(s.quality[~m], ok[~m]))
        print("# running: alcantara_treadmill (right: |IC err| <= 10 ms and |TO err| <= 20 ms)")
        _report("agreement score (uncalibrated)", s.quality, ok)
        _report("calibrated leave one slope out (reported on the left-out slope)", held, ok)
        _, x, ok2, slope2 = quality_evidence.running_rows(trials, RAW)
        x = np.column_stack([np.ones(ok2.size), x])
        held2 = np.empty(ok2.size)
        for v in np.unique(slope2):  # leave one slope out
            m = slope2 == v
            held2[m] = 1.0 / (1.0 + np.exp(-x[m] @ np.asarray(fit_logit(x[~m], ok2[~m]))))
        _report("the walking model's form (score, swing, braking) fitted leave one slope out", held2, ok2)
        print(f"\nrun_calibration (fitted on all {len(trials)} trials): {fit_knots(s.quality, ok)}")
        s_now = real_running.score(trials)
        _report("as the pipeline stores it now (the agreement score: no running knots)", s_now.quality,
                real_running.step_ok(s_now))
    rows = quality_evidence.step_rows(real_walking.load(args.data), RAW)
    if len(rows) == 2:
        v, m = rows["voisard_l5_walk"], rows["mobgap_lab"]
        yv, ym = v.right["right (foot IMU)"], m.right["right (either)"]
        print("\n# walking (right: matched within 100 ms of a reference IC; mobgap_lab: of either reference)")
        wv, wm = fit_logit(design(v), yv), fit_logit(design(m), ym)
        for name, r, w, y, other in (("mobgap_lab", m, wv, ym, "voisard_l5_walk"),
                                     ("voisard_l5_walk", v, wm, yv, "mobgap_lab")):
            ev = r.evidence
            _report(f"{name}, agreement score (uncalibrated)", ev["score"], y)
            _report(f"{name}, 0.9.0's knots on the score (fitted on mobgap_lab, INDIP, all steps)",
                    _apply(ev["score"], OLD_WALK_KNOTS), y)
            p = 1.0 / (1.0 + np.exp(-design(r) @ np.asarray(w)))
            _report(f"{name}, the model fitted on {other} (held out)", p, y)
            if name == "mobgap_lab":
                for ref in ("right (INDIP)", "right (stereo)"):
                    print(f"  against {ref.removeprefix('right ')} alone: {100 * r.right[ref].mean():.1f} % right, "
                          f"AUROC {real_running.auroc(p, r.right[ref]):.2f}, "
                          f"calibration error {ece(p, r.right[ref]):.3f}")
        extra = {"the turn rate": lambda e: np.minimum(e["turn_dps"], 90.0) / 30.0,
                 "the chain's edge": lambda e: np.minimum(e["edge_steps"], 3.0)}
        for what, col in extra.items():  # evidence not in the model: would it calibrate better held out?
            xv, xm = (np.column_stack([design(r), col(r.evidence)]) for r in (v, m))
            em = ece(1.0 / (1.0 + np.exp(-xm @ np.asarray(fit_logit(xv, yv)))), ym)
            ev_ = ece(1.0 / (1.0 + np.exp(-xv @ np.asarray(fit_logit(xm, ym)))), yv)
            print(f"with {what} added: held-out calibration error mobgap_lab {em:.3f}, voisard_l5_walk {ev_:.3f}")
        print(f"\nwalk_logit (b0, b_{', b_'.join(FEATURES)}) fitted on voisard_l5_walk: {wv}")
        print(f"walk_logit fitted on mobgap_lab (either reference): {wm}")
        for name, (q, ok_) in walking_quality(args.data).items():
            _report(f"{name} as the pipeline stores it now", q, ok_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
