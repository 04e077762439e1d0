"""Knobs of the simulated session: :class:`RunnerParams`, its error type and the nominal mountings.

Shared by every simulator module; imports nothing from them. The public face is
:mod:`imuback.simulate.runner`, which re-exports the names here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from imuback.errors import SimulationError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

FORCE_PLATE_THRESHOLD_N = 50.0
"""IC / TO = vertical GRF of the foot rises above / falls below this force (force-plate convention)."""

NOMINAL_MOUNTINGS: dict[str, tuple[tuple[float, ...], ...]] = {
    # chip x forward, y left, z up (the body frame itself)
    "identity": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    # McRoberts MoveMonitor-like: chip x up, y right, z forward
    "mcroberts": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),
    # clip on the waistband at the back, chip upright: x right, y up, z backward
    "clip-y-up": ((0.0, 0.0, -1.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
}
"""Nominal mountings ``R`` (rows = body axes in sensor coordinates, ``v_body = R @ v_sensor``)."""

_STRIKE_IMPACT_BW = {"rearfoot": 0.8, "midfoot": 0.35, "forefoot": 0.05}
"""Impact transient amplitude above the active curve (BW) per foot-strike pattern.

Rearfoot strikers show an impact peak of ~1.5-2 BW some 20-30 ms after contact, forefoot
strikers barely any (Cavanagh & Lafortune 1980; Lieberman et al. 2010; Clark et al. 2017).
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunnerParams:
    """Every knob of the simulated session, with defaults from DOMAIN.md and the literature.

    Session structure: ``stand_start_s`` standing, ``walk_start_s`` walking, ``run_minutes`` of
    running (split by ``walk_breaks`` walking breaks of ``walk_break_s``), ``walk_end_s`` walking,
    ``stand_end_s`` standing. Typical values (DOMAIN.md "Typical values"): cadence 150-190 spm,
    contact 200-300 ms, vertical oscillation 6-13 cm, pelvis tilt ~6-7 deg, obliquity ~8-10 deg,
    rotation ~10-16 deg (ranges). Walking: cadence 100-120 spm, duty factor ~0.6, double-hump vGRF
    (Alexander & Jayes 1978; Perry 1992). Running vGRF: active peak 2-3 BW, rearfoot impact peak
    1.5-2 BW at 20-30 ms (Cavanagh & Lafortune 1980; Clark et al. 2017). Braking/propulsive peaks
    ~0.3-0.5 BW; mediolateral peaks ~0.1 BW (Munro et al. 1987). Sensor: MEMS IMU datasheet values
    (e.g. ST LSM6DSO: 70-100 ug/sqrt(Hz), 3.8 mdps/sqrt(Hz), zero-g offset +-20-40 mg, zero-rate
    offset +-1 dps). Soft-tissue (wobbling-mass) oscillation at the sacrum 12-25 Hz (Pain & Challis
    2001; Alcantara et al. 2022 show sacral peaks well above the vGRF peak unless low-passed).
    Fatigue: contact time and impact rise, pelvis motion and lateral sway grow over a run
    (e.g. Schutte et al. 2016; Clermont et al. 2019). Percentages are "by the end of the run".

    Real-walking failure modes (all off by default): ``walk_step_time_cv`` step-to-step
    variability of walking (default: ``step_time_cv``; older adults 2-4 %, Hausdorff 2005);
    ``walk_uturns_per_min`` U-turns of 180° over ``uturn_s`` in the walking segments, slowing to
    ``uturn_speed_frac`` of the walking speed (a small fraction: turning on the spot);
    ``walk_pauses`` standing pauses of ``pause_s`` splitting the first walk (stop-start);
    ``walk_wobble_g`` soft-tissue amplitude at each walking contact (heavy tissue: 0.2-0.4 g);
    ``walk_transient_pct`` the first step from standing and the last before stopping are this
    much longer (the second and second-to-last half that: gait initiation and termination take
    1-2 steps, Brenière & Do 1986); ``walk_turn_slow_pct`` steps inside a U-turn are this much
    longer; ``walk_step_asymmetry_pct`` left minus right step time in % of the mean (> 0: left
    steps longer); ``walk_force_follows_speed`` scales the walking double hump (``walk_shape_q``)
    and AP peaks by the speed at each step over ``walk_speed_mps`` (starts, stops and turns on the
    spot take short steps that barely lift the body); ``walk_hesitations_per_min`` hesitations
    in the walks before and after the run: the walker stops and stands for 1-2.5 s (real-world
    walking bouts keep pauses of up to 3 s inside a bout, Kluge et al. 2021); each hesitation
    ends a gait bout and starts a new one (with ``walk_transient_pct``'s slower steps), as a
    standing pause does; drawn only when > 0.
    Shuffles of slow, older or ill walkers (off by default, drawn only when > 0):
    ``walk_shuffle_share`` of the walking steps are shuffles, steps that lift the body less (a
    shuffling gait's short steps, the foot flat at contact, Alcock et al. 2018: step length sets the
    toe clearance). Only force amplitudes are scaled: a shuffle keeps its step's timing and the walking
    speed (the step is not made shorter). A shuffle's lift
    (``shuffle_lift_frac``) scales its double hump's departure from the flat shape (so its vertical
    CoM excursion; the neighbours' push in double support is theirs), its AP peaks, swing-leg pull
    and heel-strike collision, its heel-strike torsion, its impact transient and its soft-tissue
    ringing. 0.25: a step half as long, whose compass-gait CoM rise ``d^2 / (8 L)`` (Saunders et
    al. 1953) is a quarter; the half is a round figure. Stalls: with shuffles on, a walk that stops
    inside the session (a hesitation or a pause) shuffles into the stop (its last step is a
    shuffle); the stop itself is the hesitation's standing (a 1-2.5 s step on one contact instead
    swung the body over 0.96 m: the model carries a near-stop only by standing support). Rules:
    never drawn on a walk's first two steps; every walk's second-to-last step is a full step (before
    a stall, before walk-to-run and at the session's end); its last step is a shuffle before a stall,
    else full. In a stalling walk of one or two steps the stall rule wins: its last step (one of its
    first two) is a shuffle.
    Quick steps of slow walkers (off by default, drawn only when > 0): ``walk_quick_share`` of the
    walking steps are quick, short corrective steps of 0.28-0.40 s from one IC to the next (the real
    quick steps of mobgap_lab's slow bouts, ``plan.QUICK_STEP_S``) at the walk's speed (a short
    step); never a walk's first two or last two steps. The foot before a quick step leaves the
    ground at least ``gait.MIN_SWING_S`` before it lands again (its double support shortens).
    Walking contact at the pelvis: the AP braking force peaks at ``walk_braking_peak_frac`` of the
    contact and propulsion as late (braking early in stance, Winter 1991; 0.25: a plain sine);
    ``walk_heel_strike_ap_bw`` is the forward pull of the swing leg on the pelvis just before
    each IC (a half sine over the walking impact's half-width, ~35 ms), taken back by the heel-strike
    collision over ``walk_collision_s`` (equal impulses); the pull turns into the collision
    ``walk_collision_delay_s`` after the contact starts, once the leading leg is loaded (about
    half-way up the heel-strike transient). Both scale with the speed where the walking force
    follows it. The pull, collision and delay were chosen on voisard_l5_walk's contact-locked
    forward acceleration (``benchmarks/sim_vs_real.py``; mobgap_lab held out), never on the pipeline.
    Walking pelvis yaw and roll around heel strike: ``walk_pelvis_rotation_harmonics`` and
    ``walk_pelvis_obliquity_harmonics`` are ``(q1_deg, h3, q3_deg)`` of the walking angle
    ``Θ/2 [sin(φ + q1) + h3 sin(3φ + q3)]`` over the stride phase ``φ`` (0 at a right IC, π at a
    left one; ``Θ`` the range knob): the first stride harmonic's phase, the third's amplitude
    relative to it and its phase (the left side's fast drop in loading response and partial
    recovery, Perry 1992). Chosen on voisard_l5_walk's contact-locked yaw and roll rates (rounded
    harmonics, ``python benchmarks/sim_vs_real.py --choose-pelvis``; mobgap_lab held out), never on
    the pipeline. Running keeps its single sinusoids.
    ``walk_sensor_lever_m``: where the sensor sits relative to the point the walking pelvis turns
    about, body frame (x forward, y left, z up), m: a sensor on the skin over L5 lies ~0.1 m
    behind the hip joint centres, so the pelvis's yaw and roll accelerate it sideways
    (``alpha x r + omega x (omega x r)``). Chosen on voisard_l5_walk: its 1.5-8 Hz mediolateral
    acceleration regressed on the measured yaw and roll angular accelerations, the roll angle's
    gravity taken as known, puts the sensor 0.097 m behind and 0.008 m above the turning point
    (``python benchmarks/sim_vs_real.py --choose-lever``; mobgap_lab held out). Walking steps
    only — a scope limit, not physics (the sensor sits in the same place in running): running's
    simulated figures were kept as they were; near a walk/run change the walking envelope's lever
    still acts for up to ~1 s.
    ``walk_heel_strike_torsion`` ``(amp_deg, freq_hz, delay_s, decay)``: an empirical yaw ring
    after each walking heel strike, as voisard's L5 sensors show (a likely mechanism: the loading
    leading leg, ahead of and beside the pelvis, twists it; part may be the strap's):
    yaw ``side * amp * exp(-decay s) (1 - cos s)^2 / 4``, ``s = 2 pi freq (tau - delay)``
    (a smooth start, back to where it began), ``side`` +1 on right contacts, varying with the heel
    strike's impact (``impact_cv``) and scaled with the speed where the walking force follows it;
    with the lever arm it gives the real L5 sensor's sideways jolt after IC. Fitted on
    voisard_l5_walk's contact-locked yaw rate together with its first and third stride harmonics
    (``python benchmarks/sim_vs_real.py --choose-lever``; mobgap_lab held out: its sensor rings far
    less). It rings on top of the stride harmonics that the range knob sizes (the default walk's
    yaw range 8.6° instead of 9°). ``amp_deg = 0``: none.
    ``walk_ml_tissue_g_per_bw_s`` and ``walk_ml_tissue_hz``: the sensor's strap and soft tissue ring
    sideways after each walking heel strike (the vertical soft tissue's kernel, onset and decay; a
    translation, so the gyroscope and the pelvis angles are untouched): first-swing peak in g per
    BW/s of the contact's own vertical loading rate to its impact peak (absolute: a slow walker's
    flat, long contact loads at ~8.7 BW/s, the default walk's at ~13.6), frequency uniform in the range per
    contact (the measured roll's gravity gives under a tenth of real L5 sensors' 3-8 Hz ML: a
    translation). ``walk_ml_tissue_foot_share`` c: the direction per contact is
    ``c * side + sqrt(1 - c²) * (±1 at random)`` (side +1 right: first swing to the left, +y, after a
    right heel strike), so a foot-signed share of energy c² and a random one 1 - c² (voisard's left
    and right mean responses are mirror images; within one walker about half its 3-8 Hz ML
    energy is locked to the foot). Range from voisard_l5_walk's ML spectrum (flat 3-9 Hz, half of
    it near 11 Hz); amplitude and share from its per-foot 3-8 Hz RMS, all and left after each
    subject's per-foot means (``python benchmarks/sim_vs_real.py --choose-ml-tissue``: 0.022 g per
    BW/s, share 0.9; mobgap_lab held out). Walking only. **Off by default** (0: nothing drawn): on,
    the 0.45 m/s walks' step-even ML is 1.6-2.1 times their AP against real slow walkers' 0.38 and
    one slow session's frame is found ~67° off (docs/validation_log.md, tried, not kept as default).
    A phone in a loose belt: ``mounting_random`` draws the true mounting uniformly over all
    orientations (the file keeps the nominal one); ``belt_bounce_hz`` > 0 puts the sensor on a
    damped spring (natural frequency, ``belt_damping_ratio``) driven by the pelvis, which also
    tips it by ``belt_tilt_deg_per_cm`` of bounce; ``belt_shifts_per_10min`` re-seatings of the
    phone, each a turn of up to ``belt_shift_deg`` about a random axis over 0.3 s.
    """

    # --- session structure ---------------------------------------------------------------
    run_minutes: float = 12.0
    stand_start_s: float = 15.0
    stand_end_s: float = 15.0
    walk_start_s: float = 45.0
    walk_end_s: float = 60.0
    walk_breaks: int = 0
    walk_break_s: float = 40.0
    # --- running gait -----------------------------------------------------------------------
    cadence_spm: float = 170.0
    contact_time_s: float = 0.245
    step_time_cv: float = 0.015
    contact_time_cv: float = 0.03
    speed_mps: float = 3.2
    speed_changes: int = 2
    speed_change_pct: float = 8.0
    # --- vertical force ---------------------------------------------------------------------
    foot_strike: Literal["rearfoot", "midfoot", "forefoot"] = "rearfoot"
    impact_transient_bw: float | None = None
    impact_time_s: float = 0.025
    impact_cv: float = 0.15
    active_shape_q: float = -0.10
    body_mass_kg: float = 70.0
    # --- soft tissue at the sacrum ------------------------------------------------------
    wobble_freq_hz: tuple[float, float] = (12.0, 25.0)
    wobble_decay_per_rad: float = 0.4
    wobble_base_g: float = 0.3
    wobble_g_per_bw: float = 1.2
    wobble_cv: float = 0.2
    # --- horizontal forces ------------------------------------------------------------------
    ap_peak_bw: float = 0.35
    ml_peak_bw: float = 0.12
    turns_per_10min: float = 2.0
    # --- left/right asymmetry, 100 (L - R) / mean ---------------------------------------
    contact_asymmetry_pct: float = 0.0
    impact_asymmetry_pct: float = 0.0
    # --- fatigue drift over the running time (% by the end of the run) ---------------------
    fatigue_contact_pct: float = 5.0
    fatigue_impact_pct: float = 10.0
    fatigue_pelvis_pct: float = 15.0
    fatigue_ml_pct: float = 15.0
    # --- pelvis ranges (max - min over a stride, deg) --------------------------------------
    pelvis_rotation_deg: float = 13.0
    pelvis_obliquity_deg: float = 9.0
    pelvis_tilt_deg: float = 6.5
    pelvis_cv: float = 0.08
    # --- walking ------------------------------------------------------------------------------
    walk_cadence_spm: float = 112.0
    walk_duty_factor: float = 0.62
    walk_shape_q: float = 0.35
    walk_speed_mps: float = 1.35
    walk_ap_peak_bw: float = 0.2
    walk_braking_peak_frac: float = 0.15
    walk_heel_strike_ap_bw: float = 0.2
    walk_collision_s: float = 0.1
    walk_collision_delay_s: float = 0.0175
    walk_step_width_m: float = 0.12
    walk_com_height_m: float = 0.95
    walk_pelvis_rotation_deg: float = 9.0
    walk_pelvis_obliquity_deg: float = 7.0
    walk_pelvis_tilt_deg: float = 3.0
    walk_pelvis_rotation_harmonics: tuple[float, float, float] = (55.0, 0.05, -175.0)
    walk_pelvis_obliquity_harmonics: tuple[float, float, float] = (145.0, 0.50, 90.0)
    walk_sensor_lever_m: tuple[float, float, float] = (-0.10, 0.0, 0.0)
    walk_heel_strike_torsion: tuple[float, float, float, float] = (-1.2, 5.0, 0.02, 0.15)
    walk_step_time_cv: float | None = None
    walk_wobble_g: float = 0.08
    walk_ml_tissue_g_per_bw_s: float = 0.0
    walk_ml_tissue_hz: tuple[float, float] = (3.0, 11.0)
    walk_ml_tissue_foot_share: float = 0.9
    walk_uturns_per_min: float = 0.0
    uturn_s: float = 2.0
    uturn_speed_frac: float = 0.4
    walk_pauses: int = 0
    pause_s: float = 3.0
    walk_transient_pct: float = 0.0
    walk_turn_slow_pct: float = 0.0
    walk_step_asymmetry_pct: float = 0.0
    walk_force_follows_speed: bool = False
    walk_hesitations_per_min: float = 0.0
    walk_shuffle_share: float = 0.0
    shuffle_lift_frac: float = 0.25
    walk_quick_share: float = 0.0
    walk_near_stop_share: float = 0.0
    walk_near_stop_speed_mps: float = 0.15
    # --- a phone in a loose running belt -------------------------------------------------------
    mounting_random: bool = False
    belt_bounce_hz: float = 0.0
    belt_damping_ratio: float = 0.15
    belt_tilt_deg_per_cm: float = 4.0
    belt_shifts_per_10min: float = 0.0
    belt_shift_deg: float = 15.0
    # --- mounting ------------------------------------------------------------------------------
    mounting: str = "identity"
    misalignment_deg: float = 25.0
    misalignment_exact: bool = False
    # --- sensor ------------------------------------------------------------------------------
    sensor: str = "imuback-sim"
    sample_rate_hz: float = 200.0
    noise: bool = True
    acc_noise_ug_per_rthz: float = 150.0
    gyr_noise_mdps_per_rthz: float = 7.0
    acc_bias_mg: float = 30.0
    gyr_bias_dps: float = 1.0
    acc_range_g: float = 16.0
    gyr_range_dps: float = 2000.0
    quantize: bool = True
    timestamp_jitter_us: float = 0.0
    gaps_per_hour: float = 6.0
    gap_s: tuple[float, float] = (0.2, 4.0)

    def __post_init__(self) -> None:
        checks = [
            (self.run_minutes >= 0, "run_minutes must be >= 0"),
            (min(self.stand_start_s, self.stand_end_s, self.walk_start_s, self.walk_end_s,
                 self.walk_break_s) >= 0, "segment durations must be >= 0"),
            (self.stand_start_s >= 1.0 and self.stand_end_s >= 1.0,
             "stand_start_s and stand_end_s must be >= 1 s (the sensor needs a still start and end)"),
            (120.0 <= self.cadence_spm <= 230.0, "cadence_spm must be within 120-230"),
            (0.12 <= self.contact_time_s <= 0.45, "contact_time_s must be within 0.12-0.45 s"),
            (self.contact_time_s < 0.9 * 60.0 / self.cadence_spm,
             "contact_time_s must be shorter than 90 % of the step time (running has flight)"),
            (70.0 <= self.walk_cadence_spm <= 140.0, "walk_cadence_spm must be within 70-140"),
            (0.55 <= self.walk_duty_factor <= 0.7, "walk_duty_factor must be within 0.55-0.70"),
            (self.foot_strike in _STRIKE_IMPACT_BW, f"foot_strike must be one of {list(_STRIKE_IMPACT_BW)}"),
            (self.mounting in NOMINAL_MOUNTINGS, f"mounting must be one of {list(NOMINAL_MOUNTINGS)}"),
            (0.0 <= self.misalignment_deg <= 90.0, "misalignment_deg must be within 0-90"),
            (self.walk_step_time_cv is None or 0.0 <= self.walk_step_time_cv <= 0.15,
             "walk_step_time_cv must be within 0-0.15"),
            (self.walk_uturns_per_min >= 0 and 0.8 <= self.uturn_s <= 6.0
             and 0.0 < self.uturn_speed_frac <= 1.0,
             "walk_uturns_per_min must be >= 0, uturn_s within 0.8-6 s, uturn_speed_frac within (0, 1]"),
            (self.walk_pauses >= 0 and self.pause_s >= 1.0, "walk_pauses must be >= 0 and pause_s >= 1 s"),
            (0.0 <= self.walk_hesitations_per_min <= 20.0, "walk_hesitations_per_min must be within 0-20"),
            (0.0 <= self.walk_shuffle_share <= 0.5 and 0.0 < self.shuffle_lift_frac < 1.0,
             "walk_shuffle_share must be within 0-0.5 and shuffle_lift_frac within (0, 1)"),
            (0.0 <= self.walk_quick_share <= 0.3, "walk_quick_share must be within 0-0.3"),
            (0.0 <= self.walk_near_stop_share <= 0.5 and 0.0 <= self.walk_near_stop_speed_mps <= 0.5,
             "walk_near_stop_share must be within 0-0.5 and walk_near_stop_speed_mps within 0-0.5"),
            (self.walk_near_stop_share == 0.0 or self.walk_near_stop_speed_mps < self.walk_speed_mps,
             "walk_near_stop_speed_mps must be below walk_speed_mps (a near-stop slows the walker to a creep)"),
            (0.0 <= self.walk_transient_pct <= 50.0 and 0.0 <= self.walk_turn_slow_pct <= 50.0
             and abs(self.walk_step_asymmetry_pct) <= 20.0,
             "walk_transient_pct and walk_turn_slow_pct must be within 0-50, |walk_step_asymmetry_pct| <= 20"),
            (abs(self.walk_heel_strike_torsion[0]) <= 5.0 and 2.0 <= self.walk_heel_strike_torsion[1] <= 20.0
             and 0.0 <= self.walk_heel_strike_torsion[2] <= 0.2 and 0.05 <= self.walk_heel_strike_torsion[3] <= 2.0,
             "walk_heel_strike_torsion must be (amp_deg within +-5, freq_hz 2-20, delay_s 0-0.2, decay 0.05-2)"),
            (all(abs(x) <= 0.3 for x in self.walk_sensor_lever_m),
             "walk_sensor_lever_m must be (x, y, z) within +-0.3 m"),
            (self.belt_bounce_hz == 0.0 or 3.0 <= self.belt_bounce_hz <= 30.0,
             "belt_bounce_hz must be 0 (strapped) or within 3-30 Hz"),
            (0.02 <= self.belt_damping_ratio <= 1.0, "belt_damping_ratio must be within 0.02-1"),
            (self.belt_shifts_per_10min >= 0 and 0.0 <= self.belt_shift_deg <= 45.0,
             "belt_shifts_per_10min must be >= 0 and belt_shift_deg within 0-45"),
            (25.0 <= self.sample_rate_hz <= 3200.0, "sample_rate_hz must be within 25-3200"),
            (0.0 <= self.walk_ml_tissue_g_per_bw_s <= 0.1
             and 1.0 <= self.walk_ml_tissue_hz[0] <= self.walk_ml_tissue_hz[1] <= 30.0,
             "walk_ml_tissue_g_per_bw_s must be within 0-0.1 g per BW/s and walk_ml_tissue_hz (low, high) "
             "within 1-30 Hz, low <= high"),
            (-1.0 <= self.walk_ml_tissue_foot_share <= 1.0, "walk_ml_tissue_foot_share must be within -1 and 1"),
            (self.wobble_freq_hz[0] > 0 and self.wobble_freq_hz[0] <= self.wobble_freq_hz[1],
             "wobble_freq_hz must be (low, high) with 0 < low <= high"),
            (0.25 <= self.wobble_decay_per_rad <= 2.0, "wobble_decay_per_rad must be within 0.25-2"),
            (-0.3 <= self.active_shape_q <= 0.1, "active_shape_q must be within -0.3..0.1"),
            (0.0 <= self.walk_shape_q <= 0.45, "walk_shape_q must be within 0-0.45"),
            (0.14 <= self.walk_braking_peak_frac <= 0.25, "walk_braking_peak_frac must be within 0.14-0.25"),
            (all(0.0 <= h[1] <= 1.0 for h in (self.walk_pelvis_rotation_harmonics,
                                               self.walk_pelvis_obliquity_harmonics)),
             "walk_pelvis_rotation_harmonics and walk_pelvis_obliquity_harmonics must be "
             "(q1_deg, h3, q3_deg) with h3 within 0-1"),
            (0.0 <= self.walk_heel_strike_ap_bw <= 0.5 and 0.02 <= self.walk_collision_s <= 0.2
             and 0.0 <= self.walk_collision_delay_s <= 0.05,
             "walk_heel_strike_ap_bw must be within 0-0.5, walk_collision_s within 0.02-0.2 s and "
             "walk_collision_delay_s within 0-0.05 s"),
            (0.03 <= self.walk_step_width_m <= 0.4 and 0.5 <= self.walk_com_height_m <= 1.3,
             "walk_step_width_m must be within 0.03-0.4 m and walk_com_height_m within 0.5-1.3 m"),
            (abs(self.contact_asymmetry_pct) <= 40 and abs(self.impact_asymmetry_pct) <= 80,
             "asymmetries must be within +-40 % (contact) and +-80 % (impact)"),
            (self.gaps_per_hour >= 0 and 0 < self.gap_s[0] <= self.gap_s[1],
             "gaps_per_hour must be >= 0 and gap_s (min, max) positive"),
            (self.body_mass_kg > 20, "body_mass_kg must be > 20"),
            (self.acc_range_g > 1.5 and self.gyr_range_dps > 0, "acc_range_g must be > 1.5 and gyr_range_dps > 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise SimulationError(f"RunnerParams: {msg}")

    @property
    def impact_bw(self) -> float:
        """Impact transient amplitude (BW) actually used."""
        if self.impact_transient_bw is not None:
            return float(self.impact_transient_bw)
        return _STRIKE_IMPACT_BW[self.foot_strike]

    def to_json_dict(self) -> dict[str, Any]:
        """All knobs as JSON-friendly values."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}
