"""Alignment from any sensor orientation (src/imuback/signal/align.py).

The same recording turned into all 24 axis-aligned orientations and 30 random ones, with the
file's nominal mounting left unchanged, must give the same steps, feet and cadence and a body
frame within a few degrees of the truth (simulated) or of the frame found as worn (real).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim_accuracy
from align_any import DEFAULT_DATA, Agreement, axis_rotations, compare, random_rotations, turned, voisard_raws
from imuback.signal.align import forward_axis
from imuback.signal.frames import rot_z
from imuback.signal.session import analyse_session
from imuback.simulate.runner import RunnerParams, simulate_session

T0_NS = 1_700_000_000 * 10**9


def _check(agg: Agreement, frame_deg: float) -> None:
    assert agg.copies > 0
    assert agg.same_steps == agg.ref_steps and agg.extra_steps == 0, agg.line("")
    assert agg.same_feet == agg.labelled > 0, agg.line("")
    assert agg.cadence_diff_pct < 0.5, agg.line("")
    assert agg.frame_err_deg < frame_deg, agg.line("")


@pytest.mark.parametrize("kind", ["walking", "running"])
def test_any_orientation_gives_the_same_steps_feet_and_frame(kind: str) -> None:
    params = (sim_accuracy.walking_scenario(1) if kind == "walking"
              else sim_accuracy.phone_scenario(0, 1.5, phone=False))
    sim = simulate_session(params, seed=21, session_id="al", runner_id="sim", start_time=T0_NS)
    agg = Agreement()
    compare(sim.raw, axis_rotations() + random_rotations(30), agg,
            true_rot=np.asarray(sim.truth["mounting_true"]))
    assert agg.copies == 54
    _check(agg, frame_deg=5.0)


def test_phone_in_a_loose_belt_counts_steps_feet_and_cadence_like_a_strapped_sensor() -> None:
    phone = sim_accuracy.evaluate(3, 0.0, seed0=40, scenarios=[sim_accuracy.phone_scenario(i, 2.0)
                                                               for i in range(3)])
    assert phone.n_found_run >= 0.99 * phone.n_truth_run
    assert phone.n_true_pos >= 0.99 * phone.n_est_run
    assert phone.foot_ok >= 0.99 * phone.foot_n
    assert phone.n_found_walk >= 0.97 * phone.n_truth_walk
    assert phone.walk_foot_ok >= 0.97 * phone.walk_foot_n
    assert np.max(np.abs(phone.cadence_err_pct)) < 2.0


def test_undecided_sign_falls_back_to_the_mounting() -> None:
    """Isotropic noise has no energy exchange: the sign is the nominal one, marked as such."""
    rng = np.random.default_rng(0)
    n = 3000
    acc = rng.standard_normal((n, 3)) + np.array([0.0, 0.0, 9.81])
    z = np.array([0.0, 0.0, 1.0])
    for guess in (np.array([1.0, 0.0, 0.0]), np.array([-1.0, 0.0, 0.0])):
        f = forward_axis(acc, z, guess, step_lag=50, moving=np.ones(n, bool), ic_idx=np.zeros(0, np.int64),
                         contact_len=np.zeros(0, np.int64), running=False, fs_hz=100.0,
                         bounds=np.array([0, n]))
        assert f.sign_from == "mounting"
        assert f.sign_evidence < 0.1
        assert np.dot(f.axis, guess) > 0


def test_walking_sign_comes_from_the_data_not_the_mounting() -> None:
    """A walk processed with a nominal mounting that points backwards still finds forward."""
    p = RunnerParams(run_minutes=0.0, walk_start_s=60.0, walk_end_s=0.0, misalignment_deg=0.0)
    sim = simulate_session(p, seed=5, session_id="w", runner_id="sim", start_time=T0_NS)
    a = analyse_session(sim.raw)
    back = analyse_session(turned(sim.raw, rot_z(np.pi)))  # the sensor turned round, file unchanged
    assert np.dot(a.rotation[0], np.asarray(sim.truth["mounting_true"])[0]) > 0.99
    assert np.dot(back.rotation[0] @ rot_z(np.pi).T, a.rotation[0]) > 0.99
    assert not any("nominal mounting" in n for n in back.notes)


VOISARD = DEFAULT_DATA / "real" / "voisard_l5_walk"


@pytest.mark.skipif(not VOISARD.is_dir(), reason=f"real recordings not found at {VOISARD}")
def test_real_walks_turned_any_way_give_the_same_steps_and_feet() -> None:
    agg = Agreement()
    raws = list(voisard_raws(VOISARD))
    for raw in raws[::6]:  # one trial of each subject-ish, every orientation
        compare(raw, axis_rotations() + random_rotations(4, seed=1), agg)
    _check(agg, frame_deg=2.0)



def test_forward_axis_from_a_decimated_copy_is_the_same_bits() -> None:
    """Given ``acc[::every]`` as a contiguous copy (what the session holds), the result is the
    same, bit for bit, as reading the strided rows of the full-rate array."""
    p = RunnerParams(run_minutes=1.0, walk_start_s=20.0, walk_end_s=10.0)
    sim = simulate_session(p, seed=4, session_id="f", runner_id="sim", start_time=T0_NS)
    acc = np.asfortranarray(sim.raw.acc_mps2, dtype=np.float64)
    n, every = acc.shape[0], 4
    z = acc[::every].mean(axis=0)
    z /= np.linalg.norm(z)
    guess = np.cross(np.cross(z, [1.0, 0.0, 0.0]), z)
    guess /= np.linalg.norm(guess)
    ic = np.arange(200, n - 200, 70, dtype=np.int64)
    kw = dict(step_lag=70, moving=np.ones(n, bool), ic_idx=ic, contact_len=np.full(ic.size, 50, np.int64),
              running=True, fs_hz=sim.raw.sample_rate_hz, bounds=np.array([0, n]), every=every)
    strided = forward_axis(acc, z, guess, **kw)  # type: ignore[arg-type]
    copied = forward_axis(acc, z, guess, acc_every_mps2=np.ascontiguousarray(acc[::every]), **kw)  # type: ignore[arg-type]
    assert np.array_equal(strided.axis, copied.axis)
    assert (strided.anisotropy, strided.sign_evidence, strided.sign_from) == \
        (copied.anisotropy, copied.sign_evidence, copied.sign_from)
    assert strided.sign_evidence > 0.1
