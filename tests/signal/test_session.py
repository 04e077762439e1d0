"""Known-answer tests of the whole signal path on analytic half-sine running."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imuback.pipeline import process_raw
from imuback.signal.session import analyse_session
from tests.signal.analytic import half_sine_run


def test_steps_timing_and_feet_on_analytic_run(analytic_run):
    raw, truth = analytic_run
    res = process_raw(raw)
    steps = res.steps.to_pandas()
    expected = raw.n_samples / raw.sample_rate_hz / truth["step_s"]
    assert abs(len(steps) - expected) <= 2
    assert steps["activity"].eq("run").all()
    assert steps["step_time_s"].median() == pytest.approx(truth["step_s"], abs=0.002)
    # force-plate convention: contact while vGRF > 0.066 BW (a half sine crosses it near its ends)
    onset = truth["contact_s"] * (1 - 2 * np.arcsin(0.066 / truth["peak_bw"]) / np.pi)
    assert steps["contact_time_s"].median() == pytest.approx(onset, abs=0.010)
    # even steps are RIGHT in the analytic session: the first full step starts at t=0
    first_ic_s = (steps["ic_time"].iloc[0].value - raw.time_ns[0]) / 1e9
    k0 = int(first_ic_s // truth["step_s"])
    want_first = "R" if k0 % 2 == 0 else "L"
    assert steps["foot"].iloc[0] == want_first
    assert (steps["foot"].to_numpy()[1:] != steps["foot"].to_numpy()[:-1]).all()


def test_alignment_and_pelvis_ranges(analytic_run):
    raw, truth = analytic_run
    a = analyse_session(raw)
    assert a.misalignment_deg == pytest.approx(truth["misalignment_deg"], abs=1.0)
    s = a.stride
    assert np.nanmedian(s.pelvis_obliquity_deg) == pytest.approx(truth["obliquity_deg"], abs=0.5)
    assert np.nanmedian(s.pelvis_tilt_deg) == pytest.approx(truth["tilt_deg"], abs=0.5)
    assert np.nanmedian(s.pelvis_rotation_deg) == pytest.approx(truth["rotation_deg"], abs=0.5)


def test_grf_peak_and_vertical_oscillation(analytic_run):
    raw, truth = analytic_run
    res = process_raw(raw)
    steps = res.steps.to_pandas()
    # 8 Hz low-pass keeps a 0.24 s half sine's peak within a few %
    assert steps["grf_peak_bw"].median() == pytest.approx(truth["peak_bw"], rel=0.05)
    # vertical displacement of the analytic trajectory, integrated densely here
    fs = 2000.0
    step_s, contact_s = truth["step_s"], truth["contact_s"]
    t = np.arange(int(step_s * fs)) / fs
    f = np.where(t < contact_s, np.sin(np.pi * t / contact_s), 0.0) * step_s / (contact_s * 2 / np.pi)
    a = (f - 1.0) * 9.80665
    v = np.cumsum(a) / fs
    v -= v.mean()
    z = np.cumsum(v) / fs
    want_cm = 100 * (z.max() - z.min())
    assert steps["vertical_oscillation_cm"].median() == pytest.approx(want_cm, abs=0.3)


def test_accelerometer_only_gives_null_pelvis_angles():
    raw, _ = half_sine_run(gyro=False, minutes=1.0)
    res = process_raw(raw)
    strides = res.strides.to_pandas()
    assert len(strides) > 50
    assert strides["pelvis_rotation_deg"].isna().all()
    assert strides["ml_excursion_cm"].notna().all()
    assert "no gyroscope" in res.summary["status_reason"]


def test_accelerometer_only_walking_gets_feet_from_the_lateral_cue_and_running_none():
    import dataclasses

    from imuback.simulate.params import RunnerParams
    from imuback.simulate.runner import simulate_session

    sim = simulate_session(RunnerParams(run_minutes=1.0, walk_start_s=60.0, walk_end_s=0.0), seed=5,
                           session_id="acc-only", runner_id="sim", start_time=1_600_000_000 * 10**9)
    res = process_raw(dataclasses.replace(sim.raw, gyr_dps=None))
    st = res.steps.to_pandas()
    walk, run = st[st["activity"] == "walk"], st[st["activity"] == "run"]
    assert len(walk) > 60 and len(run) > 100
    assert run["foot"].isna().all()  # running: pelvic drop and the ground's push not told apart
    truth = sim.truth_steps.to_pandas()
    t_ic = truth["ic_time"].astype("int64").to_numpy()
    near = np.abs(walk["ic_time"].astype("int64").to_numpy()[:, None] - t_ic[None, :]).argmin(axis=1)
    labelled = walk["foot"].notna().to_numpy()
    assert labelled.mean() >= 0.8
    assert (walk["foot"].to_numpy()[labelled] == truth["foot"].to_numpy()[near[labelled]]).mean() >= 0.97
    assert "side-to-side acceleration alone" in res.summary["status_reason"]


@pytest.mark.parametrize("turn", ["backwards", "upside_down"])
def test_a_sensor_worn_backwards_or_upside_down_still_gets_the_feet_right(turn):
    """Far outside the ±30° the mounting promises: braking after IC fixes the forward sign, so
    the feet (left/right) come out as when the sensor is worn as nominal."""
    import dataclasses

    from imuback.signal.frames import rot_x, rot_z

    raw, _ = half_sine_run(minutes=2.0)
    r = rot_z(np.pi) if turn == "backwards" else rot_x(np.pi)
    turned = dataclasses.replace(raw, acc_mps2=(raw.acc_mps2 @ r).astype(np.float32),
                                 gyr_dps=(raw.gyr_dps @ r).astype(np.float32))
    a, b = process_raw(raw).steps.to_pandas(), process_raw(turned).steps.to_pandas()
    assert len(a) == len(b)
    assert (a["foot"].to_numpy() == b["foot"].to_numpy()).all()
    assert process_raw(turned).summary["misalignment_deg"] == pytest.approx(180.0, abs=2.0)


def test_the_sensor_frame_signals_are_released_once_the_body_frame_exists(analytic_run, monkeypatch):
    # a long session needs that memory back: nothing may keep the sensor-frame block alive
    # through the metrics (a decimated view of its gyro did, which is 0.5x the raw input more)
    import weakref

    import imuback.signal.session as session
    from imuback.core import ImuBlock

    raw, _truth = analytic_run
    refs: list[weakref.ref[np.ndarray]] = []
    rotated, step_metrics = ImuBlock.rotated, session.step_metrics

    def keep_refs(self: ImuBlock, r: np.ndarray) -> ImuBlock:
        refs.extend(weakref.ref(a) for a in (self.acc_mps2, self.gyr_dps) if a is not None)
        return rotated(self, r)

    alive: list[bool] = []

    def check(*args, **kwargs):
        alive.extend(ref() is not None for ref in refs)
        return step_metrics(*args, **kwargs)

    monkeypatch.setattr(ImuBlock, "rotated", keep_refs)
    monkeypatch.setattr(session, "step_metrics", check)
    analyse_session(raw)
    assert len(alive) == 2 and not any(alive)


def test_a_lone_walking_step_is_judged_over_the_step_not_at_its_initial_contact():
    """A chain of one walking step (the steps either side were missed, as in turns and slow
    walking) takes its lateral foot cue over a typical step time after IC. At the IC instant the
    body still accelerates toward the new foot (the previous contact's push): read there, the
    cue says the wrong foot (on main its window was the IC sample alone).
    """
    from imuback.core import ImuBlock
    from imuback.signal.activity import WALK
    from imuback.signal.dsp import prefix_sum
    from imuback.signal.events import UNKNOWN, Steps
    from imuback.signal.params import EventParams
    from imuback.signal.session import _foot_cue

    fs, n = 100.0, 1000
    step = 55
    chain_ic = 100 + step * np.arange(6)  # RIGHT, LEFT, ... then a stop
    lone_ic = 700  # a RIGHT step alone: its neighbours were not detected
    lateral = np.zeros(n)  # body y (left) level-frame acceleration, m/s²
    for k, s in enumerate(chain_ic):
        lateral[s + 1:s + step] = 1.0 if k % 2 == 0 else -1.0  # toward the left over a right step
        lateral[s] = -lateral[s + 1]  # ... after still moving toward the new foot at IC
    lateral[lone_ic + 1:lone_ic + step] = 1.0
    lateral[lone_ic] = -1.5
    body = ImuBlock(t_s=np.arange(n) / fs, acc_mps2=np.zeros((n, 3)), gyr_dps=None, frame="body", fs_hz=fs,
                    seg_bounds=np.array([0, n]), t0_ns=0)
    ic = np.append(chain_ic, lone_ic).astype(np.float64)
    steps = Steps(ic_pos=ic, to_pos=np.full(ic.size, np.nan), activity=np.full(ic.size, WALK, np.int8),
                  chain=np.array([0, 0, 0, 0, 0, 0, 1]), foot=np.full(ic.size, UNKNOWN, np.int8),
                  quality=np.ones(ic.size))
    cue, yaw = _foot_cue(body, prefix_sum(lateral), steps, EventParams())
    assert yaw is None
    assert np.all(cue[[0, 2, 4]] > 0) and np.all(cue[[1, 3]] < 0)
    assert cue[5] < 0  # the chain's last step (a LEFT one) too
    assert cue[6] > 0  # the lone RIGHT step


def _lone_steps_block(n: int, fs: float, seg_bounds: list[int]):
    from imuback.core import ImuBlock

    return ImuBlock(t_s=np.arange(n) / fs, acc_mps2=np.zeros((n, 3)), gyr_dps=None, frame="body", fs_hz=fs,
                    seg_bounds=np.array(seg_bounds), t0_ns=0)


def _walk_steps(ic: list[int], chain: list[int]):
    from imuback.signal.activity import WALK
    from imuback.signal.events import UNKNOWN, Steps

    pos = np.asarray(ic, dtype=np.float64)
    return Steps(ic_pos=pos, to_pos=np.full(pos.size, np.nan), activity=np.full(pos.size, WALK, np.int8),
                 chain=np.asarray(chain), foot=np.full(pos.size, UNKNOWN, np.int8), quality=np.ones(pos.size))


def test_a_session_of_lone_walking_steps_still_judges_each_over_a_step():
    """Every chain one step long (no step time to measure): the cue is read over a prior walking
    step time, not at the IC sample (where the body still moves toward the new foot)."""
    from imuback.signal.dsp import prefix_sum
    from imuback.signal.params import EventParams
    from imuback.signal.session import _foot_cue

    fs, n = 100.0, 1000
    ics = [100, 300, 500, 700]
    lateral = np.zeros(n)
    for s in ics:  # four lone RIGHT steps
        lateral[s + 1:s + 50] = 1.0
        lateral[s] = -1.5
    cue, _ = _foot_cue(_lone_steps_block(n, fs, [0, n]), prefix_sum(lateral), _walk_steps(ics, [0, 1, 2, 3]),
                       EventParams())
    assert np.all(cue > 0)


def test_a_chain_last_step_is_not_read_across_a_gap():
    """The last step before a dropout is read up to the segment's end, not into samples recorded
    after the gap."""
    from imuback.signal.dsp import prefix_sum
    from imuback.signal.params import EventParams
    from imuback.signal.session import _foot_cue

    fs, n, step = 100.0, 800, 55
    ics = [100 + step * k for k in range(6)]  # R L R L R L, the segment ends 20 samples after the last
    seg_end = ics[-1] + 20
    lateral = np.zeros(n)
    for k, s in enumerate(ics):
        lateral[s + 1:s + step] = 1.0 if k % 2 == 0 else -1.0
    lateral[seg_end:] = 5.0  # after the gap: unrelated motion toward the left
    cue, _ = _foot_cue(_lone_steps_block(n, fs, [0, seg_end, n]), prefix_sum(lateral),
                       _walk_steps(ics, [0] * 6), EventParams())
    assert cue[5] < 0  # the last (LEFT) step keeps its sign


def test_the_single_support_cue_is_never_read_across_a_gap():
    """Without a gyroscope the second foot cue is the lateral acceleration 0.2-0.4 s after IC: a
    step 0.3 s before a dropout is read only up to the segment's end, and a step whose whole window
    lies past it gives no cue (0), never samples recorded after the gap."""
    from imuback.signal.dsp import prefix_sum
    from imuback.signal.params import EventParams
    from imuback.signal.session import _stance_cue

    fs, n, step = 100.0, 900, 55
    ics = [100 + step * k for k in range(6)]  # R L R L R L
    seg_end = ics[-1] + 30  # the gap starts 0.3 s after the last IC
    lateral = np.zeros(n)
    for k, s in enumerate(ics):
        lateral[s + 1:s + step] = 1.0 if k % 2 == 0 else -1.0
    lateral[seg_end:] = 5.0  # after the gap: unrelated motion toward the left
    steps = _walk_steps([*ics, seg_end - 5], [0] * 6 + [1])  # and a step 5 samples before the gap
    cue = _stance_cue(_lone_steps_block(n, fs, [0, seg_end, n]), prefix_sum(lateral), steps, EventParams())
    assert cue is not None
    assert cue[5] < 0  # the last (LEFT) step read over 0.2-0.3 s only, its sign kept
    assert cue[6] == 0.0  # its whole window is past the segment: no cue
    assert _stance_cue(_lone_steps_block(n, fs, [0, n]), prefix_sum(lateral), steps,
                       EventParams(foot_lone_stance_s=(0.0, 0.0))) is None  # switched off


def _yaw_steps_block(gyr_z, fs: float, seg_bounds: list[int]):
    from imuback.core import ImuBlock

    n = gyr_z.size
    gyr = np.zeros((n, 3))
    gyr[:, 2] = gyr_z
    return ImuBlock(t_s=np.arange(n) / fs, acc_mps2=np.zeros((n, 3)), gyr_dps=gyr, frame="body", fs_hz=fs,
                    seg_bounds=np.array(seg_bounds), t0_ns=0)


def test_the_walking_yaw_cue_is_read_foot_yaw_lead_s_before_ic():
    """A 1 Hz yaw rate (inside the 0.5-2 Hz band, passed with zero phase): each IC 30 ms after a
    rising zero crossing reads positive at IC and negative 60 ms before it."""
    from imuback.signal.dsp import prefix_sum
    from imuback.signal.params import EventParams
    from imuback.signal.session import _foot_cue

    fs, n = 100.0, 2000
    t = np.arange(n) / fs
    ics = [round((k + 0.03) * fs) for k in range(5, 15)]
    body = _yaw_steps_block(50.0 * np.sin(2 * np.pi * t), fs, [0, n])
    steps = _walk_steps(ics, [0] * len(ics))
    _, at_ic = _foot_cue(body, prefix_sum(np.zeros(n)), steps, EventParams(foot_yaw_lead_s=0.0))
    _, lead = _foot_cue(body, prefix_sum(np.zeros(n)), steps, EventParams(foot_yaw_lead_s=0.06))
    assert at_ic is not None and lead is not None
    assert np.all(at_ic > 0) and np.all(lead < 0)
    assert EventParams().foot_yaw_lead_s == 0.06


def test_the_yaw_cue_read_before_ic_never_reaches_across_a_gap():
    """A step 20 ms after a segment starts reads the yaw at the segment start, not in the samples
    recorded before the gap."""
    from imuback.signal.dsp import prefix_sum
    from imuback.signal.params import EventParams
    from imuback.signal.session import _foot_cue

    fs, n, start = 100.0, 2000, 1000
    t = np.arange(n) / fs
    ics = [start + 2, *range(start + 55, n - 100, 55)]
    steps = _walk_steps(ics, [0] * len(ics))
    cues = []
    for before in (1.0, -3.0):  # different motion before the gap
        yaw = 50.0 * np.sin(2 * np.pi * t)
        yaw[:start] *= before
        _, c = _foot_cue(_yaw_steps_block(yaw, fs, [0, start, n]), prefix_sum(np.zeros(n)), steps, EventParams())
        cues.append(c)
    np.testing.assert_array_equal(cues[0], cues[1])


def test_peak_memory_of_a_session_stays_below_twenty_full_rate_arrays() -> None:
    # long sessions are bounded by memory: at its peak the analysis holds what it must (both
    # frames briefly, the gyro integrals, the lateral and its integral, the metrics' scratch)
    # and frees full-rate intermediates as soon as they are used. Counted in float64 arrays of
    # the session's length; pipeline 0.5.0 before the speed3 work held 22.
    import tracemalloc

    from imuback.simulate.runner import RunnerParams, simulate_session

    sim = simulate_session(RunnerParams(run_minutes=10.0, gaps_per_hour=0.0, sample_rate_hz=200.0), seed=11,
                           session_id="m", runner_id="m", start_time=1_700_000_000 * 10**9)
    analyse_session(sim.raw)  # first call: caches (filter designs) are filled outside the count
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        a = analyse_session(sim.raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    arrays = (peak - before) / (a.body.n * 8)
    assert a.steps.n > 1000
    assert arrays < 20.5, f"peak {arrays:.1f} full-rate float64 arrays"


def test_a_running_contact_over_a_bridged_gap_is_found_but_reports_no_toe_off():
    # lost BLE notifications of 120 ms (24 samples at 200 Hz) in the middle of 10 contacts: each
    # is bridged (no split, so the steps around it stay found), and a contact over a bridge does
    # not report a toe-off read from the interpolated line (issue #14 steady walking, packet loss)
    raw, truth = half_sine_run(minutes=1.0)
    step_s, fs = truth["step_s"], raw.sample_rate_hz
    keep = np.ones(raw.n_samples, dtype=bool)
    starts = [round((30 + 10 * k) * step_s * fs + 0.05 * fs) for k in range(10)]  # 50 ms into a contact
    for s in starts:
        keep[s:s + 24] = False
    lossy = dataclasses.replace(raw, time_ns=raw.time_ns[keep], acc_mps2=raw.acc_mps2[keep],
                                gyr_dps=raw.gyr_dps[keep] if raw.gyr_dps is not None else None)
    a = analyse_session(lossy)
    full = analyse_session(raw)
    assert a.body.seg_bounds.size == 2  # one segment: nothing split
    assert abs(a.steps.n - full.steps.n) <= 1
    t_ic = a.body.t_s[np.clip(np.round(a.steps.ic_pos).astype(np.int64), 0, a.body.n - 1)]
    hit = np.zeros(a.steps.n, dtype=bool)
    for s in starts:
        hit |= np.abs(t_ic - (s / fs - 0.05)) < 0.04
    assert hit.sum() == 10
    assert np.isnan(a.steps.to_pos[hit]).all()
    assert np.isfinite(a.steps.to_pos[~hit][1:-1]).mean() > 0.95
    assert any("bridged by interpolation" in n for n in a.notes)


def _drop(raw, starts, n_missing):
    """``raw`` with ``n_missing`` samples lost after each of ``starts``."""
    keep = np.ones(raw.n_samples, dtype=bool)
    for s in starts:
        keep[s:s + n_missing] = False
    return dataclasses.replace(raw, time_ns=raw.time_ns[keep], acc_mps2=raw.acc_mps2[keep],
                               gyr_dps=raw.gyr_dps[keep] if raw.gyr_dps is not None else None)


def test_walking_steps_and_strides_over_a_bridged_gap_report_nothing_read_from_the_line():
    # issue #14 review: walking steps and strides were computed over the interpolated line with no
    # flag; a step [IC, next IC] or stride over a bridge now has no time, cadence or angle, and
    # the session's notes say how many and how much was interpolated
    from imuback.simulate.runner import RunnerParams, simulate_session

    p = RunnerParams(run_minutes=0.0, walk_start_s=60.0, walk_end_s=0.0, misalignment_deg=0.0)
    raw = simulate_session(p, seed=5, session_id="w", runner_id="sim", start_time=0).raw
    fs = raw.sample_rate_hz
    n_missing = round(0.2 * fs)  # a lost notification burst: longer than exact_fill_s, bridged
    starts = [round(t * fs) for t in (15.3, 25.7, 35.1, 45.9)]
    a = analyse_session(_drop(raw, starts, n_missing))
    assert a.body.seg_bounds.size == 2  # bridged, not split
    walk = a.steps.activity == 1
    assert walk.sum() > 50
    spans = a.gaps.bridged_idx
    assert spans.shape == (4, 2)
    ic, nxt_ic = a.steps.ic_pos, np.append(a.steps.ic_pos[1:], np.nan)
    over = np.zeros(a.steps.n, dtype=bool)
    for b0, b1 in spans:
        over |= (ic < b1) & (nxt_ic >= b0)
    assert over.sum() >= 4
    assert np.isnan(a.step.step_time_s[over]).all() and np.isnan(a.step.cadence_spm[over]).all()
    assert np.isnan(a.step.vertical_oscillation_cm[over]).all()
    assert np.isfinite(a.step.step_time_s[walk & ~over][1:-1]).mean() > 0.9  # the rest keep theirs
    k = a.stride.first_step
    s_over = np.zeros(k.size, dtype=bool)
    for b0, b1 in spans:
        s_over |= (ic[k] < b1) & (ic[np.minimum(k + 2, a.steps.n - 1)] >= b0)
    assert s_over.sum() >= 4
    assert np.isnan(a.stride.stride_time_s[s_over]).all() and np.isnan(a.stride.ml_excursion_cm[s_over]).all()
    note = [n for n in a.notes if "bridged by interpolation" in n]
    assert len(note) == 1 and note[0].startswith("4 lost-packet gaps")
    assert f"({4 * n_missing / fs:.1f} s interpolated" in note[0]
    assert f"{int(np.count_nonzero(over & a.steps.has_next()))} steps over them have no step time" in note[0]
    # an IC placed on the interpolated line is kept, with quality 0 (reports grey it out)
    inside = np.zeros(a.steps.n, dtype=bool)
    for b0, b1 in spans:
        inside |= (ic >= b0) & (ic < b1)
    assert inside.sum() >= 1 and (a.steps.quality[inside] == 0).all() and (a.steps.quality[~inside] > 0).mean() > 0.9


def test_a_running_step_hidden_inside_a_bridge_gives_no_doubled_step_time():
    # a bridge (0.3 s) is longer than the shortest step (0.22 s): a step whose IC is lost in it
    # leaves an interval of two steps between its neighbours, which must carry no step time,
    # cadence or spring-mass vGRF (issue #14 review)
    raw, truth = half_sine_run(minutes=1.0)
    step_s, fs = truth["step_s"], raw.sample_rate_hz
    n_missing = round(0.3 * fs)
    starts = [round((30 + 10 * k) * step_s * fs - 0.15 * fs) for k in range(8)]  # centred on an IC
    a = analyse_session(_drop(raw, starts, n_missing))
    assert a.body.seg_bounds.size == 2 and a.gaps.bridged_idx.shape == (8, 2)
    st = a.step.step_time_s
    assert np.nanmax(st) < 1.3 * step_s  # no doubled interval reported
    assert np.nanmedian(st) == pytest.approx(step_s, abs=0.005)
    assert np.isnan(a.step.grf_peak_bw[np.isnan(st) & a.steps.has_next()]).all()
