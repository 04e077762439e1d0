"""Within-run drift: the late-vs-early change and its confidence interval from the run's own noise."""

from __future__ import annotations

import numpy as np

from imuback.signal.summary import drift


def _run(rng: np.random.Generator, *, minutes: float = 30.0, late_rise_pct: float = 0.0,
         step_sd: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """Steps at 170/min of a metric around 1.0 with step-to-step noise; the last 10 minutes raised."""
    t = np.arange(0.0, minutes, 1.0 / 170.0)
    v = 1.0 + rng.normal(0.0, step_sd, t.size)
    v[t >= minutes - 10.0] *= 1.0 + late_rise_pct / 100.0
    return t, v


def test_noise_alone_rarely_counts_as_drift() -> None:
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        _, pct, ci = drift(*_run(rng), baseline=(2.0, 10.0), late_min=10.0)
        assert np.isfinite(pct) and ci > 0
        hits += abs(pct) > ci
    assert hits <= 20  # a 95 % interval: about 5 % false alarms, 10 % allowed for sampling


def test_a_late_rise_beyond_the_noise_counts() -> None:
    rng = np.random.default_rng(1)
    results = [drift(*_run(rng, late_rise_pct=1.5), baseline=(2.0, 10.0), late_min=10.0) for _ in range(50)]
    pct = np.array([r[1] for r in results])
    ci = np.array([r[2] for r in results])
    assert np.isfinite(pct).all()
    assert abs(np.median(pct) - 1.5) < 0.3
    assert np.mean(pct > ci) >= 0.9


def test_the_interval_widens_with_the_runs_noise() -> None:
    quiet = drift(*_run(np.random.default_rng(2), step_sd=0.01), baseline=(2.0, 10.0), late_min=10.0)[2]
    noisy = drift(*_run(np.random.default_rng(2), step_sd=0.05), baseline=(2.0, 10.0), late_min=10.0)[2]
    assert noisy > 3 * quiet


def test_too_short_a_run_has_no_change_and_no_interval() -> None:
    slope, pct, ci = drift(*_run(np.random.default_rng(3), minutes=6.0), baseline=(2.0, 10.0), late_min=10.0)
    assert np.isfinite(slope) and np.isnan(pct) and np.isnan(ci)
