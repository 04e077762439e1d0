"""Known-answer accuracy on simulated sessions (the issue's targets), via benchmarks/sim_accuracy.py.

Six scenarios: 100-416 Hz, misalignment up to 25°, two nominal mountings, three foot strikes,
asymmetry, sensor noise/bias/quantisation, gaps, standing and walking segments.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim_accuracy
from imuback.simulate.runner import RunnerParams


@pytest.fixture(scope="module")
def errors() -> sim_accuracy.Errors:
    return sim_accuracy.evaluate(6, 3.0)


def _med_abs(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(np.abs(x)))


def test_step_recall_and_precision(errors):
    assert 100 * errors.n_found_run / errors.n_truth_run >= 99.0
    assert 100 * errors.n_true_pos / errors.n_est_run >= 99.0


def test_event_timing(errors):
    assert 1e3 * _med_abs(errors.cat("ic")) <= 10.0
    assert 1e3 * _med_abs(errors.cat("to")) <= 10.0
    assert 1e3 * _med_abs(errors.cat("contact")) <= 15.0


def test_foot_labels(errors):
    assert 100 * errors.foot_ok / errors.foot_n >= 98.0


def test_vertical_oscillation_grf_and_ml(errors):
    assert _med_abs(errors.cat("vo")) <= 1.0
    assert 100 * _med_abs(errors.cat("grf_rel")) <= 10.0
    assert _med_abs(errors.cat("ml")) <= 1.0


def test_pelvis_angle_ranges(errors):
    for name in ("rot", "obl", "tilt"):
        assert _med_abs(errors.cat(name)) <= 2.0, name


def test_misalignment_is_found(errors):
    assert max(errors.misalign) <= 5.0


def test_walking_steps(errors):
    # the walks before, between and after the runs; the same criterion as mobgap_lab (100 ms)
    assert 100 * errors.n_found_walk / errors.n_truth_walk >= 95.0
    assert 100 * errors.n_true_pos_walk / errors.n_est_walk >= 98.0
    assert 100 * errors.walk_foot_ok / errors.walk_foot_n >= 95.0
    # IC just after the forward-acceleration peak before braking (Zijlstra & Hof 2003; the delay
    # chosen on voisard, where the peak came 6 ms before the reference IC). The simulated walking
    # contact brakes at heel strike as real people do (contact-locked forward acceleration,
    # benchmarks/sim_vs_real.py: steepest fall +6 ms simulated, +6 / +7 ms real): the issue's
    # simulated target, median |IC error| <= 5 ms (6.5 ms before the delay, 22.6 ms when the
    # simulated braking fall came 93 ms late; docs/validation.md).
    assert 1e3 * _med_abs(errors.cat("walk_ic")) <= 5.0


def test_run_walk_transitions_keep_every_step():
    # interval training: four walking breaks in four minutes, eight run/walk changes
    params = RunnerParams(run_minutes=4.0, walk_breaks=4, walk_break_s=20.0, misalignment_deg=20.0)
    e = sim_accuracy.evaluate(1, 4.0, seed0=501, scenarios=[params])
    assert 100 * e.n_found_run / e.n_truth_run >= 99.8
    assert 100 * e.n_true_pos / e.n_est_run >= 99.8
    assert 100 * e.n_found_walk / e.n_truth_walk >= 97.0
    assert 1e3 * _med_abs(e.cat("ic")) <= 10.0
