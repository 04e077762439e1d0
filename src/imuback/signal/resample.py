"""Stage 1: irregular sample times -> the nominal grid, inside contiguous segments only.

A gap is samples actually missing: an interval of at least ``gap_factor`` nominal periods whose
neighbours' grid lines lie a whole period or more further apart than one interval (timestamp
jitter moves single samples, not those lines: no gap). It is as long as its whole missing samples;
one longer than ``max_fill_s`` splits segments and nothing is interpolated across it.
Inside a segment, samples are linearly interpolated onto the grid, across the shorter gaps too; the
stretches bridged over gaps longer than ``exact_fill_s`` are listed (``GapStats.bridged_idx``) so
that the steps and strides over them report nothing read from the line (flagged in the notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

from imuback.core import ImuBlock
from imuback.signal.params import ResampleParams


@dataclass(frozen=True, slots=True, kw_only=True)
class GapStats:
    """Completeness of a recording (from the raw sample times)."""

    n_gaps: int
    """Places where at least one sample is missing (never timestamp jitter: see :func:`to_grid`)."""
    gap_total_s: float
    """Duration of the missing samples."""
    completeness_pct: float
    duration_s: float
    dropped_s: float = 0.0
    """Time in pieces between long gaps too short to analyse (< ``min_segment_s``)."""
    bridged_idx: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    """(K, 2) ``[start_idx, end_idx)`` grid samples interpolated across a gap longer than
    ``ResampleParams.exact_fill_s`` (and up to ``max_fill_s``): the steps and strides over them
    report nothing read from them (the session's notes say how many)."""
    filled_s: float = 0.0
    """Duration of the missing samples interpolated inside segments (gaps up to ``max_fill_s``);
    the rest of ``gap_total_s`` split the recording."""


def _max_abs_diff(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """The largest |a - b| (0 when empty), in one scratch array."""
    d = a - b
    np.abs(d, out=d)
    return float(np.max(d, initial=0.0))


ANCHOR_SAMPLES = 16
"""Samples on each side of a long interval whose median places its grid line. A phone's timestamp
jitter (the simulated one: 2 ms SD at 100 Hz, up to 40 % of a period either way) leaves the median
of 16 within about 0.06 of a period, so the two sides' lines are a whole number of periods apart
to well within half of one: 0 gaps counted on 1,000,000 such samples (32,207 intervals of 1.5
periods or more) and on the five Sensor Logger exports of review 25, where 10 still counted one
(``benchmarks/gap_counts.py`` for the datasets). A sensor whose timestamps are its sample counter
has no jitter: any window gives the interval itself, counted in the sensor's own periods
(:data:`RATE_RECOUNT`)."""


def _missing_samples(t_s: npt.NDArray[np.float64], at: npt.NDArray[np.intp], fs_hz: float,
                     stops: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    """Whole samples missing in each interval ``at`` (after raw sample ``i``): how far the grid line
    through the samples after it lies beyond the one through the samples before it, in periods,
    less the one period a sample interval spans. Each line is the median of up to
    ``ANCHOR_SAMPLES`` samples' times (in periods, less their index), not reaching past an interval
    of ``stops`` (the other gaps): jitter moves single samples, not the median, so an early sample
    followed by a late one is no gap.

    ``t_s`` (N,) s; ``at``, ``stops`` sorted interval indices (interval i: samples i to i+1).
    """
    if at.size == 0:
        return np.zeros(0)
    r = t_s * fs_hz - np.arange(t_s.size)  # periods ahead of the sample count: +k after k missing
    o = np.arange(ANCHOR_SAMPLES)
    before = np.searchsorted(stops, at, side="left")  # stops[before - 1] < at
    after = np.searchsorted(stops, at, side="right")  # stops[after] > at
    padded = np.concatenate([[-1], stops, [t_s.size - 1]])
    prev, nxt = padded[before], padded[after + 1]  # samples prev + 1 .. at | at + 1 .. nxt
    left = at[:, None] - o[None, :]
    right = at[:, None] + 1 + o[None, :]
    r_left = np.where(left > prev[:, None], r[np.clip(left, 0, t_s.size - 1)], np.nan)
    r_right = np.where(right <= nxt[:, None], r[np.clip(right, 0, t_s.size - 1)], np.nan)
    jump: npt.NDArray[np.float64] = np.nanmedian(r_right, axis=1) - np.nanmedian(r_left, axis=1)
    return np.maximum(np.round(jump), 0.0)


RATE_RECOUNT = 5e-3
"""The sensor's own rate this far (relative) from the stated one counts the missing samples in its
own periods (review 26: told 100 Hz, a 104 Hz sensor's one-sample holes counted none); closer, the
stated one: 16 samples' drift at 0.5 % is 0.08 of a period."""


def _own_rate_hz(t_s: npt.NDArray[np.float64], long: npt.NDArray[np.bool_], fs_hz: float) -> float:
    """The sensor's own rate where it is more than :data:`RATE_RECOUNT` off the stated ``fs_hz``,
    else ``fs_hz``: the median span of ``ANCHOR_SAMPLES`` intervals with no ``long`` one inside them
    (jitter averages out within a span; a gap, or a batch of equal times, is rarely inside one).
    Fewer than 100 such spans (batched timestamps): ``fs_hz``.
    """
    k = ANCHOR_SAMPLES
    if t_s.size <= k or not long.any():  # no interval to count in: no need to know
        return fs_hz
    n_long = np.concatenate([[0], np.cumsum(long)])
    # the span t[i + k] - t[i] holds intervals i .. i + k - 1; only its inner ones are asked to be
    # short, which leaves its two end samples' jitter free (unbiased: a long first or last interval
    # is as often a late end sample as an early one)
    clean = (n_long[k - 1:-1] - n_long[1:-k + 1 or None][: t_s.size - k]) == 0
    if clean.sum() < 100:
        return fs_hz
    own = k / float(np.median((t_s[k:] - t_s[:-k])[clean]))
    return own if abs(own / fs_hz - 1.0) > RATE_RECOUNT else fs_hz


def _count_missing(t_s: npt.NDArray[np.float64], long_at: npt.NDArray[np.intp],
                   fs_hz: float) -> npt.NDArray[np.float64]:
    """Whole samples missing in each long interval ``long_at`` at ``fs_hz``: first with every long
    interval as a window boundary, then with only those found to be gaps (a jittered neighbour then
    no longer narrows the window).
    """
    missing = _missing_samples(t_s, long_at, fs_hz, long_at)
    return _missing_samples(t_s, long_at, fs_hz, long_at[missing >= 1.0])


DENSE_SHARE, DENSE_MIN_INTERVALS = 0.09, 100
"""A recording is densely lost (:func:`_dense_jittered`) when at least ``DENSE_SHARE`` of its
intervals are ``gap_factor`` periods or longer and it has ``DENSE_MIN_INTERVALS`` intervals or more
(fewer: too few spans to read its own rate). The simulated phone (2 ms SD at 100 Hz) has 1.5-7.3 %
such intervals from jitter and a hole or two, 10.3-15.0 % with 10 % of its samples lost one by one
at 97-103 Hz (``benchmarks/gap_edges.py``, draws 0-299: chosen there, reported on 300-599)."""

JITTER_PERIODS, JITTER_SHARE, JITTER_SAMPLE = 0.15, 0.1, 8192
"""Jittered timestamps (:func:`_dense_jittered`): more than ``JITTER_SHARE`` of the intervals under
``gap_factor`` periods lie more than ``JITTER_PERIODS`` from their median (the simulated phone: about
60 %; a counter-timed sensor off its stated rate, or timestamps in whole milliseconds at 100 Hz: none),
read on about ``JITTER_SAMPLE`` of them evenly strided (cheap on long recordings)."""


def _dense_jittered(dt_s: npt.NDArray[np.float64], n_long: int, fs_hz: float, gap_factor: float) -> bool:
    """Whether a recording's intervals ``dt_s`` (s; ``n_long`` of them ``gap_factor`` stated periods
    or longer) are densely lost and jittered, where each long interval counted alone
    (:func:`_count_missing`) is known wrong: the one or two samples between neighbouring holes are no
    grid line. The share is read first (free); the jitter only when dense.
    """
    n = dt_s.size
    if n < DENSE_MIN_INTERVALS or n_long < DENSE_SHARE * n:
        return False
    sample = dt_s[:: max(1, n // JITTER_SAMPLE)] * fs_hz  # in stated periods
    short = sample[sample < gap_factor]
    if short.size == 0:
        return False
    return bool(np.mean(np.abs(short - np.median(short)) > JITTER_PERIODS) > JITTER_SHARE)


PHASE_BLOCK = 32
"""Samples per block whose mean phase (:func:`_own_rate_dense_hz`) follows the sensor's clock: 2 ms
SD of jitter at 100 Hz is 0.2 of a cycle per sample, 0.04 per block mean."""


def _own_rate_dense_hz(t_s: npt.NDArray[np.float64], long: npt.NDArray[np.bool_], fs_hz: float) -> float:
    """The sensor's own rate for a densely lost, jittered ``t_s`` (N,) s (``long``: its long
    intervals), in Hz. Roughly: ``ANCHOR_SAMPLES`` over the median span of that many intervals all
    short (a long end interval is more often a hole than jitter there), within about 0.3 % on the
    simulated phone; that is not enough where clusters of neighbouring holes chain over a hundred
    samples (10 % lost at 97 Hz told 100: right in 143 of 300 draws). Then the phase of the sample
    times at the rough rate, ``t * f`` mod 1, drifts by ``f - own`` cycles per second whatever is
    missing (a missing sample is a whole cycle): block means of :data:`PHASE_BLOCK` samples, their
    drift first from the median of neighbouring blocks' slopes, then by a line fit to the unwrapped
    phases (within 3e-5 on those draws). ``fs_hz`` when fewer than 100 spans are clean; the rough
    rate when the refined one is over 1 % from it.
    """
    k = ANCHOR_SAMPLES
    n_long = np.concatenate([[0], np.cumsum(long)])
    clean = (n_long[k:] - n_long[:-k]) == 0  # the span t[i + k] - t[i] holds intervals i .. i + k - 1
    if clean.sum() < 100:
        return fs_hz
    rough = k / float(np.median((t_s[k:] - t_s[:-k])[clean]))
    m = t_s.size // PHASE_BLOCK
    blocks = t_s[: m * PHASE_BLOCK].reshape(m, PHASE_BLOCK)
    t_block = blocks.mean(axis=1)
    own = rough
    for fit in (False, True):
        phase = np.angle(np.exp(2j * np.pi * own * blocks).mean(axis=1)) / (2.0 * np.pi)  # cycles
        if fit:
            own -= float(np.polyfit(t_block, np.unwrap(phase, period=1.0), 1)[0])
        else:
            step = (np.diff(phase) + 0.5) % 1.0 - 0.5
            own -= float(np.median(step / np.diff(t_block)))
    return own if abs(own / rough - 1.0) <= 0.01 else rough


CLUSTER_SAMPLES = 8
"""Candidate intervals (:func:`_count_clusters`) fewer than this many samples apart are one cluster,
counted as a whole: the median of the one or two samples between a hole and a jittered neighbour
is no grid line (gapfix, docs/validation_log.md). A cluster's lines lie at least this far from the
next cluster's, so its own windows hold 8-16 samples."""

BURST_SAMPLES = 10
"""A cluster with an interval missing this many samples or more counted alone (a burst of dropped
packets, 0.1 s at 100 Hz) takes the counts alone of its long intervals (gapfix2, chosen on
``benchmarks/gap_edges.py`` draws 0-299)."""


def _cluster_jump(r: npt.NDArray[np.float64], first: npt.NDArray[np.intp], last: npt.NDArray[np.intp],
                  stop_first: npt.NDArray[np.intp], stop_last: npt.NDArray[np.intp],
                  ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Grid line before each cluster (intervals ``first`` .. ``last``) and how far the line after it
    lies beyond, in periods: medians of up to ``ANCHOR_SAMPLES`` values of ``r`` (times in periods
    less their index) ending at sample ``first`` and starting at ``last + 1``, not reaching past the
    ``stop`` clusters (the other clusters' first and last intervals, sorted).
    """
    n = r.size
    o = np.arange(ANCHOR_SAMPLES)
    before = np.searchsorted(stop_last, first, side="left")  # stop_last[before - 1] < first
    after = np.searchsorted(stop_first, last, side="right")  # stop_first[after] > last
    prev = np.concatenate([[-1], stop_last])[before]
    nxt = np.concatenate([stop_first, [n - 1]])[after]  # samples prev + 1 .. first | last + 1 .. nxt
    left = first[:, None] - o[None, :]
    right = last[:, None] + 1 + o[None, :]
    r_left = np.where(left > prev[:, None], r[np.clip(left, 0, n - 1)], np.nan)
    r_right = np.where(right <= nxt[:, None], r[np.clip(right, 0, n - 1)], np.nan)
    line0 = np.nanmedian(r_left, axis=1)
    return line0, np.nanmedian(r_right, axis=1) - line0


def _count_clusters(t_s: npt.NDArray[np.float64], long_at: npt.NDArray[np.intp],
                    fs_hz: float) -> npt.NDArray[np.float64]:
    """Whole samples missing in each interval of a densely lost, jittered ``t_s`` (N,) s at
    ``fs_hz`` ((N - 1,), interval i between samples i and i + 1); ``long_at`` its long intervals.

    Candidates are the ``long_at`` intervals and any over one period across which the grid lines of
    the ``ANCHOR_SAMPLES`` samples either side (not stopped) jump by half a period or more: a hole
    whose neighbours' jitter shortened it. Candidates under :data:`CLUSTER_SAMPLES` apart form a
    cluster, whose total is how far the line after its last interval lies beyond the one before
    its first (:func:`_cluster_jump`: first with every cluster as a window boundary, then with
    only those found to hold a gap). The total is split between the cluster's intervals by the
    median of the samples between each two (in whole periods above the line before, within 0 and
    the total), a median of three of these levels (a single misread) made non-decreasing. A cluster
    with a burst (:data:`BURST_SAMPLES`) takes the counts of its long intervals alone.
    """
    n = t_s.size
    out = np.zeros(max(n - 1, 0))
    r = t_s * fs_hz - np.arange(n)  # periods ahead of the sample count: +k after k missing
    k = ANCHOR_SAMPLES
    line = median_filter(r, k, origin=-(k // 2), mode="nearest")  # line[j]: r[j .. j + k - 1]
    i = np.arange(n - 1)
    cand = (np.diff(r) > 0.0) & (line[i + 1] - line[np.maximum(i - k + 1, 0)] >= 0.5)
    cand[long_at] = True
    at = np.flatnonzero(cand)
    if at.size == 0:
        return out
    new = np.concatenate([[True], np.diff(at) >= CLUSTER_SAMPLES])
    is_last = np.concatenate([new[1:], [True]])
    cid = np.cumsum(new) - 1
    first, last = at[new], at[is_last]
    _, jump1 = _cluster_jump(r, first, last, first, last)
    real = np.round(jump1) >= 1.0
    line0, jump2 = _cluster_jump(r, first, last, first[real], last[real])
    total = np.maximum(np.round(jump2), 0.0)
    # the level after each candidate: the median of the samples up to the next one in its cluster,
    # in periods above the line before, its fraction set by both outer lines (32 samples)
    o = np.arange(CLUSTER_SAMPLES)
    nxt = np.concatenate([at[1:], [n - 1]])
    idx = at[:, None] + 1 + o[None, :]
    between = np.where(idx <= nxt[:, None], r[np.minimum(idx, n - 1)], np.nan)
    base = line0 + (jump2 - total) / 2.0
    level = np.clip(np.round(np.nanmedian(between, axis=1) - base[cid]), 0.0, total[cid])
    level[is_last] = total[cid[is_last]]
    seq = np.concatenate([[0.0], (np.cumsum(total) - total)[cid] + level])  # cumulative, from 0
    med = seq.copy()
    med[1:-1] = np.median(np.stack([seq[:-2], seq[1:-1], seq[2:]]), axis=0)
    missing = np.diff(np.maximum.accumulate(med))
    # a cluster with a burst in it: its long intervals counted alone
    alone = np.zeros(n - 1)
    alone[long_at] = _count_missing(t_s, long_at, fs_hz)
    burst = np.bincount(cid, weights=alone[at] >= BURST_SAMPLES, minlength=first.size) > 0
    out[at] = np.where(burst[cid], alone[at], missing)
    return out


def to_grid(time_ns: npt.NDArray[np.int64], acc: npt.ArrayLike, gyr: npt.ArrayLike | None,
            *, fs_hz: float, params: ResampleParams = ResampleParams()) -> tuple[ImuBlock, GapStats]:
    """Resample (N,) times and (N, 3) signals onto a uniform ``fs_hz`` grid per segment.

    Timestamp jitter is not a gap: an interval at least ``gap_factor`` nominal periods long is
    missing ``k`` samples when the grid line through the samples after it lies ``k`` periods beyond
    the one through the samples before it (medians of ``ANCHOR_SAMPLES`` each; without jitter,
    ``round(dt * fs) - 1``), and none (jitter: an early sample, then a late one) when ``k`` is 0; a
    gap's length is that many periods. Gaps up to ``max_fill_s`` (dropped BLE packets) stay inside
    a segment and are bridged by the linear interpolation; longer gaps split segments and nothing
    is interpolated across them.
    Returns the block in the sensor frame (float64) and the gap statistics.
    """
    acc = np.asarray(acc, dtype=np.float64)
    n = int(np.size(time_ns))
    period = 1.0 / fs_hz
    if n == 0:
        empty = np.zeros((0, 3))
        block = ImuBlock(t_s=np.zeros(0), acc_mps2=empty, gyr_dps=None if gyr is None else empty.copy(),
                         frame="sensor", fs_hz=fs_hz, seg_bounds=np.zeros(1, dtype=np.int64), t0_ns=0)
        return block, GapStats(n_gaps=0, gap_total_s=0.0, completeness_pct=0.0, duration_s=0.0)
    t0 = int(time_ns[0])
    t = (time_ns - t0).astype(np.float64)
    t *= 1e-9
    duration = float(t[-1])
    dt = np.diff(t)
    # an interval of gap_factor periods or more may hide missing samples; how many is told by the
    # grid lines on either side (jitter: none)
    long_at = np.flatnonzero(dt >= params.gap_factor * period)  # after raw sample i
    max_fill_n = np.floor(params.max_fill_s * fs_hz + 1e-6)
    if _dense_jittered(dt, long_at.size, fs_hz, params.gap_factor):  # neighbouring holes: clusters
        long = dt >= params.gap_factor * period
        every_missing = _count_clusters(t, long_at, _own_rate_dense_hz(t, long, fs_hz))
        gap_at = np.flatnonzero(every_missing >= 1.0)
        missing = every_missing[gap_at]
    else:  # each long interval alone
        missing = _count_missing(t, long_at, _own_rate_hz(t, dt >= params.gap_factor * period, fs_hz))
        gap_at, missing = long_at[missing >= 1.0], missing[missing >= 1.0]
    # a gap's length is its whole missing samples (times the period), everywhere below
    exact_fill_n = np.floor(params.exact_fill_s * fs_hz + 1e-6)
    split = gap_at[missing > max_fill_n]
    starts = np.concatenate([[0], split + 1])
    ends = np.concatenate([split + 1, [n]])  # [start, end) in raw samples
    seg_t0, seg_t1 = t[starts], t[ends - 1]
    keep = (seg_t1 - seg_t0) >= params.min_segment_s
    expected = duration * fs_hz + 1.0
    dropped_s = float(np.sum(seg_t1[~keep] - seg_t0[~keep] + period))
    seg_t0, seg_t1 = seg_t0[keep], seg_t1[keep]
    lengths = np.floor((seg_t1 - seg_t0) * fs_hz + 1e-6).astype(np.int64) + 1
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # the stretches bridged over longer gaps, in grid samples of the kept segments
    filled = missing <= max_fill_n
    filled_s = float(np.sum(missing[filled & keep[np.searchsorted(starts, gap_at, side="right") - 1]])) * period
    wide = gap_at[filled & (missing > exact_fill_n)]
    seg = np.searchsorted(starts, wide, side="right") - 1
    wide, seg = wide[keep[seg]], seg[keep[seg]]
    kid = (np.cumsum(keep) - 1)[seg]
    b0 = np.floor((t[wide] - seg_t0[kid]) * fs_hz + 1e-6).astype(np.int64) + 1
    b1 = np.ceil((t[wide + 1] - seg_t0[kid]) * fs_hz - 1e-6).astype(np.int64)
    bridged = np.column_stack([bounds[kid] + b0, bounds[kid] + b1]).astype(np.int64).reshape(-1, 2)
    stats = GapStats(n_gaps=int(gap_at.size), gap_total_s=float(missing.sum()) * period,
                     completeness_pct=float(min(100.0, 100.0 * n / expected)), duration_s=duration,
                     dropped_s=dropped_s, bridged_idx=bridged,
                     filled_s=filled_s)
    # grid times: segment start + k * period, k = 0..len-1, built without a loop
    if lengths.size == 1:  # the usual case: one segment
        grid = np.arange(bounds[-1], dtype=np.float64)
        grid *= period
        grid += seg_t0[0]
    else:
        offs = np.arange(bounds[-1], dtype=np.float64) - np.repeat(bounds[:-1], lengths)
        grid = np.repeat(seg_t0, lengths) + offs * period
    every = bool(keep.all())  # no piece dropped: no copies needed
    kept = np.repeat(keep, ends - starts)
    t_kept = t if every else t[kept]
    if grid.size == t_kept.size and _max_abs_diff(t_kept, grid) <= 0.01 * period:
        # already on the grid (jitter < 1 % of a period): take the samples as they are
        out_acc = acc if every else acc[kept]
        out_gyr = None if gyr is None else np.asarray(gyr, dtype=np.float64)
        if out_gyr is not None and not every:
            out_gyr = out_gyr[kept]
    else:
        out_acc = np.column_stack([np.interp(grid, t, acc[:, i]) for i in range(3)])
        out_gyr = None
        if gyr is not None:
            g = np.asarray(gyr, dtype=np.float64)
            out_gyr = np.column_stack([np.interp(grid, t, g[:, i]) for i in range(3)])
    block = ImuBlock(t_s=grid, acc_mps2=out_acc, gyr_dps=out_gyr, frame="sensor", fs_hz=fs_hz,
                     seg_bounds=bounds, t0_ns=t0)
    return block, stats
