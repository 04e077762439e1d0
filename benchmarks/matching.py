"""Event matching shared by the accuracy scripts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def match(est: F64, ref: F64, tol: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One-to-one nearest matches of sorted estimated to sorted reference times within ``tol`` (s).

    Returns index arrays (into est, into ref) of matched pairs.
    """
    if est.size == 0 or ref.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    j = np.clip(np.searchsorted(est, ref), 1, est.size - 1) if est.size > 1 else np.zeros(ref.size, np.int64)
    cand = np.stack([j - 1, j]) if est.size > 1 else np.stack([j, j])
    d = np.abs(est[cand] - ref)
    best = cand[np.argmin(d, axis=0), np.arange(ref.size)]
    ok = np.abs(est[best] - ref) <= tol
    ri = np.flatnonzero(ok)
    ei = best[ok]
    _, first = np.unique(ei, return_index=True)  # an estimate matches at most one reference
    return ei[first], ri[first]
