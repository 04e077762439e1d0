"""Walking balance of the simulated body: steps of even strength, a bounded height, and the
sideways sway of an inverted pendulum over feet one step width apart.

* Step to step, real walking shows no strong strong-weak alternation of the steps' vertical peaks:
  lag-1 correlation of the peaks (less their 5-step running median) -0.07 to -0.23 on real slow
  walking (``python benchmarks/slow_feet.py``: voisard_l5_walk < 0.95 m/s -0.11, mobgap_lab
  < 0.6 m/s -0.07 / -0.23). The simulator's vertical controller made each walking contact make up
  for the part of the previous contact's push still to come after its IC, and the steps alternated
  (-0.43 on the 0.45 m/s walk of slow_feet.py; about -0.5 on the slow walk below).
* The height must still not drift: the controller corrects the height error per step with a gain
  below 1 (and the hump's skew), over a 10-minute walk of irregular steps too.
* Sideways, the centre of mass falls away from each stance foot as an inverted pendulum (LIPM,
  ``a_y = g/h (y - y_foot)``; Hof et al. 2005): in a periodic gait with the feet a step width
  ``w`` apart it crosses the midline with the lateral speed ``(w/2) w0 tanh(w0 T/2)``, ``w0 =
  sqrt(g/h)``. Before, the sideways push was a fixed 0.05 BW, a lateral speed ~25 % lower at
  1.35 m/s (and not growing with the step time).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from imuback.core import G_MPS2
from imuback.signal.dsp import lowpass
from imuback.simulate.params import RunnerParams
from imuback.simulate.runner import SimulatedSession, simulate_session

T0_NS = 1_600_000_000 * 10**9
SLOW = RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=600.0, walk_end_s=0.0,
                    walk_cadence_spm=100.0, walk_duty_factor=0.66, walk_step_time_cv=0.08,
                    walk_speed_mps=0.6, sample_rate_hz=100.0, gaps_per_hour=0.0, noise=False,
                    mounting="identity", misalignment_deg=0.0, misalignment_exact=True)
"""A 10-minute walk of a slow walker: 100 steps/min, long double support, step-time CV 8 %."""


def _sim(p: RunnerParams, seed: int) -> SimulatedSession:
    return simulate_session(p, seed=seed, session_id="bal", runner_id="sim", start_time=T0_NS,
                            keep_signals=True)


def _ic_s(sim: SimulatedSession) -> np.ndarray:
    ic = np.asarray(sim.truth_steps.column("ic_time").cast("int64").to_numpy(), dtype=np.int64)
    return (ic - T0_NS) / 1e9


def test_walking_steps_do_not_alternate_strong_weak() -> None:
    # the slow walk's vGRF (the centre of mass): -0.25 to -0.31 before, -0.14 to -0.15 now (seeds 1-4)
    for seed in (1, 2, 3):
        sim = _sim(SLOW, seed)
        sig = sim.signals
        assert sig is not None
        fs = 100.0
        v = lowpass(sig.vgrf_bw.astype(np.float64), 3.0, fs, np.array([0, sig.t_s.size]))
        ic = _ic_s(sim)[2:-2]
        i0 = np.searchsorted(sig.t_s, ic)
        pk = v[i0[:, None] + np.arange(30)[None, :]].max(axis=1)
        pk = pk - median_filter(pk, size=5, mode="nearest")
        r = float(np.corrcoef(pk[1:], pk[:-1])[0, 1])
        assert r > -0.2, f"seed {seed}: consecutive vertical peaks correlate {r:+.2f}"


def test_walking_height_bounded_over_a_long_irregular_walk() -> None:
    sim = _sim(SLOW, 3)
    sig = sim.signals
    assert sig is not None
    ic = _ic_s(sim)
    z_ic = np.interp(ic, sig.t_s, sig.z_m)
    # the height at each IC, averaged over 10 steps, stays within 5 cm of the walk's level
    z10 = np.convolve(z_ic, np.ones(10) / 10, mode="valid")
    assert np.max(np.abs(z10 - np.median(z10))) < 0.05
    assert np.ptp(sig.z_m) < 0.3


def test_walking_sideways_speed_is_the_inverted_pendulums() -> None:
    for p in (RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=90.0, walk_end_s=0.0,
                           sample_rate_hz=100.0, gaps_per_hour=0.0, noise=False, walk_step_time_cv=0.0),
              RunnerParams(run_minutes=0.0, stand_start_s=5.0, walk_start_s=90.0, walk_end_s=0.0,
                           sample_rate_hz=100.0, gaps_per_hour=0.0, noise=False, walk_step_time_cv=0.0,
                           walk_cadence_spm=80.0, walk_speed_mps=0.6, walk_step_width_m=0.15)):
        sim = _sim(p, 4)
        sig = sim.signals
        assert sig is not None
        t = sig.t_s
        mid = (t > 20.0) & (t < 80.0)
        vy = np.gradient(sig.y_m, t)[mid]
        step_s = 60.0 / p.walk_cadence_spm
        w0 = np.sqrt(G_MPS2 / p.walk_com_height_m)
        v_lipm = p.walk_step_width_m / 2.0 * w0 * np.tanh(w0 * step_s / 2.0)
        # the push is sized so that the lateral speed would swing between +-v_lipm; the half-sine
        # pushes overlap in double support, so it reaches 0.86 of it (0.861-0.863 over the cases
        # measured by the independent review): only the peak speed follows the pendulum, not the
        # trajectory's shape. Without the step width (a fixed 0.05 BW push) it does not scale so.
        half_swing = (np.percentile(vy, 99) - np.percentile(vy, 1)) / 2.0
        assert 0.80 < half_swing / v_lipm < 0.92, (half_swing, v_lipm)
