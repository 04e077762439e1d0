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
its chain. It ranks steps but is no probability, and it does not carry why real walking steps go
wrong (slow, shuffling or turning steps, a walk's first and last steps): those leave little signal.
So two more pieces of evidence, each against the session's typical step of the same activity:

3. **swing**: the range of that vertical signal around the IC, over the session's median;
4. **braking**: the steepest fall of the forward acceleration near IC (heel-strike braking,
   :func:`~imuback.signal.walking_ic.braking_fall`), over the session's median.

:func:`calibrate` maps a walking step's evidence to the probability that it is right with a
logistic model of the score, ``min(ln swing, 0)`` and ``min(ln braking, 0)``
(``QualityParams.walk_logit``), fitted on one real data set and reported on another; running
steps keep the score (``QualityParams.run_calibration`` knots where given: none transferred
across slopes). Which evidence transfers between data sets (``benchmarks/quality_evidence.py``),
AUROC and reliability (``benchmarks/real_quality.py``) are in docs/validation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

from imuback.signal.activity import RUN, WALK
from imuback.signal.dsp import block_mean, clipped_windows, step_to_50hz
from imuback.signal.events import Steps
from imuback.signal.params import EventParams, QualityParams
from imuback.signal.walking_ic import braking_fall

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityParts:
    """(S,) the two factors of each step's agreement score, in 0..1, whether it has a chain
    neighbour (without one its score is 0), and its vertical swing (module doc, steps 1-3).
    """

    shape: F64
    rhythm: F64
    has_neighbour: npt.NDArray[np.bool_]
    swing: F64
    """(S,) the range of the compared vertical signal around each IC over the median of the
    session's steps of the same activity (1: a typical step)."""

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
    """The factors of :func:`step_quality` and the step's swing (module doc, steps 1-3)."""
    n = steps.n
    if n == 0:
        z = np.zeros(0)
        return QualityParts(shape=z, rhythm=z, has_neighbour=np.zeros(0, dtype=bool), swing=z)
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
    w = (clipped_windows(x, start_idx=centre + off[0], width=off.size, seg_start_idx=np.zeros(n, np.int64),
                         seg_end_idx=np.full(n, x.size))
         if x.size else np.zeros((n, off.size)))
    swing = _over_typical(_row_range(w), steps.activity)
    w = w - w.mean(axis=1, keepdims=True)
    w /= np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12)
    c = np.einsum("ij,ij->i", w[:-1], w[1:])  # step k with step k + 1
    r = np.full(n, -1.0)
    r[:-1] = np.where(nxt[:-1], c, -1.0)
    r[1:] = np.maximum(r[1:], np.where(nxt[:-1], c, -1.0))
    return QualityParts(shape=np.clip(r, 0.0, 1.0), rhythm=np.clip(1.0 - d, 0.0, 1.0), has_neighbour=nxt | prv,
                        swing=swing)


def _row_range(w: F64) -> F64:
    """(S,) max - min of each row of ``w`` (S, W): a loop over its few columns (W ~ 13), several
    times faster than a reduction along short rows.
    """
    hi = w[:, 0].copy()
    lo = hi.copy()
    for j in range(1, w.shape[1]):  # columns of the window, not samples
        np.maximum(hi, w[:, j], out=hi)
        np.minimum(lo, w[:, j], out=lo)
    return hi - lo


def walk_inputs(ev: QualityEvidence) -> F64:
    """(S, 3) the walking model's inputs (:func:`calibrate`): the agreement score,
    ``min(ln swing, 0)`` and ``min(ln braking, 0)`` (each ratio floored at ``_MIN_RATIO``).
    """
    return np.column_stack([ev.parts.score, np.minimum(np.log(np.maximum(ev.parts.swing, _MIN_RATIO)), 0.0),
                            np.minimum(np.log(np.maximum(ev.braking, _MIN_RATIO)), 0.0)])


def _walk_terms(ev: QualityEvidence, params: QualityParams) -> tuple[F64, F64]:
    """(S,) the two parts of the walking log-odds below a typical step's (both <= 0): from the
    agreement score, ``b_score (score - 1)``; from a weak vertical swing or heel-strike braking,
    ``b_swing min(ln swing, 0) + b_braking min(ln braking, 0)``. Zero without
    ``params.walk_logit``.
    """
    if not params.walk_logit:
        z = np.zeros(ev.parts.shape.size)
        return z, z
    x = walk_inputs(ev)
    _, b_score, b_swing, b_braking = params.walk_logit
    return b_score * (x[:, 0] - 1.0), b_swing * x[:, 1] + b_braking * x[:, 2]


_MIN_RATIO = 0.05
"""Swing and braking ratios are floored here before their logarithm: a step with 5 % of the
typical swing is as doubtful as one with none."""


def low_quality_reason(ev: QualityEvidence, low: npt.NDArray[np.bool_], *,
                       params: QualityParams = QualityParams()) -> str | None:
    """Why the ``low`` steps are of low quality, in words: the share of them lacking a chain
    neighbour; of the others, those whose weak vertical swing or braking lowers the walking
    log-odds more than the agreement score (:func:`calibrate`), and of the rest those whose
    rhythm or whose shape is the weaker factor. None when no step is low.
    """
    k = int(low.sum())
    if k == 0:
        return None
    parts = ev.parts
    from_score, from_weak = _walk_terms(ev, params)
    weak_step = (from_weak < from_score) & (ev.activity == WALK)
    lonely = low & ~parts.has_neighbour
    rest = low & parts.has_neighbour & ~weak_step
    rhythm = rest & (parts.rhythm < parts.shape)
    shape = rest & ~(parts.rhythm < parts.shape)
    causes = [(int(rhythm.sum()), "an irregular step rhythm (a missed or extra step nearby)"),
              (int(shape.sum()), "a step shape unlike its neighbours' (a misplaced or doubtful contact)"),
              (int((low & parts.has_neighbour & weak_step).sum()),
               "a weak vertical swing or heel-strike braking (a shuffle, a turn or a doubtful contact)"),
              (int(lonely.sum()), "no neighbouring step to compare with (an isolated step)")]
    parts_txt = [f"{100.0 * c / k:.0f} % {why}" for c, why in sorted(causes, key=lambda x: -x[0]) if c]
    return f"{k} low-quality step{'' if k == 1 else 's'}: " + ", ".join(parts_txt)


def calibrate(ev: QualityEvidence, *, params: QualityParams = QualityParams()) -> F64:
    """(S,) probability that each step is right, from its evidence (:func:`quality_evidence`).

    Walking: a logistic model of the agreement score and the step's vertical swing and braking
    against the session's typical step, ``params.walk_logit`` = (b0, b_score, b_swing,
    b_braking)::

        p = 1 / (1 + exp(-(b0 + b_score score + b_swing min(ln swing, 0) + b_braking min(ln braking, 0))))

    (a larger swing or braking than typical is no more evidence than a typical one). Running:
    the score through ``params.run_calibration`` knots (linear between, flat beyond). Without
    coefficients or knots the score is kept.
    """
    activity = ev.activity
    out = np.asarray(ev.parts.score, dtype=np.float64).copy()
    walk = activity == WALK
    if params.walk_logit and walk.any():
        b = np.asarray(params.walk_logit, dtype=np.float64)
        logit = b[0] + walk_inputs(ev)[walk] @ b[1:]
        out[walk] = 1.0 / (1.0 + np.exp(-logit))
    run = activity == RUN
    if params.run_calibration and run.any():
        xs, ps = np.asarray(params.run_calibration, dtype=np.float64).T
        out[run] = np.interp(out[run], xs, ps)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityEvidence:
    """(S,) what each step's quality is read from (module doc, steps 1-4)."""

    parts: QualityParts
    braking: F64
    """Walking: steepest fall of the forward acceleration near IC (heel-strike braking) over the
    median of the session's walking steps (1: typical); running: 1."""
    activity: npt.NDArray[np.int8]
    """RUN or WALK."""


def _per_activity_median(x: F64, activity: npt.NDArray[np.int8]) -> F64:
    """(S,) the median of ``x`` over the steps of each step's activity."""
    out = np.ones(x.size)
    for label in np.unique(activity):  # activities: two
        sel = activity == label
        out[sel] = float(np.median(x[sel]))
    return out


def _over_typical(x: F64, activity: npt.NDArray[np.int8]) -> F64:
    """(S,) ``x`` over its median over the steps of the same activity (1 where that median is 0)."""
    typical = _per_activity_median(x, activity)
    return np.where(typical > 0, x / np.where(typical > 0, typical, 1.0), 1.0)


def quality_evidence(vertical_g: F64, ap_mps2: F64, steps: Steps, *, fs_hz: float, bounds: npt.NDArray[np.int64],
                     params: QualityParams = QualityParams(), events: EventParams = EventParams()) -> QualityEvidence:
    """Per-step evidence (:class:`QualityEvidence`).

    Parameters
    ----------
    vertical_g : (N,) vertical specific force (g), body z.
    ap_mps2 : (N,) forward specific force (m/s²), body x.
    bounds : segment bounds; the braking is never read across a gap.
    """
    parts = quality_parts(vertical_g, steps, fs_hz=fs_hz, params=params)
    walk = steps.activity == WALK  # braking is walking evidence (running: 1, typical)
    braking = np.ones(steps.n)
    if walk.any():
        braking[walk] = _over_typical(braking_fall(ap_mps2, steps.ic_pos[walk], fs_hz, bounds, events),
                                      steps.activity[walk])
    return QualityEvidence(parts=parts, braking=braking, activity=steps.activity)
