"""A phone's GPS during a simulated session: location fixes from the runner's true speed and heading.

The fixes are what a phone's location service logs (Sensor Logger's ``Location.csv``): one fix a
second (``rate_hz``), the ground speed with its error, and the position along the simulated path.

Error model (stated in docs/simulator.md): a phone's Doppler speed in open sky errs by a few
tenths of a m/s, and the error is correlated over seconds (multipath, the receiver's filter).
Here it is a first-order autoregressive (AR(1)) process with standard deviation
``speed_noise_mps`` (default 0.25 m/s) and correlation time ``noise_tau_s`` (3 s), drawn from its
own generator so the motion signals of the session are the same with or without GPS. A reported
speed is never negative (clipped at 0: standing still reads a few tenths at most). The position is
the true path (speed and heading integrated on a 10 Hz grid, starting facing north at
``start_lat_deg``, ``start_lon_deg``) plus white noise of ``position_noise_m`` per axis.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.signal import lfilter

from imuback.formats.sensorlogger import LocationFixes
from imuback.simulate.params import F64
from imuback.simulate.runner import SimulatedSession

EARTH_M_PER_DEG = 111_320.0
"""Metres per degree of latitude (and of longitude at the equator)."""
PATH_GRID_HZ = 10.0
"""Rate of the grid the true path is integrated on."""


def simulated_gps(sim: SimulatedSession, *, rate_hz: float = 1.0, speed_noise_mps: float = 0.25,
                  noise_tau_s: float = 3.0, position_noise_m: float = 3.0, start_lat_deg: float = 47.3769,
                  start_lon_deg: float = 8.5417, seed: int = 0) -> LocationFixes:
    """The GPS fixes a phone would log during ``sim``, from its true speed (m/s) and heading.

    Parameters
    ----------
    sim : a simulated session (:func:`imuback.simulate.runner.simulate_session`).
    rate_hz : fixes per second (phones: 1).
    speed_noise_mps : standard deviation of the speed error, m/s.
    noise_tau_s : correlation time of the speed error, s.
    position_noise_m : standard deviation of the position error per horizontal axis, m.
    start_lat_deg, start_lon_deg : where the run starts (WGS84 degrees).
    seed : seed of the GPS's own random generator.

    Returns
    -------
    LocationFixes
        ``rate_hz`` fixes over the session, times in ns since the epoch (UTC, the session's clock).
    """
    duration_s = float(sim.truth["duration_s"])
    t0_ns = int(sim.truth["start_time_ns"])
    rng = np.random.default_rng(seed)
    t_fix = np.arange(0.0, duration_s, 1.0 / rate_hz)
    n = t_fix.size
    # 1. speed: the truth plus AR(1) noise of the given SD and correlation time
    a = float(np.exp(-1.0 / (rate_hz * noise_tau_s)))
    w = rng.standard_normal(n + 1)  # w[0]: the stationary state before the first fix
    e, _ = lfilter([np.sqrt(1.0 - a * a)], [1.0, -a], w[1:], zi=[a * w[0]])
    e = speed_noise_mps * np.asarray(e, dtype=np.float64)
    speed = np.maximum(sim.true_speed_mps(t_fix) + e, 0.0)
    # 2. position: the true path integrated, then noise; world x = north, y = west (y left)
    grid = np.arange(0.0, duration_s + 1.0 / PATH_GRID_HZ, 1.0 / PATH_GRID_HZ)
    v, h = sim.true_speed_mps(grid), sim.true_heading_rad(grid)
    x = cumulative_trapezoid(v * np.cos(h), grid, initial=0.0)
    y = cumulative_trapezoid(v * np.sin(h), grid, initial=0.0)
    xf = np.interp(t_fix, grid, x) + position_noise_m * rng.standard_normal(n)
    yf = np.interp(t_fix, grid, y) + position_noise_m * rng.standard_normal(n)
    lat = start_lat_deg + xf / EARTH_M_PER_DEG
    lon = start_lon_deg - yf / (EARTH_M_PER_DEG * np.cos(np.radians(start_lat_deg)))
    bearing: F64 = np.mod(-np.degrees(np.interp(t_fix, grid, h)), 360.0)
    return LocationFixes(time_ns=t0_ns + np.round(t_fix * 1e9).astype(np.int64), speed_mps=speed,
                         speed_accuracy_mps=np.full(n, speed_noise_mps), latitude_deg=lat, longitude_deg=lon,
                         horizontal_accuracy_m=np.full(n, position_noise_m), bearing_deg=bearing,
                         altitude_m=np.full(n, 410.0))
