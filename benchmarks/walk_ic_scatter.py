"""Where the walking IC scatter and the 'offset' misses come from (issue #14, lead (a) and (c)).

    python benchmarks/walk_ic_scatter.py [--data ../shared/data] [--cases]

Runs the pipeline three times on every real walking trial (``benchmarks/real_walking.py``): as it
is (the two IC cues fused, :func:`fuse_ic_cues`), with the IC at the forward-acceleration peak
before heel-strike braking alone (``walk_fuse_agree_s=0``, :func:`forward_peak_ic`, pipeline 0.5.0)
and with that refinement off (``walk_min_drop_g_per_s=1e9``: the IC at the vertical loading rise).
The refinement moves ICs and never adds or drops a step, so step ``k`` is the same step in every
run. Prints

1. mobgap_lab: the two references against each other (stereophotogrammetry − INDIP, matched
   one-to-one within 100 ms) and imuback against each, by participant, foot and turn; then each
   of the three timings' own scatter on the steps all three hold (the three-cornered hat: with
   independent errors, ``var(a - b) = var(a) + var(b)`` for each pair gives each one's variance):
   how much of the IC scatter the references themselves carry;
2. the pipeline's 'offset' misses (a reference IC missed at ±100 ms with an unmatched detection 100-300 ms
   away, as in ``walk_misses.py``) by where the vertical-signal IC of that step lay: within 100 ms
   of the reference (the forward-peak move made the miss) or also 100-300 ms off (the step's
   vertical loading peak is already elsewhere);
3. the IC timings side by side, and choosing between the two cues by the stride rhythm: a step
   takes its vertical IC instead of the forward peak where the forward peak lies more than ``T``
   from the middle of the same foot's ICs two steps before and after while the vertical IC lies
   within half that distance (tried, not kept: docs/validation_log.md).

``--cases`` lists every offset miss instead, one line each: where the pipeline, the vertical cue
and the forward peak alone put that step's IC, and the middle of its two neighbours' detected ICs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.params import EventParams, PipelineParams
from matching import match

F64 = npt.NDArray[np.float64]
REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))
VERTICAL = PipelineParams(events=dataclasses.replace(EventParams(), walk_min_drop_g_per_s=1e9))
FORWARD = PipelineParams(events=dataclasses.replace(EventParams(), walk_fuse_agree_s=0.0))


def _stats(err_s: list[float] | F64) -> str:
    e = 1000.0 * np.asarray(err_s, dtype=np.float64)
    if e.size == 0:
        return "n   0"
    return (f"n {e.size:3d} {np.mean(e):+6.1f} ± {np.std(e):5.1f} ms (median {np.median(e):+4.0f}, "
            f"|err| > 50 ms: {np.mean(np.abs(e) > 50):.2f})")


def references_agree(trials: list[rw.Trial], dets: list[rw.Detected]) -> None:
    """Part 1: mobgap_lab's two references against each other, and imuback against each."""
    mob = [(t, d) for t, d in zip(trials, dets, strict=True) if {"INDIP", "stereo"} <= set(t.refs)]
    print("## mobgap_lab: stereophotogrammetry IC - INDIP IC (one-to-one within 100 ms), by INDIP foot")
    for part in ("HA", "MS"):
        for foot in ("L", "R"):
            e: list[float] = []
            for t, _ in mob:
                if t.subject.startswith(part):
                    ind, ste = t.refs["INDIP"], t.refs["stereo"]
                    a, b = match(ind.ic_s, ste.ic_s, 0.1)
                    sel = ind.foot[a] == foot
                    e += list(ste.ic_s[b][sel] - ind.ic_s[a][sel])
            print(f"  {part} {foot}         {_stats(e)}")
    print("## mobgap_lab: imuback IC - reference IC (matched within 100 ms), by participant, reference foot, turn")
    for ref in ("INDIP", "stereo"):
        for part in ("HA", "MS"):
            for foot in ("L", "R"):
                for turn in (False, True):
                    e = []
                    for t, d in mob:
                        if t.subject.startswith(part):
                            r = t.refs[ref]
                            a, b = match(d.ic_s, r.ic_s, 0.1)
                            sel = (r.foot[b] == foot) & (r.turn[b] == turn)
                            e += list(d.ic_s[a][sel] - r.ic_s[b][sel])
                    print(f"  {ref:6s} {part} {foot} {'turn' if turn else 'straight':8s} {_stats(e)}")
    print("## mobgap_lab: the steps matched to both references")
    for part in ("HA", "MS"):
        e_i: list[float] = []
        e_s: list[float] = []
        for t, d in mob:
            if t.subject.startswith(part):
                a1, b1 = match(d.ic_s, t.refs["INDIP"].ic_s, 0.1)
                a2, b2 = match(d.ic_s, t.refs["stereo"].ic_s, 0.1)
                _, i1, i2 = np.intersect1d(a1, a2, return_indices=True)
                e_i += list(d.ic_s[a1[i1]] - t.refs["INDIP"].ic_s[b1[i1]])
                e_s += list(d.ic_s[a2[i2]] - t.refs["stereo"].ic_s[b2[i2]])
        print(f"  {part} vs INDIP  {_stats(e_i)}\n  {part} vs stereo {_stats(e_s)}")


def three_cornered_hat(trials: list[rw.Trial], dets: dict[str, list[rw.Detected]]) -> None:
    """Part 1b: each timing's own IC scatter (imuback, INDIP, stereo) on the steps all three hold."""
    print("## mobgap_lab: own IC scatter (SD, ms) by the three-cornered hat, on steps matched to both "
          "references within 100 ms (and the references within 100 ms of each other)")
    for name, ds_ in dets.items():
        for part in ("HA", "MS", ""):
            d_i: list[float] = []
            d_s: list[float] = []
            s_i: list[float] = []
            for t, d in zip(trials, ds_, strict=True):
                if {"INDIP", "stereo"} <= set(t.refs) and t.subject.startswith(part):
                    ind, ste = t.refs["INDIP"].ic_s, t.refs["stereo"].ic_s
                    a1, b1 = match(d.ic_s, ind, 0.1)
                    a2, b2 = match(d.ic_s, ste, 0.1)
                    common, i1, i2 = np.intersect1d(a1, a2, return_indices=True)
                    ti, ts = ind[b1[i1]], ste[b2[i2]]
                    ok = np.abs(ti - ts) <= 0.1
                    d_i += list((d.ic_s[common] - ti)[ok])
                    d_s += list((d.ic_s[common] - ts)[ok])
                    s_i += list((ts - ti)[ok])
            v_di, v_ds, v_si = (float(np.var(1000.0 * np.asarray(x))) for x in (d_i, d_s, s_i))
            own = [(v_di + v_ds - v_si) / 2, (v_di + v_si - v_ds) / 2, (v_ds + v_si - v_di) / 2]
            sd = "  ".join(f"{k} {np.sqrt(v):5.1f}" if v > 0 else f"{k}   n/a" for k, v in
                           zip(("imuback", "INDIP", "stereo"), own, strict=True))
            print(f"  {name:20s} {part or 'all':3s} n {len(d_i):3d}  pair SD: imuback-INDIP {np.sqrt(v_di):5.1f} "
                  f"imuback-stereo {np.sqrt(v_ds):5.1f} stereo-INDIP {np.sqrt(v_si):5.1f}  ->  own SD: {sd}")


def _offset_misses(det_s: F64, ref_s: F64) -> list[tuple[int, int]]:
    """(reference index, detection index) of each 'offset' miss at ±100 ms: a missed reference IC
    with an unmatched detection 100-300 ms away (the nearest such)."""
    ei, ri = match(det_s, ref_s, 0.1)
    free = np.setdiff1d(np.arange(det_s.size), ei)
    out = []
    for k in np.setdiff1d(np.arange(ref_s.size), ri):  # misses: a few per trial
        dist = np.abs(det_s[free] - ref_s[k])
        near = (dist > 0.1) & (dist <= 0.3)
        if near.any():
            out.append((int(k), int(free[near][np.argmin(dist[near])])))
    return out


def offset_causes(trials: list[rw.Trial], dets: list[rw.Detected], vert: list[rw.Detected], title: str) -> None:
    """Part 2: each offset miss by where that step's vertical-signal IC lay."""
    print(f"## {title}: offset misses (±100 ms; an unmatched detection 100-300 ms away) by the step's "
          "vertical-signal IC")
    print(f"{'data / reference':28s}{'offset':>7}{'vertical IC within 100 ms':>27}{'also 100-300 ms off':>21}"
          f"{'farther':>9}   of those within 100 ms: move (ms) median [min, max]")
    for ds, ref_name in REFS:
        n, causes, moves = 0, np.zeros(3, np.int64), []
        for t, d, v in zip(trials, dets, vert, strict=True):
            if t.dataset != ds or ref_name not in t.refs or d.ic_s.size != v.ic_s.size:
                continue
            r = t.refs[ref_name]
            for k, j in _offset_misses(d.ic_s, r.ic_s):
                ve = abs(v.ic_s[j] - r.ic_s[k])
                n += 1
                causes[0 if ve <= 0.1 else 1 if ve <= 0.3 else 2] += 1
                if ve <= 0.1:
                    moves.append(1000.0 * (d.ic_s[j] - v.ic_s[j]))
        mv = (f"{np.median(moves):+.0f} [{min(moves):+.0f}, {max(moves):+.0f}]" if moves else "")
        print(f"{ds + ' / ' + ref_name:28s}{n:>7}{causes[0]:>27}{causes[1]:>21}{causes[2]:>9}   {mv}")


def offset_cases(trials: list[rw.Trial], dets: list[rw.Detected], fwd: list[rw.Detected],
                 vert: list[rw.Detected]) -> None:
    """``--cases``: every 'offset' miss, one line each: where each cue put that step's IC and where
    the middle of its two neighbours' detected ICs lies (all in ms from the reference IC)."""
    print("## every offset miss (±100 ms): trial, reference IC (s), foot, turn | IC of the pipeline, of the "
          "vertical cue, of the forward peak alone, middle of the neighbours' ICs (ms from the reference)")
    for ds, ref_name in REFS:
        for t, d, f, v in zip(trials, dets, fwd, vert, strict=True):
            if t.dataset != ds or ref_name not in t.refs or not d.ic_s.size == f.ic_s.size == v.ic_s.size:
                continue
            r = t.refs[ref_name]
            for k, j in _offset_misses(d.ic_s, r.ic_s):
                mid = 0.5 * (d.ic_s[j - 1] + d.ic_s[j + 1]) if 0 < j < d.ic_s.size - 1 else np.nan
                ms = [1000.0 * (x - r.ic_s[k]) for x in (d.ic_s[j], v.ic_s[j], f.ic_s[j], mid)]
                turn = "turn" if r.turn[k] else "    "
                print(f"  {ref_name[:6]:6s} {t.name:22s} {r.ic_s[k]:7.2f} {r.foot[k]} {turn} | "
                      + " ".join(f"{x:+5.0f}" for x in ms))


def rhythm_choice(fwd: F64, vert: F64, tol_s: float) -> F64:
    """Part 3: per step the forward-peak IC, or the vertical IC where the stride rhythm (the same
    foot's ICs two steps before and after, no gap longer than 1.6 median steps between) speaks
    clearly for it. Times in s, sorted, one trial.
    """
    out = fwd.copy()
    if fwd.size < 5:
        return out
    step = float(np.median(np.diff(fwd)))
    k = np.arange(2, fwd.size - 2)
    ok = (fwd[k + 2] - fwd[k - 2]) <= 4 * 1.6 * step
    k = k[ok]
    mid = 0.5 * (fwd[k - 2] + fwd[k + 2])
    rf, rv = np.abs(fwd[k] - mid), np.abs(vert[k] - mid)
    take = (rf > tol_s) & (rv < 0.5 * rf)
    out[k[take]] = vert[k[take]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--cases", action="store_true", help="list every offset miss instead (part 2, case by case)")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    dets = [rw.imuback_detect(t) for t in trials]
    fwd = [rw.imuback_detect(t, FORWARD) for t in trials]
    vert = [rw.imuback_detect(t, VERTICAL) for t in trials]
    if args.cases:
        offset_cases(trials, dets, fwd, vert)
        return 0
    references_agree(trials, dets)
    three_cornered_hat(trials, {"fused (pipeline)": dets, "forward peak alone": fwd, "vertical IC": vert})
    print()
    offset_causes(trials, fwd, vert, "forward peak alone")
    offset_causes(trials, dets, vert, "fused (pipeline)")
    print("\n## IC timings, and the choice by the stride rhythm (recall / precision / IC bias ± SD ms at ±100 ms; "
          "recall at ±50 ms)")
    variants: dict[str, list[rw.Detected]] = {"fused (pipeline)": dets, "forward peak alone": fwd,
                                              "vertical IC": vert}
    for tol in (0.04, 0.06, 0.1):
        variants[f"rhythm, T = {tol * 1000:.0f} ms"] = [
            dataclasses.replace(d, ic_s=rhythm_choice(d.ic_s, v.ic_s, tol)) if d.ic_s.size == v.ic_s.size else d
            for d, v in zip(fwd, vert, strict=True)]
    for name, ds_ in variants.items():
        cells = []
        for ds, ref_name in REFS:
            sel = [i for i, t in enumerate(trials) if t.dataset == ds and ref_name in t.refs]
            f100, f50 = (rw.figures(rw.score([trials[i] for i in sel], [ds_[i] for i in sel], ref_name=ref_name,
                                             tol_s=tol)) for tol in (0.1, 0.05))
            cells.append(f"{ref_name[:6]:6s} {f100.recall:.3f} / {f100.precision:.3f} / {f100.ic_bias_ms:+5.1f} ± "
                         f"{f100.ic_sd_ms:4.1f}, {f50.recall:.3f}")
        print(f"  {name:24s} " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
