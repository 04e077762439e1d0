"""Stage 4: still / walk / run per sample, then bouts (runs of one label inside one segment).

Physics: running has a flight phase (sacrum near free fall, vertical specific force ~0 g) and
contact peaks above ~2 g; walking keeps a foot on the ground (vertical stays above ~0.5 g);
a still sensor shows only noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from imuback.core import G_MPS2
from imuback.signal.dsp import decimated_bounds, lowpass, step_to_50hz
from imuback.signal.params import ActivityParams

STILL, WALK, RUN = 0, 1, 2
LABEL_NAMES = {STILL: "still", WALK: "walk", RUN: "run"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Bouts:
    """Activity bouts: ``[start_idx, end_idx)`` in samples and their label (STILL/WALK/RUN)."""

    start_idx: npt.NDArray[np.int64]
    end_idx: npt.NDArray[np.int64]
    label: npt.NDArray[np.int8]

    def duration_s(self, label: int, fs_hz: float) -> float:
        """Total time (s) in bouts of ``label``."""
        sel = self.label == label
        return float(np.sum(self.end_idx[sel] - self.start_idx[sel]) / fs_hz)

    def index_of(self, pos: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index of the first bout ending after each sample position (== size: after the last)."""
        return np.searchsorted(self.end_idx, np.asarray(pos).astype(np.int64), side="right")

    def contains(self, pos: npt.ArrayLike, label: int) -> npt.NDArray[np.bool_]:
        """True where a sample position lies inside a bout of ``label``."""
        pos = np.asarray(pos)
        if pos.size == 0 or self.label.size == 0:
            return np.zeros(pos.shape, dtype=bool)
        b = np.minimum(self.index_of(pos), self.label.size - 1)
        return np.asarray((self.label[b] == label) & (pos >= self.start_idx[b]) & (pos < self.end_idx[b]),
                          dtype=bool)

    def extended(self, label: int, into: int, edge: int, bounds: npt.NDArray[np.int64]) -> Bouts:
        """The bouts of ``label`` only, each grown into adjacent bouts of ``into``.

        Each end grows by up to ``edge`` samples, at most half of the neighbouring bout (two grown
        bouts never meet), and never across a segment bound in ``bounds`` (a gap).
        """
        sel = np.flatnonzero(self.label == label)
        start, end = self.start_idx[sel].copy(), self.end_idx[sel].copy()
        n = self.label.size
        half = (self.end_idx - self.start_idx) // 2
        prev, nxt = np.maximum(sel - 1, 0), np.minimum(sel + 1, n - 1)
        grow_l = (sel > 0) & (self.label[prev] == into) & (self.end_idx[prev] == start) & ~np.isin(start, bounds)
        grow_r = (sel < n - 1) & (self.label[nxt] == into) & (self.start_idx[nxt] == end) & ~np.isin(end, bounds)
        start = np.where(grow_l, start - np.minimum(edge, half[prev]), start)
        end = np.where(grow_r, end + np.minimum(edge, half[nxt]), end)
        return Bouts(start_idx=start, end_idx=end, label=np.full(sel.size, label, np.int8))


def classify(acc_d: npt.NDArray[np.float64], up: npt.NDArray[np.float64], *, n: int, fs_hz: float,
             bounds: npt.NDArray[np.int64], params: ActivityParams = ActivityParams()) -> Bouts:
    """Label every sample still/walk/run (smoothed) and return the bouts.

    The features span seconds, so they are computed at ~50 Hz: sample i gets the label of i // dec,
    ``dec = step_to_50hz(fs_hz)``.

    Parameters
    ----------
    acc_d : (ceil(n / dec), 3) every ``dec``-th sample of the specific force (m/s², any frame),
        incl. gravity.
    up : (3,) unit up axis in the frame of ``acc_d``.
    n, fs_hz, bounds : samples, sample rate and segment bounds of the full signal.
    """
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Bouts(start_idx=empty, end_idx=empty, label=np.zeros(0, np.int8))
    dec = step_to_50hz(fs_hz)
    fs_d = fs_hz / dec
    a = acc_d
    nd = np.sqrt(a[:, 0] ** 2 + a[:, 1] ** 2 + a[:, 2] ** 2) / G_MPS2
    vd = a @ up / G_MPS2
    w = max(3, round(params.window_s * fs_d))
    mean = uniform_filter1d(nd, w, mode="nearest")
    std = np.sqrt(np.maximum(uniform_filter1d(nd * nd, w, mode="nearest") - mean * mean, 0.0))
    v10 = lowpass(vd, 10.0, fs_d, decimated_bounds(bounds, dec))
    vmin = minimum_filter1d(v10, w, mode="nearest")
    vmax = maximum_filter1d(v10, w, mode="nearest")
    raw = np.full(vd.size, WALK, dtype=np.int8)
    raw[(vmin < params.run_flight_g) & (vmax > params.run_peak_g)] = RUN
    raw[std < params.still_std_g] = STILL
    # majority vote over a bout-length window removes flicker at transitions
    wb = max(3, round(params.min_bout_s * fs_d))
    still, walk, run = (uniform_filter1d((raw == k).astype(np.float32), wb, mode="nearest") for k in (STILL, WALK, RUN))
    # the label with the most votes (the first on a tie); sample i has the label of i // dec
    labels = np.where((still >= walk) & (still >= run), STILL, np.where(walk >= run, WALK, RUN)).astype(np.int8)
    change = (np.flatnonzero(np.diff(labels) != 0) + 1) * dec
    cuts = np.union1d(change[change < n], bounds[1:-1])
    starts = np.concatenate([[0], cuts]).astype(np.int64)
    ends = np.concatenate([cuts, [n]]).astype(np.int64)
    keep = ends > starts
    return Bouts(start_idx=starts[keep], end_idx=ends[keep], label=labels[starts[keep] // dec])
