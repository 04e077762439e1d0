"""The gap counter's edge cases on jittered timestamps: two one-sample holes a few samples apart.

    python benchmarks/gap_edges.py [--trials 300]

A 100 Hz timeline (400 samples) with the simulated phone's timestamp jitter (2 ms SD, as
``benchmarks/gap_counts.py``), two single samples removed ``d`` samples apart; many jitter draws
per distance. Counts, per distance: draws counted right (2 gaps, 0.02 s), draws where a hole's
interval was shortened by the jitter below ``gap_factor`` (1.5) periods (never a candidate), draws
with too many gaps or samples (jitter counted beside a hole), and with too few samples; then how
many draws counted a gap more than 20 samples from either hole (the recording's first or last
samples: a window of one or two samples).
"""

from __future__ import annotations

import argparse

import numpy as np

from imuback.signal.params import ResampleParams
from imuback.signal.resample import _count_missing, to_grid

FS_HZ, N, JITTER_S, FIRST = 100.0, 400, 0.002, 200


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=300)
    args = ap.parse_args(argv)
    factor = ResampleParams().gap_factor
    print(f"# {FS_HZ:g} Hz, {N} samples, jitter {1e3 * JITTER_S:g} ms SD, two one-sample holes d samples apart; "
          f"{args.trials} draws each")
    print(f"{'d':>4} {'draws':>6} {'right':>6} {'short<1.5':>9} {'too many':>9} {'too few':>8} {'far off':>8}  worst")
    for d in (1, 2, 3, 5, 8, 16, 32):
        right = short = many = few = far = draws = 0
        worst = ""
        for seed in range(args.trials):
            t = np.arange(N) / FS_HZ + np.random.default_rng(seed).normal(0, JITTER_S, N)
            keep = np.ones(N, bool)
            keep[[FIRST, FIRST + d + 1]] = False
            t = t[keep]
            if np.any(np.diff(t) <= 0):  # a draw that reorders samples: not a timeline
                continue
            draws += 1
            holes = np.array([FIRST - 1, FIRST + d - 1])  # intervals after these raw samples
            short += bool(np.any(np.diff(t)[holes] * FS_HZ < factor))
            _, st = to_grid(np.round(t * 1e9).astype(np.int64), np.zeros((t.size, 3)), None, fs_hz=FS_HZ)
            got = round(st.gap_total_s * FS_HZ)
            long_at = np.flatnonzero(np.diff(t) * FS_HZ >= factor)
            found = long_at[_count_missing(t, long_at, FS_HZ) >= 1]
            far += bool(np.any(np.min(np.abs(found[:, None] - holes[None, :]), axis=1) > 20))
            right += st.n_gaps == 2 and got == 2
            many += st.n_gaps > 2 or got > 2
            few += got < 2
            if not (st.n_gaps == 2 and got == 2) and not worst:
                worst = f"seed {seed}: {st.n_gaps} gaps, {st.gap_total_s:.2f} s"
        print(f"{d:>4} {draws:>6} {right:>6} {short:>9} {many:>9} {few:>8} {far:>8}  {worst}")


if __name__ == "__main__":
    main()
