"""The sideways strap/soft-tissue ring (``walk_ml_tissue_*``): off by default, on only sideways.

Off (the default, docs/validation_log.md "tried, not kept as default") it draws nothing, so a
session is bit-identical to one with the knob set to 0 explicitly; on, it is a translation of the
sensor sideways of the path (body y, left, but for the pelvis's yaw and roll): gyroscope and the
truth steps are unchanged, and its response is signed by the foot (voisard's left and
right mean 3-8 Hz ML responses are mirror images, r -0.97).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imuback.core import G_MPS2
from imuback.signal.dsp import bandpass
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import SimulatedSession, simulate_session

WALK = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=30.0, walk_end_s=0.0,
                    sample_rate_hz=100.0, gaps_per_hour=0.0, mounting="identity", noise=False,
                    misalignment_deg=0.0, misalignment_exact=True)
"""A 30 s default straight walk; sensor frame = body frame (x forward, y left, z up), noise-free."""
RING_ON = {"walk_ml_tissue_g_per_bw_s": 0.022}


def _sim(p: RunnerParams) -> SimulatedSession:
    return simulate_session(p, seed=3, session_id="mlt", runner_id="sim", start_time=0, keep_signals=True)


def test_the_ring_is_off_by_default_and_then_draws_nothing() -> None:
    assert RunnerParams().walk_ml_tissue_g_per_bw_s == 0.0
    a, b = _sim(WALK), _sim(replace(WALK, walk_ml_tissue_g_per_bw_s=0.0, walk_ml_tissue_foot_share=0.3))
    assert np.array_equal(a.raw.acc_mps2, b.raw.acc_mps2)
    assert np.array_equal(a.raw.gyr_dps, b.raw.gyr_dps)


def test_the_ring_moves_only_the_sideways_acceleration_signed_by_the_foot() -> None:
    off, on = _sim(WALK), _sim(replace(WALK, **RING_ON))
    assert off.signals is not None and on.signals is not None
    assert off.truth_steps.equals(on.truth_steps)
    assert np.array_equal(off.signals.gyr_sensor_dps, on.signals.gyr_sensor_dps)
    # sideways of the path: the pelvis's yaw and roll turn a little of it onto the body's x and z
    d_g = (on.signals.acc_sensor_mps2 - off.signals.acc_sensor_mps2) / G_MPS2
    rms = np.sqrt(np.mean(d_g**2, axis=0))
    assert rms[0] < 0.25 * rms[1] and rms[2] < 0.25 * rms[1], rms
    fs = on.raw.sample_rate_hz
    ring_g = d_g[:, 1]
    ml_on = bandpass(on.signals.acc_sensor_mps2[:, 1], 3.0, 8.0, fs, np.array([0, ring_g.size])) / G_MPS2
    ml_off = bandpass(off.signals.acc_sensor_mps2[:, 1], 3.0, 8.0, fs, np.array([0, ring_g.size])) / G_MPS2
    walk = on.signals.t_s > 10.0
    assert np.sqrt(np.mean(ml_on[walk] ** 2)) > 1.5 * np.sqrt(np.mean(ml_off[walk] ** 2))
    # mean ring response over 0-0.3 s after each steady walking IC, per foot
    ic_s = (on.truth_steps["ic_time"].to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9)
    foot = np.asarray(on.truth_steps["foot"].to_pylist())
    lags = np.arange(int(0.3 * fs))
    keep = (ic_s > 10.0) & (ic_s < on.signals.t_s[-1] - 1.0)
    idx = np.searchsorted(on.signals.t_s, ic_s[keep])[:, None] + lags
    mean_r = ring_g[idx[foot[keep] == "R"]].mean(axis=0)
    mean_l = ring_g[idx[foot[keep] == "L"]].mean(axis=0)
    assert np.sqrt(np.mean(mean_r**2)) > 0.02
    assert np.corrcoef(mean_r, mean_l)[0, 1] < -0.8
