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


def classify(vertical_g: npt.NDArray[np.float64], norm_g: npt.NDArray[np.float64], *,
             fs_hz: float, bounds: npt.NDArray[np.int64],
             params: ActivityParams = ActivityParams()) -> tuple[npt.NDArray[np.int8], Bouts]:
    """Label every sample still/walk/run and return the smoothed labels and the bouts.

    Parameters
    ----------
    vertical_g : (N,) vertical specific force (g), gravity-aligned, incl. gravity.
    norm_g : (N,) norm of the specific force (g).
    """
    n = vertical_g.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.int8), Bouts(start_idx=empty, end_idx=empty, label=np.zeros(0, np.int8))
    # the features span seconds: compute them at ~50 Hz and repeat the labels back
    dec = step_to_50hz(fs_hz)
    fs_d = fs_hz / dec
    nd, vd = norm_g[::dec], vertical_g[::dec]
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
    votes = np.stack([uniform_filter1d((raw == k).astype(np.float32), wb, mode="nearest") for k in (STILL, WALK, RUN)])
    labels = np.repeat(np.argmax(votes, axis=0).astype(np.int8), dec)[:n]
    change = np.flatnonzero(np.diff(labels) != 0) + 1
    cuts = np.union1d(change, bounds[1:-1])
    starts = np.concatenate([[0], cuts]).astype(np.int64)
    ends = np.concatenate([cuts, [n]]).astype(np.int64)
    keep = ends > starts
    return labels, Bouts(start_idx=starts[keep], end_idx=ends[keep], label=labels[starts[keep]])
