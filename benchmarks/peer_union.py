"""Do the peers find the walking steps imuback misses? The peers on imuback's missed reference ICs.

    python benchmarks/peer_union.py --mobgap-python /work/venv-skdh/bin/python [--data ../shared/data]
                                    [--dataset all|voisard_l5_walk|mobgap_lab]

The peers run in the child interpreter of ``benchmarks/compare_mobgap.py`` (``run_peers``,
``peers="all+icd"``): mobgap's full ``MobilisedPipelineHealthy``; skdh with its gait classifier;
and, each given the first reference's walking bouts ± 1 s (an **oracle on the bouts**: it isolates
the step detector from gait detection, no imuback detection is given them),
``skdh ref-bouts`` and mobgap's IC detectors alone: ``IcdShinImproved``, ``IcdIonescu``,
``IcdHKLeeImproved``, each with its defaults.

Per dataset and reference, with the house one-to-one scorer (``real_walking.score``) at ±100 ms,
each detector scored on its own:

1. **misses found**: of the reference ICs imuback misses, how many the peer matches, overall and by
   condition (``real_walking.CONDITIONS``' turn / bout-edge / steady split, set by the reference);
   ``any peer``: found by at least one;
2. **the union**: imuback's detections plus the peer's *extra* ones (those not within ±100 ms of an
   imuback detection; the rule knows nothing of the reference), rescored: recall and precision, and
   how many extras match a reference IC. With a ref-bouts peer the extras come from inside the
   reference bouts only, so the union's precision is a best case: a ceiling for such a cue.
   ``in gaps``: only the extras inside a gap of imuback's rhythm (two consecutive imuback detections
   1.5-6 typical steps apart: imuback's own bridging range), the place a new candidate source would
   be searched.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_mobgap
import real_walking as rw

F64 = npt.NDArray[np.float64]
TOL_S = 0.1
"""Matching tolerance (the headline ±100 ms); also the distance under which a peer detection is one of imuback's."""
PEERS = (*compare_mobgap.PEERS, *(f"{n} ref-bouts" for n in compare_mobgap.ICD))
"""Every peer, as named in the tables."""
SPLIT = ("turn", "bout", "steady")
"""Conditions of the misses-found table (``real_walking._conditions``' keys)."""


def extras(ours_s: F64, peer_s: F64, *, tol_s: float = TOL_S) -> F64:
    """The peer's detections (s, sorted) farther than ``tol_s`` from every one of ours (s, sorted)."""
    if ours_s.size == 0:
        return peer_s.copy()
    j = np.clip(np.searchsorted(ours_s, peer_s), 1, ours_s.size - 1) if ours_s.size > 1 else np.zeros(peer_s.size, int)
    d = np.minimum(np.abs(ours_s[j] - peer_s), np.abs(ours_s[np.maximum(j - 1, 0)] - peer_s))
    return peer_s[d > tol_s]


GAP_STEPS = rw.EventParams().walk_bridge_gap_steps
"""A gap in imuback's rhythm: consecutive detections (1.5 .. 6) typical steps apart, imuback's own
bridging range (``EventParams.walk_bridge_gap_steps``)."""
MAX_STEP_S = rw.EventParams().max_step_s
"""Intervals up to this long (imuback's step chain limit) give the trial's typical step."""


def in_gaps(ours_s: F64, x_s: F64, *, gap_steps: tuple[float, float] = GAP_STEPS) -> npt.NDArray[np.bool_]:
    """Per time in ``x_s``: inside a gap of imuback's rhythm, i.e. between two consecutive detections of
    ``ours_s`` (sorted) that are ``gap_steps`` typical steps apart (the median interval <= ``MAX_STEP_S``)."""
    d = np.diff(ours_s)
    steps = d[d <= MAX_STEP_S]
    if not steps.size:
        return np.zeros(x_s.size, bool)
    r = d / np.median(steps)
    gap = (r >= gap_steps[0]) & (r <= gap_steps[1])
    j = np.searchsorted(ours_s, x_s) - 1  # the detection before each time
    ok = (j >= 0) & (j < d.size)
    return np.asarray(ok & gap[np.clip(j, 0, max(d.size - 1, 0))], dtype=bool)


def union(ours: rw.Detected, peer: rw.Detected, *, tol_s: float = TOL_S,
          gaps_only: bool = False) -> tuple[rw.Detected, int]:
    """imuback's steps plus the peer's :func:`extras` (no TO, no foot; ``gaps_only``: only those
    :func:`in_gaps`), and the number of extras added."""
    ex = extras(ours.ic_s, peer.ic_s, tol_s=tol_s)
    if gaps_only:
        ex = ex[in_gaps(ours.ic_s, ex)]
    ic = np.concatenate([ours.ic_s, ex])
    o = np.argsort(ic, kind="stable")
    to = np.concatenate([ours.to_s, np.full(ex.size, np.nan)])[o]
    foot = np.concatenate([ours.foot.astype(str), np.full(ex.size, "")])[o]
    return rw.Detected(ic_s=ic[o], to_s=to, foot=foot), int(ex.size)


def _ratio(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f} %)" if n else f"{k}/0"


def _rows(cells: list[list[str]]) -> list[str]:
    wid = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]
    return ["   ".join([r[0].ljust(wid[0]), *(x.rjust(n) for x, n in zip(r[1:], wid[1:], strict=True))]).rstrip()
            for r in cells]


def tables(trials: list[rw.Trial], ours: list[rw.Detected], peers: dict[str, list[rw.Detected]], *,
           tol_s: float = TOL_S) -> list[str]:
    """Per dataset and reference: imuback's misses found by each peer, by condition; then the union.

    ``peers[who][i]`` is peer ``who``'s steps in ``trials[i]``; every detector is scored on its own by
    ``real_walking.score`` at ``tol_s``, so its rows are the same reference ICs in the same order.
    """
    whos = list(peers)
    out: list[str] = []
    for ds in sorted({t.dataset for t in trials}):
        sel = [i for i, t in enumerate(trials) if t.dataset == ds]
        tr = [trials[i] for i in sel]
        for ref_name in sorted({k for t in tr for k in t.refs}):
            mine = rw.score(tr, [ours[i] for i in sel], ref_name=ref_name, tol_s=tol_s)
            found = {w: rw.score(tr, [peers[w][i] for i in sel], ref_name=ref_name, tol_s=tol_s).r_found
                     for w in whos}
            missed = ~mine.r_found
            found["any peer"] = np.any([found[w] for w in whos], axis=0) if whos else np.zeros(missed.size, bool)
            out.append(f"\n## {ds}/{ref_name}: imuback's missed reference ICs found by each peer "
                       f"(±{1e3 * tol_s:.0f} ms, each scored on its own)")
            cells = [["condition", "ref", "imuback missed", *found]]
            for cond in ("all", *SPLIT):
                for v in sorted(set(mine.r_cond[cond].tolist())):
                    r = mine.r_cond[cond] == v
                    m = missed & r
                    cells.append([f"  {v}" if cond == "all" else f"  {cond}: {v}", str(int(r.sum())),
                                  _ratio(int(m.sum()), int(r.sum())),
                                  *(_ratio(int((f & m).sum()), int(m.sum())) for f in found.values())])
            out += _rows(cells)
            base = rw.figures(mine)
            out.append(f"\n## {ds}/{ref_name}: the union, imuback + a peer's extras (detections > "
                       f"{1e3 * tol_s:.0f} ms from every imuback one), rescored")
            cells = [["detector", "recall", "precision", "peer alone r / p", "extras", "extras matched"],
                     ["  imuback", f"{base.recall:.3f}", f"{base.precision:.3f}", "", "", ""]]
            for gaps_only in (False, True):
                for w in whos:
                    alone = rw.figures(rw.score(tr, [peers[w][i] for i in sel], ref_name=ref_name, tol_s=tol_s))
                    uni = [union(ours[i], peers[w][i], tol_s=tol_s, gaps_only=gaps_only) for i in sel]
                    rows = rw.score(tr, [u for u, _ in uni], ref_name=ref_name, tol_s=tol_s)
                    f = rw.figures(rows)
                    n_ex = sum(n for _, n in uni)
                    gained = int(rows.r_found.sum() - mine.r_found.sum())
                    cells.append([f"  + {w}{', in gaps' if gaps_only else ''}", f"{f.recall:.3f}",
                                  f"{f.precision:.3f}", f"{alone.recall:.3f} / {alone.precision:.3f}", str(n_ex),
                                  _ratio(gained, n_ex)])
            out += _rows(cells)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--mobgap-python", default=sys.executable,
                    help="interpreter with mobgap and scikit-digital-health installed (imuback[bench])")
    ap.add_argument("--dataset", default="all", choices=("all", "voisard_l5_walk", "mobgap_lab"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    trials = [t for t in rw.load(args.data) if args.dataset in ("all", t.dataset)]
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    ours = [rw.imuback_detect(t) for t in trials]
    try:
        got = compare_mobgap.run_peers(trials, ours, data=args.data, python=args.mobgap_python, peers="all+icd")
    except compare_mobgap.PeerError as exc:
        print(exc)
        return 1
    have = [p for p in PEERS if p in got[trials[0].name]["peers"]]
    if len(have) < len(PEERS):
        print(f"not installed in {args.mobgap_python}, not scored: {', '.join(p for p in PEERS if p not in have)}")
    peers = {p: [rw.Detected(ic_s=np.asarray(got[t.name]["peers"][p]["ic_s"], dtype=np.float64),
                             to_s=np.full(len(got[t.name]["peers"][p]["ic_s"]), np.nan),
                             foot=np.full(len(got[t.name]["peers"][p]["ic_s"]), ""))
                 for t in trials] for p in have}
    print("\n".join(tables(trials, ours, peers)))
    print(rw.throughput_line(trials, time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
