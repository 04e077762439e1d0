"""Why imuback misses the first two and last two steps of a walk, on every real walking data set.

    python benchmarks/walk_edge_anatomy.py [--data ../shared/data] [--plot /tmp/edges] [--list] [--off NAME=VALUE ...]

Takes the misses that ``benchmarks/walk_misses.py`` files under ``first2`` / ``last2`` (same scorer,
one-to-one within 100 ms) and sorts each by what the trunk signal shows at the reference IC, the
first class that applies:

  misplaced    an unmatched detection 100-300 ms away (the step was seen, its IC elsewhere)
  after pause  the reference pauses for more than 3 typical steps between the miss and the
               walk's rhythm (among the walk's last three reference ICs up to a last2, its first
               three from a first2): the wearer stood, then shuffled or stepped off
  outside bout the reference IC lies outside every walking bout of the activity vote (the bout
               was cut before it: no detector looks there)
  no maximum   no maximum of the McCamley-smoothed vertical acceleration (``walk_detect_sigma_s``)
               with prominence >= ``FLOOR_G`` (0.01 g) within 150 ms
  weak         a maximum, below ``walk_weak_prominence_g`` (the loading response is too small)
  no landing   a maximum >= ``walk_weak_prominence_g`` whose loading rise is below
               ``walk_weak_rise_frac`` of the clear steps'
  off rhythm   a maximum >= ``walk_weak_prominence_g`` that lands, not taken, more than
               ``walk_missed_tol_steps`` from one typical step after / before its neighbouring
               detection
  other        a maximum >= ``walk_weak_prominence_g`` that lands, not taken, in rhythm (the
               rhythm rule did not reach it: e.g. the third weak step, or a first step)

Each miss also gets the braking fall at its reference IC (the steepest fall of the forward
acceleration within ``walk_drop_window_s``, :func:`~imuback.signal.walking_ic.braking_fall`) as a
share of the session's median over its detected walking steps: ``fall`` below is the median of
that share per class. ``--list`` prints every miss (trial, reference IC, class, the signed offset
of the nearest unmatched detection, the reference pause). ``--plot DIR`` writes, for every voisard
miss, the vertical and forward acceleration and the gyroscope around it (needs matplotlib).
"""

from __future__ import annotations

import argparse
import collections
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
from imuback.signal.activity import WALK, Bouts
from imuback.signal.frames import G_MPS2
from imuback.signal.params import EventParams, PipelineParams
from imuback.signal.session import SessionAnalysis, analyse_session
from imuback.signal.walking_ic import braking_fall
from matching import match
from walk_misses import REFS, categorise

FLOOR_G = 0.01
"""Smallest prominence (g) of the vertical maxima counted, at the misses and between steps alike."""
KINDS = ("misplaced", "after pause", "outside bout", "no maximum", "weak", "no landing", "off rhythm", "other")


@dataclass(frozen=True, kw_only=True)
class EdgeMiss:
    """What the trunk shows at one missed first2 / last2 reference IC."""

    edge: str
    """``first2`` or ``last2``."""
    misplaced: bool
    """An unmatched detection lies 100-300 ms away."""
    trial: str
    """The trial's name."""
    ref_ic_s: float
    """The missed reference IC (s from the recording's start)."""
    nearest_free_s: float
    """Signed offset of the nearest unmatched walking detection (s, + later; inf: none)."""
    ref_pause_steps: float
    """Longest reference interval between the miss and the walk's rhythm (among the walk's last
    three reference ICs up to a last2, its first three from a first2), in typical steps (inf:
    none)."""
    in_bout: bool
    """Inside a walking bout of the activity vote."""
    prominence_g: float
    """Prominence of the largest vertical maximum within 150 ms (NaN: none >= 0.01 g)."""
    rise_share: float
    """Its loading rise / the clear steps' median."""
    rhythm_off_steps: float
    """|interval to the neighbouring detection (before a last2, after a first2) - one step|, in steps."""
    fall_share: float
    """Braking fall at the reference IC / the session's median over its walking steps."""


def kind_of(m: EdgeMiss, p: EventParams) -> str:
    """The first class of the module docstring (``KINDS``) that applies to ``m``."""
    if m.misplaced:
        return "misplaced"
    if m.ref_pause_steps > 3.0:
        return "after pause"
    if not m.in_bout:
        return "outside bout"
    if not np.isfinite(m.prominence_g):
        return "no maximum"
    if m.prominence_g < p.walk_weak_prominence_g:
        return "weak"
    if m.rise_share < p.walk_weak_rise_frac:
        return "no landing"
    return "off rhythm" if not m.rhythm_off_steps <= p.walk_missed_tol_steps else "other"


def edge_anatomy(trial: rw.Trial, a: SessionAnalysis, ref_name: str, params: PipelineParams,
                 plot: Path | None = None) -> list[EdgeMiss]:
    """Each missed first2 / last2 reference IC of one trial (``a``: its analysis), with what the
    trunk shows there."""
    p = params.events
    body, fs = a.body, a.body.fs_hz
    walk = a.steps.activity == WALK
    t = body.t_s + (body.t0_ns - int(trial.raw.time_ns[0])) / 1e9
    det_s = np.interp(a.steps.ic_pos[walk], np.arange(body.n), t)
    det = rw.Detected(ic_s=det_s, to_s=np.full(det_s.size, np.nan), foot=np.full(det_s.size, ""))
    ref = trial.refs[ref_name]
    cats, _ = categorise(trial, det, ref_name)
    inb = np.any((det_s[:, None] >= ref.bouts_s[None, :, 0] - rw.BOUT_MARGIN_S)
                 & (det_s[:, None] <= ref.bouts_s[None, :, 1] + rw.BOUT_MARGIN_S), axis=1)
    ic = det_s[inb]
    ei, ri = match(ic, ref.ic_s, 0.1)
    free = ic[np.setdiff1d(np.arange(ic.size), ei)]
    missed = np.setdiff1d(np.arange(ref.ic_s.size), ri)  # in the order categorise() files them
    step_s = float(np.median(np.diff(det_s))) if det_s.size > 1 else np.inf
    v, ap = body.acc_mps2[:, 2] / G_MPS2, body.acc_mps2[:, 0]
    vel = np.cumsum(v - 1.0) / fs
    df = np.gradient(gaussian_filter1d(vel, p.walk_locate_sigma_s * fs, order=1))
    pk, prom = smoothed_vertical_maxima(a, p)
    back, ahead = int(0.2 * fs), int(0.05 * fs)

    def rise(i: np.ndarray) -> np.ndarray:  # the steepest loading rise around each maximum
        return np.array([df[max(k - back, 0):k + ahead].max(initial=0.0) for k in i])  # a few hundred

    clear = pk[prom >= p.walk_peak_prominence_g]
    clear_rise = float(np.median(rise(clear))) if clear.size else np.inf
    level = float(np.median(braking_fall(ap, a.steps.ic_pos[walk], fs, body.seg_bounds, p))) if walk.any() else 1.0
    sel = a.bouts.label == WALK
    out = []
    for k, cat in zip(missed, cats, strict=True):  # misses: a few per trial
        if cat not in ("first2", "last2"):
            continue
        r = ref.ic_s[k]
        i = int(np.clip(np.searchsorted(t, r), 0, body.n - 1))
        near = np.abs(free - r)
        j = np.flatnonzero(np.abs(pk - i) <= round(0.15 * fs))
        best = j[np.argmax(prom[j])] if j.size else -1
        side = det_s[det_s < r - 0.1] if cat == "last2" else det_s[det_s > r + 0.1]
        nb = (side.max() if cat == "last2" else side.min()) if side.size else np.nan
        mates = ref.ic_s[ref.bout_id == ref.bout_id[k]]
        # the reference ICs from the one before the two closing ones up to the miss (a first2: from
        # the miss to the one after the two opening ones)
        run = mates[-3:][mates[-3:] <= r] if cat == "last2" else mates[:3][mates[:3] >= r]
        pause = float(np.diff(run).max()) / step_s if run.size > 1 else np.inf
        m = EdgeMiss(edge=str(cat), trial=trial.name, ref_ic_s=float(r),
                     nearest_free_s=float(free[np.argmin(near)] - r) if free.size else np.inf,
                     misplaced=bool(np.any((near > 0.1) & (near <= 0.3))), ref_pause_steps=float(pause),
                     in_bout=bool(np.any((a.bouts.start_idx[sel] <= i) & (a.bouts.end_idx[sel] > i))),
                     prominence_g=float(prom[best]) if j.size else np.nan,
                     rise_share=float(rise(pk[[best]])[0] / clear_rise) if j.size else np.nan,
                     rhythm_off_steps=abs(abs(r - nb) - step_s) / step_s if np.isfinite(nb) else np.inf,
                     fall_share=float(braking_fall(ap, np.array([float(i)]), fs, body.seg_bounds, p)[0]) / level)
        out.append(m)
        if plot is not None:
            _plot(plot, trial, ref, r, t, v, ap, body.gyr_dps, det_s, a.bouts, sel,
                  f"{cat} {kind_of(m, p)} fall {m.fall_share:.2f}")
    return out


def _plot(out: Path, trial: rw.Trial, ref: rw.Reference, r: float, t: np.ndarray, v: np.ndarray, ap: np.ndarray,
          gyr: np.ndarray | None, det_s: np.ndarray, bouts: Bouts, sel: np.ndarray, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    m = (t >= r - 3.0) & (t <= r + 2.0)
    fig, ax = plt.subplots(3, 1, sharex=True, figsize=(10, 7))
    ax[0].plot(t[m], v[m], lw=0.8, label="vertical (g)")
    ax[1].plot(t[m], ap[m] / G_MPS2, lw=0.8, label="forward (g)")
    if gyr is not None:
        for c, lab in enumerate("xyz"):
            ax[2].plot(t[m], gyr[m, c], lw=0.8, label=f"gyr {lab} (dps)")
    for a_ in ax:
        for x in ref.ic_s[(ref.ic_s > r - 3) & (ref.ic_s < r + 2)]:
            a_.axvline(x, color="g", lw=0.6)
        for x in det_s[(det_s > r - 3) & (det_s < r + 2)]:
            a_.axvline(x, color="r", lw=0.6, ls="--")
        a_.axvline(r, color="k", lw=1.5)
        a_.legend(loc="upper right", fontsize=7)
    for s0, e0 in zip(bouts.start_idx[sel], bouts.end_idx[sel], strict=True):
        ax[0].axvspan(t[min(s0, t.size - 1)], t[min(e0, t.size) - 1], color="y", alpha=0.15)
    ax[0].set_xlim(r - 3.0, r + 2.0)
    fig.suptitle(f"{trial.name} {title} (green: reference IC, red: detected, black: this miss, yellow: walk bout)")
    fig.savefig(out / f"{trial.name.replace('/', '_')}_{r:.2f}.png", dpi=80)
    plt.close(fig)


def smoothed_vertical_maxima(a: SessionAnalysis, p: EventParams) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices and prominences (g) of the maxima (prominence >= ``FLOOR_G``) of a session's
    McCamley-smoothed vertical acceleration: the derivative of the Gaussian (``walk_detect_sigma_s``)
    of its integral."""
    fs = a.body.fs_hz
    vel = np.cumsum(a.body.acc_mps2[:, 2] / G_MPS2 - 1.0) / fs
    pk, props = find_peaks(gaussian_filter1d(vel, p.walk_detect_sigma_s * fs, order=1) * fs, prominence=FLOOR_G)
    return pk, np.asarray(props["prominences"], dtype=np.float64)


def vertical_maxima(a: SessionAnalysis, p: EventParams) -> tuple[np.ndarray, np.ndarray]:
    """Prominences (g) of :func:`smoothed_vertical_maxima` between a session's first and last
    walking detection: (within 0.15 typical steps of a detection, more than 0.3 steps from every
    detection: the bumps between steps)."""
    walk = a.steps.activity == WALK
    ic = a.steps.ic_pos[walk]
    if ic.size < 3:
        return np.zeros(0), np.zeros(0)
    pk, prom = smoothed_vertical_maxima(a, p)
    step = float(np.median(np.diff(ic)))
    d = np.abs(pk[:, None] - ic[None, :]).min(axis=1)
    inside = (pk > ic[0]) & (pk < ic[-1])
    return prom[inside & (d < 0.15 * step)], prom[inside & (d > 0.3 * step)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--plot", type=Path, default=None, help="write a figure per voisard miss here")
    ap.add_argument("--list", action="store_true", help="print every miss (trial, reference IC, class, offsets)")
    ap.add_argument("--off", nargs="*", default=[], help="EventParams NAME=VALUE to change")
    args = ap.parse_args(argv)
    trials = rw.load(args.data)
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    params = PipelineParams(events=rw.event_params(args.off))
    print("imuback walking, ±100 ms: the first2 / last2 misses of benchmarks/walk_misses.py, by what the trunk shows"
          + (f" (with {' '.join(args.off)})" if args.off else ""))
    print(f"{'data / reference':28s}{'edge':>7}" + "".join(f"{k:>13}" for k in KINDS) + f"{'fall':>7}")
    maxima: dict[str, list[np.ndarray]] = collections.defaultdict(list)
    closing: list[float] = []
    for ds, ref_name in REFS:
        rows: list[EdgeMiss] = []
        for tr in trials:
            if tr.dataset == ds and ref_name in tr.refs:
                a = analyse_session(tr.raw, params=params)
                rows += edge_anatomy(tr, a, ref_name, params, args.plot if ds == "voisard_l5_walk" else None)
                if ds == "voisard_l5_walk":
                    at, between = vertical_maxima(a, params.events)
                    maxima["at detected steps"].append(at)
                    maxima["between steps"].append(between)
        kinds = [kind_of(m, params.events) for m in rows]
        for edge in ("first2", "last2"):
            c = collections.Counter(k for m, k in zip(rows, kinds, strict=True) if m.edge == edge)
            f = [m.fall_share for m in rows if m.edge == edge]
            print(f"{ds + ' / ' + ref_name:28s}{edge:>7}" + "".join(f"{c[k]:>13}" for k in KINDS)
                  + f"{np.median(f) if f else np.nan:>7.2f}")
        by: dict[str, list[float]] = collections.defaultdict(list)
        for m, k in zip(rows, kinds, strict=True):
            by[k].append(m.fall_share)
        print(f"{'':28s}{'fall':>7}" + "".join(f"{np.median(by[k]) if by[k] else np.nan:>13.2f}" for k in KINDS))
        if ds == "voisard_l5_walk":
            closing = [m.prominence_g for m in rows if m.edge == "last2"]
        if args.list:
            for m, k in zip(rows, kinds, strict=True):
                print(f"    {m.trial:24s}{m.edge:>7}  ref IC {m.ref_ic_s:8.2f} s  {k:12s}"
                      f"  nearest unmatched detection {m.nearest_free_s * 1e3:+8.0f} ms"
                      f"  reference pause {m.ref_pause_steps:6.2f} steps")
    print(f"\nvoisard_l5_walk: prominence (g) of the McCamley-smoothed vertical maxima >= {FLOOR_G} g, "
          "median [10th, 90th percentile]")
    c = np.asarray(closing)
    groups = {**{k: np.concatenate(v) for k, v in maxima.items()},
              "at missed last2 ICs (within 150 ms)": c[np.isfinite(c)]}
    for k, x in groups.items():
        q = np.percentile(x, [50, 10, 90]) if x.size else np.full(3, np.nan)
        print(f"  {k:36s} n {x.size:5d}   {q[0]:.3f} [{q[1]:.3f}, {q[2]:.3f}]")
    print(f"  missed last2 ICs without a maximum >= {FLOOR_G} g within 150 ms: {np.count_nonzero(~np.isfinite(c))} "
          f"of {c.size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
