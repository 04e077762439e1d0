"""Closed-form force shapes of the simulator (:mod:`imuback.simulate.forces`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid  # np.trapezoid needs NumPy 2; the lower bound is 1.26

from imuback.simulate.forces import braking_propulsion, sine_lobe, warp_for_braking_peak


@pytest.mark.parametrize("frac", [0.14, 0.15, 0.2, 0.25])
def test_braking_propulsion_peaks_where_asked_with_zero_net_impulse(frac):
    tc = 0.65
    tau = np.linspace(0.0, tc, 130001)
    ones = np.ones_like(tau)
    f = braking_propulsion(tau, tc * ones, warp_for_braking_peak(frac) * ones, 0.2 * ones)
    k_brake, k_prop = int(np.argmin(f)), int(np.argmax(f))
    assert tau[k_brake] / tc == pytest.approx(frac, abs=1e-3)
    assert tau[k_prop] / tc == pytest.approx(1.0 - frac, abs=1e-3)
    assert f[k_brake] == pytest.approx(-0.2, abs=1e-6)
    assert f[k_prop] == pytest.approx(0.2, abs=1e-6)
    # the speed is unchanged over the contact: the impulse is 0, the braking half is a real one
    assert abs(trapezoid(f, tau)) < 1e-6
    assert trapezoid(f[tau < tc / 2], tau[tau < tc / 2]) < -0.02
    assert np.all(f[(tau > 0) & (tau < tc / 2)] <= 0.0) and np.all(f[(tau > tc / 2) & (tau < tc)] >= 0.0)


def test_plain_sine_without_warp_and_nothing_outside_the_contact():
    tc = np.full(5, 0.6)
    tau = np.array([-0.1, 0.15, 0.3, 0.45, 0.7])
    f = braking_propulsion(tau, tc, np.zeros(5), np.full(5, 0.2))
    np.testing.assert_allclose(f, [0.0, -0.2, 0.0, 0.2, 0.0], atol=1e-12)


def test_sine_lobe_impulse():
    x = np.linspace(-0.05, 0.2, 250001)
    f = sine_lobe(x, np.full(x.size, 0.1), np.full(x.size, 0.3))
    assert trapezoid(f, x) == pytest.approx(0.3 * 2 * 0.1 / np.pi, rel=1e-5)
    assert f[x <= 0].max() == 0.0 and f[x >= 0.1].max() == 0.0
