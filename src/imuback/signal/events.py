"""Stage 5: every foot contact (IC, TO) and the foot of every step.

Contacts come from :mod:`imuback.signal.running` inside running bouts and from
:mod:`imuback.signal.walking` inside walking bouts; each detector also looks into the edge of the
other gait's neighbouring bouts, because the activity vote smears a change by up to 2 s. Once
the body frame is known, walking steps the vertical signal missed in gaps of the rhythm are bridged
(:func:`bridge_walking_gaps`) and walking ICs refined (:func:`refine_walking_ics`), then one kept
per stance and the chain joined again across it (:func:`one_contact_per_stance`).

Foot: the ground pushes the body toward the left (+y) during a right-foot contact (and toward the
right during a left one), so the mean mediolateral acceleration over a contact says the foot;
steps alternate, so one parity is chosen per unbroken chain of steps by summing the evidence over
the chain (a majority over many steps), never step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from imuback.errors import SignalError
from imuback.signal.activity import RUN, WALK, Bouts
from imuback.signal.dsp import block_mean, decimated_bounds, lowpass, step_to_50hz
from imuback.signal.params import EventParams
from imuback.signal.running import running_contacts
from imuback.signal.walking import bridged_steps, walking_contacts
from imuback.signal.walking_ic import braking_fall, forward_peak_ic, fuse_ic_cues, rhythm_placed_ic

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
LEFT, RIGHT, UNKNOWN = 0, 1, -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Steps:
    """Detected foot contacts, sorted by time.

    Attributes
    ----------
    ic_pos, to_pos : (S,) fractional sample positions of IC and TO (NaN where unknown).
    activity : (S,) RUN or WALK.
    chain : (S,) id of an unbroken run of steps; step k+1 follows step k only in the same chain.
    foot : (S,) LEFT, RIGHT or UNKNOWN.
    quality : (S,) 0..1 confidence in the events.
    """

    ic_pos: F64
    to_pos: F64
    activity: npt.NDArray[np.int8]
    chain: I64
    foot: npt.NDArray[np.int8]
    quality: F64

    @property
    def n(self) -> int:
        """Number of steps."""
        return int(self.ic_pos.size)

    def has_next(self) -> npt.NDArray[np.bool_]:
        """(S,) True where the next step follows this one in the same chain."""
        out = np.zeros(self.n, dtype=bool)
        out[:-1] = self.chain[1:] == self.chain[:-1]
        return out


def detect_steps(vertical_g: F64, *, fs_hz: float, bounds: I64, bouts: Bouts,
                 params: EventParams = EventParams()) -> Steps:
    """Find every foot contact in walking and running bouts (foot not yet assigned).

    Parameters
    ----------
    vertical_g : (N,) gravity-aligned vertical specific force of the sacrum (g), incl. gravity.
    """
    x = lowpass(vertical_g, params.lowpass_hz, fs_hz, bounds)
    dec = step_to_50hz(fs_hz)
    # the activity vote smears a run/walk change by up to half its window: each detector also
    # looks that far into the neighbouring bout of the other gait
    edge = round(params.bout_edge_s * fs_hz)
    run_bouts = bouts.extended(RUN, WALK, edge, bounds)
    ric = rto = rq = np.zeros(0)
    if run_bouts.label.size:  # without running bouts the running detector finds nothing
        # one peak per contact at < 4 Hz: find it on a decimated signal (~50 Hz), then back
        xs_d = lowpass(vertical_g[::dec], params.step_lowpass_hz, fs_hz / dec, decimated_bounds(bounds, dec))
        xm_d = None
        if params.run_to_lowpass_hz is not None:
            # the spring-mass TO's signal: block means (a boxcar against aliasing) at ~50 Hz, low-passed
            xm_d = lowpass(block_mean(vertical_g, dec), params.run_to_lowpass_hz, fs_hz / dec,
                           decimated_bounds(bounds, dec))
        ric, rto, rq = running_contacts(x, xs_d, dec, run_bouts, fs_hz, params, own=bouts, xm_d=xm_d)
    wic, wto, wq = walking_contacts(x, bouts.extended(WALK, RUN, edge, bounds), fs_hz, params, own=bouts)
    if wic.size:
        # a step needs the trunk upright: its mean vertical specific force over about a stride is
        # cos(tilt) g; sitting down, standing up, bending or lying make no steps
        mean_v = uniform_filter1d(vertical_g[::dec], max(1, round(params.posture_window_s * fs_hz / dec)),
                                  mode="nearest")
        upright = mean_v[np.clip(np.round(wic / dec).astype(np.int64), 0, max(mean_v.size - 1, 0))] >= params.upright_g
        wic, wto, wq = wic[upright], wto[upright], wq[upright]
    ic = np.concatenate([ric, wic])
    order = np.argsort(ic, kind="stable")
    ic = ic[order]
    to = np.concatenate([rto, wto])[order]
    act = np.concatenate([np.full(ric.size, RUN, np.int8), np.full(wic.size, WALK, np.int8)])[order]
    q = np.concatenate([rq, wq])[order]
    # one contact seen by both detectors (closer than the shortest step, same segment): the
    # running one wins if it has a flight on at least one side, else the walking one; of two of
    # a kind, the first
    seg = np.searchsorted(bounds, ic, side="right")
    close = (np.diff(ic) < params.min_step_s * fs_hz) & (seg[1:] == seg[:-1])
    run = (act == RUN) & (q >= 0.5)
    walk = act == WALK
    keep_second = (walk[:-1] & run[1:]) | ((act[:-1] == RUN) & ~run[:-1] & walk[1:])
    drop = np.zeros(ic.size, dtype=bool)
    drop[1:] |= close & ~keep_second
    drop[:-1] |= close & keep_second
    ic, to, act, q = ic[~drop], to[~drop], act[~drop], q[~drop]
    chain = _chains(ic, act, fs_hz, bounds, bouts, params)
    return Steps(ic_pos=ic, to_pos=to, activity=act, chain=chain,
                 foot=np.full(ic.size, UNKNOWN, np.int8), quality=q)


def _chains(ic: F64, act: npt.NDArray[np.int8], fs: float, bounds: I64, bouts: Bouts,
            p: EventParams) -> I64:
    """Chain id per step: a new chain at a bout or segment change, or an interval that is too
    long (a missed step or a stop) — alternation is only trusted inside a chain.
    """
    if ic.size == 0:
        return np.zeros(0, dtype=np.int64)
    icr = ic.astype(np.int64)
    seg = np.searchsorted(bounds, icr, side="right")
    bout = bouts.index_of(icr)
    dt = np.diff(ic) / fs
    med = _running_median(dt, 15) if dt.size else dt
    brk = (seg[1:] != seg[:-1]) | (bout[1:] != bout[:-1]) | (act[1:] != act[:-1])
    brk |= (dt > p.max_step_s) | (dt > 1.6 * med) | (dt < 0.6 * med)  # missed or extra step
    return np.concatenate([[0], np.cumsum(brk)]).astype(np.int64)


def _running_median(x: F64, k: int, *, mode: str = "nearest") -> F64:
    """Running median over ``k`` values; ``mode`` extends the ends (scipy.ndimage): "nearest" repeats
    the end value, "reflect" mirrors the last values (an odd value at the end does not take over).
    """
    from scipy.ndimage import median_filter

    return np.asarray(median_filter(x, size=min(k, max(1, x.size)), mode=mode), dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True)
class FootEvidence:
    """The inputs of the foot vote (:func:`assign_feet`), kept for the stages that vote again.

    Attributes
    ----------
    cue : (S,) evidence per step that it is a RIGHT contact (> 0), 0 where it says nothing.
    second : (S,) an independent second cue of the same sign convention, or None.
    lone : whether the session has no gyroscope (the cues are both from the lateral acceleration).
    bounds : segment boundaries (sample indices) the rhythm links may not cross, or None (one segment).
    """

    cue: F64
    second: F64 | None
    lone: bool
    bounds: I64 | None

    def __post_init__(self) -> None:
        cue = np.asarray(self.cue, dtype=np.float64)
        if cue.ndim != 1:
            raise SignalError(f"foot evidence: cue has shape {cue.shape}, expected one value per step (S,)")
        cue.setflags(write=False)
        object.__setattr__(self, "cue", cue)
        if self.second is not None:
            second = np.asarray(self.second, dtype=np.float64)
            if second.shape != cue.shape:
                raise SignalError(f"foot evidence: second cue has shape {second.shape}, the cue {cue.shape}: "
                                  "give both for the same steps")
            second.setflags(write=False)
            object.__setattr__(self, "second", second)


FOOT_LABELLED, FOOT_NO_EVIDENCE, FOOT_LONE_UNCLEAR, FOOT_CUES_OPPOSED, FOOT_STEP_CONTRADICTS = 0, 1, 2, 3, 4
FOOT_NOT_ALTERNATING = 5
"""Why a step's foot is what it is (:func:`foot_reasons`): labelled; no evidence in its chain; one
cue alone whose chain vote is not clear enough; the chain's two cues clearly opposed; the step's
own two cues both contradict its chain (in a run of ``EventParams.foot_contradiction_run`` such steps);
the chain's cues name one foot for all its steps as clearly as alternating feet
(``EventParams.foot_not_alternating``: steps of one foot a stride apart, the other foot's missed)."""
FOOT_REASONS = ("labelled", "no evidence", "lone cue unclear", "cues opposed", "step contradicts", "not alternating")


def assign_feet(steps: Steps, cue: F64, *, second: F64 | None = None, params: EventParams = EventParams(),
                lone: bool = False, bounds: I64 | None = None) -> Steps:
    """Give each step a foot: alternate inside each chain, with the parity that agrees best with
    the evidence — positive means RIGHT. Step quality is read later
    (quality.py).

    ``cue`` (S,) and the independent ``second`` (S,) (e.g. lateral acceleration and yaw rate; 0
    where it says nothing) are summed. Where both speak, they must agree: a chain whose two
    votes point clearly (each ``|vote| / sum |cue| >= params.foot_clear_vote``) to opposite
    parities is left UNKNOWN (a wrong forward axis or a cue that fails for this wearer turns one
    of them; guessing would swap the whole chain), and so is a step whose own two cues both
    contradict the chain's alternation when it lies in a run of at least
    ``params.foot_contradiction_run`` consecutive such steps of its chain. Where both cues flip
    the parity together for at least ``params.foot_split_min_steps`` steps either side, the chain
    is first split there (:func:`_split_parity_flips`; the split is used for the feet only,
    ``steps.chain`` is returned unchanged). With ``params.foot_last_step_by_chain`` the last step
    of each chain of ``steps.chain`` is exempt from the step rule (a walk's closing step turns
    both cues). With ``lone`` (a session without a gyroscope), a chain whose ``cue`` vote leans
    less clearly than ``params.foot_lone_clear_vote`` to one parity is left UNKNOWN — or, given
    ``second`` (the lateral acceleration over single support: the same axis, not an independent
    sensor), a chain where neither cue's vote leans as clearly as ``params.foot_lone_pair_vote``
    or the two lean to opposite parities; the step rule is not applied then (one step's jolt
    moves both) — unless its own vote leans to the parity of the walking chains it is linked to
    through the rhythm and their vote pooled with its own is clear (``params.foot_lone_link_steps``;
    never two cues that disagree; never across a segment boundary of ``bounds``: sample indices
    do not count the time of a dropout);
    without ``lone`` every chain with any evidence is labelled. :func:`foot_reasons` says why
    each step is left UNKNOWN.
    """
    foot, _ = _feet(steps, cue, second=second, p=params, lone=lone, bounds=bounds)
    return Steps(ic_pos=steps.ic_pos, to_pos=steps.to_pos, activity=steps.activity,
                 chain=steps.chain, foot=foot, quality=steps.quality)


def foot_reasons(steps: Steps, cue: F64, *, second: F64 | None = None, params: EventParams = EventParams(),
                 lone: bool = False, bounds: I64 | None = None) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """(S,) the foot each step's chain parity names (LEFT/RIGHT, UNKNOWN only without evidence) and
    (S,) why :func:`assign_feet` (same arguments) labels it or not (``FOOT_*``, ``FOOT_REASONS``):
    for diagnosis (``benchmarks/foot_anatomy.py``).
    """
    return _feet(steps, cue, second=second, p=params, lone=lone, bounds=bounds, parity=True)


def _feet(steps: Steps, cue: F64, *, second: F64 | None, p: EventParams, lone: bool, bounds: I64 | None,
          parity: bool = False) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """The feet (or with ``parity`` each chain's parity) and the reason code of every step."""
    n = steps.n
    why = np.zeros(n, dtype=np.int8)
    if n == 0:
        return steps.foot, why
    cue = np.nan_to_num(np.asarray(cue, dtype=np.float64))
    two = np.nan_to_num(np.asarray(second, dtype=np.float64)) if second is not None else np.zeros(n)
    total = cue + two
    chain = steps.chain
    last = np.append(chain[1:] != chain[:-1], True) if p.foot_last_step_by_chain else np.zeros(n, dtype=bool)
    if second is not None and p.foot_split_min_steps > 0:
        chain = _split_parity_flips(chain, cue, two, clear_vote=p.foot_clear_vote, min_steps=p.foot_split_min_steps)
    starts = np.flatnonzero(np.concatenate([[True], chain[1:] != chain[:-1]]))
    size = np.diff(np.append(starts, n))
    pos = np.arange(n) - np.repeat(starts, size)
    alt = np.where(pos % 2 == 0, 1.0, -1.0)  # +1: same foot as the chain's first step
    vote = np.add.reduceat(total * alt, starts)  # > 0: first step is RIGHT
    strength = np.add.reduceat(np.abs(total), starts)
    first_right = np.repeat(vote > 0, size)
    is_right = np.where(alt > 0, first_right, ~first_right)
    foot = np.where(is_right, RIGHT, LEFT).astype(np.int8)
    no_evidence = np.repeat(strength, size) == 0
    why[no_evidence] = FOOT_NO_EVIDENCE
    if lone:
        disagree = np.zeros(starts.size, dtype=bool)
        if second is None:
            unclear = np.abs(vote) < p.foot_lone_clear_vote * strength
        else:  # two accelerometer cues: one's vote clear and the other's leaning the same way
            v1, v2 = np.add.reduceat(cue * alt, starts), np.add.reduceat(two * alt, starts)
            disagree = v1 * v2 <= 0
            unclear = np.abs(v1) < p.foot_lone_pair_vote * np.add.reduceat(np.abs(cue), starts)
            unclear &= np.abs(v2) < p.foot_lone_pair_vote * np.add.reduceat(np.abs(two), starts)
            unclear |= disagree
        if unclear.any() and p.foot_lone_link_steps[0] > 0:
            # pooled with the chains linked to it through the rhythm (pooling cannot be clearer
            # than its clearest chain: a clear neighbour is needed), its own vote the same way
            group, flip = _rhythm_links(steps, starts, size, p.foot_lone_link_steps, bounds)
            g_vote = np.bincount(group, vote * flip)
            g_strength = np.bincount(group, strength)
            linked = np.abs(g_vote[group]) >= p.foot_lone_clear_vote * g_strength[group]
            linked &= vote * flip * g_vote[group] > 0
            unclear &= ~(linked & ~disagree)  # never two cues that disagree
        why[np.repeat(unclear, size) & (why == FOOT_LABELLED)] = FOOT_LONE_UNCLEAR
    both = (two != 0) & (cue != 0)
    if both.any():
        v1 = np.add.reduceat(np.where(both, cue, 0.0) * alt, starts)
        v2 = np.add.reduceat(np.where(both, two, 0.0) * alt, starts)
        c1 = np.abs(v1) / np.maximum(np.add.reduceat(np.abs(np.where(both, cue, 0.0)), starts), 1e-12)
        c2 = np.abs(v2) / np.maximum(np.add.reduceat(np.abs(np.where(both, two, 0.0)), starts), 1e-12)
        opposed = np.repeat((v1 * v2 < 0) & (c1 >= p.foot_clear_vote) & (c2 >= p.foot_clear_vote), size)
        why[opposed & (why == FOOT_LABELLED)] = FOOT_CUES_OPPOSED
        side = np.where(is_right, 1.0, -1.0)
        # lone: the two cues are the same lateral acceleration over overlapping times, so one
        # step's jolt moves both; a step's own pair is no second opinion there
        contra = both & (cue * side < 0) & (two * side < 0) & (not lone)
        run = _run_length(contra, chain)
        why[contra & (run >= p.foot_contradiction_run) & ~last & (why == FOOT_LABELLED)] = FOOT_STEP_CONTRADICTS
    if both.any() and p.foot_not_alternating > 0 and not lone:  # with a gyroscope only
        # alternation is the chain's premise: where the summed cues (steps where both speak: walking)
        # name one foot for every step (each a stride after the last, the other foot's steps
        # missed) as clearly as alternating feet, a parity would label every other step wrong
        sb = np.where(both, total, 0.0)
        same = np.abs(np.add.reduceat(sb, starts))
        alt_vote = np.abs(np.add.reduceat(sb * alt, starts))
        stuck = (size >= 2) & (same > 0) & (same >= p.foot_not_alternating * alt_vote)
        why[np.repeat(stuck, size) & (why == FOOT_LABELLED)] = FOOT_NOT_ALTERNATING
    if parity:
        foot[no_evidence] = UNKNOWN
    else:
        foot[why != FOOT_LABELLED] = UNKNOWN
    return foot, why


def _rhythm_links(steps: Steps, starts: I64, size: I64, link_steps: tuple[float, float],
                  bounds: I64 | None) -> tuple[I64, F64]:
    """(C,) a group id per chain (``starts``, ``size``) linking consecutive walking chains whose
    gap (last IC to next first IC) is a whole number k >= 1 of typical steps (within ``tol``, at
    most ``max`` steps; ``link_steps`` = (tol, max)), and (C,) +1/-1: whether the chain's first
    step has the parity of its group's first step (steps alternate across the gap: a chain starts
    ``size - 1 + k`` steps after the previous one's start). Never across a segment boundary of
    ``bounds`` (None: one segment).
    """
    tol, most = link_steps
    n_chains = starts.size
    ends = starts + size - 1
    ic = steps.ic_pos
    walk = steps.activity == WALK
    inside = walk[:-1] & walk[1:] & (steps.chain[1:] == steps.chain[:-1])
    if not inside.any() or n_chains < 2:  # no step time to measure, or nothing to link
        return np.arange(n_chains, dtype=np.int64), np.ones(n_chains)
    typical = float(np.median(np.diff(ic)[inside]))
    if not typical > 0:
        return np.arange(n_chains, dtype=np.int64), np.ones(n_chains)
    gap = (ic[starts[1:]] - ic[ends[:-1]]) / typical
    k = np.round(gap)
    link = (k >= 1) & (np.abs(gap - k) <= tol) & (gap <= most) & walk[starts[1:]] & walk[ends[:-1]]
    if bounds is not None:
        seg = np.searchsorted(bounds, ic, side="right")
        link &= seg[starts[1:]] == seg[ends[:-1]]
    group = np.concatenate([[0], np.cumsum(~link)]).astype(np.int64)
    step_in = np.concatenate([[0.0], np.where(link, size[:-1] - 1 + k, 0.0)])
    total = np.cumsum(step_in)
    offset = total - total[np.searchsorted(group, group)]  # steps from the group's first step
    return group, np.where(offset % 2 == 0, 1.0, -1.0)


def _run_length(flag: npt.NDArray[np.bool_], chain: I64) -> I64:
    """(S,) the length of the run of consecutive True ``flag`` steps of one chain that each step is
    in (0 where ``flag`` is False).
    """
    n = flag.size
    brk = np.concatenate([[True], (flag[1:] != flag[:-1]) | (chain[1:] != chain[:-1])])
    starts = np.flatnonzero(brk)
    size = np.diff(np.append(starts, n))
    return np.where(flag, np.repeat(size, size), 0).astype(np.int64)


def _split_parity_flips(chain: I64, cue: F64, two: F64, *, clear_vote: float, min_steps: int,
                        passes: int = 2) -> I64:
    """Chain ids with each chain split where both foot cues flip its step parity together.

    A split before step k of a chain is valid when the steps before it and those from it on are
    each at least ``min_steps`` long and in each part both cues' votes (over the steps where both
    speak, signed by the alternation) lean clearly (``|vote| / sum |cue| >= clear_vote``) to one
    parity, the same for the two cues, and opposite between the parts. Per chain the valid split
    with the largest weaker side is taken; ``passes`` rounds allow a second flip.
    """
    n = chain.size
    both = (cue != 0) & (two != 0)
    if not both.any():  # e.g. running: no yaw cue
        return chain
    c1, c2 = np.where(both, cue, 0.0), np.where(both, two, 0.0)
    for _ in range(passes):  # passes: 2
        new = np.concatenate([[True], chain[1:] != chain[:-1]])
        starts = np.flatnonzero(new)
        size = np.diff(np.append(starts, n))
        pos = np.arange(n) - np.repeat(starts, size)
        alt = np.where(pos % 2 == 0, 1.0, -1.0)

        def split_sums(x: F64, starts: I64 = starts, size: I64 = size) -> tuple[F64, F64]:
            cs = np.cumsum(x)
            before = np.repeat(cs[starts] - x[starts], size)  # the sum before each chain
            left = cs - x - before  # the chain's steps before step k
            return left, np.repeat(np.add.reduceat(x, starts), size) - left

        l1, r1 = split_sums(c1 * alt)
        l2, r2 = split_sums(c2 * alt)
        m1l, m1r = split_sums(np.abs(c1))
        m2l, m2r = split_sums(np.abs(c2))
        ok = (pos >= min_steps) & (np.repeat(size, size) - pos >= min_steps)
        ok &= (l1 * l2 > 0) & (r1 * r2 > 0) & (l1 * r1 < 0)
        ok &= (np.abs(l1) >= clear_vote * m1l) & (np.abs(r1) >= clear_vote * m1r)
        ok &= (np.abs(l2) >= clear_vote * m2l) & (np.abs(r2) >= clear_vote * m2r)
        if not ok.any():
            break
        score = np.where(ok, np.minimum(np.abs(l1) + np.abs(l2), np.abs(r1) + np.abs(r2)), -1.0)
        best = np.flatnonzero(ok & (score == np.repeat(np.maximum.reduceat(score, starts), size)))
        _, first = np.unique(np.searchsorted(starts, best, side="right"), return_index=True)
        new[best[first]] = True
        chain = np.cumsum(new).astype(np.int64) - 1
    return chain


def refine_walking_ics(steps: Steps, ap_mps2: F64, *, fs_hz: float, bounds: I64,
                       params: EventParams = EventParams()) -> Steps:
    """Move each walking IC to the forward-acceleration peak before heel-strike braking
    (:func:`~imuback.signal.walking_ic.forward_peak_ic`), averaged with the vertical-signal IC where
    the two agree (:func:`~imuback.signal.walking_ic.fuse_ic_cues`), once the body frame is known;
    then ``walk_ic_delay_s`` later (the heel strikes just after that peak). A step that keeps its
    vertical IC (too few steps with both cues to read their offset) is moved by the delay too.

    ``ap_mps2`` (N,) is the body-frame forward specific force (m/s²). A move that would pass a
    neighbouring step or the step's own toe-off is not made.
    """
    walk = np.flatnonzero(steps.activity == WALK)
    if walk.size == 0:
        return steps
    ic = steps.ic_pos.copy()
    new = forward_peak_ic(ap_mps2, ic[walk], fs_hz, bounds, params)
    new = fuse_ic_cues(new, ic[walk], steps.chain[walk], fs_hz, params)
    new = rhythm_placed_ic(new, ic[walk], steps.chain[walk], ap_mps2, fs_hz, bounds, params)
    new += params.walk_ic_delay_s * fs_hz
    prev = np.where(walk > 0, ic[np.maximum(walk - 1, 0)], -np.inf)
    nxt = np.where(walk < ic.size - 1, ic[np.minimum(walk + 1, ic.size - 1)], np.inf)
    to = steps.to_pos[walk]
    ok = (new > prev) & (new < nxt) & ~(np.isfinite(to) & (new >= to))
    ic[walk[ok]] = new[ok]
    return Steps(ic_pos=ic, to_pos=steps.to_pos, activity=steps.activity, chain=steps.chain,
                 foot=steps.foot, quality=steps.quality)


def _same_walk(icr: I64, act: npt.NDArray[np.int8], bounds: I64, bouts: Bouts) -> npt.NDArray[np.bool_]:
    """(S - 1,) whether steps i and i + 1 are consecutive walking steps of one segment and bout."""
    seg = np.searchsorted(bounds, icr, side="right")
    bout = bouts.index_of(icr)
    walk = act == WALK
    return np.asarray((seg[1:] == seg[:-1]) & (bout[1:] == bout[:-1]) & walk[:-1] & walk[1:], dtype=np.bool_)


def one_contact_per_stance(steps: Steps, *, fs_hz: float, bounds: I64, bouts: Bouts, foot_evidence: FootEvidence,
                           params: EventParams = EventParams()) -> Steps:
    """Drop the extra detections of a walking stance: a foot strikes the ground once per contact.

    Two consecutive walking ICs of one segment and bout closer than ``walk_min_step_s`` that also
    break the local rhythm (closer than 0.6 × the running median of the walking step times of at
    least ``walk_min_step_s``, so that frequent extras do not shorten it; the same 0.6 × median
    threshold as :func:`_chains`) cannot both be heel strikes (the other foot cannot swing through in that
    time); on real walking such pairs are a forward peak or a weaker vertical maximum taken inside
    the stance of a step already found (docs/validation_log.md, "Walking detections no reference
    holds"). A steady rhythm faster than ``walk_min_step_s`` is kept whole. Linked close pairs form
    one cluster (three or four detections inside one stance), and one step per cluster is kept:
    the one nearest the middle of the walking steps either side where both lie within
    ``max_step_s`` of the cluster (the rhythm chooses); else the earliest (the heel strike begins
    the stance). A cluster's span is not limited: a chain of close detections across a missed step
    keeps one step only. The extra detection has in general broken the chain: it is joined again
    across the drop where the rhythm and the feet allow it (:func:`_rejoin`).

    Parameters
    ----------
    steps : the steps after the foot vote, (S,) each.
    foot_evidence : the foot vote's inputs for these S steps (what :func:`assign_feet` was given;
        the cues are not read again).

    Raises
    ------
    SignalError
        ``foot_evidence`` holds another number of steps than ``steps``.
    """
    if foot_evidence.cue.size != steps.n:
        raise SignalError(f"foot evidence for {foot_evidence.cue.size} steps given with {steps.n} steps: build it "
                          "from the steps the feet were voted on, before any step is added or dropped")
    walk = steps.activity == WALK
    if params.walk_min_step_s <= 0 or np.count_nonzero(walk) < 2:
        return steps
    ic = steps.ic_pos
    dt = np.diff(ic)
    same = _same_walk(ic.astype(np.int64), steps.activity, bounds, bouts)
    k = np.flatnonzero(same)
    shortest = params.walk_min_step_s * fs_hz
    # the rhythm from the step times no extra detection shortened; NaN (keep all) where none is
    lk = k[dt[k] >= shortest]
    med = np.full(dt.size, np.nan)
    if lk.size:
        med[k] = _running_median(dt[lk], 15, mode="reflect")[np.minimum(np.searchsorted(lk, k), lk.size - 1)]
    close = same & (dt < shortest) & (dt < 0.6 * med)  # pairs (i, i + 1)
    if not close.any():
        return steps
    # clusters: runs of linked close pairs; steps first..last of each
    edge = np.diff(np.concatenate([[0], close.astype(np.int8), [0]]))
    first, last = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    # the walking steps either side, each within max_step_s and in the cluster's segment and bout
    p, n = np.maximum(first - 1, 0), np.minimum(last + 1, ic.size - 1)
    reach = params.max_step_s * fs_hz
    has_p = (first > 0) & same[p] & (ic[first] - ic[p] <= reach)
    has_n = (last < ic.size - 1) & same[np.minimum(last, dt.size - 1)] & (ic[n] - ic[last] <= reach)
    size = last - first + 1
    member = np.repeat(first, size) + (np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size))
    cid = np.repeat(np.arange(first.size), size)
    mid = 0.5 * (ic[p] + ic[n])
    score = np.where((has_p & has_n)[cid], np.abs(ic[member] - mid[cid]), ic[member] - ic[first][cid])
    order = np.lexsort((member, score, cid))  # per cluster: the best score, then the earliest
    winner = member[order[np.r_[True, cid[order][1:] != cid[order][:-1]]]]
    keep = np.ones(ic.size, dtype=bool)
    keep[member] = False
    keep[winner] = True
    kept = Steps(ic_pos=ic[keep], to_pos=steps.to_pos[keep], activity=steps.activity[keep],
                 chain=steps.chain[keep], foot=steps.foot[keep], quality=steps.quality[keep])
    return _rejoin(kept, np.flatnonzero(keep), fs_hz=fs_hz, bounds=bounds, bouts=bouts, params=params,
                   foot_evidence=foot_evidence)


def _rejoin(kept: Steps, kept_idx: I64, *, fs_hz: float, bounds: I64, bouts: Bouts, params: EventParams,
            foot_evidence: FootEvidence) -> Steps:
    """Join the chains of ``kept`` again across a dropped detection, where the rhythm and the feet allow it.

    ``kept`` are the steps at indices ``kept_idx`` of the steps before the drop (``foot_evidence`` is
    theirs). Two consecutive kept steps with a dropped detection between them, in different chains
    that :func:`_chains` over the kept steps puts in one (the interval fits the rhythm), have their
    chains joined (so the step time across the drop is reported) only where each piece (chain
    voted alone by :func:`assign_feet`'s rules, :func:`_feet`) is either labelled by its own cues or
    has no evidence, and the two labelled pieces' parities alternate across the join (the same
    foot either side says a step lies between them: voisard_l5_walk 8-2). A piece whose own cues
    left it UNKNOWN otherwise (cues opposed, a lone cue unclear, ...) is not joined: a joined vote
    could label it against its own cues, or null its labelled neighbour.
    Every step keeps its foot, except the UNKNOWN steps of a piece without evidence: they take the
    joined chain's vote (the alternation of the labelled pieces they continue), if the labelled
    feet of the joined chain alternate along all of it and the vote names each as it was (else
    they stay UNKNOWN: which of two disagreeing neighbours a piece without evidence follows would
    be a guess).
    """
    if kept.n < 2:
        return kept
    old = kept.chain[1:] != kept.chain[:-1]
    # across a drop, and in the rhythm by the chain rule itself (bout, segment, 0.6-1.6 x median)
    join = old & (np.diff(kept_idx) > 1)
    join &= np.diff(_chains(kept.ic_pos, kept.activity, fs_hz, bounds, bouts, params)) == 0
    if not join.any():
        return kept
    cue = foot_evidence.cue[kept_idx]
    second = None if foot_evidence.second is None else foot_evidence.second[kept_idx]
    parity, why = _feet(kept, cue, second=second, p=params, lone=foot_evidence.lone, bounds=foot_evidence.bounds,
                        parity=True)
    own = (why == FOOT_LABELLED) | (why == FOOT_NO_EVIDENCE)
    join &= own[1:] & own[:-1] & ((parity[1:] != parity[:-1]) | (parity[1:] == UNKNOWN))
    if not join.any():
        return kept
    chain = np.concatenate([[0], np.cumsum(old & ~join)]).astype(np.int64)
    out = Steps(ic_pos=kept.ic_pos, to_pos=kept.to_pos, activity=kept.activity, chain=chain,
                foot=kept.foot, quality=kept.quality)
    voted, _ = _feet(out, cue, second=second, p=params, lone=foot_evidence.lone, bounds=foot_evidence.bounds)
    # the labelled feet of a joined chain must alternate along all of it (two labelled pieces
    # joined through a piece without evidence may not), and the vote must name each as it was
    labelled, n_chains = kept.foot != UNKNOWN, int(chain[-1]) + 1
    pos = np.arange(kept.n) - np.searchsorted(chain, chain)  # step number in its joined chain
    first_right = labelled & ((kept.foot == RIGHT) == (pos % 2 == 0))
    n_first_right = np.bincount(chain, first_right, minlength=n_chains)
    consistent = (n_first_right == 0) | (n_first_right == np.bincount(chain, labelled, minlength=n_chains))
    clash = labelled & (voted != kept.foot)
    agrees = consistent & (np.bincount(chain, clash, minlength=n_chains) == 0)
    fill = agrees[chain] & (why == FOOT_NO_EVIDENCE)  # a chain not joined has no new evidence: no change
    return Steps(ic_pos=kept.ic_pos, to_pos=kept.to_pos, activity=kept.activity, chain=chain,
                 foot=np.where(fill, voted, kept.foot).astype(np.int8), quality=kept.quality)


def bridge_walking_gaps(steps: Steps, vertical_g: F64, ap_mps2: F64, *, fs_hz: float, bounds: I64,
                        bouts: Bouts, params: EventParams = EventParams()) -> Steps:
    """Add the walking steps that the vertical signal alone missed inside gaps of the rhythm
    (:func:`~imuback.signal.walking.bridged_steps`), once the body frame is known.

    A gap lies between two walking steps of one segment and one bout, ``walk_bridge_gap_steps``
    typical steps (running median of the step times) long. Added steps have no foot yet (feet are
    assigned after) and chains are recomputed.
    """
    walk = steps.activity == WALK
    if np.count_nonzero(walk) < 4:
        return steps
    ic = steps.ic_pos
    icr = ic.astype(np.int64)
    dt = np.diff(ic)
    k = np.flatnonzero(walk[:-1] & walk[1:])
    med = np.full(dt.size, np.nan)
    med[k] = _running_median(dt[k], 15)
    same = _same_walk(icr, steps.activity, bounds, bouts)
    lo, hi = params.walk_bridge_gap_steps
    g = np.flatnonzero(same & (dt >= lo * med) & (dt <= hi * med))
    if g.size == 0:
        return steps
    w = ic[walk]
    w = w[:: max(1, w.size // 256)]  # the median braking over up to ~256 steps across the session
    level = float(np.median(braking_fall(ap_mps2, w, fs_hz, bounds, params)))
    new = bridged_steps(vertical_g, ap_mps2, np.stack([ic[g], ic[g + 1]], axis=1), med[g], level, fs_hz,
                        bounds, params)
    if new.size == 0:
        return steps
    ic2 = np.concatenate([ic, new])
    order = np.argsort(ic2, kind="stable")
    ic2 = ic2[order]
    act = np.concatenate([steps.activity, np.full(new.size, WALK, np.int8)])[order]
    return Steps(ic_pos=ic2, to_pos=np.concatenate([steps.to_pos, np.full(new.size, np.nan)])[order],
                 activity=act, chain=_chains(ic2, act, fs_hz, bounds, bouts, params),
                 foot=np.concatenate([steps.foot, np.full(new.size, UNKNOWN, np.int8)])[order],
                 quality=np.concatenate([steps.quality, np.full(new.size, 0.8)])[order])
