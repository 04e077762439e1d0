"""Bout cadence error taken apart bout by bout: imuback and mobgap on the same reference bouts.

    python benchmarks/cadence_bouts.py --mobgap-python /work/venv-skdh/bin/python [--dataset mobgap_lab]
    python benchmarks/cadence_bouts.py --vs walk_fuse_agree_s=0   # which bouts a setting moves, and how far

The error is the scorer's (``real_walking.bout_cadence_err_pct``: 60 / median IC interval of the detections
within ±0.1 s of a reference walking bout of >= 4 reference ICs vs the reference's). Per bout:

- ``ref`` / ``ours`` / ``mg``: reference ICs, our and mobgap's detections in the bout (turn ICs: ``turn``);
- ``miss`` / ``extra``: reference ICs we do not match, our detections matching none (one-to-one, ±100 ms);
- ``L ms`` / ``R ms``: median error of our matched ICs at the reference's left / right contacts;
- ``ref ms`` / ``ours ms`` / ``mg ms``: median IC interval;
- ``alt ref`` / ``alt ours`` (ms): median of the odd minus median of the even intervals (left/right
  alternation of the interval: a foot whose IC is systematically later gives long-short pairs, and the median of a
  short bout may then land on one side);
- ``edge``: our detections in the ±0.1 s the scorer adds beyond the bout;
- ``oref %``: the other reference of the same trial (mobgap_lab: INDIP vs stereo) scored as a
  detector on this bout: how far the two references themselves disagree.
``why`` names the first of: a missed step (our median interval over 1.3 x the reference's), an extra
one (under 0.77 x), within one sample period of the reference's median, an irregular bout (under
3/4 of its reference ICs matched), alternation (|ours alt - ref alt| > 40 ms), else the median's shift.
Under each table: how many bouts each detector wins, and a paired bootstrap over the bouts both
score of the difference of the median |error| (a 15-bout median is one or two bouts).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare_mobgap
import real_walking as rw
from matching import match

F64 = rw.F64


def _alt_ms(x: F64) -> float:
    iv = np.diff(x)
    if iv.size < 4:
        return float("nan")
    return 1e3 * float(np.median(iv[1::2]) - np.median(iv[0::2]))


def _med_ms(x: F64) -> float:
    return 1e3 * float(np.median(np.diff(x))) if x.size >= 2 else float("nan")


def _other_ref_pct(trial: rw.Trial, ref_name: str, r: F64, s: float, e: float) -> float:
    """The other reference's ICs in the bout scored as a detector (the two references' disagreement)."""
    other = [v for k, v in trial.refs.items() if k != ref_name]
    if not other:
        return float("nan")
    return rw.bout_cadence_err_pct(r, rw.in_bout(other[0].ic_s, s, e))


def paired_bootstrap(a: F64, b: F64, *, n: int = 10000, seed: int = 0) -> tuple[float, float, float]:
    """Median |a| - median |b| over bouts resampled with replacement (paired): 2.5 and 97.5
    percentiles and the share of resamples where it is > 0 (a's median |error| the larger)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, a.size, size=(n, a.size))
    d = np.median(np.abs(a[i]), axis=1) - np.median(np.abs(b[i]), axis=1)
    lo, hi = np.percentile(d, [2.5, 97.5])
    return float(lo), float(hi), float(np.mean(d > 0))


def bouts(trial: rw.Trial, ref_name: str, ours: F64, mg: F64 | None) -> list[dict[str, object]]:
    """One row per reference bout of >= 4 ICs (those the scorer counts when we have >= 3 detections)."""
    ref = trial.refs[ref_name]
    rows: list[dict[str, object]] = []
    for i, (s, e) in enumerate(ref.bouts_s):  # bouts: few
        k = ref.bout_id == i
        r = ref.ic_s[k]
        if r.size < 4:
            continue
        d = rw.in_bout(ours, s, e)
        m = rw.in_bout(mg, s, e) if mg is not None else np.zeros(0)
        ei, ri = match(d, r, 0.1)
        err_ms, foot = 1e3 * (d[ei] - r[ri]), ref.foot[k][ri]
        side = [float(np.median(err_ms[foot == f])) if np.any(foot == f) else float("nan") for f in "LR"]
        alt_r, alt_d = _alt_ms(r), _alt_ms(d)
        med_r, med_d = _med_ms(r), _med_ms(d)
        sample_ms = 1e3 / trial.raw.sample_rate_hz
        if med_d > 1.3 * med_r:
            why = "missed step: the median spans two"
        elif med_d < 0.77 * med_r:
            why = "extra step: the median spans half one"
        elif abs(med_d - med_r) <= sample_ms:
            why = "within one sample"
        elif ei.size < 0.75 * r.size:
            why = f"irregular bout, {r.size - ri.size} missed / {d.size - ei.size} extra"
        elif abs(alt_d - alt_r) > 40:
            why = f"left/right alternation {alt_d - alt_r:+.0f} ms"
        else:
            why = f"median {med_d - med_r:+.0f} ms"
        rows.append({"trial": trial.name, "bout": i, "s": s, "e": e, "n_ref": r.size,
                     "n_turn": int(ref.turn[k].sum()), "n_ours": d.size, "n_mg": m.size,
                     "miss": r.size - ri.size, "extra": d.size - ei.size,
                     "edge": int(np.count_nonzero((d < s) | (d > e))),
                     "ref_ms": med_r, "ours_ms": med_d, "mg_ms": _med_ms(m),
                     "l_ms": side[0], "r_ms": side[1], "alt_ref": alt_r, "alt_ours": alt_d,
                     "ours_pct": rw.bout_cadence_err_pct(r, d),
                     "mg_pct": rw.bout_cadence_err_pct(r, m) if mg is not None else float("nan"), "why": why,
                     "other_pct": _other_ref_pct(trial, ref_name, r, s, e)})
    return rows


def _compare(trials: list[rw.Trial], base: list[rw.Detected], alt: list[rw.Detected], label: str) -> None:
    """Per bout, our signed error (%) by default and with ``label``; how many bouts move, how far."""
    for ref_name in sorted({k for t in trials for k in t.refs}):
        for ds in sorted({t.dataset for t in trials if ref_name in t.refs}):
            pairs = [(a, b) for t, d0, d1 in zip(trials, base, alt, strict=True)
                     if t.dataset == ds and ref_name in t.refs
                     for a, b in zip(bouts(t, ref_name, d0.ic_s, None), bouts(t, ref_name, d1.ic_s, None),
                                     strict=True)]
            print(f"\n## {ds}, reference {ref_name}: our error per bout, default -> {label}")
            x = np.array([[a["ours_pct"], b["ours_pct"]] for a, b in pairs], dtype=float)
            for (a, _), (e0, e1) in zip(pairs, x, strict=True):
                moved = "  moved" if abs(e1 - e0) > 0.005 else ""
                print(f"{a['trial']:<26}{a['bout']:>4}{e0:>+9.2f}{e1:>+9.2f}{moved}")
            x = np.abs(x[np.all(np.isfinite(x), axis=1)])
            d = x[:, 1] - x[:, 0]
            mv = d[np.abs(d) > 0.005]
            print(f"|error| median {np.median(x[:, 0]):.2f} -> {np.median(x[:, 1]):.2f} %, "
                  f"mean {np.mean(x[:, 0]):.2f} -> {np.mean(x[:, 1]):.2f} % over {len(x)} bouts; with {label}: "
                  f"{np.sum(d < -0.005)} bouts closer, {np.sum(d > 0.005)} further "
                  f"(median change of those that move {np.median(mv) if mv.size else 0.0:+.2f} points)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--dataset", default="mobgap_lab", help="mobgap_lab, voisard_l5_walk or all")
    ap.add_argument("--mobgap-python", default=None, help="interpreter with mobgap (without: our column only)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="an EventParams setting for imuback (repeatable)")
    ap.add_argument("--vs", action="append", default=[], metavar="NAME=VALUE",
                    help="list, per bout, our error with these EventParams settings next to the default's")
    args = ap.parse_args(argv)
    trials = [t for t in rw.load(args.data) if args.dataset in ("all", t.dataset)]
    if not trials:
        print(f"no {args.dataset} trials under {args.data / 'real'}: skipped")
        return 0
    params = rw.PipelineParams(events=rw.event_params(args.set))
    ours = [rw.imuback_detect(t, params) for t in trials]
    if args.vs:
        alt = rw.PipelineParams(events=rw.event_params(args.set + args.vs))
        _compare(trials, ours, [rw.imuback_detect(t, alt) for t in trials], " ".join(args.vs))
        return 0
    mg: dict[str, F64] = {}
    if args.mobgap_python:
        try:
            got = compare_mobgap.run_peers(trials, ours, data=args.data, python=args.mobgap_python, peers="mobgap")
        except compare_mobgap.PeerError as exc:
            print(f"mobgap failed in {args.mobgap_python}: {exc.tail}")
            return 1
        mg = {t.name: np.asarray(got[t.name]["peers"]["mobgap"]["ic_s"], dtype=np.float64) for t in trials}
    head = (f"{'trial':<26}{'bout':>4}{'s':>7}{'ref':>5}{'turn':>5}{'ours':>5}{'mg':>4}{'miss':>5}{'extra':>6}"
            f"{'edge':>5}{'L ms':>6}{'R ms':>6}{'ref ms':>8}{'ours ms':>8}{'mg ms':>7}{'alt ref':>8}{'alt ours':>9}"
            f"{'ours %':>8}{'mg %':>7}{'oref %':>7}  why")
    for ref_name in sorted({k for t in trials for k in t.refs}):
        for ds in sorted({t.dataset for t in trials if ref_name in t.refs}):
            rows = [row for t, d in zip(trials, ours, strict=True) if t.dataset == ds and ref_name in t.refs
                    for row in bouts(t, ref_name, d.ic_s, mg.get(t.name))]
            print(f"\n## {ds}, reference {ref_name}: {len(rows)} bouts of >= 4 reference ICs")
            print(head)
            for b in rows:
                print(f"{b['trial']:<26}{b['bout']:>4}{b['s']:>7.1f}{b['n_ref']:>5}{b['n_turn']:>5}{b['n_ours']:>5}"
                      f"{b['n_mg']:>4}{b['miss']:>5}{b['extra']:>6}{b['edge']:>5}{b['l_ms']:>+6.0f}{b['r_ms']:>+6.0f}"
                      f"{b['ref_ms']:>8.0f}"
                      f"{b['ours_ms']:>8.0f}{b['mg_ms']:>7.0f}{b['alt_ref']:>+8.0f}{b['alt_ours']:>+9.0f}"
                      f"{b['ours_pct']:>+8.2f}{b['mg_pct']:>+7.2f}{b['other_pct']:>+7.2f}  {b['why']}")
            o = np.array([b["ours_pct"] for b in rows], dtype=float)
            m = np.array([b["mg_pct"] for b in rows], dtype=float)
            for who, v in (("imuback", o), ("mobgap", m)):
                v = np.abs(v[np.isfinite(v)])
                if v.size:
                    print(f"{who}: |error| median {np.median(v):.2f} %, mean {np.mean(v):.2f} % over {v.size} bouts")
            print(f"imuback signed error median {np.nanmedian(o):+.2f} %; bouts within one sample of the reference's "
                  f"median interval: {sum(b['why'] == 'within one sample' for b in rows)} of {len(rows)}")
            both = np.isfinite(o) & np.isfinite(m)
            if both.any():
                lo, hi, share = paired_bootstrap(o[both], m[both])
                print(f"bouts both score: {both.sum()}; imuback's |error| the smaller in "
                      f"{np.sum(np.abs(o[both]) < np.abs(m[both]))}; median |error| imuback "
                      f"{np.median(np.abs(o[both])):.2f} vs mobgap {np.median(np.abs(m[both])):.2f} %; paired "
                      f"bootstrap of the difference (imuback - mobgap, 10000 resamples of bouts): 95 % "
                      f"[{lo:+.2f}, {hi:+.2f}] points, > 0 in {100 * share:.0f} %")
            x = np.array([b["other_pct"] for b in rows], dtype=float)
            x = np.abs(x[np.isfinite(x)])
            if x.size:
                print(f"the other reference scored as a detector (oref): |error| median {np.median(x):.2f} %, "
                      f"mean {np.mean(x):.2f} % over {x.size} bouts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
