"""benchmarks/run_two_mass.py on analytic contacts: the sacral touchdown velocity of half-sine contacts;
the two impulses (F1's peak and impulse from the touchdown speed, F1 + F2 carrying the body over the
step for each active shape); the "impact" estimate; the held-out choice; the touchdown speed the
force plate's peak needs (docs/validation_log.md, "Peak vGRF from Clark, Ryan & Weyand's two-mass
model")."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy.integrate import trapezoid

from imuback.core import G_MPS2

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import run_two_mass  # noqa: E402

FS = 500.0


def test_touchdown_velocity_of_half_sine_contacts_is_the_free_fall_speed():
    # a steady run of half-sine contacts (peak so that the step's mean is 1 g) and flights of
    # free fall: the body lands at g x flight / 2 (symmetric flight), whatever the contact
    step_s, contact_s = 0.36, 0.22
    ph = np.arange(int(20 * step_s * FS)) / FS % step_s
    f_g = np.where(ph < contact_s, step_s / (contact_s * 2 / np.pi) * np.sin(np.pi * ph / contact_s), 0.0)
    ic = np.arange(2, 18) * step_s * FS
    v = run_two_mass.touchdown_velocity_mps(f_g * G_MPS2, FS, ic, ic + step_s * FS)
    expected = -G_MPS2 * (step_s - contact_s) / 2
    assert np.allclose(v, expected, atol=0.02), (v, expected)


def test_two_mass_without_a_lower_limb_is_the_spring_mass_peak():
    T, tc = np.array([0.36, 0.33]), np.array([0.24, 0.20])
    est = run_two_mass.two_mass_peak_bw(T, tc, np.array([1.0, 1.5]), m1_share=0.0)
    assert np.allclose(est, 0.5 * np.pi * T / tc, rtol=1e-3)


def test_impact_peak_follows_the_touchdown_speed_and_keeps_the_step_impulse():
    T, tc = np.full(3, 0.36), np.full(3, 0.22)
    slow, fast = (run_two_mass.two_mass_peak_bw(T, tc, np.full(3, dv), active="impact-only",
                                                active_peak_bw=np.full(3, 2.0)) for dv in (0.5, 3.0))
    assert np.all(fast > slow + 0.5)
    # F1's peak alone: 2 (m1 / m_b) (dV1 / (g t1) + 1), reached at t1 where F2 adds its share
    t1, dv = run_two_mass.T1_S, 3.0
    a1 = 2 * run_two_mass.M1_SHARE * (dv / (G_MPS2 * t1) + 1)
    assert np.all(fast >= a1)
    # the active part gives up the lower limb's impulse: a smaller peak than without it
    with_m1 = run_two_mass.two_mass_peak_bw(T, tc, np.full(3, 0.5))
    assert np.all(with_m1 < 0.5 * np.pi * T / tc)
    # no model without a flight or a next step
    assert np.isnan(run_two_mass.two_mass_peak_bw(np.array([np.nan, 0.2]), np.array([0.2, 0.25]),
                                                  np.array([1.0, 1.0]))).all()


def test_the_two_impulses_carry_the_body_over_the_step_for_each_active_shape():
    # over a steady step the contact's vertical impulse is body weight x step time (J_total / BW =
    # step_time): F1 takes 2 (m1 / m_b) (dV1 / g + t1) of it (half stops m1, half carries its
    # weight), peaking at a1 = 2 (m1 / m_b) (dV1 / (g t1) + 1) at t1; F2 takes the rest
    T, tc, dv = np.array([0.36, 0.33, 0.30]), np.array([0.24, 0.20, 0.18]), np.array([0.5, 1.0, 2.0])
    t1, m1 = run_two_mass.T1_S, run_two_mass.M1_SHARE
    j1 = 2 * m1 * (dv / G_MPS2 + t1)
    a1 = 2 * m1 * (dv / (G_MPS2 * t1) + 1)
    for active in ("half-sine", "raised-cosine"):
        ok, tau, f1, f2 = run_two_mass.two_mass_curves_bw(T, tc, dv, active=active)
        assert ok.all()
        assert np.allclose(trapezoid(f1, tau, axis=1), j1, rtol=2e-3), active
        assert np.allclose(trapezoid(f1 + f2, tau, axis=1), T, rtol=2e-3), active
        assert np.allclose(f1.max(axis=1), a1, rtol=2e-3), active
        assert np.allclose(tau[np.arange(3), f1.argmax(axis=1)], t1, atol=1e-3), active
        assert np.all(f1[tau > 2 * t1] == 0.0)


def test_impact_is_the_larger_of_the_active_peak_and_the_impact_curve():
    # step 0: a fast touchdown under a low active peak (the impact wins); step 1: the reverse
    T, tc, dv, act = np.full(2, 0.36), np.full(2, 0.22), np.array([3.0, 0.2]), np.array([1.2, 3.0])
    only = run_two_mass.two_mass_peak_bw(T, tc, dv, active="impact-only", active_peak_bw=act)
    both = run_two_mass.two_mass_peak_bw(T, tc, dv, active="impact", active_peak_bw=act)
    assert only[0] > act[0] and only[1] < act[1]
    assert both.tolist() == [only[0], act[1]]


def _matched(ref_peak_bw, pipeline_bw, trial, step_time_s=None, contact_time_s=None):
    n = trial.size
    return run_two_mass.Matched(
        trial=trial, ref_peak_bw=ref_peak_bw, impact=np.zeros(n, bool), pipeline_bw=pipeline_bw,
        sacral_bw=pipeline_bw, step_time_s=np.full(n, 0.36) if step_time_s is None else step_time_s,
        contact_time_s=np.full(n, 0.22) if contact_time_s is None else contact_time_s,
        v_td_mps=np.full(n, -1.0), belt_vz_mps=np.zeros(n))


def test_held_out_picks_the_candidate_with_the_smaller_rmse_on_the_other_trials():
    trials = [SimpleNamespace(speed_mps=v, slope_deg=s) for v, s in ((2.5, 0), (2.5, 5), (3.33, 0), (3.33, 5))]
    trial = np.repeat(np.arange(4), 5)
    ref = np.full(trial.size, 2.0)
    m = _matched(ref, ref + 0.1, trial)
    lines = run_two_mass.held_out(trials, {"0.12.0": ref + 0.1, "worse": ref + 0.3, "better": ref + 0.05}, m)
    assert lines[0] == "leave one trial out: held-out RMSE 0.050 BW (bias +0.050)"
    assert lines[1] == "    picked: better x4"
    assert lines[2].startswith("leave one slope out: held-out RMSE 0.050 BW")
    assert lines[3] == "    0: better 0.050; 5: better 0.050"


def test_needed_touchdown_speed_inverts_the_impact_model():
    n = 4
    T, tc, act = np.array([0.36, 0.33, 0.34, 0.36]), np.array([0.22, 0.20, 0.21, 0.22]), np.full(n, 2.0)
    dv = np.array([0.8, 1.5, 2.5, 1.0])
    peak = run_two_mass.two_mass_peak_bw(T, tc, dv, active="impact-only", active_peak_bw=act)
    peak[3] = 50.0  # no touchdown speed up to 10 m/s reaches it
    m = _matched(peak, act, np.zeros(n, np.int64), T, tc)
    need = run_two_mass.needed_dv1_mps(m, run_two_mass.T1_S)
    assert np.allclose(need[:3], dv[:3], atol=1e-3), need
    assert np.isnan(need[3])
