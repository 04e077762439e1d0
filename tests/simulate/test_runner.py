"""Physics and contract checks of the session simulator (src/imuback/simulate/runner.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from imuback.core import G_MPS2
from imuback.signal.frames import rot_x, rot_y, rot_z, rotation_angle_deg
from imuback.simulate.runner import (
    NOMINAL_MOUNTINGS,
    RunnerParams,
    SimulatedSession,
    SimulationError,
    simulate_session,
    write_simulated,
)
from imuback.store.raw import read_raw

T0 = datetime(2024, 5, 6, 7, 30, tzinfo=UTC)
SHORT = RunnerParams(run_minutes=1.5, stand_start_s=5.0, stand_end_s=5.0, walk_start_s=15.0,
                     walk_end_s=15.0)
CLEAN = dataclasses.replace(SHORT, noise=False, gaps_per_hour=0.0)


def _sim(params: RunnerParams = SHORT, seed: int = 1, **kw: object) -> SimulatedSession:
    return simulate_session(params, seed=seed, session_id="s1", runner_id="r1", start_time=T0,
                            **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean() -> SimulatedSession:
    return _sim(dataclasses.replace(CLEAN, sample_rate_hz=400.0), keep_signals=True)


@pytest.fixture(scope="module")
def default() -> SimulatedSession:
    return _sim()


def _secs(sim: SimulatedSession, col: str) -> np.ndarray:
    ns = sim.truth_steps.column(col).cast("int64").to_numpy(zero_copy_only=False)
    return (np.asarray(ns, dtype=float) - T0.timestamp() * 1e9) / 1e9


def _col(tbl: object, name: str) -> np.ndarray:
    return np.asarray(tbl.column(name).to_numpy(zero_copy_only=False), dtype=float)  # type: ignore[attr-defined]


def _r_world_from_body(euler: np.ndarray) -> np.ndarray:
    return rot_z(euler[:, 0]) @ rot_y(euler[:, 1]) @ rot_x(euler[:, 2])


def test_vertical_momentum_balance_over_running_strides(clean: SimulatedSession) -> None:
    """Mean world-vertical specific force over whole running strides is 1 g (within 1 %)."""
    sig = clean.signals
    assert sig is not None
    r_true = np.asarray(clean.truth["mounting_true"])
    # sensor -> body -> world, from the sensor's own (noise-free) accelerometer
    f_body = sig.acc_sensor_mps2 @ r_true.T
    f_world = np.einsum("nij,nj->ni", _r_world_from_body(sig.euler_zyx_rad), f_body)
    run = np.asarray(clean.truth_steps.column("activity").to_pylist()) == "run"
    ic = _secs(clean, "ic_time")
    idx = np.flatnonzero(run[:-2] & run[2:])[5:-5]
    means = []
    for k in idx[::2]:
        sel = (sig.t_s >= ic[k]) & (sig.t_s < ic[k + 2])
        means.append(f_world[sel, 2].mean() / G_MPS2)
    means_a = np.asarray(means)
    assert means_a.size > 50
    assert np.all(np.abs(means_a - 1.0) < 0.01), means_a[np.abs(means_a - 1.0) >= 0.01]
    # and the vGRF model itself: zero in flight, 1 BW standing
    assert np.min(sig.vgrf_bw) >= -1e-9
    assert np.allclose(sig.vgrf_bw[sig.t_s < 4.0], 1.0)


def test_flight_is_free_fall(clean: SimulatedSession) -> None:
    sig = clean.signals
    assert sig is not None
    to = _secs(clean, "to_time")
    ic = _secs(clean, "ic_time")
    run = np.asarray(clean.truth_steps.column("activity").to_pylist()) == "run"
    k = np.flatnonzero(run[:-1] & run[1:])[10:-10]
    mid = (to[k] + ic[k + 1]) / 2.0
    i = np.searchsorted(sig.t_s, mid)
    # soft tissue is still ringing a little; the CoM force is exactly zero
    assert np.all(sig.vgrf_bw[i] < 1e-9)
    assert np.median(np.linalg.norm(sig.acc_sensor_mps2[i], axis=1)) < 0.25 * G_MPS2


def test_vertical_position_periodic_and_bounded(clean: SimulatedSession, default: SimulatedSession
                                                ) -> None:
    sig = clean.signals
    assert sig is not None
    assert np.ptp(sig.z_m) < 0.3  # no drift over the session
    assert np.ptp(sig.y_m) < 0.15
    run = np.asarray(default.truth_steps.column("activity").to_pylist()) == "run"
    vo = _col(default.truth_steps, "vertical_oscillation_cm")[run]
    assert 5.0 <= np.nanmedian(vo) <= 13.0
    assert np.nanpercentile(vo, 99) < 14.0
    walk = ~run
    assert 2.0 <= np.nanmedian(_col(default.truth_steps, "vertical_oscillation_cm")[walk]) <= 6.0


def test_gyro_integrates_to_true_orientation(clean: SimulatedSession) -> None:
    """Integrate the sensor-frame gyro from the true start orientation; compare after 30 s."""
    sig = clean.signals
    assert sig is not None
    r_true = np.asarray(clean.truth["mounting_true"])
    r_ws = _r_world_from_body(sig.euler_zyx_rad) @ r_true  # world <- sensor
    i0 = int(np.searchsorted(sig.t_s, 40.0))
    i1 = int(np.searchsorted(sig.t_s, 70.0))
    w = np.radians(sig.gyr_sensor_dps[i0:i1])
    dt = np.diff(sig.t_s[i0:i1])
    r = r_ws[i0].copy()
    for k in range(dt.size):  # reference integrator in a test: small loop over 12 000 samples
        om = 0.5 * (w[k] + w[k + 1]) * dt[k]
        a = np.linalg.norm(om)
        kx = np.array([[0, -om[2], om[1]], [om[2], 0, -om[0]], [-om[1], om[0], 0]])
        if a > 0:
            kx /= a
        r = r @ (np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * (kx @ kx))
    err = rotation_angle_deg(r.T @ r_ws[i1 - 1])
    assert err < 0.5, err
    # the pelvis really rotates: yaw range over the window is several degrees
    assert np.degrees(np.ptp(sig.euler_zyx_rad[i0:i1, 0])) > 5.0


def test_still_sensor_reads_one_g_and_no_rotation(default: SimulatedSession,
                                                  clean: SimulatedSession) -> None:
    raw = default.raw
    t = (raw.time_ns - raw.time_ns[0]) / 1e9
    still = t < 4.0
    acc = raw.acc_mps2[still].astype(float)
    gyr = raw.gyr_dps[still].astype(float)  # type: ignore[index]
    # 1 g up to the accelerometer bias (<= 30 mg per axis)
    assert abs(np.linalg.norm(acc.mean(axis=0)) / G_MPS2 - 1.0) < 0.03 * np.sqrt(3)
    assert np.all(np.abs(gyr.mean(axis=0)) < 1.2)  # bias up to 1 dps, no motion
    # gravity along the true body z, seen in the sensor frame
    r_true = np.asarray(default.truth["mounting_true"])
    expect = r_true.T @ np.array([0.0, 0.0, G_MPS2]) + np.asarray(default.truth["acc_bias_mps2"])
    assert np.allclose(acc.mean(axis=0), expect, atol=0.02)
    sig = clean.signals
    assert sig is not None
    s = sig.t_s < 4.0
    assert np.allclose(np.linalg.norm(sig.acc_sensor_mps2[s], axis=1), G_MPS2)
    assert np.allclose(sig.gyr_sensor_dps[s], 0.0)


@pytest.mark.parametrize("mounting", sorted(NOMINAL_MOUNTINGS))
def test_misalignment_as_requested(mounting: str) -> None:
    p = dataclasses.replace(CLEAN, run_minutes=0.3, mounting=mounting, misalignment_deg=17.0,
                            misalignment_exact=True)
    sim = _sim(p, seed=5)
    nominal = np.asarray(NOMINAL_MOUNTINGS[mounting])
    r_true = np.asarray(sim.truth["mounting_true"])
    assert np.allclose(sim.raw.mounting, nominal)
    assert abs(sim.truth["misalignment_deg"] - 17.0) < 1e-6
    assert abs(rotation_angle_deg(r_true @ nominal.T) - 17.0) < 1e-6
    # up to the knob when not exact
    for seed in range(5):
        s2 = _sim(dataclasses.replace(p, misalignment_exact=False, misalignment_deg=10.0), seed=seed)
        assert 0.0 <= s2.truth["misalignment_deg"] <= 10.0 + 1e-9


def test_gaps_are_missing_rows_and_logged() -> None:
    sim = _sim(dataclasses.replace(SHORT, gaps_per_hour=200.0, gap_s=(0.5, 1.5)), seed=3)
    raw = sim.raw
    assert np.all(np.isfinite(raw.acc_mps2)) and np.all(np.isfinite(raw.gyr_dps))  # type: ignore[arg-type]
    assert len(raw.gaps) >= 2
    dt = np.diff(raw.time_ns)
    period = 1e9 / raw.sample_rate_hz
    jumps = np.flatnonzero(dt > 1.5 * period)
    assert jumps.size == len(raw.gaps)
    lost = np.round(dt[jumps] / period).astype(int) - 1
    assert lost.tolist() == [g["samples_lost"] for g in raw.gaps]
    expected = int(np.floor(sim.truth["duration_s"] * raw.sample_rate_hz))
    assert raw.n_samples + sum(g["samples_lost"] for g in raw.gaps) == expected
    # a contact inside a gap is marked lost; one far from every gap is not
    lost_col = np.asarray(sim.truth_steps.column("lost_in_gap").to_pylist())
    ic = _secs(sim, "ic_time")
    gs = np.array([g["start_s"] for g in sim.truth["gaps"]])
    ge = np.array([g["end_s"] for g in sim.truth["gaps"]])
    inside = np.array([np.any((ic[k] >= gs) & (ic[k] < ge)) for k in range(ic.size)])
    far = np.array([np.all(np.abs(ic[k] - gs) > 1) & np.all(np.abs(ic[k] - ge) > 1)
                    for k in range(ic.size)])
    assert np.all(lost_col[inside]) and inside.any()
    assert not np.any(lost_col[far & ~inside])


@pytest.mark.parametrize("rate", [100.0, 208.0, 416.0, 1600.0])
def test_sample_rate(rate: float) -> None:
    sim = _sim(dataclasses.replace(SHORT, run_minutes=0.2, sample_rate_hz=rate, gaps_per_hour=0.0))
    dt = np.diff(sim.raw.time_ns) / 1e9
    assert abs(np.median(dt) - 1.0 / rate) < 1e-7
    assert sim.raw.sample_rate_hz == rate


def test_timestamp_jitter_keeps_order() -> None:
    sim = _sim(dataclasses.replace(SHORT, run_minutes=0.2, timestamp_jitter_us=800.0))
    dt = np.diff(sim.raw.time_ns)
    assert np.all(dt > 0) and np.std(dt) > 1e5


def test_reproducible_with_seed() -> None:
    p = dataclasses.replace(SHORT, run_minutes=0.5)
    a, b, c = _sim(p, seed=11), _sim(p, seed=11), _sim(p, seed=12)
    assert np.array_equal(a.raw.acc_mps2, b.raw.acc_mps2)
    assert np.array_equal(a.raw.time_ns, b.raw.time_ns)
    assert a.truth_steps.equals(b.truth_steps) and a.truth_strides.equals(b.truth_strides)
    assert json.dumps(a.truth) == json.dumps(b.truth)
    assert not np.array_equal(a.raw.acc_mps2[:1000], c.raw.acc_mps2[:1000])


def test_truth_tables_consistent(default: SimulatedSession) -> None:
    ts = default.truth_steps
    run = np.asarray(ts.column("activity").to_pylist()) == "run"
    step, contact, flight = (_col(ts, c) for c in ("step_time_s", "contact_time_s", "flight_time_s"))
    ok = run & np.isfinite(flight)
    assert ok.sum() > 200
    assert np.allclose(contact[ok] + flight[ok], step[ok], atol=1e-9)
    assert np.all(flight[ok] > 0.0)
    assert np.all(np.isnan(flight[~run]))
    # walking: double support, no flight, contact longer than the step
    assert np.all(contact[~run] > np.nanmax(step[~run]) * 0.9)
    foot = np.asarray(ts.column("foot").to_pylist())
    bout = _col(ts, "bout")
    same = bout[1:] == bout[:-1]
    assert np.all(foot[1:][same] != foot[:-1][same])
    cad = _col(ts, "cadence_spm")
    assert abs(np.nanmedian(cad[run]) / SHORT.cadence_spm - 1.0) < 0.03
    assert abs(np.nanmedian(cad[~run]) / SHORT.walk_cadence_spm - 1.0) < 0.03
    assert abs(np.median(contact[run]) - SHORT.contact_time_s) < 0.02
    assert np.allclose(cad[np.isfinite(step)], 60.0 / step[np.isfinite(step)])
    # IC/TO ordered; strides start at steps and last two steps
    ic, to = _secs(default, "ic_time"), _secs(default, "to_time")
    assert np.all(np.diff(ic) > 0) and np.all(to > ic)
    tk = default.truth_strides
    k = np.asarray(tk.column("step").to_pylist())
    st_time = _col(tk, "stride_time_s")
    assert np.allclose(st_time, ic[k + 2] - ic[k], atol=1e-6)
    # ranges plausible (DOMAIN.md typical values)
    kr = np.asarray(tk.column("activity").to_pylist()) == "run"
    assert 10 <= np.median(_col(tk, "pelvis_rotation_deg")[kr]) <= 17
    assert 7 <= np.median(_col(tk, "pelvis_obliquity_deg")[kr]) <= 11
    assert 5 <= np.median(_col(tk, "pelvis_tilt_deg")[kr]) <= 8
    assert 1.0 <= np.median(_col(tk, "ml_excursion_cm")[kr]) <= 6.0
    grf = _col(ts, "grf_peak_bw")[run]
    imp = _col(ts, "impact_peak_g")[run]
    assert 2.0 <= np.median(grf) <= 3.0
    assert np.median(imp) > np.median(grf)  # the sacrum rings above the vGRF


def test_foot_strike_and_asymmetry_knobs() -> None:
    base = dataclasses.replace(CLEAN, run_minutes=1.0, fatigue_impact_pct=0.0)
    rear = _sim(dataclasses.replace(base, foot_strike="rearfoot"), keep_signals=True)
    fore = _sim(dataclasses.replace(base, foot_strike="forefoot"), keep_signals=True)

    def early_vgrf(sim: SimulatedSession) -> float:
        """Median peak vGRF in the first 40 ms of running contacts: the impact transient."""
        sig = sim.signals
        assert sig is not None
        run = np.asarray(sim.truth_steps.column("activity").to_pylist()) == "run"
        ic = _secs(sim, "ic_time")[run]
        i0 = np.searchsorted(sig.t_s, ic)
        return float(np.median(sig.vgrf_bw[i0[:, None] + np.arange(8)[None, :]].max(axis=1)))

    assert early_vgrf(rear) > 1.3 > 1.0 > early_vgrf(fore)

    def run_med(sim: SimulatedSession, col: str, foot: str | None = None) -> float:
        ts = sim.truth_steps
        m = np.asarray(ts.column("activity").to_pylist()) == "run"
        if foot:
            m &= np.asarray(ts.column("foot").to_pylist()) == foot
        return float(np.nanmedian(_col(ts, col)[m]))

    assert run_med(rear, "impact_peak_g") > run_med(fore, "impact_peak_g")
    asym = _sim(dataclasses.replace(base, contact_asymmetry_pct=8.0, impact_asymmetry_pct=-20.0))
    cl, cr = run_med(asym, "contact_time_s", "L"), run_med(asym, "contact_time_s", "R")
    assert 100 * (cl - cr) / ((cl + cr) / 2) == pytest.approx(8.0, abs=2.0)
    il, ir = run_med(asym, "impact_peak_g", "L"), run_med(asym, "impact_peak_g", "R")
    assert il < ir  # right lands harder


def test_fatigue_drift() -> None:
    sim = _sim(dataclasses.replace(CLEAN, run_minutes=6.0, fatigue_contact_pct=8.0,
                                   fatigue_pelvis_pct=20.0, speed_changes=0))
    ts = sim.truth_steps
    run = np.flatnonzero(np.asarray(ts.column("activity").to_pylist()) == "run")
    ct = _col(ts, "contact_time_s")[run]
    n = run.size // 5
    assert np.median(ct[-n:]) / np.median(ct[:n]) > 1.04
    tk = sim.truth_strides
    kr = np.flatnonzero(np.asarray(tk.column("activity").to_pylist()) == "run")
    obl = _col(tk, "pelvis_obliquity_deg")[kr]
    m = kr.size // 5
    assert np.median(obl[-m:]) > np.median(obl[:m]) * 1.08


def test_mediolateral_push_away_from_stance_foot(clean: SimulatedSession) -> None:
    sig = clean.signals
    assert sig is not None
    ts = clean.truth_steps
    foot = np.asarray(ts.column("foot").to_pylist())
    run = np.asarray(ts.column("activity").to_pylist()) == "run"
    ic, to = _secs(clean, "ic_time"), _secs(clean, "to_time")
    r_true = np.asarray(clean.truth["mounting_true"])
    f_body = sig.acc_sensor_mps2 @ r_true.T
    # remove pelvis yaw/roll/pitch: path frame = R(pelvis) f_body with heading excluded
    e = sig.euler_zyx_rad
    f_path = np.einsum("nij,nj->ni", rot_y(e[:, 1]) @ rot_x(e[:, 2]), f_body)
    ml = []
    for k in np.flatnonzero(run)[5:60]:
        sel = (sig.t_s >= ic[k]) & (sig.t_s < to[k])
        ml.append((foot[k], f_path[sel, 1].mean()))
    right = [v for f, v in ml if f == "R"]
    left = [v for f, v in ml if f == "L"]
    assert np.mean(right) > 0.1 > -0.1 > np.mean(left)


def test_write_and_read_back(tmp_path: Path, default: SimulatedSession) -> None:
    path = write_simulated(default, tmp_path)
    assert path == tmp_path / "s1.parquet"
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["s1.parquet"]
    raw = read_raw(path)
    assert np.array_equal(raw.acc_mps2, default.raw.acc_mps2)
    assert raw.gyr_dps is not None and raw.gyr_dps.dtype == np.float32
    assert raw.gaps == default.raw.gaps
    steps = pq.read_table(tmp_path / "truth" / "s1.steps.parquet")
    assert steps.equals(default.truth_steps)
    assert pq.read_table(tmp_path / "truth" / "s1.strides.parquet").num_rows == \
        default.truth_strides.num_rows
    truth = json.loads((tmp_path / "truth" / "s1.json").read_text())
    assert truth["misalignment_deg"] == default.truth["misalignment_deg"]


def test_saturation_clips_at_range() -> None:
    sim = _sim(dataclasses.replace(SHORT, run_minutes=0.5, acc_range_g=2.0, quantize=False))
    lim = 2.0 * G_MPS2
    assert np.max(np.abs(sim.raw.acc_mps2)) <= lim * (1 + 1e-6)
    assert sim.truth["saturated_values"]["acc"] > 0
    assert sim.raw.acc_range_g == 2.0


def test_bad_params_raise() -> None:
    with pytest.raises(SimulationError, match="cadence_spm"):
        RunnerParams(cadence_spm=400.0)
    with pytest.raises(SimulationError, match="mounting"):
        RunnerParams(mounting="sideways")
    with pytest.raises(SimulationError, match="timezone"):
        simulate_session(SHORT, seed=1, session_id="a", runner_id="b", start_time=datetime(2024, 1, 1))


def test_standing_only_session() -> None:
    sim = _sim(dataclasses.replace(CLEAN, run_minutes=0.0, walk_start_s=0.0, walk_end_s=0.0,
                                   stand_start_s=20.0))
    assert sim.truth_steps.num_rows == 0 and sim.truth_strides.num_rows == 0
    assert abs(np.linalg.norm(sim.raw.acc_mps2.mean(axis=0)) - G_MPS2) < 1e-3


WALK = RunnerParams(run_minutes=0.0, stand_start_s=5.0, stand_end_s=5.0, walk_start_s=60.0,
                    walk_end_s=30.0, noise=False, gaps_per_hour=0.0)


def test_uturns_turn_by_180_deg_and_slow_down() -> None:
    """walk–U-turn–walk: each U-turn adds ±180° of heading over ``uturn_s`` and the walker slows."""
    p = dataclasses.replace(WALK, walk_uturns_per_min=4.0, uturn_s=2.0, uturn_speed_frac=0.2)
    sim = _sim(p, seed=3, keep_signals=True)
    sig = sim.signals
    assert sig is not None
    yaw_rate = np.gradient(np.unwrap(sig.euler_zyx_rad[:, 0]), sig.t_s)
    # a 0.25 s mean: the pelvis's yaw in gait (with its heel-strike ring) stays far below 60 deg/s
    k = round(0.25 * p.sample_rate_hz)
    yaw_rate = np.convolve(yaw_rate, np.ones(k) / k, mode="same")
    fast = np.abs(yaw_rate) > np.radians(60.0)
    starts = np.flatnonzero(fast[1:] & ~fast[:-1])
    assert starts.size == 4 + 2  # 4/min over 60 s and over 30 s
    for s in starts:  # a few turns
        i0, i1 = np.searchsorted(sig.t_s, [sig.t_s[s] - 1.0, sig.t_s[s] + 3.0])
        turn = np.unwrap(sig.euler_zyx_rad[:, 0])[i1] - np.unwrap(sig.euler_zyx_rad[:, 0])[i0]
        assert abs(abs(turn) - np.pi) < np.radians(20.0)
    # steps go on through the turn (turning in place is stepping)
    ic = _secs(sim, "ic_time")
    assert np.max(np.diff(ic)[np.diff(ic) < 2.0]) < 60.0 / p.walk_cadence_spm * 1.2


def test_pauses_split_the_walk_and_walking_variability() -> None:
    p = dataclasses.replace(WALK, walk_pauses=2, pause_s=4.0, walk_step_time_cv=0.04)
    sim = _sim(p, seed=2)
    kinds = [s["kind"] for s in sim.truth["segments"]]
    assert kinds == ["stand", "walk", "stand", "walk", "stand", "walk", "walk", "stand"]
    st = sim.truth_steps.to_pandas()
    assert st["bout"].nunique() == 3  # the last two walks join: no stand between them
    ic = _secs(sim, "ic_time")
    d = np.diff(ic)
    assert np.sum(d > 3.5) == 2  # the two pauses
    steady = d[d < 1.5]
    cv = np.std(steady) / np.mean(steady)
    assert 0.03 < cv < 0.05  # the knob (0.04), not the running default (0.015)


def test_walking_soft_tissue_knob() -> None:
    """Heavier soft tissue at the walking contacts: more 12-25 Hz content."""
    quiet = _sim(dataclasses.replace(WALK, walk_wobble_g=0.05), seed=1)
    heavy = _sim(dataclasses.replace(WALK, walk_wobble_g=0.4), seed=1)

    def hf(sim: SimulatedSession) -> float:
        a = sim.raw.acc_mps2.astype(np.float64) @ np.asarray(sim.truth["mounting_true"])[2]
        spec = np.abs(np.fft.rfft(a - a.mean())) ** 2
        f = np.fft.rfftfreq(a.size, 1 / sim.raw.sample_rate_hz)
        return float(spec[(f > 12) & (f < 25)].sum())

    assert hf(heavy) > 10 * hf(quiet)


def test_walking_force_follows_speed_in_turns() -> None:
    """``walk_force_follows_speed``: while slowed down in a U-turn the total vGRF swings less
    (the body barely lifts); straight walking at full speed is unchanged."""
    p = dataclasses.replace(WALK, walk_uturns_per_min=4.0, uturn_speed_frac=0.15, walk_force_follows_speed=True)
    on = _sim(p, seed=3, keep_signals=True).signals
    off = _sim(dataclasses.replace(p, walk_force_follows_speed=False), seed=3, keep_signals=True).signals
    assert on is not None and off is not None
    yaw_rate = np.abs(np.gradient(np.unwrap(off.euler_zyx_rad[:, 0]), off.t_s))
    turning = yaw_rate > np.radians(90.0)
    walking = (off.t_s > 8.0) & (off.t_s < off.t_s[-1] - 8.0)
    straight = walking & (np.convolve(turning, np.ones(801), mode="same") == 0)  # 2 s from any turn
    assert turning.sum() > 1000 and straight.sum() > 4000
    assert np.std(on.vgrf_bw[turning]) < 0.8 * np.std(off.vgrf_bw[turning])  # 0.71 at this seed
    assert np.std(on.vgrf_bw[straight]) == pytest.approx(np.std(off.vgrf_bw[straight]), rel=0.05)


def _fingerprint(sim: SimulatedSession) -> dict[str, object]:
    """What a default session must keep, bit for bit: the sensor's integer counts (the chip's 16-bit
    codes at the default ±16 g / ±2000 dps) and sample times, the truth's contacts to the microsecond,
    their feet, and the truth's force peaks to 1e-9 BW. Counts and rounded values, not the float
    arrays' bytes: numpy's float64 sin/exp take CPU-specific SIMD paths that may differ in the last
    bit on another machine, which a 16-bit code or a 1e-9 rounding absorbs (a flip needs a value
    within ~1e-15 of a rounding edge) while any changed draw or formula moves them.
    """
    import hashlib

    raw = sim.raw
    lsb_acc, lsb_gyr = 2.0 * 16.0 * G_MPS2 / 65536.0, 2.0 * 2000.0 / 65536.0
    acc = np.rint(raw.acc_mps2.astype(np.float64) / lsb_acc)
    gyr = np.rint(raw.gyr_dps.astype(np.float64) / lsb_gyr)
    # the samples are the chip's codes (a check on the check: float32 keeps them to ~1e-3 LSB)
    assert np.max(np.abs(raw.acc_mps2 / lsb_acc - acc)) < 0.01 and np.max(np.abs(raw.gyr_dps / lsb_gyr - gyr)) < 0.01
    ts = sim.truth_steps

    def us(col: str) -> np.ndarray:
        return np.asarray((ts.column(col).cast("int64").to_numpy() + 500) // 1000, dtype="<i8")

    grf = np.rint(np.nan_to_num(_col(ts, "grf_peak_bw"), nan=-1.0) * 1e9)
    h = hashlib.sha256()
    for a in (raw.time_ns.astype("<i8"), acc.astype("<i4"), gyr.astype("<i4"), us("ic_time"), us("to_time"),
              grf.astype("<i8")):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(" ".join(str(f) for f in ts.column("foot").to_pylist()).encode())
    return {"n_samples": raw.time_ns.size, "n_steps": ts.num_rows,
            "acc_counts_0_1000_20000": acc[[0, 1000, 20000]].astype(int).tolist(),
            "gyr_counts_0_1000_20000": gyr[[0, 1000, 20000]].astype(int).tolist(),
            "sha256": h.hexdigest()}


def test_the_default_session_is_bit_identical() -> None:
    """Review 21 (S7): the default simulator's output is fixed; a change that moves it (a random
    number drawn for a knob that is off, a reordered draw, a changed formula) fails here. The
    default session with its run cut to 30 s: both walks, the run and the stands, noise, quantising
    and the gap draw as by default. When a change is meant to move it: say so, and store the new
    fingerprint (printed by this test's failure).
    """
    sim = simulate_session(RunnerParams(run_minutes=0.5), seed=2024, session_id="s1", runner_id="r1",
                           start_time=T0)
    got = _fingerprint(sim)
    assert got == {"n_samples": 33172, "n_steps": 283,
                   "acc_counts_0_1000_20000": [[560, 85, 1911], [557, 85, 1915], [1064, 168, 1851]],
                   "gyr_counts_0_1000_20000": [[-6, 2, 4], [-5, 5, 2], [-111, -269, 241]],
                   "sha256": "b1e12bda134cdc8cbd8a50d93cfce36e83c42e072f4f2a98c4df82cd0929f24c"}, got
