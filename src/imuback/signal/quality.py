"""Stage 5 (c): per-step quality in 0..1 — how likely the step's events are right.

A real step repeats its neighbours: it comes at the chain's rhythm, and the vertical specific
force around its IC has the shape of the steps beside it. An extra step (a bump taken for a
contact) splits an interval and has a shape of its own; next to a missed step the interval
doubles; a misplaced IC shifts the shape. So (body frame, z up):

1. **rhythm**: ``d = max |T - T_med| / T_med`` over the step's intervals to its chain neighbours,
   ``T_med`` the running median step time (15 steps);
2. **shape**: ``r =`` the largest correlation of the vertical signal around its IC
   (``QualityParams.window_s``, ~25 Hz block means) with that around a neighbour's IC;

``quality = clip(r, 0, 1) * clip(1 - d, 0, 1)``; 0 for a step without a neighbour in its chain.
No constant is fitted to data; AUROC and reliability on real walking and running are in
docs/validation.md (benchmarks/real_quality.py).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

from imuback.signal.dsp import block_mean, step_to_50hz
from imuback.signal.events import Steps
from imuback.signal.params import QualityParams

F64 = npt.NDArray[np.float64]


def step_quality(vertical_g: F64, steps: Steps, *, fs_hz: float, params: QualityParams = QualityParams()) -> F64:
    """(S,) quality of each step from its rhythm and shape against its chain neighbours.

    Parameters
    ----------
    vertical_g : (N,) vertical specific force (g) at ``fs_hz``.
    steps : the steps (IC positions in samples, chains).
    """
    n = steps.n
    if n == 0:
        return np.zeros(0)
    nxt = steps.has_next()
    prv = np.concatenate([[False], nxt[:-1]])
    dt = np.diff(steps.ic_pos)
    med = np.asarray(median_filter(dt, size=min(15, max(1, dt.size)), mode="nearest"), dtype=np.float64) \
        if dt.size else dt
    dev = np.abs(dt - med) / np.maximum(med, 1e-9)
    d_next = np.where(nxt[:-1], dev, 0.0)
    d = np.zeros(n)
    d[:-1] = d_next
    d[1:] = np.maximum(d[1:], d_next)
    # the shape around each IC: (S, W) samples of the low-passed signal, centred, unit norm
    # means of blocks of ~50 Hz samples: a boxcar low-pass (first zero at ``shape_rate_hz``)
    # sampled at that rate; reading every ~50 Hz sample only keeps it cheap on long sessions
    q50 = step_to_50hz(fs_hz)
    q = max(1, round(fs_hz / q50 / params.shape_rate_hz))
    x = block_mean(vertical_g[::q50], q)
    dec = q50 * q
    fs_d = fs_hz / dec
    lo_s, hi_s = params.window_s
    off = np.arange(round(lo_s * fs_d), round(hi_s * fs_d) + 1)
    centre = ((steps.ic_pos + 0.5) / dec - 0.5).astype(np.int64)  # the block holding each IC
    idx = np.clip(centre[:, None] + off[None, :], 0, max(x.size - 1, 0))
    w = x[idx] if x.size else np.zeros(idx.shape)
    w = w - w.mean(axis=1, keepdims=True)
    w /= np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12)
    c = np.einsum("ij,ij->i", w[:-1], w[1:])  # step k with step k + 1
    r = np.full(n, -1.0)
    r[:-1] = np.where(nxt[:-1], c, -1.0)
    r[1:] = np.maximum(r[1:], np.where(nxt[:-1], c, -1.0))
    q = np.clip(r, 0.0, 1.0) * np.clip(1.0 - d, 0.0, 1.0)
    return np.where(nxt | prv, q, 0.0)
