"""All signal stages for one session, in order: resample -> align -> activity -> events -> metrics.

Pure: a :class:`~imuback.store.raw.RawSession` in, a :class:`SessionAnalysis` out, no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2, ImuBlock, RawSession
from imuback.signal.activity import RUN, STILL, WALK, Bouts, classify
from imuback.signal.align import body_rotation, forward_axis, horizontal_guess, up_axis
from imuback.signal.clipping import clipped_on_grid, clipped_rows, peaks_without_clipping
from imuback.signal.dsp import (
    bandpass,
    decimated_bounds,
    interp_at,
    interval_indices,
    interval_mask,
    lowpass,
    prefix_sum,
    step_to_50hz,
    windows_around,
)
from imuback.signal.events import (
    FootEvidence,
    Steps,
    assign_feet,
    bridge_walking_gaps,
    detect_steps,
    one_contact_per_stance,
    refine_walking_ics,
)
from imuback.signal.frames import rotation_angle_deg
from imuback.signal.gait_check import GaitVerdict, check_gait, seated_lone_steps
from imuback.signal.metrics import StepMetrics, StrideMetrics, contact_bounds, step_metrics, stride_metrics
from imuback.signal.mounting import MountingShifts, mounting_shifts
from imuback.signal.orientation import level_lateral
from imuback.signal.params import EventParams, PipelineParams, PlausibilityParams
from imuback.signal.quality import QualityEvidence, calibrate, low_quality_reason, quality_evidence
from imuback.signal.resample import GapStats, to_grid
from imuback.signal.summary import AUTOCORR_MAX_SAMPLES, autocorr_regularity

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAnalysis:
    """Everything the pipeline found in one session (arrays per step/stride, session figures)."""

    body: ImuBlock
    gaps: GapStats
    rotation: F64
    """(3, 3) R with v_body = R @ v_sensor, found from the data."""
    misalignment_deg: float
    bouts: Bouts
    steps: Steps
    step: StepMetrics
    stride: StrideMetrics
    step_regularity: float
    stride_regularity: float
    saturation_pct: float
    notes: list[str] = field(default_factory=list)
    """Plain-language reasons for a partial or empty result."""
    non_gait: list[str] = field(default_factory=list)
    """Movement rejected as not gait (also in ``notes``): how much and why."""
    low_quality_pct: float = float("nan")
    """Share of steps with quality below ``QualityParams.low_quality`` (%)."""
    low_quality_reason: str | None = None
    """Why those steps are of low quality, in words (None: none is)."""
    mounting_shifts: MountingShifts = field(default_factory=MountingShifts)
    """Re-seats of the sensor on the body mid-session (:mod:`imuback.signal.mounting`)."""
    quality_evidence: QualityEvidence | None = None
    """What each step's quality was read from (:mod:`imuback.signal.quality`)."""
    clipped_steps: npt.NDArray[np.bool_] | None = None
    """(S,) running steps whose contact holds a clipped accelerometer sample (None: no clipping);
    their impact peak and loading rate are unknown (NaN) but larger than the sensor read."""

    def times_ns(self, pos: F64) -> npt.NDArray[np.int64]:
        """UTC ns of fractional sample positions (NaN -> int64 min, use with a mask)."""
        t = interp_at(self.body.t_s, pos) if self.body.n else pos
        out = np.full(pos.shape, np.iinfo(np.int64).min, dtype=np.int64)
        ok = np.isfinite(pos)
        out[ok] = self.body.t0_ns + np.round(t[ok] * 1e9).astype(np.int64)
        return out


def _extremes(a: npt.NDArray[np.float32] | None) -> tuple[float, float]:
    """(max, min) over a whole array: one fast pass each ((0, 0) for none or empty)."""
    return (float(a.max()), float(a.min())) if a is not None and a.size else (0.0, 0.0)


_WALK_STEP_PRIOR_S = 0.55
"""A walking step's time where a session has no two consecutive walking steps to measure one:
half the ~1.1 s walking stride the activity window assumes (``ActivityParams``)."""


def _foot_cue(body: ImuBlock, lateral_int: F64, steps: Steps, params: EventParams) -> tuple[F64, F64 | None]:
    """Evidence per step that it is a RIGHT contact, from two independent cues: the mean lateral
    (+y, left) level-frame acceleration (its prefix sum ``lateral_int`` (N + 1,), m/s² · samples)
    over the contact (running) or the step (walking: IC to the next IC; a chain's last step over a
    typical step time) minus the session mean, scaled by its spread;
    and in walking the band-passed yaw rate (deg/s) ``foot_yaw_lead_s`` before IC, scaled by its spread (0 elsewhere;
    None without a gyroscope or walking steps).
    """
    n = body.n
    if steps.n == 0:
        return np.zeros(0), None
    s = np.ceil(steps.ic_pos).astype(np.int64)
    end_run = np.where(np.isfinite(steps.to_pos), steps.to_pos, steps.ic_pos)
    nxt = np.append(steps.ic_pos[1:], np.inf)
    # walking: over the step, IC to the next IC; a chain's last step (no next step in its chain)
    # over a typical step time, never past the next IC — at the IC instant itself the body still
    # moves toward the new foot (the previous contact's push), the opposite of the step's mean
    walk_next = steps.has_next() & (steps.activity == WALK)
    typical = (float(np.median(nxt[walk_next] - steps.ic_pos[walk_next])) if walk_next.any()
               else _WALK_STEP_PRIOR_S * body.fs_hz)
    seg_end = body.seg_bounds[np.minimum(np.searchsorted(body.seg_bounds, s, side="right"),
                                         body.seg_bounds.size - 1)] - 1  # never read across a gap
    end_walk = np.where(steps.has_next(), nxt, np.minimum(np.minimum(nxt, steps.ic_pos + typical), seg_end))
    end = np.where(steps.activity == RUN, end_run, end_walk)
    e = np.minimum(np.floor(end).astype(np.int64) + 1, n)
    mean = float(lateral_int[-1]) / max(n, 1)
    cue = np.where(e > s, (lateral_int[e] - lateral_int[s]) / np.maximum(e - s, 1) - mean, np.nan)
    scale = np.nanmedian(np.abs(cue)) if np.isfinite(cue).any() else 1.0
    cue = np.nan_to_num(cue / (scale if scale > 0 else 1.0))
    walk = steps.activity == WALK
    if walk.any() and body.gyr_dps is not None:
        # walking: add the pelvis yaw rate at IC (positive at a right contact), scaled the same way;
        # it does not depend on where in the loading response IC was placed
        # (a 0.5-2 Hz band: ~50 Hz is plenty, as for the activity features). It is filtered only
        # around the walking steps, with a margin in which the filter's edge effects die out.
        lo_hz, hi_hz = params.foot_yaw_band_hz
        dec = step_to_50hz(body.fs_hz)
        fs_d = body.fs_hz / dec
        bounds_d = decimated_bounds(body.seg_bounds, dec)
        p = steps.ic_pos[walk] / dec
        # read foot_yaw_lead_s before IC, never before the start of the IC's segment
        start = bounds_d[np.clip(np.searchsorted(bounds_d, p, side="right") - 1, 0, bounds_d.size - 1)]
        p = np.maximum(p - params.foot_yaw_lead_s * fs_d, start)
        ws, we = windows_around(p, round(params.foot_yaw_margin_s * fs_d), bounds_d)
        idx, lengths = interval_indices(ws, we)
        offset = np.cumsum(lengths) - lengths
        idx *= dec  # the full-rate samples: gathered from the column, no strided pass over all of it
        yaw = bandpass(body.gyr_dps[:, 2][idx], lo_hz, hi_hz, fs_d, np.append(offset, idx.size))
        w = np.searchsorted(ws, p, side="right") - 1
        at = interp_at(yaw, offset[w] + np.minimum(p - ws[w], lengths[w] - 1))  # never into the next window
        yaw_scale = float(np.median(np.abs(at)))
        yaw_cue = np.zeros(steps.n)
        yaw_cue[walk] = at / (yaw_scale if yaw_scale > 0 else 1.0)
        return cue, yaw_cue
    return cue, None


def _stance_cue(body: ImuBlock, lateral_int: F64, steps: Steps, params: EventParams) -> F64 | None:
    """Without a gyroscope, a second walking foot cue (S,): the mean lateral (+y, left) acceleration
    over ``params.foot_lone_stance_s`` after each walking IC (never past the IC's segment; its
    prefix sum ``lateral_int`` (N + 1,), m/s² · samples) minus the session mean, scaled by its
    median magnitude; positive means RIGHT, 0 for running steps. None where the window is (0, 0) or
    there are no walking steps.
    """
    a_s, b_s = params.foot_lone_stance_s
    walk = steps.activity == WALK
    if not b_s > a_s or not walk.any():
        return None
    n = body.n
    ic = steps.ic_pos[walk]
    seg_end = body.seg_bounds[np.minimum(np.searchsorted(body.seg_bounds, ic, side="right"),
                                         body.seg_bounds.size - 1)]
    s = np.minimum(np.round(ic + a_s * body.fs_hz).astype(np.int64), seg_end)
    e = np.minimum(np.round(ic + b_s * body.fs_hz).astype(np.int64), seg_end)
    mean = float(lateral_int[-1]) / max(n, 1)
    at = np.where(e > s, (lateral_int[e] - lateral_int[s]) / np.maximum(e - s, 1) - mean, 0.0)
    scale = float(np.median(np.abs(at[at != 0]))) if np.any(at != 0) else 1.0
    cue = np.zeros(steps.n)
    cue[walk] = at / (scale if scale > 0 else 1.0)
    return cue


def _gait_samples(steps: Steps, activity: int, moving: npt.NDArray[np.bool_],
                  min_chain: int = 4) -> npt.NDArray[np.bool_]:
    """(N,) samples inside whole steps of ``activity`` in chains of at least ``min_chain`` steps.

    The forward axis is the gait's own: handling the sensor (clipping it on, carrying it) moves
    it a lot and may be labelled walking, but does not make a chain of regular steps. Falls back
    to ``moving`` when there are too few such steps.
    """
    if steps.n < min_chain:
        return moving
    size = np.bincount(steps.chain)[steps.chain]
    k = np.flatnonzero((steps.activity == activity) & steps.has_next() & (size >= min_chain))
    if k.size < min_chain:
        return moving
    first = np.ceil(steps.ic_pos[k]).astype(np.int64)
    last = np.floor(steps.ic_pos[k + 1]).astype(np.int64) + 1
    return interval_mask(first, last, moving.size)


def _implausible_rows(raw: RawSession, params: PlausibilityParams,
                      acc_extremes: tuple[float, float]) -> npt.NDArray[np.bool_] | None:
    """(N,) rows with a value no sensor of this kind can have produced; None when there are none.

    Limits: ``range_margin`` x the declared range, else ``max_acc_g`` / ``max_gyr_dps``. Whole-array
    extremes first (one fast pass each), so clean sessions cost no per-row pass.
    """
    acc_lim = params.range_margin * raw.acc_range_g if raw.acc_range_g else params.max_acc_g
    gyr_lim = params.range_margin * raw.gyr_range_dps if raw.gyr_range_dps else params.max_gyr_dps
    bad = None
    for a, lim, (top, bottom) in ((raw.acc_mps2, acc_lim * G_MPS2, acc_extremes),
                                  (raw.gyr_dps, gyr_lim, _extremes(raw.gyr_dps))):
        if a is None or a.shape[0] == 0 or (top <= lim and bottom >= -lim):
            continue
        rows = np.any(np.abs(a) > lim, axis=1)
        bad = rows if bad is None else bad | rows
    return bad


def _drop_non_gait(steps: Steps, verdict: GaitVerdict, bouts: Bouts, fs: float, notes: list[str]) -> Steps:
    """Steps of the bouts judged not gait removed, with a note per reason (kept steps unchanged)."""
    if verdict.keep.all():
        return steps
    bad = verdict.bout[~verdict.keep]
    drop = np.isin(np.minimum(bouts.index_of(steps.ic_pos), max(bouts.label.size - 1, 0)), bad)
    for why in sorted({r for r, k in zip(verdict.reason, verdict.keep, strict=True) if not k}):
        sel = bad[[r == why for r, k in zip(verdict.reason, verdict.keep, strict=True) if not k]]
        secs = float(np.sum(bouts.end_idx[sel] - bouts.start_idx[sel])) / fs
        n = int(np.isin(np.minimum(bouts.index_of(steps.ic_pos), max(bouts.label.size - 1, 0)), sel).sum())
        notes.append(f"{n} step-like peaks in {secs:.0f} s of movement not counted as steps: {why}")
    return _keep_steps(steps, ~drop)


def _keep_steps(steps: Steps, keep: npt.NDArray[np.bool_]) -> Steps:
    """The steps where ``keep`` (S,) is True."""
    return Steps(ic_pos=steps.ic_pos[keep], to_pos=steps.to_pos[keep], activity=steps.activity[keep],
                 chain=steps.chain[keep], foot=steps.foot[keep], quality=steps.quality[keep])


def _over_bridges(a: F64, b: F64, bridged_idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """(S,) True where the stretch between grid positions ``a`` and ``b`` (both read, fractional;
    NaN ``b`` = ``a``) touches a bridged stretch (``GapStats.bridged_idx``, sorted and disjoint).
    """
    if bridged_idx.shape[0] == 0 or a.size == 0:
        return np.zeros(a.size, dtype=bool)
    b = np.where(np.isfinite(b), b, a)
    j = np.searchsorted(bridged_idx[:, 0], np.ceil(b), side="right") - 1  # last bridge starting by b
    out: npt.NDArray[np.bool_] = (j >= 0) & (bridged_idx[np.maximum(j, 0), 1] > np.floor(a))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _BridgeCounts:
    """What the bridged stretches took from a session (for its note)."""

    toe_offs: int = 0
    """Running contacts over a bridge: no toe-off."""
    ics: int = 0
    """Initial contacts inside a bridge (their step's figures are NaN)."""
    steps: int = 0
    """Steps with a step time before that have none over a bridge."""
    strides: int = 0
    """Strides with a stride time before that have none over a bridge."""
    contacts: int = 0
    """Contacts ``[IC, TO]`` over a bridge: no contact figures."""


def _no_toe_off_on_bridges(steps: Steps, bridged_idx: npt.NDArray[np.int64]) -> tuple[Steps, int]:
    """Steps whose contact ``[IC, TO]`` overlaps a bridged stretch (``GapStats.bridged_idx``, sorted
    and disjoint) lose their toe-off (NaN); the count of such steps.
    """
    hit = np.isfinite(steps.to_pos) & _over_bridges(steps.ic_pos, steps.to_pos, bridged_idx)
    if not hit.any():
        return steps, 0
    return dataclasses.replace(steps, to_pos=np.where(hit, np.nan, steps.to_pos)), int(hit.sum())


def _nothing_over_bridges(steps: Steps, sm: StepMetrics, km: StrideMetrics, bridged_idx: npt.NDArray[np.int64],
                          counts: _BridgeCounts) -> tuple[StepMetrics, StrideMetrics, _BridgeCounts]:
    """Walking and running: NaN for every figure that reads a bridged stretch.

    A step ``[IC, next IC]`` over a bridge loses what is read over the step (step time, cadence,
    flight, vertical oscillation, braking, peak vGRF: a step hidden inside the bridge would make
    that interval two steps long); a contact ``[IC, TO]`` (``[IC]`` without a TO) over one loses
    what is read in the contact (contact time, impact, vGRF, loading rate, pelvic drop), and so an
    IC inside a bridge leaves its step and the one before without figures; a stride over one loses
    all its figures. The counts of what was lost are added to ``counts``.
    """
    if bridged_idx.shape[0] == 0 or steps.n == 0:
        return sm, km, counts
    ic = steps.ic_pos
    nxt = steps.has_next()
    over_step = _over_bridges(ic, np.where(nxt, np.append(ic[1:], np.nan), steps.to_pos), bridged_idx)
    over_contact = _over_bridges(ic, steps.to_pos, bridged_idx)
    in_bridge = _over_bridges(ic, ic, bridged_idx)

    def nan(x: F64, where: npt.NDArray[np.bool_]) -> F64:
        return np.where(where, np.nan, x)

    either = over_step | over_contact
    sm = dataclasses.replace(
        sm, step_time_s=nan(sm.step_time_s, over_step), cadence_spm=nan(sm.cadence_spm, over_step),
        flight_time_s=nan(sm.flight_time_s, over_step),
        vertical_oscillation_cm=nan(sm.vertical_oscillation_cm, over_step),
        braking_peak_g=nan(sm.braking_peak_g, either), braking_impulse_mps=nan(sm.braking_impulse_mps, either),
        grf_peak_bw=nan(sm.grf_peak_bw, either), contact_time_s=nan(sm.contact_time_s, over_contact),
        impact_peak_g=nan(sm.impact_peak_g, over_contact),
        loading_rate_g_per_s=nan(sm.loading_rate_g_per_s, over_contact),
        pelvic_drop_deg=nan(sm.pelvic_drop_deg, over_contact))
    k = km.first_step
    over_stride = _over_bridges(ic[k], ic[np.minimum(k + 2, steps.n - 1)], bridged_idx) if k.size else np.zeros(0, bool)
    lost_strides = int(np.count_nonzero(over_stride & np.isfinite(km.stride_time_s)))
    km = dataclasses.replace(
        km, stride_time_s=nan(km.stride_time_s, over_stride),
        pelvis_rotation_deg=nan(km.pelvis_rotation_deg, over_stride),
        pelvis_obliquity_deg=nan(km.pelvis_obliquity_deg, over_stride),
        pelvis_tilt_deg=nan(km.pelvis_tilt_deg, over_stride), ml_excursion_cm=nan(km.ml_excursion_cm, over_stride),
        ml_acc_rms_g=nan(km.ml_acc_rms_g, over_stride),
        impact_asymmetry_pct=nan(km.impact_asymmetry_pct, over_stride),
        contact_asymmetry_pct=nan(km.contact_asymmetry_pct, over_stride))
    return sm, km, dataclasses.replace(
        counts, ics=int(in_bridge.sum()), strides=lost_strides,
        steps=int(np.count_nonzero(over_step & nxt)), contacts=int(np.count_nonzero(over_contact)))


def _bridge_note(gaps: GapStats, counts: _BridgeCounts, params: PipelineParams) -> str:
    """The session's note on its lost-packet gaps bridged over more than ``exact_fill_s``."""
    rp = params.resample

    def n(k: int, what: str) -> str:
        return f"{k} {what}{'s' if k != 1 else ''}"

    k = gaps.bridged_idx.shape[0]
    parts = [f"{n(counts.steps, 'step')} over them {'has' if counts.steps == 1 else 'have'} no step time, "
             f"cadence, flight, oscillation, braking or vGRF, {n(counts.strides, 'stride')} no stride figures"]
    if counts.contacts:
        parts.append(f"{n(counts.contacts, 'contact')} over them {'has' if counts.contacts == 1 else 'have'} no "
                     "contact figures")
    if counts.ics:
        parts.append(f"{n(counts.ics, 'initial contact')} fell inside them (quality 0)")
    if counts.toe_offs:
        parts.append(f"{n(counts.toe_offs, 'running contact')} report no toe-off")
    return (f"{n(k, 'lost-packet gap')} of {rp.exact_fill_s:g}-{rp.max_fill_s:g} s bridged by "
            f"interpolation ({gaps.filled_s:.1f} s interpolated in all, of {gaps.gap_total_s:.1f} s missing): "
            + "; ".join(parts))


def analyse_session(raw: RawSession, *, params: PipelineParams = PipelineParams()) -> SessionAnalysis:
    """Run every signal stage on one raw session."""
    notes: list[str] = []
    acc_extremes = _extremes(raw.acc_mps2)
    bad = _implausible_rows(raw, params.plausible, acc_extremes)
    if bad is not None:
        # left out like missing samples (gaps), never silently: the reason goes to status_reason
        notes.append(f"{int(bad.sum())} samples with implausible values (beyond the sensor's range) were "
                     "left out as gaps")
    # the samples analysed: without the implausible rows (not a new RawSession: its checks, e.g.
    # of the rate, are about the recording as it was made, not about what is left of it)
    t_ns, acc_s, gyr_s = raw.time_ns, raw.acc_mps2, raw.gyr_dps
    if bad is not None:
        keep = ~bad
        t_ns, acc_s = t_ns[keep], acc_s[keep]
        gyr_s = None if gyr_s is None else gyr_s[keep]
        acc_extremes = _extremes(acc_s)
    block, gaps = to_grid(t_ns, acc_s, gyr_s, fs_hz=raw.sample_rate_hz, params=params.resample)
    clipped = clipped_rows(acc_s, acc_range_g=raw.acc_range_g, acc_extremes=acc_extremes, time_ns=t_ns)
    sat = 100.0 * int(np.count_nonzero(clipped)) / int(acc_s.shape[0]) if clipped is not None else 0.0
    acc = block.acc_mps2
    fs, bounds = block.fs_hz, block.seg_bounds
    dec = step_to_50hz(fs)  # posture and activity span seconds: ~50 Hz is plenty
    acc_d = np.ascontiguousarray(acc[::dec])
    if block.n == 0:
        notes.append("no contiguous segment long enough to analyse")
        z_s = np.asarray(raw.mounting[2], dtype=np.float64)
    else:
        z_s = up_axis(acc_d, window=max(1, round(2.0 * fs / dec)),
                      upright_cone_deg=params.align.upright_cone_deg)
    bouts = classify(acc_d, z_s, n=block.n, fs_hz=fs, bounds=bounds, params=params.activity)
    sel = bouts.label != STILL
    moving = interval_mask(bouts.start_idx[sel], bouts.end_idx[sel], block.n)
    if moving.any():  # whole strides: the mean is gravity
        z_s = up_axis(acc_d, moving[::dec], window=max(1, round(2.0 * fs / dec)),
                      upright_cone_deg=params.align.upright_cone_deg)
    vertical_g = acc @ z_s
    vertical_g /= G_MPS2
    steps = detect_steps(vertical_g, fs_hz=fs, bounds=bounds, bouts=bouts, params=params.events)
    gyr_d = None if block.gyr_dps is None else block.gyr_dps[::dec]
    verdict = check_gait(acc_d, z_s, gyr_d, fs_d_hz=fs / dec, bounds=bounds, dec=dec, bouts=bouts,
                         ic_pos=steps.ic_pos, params=params.gait_check)
    non_gait: list[str] = []
    steps = _drop_non_gait(steps, verdict, bouts, fs, non_gait)
    notes += non_gait
    guess = horizontal_guess(z_s, np.asarray(raw.mounting, dtype=np.float64))
    # step lag of the activity with the most steps (the forward axis comes from its even part)
    major = RUN if np.count_nonzero(steps.activity == RUN) >= np.count_nonzero(steps.activity == WALK) else WALK
    own = (steps.activity[:-1] == major) & steps.has_next()[:-1] if steps.n >= 2 else np.zeros(0, bool)
    lag = round(float(np.median(np.diff(steps.ic_pos)[own]))) if own.any() else 0
    run = steps.activity == RUN  # braking after IC is a reliable forward cue in running only
    contact = np.nan_to_num(steps.to_pos[run] - steps.ic_pos[run], nan=0.1 * fs).astype(np.int64)
    fwd = forward_axis(acc, z_s, guess, step_lag=lag, moving=_gait_samples(steps, major, moving),
                       ic_idx=np.ceil(steps.ic_pos[run]).astype(np.int64), contact_len=contact,
                       running=major == RUN, fs_hz=fs, bounds=bounds, every=dec, acc_every_mps2=acc_d)
    if steps.n and fwd.sign_from == "mounting":
        notes.append("forward direction taken from the nominal mounting: the steps did not show it")
    rot = body_rotation(z_s, fwd.axis)
    body = block.rotated(rot)
    # the sensor-frame copies: long sessions need the memory back (gyr_d is a view: it would
    # keep the whole sensor-frame gyro alive)
    del block, acc, acc_d, gyr_d
    # a lone walking "step" with the trunk reclined before and after: a movement while seated
    seated = seated_lone_steps(body.acc_mps2, steps.ic_pos, steps.activity, fs_hz=fs, bounds=body.seg_bounds,
                               dec=dec, max_step_s=params.events.max_step_s, params=params.gait_check)
    if seated.any():
        k = int(seated.sum())
        why = (f"{k} lone step-like peak{'s' if k > 1 else ''} while seated not counted as "
               f"step{'s' if k > 1 else ''} (the trunk reclined {params.gait_check.seated_deg:g}° or more behind "
               "its walking posture before and after, no other step near)")
        non_gait.append(why)
        notes.append(why)
        steps = _keep_steps(steps, ~seated)
    sel_major = bouts.label == major
    major_samples = interval_mask(bouts.start_idx[sel_major], bouts.end_idx[sel_major], body.n)
    shifts = mounting_shifts(body.acc_mps2, major_samples, body.t_s, fs_hz=fs, params=params.mounting)
    if shifts.n:
        notes.append(f"the sensor moved on the body {shifts.n} time{'s' if shifts.n > 1 else ''} during the "
                     f"session (first at {shifts.t_s[0] / 60:.0f} min, up to {shifts.angle_deg.max():.0f}°): "
                     "angles and side-to-side figures after it are seen through another mounting")
    # the gyro's running integrals (3, N + 1), deg: roll for the level frame, stride angle ranges
    gyr_int = None
    if body.gyr_dps is not None:
        gyr_int = np.empty((3, body.n + 1))
        gyr_int[:, 0] = 0.0
        for axis in range(3):  # axis by axis: each column of the body block is contiguous
            np.cumsum(body.gyr_dps[:, axis], out=gyr_int[axis, 1:])
            gyr_int[axis] /= fs  # while the row is still in cache
    # walking steps in gaps of the rhythm, confirmed by heel-strike braking (needs the forward axis)
    steps = bridge_walking_gaps(steps, vertical_g, body.acc_mps2[:, 0], fs_hz=fs, bounds=body.seg_bounds,
                                bouts=bouts, params=params.events)
    lateral = level_lateral(body, gyr_int, highpass_hz=params.align.roll_highpass_hz)
    lateral_int = prefix_sum(lateral)
    # the feet's inputs, built once: one_contact_per_stance votes again the chains it joins
    foot_evidence = FootEvidence(cue=np.zeros(steps.n), second=None, lone=raw.gyr_dps is None,
                                 bounds=body.seg_bounds)
    if raw.gyr_dps is not None:
        cue, second = _foot_cue(body, lateral_int, steps, params.events)
        foot_evidence = FootEvidence(cue=cue, second=second, lone=False, bounds=body.seg_bounds)
    elif steps.n:
        # without a gyroscope pelvic drop (gravity leaking into the lateral axis) and the ground's
        # push cannot be told apart, and their balance differs between runners: no running feet;
        # walking feet from the lateral acceleration alone, over the step and over single support
        # (after the loading response's drop), where one votes clearly and the other agrees
        walk = steps.activity == WALK
        lateral_cue, _ = _foot_cue(body, lateral_int, steps, params.events)
        foot_evidence = FootEvidence(cue=np.where(walk, lateral_cue, 0.0),
                                     second=_stance_cue(body, lateral_int, steps, params.events),
                                     lone=True, bounds=body.seg_bounds)
        notes.append("no gyroscope: left/right from the side-to-side acceleration alone, labelled only in "
                     "walking where it is clear" if walk.any() else
                     "no gyroscope: left/right cannot be told reliably, so feet are not labelled")
    steps = assign_feet(steps, foot_evidence.cue, second=foot_evidence.second, params=params.events,
                        lone=foot_evidence.lone, bounds=foot_evidence.bounds)
    # walking IC at the forward-acceleration peak before braking (after the feet: their cues are
    # read at the vertical-signal IC, where they were designed and validated)
    steps = refine_walking_ics(steps, body.acc_mps2[:, 0], fs_hz=fs, bounds=body.seg_bounds, params=params.events)
    steps = one_contact_per_stance(steps, fs_hz=fs, bounds=body.seg_bounds, bouts=bouts,
                                   foot_evidence=foot_evidence, params=params.events)
    steps, n_to = _no_toe_off_on_bridges(steps, gaps.bridged_idx)
    evidence = quality_evidence(vertical_g, body.acc_mps2[:, 0], steps, fs_hz=fs, bounds=body.seg_bounds,
                                params=params.quality, events=params.events)
    quality = calibrate(evidence, params=params.quality)
    # an IC inside a bridged stretch was placed on the interpolated line: kept (the step happened)
    # but with quality 0, so reports grey it out (its step's figures are NaN, below)
    quality = np.where(_over_bridges(steps.ic_pos, steps.ic_pos, gaps.bridged_idx), 0.0, quality)
    steps = dataclasses.replace(steps, quality=quality)
    low = quality < params.quality.low_quality
    low_pct = 100.0 * float(np.mean(low)) if steps.n else float("nan")
    low_reason = low_quality_reason(evidence, low, params=params.quality)
    if low_pct > params.quality.low_quality_note_pct:
        notes.append(f"{low_pct:.0f} % of the steps are of low quality ({low_reason}): "
                     "their events and metrics are less certain")
    # regularity over the longest running (else walking) bout, at that activity's step lag
    reg = (float("nan"), float("nan"))
    for lab in (RUN, WALK):
        sel = np.flatnonzero(bouts.label == lab)
        own = (steps.activity[:-1] == lab) & steps.has_next()[:-1]
        if sel.size and own.any():
            lag_lab = round(float(np.median(np.diff(steps.ic_pos)[own])))
            longest = sel[np.argmax(bouts.end_idx[sel] - bouts.start_idx[sel])]
            s0, e0 = bouts.start_idx[longest], bouts.end_idx[longest]
            half = AUTOCORR_MAX_SAMPLES // 2 + round(fs)  # the part used, + 1 s for the filter's edges
            seg = vertical_g[max(s0, (s0 + e0) // 2 - half):min(e0, (s0 + e0) // 2 + half)]
            seg = lowpass(seg, params.metrics.regularity_lowpass_hz, fs, np.array([0, seg.size]))
            reg = autocorr_regularity(seg, lag_lab)
            break
    del vertical_g  # full-rate: the metrics below need the memory on long sessions
    sm = step_metrics(body, steps, gyr_int_deg=gyr_int, params=params.metrics)
    clipped_steps = None
    if clipped is not None:
        clipped_grid = clipped_on_grid(t_ns, clipped, t0_ns=body.t0_ns, t_s=body.t_s)
        s_idx, e_idx = contact_bounds(steps, body.n)
        sm, clipped_steps = peaks_without_clipping(sm, run_mask=steps.activity == RUN, start_idx=s_idx,
                                                   end_idx=e_idx, clipped_grid=clipped_grid)
        n_clip = int(clipped_steps.sum())
        if n_clip or sat > 0.05:
            n_sat = int(np.count_nonzero(clipped))
            share = f" ({sat:.1f} %)" if sat >= 0.05 else ""
            steps_text = "1 running step reads its" if n_clip == 1 else f"{n_clip} running steps read their"
            notes.append(f"accelerometer saturated (clipped at its full-scale range) in {n_sat} samples{share}"
                         + (f": {steps_text} peak vGRF from the step's timing alone, without impact peak "
                            "or loading rate" if n_clip else ": impact peaks are underestimated"))
    km = stride_metrics(body, steps, sm, gyr_int_deg=gyr_int, lateral_mps2=lateral, lateral_int=lateral_int)
    sm, km, lost = _nothing_over_bridges(steps, sm, km, gaps.bridged_idx, _BridgeCounts(toe_offs=n_to))
    if gaps.bridged_idx.shape[0]:
        notes.append(_bridge_note(gaps, lost, params))
    if steps.n == 0:
        if not moving.any():
            notes.append("no walking or running found: the sensor was still or barely moving")
        else:
            notes.append("walking or running bouts found, but no clear steps in them")
    elif not (steps.activity == RUN).any():
        notes.append("walking only: no running steps (running metrics are empty)")
    if raw.gyr_dps is None:
        notes.append("no gyroscope: pelvis rotation, obliquity and tilt are not available")
    if gaps.dropped_s > 0:
        notes.append(f"{gaps.dropped_s:.1f} s in pieces shorter than {params.resample.min_segment_s:g} s "
                     "between gaps were not analysed")
    mis = rotation_angle_deg(rot @ np.asarray(raw.mounting, dtype=np.float64).T)
    return SessionAnalysis(body=body, gaps=gaps, rotation=rot, misalignment_deg=mis, bouts=bouts,
                           steps=steps, step=sm, stride=km, step_regularity=reg[0],
                           stride_regularity=reg[1], saturation_pct=sat, notes=notes,
                           non_gait=non_gait, low_quality_pct=low_pct,
                           low_quality_reason=low_reason, mounting_shifts=shifts,
                           quality_evidence=evidence, clipped_steps=clipped_steps)
