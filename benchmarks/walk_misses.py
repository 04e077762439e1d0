"""Where imuback's walking misses and extra steps are, on every real walking data set.

    python benchmarks/walk_misses.py [--data ../shared/data] [--off walk_bridge_fall_frac=1e9 ...]

Scored as in ``benchmarks/real_walking.py`` (one-to-one within 100 ms). Each missed reference
initial contact (IC) gets the first category that applies:

  first2 / last2  one of the first / last two reference ICs of its walking bout (gait initiation,
                  termination)
  turn            inside a reference turn
  offset          an unmatched detection lies 100-300 ms away: the step was seen, its IC elsewhere
  other
Each unmatched detection inside a reference bout (± 1 s) is ``near`` (a reference IC within
300 ms: a misplaced IC) or ``far``; and, in a second breakdown, ``after end`` (more than 300 ms
after its bout's last reference IC: a step the reference's walk does not hold), ``before start``
(likewise before the first), ``turn`` (nearest reference IC in a turn) or ``straight``.
Where a trial has two references (mobgap_lab: INDIP and stereophotogrammetry), a third breakdown
asks the other reference about each detection the first does not hold: an unmatched detection
inside the first's bouts is ``other has it`` (the other reference has an IC within 100 ms: a real
step the first misplaces or omits), ``near`` (an IC of the first within 300 ms) or ``far``; a
detection outside the first's bouts (± 1 s) is ``other has it``, ``in other's bout`` or
``outside both``. ``--off NAME=VALUE`` runs with EventParams fields changed
(e.g. to see a change's share). It also counts, per data set, the walking detections that have a
step time (a next step in their chain: ``steps.step_time_s`` not null).

``--extras`` lists every unmatched detection inside a reference bout (``near`` and ``far``) with
the stage that made it, told by rerunning with one stage off (a detection with none within 50 ms
there is that stage's): ``bridge`` (``bridge_walking_gaps``), ``fill`` (a weaker vertical maximum
taken for a missed or closing step), else a clear vertical maximum whose IC ``rhythm`` re-placed
(moved > 20 ms by ``rhythm_placed_ic``), the ``forward`` peak moved more than 50 ms from the
vertical IC, or ``vertical``; then its intervals to the detections either side in typical steps
(the trial's median interval), ``double`` where one is under half a step (two detections of one
stance), and the nearest reference IC; for a ``near`` one, whether the vertical-signal IC alone (forward
peak and rhythm off) lies within 100 ms of that reference IC. ``--plot DIR`` draws each (vertical and forward specific
force, detections, reference ICs by foot) to DIR.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.core import G_MPS2
from imuback.signal.params import PipelineParams
from matching import match

REFS = (("voisard_l5_walk", "foot IMU"), ("mobgap_lab", "INDIP"), ("mobgap_lab", "stereo"))
MISSES = ("first2", "last2", "turn", "offset", "other")


def categorise(trial: rw.Trial, det: rw.Detected, ref_name: str) -> tuple[list[str], list[str]]:
    """(category per missed reference IC, category per unmatched detection) of one trial."""
    ref = trial.refs[ref_name]
    inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det.ic_s[inb]
    ei, ri = match(ic, ref.ic_s, 0.1)
    free = np.setdiff1d(np.arange(ic.size), ei)
    missed: list[str] = []
    for k in np.setdiff1d(np.arange(ref.ic_s.size), ri):  # misses: a few per trial
        in_bout = np.flatnonzero(ref.bout_id == ref.bout_id[k])
        rank = int(np.searchsorted(in_bout, k))
        near = np.abs(ic[free] - ref.ic_s[k])
        if rank < 2:
            missed.append("first2")
        elif rank >= in_bout.size - 2:
            missed.append("last2")
        elif ref.turn[k]:
            missed.append("turn")
        elif np.any((near > 0.1) & (near <= 0.3)):
            missed.append("offset")
        else:
            missed.append("other")
    d = np.abs(ic[free][:, None] - ref.ic_s[None, :]).min(axis=1) if ref.ic_s.size else np.full(free.size, np.inf)
    return missed, ["near" if x <= 0.3 else "far" for x in d]


EXTRAS = ("after end", "before start", "turn", "straight")


def where_extra(trial: rw.Trial, det: rw.Detected, ref_name: str) -> list[str]:
    """Category (``EXTRAS``) of each unmatched detection inside a reference bout (± 1 s) of one trial."""
    ref = trial.refs[ref_name]
    inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det.ic_s[inb]
    ei, _ = match(ic, ref.ic_s, 0.1)
    t = ic[np.setdiff1d(np.arange(ic.size), ei)]
    if ref.ic_s.size == 0:
        return ["straight"] * t.size
    b = np.argmin(np.abs(t[:, None] - ref.bouts_s.mean(axis=1)[None, :]), axis=1)  # the nearest bout
    first = np.array([ref.ic_s[ref.bout_id == i].min(initial=np.inf) for i in range(ref.bouts_s.shape[0])])
    last = np.array([ref.ic_s[ref.bout_id == i].max(initial=-np.inf) for i in range(ref.bouts_s.shape[0])])
    turn = rw._conditions(trial, ref, t)["turn"] == "turn"
    return ["after end" if x > last[i] + 0.3 else "before start" if x < first[i] - 0.3 else
            "turn" if tu else "straight" for x, i, tu in zip(t, b, turn, strict=True)]


CROSS = ("extra: other has it", "extra: near", "extra: far", "outside: other has it", "outside: in other's bout",
         "outside: outside both")


def _in_bouts(ic: np.ndarray, ref: rw.Reference) -> np.ndarray:
    return np.any((ic[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                  & (ic[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)


def cross_check(trial: rw.Trial, det: rw.Detected, ref_name: str, other_name: str) -> list[str]:
    """Category (``CROSS``) of each detection that reference ``ref_name`` does not hold, asked of ``other_name``."""
    ref, other = trial.refs[ref_name], trial.refs[other_name]
    ic = det.ic_s
    inb = _in_bouts(ic, ref)
    ei, _ = match(ic[inb], ref.ic_s, 0.1)
    held = np.zeros(ic.size, dtype=bool)
    held[np.flatnonzero(inb)[ei]] = True
    eo, _ = match(ic, other.ic_s, 0.1)
    by_other = np.zeros(ic.size, dtype=bool)
    by_other[eo] = True
    near = (np.abs(ic[:, None] - ref.ic_s[None, :]).min(axis=1) <= 0.3 if ref.ic_s.size
            else np.zeros(ic.size, dtype=bool))
    in_other = _in_bouts(ic, other)
    out = []
    for k in np.flatnonzero(~held):  # the detections one reference does not hold: a few per trial
        if inb[k]:
            out.append("extra: other has it" if by_other[k] else "extra: near" if near[k] else "extra: far")
        else:
            out.append("outside: other has it" if by_other[k] else "outside: in other's bout" if in_other[k]
                       else "outside: outside both")
    return out


STAGES = ("bridge", "fill", "rhythm", "forward", "vertical")
STAGE_OFF = {"bridge": ["walk_bridge_fall_frac=1e9"],
             "fill": ["walk_edge_steps=0", "walk_missed_gap_steps=(1e9, 1e9)"],
             "rhythm": ["walk_rhythm_off_s=0.0"],
             "forward": ["walk_min_drop_g_per_s=1e9", "walk_rhythm_off_s=0.0"]}
"""The stage each ``--extras`` variant turns off (EventParams settings)."""


def _nearest(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance (s) from each of ``t`` to the nearest of ``x`` (inf where ``x`` is empty)."""
    if x.size == 0:
        return np.full(t.size, np.inf)
    j = np.clip(np.searchsorted(x, t), 1, max(x.size - 1, 1))
    return np.minimum(np.abs(x[j - 1] - t), np.abs(x[np.minimum(j, x.size - 1)] - t))


def extra_rows(trial: rw.Trial, det: rw.Detected, ref_name: str,
               variants: dict[str, rw.Detected]) -> list[dict[str, object]]:
    """One row per unmatched detection inside a reference bout (± 1 s) of one trial: its stage
    (``STAGES``), intervals to its neighbouring detections in typical steps, and the nearest reference IC."""
    ref = trial.refs[ref_name]
    ic = det.ic_s
    inb = _in_bouts(ic, ref)
    ei, _ = match(ic[inb], ref.ic_s, 0.1)
    free = np.setdiff1d(np.flatnonzero(inb), np.flatnonzero(inb)[ei])
    step = float(np.median(np.diff(ic))) if ic.size > 1 else np.nan
    t = ic[free]
    gone = {k: _nearest(t, v.ic_s) > 0.05 for k, v in variants.items()}
    moved = {k: _nearest(t, v.ic_s) for k, v in variants.items()}
    prev = np.where(free > 0, t - ic[np.maximum(free - 1, 0)], np.inf) / step
    nxt = np.where(free < ic.size - 1, ic[np.minimum(free + 1, ic.size - 1)] - t, np.inf) / step
    if ref.ic_s.size:
        r = np.argmin(np.abs(ref.ic_s[None, :] - t[:, None]), axis=1)
        dref, rfoot = t - ref.ic_s[r], ref.foot[r]
    else:
        dref, rfoot = np.full(t.size, np.inf), np.full(t.size, "")
    turn = rw._conditions(trial, ref, t)["turn"] if t.size else np.zeros(0, str)
    # the reference ICs either side: the same foot twice across a gap of about two steps is a
    # step the reference does not hold
    j = np.searchsorted(ref.ic_s, t)
    both = (j > 0) & (j < ref.ic_s.size)
    jl, jr = np.clip(j - 1, 0, None), np.clip(j, None, max(ref.ic_s.size - 1, 0))
    ref_step = float(np.median(np.diff(ref.ic_s))) if ref.ic_s.size > 1 else np.nan
    gap = np.where(both, (ref.ic_s[jr] - ref.ic_s[jl]) / ref_step, np.nan) if ref.ic_s.size else np.full(t.size, np.nan)
    twice = both & (ref.foot[jl] == ref.foot[jr]) & (gap > 1.5) if ref.ic_s.size else np.zeros(t.size, bool)
    # would the vertical-signal IC alone (forward peak and rhythm off) have matched the nearest reference IC?
    vert_dist = _nearest(t - dref, variants["forward"].ic_s) if t.size else np.zeros(0)
    rows = []
    for i in range(t.size):  # extras: a few per trial
        stage = ("bridge" if gone["bridge"][i] else "fill" if gone["fill"][i]
                 else "rhythm" if moved["rhythm"][i] > 0.02 else "forward" if moved["forward"][i] > 0.05
                 else "vertical")
        rows.append({"trial": trial.name, "t_s": float(t[i]), "kind": "near" if abs(dref[i]) <= 0.3 else "far",
                     "stage": stage, "prev_steps": float(prev[i]), "next_steps": float(nxt[i]),
                     "double": bool(min(prev[i], nxt[i]) < 0.5), "ref_dt_s": float(dref[i]),
                     "ref_foot": str(rfoot[i]), "turn": str(turn[i]),
                     "outside": bool(t[i] < ref.trial_s[0] or t[i] > ref.trial_s[1]),
                     "ref_gap_steps": float(gap[i]), "ref_twice": bool(twice[i]),
                     "vertical_ok": bool(vert_dist[i] <= 0.1)})
    return rows


CAUSES = ("outside the trial", "double", "reference: one foot twice", "reference gap", "edge of walk", "near", "far")


def _cause(r: dict[str, object]) -> str:
    """The first that applies: after/before the trial's walk, two detections of one stance, the
    reference holding the same foot twice across the extra, a reference gap of 1.5+ steps, a
    detection more than 2 steps from its neighbour on one side (a walk's edge), else near/far."""
    if r["outside"]:
        return "outside the trial"
    if r["double"]:
        return "double"
    if r["ref_twice"]:
        return "reference: one foot twice"
    if float(r["ref_gap_steps"]) > 1.5:  # type: ignore[arg-type]
        return "reference gap"
    if max(float(r["prev_steps"]), float(r["next_steps"])) > 2:  # type: ignore[arg-type]
        return "edge of walk"
    return str(r["kind"])


def plot_extra(trial: rw.Trial, det: rw.Detected, ref_name: str, row: dict[str, object], out: Path) -> None:
    """Vertical and forward specific force (nominal mounting, g) ± 1.5 s around one extra detection."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    raw = trial.raw
    ts = (raw.time_ns - raw.time_ns[0]) / 1e9
    acc = raw.acc_mps2.astype(np.float64) @ np.asarray(raw.mounting).T / G_MPS2
    t0 = float(row["t_s"])  # type: ignore[arg-type]
    w = (ts > t0 - 1.5) & (ts < t0 + 1.5)
    fig, ax = plt.subplots(2, 1, sharex=True, figsize=(9, 5))
    for a, col, lab in ((ax[0], 2, "vertical g"), (ax[1], 0, "forward g")):
        a.plot(ts[w], acc[w, col], lw=0.8)
        a.set_ylabel(lab)
        for x in det.ic_s[(det.ic_s > t0 - 1.5) & (det.ic_s < t0 + 1.5)]:
            a.axvline(x, color="k", lw=0.6)
        a.axvline(t0, color="r", lw=1.2)
        ref = trial.refs[ref_name]
        for x, f in zip(ref.ic_s, ref.foot, strict=True):
            if t0 - 1.5 < x < t0 + 1.5:
                a.axvline(x, color="g" if f == "L" else "m", ls="--", lw=0.8)
    ax[0].set_title(f"{trial.name} {ref_name} {row['kind']} {row['stage']} at {t0:.2f} s (red; black detections;"
                    " dashed reference L green / R magenta)", fontsize=8)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{trial.name.replace('/', '_')}_{ref_name.replace(' ', '')}_{t0:.2f}.png", dpi=80)
    plt.close(fig)


def list_extras(trials: list[rw.Trial], dets: list[rw.Detected], params: PipelineParams,
                plot: Path | None) -> None:
    """Print every near/far extra with its stage; then counts by stage, kind and double."""
    variants = []
    for settings in STAGE_OFF.values():
        fresh = rw.event_params(settings)
        ev = dataclasses.replace(params.events, **{s.split("=", 1)[0]: getattr(fresh, s.split("=", 1)[0])
                                                   for s in settings})
        variants.append([rw.imuback_detect(t, dataclasses.replace(params, events=ev)) for t in trials])
    print("\nextra detections (unmatched, inside a reference bout ± 1 s), one by one")
    for ds, ref_name in REFS:
        count: collections.Counter[tuple[str, str, bool]] = collections.Counter()
        cause: collections.Counter[str] = collections.Counter()
        near_vert: collections.Counter[tuple[str, bool]] = collections.Counter()
        for i, (t, d) in enumerate(zip(trials, dets, strict=True)):
            if t.dataset != ds or ref_name not in t.refs:
                continue
            v = {k: variants[j][i] for j, k in enumerate(STAGE_OFF)}
            for r in extra_rows(t, d, ref_name, v):
                count[(str(r["kind"]), str(r["stage"]), bool(r["double"]))] += 1
                cause[_cause(r)] += 1
                if r["kind"] == "near" and not r["outside"]:
                    near_vert[(str(r["stage"]), bool(r["vertical_ok"]))] += 1
                print(f"{ref_name:9s} {r['trial']:16s} {r['t_s']:7.2f} s {r['kind']:4s} {r['stage']:8s} "
                      f"prev {r['prev_steps']:5.2f} next {r['next_steps']:5.2f} steps"
                      f"{' double' if r['double'] else '       '}  ref {r['ref_dt_s'] * 1000:+6.0f} ms "
                      f"{r['ref_foot']:1s} "
                      f"{r['turn']:8s} ref gap {r['ref_gap_steps']:5.2f} steps"
                      f"{' one foot twice' if r['ref_twice'] else '               '}"
                      f"{' OUTSIDE' if r['outside'] else ''}"
                      f"{' vertical IC matches' if r['kind'] == 'near' and r['vertical_ok'] else ''}")
                if plot is not None:
                    plot_extra(t, d, ref_name, r, plot)
        print(f"{ds} / {ref_name}: " + ", ".join(
            f"{k} {s}{' double' if dbl else ''} {n}" for (k, s, dbl), n in sorted(count.items())))
        print(f"{ds} / {ref_name} by cause: " + ", ".join(f"{c} {cause[c]}" for c in CAUSES))
        print(f"{ds} / {ref_name} near extras inside the trial, by stage: the vertical-signal IC alone "
              "would match / would not: " + ", ".join(
                  f"{st} {near_vert[(st, True)]} / {near_vert[(st, False)]}" for st in STAGES))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    ap.add_argument("--extras", action="store_true", help="list each near/far extra with its stage")
    ap.add_argument("--plot", type=Path, default=None, help="with --extras: draw each to this directory")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    params = PipelineParams(events=rw.event_params(args.off))
    changes = {k: getattr(params.events, k) for k in (a.split("=", 1)[0] for a in args.off)}
    dets = [rw.imuback_detect(t, params) for t in trials]
    print(f"imuback walking, ±100 ms{' with ' + str(changes) if changes else ''}")
    print(f"{'data / reference':28s}{'n ref':>6}{'missed':>7}  " + "".join(f"{m:>8}" for m in MISSES)
          + f"{'extra':>7}{'near':>6}{'far':>5}")
    where: dict[str, collections.Counter[str]] = {}
    for ds, ref_name in REFS:
        n_ref = 0
        miss: collections.Counter[str] = collections.Counter()
        extra: collections.Counter[str] = collections.Counter()
        for t, d in zip(trials, dets, strict=True):
            if t.dataset == ds and ref_name in t.refs:
                m, e = categorise(t, d, ref_name)
                n_ref += t.refs[ref_name].ic_s.size
                miss.update(m)
                extra.update(e)
                where.setdefault(f"{ds} / {ref_name}", collections.Counter()).update(where_extra(t, d, ref_name))
        print(f"{ds + ' / ' + ref_name:28s}{n_ref:>6}{sum(miss.values()):>7}  "
              + "".join(f"{miss[m]:>8}" for m in MISSES)
              + f"{sum(extra.values()):>7}{extra['near']:>6}{extra['far']:>5}")
    print(f"\nwalking detections with a step time (this IC to the next in its chain)\n{'data':28s}"
          f"{'detections':>12}{'step time':>11}")
    for ds in dict.fromkeys(t.dataset for t in trials):
        got = [d.step_time_s for t, d in zip(trials, dets, strict=True) if t.dataset == ds]
        print(f"{ds:28s}{sum(g.size for g in got):>12}{sum(int(np.count_nonzero(np.isfinite(g))) for g in got):>11}")
    print(f"\nwhere the extra detections are\n{'data / reference':28s}" + "".join(f"{e:>14}" for e in EXTRAS))
    for k, c in where.items():
        print(f"{k:28s}" + "".join(f"{c[e]:>14}" for e in EXTRAS))
    cross: dict[str, collections.Counter[str]] = {}
    for ref_name, other_name in (("INDIP", "stereo"), ("stereo", "INDIP")):
        for t, d in zip(trials, dets, strict=True):
            if ref_name in t.refs and other_name in t.refs:
                cross.setdefault(f"{t.dataset} / {ref_name}", collections.Counter()).update(
                    cross_check(t, d, ref_name, other_name))
    if cross:
        print("\ndetections one reference does not hold, asked of the other reference (INDIP <-> stereo)")
        print(f"{'data / reference':28s}" + "".join(f"{e:>26}" for e in CROSS))
        for k, c in cross.items():
            print(f"{k:28s}" + "".join(f"{c[e]:>26}" for e in CROSS))
    if args.extras:
        list_extras(trials, dets, params, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
