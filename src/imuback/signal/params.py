"""Pipeline parameters: one frozen dataclass per stage, each default with where it comes from."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from imuback.errors import ParamsError


@dataclass(frozen=True, slots=True, kw_only=True)
class ResampleParams:
    """Stage 1: onto the nominal grid inside contiguous segments."""

    gap_factor: float = 1.5
    """A sample interval of at least ``gap_factor`` nominal periods may hide missing samples (a
    gap); the samples on either side tell how many (none: timestamp jitter, see
    :func:`imuback.signal.resample.to_grid`); shorter ones are jitter."""
    max_fill_s: float = 0.3
    """Gaps of up to this much missing time (whole missing samples; dropped samples or BLE
    packets) are bridged by the in-segment interpolation; longer gaps split the recording into
    segments that nothing crosses. A split costs the steps next to it (its filters' and detectors'
    edges) and every piece shorter than ``min_segment_s``: on voisard_l5_walk's clean trials with
    packets dropped in 50 ms bursts (``benchmarks/walk_packet_loss.py``) 0.1 s lost 4.8 % of
    steady walking steps at 5 % loss and 10.9 % at 10 %, 0.3 s 0.9 % and 1.3 %.

    0.3 s is a cap, not an optimum: it is the top of the grid tried, and the synthetic objective
    goes on rising past it while precision falls (``--fills 0.3 0.5 1.0``, docs/validation.md). It
    is kept below a walking step (0.43 s and longer up to 140 steps/min), so a bridge never holds
    two walking ICs, and under two of the shortest steps (``EventParams.min_step_s`` = 0.22 s), so
    at most one running IC can fall inside it. Nothing read from a bridge longer than ``exact_fill_s`` is
    reported: a step, contact or stride over it has no time, cadence, flight, oscillation, vGRF or
    angle (a step hidden in it leaves a doubled interval with no step time), and the session's
    notes say how many and how much was interpolated (``GapStats.bridged_idx``, ``filled_s``)."""
    exact_fill_s: float = 0.1
    """Gaps of up to this much missing time are taken as exact: the line through them feeds the
    figures (a few samples, under half the shortest step, ``EventParams.min_step_s`` = 0.22 s).
    Longer bridged gaps are listed (``GapStats.bridged_idx``) and nothing is read from them: a
    running contact over one gets no toe-off (a line through most of a contact is no contact's
    end: alcantara_treadmill with 5 % of samples dropped in 50 ms bursts,
    ``benchmarks/walk_packet_loss.py``: TO SD 13.5 ms over the contacts that keep one, 27 contacts
    without; read from the line as well, 30.4 ms in a scratch run at pipeline 0.8.0). At most
    ``max_fill_s`` (a :class:`~imuback.errors.ParamsError` otherwise)."""
    min_segment_s: float = 2.0
    """Segments shorter than this are dropped (too short for any step); counted as gap time."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.exact_fill_s) and math.isfinite(self.max_fill_s) and self.exact_fill_s >= 0):
            raise ParamsError(f"resample.exact_fill_s ({self.exact_fill_s:g} s) and resample.max_fill_s "
                              f"({self.max_fill_s:g} s) must be finite and not negative")
        if self.exact_fill_s > self.max_fill_s:
            raise ParamsError(f"resample.exact_fill_s ({self.exact_fill_s:g} s) is longer than resample.max_fill_s "
                              f"({self.max_fill_s:g} s): no gap could be bridged and listed; lower exact_fill_s "
                              "or raise max_fill_s")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityParams:
    """Stage 4: still / walk / run per sample, then bouts."""

    still_std_g: float = 0.025
    """Moving std of |acc| below this (g) is still. A MEMS sensor at rest shows ~0.005 g noise;
    walking shows > 0.1 g (Moe-Nilssen 1998 trunk acceleration ranges)."""
    window_s: float = 2.0
    """Window for the activity features: at least one stride at walking cadence (~1.1 s)."""
    run_flight_g: float = 0.35
    """Running has a flight phase in which the sacrum is near free fall (vertical specific force
    ~0 g); walking never drops below ~0.5 g (double support). A window whose 10 Hz low-passed
    vertical minimum is below this (g) is running."""
    run_peak_g: float = 1.6
    """Running contacts peak above ~2 BW (Cavanagh & Lafortune 1980); require this (g) too."""
    min_bout_s: float = 4.0
    """Bouts shorter than this are merged into their neighbours (label smoothing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventParams:
    """Stage 5: initial contact, toe-off and foot per step."""

    lowpass_hz: float = 20.0
    """Low-pass (2nd-order Butterworth, zero phase) of vertical specific force before thresholds;
    keeps the contact edges (rise time ~20-40 ms) and removes sensor noise."""
    contact_threshold_g: float = 0.4
    """Contact is where the sacral vertical specific force exceeds this (g): at flight the sacrum
    is near free fall (0 g). Crossings of this level bracket each contact (as in published
    vertical-threshold methods, e.g. 0.5 g; Patoz 2022); the edge itself is then located by the
    tangent method below, so the exact level matters little."""
    onset_g: float = 0.066
    """Force-plate contact onset: vGRF of 50 N ≈ 0.066 BW (the reference convention); the
    sacral vertical specific force (g) estimates vGRF (BW), so each edge's tangent at its
    steepest point is continued to this level (tangent onset method)."""
    first_rise_frac: float = 0.5
    """The tangent is taken on the first rise through the threshold (an impact transient or a
    forefoot shoulder, steep: the foot loads within ~20 ms) only if that rise is at least this
    fraction of the steepest one before the core; a slower rise is a bump in flight (leg swing,
    tissue), and the steepest rise is used."""
    min_edge_slope_g_per_s: float = 5.0
    """A contact edge rises/falls by a body weight in well under 0.2 s; a flatter edge is not
    continued to the onset (the threshold crossing is kept)."""
    core_g: float = 1.0
    """Each contact contains its body-weight-bearing core (vertical specific force > 1 g);
    IC is the last threshold up-crossing before it, TO the first down-crossing after it, so
    bumps in flight (leg swing, soft tissue) are never taken for contacts."""
    step_lowpass_hz: float = 4.0
    """Low-pass used to find one peak per contact (cadence < 240 spm is < 4 Hz)."""
    run_to_lowpass_hz: float | None = 5.0
    """Running toe-off from the spring-mass model (signal/running.py): the vertical specific force
    (block means at ~50 Hz) low-passed at this cutoff (2nd-order Butterworth, zero phase) is read
    for its peak and its fall back through 1 g; None keeps the tangent toe-off. A running contact
    (~0.2-0.3 s) is half a period of ~2 Hz: 5 Hz keeps its half-sine and drops the impact and
    soft-tissue ringing. Chosen on alcantara_treadmill among 4, 5, 6, 8, 10, 15 Hz: leave one trial
    out 5 Hz in all 21 folds, leave one slope out 5 Hz in 4 of 5 (docs/validation.md)."""
    upright_g: float = 0.7
    """A walking step needs the trunk upright: the mean vertical specific force (g) around it is
    cos(trunk tilt), at least cos 45° ≈ 0.7 (walking trunks lean well under 20°); below it the
    wearer is sitting down, standing up, bending or lying."""
    posture_window_s: float = 1.0
    """Window (s) of that mean: about one walking stride, so the steps' own accelerations average out."""
    bout_edge_s: float = 2.0
    """Half the activity vote window (``ActivityParams.min_bout_s`` = 4 s): a run/walk change can
    sit this far from the true one, so each step detector also looks this far into the
    neighbouring bout of the other gait."""
    min_step_s: float = 0.22
    """Shortest step: 270 spm, above any human running cadence."""
    max_step_s: float = 1.2
    """A longer IC-to-IC interval breaks the step chain (bout end, stop, gap)."""
    run_peak_prominence_g: float = 0.5
    """Minimum prominence (g) of a running contact in the 4 Hz signal."""
    walk_peak_prominence_g: float = 0.1
    """Minimum prominence (g) of a walking step in the smoothed signal."""
    walk_weak_prominence_g: float = 0.03
    """A weaker peak (g) is a step only where the bout's rhythm lacks exactly one (turns, slow
    steps): a third of a clear step's prominence, still far above sensor noise after smoothing."""
    walk_missed_gap_steps: tuple[float, float] = (1.5, 2.5)
    """A gap between steps of (1.5 .. 2.5) typical step times holds one missed step: nearer to one
    step it is rhythm variation, nearer to three it holds two, longer it is a stop or a turn on
    the spot, where nothing is invented."""
    walk_edge_steps: int = 2
    """Up to this many weaker steps (>= ``walk_weak_prominence_g``) are taken after the last clear
    step of a walking bout, each one typical step (± ``walk_missed_tol_steps``) after the one
    before: gait termination (the last two steps of a walk were 74 of voisard_l5_walk's 215
    missed contacts; the closing step sets the foot down beside the other). Not before the first
    step: the weight shift of gait initiation makes a vertical bump before the first contact
    (looking back too added extra steps 0.35-1 s before it on voisard). Chosen on
    voisard_l5_walk among 0-3, reported on mobgap_lab, which would choose 0 (docs/validation.md)."""
    walk_missed_tol_steps: float = 0.25
    """The missed step lies within a quarter step of the gap's middle: steps alternate at even
    intervals, so a candidate nearer to a neighbour is something else (a toe-off, a bump). Chosen
    on voisard_l5_walk among 0.15-0.45 (0.921 / 0.961); mobgap_lab held out 0.776 / 0.780 (INDIP),
    0.807 / 0.842 (stereo) (``walk_generalise.py --only walk_missed_tol``; docs/validation.md)."""
    walk_rise_max_s: float = 0.1
    """IC is the steepest rise of the vertical acceleration within this time (s) before its
    loading-response maximum: the loading response lasts ~10 % of a gait cycle (Perry 1992),
    ~0.1 s at 110 steps/min. Looking further back reaches the other foot's push-off (the rise
    before IC): on simulated walking 0.15 s put 2 % of the ICs ~110 ms early."""
    foot_yaw_margin_s: float = 10.0
    """The walking yaw cue is band-passed only within this margin (s) of walking steps: the 0.5 Hz
    edge of the zero-phase band-pass settles within a few seconds (time constant ~1/(2π·0.5 Hz))."""
    foot_yaw_band_hz: tuple[float, float] = (0.5, 2.0)
    """Walking foot cue: the yaw rate band-passed (4th-order Butterworth, zero phase) to the stride
    and step frequencies, positive at a right IC (McCamley 2012; the band from Ullrich 2021 as in
    mobgap's LrcMcCamley)."""
    foot_yaw_lead_s: float = 0.06
    """The walking yaw cue is read this long (s) before the vertical-signal IC (never before the
    IC's segment starts). Chosen on voisard_l5_walk among 0-0.15 by the feet target per wearer:
    0 → 3.0 % unlabelled, 0.02-0.10 → 0-0.7 % (whole chains of subject 3 whose yaw at IC opposed
    the lateral cue), all as right; mobgap_lab held out: INDIP 3.4 → 2.0 %, stereo 1.3 → 0.6 %
    unlabelled, 1.000 right; beyond 0.12 s worse on both. The voisard gain is subject 3's alone:
    leaving one subject out, the fold without subject 3 picks 0 and the pooled held-out figure stays
    3.0 % unlabelled (docs/validation.md)."""
    foot_clear_vote: float = 0.5
    """A walking chain whose lateral-acceleration and yaw-rate votes both lean clearly (each
    ``|sum of signed cues| / sum of |cues|`` at least this, i.e. >= 75 % of its weight one way) to
    opposite feet is left unlabelled: one cue is turned (a wrong forward axis, a wearer for whom
    it fails), and guessing would swap the whole chain. Chosen on voisard_l5_walk among
    0.1-0.8; mobgap_lab is the same for 0.4-0.8 (docs/validation.md)."""
    foot_lone_clear_vote: float = 0.7
    """Without a gyroscope and with ``foot_lone_stance_s`` off, walking feet come from the
    whole-step lateral acceleration alone, and only in chains whose vote leans this clearly
    (``|sum of signed cues| / sum of |cues|``) to one parity; other chains, and running steps,
    are left unlabelled (the one cue fails for two of nine voisard_l5_walk subjects). 1.01: never
    labelled without a gyroscope. Chosen on voisard_l5_walk with the gyroscope dropped, as the most
    steps labelled with >= 97 % of every subject's labelled steps right; mobgap_lab, held out, is
    right at every candidate (docs/validation.md)."""
    foot_lone_link_steps: tuple[float, float] = (0.15, 4.0)
    """Without a gyroscope, a walking chain whose lateral vote is not clear (``foot_lone_clear_vote``)
    is still labelled when its vote leans to the parity of the chains linked to it through the
    rhythm and the vote pooled over them is clear: consecutive walking chains are linked where
    the gap between them (last IC to next IC) is a whole number of typical steps (median step
    time inside chains) within the first value, and at most the second value of steps (a chain
    broken by a missed step or a short irregular stretch; a longer gap is a stop). (0, 0): never
    linked. Chosen on mobgap_lab (INDIP) with the gyroscope dropped, where 0.15 is the tightest of
    the best (unlabelled 10.0 → 8.5 %); on voisard_l5_walk, held out, 0.1-0.35 tie: 20.1 → 19.3 %
    unlabelled, 0.977 right as before — one chain of subject 9; leaving one voisard subject out the
    pooled figure stays 20.1 % (docs/validation.md)."""
    foot_lone_stance_s: tuple[float, float] = (0.2, 0.4)
    """Without a gyroscope, a second walking foot cue: the mean lateral acceleration over this window
    after the vertical-signal IC (s, never past the IC's segment), minus the session mean: single
    support, where the ground pushes the centre of mass back towards the swing side, after the
    loading response (~0.1-0.2 s, Perry 1992) in which the swing side's pelvis drops and tilts
    gravity into the lateral axis (that part turns the whole-step cue for some wearers: per step it
    names the other foot for voisard subjects 1, 7 and 8 and the stance foot for 2 and 5,
    ``benchmarks/foot_cues.py``). A chain is labelled where one of the two cues' votes is clear
    (``foot_lone_pair_vote``) and the other's leans the same way (``assign_feet``). (0, 0): not
    used (the whole-step cue alone, ``foot_lone_clear_vote``). Chosen on voisard_l5_walk with the
    gyroscope dropped among windows from 0.1-0.4 to 0.3-0.5 s by the feet target per wearer (the
    fold without subject 7 picks 0.15-0.4 s); mobgap_lab held out: INDIP 8.4 → 6.1 %, stereo
    10.5 → 4.2 % unlabelled, as right as before (docs/validation.md)."""
    foot_lone_pair_vote: float = 0.4
    """With the two accelerometer cues (``foot_lone_stance_s``), the vote (``|sum of signed cues| /
    sum of |cues|``) one of them needs for its chain to be labelled, the other leaning the same
    way. Chosen on voisard_l5_walk with the gyroscope dropped among 0-0.8 by the feet target per
    wearer (0.3 and below label a subject's chains wrong); mobgap_lab held out (docs/validation.md)."""
    foot_split_min_steps: int = 4
    """A walking chain is split where the step parity flips by both cues: before the split both the
    lateral-acceleration and the yaw-rate votes lean clearly (``foot_clear_vote``) to one parity,
    after it both to the other, each part at least this many steps (a missed or extra step the
    chain did not break at). Each part is then labelled by its own votes. 0: never split. Without
    a gyroscope the two votes are the whole-step and single-support lateral cues
    (``foot_lone_stance_s``); there the split leaves fewer steps unlabelled and none more wrong
    (voisard_l5_walk without its two swapped trials: 119 of 1468 matched steps unlabelled, 8.1 %,
    against 140, 9.5 %, with 0; one labelled wrong either way; ``python benchmarks/foot_anatomy.py
    --no-gyro`` with and without ``--off foot_split_min_steps=0``)."""
    foot_last_step_by_chain: bool = True
    """The last step of a chain keeps its chain's alternation even when both its own cues
    contradict it: walking's closing step (the feet come together, the trunk stops) turns both
    cues (voisard_l5_walk: the chain right in 7 of 7 such steps, the cues in 0; docs/validation.md)."""
    foot_contradiction_run: int = 1
    """A walking step whose own lateral-acceleration and yaw-rate cues both contradict its chain's
    alternation is left unlabelled in a run of at least this many such consecutive steps of its
    chain (a missed or extra step the chain did not break at turns every step after it). 1: every
    such step. 2 would let one such step alone take its chain's foot: on voisard_l5_walk 0.4 → 0 %
    unlabelled (0.959 right either way), held out on mobgap_lab INDIP 4.1 → 2.0 %, stereo 1.9 →
    0.6 % (1.000 right), but on the simulated slow walker 14 of the 14 steps it labelled there were
    wrong (independent review): both of a step's own cues against its chain is evidence, and the
    issue says to leave the foot null rather than guess, so 1 (docs/validation.md)."""
    foot_not_alternating: float = 2.0
    """With a gyroscope, a walking chain of two or more steps whose summed foot cues name one foot
    for all its steps at least this many times as clearly as they name alternating feet
    (``|sum of cues| >= value * |sum of alternately signed cues|``) is left unlabelled: its steps
    are one foot's, a stride apart (a walker with one weak side, or a slow walk whose other steps
    the detector missed at an even rhythm, so the chain did not break), and a parity would label
    every other step wrong. 0: never. Not used without a gyroscope (its two cues there read the
    same axis; not measured). Inert on the real data: on voisard_l5_walk 2, 3, 5 and never tie
    (1 and 1.5 leave right steps unlabelled, 0.4 → 0.6 / 0.5 %), and 2 is the strictest of the
    tie; mobgap_lab is unchanged at 2 (INDIP 4.0 %, stereo 1.9 % unlabelled; 1 would take them to
    6.0 / 6.5 %). It acted only on the simulated realistic walking while the simulator's steps
    alternated strong-weak (a controller artefact, fixed at 0.10.0), where the detector missed
    one foot's steps: 22 steps left unlabelled, 7 wrongly and 15 rightly labelled before, nearly
    all in 2-3 step chains holding one foot's steps; on today's simulation it is inert too (0.5 %
    unlabelled either way). It stays as a guard for a walker whose weak side's steps are missed
    (``python benchmarks/foot_anatomy.py --sim`` with and without ``--off foot_not_alternating=0``;
    docs/validation.md, ``benchmarks/slow_feet.py``)."""
    walk_detect_sigma_s: float = 0.064
    """Gaussian scale that finds walking steps: McCamley 2012's gaus1 CWT at scale 9 and 100 Hz
    is a Gaussian of sigma 9/sqrt(2) samples = 64 ms."""
    walk_locate_sigma_s: float = 0.025
    """Finer Gaussian scale that locates each walking IC (within 0.2 s before to 0.05 s after the
    detected maximum): heavy smoothing delays the maximum of an asymmetric loading response."""
    walk_min_step_s: float = 0.3
    """Shortest walking step (s): two walking ICs closer than this that also break the local rhythm
    (under 0.6 x the running median of the step times of at least this) lie in one stance and one is dropped
    (:func:`~imuback.signal.events.one_contact_per_stance`; 0 = off). 0.3 s = 200 steps/min: normal
    walking, even fast, stays well below it; race walking (about 3.4-4 steps/s) is not supported,
    though a steady rhythm that fast is kept whole (it does not break the rhythm). voisard_l5_walk
    leave one subject out chooses it over off in every fold on the grid {0, 0.3} (0.921 / 0.961 ->
    0.921 / 0.964); on the full grid 0.22-0.45 s the folds choose 0.28 s (8) or 0.25 s (1), pooled
    0.921 / 0.963: 0.3 is not the held-out choice but the round physiological figure that scores the
    same (before the rhythm condition the folds chose 0.35 s, and 0.3 was preferred after seeing
    mobgap_lab's pair of true turn steps 0.33 s apart) (``walk_generalise.py --only walk_min_step``;
    docs/validation.md)."""
    walk_bridge_gap_steps: tuple[float, float] = (1.5, 6.0)
    """A gap between two walking steps of (1.5 .. 6) typical steps (the running median) is searched
    for steps the vertical signal alone did not show: a U-turn or a hesitation; longer is a stop."""
    walk_bridge_margin_steps: float = 0.7
    """A step found in a gap lies at least this many typical steps from the steps around it and
    from another found step: turning steps are less even than straight ones, but a bump much
    nearer than a step to its neighbour is something within that step. Chosen on voisard_l5_walk
    among 0.5-0.7 (all three within one step of 1841 there; 7 of 9 leave-one-subject-out folds
    chose 0.7), reported on mobgap_lab, which would choose 0.5 (docs/validation.md)."""
    walk_bridge_fall_frac: float = 0.3
    """A weak vertical maximum in a gap is a step only with a heel-strike braking fall
    (:func:`~imuback.signal.walking_ic.braking_fall`) at least this share of the session's median:
    the forward deceleration at foot contact (Zijlstra & Hof 2003) stays when the vertical swing
    fades in a turn. Chosen on voisard_l5_walk among 0-0.7, reported on mobgap_lab (which chooses
    the same; docs/validation.md)."""
    walk_weak_rise_frac: float = 0.2
    """A weaker step (gap filling and gait termination) must land: the steepest rise of its
    loading response (finer scale, ``walk_locate_sigma_s``) at least this share of the median of
    the bout's clear steps. A foot strike loads the body within tens of ms (Perry 1992) even when
    the vertical swing is small; weight shifting while standing rises ~10 x slower. Chosen on
    voisard_l5_walk among 0-0.5 (recall + precision within 0.003 of each other there), reported
    on mobgap_lab, which would choose no gate (0; docs/validation.md)."""
    walk_ap_sigma_s: float = 0.008
    """Gaussian smoothing (s) of the forward acceleration before its IC peak is read: about a
    20 Hz low-pass (-3 dB at 0.13/sigma), as Zijlstra & Hof 2003 filtered before reading peaks."""
    walk_drop_window_s: tuple[float, float] = (-0.1, 0.1)
    """Where (s, relative to the vertical-signal IC) the heel-strike braking fall of the forward
    acceleration is sought: the vertical rise starts with the other foot's push-off, before IC,
    and braking follows IC within the loading response (~0.1 s, Perry 1992). Chosen on
    voisard_l5_walk among (-0.1|-0.15|-0.05, 0.05|0.1|0.15); reported on mobgap_lab
    (docs/validation.md)."""
    walk_peak_before_drop_s: float = 0.1
    """The forward-acceleration peak (IC) lies at most this long (s) before the braking fall."""
    walk_min_drop_g_per_s: float = 2.0
    """A braking fall flatter than this (g/s) is no heel strike; the vertical IC is kept."""
    walk_peak_subsample: bool = True
    """The forward-acceleration peak (IC) between samples, at the vertex of the parabola through the
    peak sample and its neighbours."""
    walk_fuse_agree_s: float = 0.12
    """Where the vertical-signal IC (less the session's median offset between the two cues) lies
    within this (s) of the forward-peak IC, the walking IC is their mean weighted by each cue's
    regularity over the session (:func:`~imuback.signal.walking_ic.fuse_ic_cues`); elsewhere the
    forward peak alone. 0 = the forward peak alone. Chosen on voisard_l5_walk among 0-0.2 and
    always; reported on mobgap_lab (docs/validation.md)."""
    walk_rhythm_off_s: float = 0.12
    """A walking IC more than this (s) from the middle of its two neighbours' ICs (one chain) breaks
    the step rhythm: if another forward-acceleration peak before a braking fall, at least
    ``walk_rhythm_fall_share`` as steep as the chosen one's, lies within half that distance of the
    middle, the IC moves there (:func:`~imuback.signal.walking_ic.rhythm_placed_ic`; a step whose
    contact brakes the trunk twice, 100-250 ms apart, where both cues took the later fall).
    Step-time asymmetry up to twice this is never touched. 0 = off. Chosen on voisard_l5_walk
    among 0.06-0.15 and off; reported on mobgap_lab (docs/validation.md)."""
    walk_rhythm_fall_share: float = 0.3
    """The braking fall after the peak a rhythm-breaking IC moves to must be at least this share of
    the fall after its current peak (a wobble is no contact). Chosen on voisard_l5_walk among
    0-1 (0 and 0.3 tie there; the larger moves fewer ICs); reported on mobgap_lab (docs/validation.md)."""
    walk_ic_delay_s: float = 0.006
    """The heel strikes this long (s) after the trunk's forward-acceleration peak: added to every
    walking IC that moves (a move past a neighbouring step is not made). The peak marks the last instant
    before the ground's braking impulse reaches the sacrum, which comes a few milliseconds after
    contact (voisard's contact-locked mean forward peak lies 10.7 ms before its foot-sensor IC,
    `benchmarks/sim_vs_real.py`). Chosen on voisard_l5_walk (mean IC bias closest to 0 among
    0-12 ms, also leaving one subject out); reported on mobgap_lab (docs/validation.md)."""

    def __post_init__(self) -> None:
        try:
            a_s, b_s = (float(x) for x in self.foot_lone_stance_s)
        except (TypeError, ValueError):
            a_s = b_s = math.nan
        if not (math.isfinite(a_s) and math.isfinite(b_s) and ((a_s, b_s) == (0.0, 0.0) or 0.0 <= a_s < b_s)):
            raise ParamsError(f"events.foot_lone_stance_s {self.foot_lone_stance_s!r} must be (start, end) s after "
                              "IC with 0 <= start < end, or (0, 0) for no second accelerometer foot cue")
        for name in ("foot_lone_pair_vote", "foot_lone_clear_vote", "foot_not_alternating", "walk_min_step_s"):
            v = getattr(self, name)
            if isinstance(v, (bool, str)) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v >= 0.0):
                raise ParamsError(f"events.{name} ({v!r}) must be a finite number >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class GaitCheckParams:
    """Stage 5 (b): steps are kept only in bouts with gait's structure (signal/gait_check.py).

    Each threshold lies far from both sides of what it separates, measured per bout by
    benchmarks/gait_features.py: real gait on alcantara_treadmill
    (21 running trials), mobgap_lab (16 bouts) and voisard_l5_walk (52 trials), six simulated
    sessions, and synthetic non-gait (white noise, also with a 4 deg/s noisy gyroscope; a 2.8 Hz
    vibration, vertical and tilted 45°; a car ride).
    """

    band_low_hz: float = 0.5
    """The gait band: acceleration as block means at ~12.5 Hz (a boxcar low-pass, band up to
    ~5 Hz: step frequencies and their second harmonic; the angular rate, slow, as every ~12.5 Hz
    sample) minus the moving mean over 1 / ``band_low_hz`` s (strides ~0.5-1.5 Hz and steps
    pass; posture, heading and a vehicle's sway do not)."""
    min_off_axis_ratio: float = 0.08
    """sqrt(second / largest eigenvalue) of the band's acceleration covariance: motion that
    sweeps a plane (gait) against motion along one line (a vibration, any axis). Real gait:
    >= 0.21 (alcantara, AP and vertical axes only), >= 0.19 (voisard), >= 0.49 (mobgap);
    simulated >= 0.15. A 2.8 Hz vibration (vertical or tilted 45°) and a car ride: <= 0.02.
    (The same threshold as the vertical-only horizontal ratio it replaces, which a tilted
    vibration passed: 336 steps.)"""
    min_rotation_dps: float = 6.0
    """RMS angular rate (deg/s) in the band (block means), where a gyroscope is present. Real
    gait >= 10.6 deg/s (voisard), >= 24.7 (mobgap), simulated >= 25.5; white gyro noise of
    4 deg/s per axis at 100 Hz 3.4 (5 deg/s: 4.3), a car ride 0.5. Read as every ~12.5 Hz
    sample instead of block means, 4 deg/s of noise passed (135 steps)."""
    max_step_ratio: float = 1.5
    """Step coupling: an interval between ICs longer than this many times its bout's median step
    is a pause or a missed step (an interval of ~2 steps), not one step, and is left out; steps in
    turns and at a walk's start or end are ~15 % longer and stay in."""
    min_step_coupling: float = 0.35
    """Accelerometer only: consistency (0..1) of the horizontal-vertical phase from step to step
    (signal/gait_check.py), on the detectors' ICs as the pipeline checks them. Its chance level in
    noise is ~1 / sqrt(steps), so it tells gait from noise only over enough steps (see
    ``min_coupling_evidence``). Chosen between voisard's walking bouts with the gyroscope ignored
    (every bout >= 0.55) and white noise of 60 s (<= 0.28, 20 recordings; 120 s: 0.12); held out,
    mobgap_lab's bouts of 10 steps or more >= 0.46 (its irregular Test11 included), running >= 0.70
    (alcantara, a 2-axis accelerometer), simulated runs and walks >= 0.92, a simulated irregular
    walk (short walks at 84-124 steps/min with stops) 0.76. The vibrations and the car ride are
    coupled (0.06-1.00) but move along one line: the off-axis ratio rejects them.
    ``python benchmarks/gait_features.py``."""
    min_coupling_evidence: float = 3.0
    """Accelerometer only: a bout's steps times its squared step coupling must reach this too.
    For n steps of independent random phase the chance of ``n c² >= x`` is ~exp(-x) (Rayleigh's
    test of uniform phase): 3 is the conventional 5 % level, not fitted. Without it 7 of 10 bursts
    of 4 s of noise in standing (2-4 "steps", chance coupling 0.6-0.8) kept steps; with it bursts of
    4-30 s keep steps in 1 of 40 sessions, white noise of 15 s in 2 of 20. The price: the shortest
    real bouts without a gyroscope (mobgap_lab 5 of 17 bouts rejected, 2 without it; voisard 9 of
    62, 4) (``python benchmarks/gait_features.py``, docs/validation.md)."""
    seated_deg: float = 11.6
    """A lone walking step (no other walking step within ``EventParams.max_step_s`` either side)
    is a movement while seated, not a step, where the trunk is reclined at least this far (deg)
    behind the session's walking posture both before and after it (``seated_window_s``): sitting
    tilts the pelvis back. The angle is Vähä-Ypyä et al. 2018's sitting/standing cut-point against
    the upright walking posture (hip-worn accelerometer, 30 adults, ROC: sensitivity 94.2 %,
    specificity 94.5 %), taken as published. On the real data it removes one detection, a
    forward reach while seated (mobgap_lab HA Test11 105.49 s), and no real step
    (``python benchmarks/seated_steps.py``). 0 turns the test off."""
    seated_window_s: tuple[float, float] = (1.0, 2.0)
    """The posture before and after a lone step: the mean 0.5 Hz low-passed pitch over this span
    (s) before its IC and the same after it (clear of the movement itself, ~1 s)."""

@dataclass(frozen=True, slots=True, kw_only=True)
class QualityParams:
    """Stage 5 (c): per-step quality from rhythm and shape (signal/quality.py)."""

    shape_rate_hz: float = 25.0
    """The vertical signal whose shape around each IC is compared is taken as means of ~50 Hz
    samples over blocks of 1 / ``shape_rate_hz`` s: keeps the loading and push-off (< ~10 Hz),
    drops impact ringing and soft-tissue wobble, and is cheap."""
    window_s: tuple[float, float] = (-0.2, 0.3)
    """The shape compared: from 0.2 s before to 0.3 s after IC (the end of the previous step's
    push-off, the loading response, mid-stance: most of a walking step, a whole running one)."""
    walk_logit: tuple[float, ...] = (2.799, 0.912, 1.357, 1.606)
    """Walking steps: (b0, b_score, b_swing, b_braking) of the logistic model that maps a step's
    evidence to the probability that it is right (:func:`imuback.signal.quality.calibrate`);
    empty: the agreement score itself. Fitted on mobgap_lab at pipeline 0.9.0 (191 walking steps
    inside INDIP bouts, 23 wrong; a step is right when matched within 100 ms of an IC of either
    reference, INDIP or stereophotogrammetry) and reported on voisard_l5_walk: calibration error
    0.051 there (0.176 for the 0.9.0 knots on the score alone), AUROC 0.97. Fitted the other way
    (on voisard_l5_walk, reported on mobgap_lab) the error was 0.064. Not a clean held-out figure:
    the inputs and the direction of the fit were chosen looking at both data sets, and the
    coefficients differ a lot between the two directions (b_score 0.912 here, 3.311 fitted on
    voisard) (``python benchmarks/real_quality.py``, docs/validation.md)."""
    run_calibration: tuple[tuple[float, float], ...] = ()
    """Running steps: none. Knots fitted on four slopes of alcantara_treadmill did not predict the
    fifth (held-out AUROC 0.49, Brier 0.224 against 0.193 for a constant): running quality stays
    the agreement score, a ranking (``python benchmarks/real_quality.py``)."""
    low_quality: float = 0.5
    """A step below this quality (calibrated: more likely wrong than right) counts as low
    quality in ``sessions.low_quality_step_pct``."""
    low_quality_note_pct: float = 30.0
    """Above this share of low-quality steps the session says so in ``status_reason``."""

    def __post_init__(self) -> None:
        try:  # a list, as params_json stores it, or numpy numbers: kept as a tuple of floats
            coef: tuple[float, ...] | None = tuple(float(b) for b in self.walk_logit if not isinstance(b, (bool, str)))
            ok = coef is not None and len(coef) == len(self.walk_logit)
        except (TypeError, ValueError):
            coef, ok = None, False
        if coef is None or not ok or (coef and (len(coef) != 4 or not all(map(math.isfinite, coef)))):
            raise ParamsError(f"quality.walk_logit {self.walk_logit!r} must be empty or four finite numbers "
                              "(b0, b_score, b_swing, b_braking): leave it at its default unless refitted")
        object.__setattr__(self, "walk_logit", coef)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricParams:
    """Stage 6: per-step and per-stride metrics."""

    grf_lowpass_hz: float = 8.0
    """Peak vGRF from the sacral vertical specific force low-passed at this frequency: the sacrum
    adds soft-tissue transients to the CoM signal (Alcantara 2022; Patoz 2022 use ~8-10 Hz)."""
    grf_spring_mass_weight: float = 0.3
    """Running peak vGRF = (1 - w) x the low-passed sacral peak + w x the spring-mass peak from the
    step's timing alone, ``(pi / 2) step_time / contact_time`` (a half-sine contact whose impulse
    carries body weight over the step: Morin 2005). The two read different things (the sacrum's
    amplitude; the contact's timing), though not independently: the contact's end (TO) is itself
    read from the sacral signal. On alcantara's trials (one runner: never held out by runner) the
    RMSE is flat for w = 0.3-0.5 (held out by slope and speed the folds
    pick 0.3-0.6: ``benchmarks/real_running.py``); of those the smallest, which keeps most of
    the sacral reading that simulated runners (sacrum = CoM + tissue) find exact. 0 gives the
    sacral peak alone."""
    loading_lowpass_hz: float = 30.0
    """Low-pass for the loading-rate index and the impact peak search window."""
    braking_lowpass_hz: float = 8.0
    """Braking from the sacral forward acceleration low-passed here: like the vGRF estimate, the
    centre of mass's deceleration without the soft-tissue transient (same reasoning as
    ``grf_lowpass_hz``)."""
    baseline_start_min: float = 2.0
    """Drift baseline window start (min of running): skips the first warm-up minutes."""
    baseline_end_min: float = 10.0
    """Drift baseline window end (min of running)."""
    drift_late_min: float = 10.0
    """Drift late window: the last this many minutes of running (shorter on short runs, never
    overlapping the baseline; the rule is :func:`imuback.signal.summary.drift_windows`)."""
    regularity_lowpass_hz: float = 20.0
    """Low-pass of the vertical acceleration before its autocorrelation (regularity): keeps the
    gait harmonics (< ~15 Hz), drops sensor noise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlignParams:
    """Sensor-to-body alignment (stage 2)."""

    upright_cone_deg: float = 30.0
    """Gait keeps the trunk within ~15-20° of its mean lean; sitting, lying or bending moves the
    direction of gravity by 45-90°. Windows within this angle of the dominant direction are one posture."""
    roll_highpass_hz: float = 0.3
    """High-pass of the integrated roll (drift removal): below the slowest stride frequency of
    walking (~0.8 Hz) and running (~1.2 Hz)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlausibilityParams:
    """Samples no body-worn sensor can have produced are left out as gaps, with the reason in
    ``sessions.status_reason`` (a float32-max gyro spike, a row of 1e30).
    """

    max_acc_g: float = 200.0
    """|acc| on any axis above this (g) when the sensor's range is unknown; lower-back IMUs
    measure ±2 to ±64 g, impact accelerometers up to ±200 g."""
    max_gyr_dps: float = 10_000.0
    """|gyr| on any axis above this (deg/s) when the range is unknown; MEMS gyros reach ±4000 deg/s."""
    range_margin: float = 1.05
    """With a declared range: a value beyond ``range_margin x range`` cannot come from the sensor."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MountingParams:
    """Re-seat detection (:mod:`imuback.signal.mounting`): chosen on simulated phones in a loose
    belt (no re-seat: at most 0.5°), checked on real walking not to fire (largest 4.6°), by
    benchmarks/reseat.py (docs/validation.md).

    Attributes
    ----------
    window_s : length of one window of gait samples whose mean specific force is gravity, s.
    side_windows : windows averaged on each side of a boundary (``side_windows x window_s`` s).
    min_gait_frac : a window counts when at least this share of its samples are gait.
    min_shift_deg : smallest step change of the up direction called a re-seat, deg.
    """

    window_s: float = 10.0
    side_windows: int = 3
    min_gait_frac: float = 0.8
    min_shift_deg: float = 6.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineParams:
    """All parameters of the pipeline, recorded with every processed session."""

    resample: ResampleParams = field(default_factory=ResampleParams)
    activity: ActivityParams = field(default_factory=ActivityParams)
    events: EventParams = field(default_factory=EventParams)
    gait_check: GaitCheckParams = field(default_factory=GaitCheckParams)
    quality: QualityParams = field(default_factory=QualityParams)
    metrics: MetricParams = field(default_factory=MetricParams)
    align: AlignParams = field(default_factory=AlignParams)
    plausible: PlausibilityParams = field(default_factory=PlausibilityParams)
    mounting: MountingParams = field(default_factory=MountingParams)

    def to_json(self) -> str:
        """All parameters as a JSON object (sorted keys), for provenance."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)
