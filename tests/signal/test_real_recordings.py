"""Regression checks on real recordings from other groups (../shared/data), skipped where absent.

Where they are absent, ``python benchmarks/get_real_data.py`` fetches them (checked by SHA-256).

alcantara_treadmill: real running on a force treadmill (events and peak vGRF against force).
mobgap_lab, voisard_l5_walk: real walking (steps, left/right) through benchmarks/real_walking.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import pelvic_drop_sign
import real_running
import real_walking
import validate
import walk_packet_loss
from get_real_data import COMMAND

DATA = validate.DEFAULT_DATA / "real"


@pytest.mark.skipif(not (DATA / "alcantara_treadmill").exists(),
                    reason=f"../shared/data/real/alcantara_treadmill absent: run {COMMAND}")
def test_alcantara_running_events_and_vgrf():
    trials = real_running.load_trials(DATA / "alcantara_treadmill")
    r = real_running.score(trials)
    n_ref = int(r.n_ref.sum())
    assert n_ref == 303 and int(r.n_missed.sum()) == 0 and int(r.n_extra.sum()) == 0
    # what is reached today (benchmarks/real_running.py), with a small margin
    assert abs(1e3 * np.mean(r.ic_err_s)) <= 3.0 and 1e3 * np.std(r.ic_err_s) <= 9.0
    # TO: the spring-mass toe-off meets issue #14's target (bias within ±5 ms, SD <= 15 ms; the
    # tangent toe-off of 0.4.0 gave -2.4 ± 18.6 ms), also for the trials left out when choosing
    # its low-pass (leave one trial out)
    assert abs(1e3 * np.mean(r.to_err_s)) <= 4.0 and 1e3 * np.std(r.to_err_s) <= 12.5
    # peak vGRF: the sacral peak blended with the spring-mass peak of the timing (0.195 BW with the
    # sacral peak alone); the 0.15 BW is reached only where the force maximum is the
    # active peak, not on heel strikes' impact peaks
    assert real_running.rmse(r.grf_err_bw) <= 0.185
    assert real_running.rmse(r.grf_err_bw[~r.impact_peak]) <= 0.150


def _walking(ds: str, ref: str, tol_s: float = 0.1, cond: str = "all", value: str = "all") -> real_walking.Figures:
    trials = [t for t in real_walking.load(DATA.parent) if t.dataset == ds]
    dets = [real_walking.imuback_detect(t) for t in trials]
    return real_walking.figures(real_walking.score(trials, dets, ref_name=ref, tol_s=tol_s), cond, value)


@pytest.mark.skipif(not (DATA / "mobgap_lab").exists(), reason=f"../shared/data/real/mobgap_lab absent: run {COMMAND}")
def test_mobgap_walking_steps_and_feet():
    f = _walking("mobgap_lab", "INDIP")
    # issue #14 targets (recall and precision >= 0.97) are not reached: these floors (the figures
    # reached, docs/validation.md, less a small margin) catch regressions. Held out: no walking
    # constant was chosen on mobgap_lab.
    # reached 0.776 / 0.780 (0.771 / 0.775 before ICs that break the step rhythm were re-placed,
    # 0.740 / 0.747 before the IC fusion)
    assert f.recall >= 0.765 and f.precision >= 0.77
    assert f.ic_sd_ms <= 38.0  # reached 36.9 ms (40.3 before the IC fusion); the references differ by 24-44 ms SD
    assert _walking("mobgap_lab", "INDIP", tol_s=0.05).recall >= 0.61  # reached 0.630 (0.562)
    # reached 1.000 with 4.0 % unlabelled (5.4 % before the yaw cue was read 60 ms before IC; 0.977 with
    # 9.2 % before a chain's last step was judged over a typical step time instead of at its IC);
    # the target, <= 5 % unlabelled
    assert f.foot_acc >= 0.99 and f.unlabelled <= 0.05
    assert f.n_to == 0  # walking toe-off is not reported (none held out: benchmarks/walk_to.py)
    s = _walking("mobgap_lab", "stereo")  # the second opinion
    assert s.recall >= 0.795 and s.precision >= 0.83  # reached 0.807 / 0.842 (0.802 / 0.837; 0.797 / 0.832)
    assert s.ic_sd_ms <= 36.5  # reached 34.7 ms (38.5)
    assert s.foot_acc >= 0.99 and s.unlabelled <= 0.03  # reached 1.000 with 1.9 % unlabelled (2.6 %; 0.993 / 9.2 %)


NO_VOISARD = f"../shared/data/real/voisard_l5_walk absent: run {COMMAND}"


@pytest.mark.skipif(not (DATA / "voisard_l5_walk").exists(), reason=NO_VOISARD)
def test_voisard_walking_steps_and_feet():
    f = _walking("voisard_l5_walk", "foot IMU")
    # reached 0.921 / 0.964 (0.921 / 0.961 before a second detection inside one stance was dropped,
    # 0.909 / 0.952 before ICs that break the step rhythm were re-placed, 0.906 / 0.949 before the IC fusion)
    assert f.recall >= 0.915 and f.precision >= 0.963
    assert f.ic_sd_ms <= 25.0 and abs(f.ic_bias_ms) <= 10.0
    # reached 0.960 with 0.4 % unlabelled (4.0 % before the yaw cue was read 60 ms before IC, which
    # settled subject 3's opposed chains; 0.954 / 4.5 % before a chain's last
    # step was judged over a typical step time, 0.949 / 6.2 % before chains were split at parity
    # flips and closing steps kept their alternation); trials 4-1 and 4-2 have their reference feet swapped
    assert f.foot_acc >= 0.955 and f.unlabelled <= 0.015
    keep = [t for t in real_walking.load(validate.DEFAULT_DATA) if t.dataset == "voisard_l5_walk"
            and t.name not in real_walking.REFERENCE_FEET_SWAPPED]
    k = real_walking.figures(real_walking.score(keep, [real_walking.imuback_detect(t) for t in keep],
                                                ref_name="foot IMU", tol_s=0.1))
    # reached 0.998 with 0.4 % unlabelled (4.1 % before the yaw cue was read 60 ms before IC; 0.993 / 4.6 %)
    assert k.foot_acc >= 0.99 and k.unlabelled <= 0.015
    t = _walking("voisard_l5_walk", "foot IMU", cond="turn", value="turn")
    assert t.recall >= 0.68 and t.precision >= 0.825  # U-turns: reached 0.698 / 0.841 (0.543 / 0.761 before bridging,
    # 0.659 / 0.794 before the IC fusion)
    e = _walking("voisard_l5_walk", "foot IMU", cond="bout", value="start/end (2 steps)")
    assert e.recall >= 0.68  # the first and last two steps: reached 0.697 (0.625 before the end-of-walk steps)


@pytest.mark.skipif(not (DATA / "voisard_l5_walk").exists(), reason=NO_VOISARD)
def test_voisard_walking_has_one_detection_per_stance():
    """No two walking ICs closer than the shortest walking step (0.3 s): 5 such pairs at 0.10.0,
    each one step found twice (docs/validation_log.md, "Walking detections no reference holds")."""
    trials = [t for t in real_walking.load(DATA.parent) if t.dataset == "voisard_l5_walk"]
    short = [t.name for t in trials if (np.diff(real_walking.imuback_detect(t).ic_s) < 0.3).any()]
    assert short == []


@pytest.mark.skipif(not (DATA / "voisard_l5_walk").exists(), reason=NO_VOISARD)
def test_voisard_reference_feet_are_swapped_exactly_in_the_listed_trials():
    # independent of imuback's foot cues and alignment: the pelvis roll in each reference stance from
    # the raw gyroscope turned by the nominal mounting (benchmarks/pelvic_drop_sign.py --per-trial)
    share = {}
    for t in real_walking.voisard_trials(DATA / "voisard_l5_walk"):
        ref = t.refs["foot IMU"]
        d = pelvic_drop_sign.nominal_roll_change_deg(t.raw, ref.ic_s)
        ok = np.isfinite(d)
        share[t.name] = float(np.mean(np.where(ref.foot == "L", d > 0, d < 0)[ok]))
    swapped = {k for k, v in share.items() if v < 0.5}
    assert swapped == set(real_walking.REFERENCE_FEET_SWAPPED)
    assert max(share[k] for k in swapped) <= 0.1 and min(v for k, v in share.items() if k not in swapped) >= 0.8


@pytest.mark.skipif(not (DATA / "voisard_l5_walk").exists(), reason=NO_VOISARD)
def test_voisard_time_comes_from_the_packet_counter():
    # 2-3 lost ~2.9 s of packets: on row numbers the steps after the turn drift by up to 0.3 s
    t = next(t for t in real_walking.voisard_trials(DATA / "voisard_l5_walk") if t.name == "voisard/2-3")
    dt = np.diff(t.raw.time_ns) / 1e7
    # 3919 rows span 42.09 s on the sensor clock (39.18 s if every row were one sample)
    assert dt.max() > 6.5 and abs(float(t.raw.time_ns[-1] - t.raw.time_ns[0]) / 1e9 - 42.09) < 0.01


@pytest.mark.skipif(not (DATA / "voisard_l5_walk").exists(), reason=NO_VOISARD)
def test_voisard_steady_walking_survives_lost_packets():
    # steady straight walking inside each trial's walk (the nearest real condition to treadmill
    # walking): reached 0.992 / 0.996 (0.988 / 0.995 with the steps after the trial; 0.983 / 0.995 when
    # gaps over 0.1 s split the recording); 7-3 lost 20 % of its packets: 0.886 (0.686)
    s = _walking("voisard_l5_walk", "foot IMU", cond="steady", value="steady straight")
    assert s.recall >= 0.99 and s.precision >= 0.995
    trials = [t for t in real_walking.load(DATA.parent) if t.dataset == "voisard_l5_walk"]
    t73 = [t for t in trials if t.name == "voisard/7-3"]
    f = real_walking.figures(real_walking.score(t73, [real_walking.imuback_detect(t) for t in t73],
                                                ref_name="foot IMU", tol_s=0.1))
    assert f.recall >= 0.85 and f.precision >= 0.98
    # the clean trials with 5 % of their samples dropped in 50 ms bursts (lost BLE notifications,
    # benchmarks/walk_packet_loss.py): steady walking reached 0.991 / 0.992 (0.935 / 0.992 with splits;
    # pipeline 0.9.0, with the steps after the trial counted as steady)
    clean = [t for t, x in zip(trials, walk_packet_loss.loss_share(trials), strict=True) if x < 0.01]
    rng = np.random.default_rng(7)
    lossy = [walk_packet_loss.drop(t, walk_packet_loss.burst_mask(t.raw.time_ns.size, 0.05, 5.0, rng))
             for t in clean]
    rows = real_walking.score(lossy, [real_walking.imuback_detect(t) for t in lossy], ref_name="foot IMU", tol_s=0.1)
    g = real_walking.figures(rows, "steady", "steady straight")
    assert g.recall >= 0.975 and g.precision >= 0.985


@pytest.mark.skipif(not ((DATA / "voisard_l5_walk").exists() and (DATA / "mobgap_lab").exists()),
                    reason=f"../shared/data/real/voisard_l5_walk or mobgap_lab absent: run {COMMAND}")
def test_walking_feet_without_a_gyroscope():
    # an accelerometer-only sensor (the gyroscope dropped): feet from two lateral cues, the whole
    # step and single support (EventParams.foot_lone_stance_s), labelled where one is clear and
    # the other agrees; before it (the whole-step cue alone) voisard 1.000 / 18.5 % unlabelled
    # without its two swapped trials, mobgap_lab INDIP 0.992 / 8.4 %, stereo 1.000 / 10.5 %
    trials = real_walking.load(DATA.parent, no_gyro=True)

    def feet(ds: str, ref: str) -> real_walking.Figures:
        keep = [t for t in trials if t.dataset == ds and t.name not in real_walking.REFERENCE_FEET_SWAPPED]
        return real_walking.figures(real_walking.score(keep, [real_walking.imuback_detect(t) for t in keep],
                                                       ref_name=ref, tol_s=0.1))

    v = feet("voisard_l5_walk", "foot IMU")  # chosen on: reached 0.999 with 8.7 % unlabelled
    assert v.foot_acc >= 0.99 and v.unlabelled <= 0.10
    m = feet("mobgap_lab", "INDIP")  # held out: reached 0.992 with 6.1 % unlabelled
    assert m.foot_acc >= 0.98 and m.unlabelled <= 0.07
    s = feet("mobgap_lab", "stereo")  # held out: reached 1.000 with 4.2 % unlabelled
    assert s.foot_acc >= 0.99 and s.unlabelled <= 0.05
