"""Walking feet without a gyroscope, trial by trial: where the unlabelled steps are, and why.

    python benchmarks/nogyro_feet_trials.py [--data ../shared/data] [--off NAME=VALUE ...]

Runs the pipeline on every real walking trial with its gyroscope dropped (``real_walking.py``),
keeps the inputs of its ``assign_feet`` call (``foot_anatomy._capture``: the chains and the two
lateral-acceleration cues, read before the IC refinement) and matches each walking step to a
reference IC (±100 ms, at the unrefined IC, on the sensor's clock). Per trial: the static tilt, the
matched steps, how many are unlabelled and labelled wrong, the share of matched steps whose
whole-step and single-support cue (``session._foot_cue``, ``session._stance_cue``) each name the
reference foot by its sign, and the chains whose reference feet do not alternate with the chain's
steps (the reference parity flips inside the chain: a missed or extra contact, e.g. a U-turn's
pivot, that the chain did not break at; ``flip``). Trials whose reference feet are swapped
(``real_walking.REFERENCE_FEET_SWAPPED``) are marked ``*``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from foot_anatomy import _capture, params_with
from imuback.signal.activity import WALK
from imuback.signal.dsp import interp_at
from imuback.signal.events import RIGHT, foot_reasons
from matching import match


def trial_row(t: rw.Trial, got: dict[str, Any]) -> dict[str, Any] | None:
    """One trial's figures (None without walking steps)."""
    st = got.get("steps")
    if st is None or st.n == 0:
        return None
    cue, kw = got["cue"], got["kw"]
    second = kw["second"] if kw.get("second") is not None else np.zeros(st.n)
    parity, why = foot_reasons(st, cue, **kw)
    walk = np.flatnonzero(st.activity == WALK)
    ic_s = interp_at(got["t_s"], st.ic_pos[walk]) + (got["t0_ns"] - int(t.raw.time_ns[0])) / 1e9
    ref = next(iter(t.refs.values()))
    ei, ri = match(ic_s, ref.ic_s, 0.1)
    i = walk[ei]
    sign = np.where(ref.foot[ri] == "R", 1.0, -1.0)  # +1: a right contact (the cues' sign)
    labelled = why[i] == 0
    wrong = labelled & (np.where(parity[i] == RIGHT, 1.0, -1.0) != sign)
    # per chain: does the reference foot, signed by the chain's alternation, change sign inside it?
    starts = np.flatnonzero(np.concatenate([[True], st.chain[1:] != st.chain[:-1]]))
    pos = np.arange(st.n) - np.repeat(starts, np.diff(np.append(starts, st.n)))
    signed = np.zeros(st.n)
    signed[i] = sign * np.where(pos[i] % 2 == 0, 1.0, -1.0)
    flips = sum(int(np.any(s > 0) and np.any(s < 0)) for s in np.split(signed, starts[1:]))
    return {"trial": t.name + ("*" if t.name in rw.REFERENCE_FEET_SWAPPED else ""), "subject": t.subject,
            "tilt": t.tilt_deg, "n": i.size, "null": int((~labelled).sum()), "wrong": int(wrong.sum()),
            "whole": float(np.mean(np.sign(cue[i]) == sign)) if i.size else np.nan,
            "stance": float(np.mean(np.sign(second[i]) == sign)) if i.size else np.nan,
            "chains": starts.size, "flip": flips}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    args = ap.parse_args(argv)
    params = params_with(args.off)
    rows = []
    for t in rw.load(args.data, no_gyro=True):
        row = trial_row(t, _capture(lambda t=t: rw.imuback_detect(t, params)))
        if row is not None:
            rows.append(row)
    print("walking feet without a gyroscope, per trial (matched steps; cue columns: share whose sign names "
          "the reference foot; * reference feet swapped)")
    print(f"{'trial':<24}{'subj':>7}{'tilt°':>7}{'n':>5}{'null':>6}{'wrong':>6}{'whole':>7}{'stance':>7}"
          f"{'chains':>7}{'flip':>5}")
    for r in rows:
        print(f"{r['trial']:<24}{r['subject']:>7}{r['tilt']:7.1f}{r['n']:5d}{r['null']:6d}{r['wrong']:6d}"
              f"{r['whole']:7.2f}{r['stance']:7.2f}{r['chains']:7d}{r['flip']:5d}")
    kept = [r for r in rows if not r["trial"].endswith("*")]
    null = [r for r in kept if r["null"]]
    total = sum(r["null"] for r in kept)
    print(f"\nunlabelled (swapped trials out): {total} of {sum(r['n'] for r in kept)} matched steps, in "
          f"{len(null)} trials; in trials with a chain whose reference feet do not alternate: "
          f"{sum(r['null'] for r in null if r['flip'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
