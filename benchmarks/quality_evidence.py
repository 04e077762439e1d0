"""Which per-step evidence tells right walking steps from wrong ones, on every real walking set?

    python benchmarks/quality_evidence.py [--data ../shared/data]

Steps scored as benchmarks/validate.py scores them (benchmarks/real_walking.py): the pipeline's
walking steps inside a reference bout (± 1 s), matched one-to-one within 100 ms of a reference IC.
mobgap_lab has two references (INDIP, stereophotogrammetry): a step is right against each, and
against either. Per dataset, the AUROC of each piece of evidence (oriented so that > 0.5 means
"more of it: more likely right"; the raw AUROC is printed, below 0.5 means the opposite).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_running
import real_walking
from imuback.core import RawSession
from imuback.signal.activity import RUN, WALK
from imuback.signal.events import UNKNOWN
from imuback.signal.params import EventParams, PipelineParams, QualityParams
from imuback.signal.quality import QualityEvidence, walk_inputs
from imuback.signal.session import SessionAnalysis, analyse_session
from imuback.signal.walking_ic import braking_fall
from matching import match

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
RAW = PipelineParams(quality=QualityParams(walk_logit=(), run_calibration=()))
"""The pipeline with the agreement score stored as quality (no calibration)."""


@dataclass(frozen=True, kw_only=True)
class StepRows:
    """Per scored walking step of one dataset: its evidence, whether it is right (per reference
    and against any), its trial."""

    evidence: dict[str, F64]
    inputs: F64
    """(S, 3) the walking model's inputs (signal.quality.walk_inputs)."""
    quality: F64
    """The quality the pipeline stored."""
    right: dict[str, B]
    trial: npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class Analysed:
    """One session through the pipeline: every step's evidence, IC and TO (s from the first
    sample, NaN where unknown) and activity."""

    evidence: QualityEvidence
    table: dict[str, F64]
    """:func:`evidence_table`"""
    quality: F64
    ic_s: F64
    to_s: F64
    activity: npt.NDArray[np.int8]


TURN_WINDOW_S = 1.0
"""A step's turn rate: the mean yaw rate over this window centred on its IC (about a stride: the
pelvis's own step-to-step yaw swing cancels)."""


def evidence_table(a: SessionAnalysis) -> dict[str, F64]:
    """Every piece of evidence measured for each step of one analysed session, by name: the
    pipeline's own (signal/quality.py: score, shape, rhythm, has a neighbour, swing, braking —
    which the pipeline reads for walking steps only, measured here for running steps too) and
    others the pipeline knows: |mean yaw rate| over ``TURN_WINDOW_S`` around IC (deg/s, 0 without
    a gyroscope), steps to the nearer end of its chain, its chain's length, a labelled foot, and
    the session's median score."""
    ev, steps, body = a.quality_evidence, a.steps, a.body
    assert ev is not None
    p, n = ev.parts, steps.n
    if body.gyr_dps is not None and n:
        yaw = np.concatenate([[0.0], np.cumsum(body.gyr_dps[:, 2], dtype=np.float64) / body.fs_hz])
        half = round(TURN_WINDOW_S * body.fs_hz / 2)
        c = np.round(steps.ic_pos).astype(np.int64)
        bounds = body.seg_bounds
        seg = np.clip(np.searchsorted(bounds, c, side="right") - 1, 0, bounds.size - 2)
        lo, hi = np.maximum(c - half, bounds[seg]), np.minimum(c + half, bounds[seg + 1])
        turn = np.abs(yaw[hi] - yaw[lo]) / np.maximum(hi - lo, 1) * body.fs_hz
    else:
        turn = np.zeros(n)
    braking = ev.braking.copy()  # the pipeline reads it for walking steps only; measured for running too
    run = steps.activity == RUN
    if run.any():
        fall = braking_fall(body.acc_mps2[:, 0], steps.ic_pos[run], body.fs_hz, body.seg_bounds, EventParams())
        braking[run] = fall / max(float(np.median(fall)), 1e-12)
    starts = np.flatnonzero(np.concatenate([[True], steps.chain[1:] != steps.chain[:-1]]))
    size = np.repeat(np.diff(np.append(starts, n)), np.diff(np.append(starts, n)))
    pos = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    score = p.score
    return {"score": score, "shape": p.shape, "rhythm": p.rhythm, "has_neighbour": p.has_neighbour.astype(float),
            "swing": p.swing, "braking": braking, "turn_dps": turn,
            "edge_steps": np.minimum(pos, size - 1 - pos).astype(float), "chain_steps": size.astype(float),
            "foot_known": (steps.foot != UNKNOWN).astype(float),
            "session_score": np.full(n, float(np.median(score)) if n else 0.0)}


def analysed(raw: RawSession, params: PipelineParams = RAW) -> Analysed:
    """The pipeline's steps of one session with their quality evidence (as the pipeline reads it)."""
    a = analyse_session(raw, params=params)
    t0 = float(raw.time_ns[0])

    def sec(pos: F64) -> F64:
        ns = a.times_ns(pos)
        return np.where(np.isfinite(pos), (ns.astype(np.float64) - t0) / 1e9, np.nan)

    assert a.quality_evidence is not None
    return Analysed(evidence=a.quality_evidence, table=evidence_table(a), quality=a.steps.quality,
                    ic_s=sec(a.steps.ic_pos), to_s=sec(a.steps.to_pos), activity=a.steps.activity)


def step_rows(trials: list[real_walking.Trial], params: PipelineParams = RAW) -> dict[str, StepRows]:
    """Per dataset, the scored walking steps of its trials."""
    acc: dict[str, dict[str, list]] = {}
    for i, tr in enumerate(trials):
        an = analysed(tr.raw, params)
        ev, ic, walk = an.evidence, an.ic_s, an.activity == WALK
        first = tr.refs[next(iter(tr.refs))]  # INDIP for mobgap_lab: the scope of validate.py
        inb = walk & np.any((ic[:, None] >= first.bouts_s[None, :, 0] - real_walking.BOUT_MARGIN_S)
                            & (ic[:, None] <= first.bouts_s[None, :, 1] + real_walking.BOUT_MARGIN_S), axis=1)
        d = acc.setdefault(tr.dataset, {"trial": []})
        oks = []
        for name, ref in tr.refs.items():
            ei, _ = match(ic[inb], ref.ic_s, 0.1)
            ok = np.zeros(int(inb.sum()), bool)
            ok[ei] = True
            d.setdefault(f"right ({name})", []).append(ok)
            oks.append(ok)
        if len(tr.refs) > 1:
            d.setdefault("right (either)", []).append(np.any(oks, axis=0))
        for k, v in an.table.items():
            d.setdefault(k, []).append(v[inb])
        d.setdefault("inputs", []).append(walk_inputs(ev)[inb])
        d.setdefault("quality", []).append(an.quality[inb])
        d["trial"].append(np.full(int(inb.sum()), i))
    out = {}
    for name, d in acc.items():
        cat = {k: np.concatenate(v) for k, v in d.items()}
        right = {k: cat.pop(k).astype(bool) for k in list(cat) if k.startswith("right")}
        inputs, q = cat.pop("inputs"), cat.pop("quality")
        out[name] = StepRows(evidence={k: v for k, v in cat.items() if k != "trial"}, inputs=inputs, quality=q,
                             right=right,
                             trial=cat["trial"].astype(np.int64))
    return out


def running_rows(trials: list[real_running.Trial], params: PipelineParams = RAW
                 ) -> tuple[dict[str, F64], F64, B, F64]:
    """alcantara_treadmill: the evidence of every running step matched within 60 ms of a force-plate
    IC (as real_running.score matches), the walking model's inputs for it (signal.quality.walk_inputs),
    whether it is right (|IC err| <= 10 ms and |TO err| <= 20 ms), and its trial's slope (deg)."""
    feats: dict[str, list[F64]] = {}
    oks, slope, inputs = [], [], []
    for t in trials:
        an = analysed(t.raw, params)
        ic, a_to = an.ic_s, an.to_s
        ei, ri = match(ic, t.ref_ic_s, 0.06)
        ok = (np.abs(ic[ei] - t.ref_ic_s[ri]) <= 0.010) & (np.abs(a_to[ei] - t.ref_to_s[ri]) <= 0.020)
        for k, v in an.table.items():
            feats.setdefault(k, []).append(v[ei])
        # the walking model's inputs with the braking measured for running steps (the pipeline reads none)
        inputs.append(walk_inputs(replace(an.evidence, braking=an.table["braking"]))[ei])
        oks.append(ok)
        slope.append(np.full(ei.size, t.slope_deg))
    return ({k: np.concatenate(v) for k, v in feats.items()}, np.concatenate(inputs), np.concatenate(oks),
            np.concatenate(slope))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=real_running.DEFAULT_DATA, help="the shared data folder")
    args = ap.parse_args(argv)
    trials = real_walking.load(args.data)
    rows = step_rows(trials)
    alc = args.data / "real" / "alcantara_treadmill"
    if alc.exists():
        feats, _, ok, slope = running_rows(real_running.load_trials(alc))
        groups = np.unique(slope)
        print(f"\n## alcantara_treadmill (running): {ok.size} matched steps, {100 * ok.mean():.1f} % right "
              "(|IC err| <= 10 ms and |TO err| <= 20 ms); AUROC over all, then per slope (deg)")
        print(f"{'evidence':<22}{'all':>8}" + "".join(f"{g:>+8.0f}" for g in groups))
        for k, v in feats.items():
            print(f"{k:<22}{real_running.auroc(v, ok):>8.2f}"
                  + "".join(f"{real_running.auroc(v[slope == g], ok[slope == g]):>8.2f}" for g in groups))
        print(f"{'% right':<22}{100 * ok.mean():>8.0f}"
              + "".join(f"{100 * ok[slope == g].mean():>8.0f}" for g in groups))
    for name, r in rows.items():
        print(f"\n## {name}: {r.trial.size} walking steps; " + ", ".join(
            f"{100 * v.mean():.1f} % {k}" for k, v in r.right.items()))
        print(f"{'evidence':<22}" + "".join(f"{k.removeprefix('right '):>12}" for k in r.right))
        for k, v in r.evidence.items():
            print(f"{k:<22}" + "".join(f"{real_running.auroc(v, ok):>12.2f}" for ok in r.right.values()))
        lone = r.evidence["has_neighbour"] == 0
        print(f"{'% right, no neighbour':<22}" + "".join(f"{100 * ok[lone].mean():>12.1f}" for ok in r.right.values())
              + f"  ({int(lone.sum())} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
