"""Analytic sessions and signals with known answers (independent of the simulator): half-sine
running contacts, walking steps."""

from __future__ import annotations

import numpy as np

from imuback.core import G_MPS2, RawSession
from imuback.signal.frames import rot_x, rot_z

T0_NS = 1_700_000_000 * 10**9


def half_sine_run(*, fs: float = 200.0, minutes: float = 3.0, step_s: float = 0.36, contact_s: float = 0.24,
                  mounting_err_deg: tuple[float, float] = (0.0, 0.0), gyro: bool = True,
                  drop_deg: float | None = None, seed: int = 0) -> tuple[RawSession, dict[str, float]]:
    """A running session of identical half-sine contacts (vGRF mean 1 BW per step); even steps RIGHT.

    Body frame: x forward, y left, z up. Rotated into a sensor frame by a known misalignment.
    ``drop_deg``: instead of the sinusoidal roll, the pelvis rolls so that the swing side drops by
    this much (a half-sine) in every stance and is level in flight.
    """
    t = np.arange(int(minutes * 60 * fs)) / fs
    ph = t % step_s
    k = (t // step_s).astype(int)
    hump = np.where(ph < contact_s, np.sin(np.pi * ph / contact_s), 0.0)
    f_bw = hump * step_s / (contact_s * 2 / np.pi)  # mean over a step = 1 BW
    side = np.where(k % 2 == 0, 1.0, -1.0)  # right contact pushes the body left (+y)
    ay = 0.3 * side * hump
    ax = np.where(ph < contact_s, -0.5 * np.sin(2 * np.pi * ph / contact_s), 0.0)  # brake then push
    acc_body = np.column_stack([ax, ay, f_bw]) * G_MPS2
    w = 2 * np.pi / (2 * step_s)
    gyr_body = np.column_stack([30 * np.sin(w * t), 10 * np.sin(2 * w * t), 20 * np.sin(w * t)])
    if drop_deg is not None:  # left stance (odd steps): roll rises (right side drops), right: falls
        roll_rate = -side * drop_deg * np.pi / contact_s * np.cos(np.pi * ph / contact_s)
        gyr_body[:, 0] = np.where(ph < contact_s, roll_rate, 0.0)
    r_err = rot_z(np.radians(mounting_err_deg[1])) @ rot_x(np.radians(mounting_err_deg[0]))
    # sensor frame: v_sensor = r_err^T v_body; nominal mounting is identity
    rng = np.random.default_rng(seed)
    acc = acc_body @ r_err + rng.normal(0, 0.05, acc_body.shape)
    gyr = gyr_body @ r_err + rng.normal(0, 0.1, gyr_body.shape)
    raw = RawSession(session_id="analytic", runner_id="r1", sensor="analytic", sample_rate_hz=fs,
                     time_ns=(T0_NS + np.round(t * 1e9)).astype(np.int64), acc_mps2=acc.astype(np.float32),
                     gyr_dps=gyr.astype(np.float32) if gyro else None)
    truth = {
        "step_s": step_s, "contact_s": contact_s, "peak_bw": float(f_bw.max()),
        "obliquity_deg": 2 * 30 / w, "tilt_deg": 2 * 10 / (2 * w), "rotation_deg": 2 * 20 / w,
        "misalignment_deg": float(np.degrees(np.arccos((np.trace(r_err) - 1) / 2))),
        "braking_peak_g": 0.5, "braking_impulse_mps": 0.5 * G_MPS2 * contact_s / np.pi,
    }
    return raw, truth


# --- walking (100 Hz, sample positions) ---


def braking_forward(ics: np.ndarray, n: int) -> np.ndarray:
    """Forward specific force (m/s²): a slow rise to a peak at each IC, then a 40 ms fall of 0.6 g."""
    t = np.arange(n, dtype=np.float64)
    k = np.clip(np.searchsorted(ics, t, side="right") - 1, 0, ics.size - 1)
    since = t - ics[k]
    step = np.median(np.diff(ics))
    g = np.where(since < 4, 0.3 - 0.15 * since, -0.3 + 0.6 * (since - 4) / (step - 4))
    return g * G_MPS2


def walking_vertical(clear: np.ndarray, weak: np.ndarray, n: int, *, sway: np.ndarray | None = None) -> np.ndarray:
    """Vertical specific force (g) at 100 Hz: a sharp loading response (Gaussian, sigma 40 ms) at
    each step, 0.5 g for clear steps and 0.15 g for weak ones (gait termination, turns); a slow
    0.1 g sway (sigma 0.15 s: weight shifting while standing, no foot landing) at ``sway``.
    """
    t = np.arange(n, dtype=np.float64)
    x = np.ones(n)
    for c, a, s in ((clear, 0.5, 4.0), (weak, 0.15, 4.0), (sway if sway is not None else np.zeros(0), 0.1, 15.0)):
        if c.size:
            x += a * np.exp(-0.5 * ((t[:, None] - c[None, :]) / s) ** 2).sum(axis=1)
    return x


def turn_walk(braking_at_weak: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walking at a step every 0.55 s whose steps 10 and 11 (a U-turn) leave only a weak vertical
    signal; the forward acceleration brakes at every clear step, and at the weak ones when asked.
    """
    every = np.arange(100.0, 1500.0, 55.0)
    clear, weak = np.delete(every, [10, 11]), every[10:12]
    x = walking_vertical(clear, weak, 1600)
    ap = braking_forward(every if braking_at_weak else clear, 1600)
    return x, ap, clear - 4.0, weak
