"""Event rules on hand-built vertical specific force (g), without the filters in front of them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from imuback.errors import SignalError
from imuback.signal.activity import RUN, WALK, Bouts
from imuback.signal.dsp import block_mean, decimated_bounds, lowpass, step_to_50hz
from imuback.signal.events import (
    FOOT_CUES_OPPOSED,
    FOOT_LONE_UNCLEAR,
    FOOT_NOT_ALTERNATING,
    FOOT_STEP_CONTRADICTS,
    LEFT,
    RIGHT,
    UNKNOWN,
    FootEvidence,
    Steps,
    _chains,
    assign_feet,
    bridge_walking_gaps,
    detect_steps,
    foot_reasons,
    one_contact_per_stance,
)
from imuback.signal.params import EventParams
from imuback.signal.running import running_contacts
from tests.signal.analytic import turn_walk

E = EventParams()
LINKED = replace(E, foot_lone_link_steps=(0.15, 4.0))


def test_ic_is_the_onset_of_a_first_transient_not_of_a_steeper_active_rise():
    """Contact = a slow transient (0 -> 0.9 g in 20 ms), a dip to 0.6 g, then an active rise
    steeper than the transient (0.6 -> 2.5 g in 30 ms). The force onset is the transient's."""
    fs, step_s, contact_s = 1000.0, 0.36, 0.24
    ph = np.arange(int(40 * step_s * fs)) / fs % step_s
    knots_t = [0.0, 0.020, 0.030, 0.060, 0.150, contact_s, step_s]
    knots_g = [0.0, 0.900, 0.600, 2.500, 2.500, 0.000, 0.000]
    x = np.interp(ph, knots_t, knots_g)
    bounds = np.array([0, x.size])
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([RUN], np.int8))
    ic, to, _ = running_contacts(x, lowpass(x, 4.0, fs, bounds), 1, bouts, fs, EventParams())
    assert ic.size >= 35
    ic_ms = 1e3 * ((ic / fs + 0.5 * step_s) % step_s - 0.5 * step_s)  # offset from each contact start
    # the transient crosses 0.066 g 1.5 ms after the start; the active rise's tangent would give ~21 ms
    assert np.all(np.abs(ic_ms - 1.5) <= 2.0), ic_ms
    to_ms = 1e3 * (to / fs % step_s)
    assert np.all(np.abs(to_ms - 1e3 * (contact_s - 0.066 / 2.5 * 0.090)) <= 2.0), to_ms


def test_bouts_grow_into_the_other_gait_but_never_across_a_gap():
    # walk [0, 1000) | run [1000, 3000) | walk [3000, 3300) | gap | run [3300, 5000) | walk [5000, 6000)
    bouts = Bouts(start_idx=np.array([0, 1000, 3000, 3300, 5000]), end_idx=np.array([1000, 3000, 3300, 5000, 6000]),
                  label=np.array([WALK, RUN, WALK, RUN, WALK], np.int8))
    bounds = np.array([0, 3300, 6000])
    run = bouts.extended(RUN, WALK, 400, bounds)
    # at most half of the short walk; nothing across the gap at 3300
    assert run.start_idx.tolist() == [600, 3300] and run.end_idx.tolist() == [3150, 5400]
    walk = bouts.extended(WALK, RUN, 400, bounds)
    assert walk.start_idx.tolist() == [0, 2600, 4600] and walk.end_idx.tolist() == [1400, 3300, 6000]


def test_a_slow_bump_in_flight_is_not_the_contact_onset():
    """Flight, a slow bump to 0.45 g (swing or tissue, 15 g/s), then the contact's steep rise
    (~100 g/s): IC is the steep rise's onset, not the bump's."""
    fs, step_s = 1000.0, 0.36
    ph = np.arange(int(40 * step_s * fs)) / fs % step_s
    knots_t = [0.0, 0.240, 0.300, 0.330, step_s]  # contact from phase 0; bump 60-30 ms before the next
    knots_g = [0.45, 0.000, 0.000, 0.450, 0.450]
    x = np.interp(ph, knots_t, knots_g)
    rise = (ph < 0.020) * (2.05 * ph / 0.020)
    peak = (ph >= 0.020) & (ph < 0.240)
    x = x + rise + peak * np.interp(ph, [0.020, 0.130, 0.240], [2.05, 2.05, -0.45])
    bounds = np.array([0, x.size])
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([RUN], np.int8))
    ic, _, _ = running_contacts(x, lowpass(x, 4.0, fs, bounds), 1, bouts, fs, EventParams())
    assert ic.size >= 35
    ic_ms = 1e3 * ((ic / fs + 0.5 * step_s) % step_s - 0.5 * step_s)
    want = -1e3 * (0.45 - 0.066) / (2.05 / 0.020)  # the steep rise's tangent reaches 0.066 g here
    assert np.all(np.abs(ic_ms - want) <= 2.0), ic_ms


def test_abrupt_run_to_walk_keeps_the_last_running_contact():
    """Running (half-sine contacts, 100 Hz) stops 10 ms after the last toe-off and walking
    follows, with exact bouts: the last contact stays a running one, with its flight-based edges."""
    fs, cut = 100.0, 585
    ph_run = np.arange(cut) / fs % 0.35
    run = np.where(ph_run < 0.24, 2.5 * np.sin(np.pi * ph_run / 0.24), 0.0)
    ph_walk = np.arange(1200 - cut) / fs % 0.55
    walk = 1 + 0.3 * np.cos(2 * np.pi * ph_walk / 0.55) + 0.25 * np.exp(-0.5 * ((ph_walk - 0.275) / 0.03) ** 2)
    x = np.concatenate([run, walk])
    bouts = Bouts(start_idx=np.array([0, cut]), end_idx=np.array([cut, x.size]), label=np.array([RUN, WALK], np.int8))
    s = detect_steps(x, fs_hz=fs, bounds=np.array([0, x.size]), bouts=bouts)
    last = np.flatnonzero(s.activity == RUN)[-1]
    assert abs(s.ic_pos[last] - 560.3) < 1.0
    assert s.quality[last] == 1.0 and abs(s.to_pos[last] - 583.5) < 1.0
    assert (s.activity[s.ic_pos > cut] == WALK).all()


@pytest.mark.parametrize("ending", ["rising", "plateau"])
def test_abrupt_walk_to_run_keeps_the_first_running_contact(ending):
    """Walking (100 Hz) runs straight into running: the first contact rises from the walking
    level (no flight before it) and pushes off into the first flight. It is a running contact
    at its own onset, not dropped as if the bout start had cut it, and not placed on the walk
    (with a plateau above 1 g before it, its first sample above 1 g lies on the walk)."""
    fs, cut = 100.0, 660  # 12 whole walking cycles of 0.55 s: the walk ends at 1.3 g, rising into the run
    ph_walk = np.arange(cut) / fs % 0.55
    walk = 1 + 0.3 * np.cos(2 * np.pi * ph_walk / 0.55) + 0.25 * np.exp(-0.5 * ((ph_walk - 0.275) / 0.03) ** 2)
    if ending == "plateau":  # down to 0.7 g, up to 1.15 g 0.25 s before the run, flat until it
        walk[-60:-45] = np.linspace(walk[-60], 0.7, 15)
        walk[-45:-25] = np.linspace(0.7, 1.15, 20)
        walk[-25:] = 1.15
    ph_run = np.arange(1300 - cut) / fs % 0.35
    run = np.where(ph_run < 0.24, 2.5 * np.sin(np.pi * ph_run / 0.24), 0.0)
    first = np.arange(run.size) < 24
    run[first] += walk[-1] * (1 - ph_run[first] / 0.24)  # from the walking level down to the first flight
    x = np.concatenate([walk, run])
    # the activity vote smears the change: the running bout starts 0.4 s early, on the walk
    change = cut - 40
    bouts = Bouts(start_idx=np.array([0, change]), end_idx=np.array([change, x.size]),
                  label=np.array([WALK, RUN], np.int8))
    s = detect_steps(x, fs_hz=fs, bounds=np.array([0, x.size]), bouts=bouts)
    runs = np.flatnonzero(s.activity == RUN)
    assert abs(s.ic_pos[runs[0]] - cut) <= 3.0, s.ic_pos[runs[0]]
    assert s.quality[runs[0]] == 0.5 and abs(s.to_pos[runs[0]] - (cut + 24)) < 3.0
    assert np.sum(np.abs(s.ic_pos - cut) < 20) == 1  # the walking detector's view of it is gone


def _walk_chain(n: int) -> Steps:
    return Steps(ic_pos=np.arange(n) * 55.0, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
                 chain=np.zeros(n, np.int64), foot=np.full(n, UNKNOWN, np.int8), quality=np.full(n, 0.8))


def test_feet_are_left_unknown_when_the_two_cues_clearly_disagree():
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)  # first step RIGHT by the lateral cue
    s = assign_feet(_walk_chain(20), alt, second=-alt)  # the yaw cue says the opposite, as clearly
    assert (s.foot == UNKNOWN).all()
    parity, why = foot_reasons(_walk_chain(20), alt, second=-0.8 * alt)
    assert (why == FOOT_CUES_OPPOSED).all() and (parity != UNKNOWN).all()  # the parity a guess would take
    s = assign_feet(_walk_chain(20), alt, second=0.5 * alt)  # agreeing cues
    assert (s.foot[::2] == RIGHT).all() and (s.foot[1::2] == LEFT).all()


def test_one_cue_alone_labels_a_chain_only_where_its_vote_is_clear():
    # no gyroscope: the lateral cue alone; 16 of 20 steps alternate one way, 4 the other
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    mixed = alt.copy()
    mixed[[3, 8, 13, 18]] *= -1.0  # vote 12 / 20 = 0.6 of its weight
    s = assign_feet(_walk_chain(20), mixed, params=replace(E, foot_lone_clear_vote=0.5), lone=True)
    assert (s.foot[::2] == RIGHT).all() and (s.foot[1::2] == LEFT).all()
    assert (assign_feet(_walk_chain(20), mixed, lone=True).foot == UNKNOWN).all()
    assert (foot_reasons(_walk_chain(20), mixed, lone=True)[1] == FOOT_LONE_UNCLEAR).all()
    assert (assign_feet(_walk_chain(20), alt, lone=True).foot != UNKNOWN).all()


def test_a_second_accelerometer_cue_labels_a_chain_the_whole_step_cue_leaves_unclear():
    # no gyroscope: the whole-step lateral cue is large and mixed (12 of 20 steps one way, vote
    # 0.2), the single-support cue small and clear; they lean the same way
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)  # first step RIGHT
    whole = 3.0 * alt
    whole[[1, 4, 6, 9, 11, 14, 16, 19]] *= -1.0
    stance = 1.0 * alt
    assert (assign_feet(_walk_chain(20), whole, lone=True).foot == UNKNOWN).all()  # one cue alone
    s = assign_feet(_walk_chain(20), whole, second=stance, lone=True)
    assert (s.foot[::2] == RIGHT).all() and (s.foot[1::2] == LEFT).all()
    # the pair: one vote clear and the other leaning the same way; before it, the summed vote
    # (0.5 of its weight) was held to the single cue's bar
    assert (assign_feet(_walk_chain(20), whole, second=stance, lone=True,
                        params=replace(E, foot_lone_pair_vote=1.01)).foot == UNKNOWN).all()


def test_two_accelerometer_cues_that_disagree_leave_the_chain_unknown():
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    stance = 1.0 * alt  # clear: first step RIGHT
    weak_other = -alt
    weak_other[[1, 4, 6, 9, 11, 14, 16, 19]] *= -1.0  # leans (vote 0.2) to the other parity
    for whole in (-2.0 * alt, 2.0 * weak_other):  # clearly or weakly against it
        s = assign_feet(_walk_chain(20), whole, second=stance, lone=True)
        assert (s.foot == UNKNOWN).all()
        assert (foot_reasons(_walk_chain(20), whole, second=stance, lone=True)[1] == FOOT_LONE_UNCLEAR).all()
    # a step whose two lateral cues both contradict a clear chain keeps the chain's foot: the two
    # cues read the same axis over overlapping times (with a gyroscope it is left unknown)
    both = alt.copy()
    both[7] *= -1.0
    s = assign_feet(_walk_chain(20), both, second=both, lone=True)
    assert s.foot[7] == LEFT and (s.foot != UNKNOWN).all()
    assert assign_feet(_walk_chain(20), both, second=both).foot[7] == UNKNOWN


def _two_chains(gap_steps: float) -> Steps:
    """A clear chain of 20 walking steps, then a gap of ``gap_steps`` typical steps, then 8 more."""
    ic = np.concatenate([np.arange(20) * 55.0, 19 * 55.0 + gap_steps * 55.0 + np.arange(8) * 55.0])
    return Steps(ic_pos=ic, to_pos=np.full(28, np.nan), activity=np.full(28, WALK, np.int8),
                 chain=np.repeat([0, 1], [20, 8]).astype(np.int64), foot=np.full(28, UNKNOWN, np.int8),
                 quality=np.full(28, 0.8))


def test_an_unclear_lone_cue_chain_takes_the_parity_of_a_chain_linked_through_the_rhythm():
    # one missed step between the chains: the gap is 2 steps, so step 20 has the parity of step 18
    truth_right = np.concatenate([np.arange(20) % 2 == 0, (20 + 1 + np.arange(8)) % 2 == 0])
    cue = np.where(truth_right, 1.0, -1.0)
    cue[[21, 23]] *= -1.0  # the second chain leans the right way, but only 4 of its 8 steps net: 0.5
    steps = _two_chains(2.0)
    off = assign_feet(steps, cue, params=replace(E, foot_lone_link_steps=(0.0, 0.0)), lone=True)
    assert (off.foot[20:] == UNKNOWN).all() and (off.foot[:20] != UNKNOWN).all()
    s = assign_feet(steps, cue, params=LINKED, lone=True)
    assert (s.foot == np.where(truth_right, RIGHT, LEFT)).all()
    # a gap that is not a whole number of steps links nothing
    assert (assign_feet(_two_chains(2.5), cue, params=LINKED, lone=True).foot[20:]
            == UNKNOWN).all()
    # nor does a gap longer than the limit (a stop)
    assert (assign_feet(_two_chains(6.0), cue, params=LINKED, lone=True).foot[20:]
            == UNKNOWN).all()
    # nor a gap across a segment boundary (a dropout: sample indices do not count its time)
    cut = int(steps.ic_pos[19]) + 60
    assert (assign_feet(steps, cue, params=LINKED, lone=True,
                        bounds=np.array([0, cut, 5000])).foot[20:] == UNKNOWN).all()
    assert (assign_feet(steps, cue, params=LINKED, lone=True,
                        bounds=np.array([0, 5000])).foot[20:] != UNKNOWN).all()


def test_a_linked_chain_whose_own_vote_leans_the_other_way_stays_unknown():
    truth_right = np.concatenate([np.arange(20) % 2 == 0, (20 + 1 + np.arange(8)) % 2 == 0])
    cue = np.where(truth_right, 1.0, -1.0)
    cue[[20, 21, 22, 23, 24]] *= -1.0  # the second chain leans (weakly) to the other parity
    s = assign_feet(_two_chains(2.0), cue, params=LINKED, lone=True)
    assert (s.foot[20:] == UNKNOWN).all() and (s.foot[:20] != UNKNOWN).all()


def test_steps_whose_own_cues_both_contradict_their_chain_in_a_row_are_left_unknown():
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    lat, yaw = alt.copy(), alt.copy()
    lat[7:9], yaw[7:9] = -lat[7:9], -yaw[7:9]  # steps 7 and 8 look like the other foot to both cues
    s = assign_feet(_walk_chain(20), lat, second=yaw)
    assert (s.foot[7:9] == UNKNOWN).all()
    assert np.count_nonzero(s.foot == UNKNOWN) == 2 and s.foot[6] == RIGHT and s.foot[9] == LEFT
    _, why = foot_reasons(_walk_chain(20), lat, second=yaw)
    assert (why[7:9] == FOOT_STEP_CONTRADICTS).all() and np.count_nonzero(why) == 2


def test_one_step_whose_own_cues_contradict_its_chain_is_left_unknown_unless_runs_are_asked():
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    for k in (0, 7):
        lat, yaw = alt.copy(), alt.copy()
        lat[k], yaw[k] = -lat[k], -yaw[k]
        # the default (1): both of its own cues against the chain is evidence, not a guess to overrule
        s1 = assign_feet(_walk_chain(20), lat, second=yaw)
        assert s1.foot[k] == UNKNOWN and np.count_nonzero(s1.foot == UNKNOWN) == 1
        # foot_contradiction_run=2: one such step alone is judged by its chain
        s = assign_feet(_walk_chain(20), lat, second=yaw, params=replace(E, foot_contradiction_run=2))
        assert (s.foot[::2] == RIGHT).all() and (s.foot[1::2] == LEFT).all()


def test_a_contradiction_run_reaching_the_last_step_leaves_the_step_before_it_unknown():
    # a missed step before the last two: both turn; the last keeps its chain (closing step), the
    # one before it is not a lone contradiction
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    lat, yaw = alt.copy(), alt.copy()
    lat[18:], yaw[18:] = -lat[18:], -yaw[18:]
    s = assign_feet(_walk_chain(20), lat, second=yaw)
    assert s.foot[18] == UNKNOWN and s.foot[19] == LEFT and np.count_nonzero(s.foot == UNKNOWN) == 1


def test_the_last_step_of_a_chain_keeps_its_alternation_when_its_cues_turn():
    # a walk's closing step: both cues say the other foot, the alternation is right
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    lat, yaw = alt.copy(), alt.copy()
    lat[19], yaw[19] = -lat[19], -yaw[19]
    s = assign_feet(_walk_chain(20), lat, second=yaw)
    assert s.foot[19] == LEFT and (s.foot != UNKNOWN).all()
    assert assign_feet(_walk_chain(20), lat, second=yaw,
                       params=replace(E, foot_last_step_by_chain=False, foot_contradiction_run=1)).foot[19] == UNKNOWN


def test_a_chain_whose_parity_flips_by_both_cues_is_split_and_each_part_labelled():
    # a missed step the chain did not break at: from step 8 on both cues say the other parity
    truth_right = np.concatenate([np.arange(8) % 2 == 0, np.arange(8, 20) % 2 == 1])
    sign = np.where(truth_right, 1.0, -1.0)
    s = assign_feet(_walk_chain(20), sign, second=0.7 * sign)
    assert (s.foot == np.where(truth_right, RIGHT, LEFT)).all()
    assert (s.chain == 0).all()  # the split is for the feet only
    # without the split the first 8 steps were left unknown, each contradicting its chain
    s0 = assign_feet(_walk_chain(20), sign, second=0.7 * sign, params=replace(E, foot_split_min_steps=0))
    assert (s0.foot[:8] == UNKNOWN).all()


def test_a_parity_flip_seen_by_one_cue_only_or_too_short_does_not_split():
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    yaw = alt.copy()
    yaw[12:] = -yaw[12:]  # only the yaw cue flips for the last 8 steps
    s = assign_feet(_walk_chain(20), alt, second=yaw)
    assert (s.foot[:12:2] == RIGHT).all() and (s.foot[1:12:2] == LEFT).all()
    lat, yaw = alt.copy(), alt.copy()
    lat[15:17], yaw[15:17] = -lat[15:17], -yaw[15:17]  # both flip, but for 2 steps only: no clear part of 4
    s = assign_feet(_walk_chain(20), lat, second=yaw)
    assert (s.foot[15:17] == UNKNOWN).all() and (np.count_nonzero(s.foot == UNKNOWN) == 2)
    assert (s.foot[::2] != LEFT).all() and (s.foot[1::2] != RIGHT).all()


def test_steps_bridged_into_a_turn_join_the_walk_and_a_stop_stays_empty():
    x, ap, ics, weak = turn_walk(True)
    n = ics.size
    steps = Steps(ic_pos=ics, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
                  chain=np.zeros(n, np.int64), foot=np.full(n, LEFT, np.int8), quality=np.full(n, 0.8))
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([WALK], np.int8))
    got = bridge_walking_gaps(steps, x, ap, fs_hz=100.0, bounds=np.array([0, x.size]), bouts=bouts)
    assert got.n == n + 2 and np.abs(np.sort(got.ic_pos)[10:12] - (weak - 4.0)).max() <= 6
    assert (got.foot[10:12] == UNKNOWN).all() and (got.activity == WALK).all()
    assert got.chain.max() == 0  # one unbroken walk again: every interval is one step
    # the same weak steps after a stop of 8 typical steps are not looked for
    stop = np.concatenate([ics[:10], ics[10:] + 300.0])
    x2 = np.concatenate([x[:ics[9].astype(int) + 30], np.ones(300), x[ics[9].astype(int) + 30:]])
    ap2 = np.concatenate([ap[:ics[9].astype(int) + 30], np.zeros(300), ap[ics[9].astype(int) + 30:]])
    s2 = Steps(ic_pos=stop, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
               chain=np.zeros(n, np.int64), foot=np.full(n, LEFT, np.int8), quality=np.full(n, 0.8))
    b2 = Bouts(start_idx=np.array([0]), end_idx=np.array([x2.size]), label=np.array([WALK], np.int8))
    assert bridge_walking_gaps(s2, x2, ap2, fs_hz=100.0, bounds=np.array([0, x2.size]), bouts=b2).n == n


def _walk_steps(ic: np.ndarray) -> Steps:
    n = ic.size
    return Steps(ic_pos=ic, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
                 chain=np.zeros(n, np.int64), foot=np.where(np.arange(n) % 2 == 0, LEFT, RIGHT).astype(np.int8),
                 quality=np.linspace(0.5, 0.9, n))


def _no_cues(steps: Steps) -> FootEvidence:
    """Foot evidence that says nothing about any of ``steps``."""
    return FootEvidence(cue=np.zeros(steps.n), second=None, lone=False, bounds=None)


def _cues(lat: np.ndarray, yaw: np.ndarray) -> FootEvidence:
    return FootEvidence(cue=lat, second=yaw, lone=False, bounds=None)


def test_two_walking_detections_inside_one_stance_keep_the_one_the_rhythm_expects():
    """Steps every 0.55 s (100 Hz). A second detection 0.24 s after step 8 (a forward peak inside
    its stance: voisard_l5_walk 3-4, 4-6, 5-2) and one 0.25 s before step 14 (a peak before the
    contact: voisard 8-2) cannot both be heel strikes with their step: the one nearer the middle of
    the steps either side stays. At the walk's end (no step after) the earlier one stays. Two real
    short steps 0.33 s apart (a turn on mobgap_lab) both stay."""
    every = np.arange(20) * 55.0 + 100.0
    extra = np.array([every[8] + 24.0, every[14] - 25.0, every[-1] + 23.0])
    ic = np.sort(np.concatenate([every, extra]))
    steps = _walk_steps(ic)
    bounds = np.array([0, 2000])
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([2000]), label=np.array([WALK], np.int8))
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=bounds, bouts=bouts, foot_evidence=_no_cues(steps))
    assert got.n == every.size and np.array_equal(got.ic_pos, every)
    # the kept steps keep their own foot, chain and quality
    kept = np.isin(ic, every)
    assert np.array_equal(got.foot, steps.foot[kept]) and np.array_equal(got.quality, steps.quality[kept])
    # 0 = off; a pair across two bouts, or 0.33 s apart, is not one stance
    off = one_contact_per_stance(steps, fs_hz=100.0, bounds=bounds, bouts=bouts, foot_evidence=_no_cues(steps),
                                 params=replace(E, walk_min_step_s=0.0))
    assert off.n == ic.size
    two = Bouts(start_idx=np.array([0, int(every[8]) + 10]), end_idx=np.array([int(every[8]) + 10, 2000]),
                label=np.array([WALK, WALK], np.int8))
    assert one_contact_per_stance(steps, fs_hz=100.0, bounds=bounds, bouts=two,
                                  foot_evidence=_no_cues(steps)).n == every.size + 1
    short = np.where(np.arange(every.size) > 8, every - 22.0, every)  # one step of 0.33 s
    turn = _walk_steps(short)
    assert one_contact_per_stance(turn, fs_hz=100.0, bounds=bounds, bouts=bouts,
                                  foot_evidence=_no_cues(turn)).n == short.size


def _one_stance(ic: np.ndarray, *, bounds: tuple[int, ...] = (0, 4000),
                bout_starts: tuple[int, ...] = (0,)) -> np.ndarray:
    """The walking ICs one_contact_per_stance keeps (100 Hz) from ``ic``, in walking bouts that
    start at ``bout_starts`` and end at the last of ``bounds``."""
    starts = np.array(bout_starts)
    ends = np.append(starts[1:], bounds[-1])
    bouts = Bouts(start_idx=starts, end_idx=ends, label=np.full(starts.size, WALK, np.int8))
    steps = _walk_steps(np.sort(np.asarray(ic, dtype=np.float64)))
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=np.array(bounds), bouts=bouts,
                                 foot_evidence=_no_cues(steps))
    return got.ic_pos


def test_a_steady_walk_faster_than_the_shortest_step_is_kept_whole():
    """Walking steps every 0.28 s (a race walker, a festinating gait, running steps labelled walk
    at a bout's edge): every pair is closer than walk_min_step_s (0.3 s) but none breaks the rhythm.
    Before, each pair dropped its later step and the drops chained along the walk: 1 of 30 kept.
    Alternating 0.28 / 0.40 s: all kept (before 16 of 30). A slow walk (0.9 s steps) with one true
    turn step 0.45 s long: under 0.6 x the rhythm but longer than 0.3 s, kept."""
    steady = 100.0 + np.arange(30) * 28.0
    assert np.array_equal(_one_stance(steady), steady)
    alternating = 100.0 + np.concatenate([[0.0], np.cumsum(np.tile([28.0, 40.0], 15))[:-1]])
    assert np.array_equal(_one_stance(alternating), alternating)
    slow = 100.0 + np.arange(20) * 90.0
    turn = np.where(np.arange(20) > 10, slow - 45.0, slow)
    assert np.array_equal(_one_stance(turn), turn)


def test_three_or_four_detections_inside_one_stance_leave_one():
    """Steps every 0.55 s. A step with two detections 8 and 16 samples after it, one with two 20
    and 10 samples before it, one with four detections (-20, -10, 0, +11): one of each cluster
    stays, the one nearest the middle of the steps either side (the true step). Before, each pair
    was judged on its own and two detections 0.16-0.21 s apart stayed in one stance."""
    every = 100.0 + np.arange(24) * 55.0
    extra = [every[5] + 8, every[5] + 16, every[11] - 20, every[11] - 10,
             every[17] - 20, every[17] - 10, every[17] + 11]
    assert np.array_equal(_one_stance(np.concatenate([every, extra])), every)


def test_an_extra_detection_on_every_step_or_in_a_short_walk_is_dropped():
    """Steps every 0.55 s, each with a second detection 0.12 s later: half the intervals are short,
    so a rhythm taken over all of them fell on a short one near the walk's ends and kept 4 extras
    at each end (38 of 60 kept). The rhythm now comes from the intervals of at least
    walk_min_step_s only. A two-step walk with one extra: the extra goes too."""
    every = 100.0 + np.arange(30) * 55.0
    assert np.array_equal(_one_stance(np.concatenate([every, every + 12.0])), every)
    short = np.array([100.0, 155.0])
    assert np.array_equal(_one_stance(np.append(short, 112.0)), short)


def _extra_in_a_stance(at: int, *, after: float = 1.0) -> tuple[Steps, np.ndarray, np.ndarray, np.ndarray]:
    """Walking steps every 0.55 s (100 Hz, first RIGHT), one extra detection 0.24 s after step
    ``at`` (inside its stance), chained by the chain rule (the extra breaks the chain before it)
    and footed by assign_feet from two agreeing cues (the extra's cues those of its stance; both
    cues of the extra and the steps after it times ``after``: -1 the opposite alternation, 0 no
    evidence). Returns the steps, both cues, and the true ICs."""
    every = 100.0 + np.arange(20) * 55.0
    ic = np.sort(np.append(every, every[at] + 24.0))
    stance = np.searchsorted(every, ic, side="right") - 1  # the true step whose stance holds each IC
    lat = np.where(stance % 2 == 0, 1.0, -1.0) * np.where(np.arange(ic.size) > at, after, 1.0)
    walk = np.full(ic.size, WALK, np.int8)
    chain = _chains(ic, walk, 100.0, _BOUNDS, _BOUT, E)
    assert chain[at + 1] != chain[at]  # the extra starts a chain of its own
    steps = Steps(ic_pos=ic, to_pos=np.full(ic.size, np.nan), activity=walk, chain=chain,
                  foot=np.full(ic.size, UNKNOWN, np.int8), quality=np.full(ic.size, 0.8))
    steps = assign_feet(steps, lat, second=0.7 * lat)
    return steps, lat, 0.7 * lat, every


_BOUNDS = np.array([0, 3000])
_BOUT = Bouts(start_idx=np.array([0]), end_idx=np.array([3000]), label=np.array([WALK], np.int8))
_TRUE_FEET = np.where(np.arange(20) % 2 == 0, RIGHT, LEFT)


def test_after_an_extra_in_a_stance_is_dropped_the_chain_is_joined_again():
    """Issue #14: the extra 0.24 s after step 8 broke the chain; once it is dropped, step 8 and
    step 9 are 0.55 s apart (the rhythm): one chain again, so step 8 has a next step (its step time
    is reported), and the feet alternate throughout. Before, the chain stayed broken at step 8 (no
    step time). Given foot evidence that says nothing, the chains are joined all the same and
    every step keeps the foot it had (before, every foot of the joined chain was nulled)."""
    steps, lat, yaw, every = _extra_in_a_stance(8)
    kept = np.isin(steps.ic_pos, every)
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=_no_cues(steps))
    assert np.array_equal(got.ic_pos, every)
    assert got.has_next()[:-1].all() and np.unique(got.chain).size == 1
    assert np.array_equal(got.foot, steps.foot[kept]) and np.array_equal(got.foot, _TRUE_FEET)
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=_cues(lat, yaw))
    assert np.array_equal(got.foot, _TRUE_FEET) and got.has_next()[:-1].all()


def test_a_pause_after_the_stance_keeps_the_chains_apart():
    """The extra 0.24 s after step 8, then a pause: the steps after step 9 come 1.0 s later
    (1.55 s from step 8 to the next kept step: a step missed). The true IC wins the stance; the
    interval does not fit the rhythm, so no join: step 8 has no next step, and every step keeps
    its foot."""
    steps, lat, yaw, every = _extra_in_a_stance(8)
    pause = replace(steps, ic_pos=np.where(np.arange(steps.n) > 9, steps.ic_pos + 100.0, steps.ic_pos))
    pause = replace(pause, chain=_chains(pause.ic_pos, pause.activity, 100.0, _BOUNDS, _BOUT, E))
    kept = one_contact_per_stance(pause, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=_cues(lat, yaw))
    assert kept.n == 20 and kept.ic_pos[8] == every[8] and not kept.has_next()[8]
    assert np.array_equal(kept.foot, np.delete(pause.foot, 9))


def test_a_chain_break_without_a_drop_between_is_not_joined():
    """Two chains of steps every 0.55 s broken between steps 19 and 20 by an earlier rule (no
    detection dropped there: the interval fits the rhythm), and an extra after step 8: only the
    break across the dropped detection is joined."""
    every = 100.0 + np.arange(40) * 55.0
    ic = np.sort(np.append(every, every[8] + 24.0))
    lat = np.where((np.searchsorted(every, ic, side="right") - 1) % 2 == 0, 1.0, -1.0)
    chain = _chains(ic, np.full(ic.size, WALK, np.int8), 100.0, _BOUNDS, _BOUT, E)
    chain = chain + (ic > every[19]).astype(np.int64)  # the break between steps 19 and 20
    steps = Steps(ic_pos=ic, to_pos=np.full(ic.size, np.nan), activity=np.full(ic.size, WALK, np.int8),
                  chain=chain, foot=np.full(ic.size, UNKNOWN, np.int8), quality=np.full(ic.size, 0.8))
    steps = assign_feet(steps, lat, second=0.7 * lat)
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT,
                                 foot_evidence=_cues(lat, 0.7 * lat))
    assert np.array_equal(got.ic_pos, every)
    assert got.has_next()[8] and not got.has_next()[19]


def test_feet_an_earlier_rule_nulled_are_not_voted_again():
    """Two walks 3 s apart, an extra after step 8 of the first (joined again); the second walk's
    feet, and step 3 of the joined chain, were set UNKNOWN by an earlier rule although their cues
    are clear: they stay UNKNOWN."""
    every = 100.0 + np.concatenate([np.arange(20) * 55.0, 1445.0 + np.arange(20) * 55.0])
    ic = np.sort(np.append(every, every[8] + 24.0))
    lat = np.where((np.searchsorted(every, ic, side="right") - 1) % 2 == 0, 1.0, -1.0)
    steps = Steps(ic_pos=ic, to_pos=np.full(ic.size, np.nan), activity=np.full(ic.size, WALK, np.int8),
                  chain=_chains(ic, np.full(ic.size, WALK, np.int8), 100.0, _BOUNDS, _BOUT, E),
                  foot=np.full(ic.size, UNKNOWN, np.int8), quality=np.full(ic.size, 0.8))
    steps = assign_feet(steps, lat, second=0.7 * lat)
    assert (steps.foot != UNKNOWN).all()
    steps = replace(steps, foot=np.where((ic > every[19]) | (ic == every[3]), UNKNOWN, steps.foot).astype(np.int8))
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT,
                                 foot_evidence=_cues(lat, 0.7 * lat))
    assert np.array_equal(got.ic_pos, every) and got.has_next()[8] and not got.has_next()[19]
    assert np.array_equal(np.delete(got.foot[:20], 3), np.delete(_TRUE_FEET, 3))
    assert got.foot[3] == UNKNOWN and (got.foot[20:] == UNKNOWN).all()


def test_a_piece_without_evidence_between_two_labelled_pieces_that_disagree_stays_unknown():
    """Extras after steps 7 and 13 (steps every 0.55 s): piece A (steps 0-7) labelled, piece B
    (8-13) without evidence, piece C (14-29) labelled with the other parity (a step lies somewhere
    in B). All three are joined through B, whose alternation cannot agree with both: B stays
    UNKNOWN (which neighbour it follows would be a guess), A and C keep their feet."""
    every = 100.0 + np.arange(30) * 55.0
    ic = np.sort(np.concatenate([every, [every[7] + 24.0, every[13] + 24.0]]))
    step = np.searchsorted(every, ic, side="right") - 1
    lat = np.where(step % 2 == 0, 1.0, -1.0) * np.select([step < 8, step < 14], [1.0, 0.0], -1.0)
    steps = Steps(ic_pos=ic, to_pos=np.full(ic.size, np.nan), activity=np.full(ic.size, WALK, np.int8),
                  chain=_chains(ic, np.full(ic.size, WALK, np.int8), 100.0, _BOUNDS, _BOUT, E),
                  foot=np.full(ic.size, UNKNOWN, np.int8), quality=np.full(ic.size, 0.8))
    steps = assign_feet(steps, lat, second=0.7 * lat)
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT,
                                 foot_evidence=_cues(lat, 0.7 * lat))
    assert np.array_equal(got.ic_pos, every) and got.has_next()[:-1].all()
    true = np.where(np.arange(30) % 2 == 0, RIGHT, LEFT)
    assert np.array_equal(got.foot[:8], true[:8])
    assert np.array_equal(got.foot[14:], np.where(true[14:] == RIGHT, LEFT, RIGHT))
    assert (got.foot[8:14] == UNKNOWN).all()


def _labelled_then_opposed(yaw_b: float) -> tuple[Steps, FootEvidence]:
    """24 steps every 0.55 s with an extra 0.24 s after step 11. Piece A (steps 0-11): lateral
    ±1 and yaw ±0.7, both the true alternation. Piece B (the extra and the rest): lateral ±3 the
    true alternation, yaw ``yaw_b`` times it (negative: against it)."""
    every = 100.0 + np.arange(24) * 55.0
    ic = np.sort(np.append(every, every[11] + 24.0))
    alt = np.where((np.searchsorted(every, ic, side="right") - 1) % 2 == 0, 1.0, -1.0)
    b = np.arange(ic.size) > 11
    lat = alt * np.where(b, 3.0, 1.0)
    yaw = alt * np.where(b, yaw_b, 0.7)
    steps = Steps(ic_pos=ic, to_pos=np.full(ic.size, np.nan), activity=np.full(ic.size, WALK, np.int8),
                  chain=_chains(ic, np.full(ic.size, WALK, np.int8), 100.0, _BOUNDS, _BOUT, E),
                  foot=np.full(ic.size, UNKNOWN, np.int8), quality=np.full(ic.size, 0.8))
    return assign_feet(steps, lat, second=yaw), _cues(lat, yaw)


@pytest.mark.parametrize("yaw_b", [-2.9, -1.0])
def test_a_piece_whose_own_cues_disagree_is_not_joined_to_a_labelled_piece(yaw_b: float):
    """Review 19, finding 1: piece A labelled (12 steps), piece B left UNKNOWN because its two
    cues clearly oppose each other. Before, B's summed parity alternated with A's, the chains were
    joined, and the joined vote nulled A as well (yaw -2.9) or labelled B against its own cues
    (yaw -1.0). Now they are not joined: A keeps its feet, B stays UNKNOWN."""
    steps, evidence = _labelled_then_opposed(yaw_b)
    true = np.where(np.arange(24) % 2 == 0, RIGHT, LEFT)
    assert np.array_equal(steps.foot[:12], true[:12]) and (steps.foot[12:] == UNKNOWN).all()
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=evidence)
    assert got.n == 24
    assert np.array_equal(got.foot[:12], true[:12]) and (got.foot[12:] == UNKNOWN).all()
    assert not got.has_next()[11]


def test_foot_evidence_of_another_length_is_a_signal_error():
    """Cues for the steps after the drop (or any other count) are refused with a SignalError, not
    an IndexError; a second cue of another shape than the first, when built."""
    steps, lat, yaw, _ = _extra_in_a_stance(8)
    with pytest.raises(SignalError, match="foot evidence for 20 steps given with 21 steps"):
        one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=_cues(lat[1:], yaw[1:]))
    with pytest.raises(SignalError, match="second cue"):
        _cues(lat, yaw[1:])


def test_a_piece_without_foot_evidence_takes_the_joined_chains_alternation():
    """The extra 0.24 s after step 16; the detections after it have no foot cue: voted alone
    that piece was UNKNOWN (issue #14: a short piece ends unlabelled). Joined, it is labelled by
    the alternation of the chain it continues."""
    steps, lat, yaw, _ = _extra_in_a_stance(16, after=0.0)
    assert (steps.foot[18:] == UNKNOWN).all() and np.array_equal(steps.foot[:17], _TRUE_FEET[:17])
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=_cues(lat, yaw))
    assert got.has_next()[16] and np.array_equal(got.foot, _TRUE_FEET)


def test_pieces_whose_feet_do_not_alternate_across_the_drop_are_not_joined():
    """The extra 0.24 s after step 16, and both cues of the detections after it say the opposite
    alternation: step 16 and the next kept step have one foot by their pieces' votes, so a step
    lies between them (voisard_l5_walk 8-2: the dropped detection was a short step's late IC).
    They are not joined (no step time across) and keep their feet: neither piece is swapped to
    the other's parity nor nulled."""
    steps, lat, yaw, _ = _extra_in_a_stance(16, after=-1.0)
    assert (steps.foot != UNKNOWN).all()  # each piece voted alone, the second against the first
    got = one_contact_per_stance(steps, fs_hz=100.0, bounds=_BOUNDS, bouts=_BOUT, foot_evidence=_cues(lat, yaw))
    assert got.n == 20 and not got.has_next()[16]
    assert np.array_equal(got.foot, np.delete(steps.foot, 17))


def test_a_close_pair_across_a_segment_or_bout_is_not_one_stance():
    every = 100.0 + np.arange(20) * 55.0
    ic = np.append(every, every[8] + 24.0)
    cut = int(every[8]) + 10
    # a segment boundary (a gap in the recording) between the two: both stay
    assert _one_stance(ic, bounds=(0, cut, 4000)).size == ic.size
    # a bout boundary between them: both stay
    assert _one_stance(ic, bout_starts=(0, cut)).size == ic.size
    # a running step 0.24 s after a walking one (the detectors' own overlap rule handles those): both stay
    steps = _walk_steps(np.sort(ic))
    steps = replace(steps, activity=np.where(steps.ic_pos == every[8] + 24.0, RUN, WALK).astype(np.int8))
    bouts = Bouts(start_idx=np.array([0]), end_idx=np.array([4000]), label=np.array([WALK], np.int8))
    assert one_contact_per_stance(steps, fs_hz=100.0, bounds=np.array([0, 4000]), bouts=bouts,
                                  foot_evidence=_no_cues(steps)).n == ic.size


def test_only_neighbours_within_reach_in_the_clusters_segment_and_bout_choose_the_kept_step():
    """A cluster of three (a, a + 14, a + 28 samples) whose neighbours either side would put the
    rhythm's middle at the middle detection; when a neighbour lies beyond max_step_s (1.2 s), in
    another bout or in another segment, the rhythm is not known and the earliest stays."""
    a = 1000.0
    cluster = [a, a + 14.0, a + 28.0]
    before = 100.0 + np.arange(12) * 55.0 + (a - 55.0 - (100.0 + 11 * 55.0))  # the last at a - 55
    after = a + 28.0 + 55.0 + np.arange(12) * 55.0  # the first at a + 83: middle a + 14
    both = np.concatenate([before, cluster, after])
    got = _one_stance(both)
    assert np.isin(cluster, got).tolist() == [False, True, False]
    # the step before in another bout, or another segment: the earliest
    got = _one_stance(both, bout_starts=(0, int(a) - 20))
    assert np.isin(cluster, got).tolist() == [True, False, False]
    got = _one_stance(both, bounds=(0, int(a) - 20, 4000))
    assert np.isin(cluster, got).tolist() == [True, False, False]
    # the step after in another bout: the earliest
    got = _one_stance(both, bout_starts=(0, int(a) + 50))
    assert np.isin(cluster, got).tolist() == [True, False, False]
    # the step before 1.21 s away and the step after 1.2 s after the cluster: the middle would
    # be a + 13.5 (the middle detection), but the step before is out of reach: the earliest
    far = np.concatenate([before - 66.0, cluster, after + 65.0])
    got = _one_stance(far)
    assert np.isin(cluster, got).tolist() == [True, False, False]
    # the step after 1.21 s after the cluster, the step before 0.55 s: likewise
    far = np.concatenate([before, cluster, after + 66.0])
    got = _one_stance(far)
    assert np.isin(cluster, got).tolist() == [True, False, False]


def test_a_chain_of_one_foots_steps_a_stride_apart_is_left_unknown_not_half_swapped():
    """A slow walker whose left steps the detector missed at an even rhythm: six right steps
    1.2 s apart (100 Hz) make one chain. The yaw cue names the right foot at every step; the
    lateral cue, averaged over a whole stride, is weak and happens to alternate. Before, the chain
    was labelled R, L, R, L, R, L: every other step wrong. Now the cues name one foot for all its
    steps more than twice as clearly as alternating feet (|5.7| against |1.8|): unknown."""
    n = 6
    steps = Steps(ic_pos=np.arange(n) * 120.0, to_pos=np.full(n, np.nan), activity=np.full(n, WALK, np.int8),
                  chain=np.zeros(n, np.int64), foot=np.full(n, UNKNOWN, np.int8), quality=np.full(n, 0.8))
    yaw = np.ones(n)
    lat = np.array([0.3, -0.4, 0.2, -0.3, 0.25, -0.35])
    s = assign_feet(steps, lat, second=yaw)
    assert not (s.foot == LEFT).any()  # no right step called left
    assert (s.foot == UNKNOWN).all()
    parity, why = foot_reasons(steps, lat, second=yaw)
    assert (why == FOOT_NOT_ALTERNATING).all() and (parity == np.array([RIGHT, LEFT] * 3)).all()  # the guess
    # 0: never (the rules before)
    off = assign_feet(steps, lat, second=yaw, params=replace(E, foot_not_alternating=0.0))
    assert (off.foot == np.array([RIGHT, LEFT] * 3)).all()


def test_alternating_chains_and_single_steps_keep_their_feet_under_the_alternation_check():
    alt = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    # a walk whose cues alternate, with a one-sided lean (a turn's yaw trend, a tilt's lateral offset)
    s = assign_feet(_walk_chain(20), alt + 0.4, second=0.5 * alt + 0.3)
    assert (s.foot[::2] == RIGHT).all() and (s.foot[1::2] == LEFT).all()
    # two steps whose cues each name one foot, but more clearly alternating than not
    two = assign_feet(_walk_chain(2), np.array([1.0, -0.4]), second=np.array([1.0, 0.3]))
    assert (two.foot == [RIGHT, LEFT]).all()
    # a chain of one step: alternation does not come into it
    one = assign_feet(_walk_chain(1), np.array([1.0]), second=np.array([1.0]))
    assert one.foot[0] == RIGHT
    # running steps (no yaw cue) are not checked: the lateral cue alone, as before
    run = replace(_walk_chain(6), activity=np.full(6, RUN, np.int8))
    lat = np.array([1.0, -0.2, 1.0, -0.2, 1.0, -0.2])
    assert (assign_feet(run, lat, second=np.zeros(6)).foot == np.array([RIGHT, LEFT] * 3)).all()


def test_the_alternation_check_is_not_applied_without_a_gyroscope():
    """Without a gyroscope the two foot cues are the same lateral acceleration over overlapping
    windows: a roll offset or a curve moves both one way, so a one-sided pair is no evidence that
    the chain holds one foot's steps. The check (measured with a gyroscope only) stays out of it."""
    alt = np.where(np.arange(6) % 2 == 0, 1.0, -1.0)
    whole, stance = 0.5 * alt + 1.0, 0.5 * alt + 1.0  # one-sided, but alternating the same way
    _, why = foot_reasons(_walk_chain(6), whole, second=stance, lone=True)
    assert not (why == FOOT_NOT_ALTERNATING).any()
    _, why_gyro = foot_reasons(_walk_chain(6), whole, second=stance)
    assert (why_gyro == FOOT_NOT_ALTERNATING).any()  # with a gyroscope the same cues are one-sided


@pytest.mark.parametrize("bad", [{"foot_lone_stance_s": (-5.0, 0.3)}, {"foot_lone_stance_s": (0.4, 0.2)},
                                 {"foot_lone_stance_s": (0.2, float("nan"))}, {"foot_lone_pair_vote": float("nan")},
                                 {"foot_not_alternating": -1.0}, {"foot_lone_clear_vote": float("inf")},
                                 {"walk_min_step_s": -0.3}, {"walk_min_step_s": float("nan")}])
def test_foot_cue_parameters_out_of_range_are_refused(bad):
    from imuback.errors import ParamsError

    with pytest.raises(ParamsError, match=next(iter(bad))):
        EventParams(**bad)
    EventParams(foot_lone_stance_s=(0.0, 0.0))  # no second accelerometer cue: allowed


def _forced_running_contacts(x, fs, bouts):
    """The running detector as detect_steps calls it, run whatever the bouts."""
    p = EventParams()
    bounds = np.array([0, x.size])
    dec = step_to_50hz(fs)
    xs_d = lowpass(x[::dec], p.step_lowpass_hz, fs / dec, decimated_bounds(bounds, dec))
    xm_d = (None if p.run_to_lowpass_hz is None
            else lowpass(block_mean(x, dec), p.run_to_lowpass_hz, fs / dec, decimated_bounds(bounds, dec)))
    run_bouts = bouts.extended(RUN, WALK, round(p.bout_edge_s * fs), bounds)
    return running_contacts(lowpass(x, p.lowpass_hz, fs, bounds), xs_d, dec, run_bouts, fs, p, own=bouts, xm_d=xm_d)


def test_walking_alone_runs_no_running_detector_and_finds_the_same_steps(monkeypatch):
    """Without running bouts the running detector and its signals (a 4 Hz low-pass, a peak search
    over the session: ~4 ms per hour of walking) are skipped; the walking steps are the same."""
    fs = 100.0
    ph = np.arange(1200) / fs % 0.55
    x = 1 + 0.3 * np.cos(2 * np.pi * ph / 0.55) + 0.25 * np.exp(-0.5 * ((ph - 0.275) / 0.03) ** 2)
    bounds = np.array([0, x.size])
    walk = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([WALK], np.int8))
    want = detect_steps(x, fs_hz=fs, bounds=bounds, bouts=walk)
    assert want.n >= 18 and (want.activity == WALK).all()
    # skipping it loses nothing: run as detect_steps would run it, on this walk-only session's
    # running bouts (none) it finds no contact; the same call finds the contacts of a run
    assert [c.size for c in _forced_running_contacts(x, fs, walk)] == [0, 0, 0]
    run_x = np.interp(np.arange(4000) / 1000.0 % 0.36, [0.0, 0.02, 0.03, 0.06, 0.15, 0.24, 0.36],
                      [0.0, 0.9, 0.6, 2.5, 2.5, 0.0, 0.0])
    as_run = Bouts(start_idx=np.array([0]), end_idx=np.array([run_x.size]), label=np.array([RUN], np.int8))
    assert _forced_running_contacts(run_x, 1000.0, as_run)[0].size >= 8

    def no_running(*args, **kwargs):
        raise AssertionError("the running detector ran without running bouts")

    monkeypatch.setattr("imuback.signal.events.running_contacts", no_running)
    got = detect_steps(x, fs_hz=fs, bounds=bounds, bouts=walk)
    assert np.array_equal(got.ic_pos, want.ic_pos) and np.array_equal(got.chain, want.chain)
    # ... but it runs where there are running bouts
    run = Bouts(start_idx=np.array([0]), end_idx=np.array([x.size]), label=np.array([RUN], np.int8))
    with pytest.raises(AssertionError, match="without running bouts"):
        detect_steps(x, fs_hz=fs, bounds=bounds, bouts=run)
