"""Never invent steps: movement without gait's structure gives no steps, and the sessions table
says why (signal/gait_check.py). The signals are benchmarks/gait_features.py's; on main (before the
check) they gave 161 (white noise), 336 (vibration) and 243 (car ride) steps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import real_running
import real_walking
from gait_features import irregular_walk, load_voisard, non_gait, raw_of, verdict
from imuback.errors import UnitsError
from imuback.pipeline import process_raw
from imuback.signal.frames import G_MPS2
from imuback.signal.params import GaitCheckParams

WHY = {"white-noise": "not gait", "vibration-2.8Hz": "motion along one line only at the step rhythm",
       "vibration-2.8Hz-tilted": "motion along one line only at the step rhythm",
       "car-ride": "motion along one line only at the step rhythm"}


def _no_steps_and_why(acc, gyr, name, why):
    res = process_raw(raw_of(acc, gyr, name=name))
    assert res.steps.num_rows == 0
    reason = res.sessions.column("non_gait_reason")[0].as_py()
    assert reason is not None and why in reason
    assert "not counted as steps" in res.sessions.column("status_reason")[0].as_py()


@pytest.mark.parametrize("with_gyro", [True, False], ids=["6-axis", "accelerometer-only"])
@pytest.mark.parametrize("name", list(WHY))
def test_non_gait_gives_no_steps_and_says_why(name, with_gyro):
    # the vibration tilted 45° gave 336 steps on main without a gyroscope (only a vertical
    # vibration was refused); noise with a 4 deg/s gyroscope 135
    acc, gyr = non_gait(np.random.default_rng(7))[name]
    why = "not gait" if with_gyro and name == "white-noise" else WHY[name]
    _no_steps_and_why(acc, gyr if with_gyro else None, name, why)


@pytest.mark.parametrize("gyro_noise_dps", [3.0, 4.0, 5.0])
def test_white_noise_with_a_noisy_gyroscope_gives_no_steps(gyro_noise_dps):
    # a consumer MEMS gyroscope's noise (1-5 deg/s per axis at 100 Hz) is no pelvis rotation:
    # main kept 135-155 steps at 4-5 deg/s (below ~2.3 deg/s check_units refuses the session)
    acc, gyr = non_gait(np.random.default_rng(11), gyro_noise_dps=gyro_noise_dps)["white-noise"]
    _no_steps_and_why(acc, gyr, "white-noise", "no pelvis rotation at the step rhythm")


def test_too_quiet_a_gyroscope_is_refused_with_a_reason():
    # below ~2.3 deg/s of noise the gyroscope could be in rad/s: refused when the session is built
    acc, gyr = non_gait(np.random.default_rng(7), gyro_noise_dps=1.0)["white-noise"]
    with pytest.raises(UnitsError, match="no gait to find"):
        raw_of(acc, gyr, name="white-noise")


def test_gait_keeps_its_steps_and_has_no_reason(analytic_run):
    raw, _truth = analytic_run
    res = process_raw(raw)
    assert res.steps.num_rows > 100
    assert res.sessions.column("non_gait_reason")[0].as_py() is None


@pytest.mark.skipif(not (real_running.DEFAULT_DATA / "real").exists(), reason="../shared/data/real absent")
def test_real_gait_is_never_rejected():
    # every bout of real gait passes, with margin (benchmarks/gait_features.py prints the figures)
    real = real_running.DEFAULT_DATA / "real"
    raws = []
    if (real / "alcantara_treadmill").exists():
        raws += [t.raw for t in real_running.load_trials(real / "alcantara_treadmill")]
    if (real / "voisard_l5_walk").exists():
        raws += load_voisard(real / "voisard_l5_walk")
    if (real / "mobgap_lab").exists():
        raws += [real_walking.mobgap_raw(n, x) for n, x in real_walking.mobgap_mat_trials(real / "mobgap_lab")]
    p = GaitCheckParams()
    for raw in raws:
        v = verdict(raw)
        assert v.keep.all(), raw.session_id
        assert np.all(v.off_axis_ratio >= 2 * p.min_off_axis_ratio), raw.session_id
        rot = v.rotation_dps[np.isfinite(v.rotation_dps)]
        assert np.all(rot >= 1.5 * p.min_rotation_dps), raw.session_id


def test_irregular_accelerometer_only_walk_keeps_its_steps():
    # short walks at changing cadence (84-124 steps/min) with stops, no gyroscope: the
    # whole-bout regularity (0.24) dropped every step on the walkdelay branch ("no repeating step
    # pattern"); the step coupling keeps them
    acc, expected = irregular_walk(np.random.default_rng(5))
    res = process_raw(raw_of(acc, None, name="irregular"))
    assert res.sessions.column("non_gait_reason")[0].as_py() is None
    assert 0.85 * expected <= res.steps.num_rows <= 1.15 * expected


@pytest.mark.parametrize("seed", range(5))
def test_a_minute_of_white_noise_without_a_gyroscope_gives_no_steps(seed):
    # a shorter recording holds fewer "steps", so chance coupling is larger (~1 / sqrt(steps)):
    # 60 s of noise stays below the threshold (20 recordings: <= 0.28, benchmarks/gait_features.py)
    acc, _gyr = non_gait(np.random.default_rng(1000 + seed), seconds=60.0)["white-noise"]
    _no_steps_and_why(acc, None, "white-noise", "no consistent coupling of the forward and vertical acceleration")


@pytest.mark.parametrize("seed", range(10))
def test_a_short_burst_of_noise_between_standing_gives_no_steps_without_a_gyroscope(seed):
    # 4 s of 0.3 g noise (a sensor handled or knocked) holds 2-4 "steps", whose chance coupling
    # (0.6-0.8) passes min_step_coupling: the Rayleigh evidence (steps x coupling² >= 3) does not
    # (before it, 7 of these 10 sessions kept steps; review of the step coupling)
    rng = np.random.default_rng(seed)
    still = np.array([0.0, 0.0, G_MPS2]) + rng.normal(0.0, 0.005 * G_MPS2, (3000, 3))
    burst = np.array([0.0, 0.0, G_MPS2]) + rng.normal(0.0, 0.3 * G_MPS2, (400, 3))
    res = process_raw(raw_of(np.concatenate([still, burst, still[::-1]]), None, name="burst"))
    assert res.steps.num_rows == 0
    why = res.sessions.column("non_gait_reason")[0].as_py()
    assert why is None or "too few steps" in why or "no consistent coupling" in why


def test_the_gyroscope_path_does_not_compute_the_step_coupling():
    # with a gyroscope the check is the rotation, as before: the coupling is not computed
    acc, gyr = non_gait(np.random.default_rng(7))["white-noise"]
    v = verdict(raw_of(acc, gyr, name="white-noise"))
    assert np.isnan(v.step_coupling).all() and np.isfinite(v.rotation_dps).all()


@pytest.mark.skipif(not (real_running.DEFAULT_DATA / "real").exists(), reason="../shared/data/real absent")
def test_real_walking_without_a_gyroscope_is_kept():
    # every real walking bout of 10 steps or more passes with the gyroscope dropped, with margin,
    # mobgap_lab's irregular free-living-like Test11 included (the whole-bout regularity dropped
    # 8 of its 17 bouts); a shorter bout may fail (few steps cannot tell gait from chance) and
    # a bout of one step cannot show the coupling at all
    real = real_running.DEFAULT_DATA / "real"
    raws = []
    if (real / "voisard_l5_walk").exists():
        raws += load_voisard(real / "voisard_l5_walk")
    if (real / "mobgap_lab").exists():
        raws += [real_walking.mobgap_raw(n, x) for n, x in real_walking.mobgap_mat_trials(real / "mobgap_lab")]
    p = GaitCheckParams()
    verdicts = {raw.session_id: verdict(raw, drop_gyro=True) for raw in raws}
    long = {k: v.coupling_steps >= 10 for k, v in verdicts.items()}
    dropped = {k: [r for r, keep in zip(v.reason, v.keep | ~long[k], strict=True) if not keep]
               for k, v in verdicts.items()}
    assert not any(dropped.values()), {k: r for k, r in dropped.items() if r}
    assert sum(int(x.sum()) for x in long.values()) >= 50
    for k, v in verdicts.items():
        assert np.all(v.step_coupling[long[k]] >= 1.25 * p.min_step_coupling), k
        few = np.isnan(v.step_coupling)
        assert all("too few steps" in r for r in np.asarray(v.reason, dtype=object)[few]), k


def _coupling(ab: np.ndarray, ic: np.ndarray, bounds: np.ndarray | None = None) -> tuple[float, int]:
    from imuback.signal.gait_check import _step_coupling

    up = np.array([0.0, 0.0, 1.0])
    bd = np.array([0, ab.shape[0]]) if bounds is None else bounds
    c, n = _step_coupling(ab, up, bd, np.zeros(ic.size, np.int64), np.array([0]), ic,
                          max_step_ratio=GaitCheckParams().max_step_ratio)
    return float(c[0]), int(n[0])


def test_step_coupling_known_answers():
    # steps of 10 samples: a forward acceleration locked in phase to the vertical one step after
    # step gives 1; an independent one gives about 1 / sqrt(steps)
    rng = np.random.default_rng(0)
    k = np.arange(2000)
    ic = np.arange(0.0, 2000.0, 10.0)
    ab = np.zeros((2000, 3))
    ab[:, 2] = np.sin(2 * np.pi * k / 10.0)
    ab[:, 0] = np.cos(2 * np.pi * k / 10.0 + 0.3)
    c, n = _coupling(ab, ic)
    assert c > 0.999 and n == ic.size - 1
    ab[:, 0] = rng.normal(0.0, 1.0, 2000)
    c, n = _coupling(ab, ic)
    assert c < 3.0 / np.sqrt(n)
    # a step across a segment bound and one over 1.5 x the median step are left out
    ab[:, 0] = np.cos(2 * np.pi * k / 10.0)
    gappy = np.concatenate([ic[:50], ic[51:]])  # one 20-sample interval: a missed step
    assert _coupling(ab, gappy)[1] == gappy.size - 2
    assert _coupling(ab, ic, np.array([0, 1005, 2000]))[1] == ic.size - 2
    # one interval cannot show it
    assert np.isnan(_coupling(ab, ic[:2])[0])


def _posture_session(pitch_deg, fs_hz=100.0):
    """(N, 3) body-frame specific force (m/s²) whose gravity direction follows ``pitch_deg`` (N,)
    (+ leaning back: gravity's reaction gains a forward share)."""
    th = np.radians(pitch_deg)
    return np.stack([np.sin(th), np.zeros_like(th), np.cos(th)], axis=1) * G_MPS2


def _seated(pitch_deg, ic_s, fs_hz=100.0):
    from imuback.signal.activity import WALK
    from imuback.signal.gait_check import seated_lone_steps
    acc = _posture_session(pitch_deg, fs_hz)
    ic = np.asarray(ic_s) * fs_hz
    return seated_lone_steps(acc, ic, np.full(ic.size, WALK, np.int8), fs_hz=fs_hz,
                             bounds=np.array([0, acc.shape[0]]), dec=2, max_step_s=1.2)


WALK_ICS = list(np.arange(2.0, 20.0, 0.55))  # 20 s of upright walking, then what follows


def _pitch(*spans, fs_hz=100.0):
    """Pitch (deg) piecewise constant over (until_s, deg) spans, from 0 s."""
    edges = [0] + [round(u * fs_hz) for u, _ in spans]
    return np.concatenate([np.full(b - a, d, dtype=float) for (a, b), (_, d) in
                           zip(itertools.pairwise(edges), spans, strict=True)])


def test_a_lone_peak_while_seated_is_no_step():
    # walk upright, sit (reclined 15° behind the walking posture), reach forward at 40 s
    # (upright for a moment), stay seated: the reach's peak is no step
    pitch = _pitch((22, 0.0), (39.5, 15.0), (40.5, 0.0), (60, 15.0))
    assert _seated(pitch, [*WALK_ICS, 40.0]).tolist() == [False] * len(WALK_ICS) + [True]


def test_a_lone_step_beside_a_chair_or_standing_is_kept():
    # a lone step while standing (upright before and after), the closing step before sitting
    # (upright before, reclined after) and the first after rising (reclined before): all kept
    standing = _pitch((60, 0.0))
    assert not _seated(standing, [*WALK_ICS, 40.0]).any()
    sit_after = _pitch((41, 0.0), (60, 15.0))
    assert not _seated(sit_after, [*WALK_ICS, 40.0]).any()
    rise_before = _pitch((22, 0.0), (39, 15.0), (60, 0.0))
    assert not _seated(rise_before, [*WALK_ICS, 40.0]).any()


def test_steps_in_a_rhythm_are_never_judged_by_posture():
    # the sensor re-seated 20° back mid-walk: every step after it reads "reclined", but each has
    # a neighbour within a step's time, so none is dropped; 11° (below the cut-point) neither
    pitch = _pitch((11, 0.0), (25, 20.0))
    assert not _seated(pitch, WALK_ICS).any()
    assert not _seated(_pitch((22, 0.0), (60, 11.0)), [*WALK_ICS, 40.0]).any()
    assert _seated(_pitch((22, 0.0), (60, 12.0)), [*WALK_ICS, 40.0])[-1]
