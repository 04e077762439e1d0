"""What the missed last steps of a walk and the missed U-turn steps look like, on every real walking data set.

    python benchmarks/walk_miss_anatomy.py [--data ../shared/data] [--off NAME=VALUE ...]

Takes the misses that ``benchmarks/walk_misses.py`` files under ``last2`` (one of the last two
reference ICs of its bout) and ``turn`` (inside a reference turn) — same scorer, one-to-one within
100 ms — and sorts each by what imuback's detections around it say (``step`` = the trial's median
interval between detections):

  last2  misplaced   an unmatched detection 100-300 ms away (the step was seen, its IC elsewhere)
         1 step on   the last detection before it is at most 1.5 steps earlier (the walk's
                     closing step, or the step before it when both are missed)
         2-3 steps   1.5-3 steps earlier (the last of two missed closing steps)
         after walk  more than 3 steps earlier (a step after the walk had stopped: the wearer
                     shuffled or walked off after standing)
  turn   misplaced   as above
         in a gap    the detections either side are more than 1.5 steps apart (a turning step
                     not detected)
         other

A second table takes every turning-step miss (a reference IC inside a reference turn, bout edges
included) and every unmatched detection nearest a turning reference IC apart by the pipeline's
own stages (its ``bridge_walking_gaps``, ``level_lateral`` and ``refine_walking_ics`` calls
wrapped: the vertical signal, the body-frame forward and left acceleration, the steps before
bridging and the vertical-signal ICs before refinement):

  miss   misplaced, vertical ok   an unmatched detection 100-300 ms away whose vertical-signal IC was
                                  within 100 ms: the forward-peak refinement moved it off
         misplaced, vertical off  likewise, the vertical-signal IC off too (another peak)
         no candidate             no maximum >= walk_weak_prominence_g of the smoothed vertical
                                  signal (walk_detect_sigma_s) from 0.1 s before to 0.25 s after it
         weak, no braking         a weak maximum (< walk_peak_prominence_g) there, not taken, whose
                                  forward braking fall is below walk_bridge_fall_frac of the session's
         weak, braking            a weak maximum with that braking, not taken (the rhythm's gaps and
                                  margins)
         clear, not taken         a clear maximum there
  extra  misplaced                an unmatched reference IC within 300 ms
         double                   only a matched reference IC within 300 ms (a second detection of a
                                  step)
         far                      no reference IC within 300 ms

For the weak maxima it also prints the median of their braking fall as a share of the session's,
read along the forward axis and along the horizontal direction within ±90° of it (every 30°)
where it is largest. ``--off NAME=VALUE`` runs with EventParams fields changed.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import imuback.signal.session as session_mod
import real_walking as rw
from imuback.signal.activity import WALK
from imuback.signal.dsp import interp_at
from imuback.signal.params import PipelineParams
from imuback.signal.walking_ic import braking_fall
from matching import match
from walk_misses import REFS, _in_bouts, categorise

KINDS = {"last2": ("misplaced", "1 step on", "2-3 steps", "after walk"), "turn": ("misplaced", "in a gap", "other")}


def anatomy(trial: rw.Trial, det: rw.Detected, ref_name: str) -> list[tuple[str, str]]:
    """(walk_misses category, kind) of each missed reference IC of one trial filed as last2 or turn."""
    ref = trial.refs[ref_name]
    inb = np.any((det.ic_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det.ic_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det.ic_s[inb]
    ei, ri = match(ic, ref.ic_s, 0.1)
    free = ic[np.setdiff1d(np.arange(ic.size), ei)]
    missed = np.setdiff1d(np.arange(ref.ic_s.size), ri)  # in the order categorise() files them
    cats, _ = categorise(trial, det, ref_name)
    step = float(np.median(np.diff(det.ic_s))) if det.ic_s.size > 1 else np.inf
    out = []
    for k, cat in zip(missed, cats, strict=True):  # misses: a few per trial
        if cat not in KINDS:
            continue
        r = ref.ic_s[k]
        near = np.abs(free - r)
        before, after = det.ic_s[det.ic_s < r - 0.1], det.ic_s[det.ic_s > r + 0.1]
        since = (r - before.max()) / step if before.size else np.inf
        span = ((after.min() if after.size else np.inf) - (before.max() if before.size else -np.inf)) / step
        if np.any((near > 0.1) & (near <= 0.3)):
            kind = "misplaced"
        elif cat == "last2":
            kind = "1 step on" if since <= 1.5 else "2-3 steps" if since <= 3.0 else "after walk"
        else:
            kind = "in a gap" if span > 1.5 else "other"
        out.append((cat, kind))
    return out


TURN_MISS = ("misplaced, vertical ok", "misplaced, vertical off", "no candidate", "weak, no braking",
             "weak, braking", "clear, not taken")
TURN_EXTRA = ("misplaced", "double", "far")


def detect_with_stages(trial: rw.Trial, params: PipelineParams) -> tuple[rw.Detected, dict[str, Any]]:
    """imuback's walking steps in one trial and what its stages saw (see the module docstring)."""
    got: dict[str, Any] = {}
    bridge, refine, lateral = session_mod.bridge_walking_gaps, session_mod.refine_walking_ics, session_mod.level_lateral

    def wrap_bridge(steps: Any, vertical_g: Any, ap: Any, **kw: Any) -> Any:
        got.update(vertical_g=np.asarray(vertical_g), ap=np.asarray(ap), fs=kw["fs_hz"], bounds=kw["bounds"],
                   before=steps.ic_pos[steps.activity == WALK])
        return bridge(steps, vertical_g, ap, **kw)

    def wrap_lateral(body: Any, *a: Any, **k: Any) -> Any:
        # sample positions are grid indices: across a dropout they do not count its time
        got.update(t_s=np.asarray(body.t_s), t0_ns=body.t0_ns, ml=body.acc_mps2[:, 1].copy())
        return lateral(body, *a, **k)

    def wrap_refine(steps: Any, ap: Any, **kw: Any) -> Any:
        got.update(vertical_ic=steps.ic_pos[steps.activity == WALK])
        return refine(steps, ap, **kw)

    session_mod.bridge_walking_gaps, session_mod.refine_walking_ics = wrap_bridge, wrap_refine
    session_mod.level_lateral = wrap_lateral
    try:
        det = rw.imuback_detect(trial, params)
    finally:
        session_mod.bridge_walking_gaps, session_mod.refine_walking_ics = bridge, refine
        session_mod.level_lateral = lateral
    return det, got


def turn_losses(trial: rw.Trial, det: rw.Detected, got: dict[str, Any], ref_name: str,
                p: PipelineParams) -> tuple[list[str], list[str], list[tuple[float, float]]]:
    """(kind per turning-step miss, kind per unmatched detection in a turn, (forward, travel)
    braking shares of each weak maximum at a miss) of one trial (kinds: the module docstring)."""
    ref, e = trial.refs[ref_name], p.events
    if "vertical_ic" not in got or ref.ic_s.size == 0:
        return [], [], []
    fs, bounds = got["fs"], got["bounds"]
    off_s = (got["t0_ns"] - int(trial.raw.time_ns[0])) / 1e9  # grid positions -> s from the first sample
    vertical_s = interp_at(got["t_s"], got["vertical_ic"]) + off_s
    d1 = gaussian_filter1d(got["vertical_g"] - 1.0, e.walk_detect_sigma_s * fs)
    pk, props = find_peaks(d1, prominence=e.walk_weak_prominence_g)
    pk_s, prom = interp_at(got["t_s"], pk) + off_s, props["prominences"]
    before = got["before"][:: max(1, got["before"].size // 256)]
    level = float(np.median(braking_fall(got["ap"], before, fs, bounds, e))) if before.size else np.inf
    ic = det.ic_s[_in_bouts(det.ic_s, ref)]
    ei, ri = match(ic, ref.ic_s, 0.1)
    free = ic[np.setdiff1d(np.arange(ic.size), ei)]
    missed: list[str] = []
    shares: list[tuple[float, float]] = []
    for k in np.setdiff1d(np.arange(ref.ic_s.size), ri):  # misses: a few per trial
        if not ref.turn[k]:
            continue
        r = ref.ic_s[k]
        near = np.abs(free - r)
        cand = np.flatnonzero((pk_s >= r - 0.1) & (pk_s <= r + 0.25))
        if np.any((near > 0.1) & (near <= 0.3)):
            q = free[np.argmin(np.where((near > 0.1) & (near <= 0.3), near, np.inf))]
            v = vertical_s[np.argmin(np.abs(vertical_s - q))]  # that detection's vertical-signal IC
            missed.append("misplaced, vertical ok" if abs(v - r) <= 0.1 else "misplaced, vertical off")
        elif cand.size == 0:
            missed.append("no candidate")
        elif prom[cand].max() >= e.walk_peak_prominence_g:
            missed.append("clear, not taken")
        else:
            at = np.array([float(pk[cand[np.argmax(prom[cand])]])])
            fwd = float(braking_fall(got["ap"], at, fs, bounds, e)[0]) / level
            travel = max(float(braking_fall(np.cos(a) * got["ap"] + np.sin(a) * got["ml"], at, fs, bounds, e)[0])
                         for a in np.deg2rad(np.arange(-90.0, 91.0, 30.0))) / level  # directions: 7
            shares.append((fwd, travel))
            missed.append("weak, braking" if fwd >= e.walk_bridge_fall_frac else "weak, no braking")
    turn = rw._conditions(trial, ref, free)["turn"] == "turn"
    lost, found = np.delete(ref.ic_s, ri), ref.ic_s[ri]
    extra = ["misplaced" if np.abs(lost - x).min(initial=np.inf) <= 0.3 else
             "double" if np.abs(found - x).min(initial=np.inf) <= 0.3 else "far" for x in free[turn]]
    return missed, extra, shares


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    params = PipelineParams(events=rw.event_params(args.off))
    runs = [detect_with_stages(t, params) for t in trials]
    dets = [d for d, _ in runs]
    print("imuback walking, ±100 ms: the last2 and turn misses of benchmarks/walk_misses.py, by kind")
    cols = [f"{c} {k}" for c, ks in KINDS.items() for k in ks]
    print(f"{'data / reference':28s}" + "".join(f"{c:>{len(c) + 2}s}" for c in cols))
    for ds, ref_name in REFS:
        n: collections.Counter[tuple[str, str]] = collections.Counter()
        for t, d in zip(trials, dets, strict=True):
            if t.dataset == ds and ref_name in t.refs:
                n.update(anatomy(t, d, ref_name))
        print(f"{ds + ' / ' + ref_name:28s}"
              + "".join(f"{n[(c, k)]:>{len(c) + len(k) + 3}d}" for c, ks in KINDS.items() for k in ks))
    print("\nturning steps (reference IC in a reference turn, bout edges included): where each miss and extra is lost")
    cols = [f"miss: {c}" for c in TURN_MISS] + [f"extra: {c}" for c in TURN_EXTRA]
    print(f"{'data / reference':28s}{'misses':>7}" + "".join(f"{c:>{len(c) + 2}s}" for c in cols)
          + "  weak maxima: braking share fwd / travel (median)")
    for ds, ref_name in REFS:
        miss: collections.Counter[str] = collections.Counter()
        extra: collections.Counter[str] = collections.Counter()
        shares: list[tuple[float, float]] = []
        for t, (d, got) in zip(trials, runs, strict=True):
            if t.dataset == ds and ref_name in t.refs:
                m, x, sh = turn_losses(t, d, got, ref_name, params)
                miss.update(m)
                extra.update(x)
                shares += sh
        med = np.median(np.asarray(shares), axis=0) if shares else np.full(2, np.nan)
        print(f"{ds + ' / ' + ref_name:28s}{sum(miss.values()):>7}"
              + "".join(f"{miss[c]:>{len(c) + 8}d}" for c in TURN_MISS)
              + "".join(f"{extra[c]:>{len(c) + 9}d}" for c in TURN_EXTRA)
              + f"  {med[0]:.2f} / {med[1]:.2f} (n {len(shares)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
