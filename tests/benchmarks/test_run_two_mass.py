"""benchmarks/run_two_mass.py: the two-mass model and the sacral touchdown velocity are right on
analytic contacts, so its figures (docs/validation_log.md, "Running: tried, not kept") are
evidence about the model, not about its implementation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

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
