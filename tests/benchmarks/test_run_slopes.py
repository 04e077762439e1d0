"""benchmarks/run_slopes.py: its measurements are right where the answer is known.

Its tables (docs/validation_log.md, "Running events by slope") are evidence only if the low
crossing finds the onset of any loading shape, the rotation recovers the force along gravity and
along the belt normal, and the lag measure reads a known shift."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from imuback.signal.dsp import crossings, lowpass

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import run_slopes  # noqa: E402
from contact_shape import detector_on  # noqa: E402

FS = 500.0
STEP_S, CONTACT_S = 0.36, 0.24


def _contacts(rise_s: float) -> np.ndarray:
    """vGRF (BW) of 30 steps: each contact a half-sine whose first ``rise_s`` is a soft toe (a
    cosine ramp from 0, a mid/forefoot landing: no impact transient) or, for a short ``rise_s``,
    a steep heel-strike-like ramp."""
    t = np.arange(int(30 * STEP_S * FS)) / FS % STEP_S
    body = np.where(t < CONTACT_S, 2.4 * np.sin(np.pi * t / CONTACT_S), 0.0)
    toe = np.where(t < rise_s, 0.5 * (1.0 - np.cos(np.pi * t / rise_s)), 1.0)
    return np.asarray(body * toe, dtype=np.float64)


@pytest.mark.parametrize("rise_s", [0.01, 0.06])
def test_the_low_crossing_finds_the_onset_of_hard_and_soft_landings(rise_s):
    f = _contacts(rise_s)
    onset_s = crossings(f, run_slopes.ONSET_G)[0] / FS  # the reference's 50 N onset
    ic, _ = detector_on(f, FS)
    x = lowpass(f, run_slopes.LP_HZ, FS, np.array([0, f.size]))
    low = run_slopes.low_crossing_ic(x, ic * FS, 0.3, FS) / FS
    k = np.searchsorted(onset_s, ic - 0.03)[2:-2]  # each detected contact's reference onset
    err_low, err_tangent = 1e3 * (low[2:-2] - onset_s[k]), 1e3 * (ic[2:-2] - onset_s[k])
    assert np.all(np.abs(err_low) <= 4.0), err_low  # (the 20 Hz low-pass spreads a steep rise ~4 ms earlier)
    if rise_s > 0.03:  # the soft toe: the tangent at the steep part lands late, the measured contrast
        assert np.all(err_tangent >= 5.0), err_tangent


def test_the_tilt_and_rotation_recover_gravity_and_the_belt_normal():
    slope, lean = np.radians(10.0), np.radians(-20.0)
    f_n = _contacts(0.01)
    f_n *= np.cos(slope) / f_n.mean()  # over whole strides the force's mean is body weight along gravity
    f_t = np.sin(slope) / np.cos(slope) * f_n + 0.3 * np.gradient(f_n) * FS * 0.02  # + braking, then push
    fx, fz = -f_n * np.sin(slope) + f_t * np.cos(slope), f_n * np.cos(slope) + f_t * np.sin(slope)
    vert = fx * np.sin(lean) + fz * np.cos(lean)  # the sensor's axis leans forward by ``lean``
    ap = fx * np.cos(lean) - fz * np.sin(lean) - 0.5  # with an offset: reads -0.5 g in free fall
    tilt, offset = run_slopes.sagittal_tilt(vert, ap, f_n)
    assert tilt == pytest.approx(np.degrees(lean), abs=0.5)
    assert offset == pytest.approx(-0.5, abs=1e-6)
    np.testing.assert_allclose(run_slopes.rotate(vert, ap - offset, tilt), fz, atol=0.02)
    np.testing.assert_allclose(run_slopes.rotate(vert, ap - offset, tilt + 10.0), f_n, atol=0.02)


def test_the_lag_reads_a_known_shift():
    f = lowpass(_contacts(0.01), run_slopes.LP_HZ, FS, np.array([0, int(30 * STEP_S * FS)]))
    v = np.roll(f, -5)  # 10 ms earlier
    on, off = crossings(f, run_slopes.ONSET_G)
    for at, rising in ((on[1:-1] / FS, True), (off[1:-1] / FS, False)):
        lag = run_slopes.crossing_lag(v, f, at, 1.0, rising=rising, fs_hz=FS)
        np.testing.assert_allclose(lag, -0.010, atol=1e-9)
