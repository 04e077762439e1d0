"""Steady straight walking: where the missed and extra steps in the middle of a walk are lost.

    python benchmarks/walk_steady.py [--data ../shared/data] [--list] [--plot DIR] [--set NAME=VALUE]

The nearest real condition to steady treadmill walking in ../shared/data: reference initial
contacts (ICs) that are neither in a turn nor among the first or last two of their walking bout
(``real_walking._conditions``: ``straight`` and ``mid-bout``), and — by the reference alone — in a
steady rhythm (``real_walking.steady_rhythm``: both intervals to the neighbouring reference ICs
within 0.6-1.4 of the bout's median, more than two reference ICs from a turn): the condition
``steady: steady straight`` of ``validate.py``.
``--all-mid`` scores every straight mid-bout IC instead (the ``validate.py`` condition). Same scorer as
``benchmarks/real_walking.py`` (one-to-one within 100 ms). Each such missed reference IC gets the
first stage that applies, in the pipeline's order:

  dropout        the IC lies in a gap of the recording (no sample within 50 ms: a dropped packet
                 run longer than ``ResampleParams.max_fill_s``, or a piece too short to analyse)
  activity       the IC's sample is not in a walking bout (labelled still or running)
  gait check     with the gait check off a detection within 100 ms appears
  upright        with ``upright_g`` 0 a detection within 100 ms appears
  neighbour      a detection lies within 100 ms but is matched to a neighbouring reference IC
                 (two reference ICs closer than ~0.2 s, or a detection between two ICs)
  offset: refinement  an unmatched detection 100-300 ms away whose vertical-signal IC (before
                 the forward-peak refinement) lies within 100 ms: the refinement moved it away
  offset: vertical    an unmatched detection 100-300 ms away, the vertical IC too
  no maximum     no vertical maximum (McCamley scale, prominence >= ``walk_weak_prominence_g``)
                 whose IC window (0.25 s before to 0.05 s after it) holds the IC
  weak not taken its maximum is weaker than ``walk_peak_prominence_g`` and not taken
  clear not taken   its maximum is a clear one and not taken (another step nearer than
                 ``min_step_s``, or chain logic)
  other

Each unmatched detection in the same condition (its nearest reference IC straight, mid-bout) is
``near`` (an unmatched reference IC within 300 ms: the twin of an offset miss), ``double`` (the
reference ICs within 300 ms are all matched: a second detection inside one step) or ``far``.
``--list`` prints every miss and extra with its trial, time, the interval to the steps either side
and what lies around it (:func:`context`): whether it falls inside the walk the trial recorded
(voisard's ``TrialBoundaries``: its reference also holds steps after the trial), whether the
trunk is turning (the mean yaw rate over a stride, which the step oscillations cancel in, at
least ``TURNING_DPS``: the walk's closing turn is not one of the reference's U-turn marks), the
longest lost-packet gap within 0.15 s, whether the reference has two ICs of one foot in a row,
and the median offset of the detections matched to that reference foot in the trial; then sorts
each into the first of ``CAUSES`` and scores the steady ICs that none of the first three
explains. ``--plot DIR`` draws the first few misses of each stage (vertical and forward acceleration,
the reference and detected ICs) as PNG files.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_walking as rw
import walk_candidates as wc
from imuback.signal.activity import WALK
from imuback.signal.params import EventParams, GaitCheckParams, PipelineParams
from imuback.signal.session import SessionAnalysis, analyse_session
from matching import match

F64 = npt.NDArray[np.float64]
REFS = wc.REFS
STAGES = ("dropout", "activity", "gait check", "upright", "neighbour", "offset: refinement", "offset: vertical",
          "no maximum", "weak not taken", "clear not taken", "other")
EXTRAS = ("near", "double", "far")
CAUSES = ("lost data", "outside the trial", "trunk turning", "reference: one foot twice", "steady walking")
TURNING_DPS = 30.0
"""The trunk turns where its yaw rate, averaged over a stride (1 s), is at least this (°/s): a
straight walk's step oscillations average out to a few °/s; a U-turn reaches 100-200 °/s."""
LOST_GAP_S = 0.05
"""A lost-packet gap of at least this within 0.15 s of an IC counts as lost data."""
NO_GAIT_CHECK = PipelineParams(gait_check=GaitCheckParams(min_off_axis_ratio=0.0, min_rotation_dps=0.0,
                                                          min_step_coupling=-1.0, min_coupling_evidence=-1.0))
NOT_UPRIGHT = PipelineParams(events=dataclasses.replace(EventParams(), upright_g=0.0))


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialRuns:
    """One trial's analyses: the pipeline, its vertical maxima, and the variants that switch a stage off."""

    a: SessionAnalysis
    cues: dict[str, F64]
    no_gait_check_s: F64
    not_upright_s: F64


def _walk_ic_s(a: SessionAnalysis, t0_ns: int) -> F64:
    pos = a.steps.ic_pos[a.steps.activity == WALK]
    return np.asarray((a.times_ns(pos).astype(np.float64) - t0_ns) / 1e9, dtype=np.float64)


def run_trial(trial: rw.Trial, events: EventParams = EventParams()) -> TrialRuns:
    """The pipeline (with ``events``) and its stage-off variants on one trial."""
    t0 = int(trial.raw.time_ns[0])
    off_gc = dataclasses.replace(NO_GAIT_CHECK, events=events)
    off_up = PipelineParams(events=dataclasses.replace(events, upright_g=0.0))
    return TrialRuns(a=analyse_session(trial.raw, params=PipelineParams(events=events)),
                     cues=wc.trial_cues(trial, events),
                     no_gait_check_s=_walk_ic_s(analyse_session(trial.raw, params=off_gc), t0),
                     not_upright_s=_walk_ic_s(analyse_session(trial.raw, params=off_up), t0))


event_params = rw.event_params


def _steady(trial: rw.Trial, ref: rw.Reference, t: F64, *, rhythm: bool = True) -> npt.NDArray[np.bool_]:
    """True where each time in ``t`` is in steady straight walking (``rhythm``; else straight and mid-bout)."""
    c = rw._conditions(trial, ref, t)
    if rhythm:
        return np.asarray(c["steady"] == "steady straight", dtype=bool)
    return np.asarray((c["turn"] == "straight") & (c["bout"] == "mid-bout"), dtype=bool)


def _plain(trial: rw.Trial, runs: TrialRuns, ref: rw.Reference, t: F64, *,
           trial_only: bool = False) -> npt.NDArray[np.bool_]:
    """True where each time in ``t`` lies inside the trial's walk and (unless ``trial_only``) the
    trunk is not turning (``TURNING_DPS``) and no lost-packet gap of ``LOST_GAP_S`` lies within 0.15 s."""
    a = runs.a
    t0 = int(trial.raw.time_ns[0])
    ts = (a.body.t0_ns - t0) / 1e9 + a.body.t_s
    ok = (t >= ref.trial_s[0]) & (t <= ref.trial_s[1])
    if trial_only:
        return np.asarray(ok, dtype=bool)
    if a.body.gyr_dps is not None and ts.size:
        fs = a.body.fs_hz
        mean_yaw = np.convolve(a.body.gyr_dps[:, 2], np.ones(round(fs) + 1) / (round(fs) + 1), mode="same")
        j = np.clip(np.searchsorted(ts, t), 0, ts.size - 1)
        ok &= np.abs(mean_yaw[j]) < TURNING_DPS
    raw_t = (trial.raw.time_ns - t0) / 1e9
    dt = np.diff(raw_t)
    big = np.flatnonzero(dt - 1.0 / trial.raw.sample_rate_hz >= LOST_GAP_S)
    for g in big:  # gaps: few
        ok &= ~((t >= raw_t[g] - 0.15) & (t <= raw_t[g + 1] + 0.15))
    return np.asarray(ok, dtype=bool)


def _within(x: F64, t: float, tol: float) -> bool:
    return bool(np.any(np.abs(x - t) <= tol))


def stage_of_miss(r: float, runs: TrialRuns, t0_ns: int, det: F64, matched: npt.NDArray[np.bool_]) -> str:
    """The first stage (``STAGES``) that explains the missed reference IC at ``r`` (s)."""
    a = runs.a
    t_grid = (a.body.t0_ns - t0_ns) / 1e9 + a.body.t_s
    if t_grid.size == 0 or np.min(np.abs(t_grid - r)) > 0.05:
        return "dropout"
    pos = int(np.argmin(np.abs(t_grid - r)))
    if not a.bouts.contains(np.array([pos]), WALK)[0]:
        return "activity"
    step = det
    if _within(runs.no_gait_check_s, r, 0.1) and not _within(step, r, 0.1):
        return "gait check"
    if _within(runs.not_upright_s, r, 0.1) and not _within(step, r, 0.1):
        return "upright"
    if _within(step, r, 0.1):
        return "neighbour"
    free = step[~matched]
    if np.any((np.abs(free - r) > 0.1) & (np.abs(free - r) <= 0.3)):
        return "offset: refinement" if _within(runs.cues["vertical_s"], r, 0.1) else "offset: vertical"
    mx, prom = runs.cues["max_s"], runs.cues["prom"]
    holds = (mx - wc.WINDOW_S[0] <= r) & (mx + wc.WINDOW_S[1] >= r)
    if not holds.any():
        return "no maximum"
    if np.max(prom[holds]) < EventParams().walk_peak_prominence_g:
        return "weak not taken"
    return "clear not taken"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """What lies around one missed reference IC or extra detection (see the module docstring)."""

    in_trial: bool
    yaw_dps: float
    gap_s: float
    one_foot_twice: bool
    foot_offset_ms: float

    def cause(self, stage: str = "") -> str:
        """The first of ``CAUSES`` that applies."""
        if stage == "dropout" or self.gap_s >= LOST_GAP_S:
            return "lost data"
        if not self.in_trial:
            return "outside the trial"
        if abs(self.yaw_dps) >= TURNING_DPS:
            return "trunk turning"
        if self.one_foot_twice:
            return "reference: one foot twice"
        return "steady walking"

    def __str__(self) -> str:
        return (f"{'in trial' if self.in_trial else 'OUTSIDE':8s} yaw {self.yaw_dps:+6.0f} °/s  gap "
                f"{1e3 * self.gap_s:4.0f} ms  {'one foot twice' if self.one_foot_twice else '':14s} "
                f"foot offset {self.foot_offset_ms:+5.0f} ms")


def context(trial: rw.Trial, runs: TrialRuns, ref: rw.Reference, t: float, *, k_ref: int | None,
            det: F64, ei: npt.NDArray[np.int64], ri: npt.NDArray[np.int64]) -> Context:
    """:class:`Context` of the time ``t`` (s; reference IC ``k_ref`` if given) in one trial, whose
    detections ``det`` are matched ``det[ei]`` to ``ref.ic_s[ri]``."""
    a = runs.a
    t0 = int(trial.raw.time_ns[0])
    ts = (a.body.t0_ns - t0) / 1e9 + a.body.t_s
    yaw = np.nan
    if a.body.gyr_dps is not None:
        w = np.abs(ts - t) <= 0.5
        yaw = float(np.mean(a.body.gyr_dps[w, 2])) if w.any() else np.nan
    raw_t = (trial.raw.time_ns - t0) / 1e9
    dt = np.diff(raw_t)
    near = (raw_t[1:] >= t - 0.15) & (raw_t[:-1] <= t + 0.15)
    period = 1.0 / trial.raw.sample_rate_hz
    gap = float(np.max(dt[near], initial=period)) - period
    k = k_ref if k_ref is not None else int(np.argmin(np.abs(ref.ic_s - t)))
    foot = ref.foot[k]
    twice = bool((k > 0 and ref.foot[k - 1] == foot) or (k + 1 < ref.foot.size and ref.foot[k + 1] == foot))
    same = ref.foot[ri] == foot
    off = float(np.median(det[ei][same] - ref.ic_s[ri][same])) * 1e3 if same.any() else np.nan
    return Context(in_trial=bool(ref.trial_s[0] <= t <= ref.trial_s[1]), yaw_dps=yaw, gap_s=gap,
                   one_foot_twice=twice, foot_offset_ms=off)


def _intervals(steps: F64, t: float) -> str:
    j = int(np.searchsorted(steps, t))
    before = t - steps[j - 1] if j > 0 else np.nan
    after = steps[j] - t if j < steps.size else np.nan
    return f"{before:5.2f} s after / {after:5.2f} s before the steps either side"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--all-mid", action="store_true", help="every straight mid-bout IC, steady rhythm or not")
    ap.add_argument("--no-gyro", action="store_true", help="the trials with their gyroscope dropped")
    ap.add_argument("--list", action="store_true", help="print every miss and extra")
    ap.add_argument("--plot", type=Path, default=None, help="draw the first misses of each stage here")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="run with this EventParams field changed (repeatable)")
    args = ap.parse_args(argv)
    events = event_params(args.set)
    trials = [t for t in rw.load(args.data, no_gyro=args.no_gyro) if t.dataset in {d for d, _ in REFS}]
    if not trials:
        print(f"no real walking data under {args.data / 'real'}: skipped")
        return 0
    runs = [run_trial(t, events) for t in trials]
    what = "straight mid-bout" if args.all_mid else "steady straight"
    where = "not in a turn" if args.all_mid else "a steady rhythm, not in or near a turn"
    print(f"{what} walking (reference ICs: {where}, not among a bout's first/last two), ±100 ms")
    print(f"{'data / reference':28s}{'n ref':>6}{'recall':>7}{'prec':>6}{'missed':>7}  "
          + "".join(f"{s:>{max(len(s), 5) + 1}}" for s in STAGES)
          + f"{'extra':>7}" + "".join(f"{e:>7}" for e in EXTRAS))
    listing: list[str] = []
    to_plot: dict[str, list[tuple[rw.Trial, TrialRuns, float]]] = collections.defaultdict(list)
    per_subject: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    # per subject and reference foot: matched steady detection - reference IC (s), and the reference's
    # steady step times ending on that foot (s)
    foot_off: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    foot_step: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for ds, ref_name in REFS:
        n_ref = n_det = n_ok = 0
        miss: collections.Counter[str] = collections.Counter()
        extra: collections.Counter[str] = collections.Counter()
        why: collections.Counter[str] = collections.Counter()
        causes: collections.Counter[str] = collections.Counter()
        kept = np.zeros((2, 4), np.int64)  # (inside the trial; and not turning, no lost data) x (ref, det, ok, missed)
        for t, tr in zip(trials, runs, strict=True):
            if t.dataset != ds or ref_name not in t.refs:
                continue
            ref = t.refs[ref_name]
            t0 = int(t.raw.time_ns[0])
            ic = tr.cues["steps_s"]
            ic = ic[wc._in_bouts(ic, ref.bouts_s)]
            ei, ri = match(ic, ref.ic_s, 0.1)
            matched = np.zeros(ic.size, bool)
            matched[ei] = True
            found = np.zeros(ref.ic_s.size, bool)
            found[ri] = True
            steady_r = _steady(t, ref, ref.ic_s, rhythm=not args.all_mid)
            steady_d = _steady(t, ref, ic, rhythm=not args.all_mid)
            n_ref += int(steady_r.sum())
            n_det += int(steady_d.sum())
            n_ok += int((matched & steady_d).sum())
            key = f"{ds} / {ref_name}: {t.subject}"
            for f in ("L", "R"):
                sel = steady_r[ri] & (ref.foot[ri] == f)
                foot_off[(key, f)] += list(ic[ei][sel] - ref.ic_s[ri][sel])
                k_f = np.flatnonzero(steady_r & (ref.foot == f))
                foot_step[(key, f)] += list(ref.ic_s[k_f[k_f > 0]] - ref.ic_s[k_f[k_f > 0] - 1])
            for k in np.flatnonzero(steady_r & ~found):
                s = stage_of_miss(float(ref.ic_s[k]), tr, t0, ic, matched)
                miss[s] += 1
                per_subject[f"{ds} / {ref_name}: {t.subject}"][s] += 1
                to_plot[s].append((t, tr, float(ref.ic_s[k])))
                cx = context(t, tr, ref, float(ref.ic_s[k]), k_ref=int(k), det=ic, ei=ei, ri=ri)
                causes["miss: " + cx.cause(s)] += 1
                listing.append(f"{ref_name:8s} {t.name:22s} miss  {ref.ic_s[k]:7.2f} s {ref.foot[k]}  {s:19s}"
                               f"{_intervals(ic, float(ref.ic_s[k]))}  {cx}  -> {cx.cause(s)}")
            for k in np.flatnonzero(steady_d & ~matched):
                d = np.abs(ref.ic_s - ic[k])
                close = d <= 0.3
                e = "far" if not close.any() else "near" if np.any(close & ~found) else "double"
                extra[e] += 1
                per_subject[f"{ds} / {ref_name}: {t.subject}"]["extra " + e] += 1
                cx = context(t, tr, ref, float(ic[k]), k_ref=None, det=ic, ei=ei, ri=ri)
                causes["extra: " + cx.cause()] += 1
                listing.append(f"{ref_name:8s} {t.name:22s} extra {ic[k]:7.2f} s    {e:19s}"
                               f"nearest reference IC {np.min(d) if d.size else np.nan:5.2f} s away      {cx}"
                               f"  -> {cx.cause()}")
            # the steady ICs inside the trial's walk; and of those, the ones neither lost data nor a
            # turning trunk explains
            for row, only in enumerate((True, False)):
                plain_r = steady_r & _plain(t, tr, ref, ref.ic_s, trial_only=only)
                plain_d = steady_d & _plain(t, tr, ref, ic, trial_only=only)
                kept[row] += (plain_r.sum(), plain_d.sum(), (matched & plain_d).sum(), (plain_r & ~found).sum())
            if args.all_mid:  # why the reference itself calls a missed IC not steady
                unsteady = steady_r & ~found & ~_steady(t, ref, ref.ic_s)
                near_turn = np.convolve(ref.turn.astype(np.int64), np.ones(2 * rw.STEADY_TURN_MARGIN + 1, np.int64),
                                        mode="same") > 0
                why["near a turn"] += int(np.sum(unsteady & near_turn))
                why["reference rhythm broken"] += int(np.sum(unsteady & ~near_turn))
        n_miss = sum(miss.values())
        print(f"{ds + ' / ' + ref_name:28s}{n_ref:>6}{1 - n_miss / max(n_ref, 1):>7.3f}{n_ok / max(n_det, 1):>6.3f}"
              f"{n_miss:>7}  " + "".join(f"{miss[s]:>{max(len(s), 5) + 1}}" for s in STAGES)
              + f"{sum(extra.values()):>7}" + "".join(f"{extra[e]:>7}" for e in EXTRAS))
        if why:
            print(f"{'':28s}of the misses, not steady by the reference: "
                  + ", ".join(f"{k} {n}" for k, n in why.items()))
        print(f"{'':28s}by cause: " + ", ".join(f"{k} {n}" for k, n in sorted(causes.items())))
        second = "... no lost packets (no gyroscope)" if args.no_gyro else "... trunk not turning, no lost packets"
        # the steady condition already holds only the trial's walk: its row would repeat the headline
        rows = [(kept[1], second)]
        if args.all_mid:
            rows.insert(0, (kept[0], "inside the trial's walk"))
        for (n_r, n_d, n_o, n_m), label in rows:
            print(f"{'':28s}{label:42s} n ref {n_r:5d}  recall {1 - n_m / max(n_r, 1):.3f}  "
                  f"precision {n_o / max(n_d, 1):.3f}  missed {n_m}  extra {n_d - n_o}")
    print(f"\nper subject (misses by stage; extras by kind), {what} walking")
    for k, c in per_subject.items():
        print(f"{k:44s} " + ", ".join(f"{s} {n}" for s, n in sorted(c.items(), key=lambda x: -x[1])))
    if args.list:
        print(f"\nper subject and reference foot, {what} walking: matched imuback IC - reference IC "
              "(median ± SD ms, n), and the reference's step time ending on that foot (median s)")
        for key in dict.fromkeys(k for k, _ in foot_off):
            print(f"{key:44s} " + "   ".join(
                f"{f}: {1e3 * np.median(foot_off[(key, f)]):+4.0f} ± {1e3 * np.std(foot_off[(key, f)]):3.0f} "
                f"({len(foot_off[(key, f)]):3d}) step {np.median(foot_step[(key, f)]):.3f} s"
                for f in ("L", "R") if foot_off[(key, f)]))
        print("\n" + "\n".join(listing))
    if args.plot is not None:
        _plot(to_plot, args.plot)
    return 0


def _plot(to_plot: dict[str, list[tuple[rw.Trial, TrialRuns, float]]], out: Path, per_stage: int = 4) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    for stage, items in to_plot.items():
        for i, (t, tr, r) in enumerate(items[:per_stage]):
            a = tr.a
            t0 = int(t.raw.time_ns[0])
            ts = (a.body.t0_ns - t0) / 1e9 + a.body.t_s
            w = (ts >= r - 2.5) & (ts <= r + 2.5)
            fig, ax = plt.subplots(2, 1, sharex=True, figsize=(10, 5))
            ax[0].plot(ts[w], a.body.acc_mps2[w, 2] / 9.81, lw=0.8)
            ax[1].plot(ts[w], a.body.acc_mps2[w, 0] / 9.81, lw=0.8)
            for refn, ref in t.refs.items():
                rr = ref.ic_s[(ref.ic_s >= r - 2.5) & (ref.ic_s <= r + 2.5)]
                for x in ax:
                    x.vlines(rr, 0, 1, transform=x.get_xaxis_transform(), colors="g" if refn != "stereo" else "c",
                             lw=1)
            st = tr.cues["steps_s"]
            st = st[(st >= r - 2.5) & (st <= r + 2.5)]
            for x in ax:
                x.vlines(st, 0, 0.5, transform=x.get_xaxis_transform(), colors="r", lw=1.5)
                x.axvline(r, color="k", ls="--", lw=0.8)
            ax[0].set_ylabel("vertical (g)")
            ax[1].set_ylabel("forward (g)")
            ax[0].set_title(f"{t.name} miss at {r:.2f} s: {stage} (green/cyan reference, red imuback)")
            fig.savefig(out / f"{stage.replace(' ', '_').replace(':', '')}_{i}.png", dpi=80)
            plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
