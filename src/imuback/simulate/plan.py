"""Session plan: segments, every foot contact, pace changes, speed and heading (steps 1-2).

Draws from the session's random generator in a fixed order (see
:func:`imuback.simulate.runner.simulate_session`); do not reorder the draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imuback.simulate.params import B8, F64, I64, RunnerParams


@dataclass(frozen=True, slots=True, kw_only=True)
class Steps:
    """Per-contact arrays, time-ordered (s = support start in s since session start)."""

    s: F64
    T: F64
    tc: F64
    side: F64  # +1 right foot, -1 left foot
    run: B8
    bout: I64
    first: B8
    last: B8
    fatigue: F64  # 0..1 fraction of the running time elapsed
    pace: F64  # speed factor (1 = params.speed_mps)
    lift: F64  # walking: the step's lift relative to a full step (a shuffle's < 1); 1 elsewhere


def _smoothstep(x: F64) -> tuple[F64, F64, F64]:
    """G(x) = x - sin(2 pi x)/(2 pi) on [0, 1], clamped; and its first two derivatives in x."""
    xc = np.clip(x, 0.0, 1.0)
    inside = (x > 0.0) & (x < 1.0)
    g = xc - np.sin(2 * np.pi * xc) / (2 * np.pi)
    g1 = np.where(inside, 1.0 - np.cos(2 * np.pi * xc), 0.0)
    g2 = np.where(inside, 2 * np.pi * np.sin(2 * np.pi * xc), 0.0)
    return g, g1, g2


@dataclass(frozen=True, slots=True, kw_only=True)
class Transitions:
    """A sum of smooth steps: value(t) = sum_i delta_i G((t - t_i) / d_i)."""

    t0: F64
    d: F64
    delta: F64

    def eval(self, t: F64) -> tuple[F64, F64, F64]:
        """Value, first and second time derivative at sorted ``t`` (loop over few transitions)."""
        v, v1, v2 = np.zeros_like(t), np.zeros_like(t), np.zeros_like(t)
        for t0, d, dl in zip(self.t0, self.d, self.delta, strict=True):  # few transitions
            i0, i1 = np.searchsorted(t, [t0, t0 + d])
            g, g1, g2 = _smoothstep((t[i0:i1] - t0) / d)
            v[i0:i1] += dl * g
            v[i1:] += dl
            v1[i0:i1] += dl * g1 / d
            v2[i0:i1] += dl * g2 / (d * d)
        return v, v1, v2


def plan_segments(p: RunnerParams, rng: np.random.Generator) -> list[tuple[str, float]]:
    """Segments (kind, planned duration s) in order."""
    segs: list[tuple[str, float]] = [("stand", p.stand_start_s)]
    if p.walk_start_s > 0:  # stop-start: standing pauses split the first walk into equal parts
        piece = p.walk_start_s / (p.walk_pauses + 1)
        for i in range(p.walk_pauses + 1):
            if i:
                segs.append(("stand", p.pause_s))
            segs += _hesitate(p, piece, rng)
    run_s = p.run_minutes * 60.0
    if run_s > 0:
        n_blocks = p.walk_breaks + 1
        for i in range(n_blocks):
            segs.append(("run", run_s / n_blocks))
            if i < n_blocks - 1 and p.walk_break_s > 0:
                segs.append(("walk", p.walk_break_s))
    if p.walk_end_s > 0:
        segs += _hesitate(p, p.walk_end_s, rng)
    segs.append(("stand", p.stand_end_s))
    return segs


HESITATION_S = (1.0, 2.5)
"""How long a hesitation stands still (s, uniform)."""


def _hesitate(p: RunnerParams, walk_s: float, rng: np.random.Generator) -> list[tuple[str, float]]:
    """A walk of ``walk_s`` broken by ``walk_hesitations_per_min`` hesitations (Poisson times, none
    in the first or last 3 s), each a short stand of :data:`HESITATION_S`; drawn only when asked,
    so other sessions keep their random draws.
    """
    if p.walk_hesitations_per_min <= 0 or walk_s <= 6.0:
        return [("walk", walk_s)]
    n = int(rng.poisson(p.walk_hesitations_per_min * walk_s / 60.0))
    at = np.sort(rng.uniform(3.0, walk_s - 3.0, n))
    kept: list[float] = []
    for t in at:  # a few draws; at least 2 s of walking after the last one kept
        if not kept or t - kept[-1] >= 2.0:
            kept.append(float(t))
    at = np.asarray(kept, dtype=np.float64)
    stand = rng.uniform(*HESITATION_S, at.size)
    edges = np.concatenate([[0.0], at, [walk_s]])
    out: list[tuple[str, float]] = []
    for k in range(edges.size - 1):  # a few hesitations
        if k:
            out.append(("stand", float(stand[k - 1])))
        out.append(("walk", float(edges[k + 1] - edges[k])))
    return out


def make_steps(p: RunnerParams, segs: list[tuple[str, float]], rng: np.random.Generator,
                pace_fn: Transitions) -> tuple[Steps, list[dict[str, Any]]]:
    """Draw every contact; return the steps and the actual segment times."""
    parts: dict[str, list[F64]] = {k: [] for k in ("s", "T", "tc", "run", "bout", "pace", "lift")}
    side_parts: list[F64] = []
    seg_log: list[dict[str, Any]] = []
    cursor = 0.0
    bout = -1
    prev_gait = False
    next_side = 1.0
    for i_seg, (kind, dur) in enumerate(segs):  # a handful of segments
        if kind == "stand":
            seg_log.append({"kind": kind, "start_s": cursor, "end_s": cursor + dur})
            cursor += dur
            prev_gait = False
            continue
        starts_bout = not prev_gait
        if starts_bout:
            bout += 1
            next_side = float(rng.choice([-1.0, 1.0]))
        run = kind == "run"
        t_end = cursor + dur
        cad0 = p.cadence_spm if run else p.walk_cadence_spm
        n_max = int(np.ceil(dur * cad0 / 60.0 * 1.3)) + 4
        t_approx = np.asarray(cursor + np.arange(n_max) * 60.0 / cad0, dtype=np.float64)
        pace = 1.0 + pace_fn.eval(t_approx)[0] if run else np.ones(n_max)
        cad = cad0 * pace**0.35 if run else np.full(n_max, cad0)  # cadence rises slowly with speed
        eps = np.clip(rng.standard_normal(n_max), -3, 3)
        cv = p.step_time_cv if run or p.walk_step_time_cv is None else p.walk_step_time_cv
        T = 60.0 / cad * (1.0 + cv * eps)
        turns = [] if run else uturn_times(p, cursor, t_end)
        if not run:
            T = _walking_step_modulation(p, T, cursor, next_side, turns, starts_bout)
        lift = _shuffles(p, n_max, rng) if not run else np.ones(n_max)
        T_plain = T
        T, quick = _quick_steps(p, T, rng) if not run else (T, np.zeros(n_max, dtype=bool))
        gap = np.zeros(n_max)
        if not run and p.walk_near_stop_share > 0:
            T, gap, turns, t_end = _near_stops(p, T, quick, cursor, t_end, turns, rng)
        s = cursor + np.concatenate([[0.0], np.cumsum(T[:-1] + gap[:-1])])
        keep = s < t_end
        n = int(keep.sum())
        if n == 0:
            continue
        s, T, pace, lift, quick, gap = s[:n], T[:n], pace[:n], lift[:n], quick[:n], gap[:n]
        if quick[-2:].any():  # gait termination's last two steps are never quick: back to plain
            qi = np.flatnonzero(quick[-2:]) + max(n - 2, 0)
            T[qi], quick[qi] = T_plain[qi], False
            s = cursor + np.concatenate([[0.0], np.cumsum(T[:-1] + gap[:-1])])
        if gap[max(n - 2, 0):].any():  # never after a walk's last two steps (its end is a stop of its own)
            gap[max(n - 2, 0):] = 0.0
            s = cursor + np.concatenate([[0.0], np.cumsum(T[:-1] + gap[:-1])])
        near = gap > 0  # a near-stop ends a gait bout after this step (within the walk)
        if near.any():
            lift[np.flatnonzero(near) - 1] = 1.0  # its step before is full, its step a shuffle (as a stall)
            lift[near] = p.shuffle_lift_frac if p.walk_shuffle_share > 0 else 1.0
            lift[np.minimum(np.flatnonzero(near) + 1, n - 1)] = 1.0  # the next bout's first two are full
            lift[np.minimum(np.flatnonzero(near) + 2, n - 1)] = 1.0
        ends_bout = i_seg + 1 >= len(segs) or segs[i_seg + 1][0] == "stand"
        if not run and p.walk_shuffle_share > 0:
            # the second-to-last step of every walk is full (before a stall, walk-to-run or the
            # session's end); the last is a shuffle into a stall (a hesitation, a pause inside the
            # session), else full; a stalling walk of <= 2 steps thus shuffles one of its first two
            stall = ends_bout and i_seg + 2 < len(segs)
            lift[-2:] = np.array([1.0, p.shuffle_lift_frac if stall else 1.0])[-min(n, 2):]
        if not run and ends_bout and p.walk_transient_pct > 0:  # gait termination: the last steps slow
            T[-2:] = T[-2:] * (1.0 + p.walk_transient_pct / 100.0 * np.array([0.5, 1.0])[-min(n, 2):])
            # the last contact starts when the longer step before it ends (its support would
            # otherwise overlap the last contact's: tens of ms with the body weight counted twice)
            s = cursor + np.concatenate([[0.0], np.cumsum(T[:-1] + gap[:-1])])
        if run:
            tc = p.contact_time_s * pace ** -0.6  # contact shortens with speed (Weyand 2000)
        else:
            tc = p.walk_duty_factor * 2.0 * T
        sides = np.asarray(next_side * (-1.0) ** np.arange(n), dtype=np.float64)
        next_side = -sides[-1]
        parts["s"].append(s)
        parts["T"].append(T)
        parts["tc"].append(np.asarray(tc, dtype=float))
        parts["run"].append(np.full(n, run))
        parts["bout"].append(np.asarray(bout + np.concatenate([[0], np.cumsum(near[:-1])]), dtype=np.float64))
        bout += int(near[:-1].sum())
        parts["pace"].append(np.asarray(pace, dtype=float))
        parts["lift"].append(lift)
        side_parts.append(sides)
        seg_log.append({"kind": kind, "start_s": cursor, "end_s": float(s[-1] + T[-1]), "uturns": turns})
        if not run and p.walk_shuffle_share > 0:  # the truth keeps the shuffles' contact starts
            seg_log[-1]["shuffles_s"] = [float(x) for x in s[lift < 1.0]]
        if not run and p.walk_quick_share > 0:  # the truth keeps the quick steps' contact starts
            seg_log[-1]["quick_s"] = [float(x) for x in s[quick]]
        if not run and p.walk_near_stop_share > 0:  # and the near-stops' double-support pauses
            seg_log[-1]["near_stops"] = [(float(a), float(a + b)) for a, b in zip(s[near] + T[near], gap[near],
                                                                                 strict=True)]
        cursor = float(s[-1] + T[-1])
        prev_gait = True
    if not parts["s"]:
        empty = np.zeros(0)
        return Steps(s=empty, T=empty, tc=empty, side=empty, run=empty.astype(bool),
                      bout=empty.astype(np.int64), first=empty.astype(bool), last=empty.astype(bool),
                      fatigue=empty, pace=empty, lift=empty), seg_log
    s = np.concatenate(parts["s"])
    bout_a = np.concatenate(parts["bout"]).astype(np.int64)
    run_a = np.concatenate(parts["run"]).astype(bool)
    first = np.r_[True, bout_a[1:] != bout_a[:-1]]
    last = np.r_[bout_a[1:] != bout_a[:-1], True]
    # fatigue: fraction of the cumulative running time elapsed at each step
    T_a = np.concatenate(parts["T"])
    run_time = np.cumsum(np.where(run_a, T_a, 0.0)) - np.where(run_a, T_a, 0.0)
    total_run = max(float(np.sum(np.where(run_a, T_a, 0.0))), 1e-9)
    fatigue = np.clip(run_time / total_run, 0.0, 1.0)
    steps = Steps(s=s, T=T_a, tc=np.concatenate(parts["tc"]), side=np.concatenate(side_parts),
                   run=run_a, bout=bout_a, first=first, last=last, fatigue=fatigue,
                   pace=np.concatenate(parts["pace"]), lift=np.concatenate(parts["lift"]))
    return steps, seg_log


def _shuffles(p: RunnerParams, n: int, rng: np.random.Generator) -> F64:
    """Each walking step's lift (n,): ``shuffle_lift_frac`` on a shuffle, else 1.

    Each step is a shuffle with probability ``walk_shuffle_share`` (drawn only when asked, so other
    sessions keep their random draws); never a walk's first two steps (gait initiation's).
    """
    lift = np.ones(n)
    if p.walk_shuffle_share > 0:
        lift[rng.random(n) < p.walk_shuffle_share] = p.shuffle_lift_frac
        lift[:2] = 1.0
    return lift


QUICK_STEP_S = (0.28, 0.40)
"""A quick step's time (s, uniform): the real quick steps (under 0.7 of the running median
interval) of mobgap_lab's slow bouts (< 0.6 m/s) last 0.28-0.37 s (stereophotogrammetry) and
0.29-0.40 s (INDIP) from one IC to the next (``benchmarks/slow_steps.py``'s sets)."""


def _quick_steps(p: RunnerParams, T: F64, rng: np.random.Generator) -> tuple[F64, B8]:
    """Walking step times (n,) with quick steps, and which steps are quick (n,).

    Each step is a quick step (a short corrective step of :data:`QUICK_STEP_S`) with probability
    ``walk_quick_share``, never a walk's first two steps (gait initiation's); drawn only when asked,
    so other sessions keep their random draws. The speed stays the walk's: a quick step is short.
    """
    quick = np.zeros(T.size, dtype=bool)
    if p.walk_quick_share <= 0:
        return T, quick
    quick = rng.random(T.size) < p.walk_quick_share
    quick[:2] = False
    out: F64 = np.where(quick, rng.uniform(*QUICK_STEP_S, T.size), T)
    return out, quick


NEAR_STOP_S = (0.8, 2.2)
"""A near-stop's double-support pause (s, uniform): the real stalls of mobgap_lab's slow bouts last
1.24-2.88 s from one IC to the next (stereophotogrammetry; INDIP 0.91-3.97 s; ``benchmarks/slow_steps.py``)
against ~0.7 s for the slowed step into it; from 0.8 s, where the pelvis's easing out of and into
gait (``gait.BOUT_EASE_S`` each) still fits."""

NEAR_STOP_CREEP_STEPS = 0.5
"""How far the pelvis creeps over a near-stop's pause, at most (steps; physics): both feet stay
planted, so the body moves only from between them (at the IC) to over the front foot, about half a
step length. A pause longer than that at ``walk_near_stop_speed_mps`` creeps slower."""


def near_stop_creep_mps(p: RunnerParams, pause_s: float) -> float:
    """The forward speed over a near-stop's pause of ``pause_s`` (m/s): ``walk_near_stop_speed_mps``,
    slower where that would carry the pelvis past :data:`NEAR_STOP_CREEP_STEPS` step lengths
    (``walk_speed_mps`` over the step rate ``walk_cadence_spm``).
    """
    step_m = p.walk_speed_mps * 60.0 / p.walk_cadence_spm
    return min(p.walk_near_stop_speed_mps, NEAR_STOP_CREEP_STEPS * step_m / pause_s)


NEAR_STOP_EASE_S = 1.0
"""The walker slows to ``walk_near_stop_speed_mps`` over this long before a near-stop's pause and
speeds up over as long after it (s; about a step and a half at 100 steps/min)."""


def _near_stops(p: RunnerParams, T: F64, quick: B8, start_s: float, end_s: float,
                turns: list[tuple[float, float]], rng: np.random.Generator
                ) -> tuple[F64, F64, list[tuple[float, float]], float]:
    """Near-stops inside a walk: after a step drawn with probability ``walk_near_stop_share`` the
    walker pauses in double support for :data:`NEAR_STOP_S` before the next step (a gait bout ends
    and the next starts, as at a hesitation, but the walker creeps on at ``walk_near_stop_speed_mps``).

    Never on a walk's first two steps, within 2.5 s of its end, within 1.5 s of a U-turn (its own
    speed dip), where one of the steps it slows is quick, or within 3 steps of another near-stop; the
    two steps before and after it are slowed as a bout's end and start are (``walk_transient_pct``).
    Returns the step times (n,), the pause after each step (n; 0 where none), the U-turns and the
    walk's end moved later by the pauses (and their slowed steps) before them.
    Drawn only when asked, so other sessions keep their random draws.
    """
    n = T.size
    want = rng.random(n) < p.walk_near_stop_share
    pause = rng.uniform(*NEAR_STOP_S, n)
    s0 = start_s + np.concatenate([[0.0], np.cumsum(T[:-1])])
    ok = want & (np.arange(n) >= 2) & (s0 + T < end_s - 2.5)
    for a, b in turns:  # a few turns
        ok &= (s0 + T < a - 1.5) | (s0 > b + 1.5)
    for off in (-1, 0, 1, 2):  # the steps it slows are never quick
        ok &= ~np.roll(np.pad(quick, 2), -off)[2:-2]
    gap = np.zeros(n)
    last = -10
    for k in np.flatnonzero(ok):  # a few near-stops: at least 3 steps apart
        if k - last > 3:
            gap[k], last = pause[k], int(k)
    x = p.walk_transient_pct / 100.0
    out = T.copy()
    for off, f in ((-1, 0.5), (0, 1.0), (1, 1.0), (2, 0.5)):  # gait termination and initiation
        idx = np.flatnonzero(gap > 0) + off
        idx = idx[(idx >= 0) & (idx < n)]
        out[idx] *= 1.0 + x * f
    added = gap + out - T  # the time each step and its pause add

    def before(t: float) -> float:  # the time added by the steps that end before t
        return float(added[s0 + T < t].sum())

    moved = [(a + before(a), b + before(a)) for a, b in turns]
    return out, gap, moved, end_s + before(end_s)


def _walking_step_modulation(p: RunnerParams, T: F64, start_s: float, first_side: float,
                             turns: list[tuple[float, float]], starts_bout: bool) -> F64:
    """Walking step times (n,) with left/right asymmetry, slower steps in U-turns and gait
    initiation from standing (the first step ``walk_transient_pct`` longer, the second half that).

    Turning steps are placed where the steps fall in time, found in two passes (the slower turn
    steps delay the later ones).
    """
    side = first_side * (-1.0) ** np.arange(T.size)
    out = T * (1.0 - side * p.walk_step_asymmetry_pct / 200.0)  # left (-1) steps longer for > 0
    if starts_bout and p.walk_transient_pct > 0:
        k = min(T.size, 2)
        out[:k] *= 1.0 + p.walk_transient_pct / 100.0 * np.array([1.0, 0.5])[:k]
    if turns and p.walk_turn_slow_pct > 0:
        base = out
        for _ in range(2):  # positions depend on the slowing itself: settle in two passes
            s = start_s + np.concatenate([[0.0], np.cumsum(out[:-1])])
            inside = np.zeros(T.size, dtype=bool)
            for a, b in turns:  # a few turns
                inside |= (s >= a) & (s < b)
            out = base * np.where(inside, 1.0 + p.walk_turn_slow_pct / 100.0, 1.0)
    return out


def speed_and_heading(p: RunnerParams, seg_log: list[dict[str, Any]], rng: np.random.Generator,
                       pace_fn: Transitions) -> tuple[Transitions, Transitions]:
    """Forward speed (m/s) and heading (rad) as sums of smooth transitions."""
    t0, d, dl = [], [], []
    level = 0.0
    for seg in seg_log:
        new = {"stand": 0.0, "walk": p.walk_speed_mps, "run": p.speed_mps}[seg["kind"]]
        if new != level:
            t0.append(seg["start_s"] - 1.0)
            d.append(2.0)
            dl.append(new - level)
            level = new
    for seg in seg_log:  # near-stops: slow to a creep before the pause, speed up after it
        for a, b in seg.get("near_stops", []):
            dip = p.walk_speed_mps - near_stop_creep_mps(p, b - a)
            t0 += [a - NEAR_STOP_EASE_S, b]
            d += [NEAR_STOP_EASE_S, NEAR_STOP_EASE_S]
            dl += [-dip, dip]
    t0 += list(pace_fn.t0)
    d += list(pace_fn.d)
    dl += list(p.speed_mps * pace_fn.delta)
    speed = Transitions(t0=np.array(t0), d=np.array(d), delta=np.array(dl))
    gait = [(s["start_s"], s["end_s"]) for s in seg_log if s["kind"] != "stand"]
    total = sum(b - a for a, b in gait)
    n_turns = int(rng.poisson(p.turns_per_10min * total / 600.0)) if total > 0 else 0
    ht0, hd, hdl = [], [], []
    for _ in range(n_turns):  # a few turns
        x = rng.uniform(0, total)
        for a, b in gait:
            if x < b - a:
                start = a + x
                break
            x -= b - a
        dur = rng.uniform(3.0, 8.0)
        ang = np.radians(rng.uniform(30.0, 180.0)) * rng.choice([-1.0, 1.0])
        ht0.append(start)
        hd.append(dur)
        hdl.append(ang)
    uturns = [t for seg in seg_log for t in seg.get("uturns", [])]
    heading = Transitions(t0=np.array(ht0 + [a for a, _ in uturns]), d=np.array(hd + [p.uturn_s] * len(uturns)),
                          delta=np.array(hdl + [np.pi * (-1.0) ** i for i in range(len(uturns))]))
    if uturns:  # slow down into the turn, speed up out of it: two smooth steps per turn
        dip = p.walk_speed_mps * (1.0 - p.uturn_speed_frac)
        half = p.uturn_s / 2.0
        speed = Transitions(t0=np.concatenate([speed.t0, [a - half / 2 for a, _ in uturns],
                                                [a + half for a, _ in uturns]]),
                            d=np.concatenate([speed.d, np.full(2 * len(uturns), half)]),
                            delta=np.concatenate([speed.delta, np.full(len(uturns), -dip),
                                                  np.full(len(uturns), dip)]))
    return speed, heading


def uturn_times(p: RunnerParams, start_s: float, end_s: float) -> list[tuple[float, float]]:
    """U-turn (start, end) times (s), evenly spaced inside a walking segment (walk–turn–walk):
    ``walk_uturns_per_min`` per minute of walking, at least 3 s of straight walking either side.
    """
    a, b = start_s + 3.0, end_s - 3.0 - p.uturn_s
    if p.walk_uturns_per_min <= 0 or b <= a:
        return []
    k = int(np.floor((end_s - start_s) / 60.0 * p.walk_uturns_per_min + 0.5))
    return [(float(t), float(t) + p.uturn_s) for t in np.linspace(a, b, k + 2)[1:-1]]


def pace_changes(p: RunnerParams, segs: list[tuple[str, float]], rng: np.random.Generator
                  ) -> Transitions:
    """Pace (speed factor - 1) changes at planned times inside the running segments."""
    starts = np.cumsum([0.0] + [d for _, d in segs[:-1]])
    runs = [(a, a + d) for a, (k, d) in zip(starts, segs, strict=True) if k == "run"]
    total = sum(b - a for a, b in runs)
    if p.speed_changes <= 0 or total <= 0:
        return Transitions(t0=np.zeros(0), d=np.zeros(0), delta=np.zeros(0))
    fr = np.sort(rng.uniform(0.15, 0.9, p.speed_changes)) * total
    times = []
    for x in fr:
        for a, b in runs:
            if x < b - a:
                times.append(a + x)
                break
            x -= b - a
    levels = rng.uniform(-p.speed_change_pct, p.speed_change_pct, len(times)) / 100.0
    delta = np.diff(np.concatenate([[0.0], levels]))
    return Transitions(t0=np.array(times), d=np.full(len(times), 10.0), delta=delta)
