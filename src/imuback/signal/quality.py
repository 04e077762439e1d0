"""Stage 5 (c): per-step quality in 0..1 — how likely the step's events are right.

A real step repeats its neighbours: it comes at the chain's rhythm, and the vertical specific
force around its IC has the shape of the steps beside it. An extra step (a bump taken for a
contact) splits an interval and has a shape of its own; next to a missed step the interval
doubles; a misplaced IC shifts the shape. So (body frame, z up):

1. **rhythm**: ``d = max |T - T_med| / T_med`` over the step's intervals to its chain neighbours,
   ``T_med`` the running median step time (15 steps);
2. **shape**: ``r =`` the largest correlation of the vertical signal around its IC
   (``QualityParams.window_s``, ~25 Hz block means) with that around a neighbour's IC;

the agreement score ``clip(r, 0, 1) * clip(1 - d, 0, 1)``; 0 for a step without a neighbour in
its chain. It ranks steps but is no probability; :func:`calibrate` maps it, per activity, through
knots fitted on real recordings with a force plate or foot sensors (``QualityParams``), so that
``quality`` is the share of such steps that were right. AUROC and reliability (calibrated on some
data sets, reported on others) are in docs/validation.md (benchmarks/real_quality.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

from imuback.signal.activity import RUN, WALK
from imuback.signal.dsp import block_mean, step_to_50hz
from imuback.signal.events import Steps
from imuback.signal.params import QualityParams

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityParts:
    """(S,) the two factors of each step's agreement score, in 0..1, and whether it has a chain
    neighbour (without one its score is 0).
    """

    shape: F64
    rhythm: F64
    has_neighbour: npt.NDArray[np.bool_]

    @property
    def score(self) -> F64:
        """The agreement score: shape x rhythm, 0 without a neighbour."""
        return np.where(self.has_neighbour, self.shape * self.rhythm, 0.0)


def step_quality(vertical_g: F64, steps: Steps, *, fs_hz: float, params: QualityParams = QualityParams()) -> F64:
    """(S,) agreement score of each step from its rhythm and shape against its chain neighbours.

    Parameters
    ----------
    vertical_g : (N,) vertical specific force (g) at ``fs_hz``.
    steps : the steps (IC positions in samples, chains).
    """
    return quality_parts(vertical_g, steps, fs_hz=fs_hz, params=params).score


def quality_parts(vertical_g: F64, steps: Steps, *, fs_hz: float, params: QualityParams = QualityParams()
                  ) -> QualityParts:
    """The factors of :func:`step_quality` (module doc, steps 1-2)."""
    n = steps.n
    if n == 0:
        z = np.zeros(0)
        return QualityParts(shape=z, rhythm=z, has_neighbour=np.zeros(0, dtype=bool))
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
    return QualityParts(shape=np.clip(r, 0.0, 1.0), rhythm=np.clip(1.0 - d, 0.0, 1.0), has_neighbour=nxt | prv)


def low_quality_reason(parts: QualityParts, low: npt.NDArray[np.bool_]) -> str | None:
    """Why the ``low`` steps are of low quality, in words: the share of them lacking a chain
    neighbour, and of the others whose rhythm or whose shape is the weaker factor. None when no
    step is low.
    """
    k = int(low.sum())
    if k == 0:
        return None
    lonely = low & ~parts.has_neighbour
    rhythm = low & parts.has_neighbour & (parts.rhythm < parts.shape)
    shape = low & parts.has_neighbour & ~(parts.rhythm < parts.shape)
    causes = [(int(rhythm.sum()), "an irregular step rhythm (a missed or extra step nearby)"),
              (int(shape.sum()), "a step shape unlike its neighbours' (a misplaced or doubtful contact)"),
              (int(lonely.sum()), "no neighbouring step to compare with (an isolated step)")]
    parts_txt = [f"{100.0 * c / k:.0f} % {why}" for c, why in sorted(causes, key=lambda x: -x[0]) if c]
    return f"{k} low-quality steps: " + ", ".join(parts_txt)


def calibrate(score: F64, activity: npt.NDArray[np.int8], *, params: QualityParams = QualityParams()) -> F64:
    """(S,) probability that each step is right, from its agreement score (:func:`step_quality`).

    Walking and running steps go through their own knots (``params.walk_calibration``,
    ``params.run_calibration``): linear between knots, flat beyond the first and last. Without
    knots the score is kept.
    """
    out = np.asarray(score, dtype=np.float64).copy()
    for label, knots in ((WALK, params.walk_calibration), (RUN, params.run_calibration)):
        sel = activity == label
        if knots and sel.any():
            xs, ps = np.asarray(knots, dtype=np.float64).T
            out[sel] = np.interp(out[sel], xs, ps)
    return out
