"""Resampling onto the nominal grid: which gaps are bridged and which split the recording."""

from __future__ import annotations

import numpy as np
import pytest

from imuback.errors import ParamsError
from imuback.signal import resample
from imuback.signal.params import ResampleParams
from imuback.signal.resample import to_grid


def _recording(fs: float, n: int, missing: slice) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(n, bool)
    keep[missing] = False
    t_ns = (np.arange(n) * 1e9 / fs).astype(np.int64)[keep]
    acc = np.column_stack([np.zeros(n), np.zeros(n), np.full(n, 9.81)])[keep].astype(np.float32)
    return t_ns, acc


def test_a_few_dropped_wireless_packets_do_not_split_the_recording():
    # voisard_l5_walk's Xsens link drops up to ~9 consecutive packets at 100 Hz: a 80 ms gap is far
    # shorter than a step (> 0.22 s) and must not cut a walk into pieces
    t_ns, acc = _recording(100.0, 3000, slice(1500, 1508))
    block, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert block.seg_bounds.size == 2 and gaps.dropped_s == 0.0


def test_a_lost_notification_is_bridged_and_listed_so_no_event_is_read_from_it():
    # 150 ms (a lost BLE notification of several samples): a split would cost the steps beside it
    # (benchmarks/walk_packet_loss.py); the bridge is listed, a running contact over it gets no TO
    t_ns, acc = _recording(100.0, 3000, slice(1500, 1515))
    block, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert block.seg_bounds.size == 2 and gaps.dropped_s == 0.0
    assert gaps.bridged_idx.tolist() == [[1500, 1515]]  # exactly the interpolated samples
    # a few dropped packets (under exact_fill_s) are bridged without being listed
    _, few = to_grid(*_recording(100.0, 3000, slice(1500, 1508)), None, fs_hz=100.0)
    assert few.bridged_idx.shape == (0, 2)


def test_a_gap_longer_than_max_fill_splits_the_recording():
    t_ns, acc = _recording(100.0, 3000, slice(1500, 1535))  # 350 ms: more than a running step
    block, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert block.seg_bounds.size == 3 and gaps.bridged_idx.shape == (0, 2)


def test_bridges_are_placed_in_the_kept_segments_after_a_split_and_a_dropped_piece():
    keep = np.ones(3000, bool)
    keep[500:540] = False  # split: 0.41 s
    keep[600:610] = False  # inside a 0.6 s piece (dropped: shorter than min_segment_s)
    keep[640:700] = False  # split
    keep[1200:1220] = False  # bridged, in the second kept segment
    t_ns = (np.arange(3000) * 1e7).astype(np.int64)[keep]
    acc = np.tile(np.array([0.0, 0.0, 9.81], np.float32), (t_ns.size, 1))
    block, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert block.seg_bounds.tolist() == [0, 500, 2800]
    assert gaps.bridged_idx.tolist() == [[500 + 1200 - 700, 500 + 1220 - 700]]


def test_gap_lengths_are_whole_missing_samples_for_listing_and_splitting():
    # issue #14 review: "longer than 0.1 s" compared float intervals, so a gap of exactly 0.1 s
    # of missing samples was listed and one of exactly 0.3 s split
    def stats(n_missing: int):
        return to_grid(*_recording(100.0, 3000, slice(1500, 1500 + n_missing)), None, fs_hz=100.0)

    assert stats(10)[1].bridged_idx.shape == (0, 2)  # 0.1 s missing: exact_fill_s, not listed
    assert stats(11)[1].bridged_idx.tolist() == [[1500, 1511]]
    block, gaps = stats(30)  # 0.3 s missing: max_fill_s, bridged
    assert block.seg_bounds.size == 2 and gaps.bridged_idx.tolist() == [[1500, 1530]]
    assert gaps.filled_s == pytest.approx(gaps.gap_total_s) and gaps.filled_s == pytest.approx(0.3)
    block, gaps = stats(31)
    assert block.seg_bounds.size == 3 and gaps.filled_s == 0.0 and gaps.gap_total_s == pytest.approx(0.31)


def test_exact_fill_longer_than_max_fill_is_a_clear_error():
    with pytest.raises(ParamsError, match=r"exact_fill_s .* longer than resample.max_fill_s"):
        ResampleParams(max_fill_s=0.1, exact_fill_s=0.2)
    # a NaN limit would bridge any gap silently; a negative one would list every sample
    for bad in ({"max_fill_s": float("nan")}, {"exact_fill_s": -0.1}, {"max_fill_s": float("inf")}):
        with pytest.raises(ParamsError, match="must be finite and not negative"):
            ResampleParams(**bad)


def _jittered(fs: float, n: int, drop: list[slice], *, jitter_s: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples at ``fs`` with timestamp jitter (normal, clipped at 40 % of a period, as the
    simulated phone's), the samples of ``drop`` missing."""
    rng = np.random.default_rng(seed)
    keep = np.ones(n, bool)
    for s in drop:
        keep[s] = False
    jit = np.clip(rng.standard_normal(n) * jitter_s, -0.4 / fs, 0.4 / fs)
    t_ns = np.round((np.arange(n) / fs + jit) * 1e9).astype(np.int64)[keep]
    acc = np.tile(np.array([0.0, 0.0, 9.81]), (t_ns.size, 1))
    return t_ns, acc


def test_timestamp_jitter_is_no_gap_and_a_hole_counts_its_missing_samples():
    # review 25: a phone's 2 ms jitter at 100 Hz (intervals 2-18 ms) was counted as 1738 gaps, 17.4 s
    # missing, in a recording with every sample present
    t_ns, acc = _jittered(100.0, 30_000, [], jitter_s=0.002)
    assert np.diff(t_ns).max() >= 15e6  # intervals of 1.5 periods and more: jitter only
    _, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert (gaps.n_gaps, gaps.gap_total_s) == (0, 0.0)
    # real holes in the same jitter: k missing samples each (an interval of k + 1 periods), two of them
    # 5 samples apart, one long enough to split the recording
    holes = [slice(1000, 1001), slice(5000, 5003), slice(5008, 5009), slice(9000, 9020), slice(20_000, 20_050)]
    t_ns, acc = _jittered(100.0, 30_000, holes, jitter_s=0.002)
    block, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert gaps.n_gaps == 5 and gaps.gap_total_s == pytest.approx((1 + 3 + 1 + 20 + 50) / 100.0)
    assert gaps.filled_s == pytest.approx(0.25) and block.seg_bounds.size == 3
    assert gaps.bridged_idx.shape == (1, 2)  # the 0.2 s one (over exact_fill_s, under max_fill_s)
    # without jitter, as before: an interval of k + 1 periods is k missing samples
    _, exact = to_grid(*_jittered(100.0, 30_000, holes, jitter_s=0.0), None, fs_hz=100.0)
    assert exact.n_gaps == 5 and exact.gap_total_s == pytest.approx(0.75)


@pytest.mark.parametrize("true_hz", [96.0, 97.0, 103.0, 104.0])
@pytest.mark.parametrize("jitter_s", [0.0, 0.002])
def test_missing_samples_are_counted_in_the_sensors_own_periods_when_the_stated_rate_is_off(true_hz, jitter_s):
    # review 26: told 100 Hz, a 104 Hz sensor's one-sample holes were counted as none (the two
    # 16-sample grid lines drifted 0.64 of a period apart), a 96 Hz one's as two samples each
    holes = [slice(a, a + k) for a, k in zip(range(1000, 11_000, 1000), [1, 3] * 5, strict=True)]
    _, gaps = to_grid(*_jittered(true_hz, 20_000, holes, jitter_s=jitter_s), None, fs_hz=100.0)
    assert gaps.n_gaps == 10 and gaps.gap_total_s == pytest.approx(20 / 100.0)
    _, clean = to_grid(*_jittered(true_hz, 20_000, [], jitter_s=jitter_s), None, fs_hz=100.0)
    assert (clean.n_gaps, clean.gap_total_s) == (0, 0.0)



def test_a_jittered_neighbour_of_a_real_gap_does_not_narrow_its_window():
    """Review 26 (a mutation that survived): the second window pass. Early-late pairs (0.4 of a period
    each way: two long intervals that hide no sample) on both sides of each two-sample hole narrow its
    windows to one sample each in the first pass (1.6 - 0.4: one sample counted); the second, bounded
    by real gaps only, reads 16 a side: two."""
    t = np.arange(4000) / 100.0
    holes = np.arange(200, 3800, 40)  # samples h and h + 1 missing
    for d, shift_s in ((-2, -0.004), (-1, 0.004), (2, -0.004), (3, 0.004)):
        t[holes + d] += shift_s
    keep = np.ones(t.size, bool)
    keep[holes] = keep[holes + 1] = False
    _, gaps = to_grid(np.round(t[keep] * 1e9).astype(np.int64), np.tile([0.0, 0.0, 9.81], (int(keep.sum()), 1)),
                      None, fs_hz=100.0)
    assert gaps.n_gaps == holes.size and gaps.gap_total_s == pytest.approx(2 * holes.size / 100.0)


def _dense_loss(true_hz: float, jitter_s: float, seed: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """2000 samples at ``true_hz``, 10 % lost one by one (as ``benchmarks/gap_edges.py``'s dense rows:
    jitter clipped at 2 SD); the times (ns), the signals, the true gaps and missing samples."""
    rng = np.random.default_rng(seed)
    keep = np.ones(2000, bool)
    keep[rng.choice(1998, 200, replace=False) + 1] = False
    idx = np.flatnonzero(keep)
    t = idx / true_hz + np.clip(rng.normal(0, jitter_s, idx.size), -2 * jitter_s, 2 * jitter_s)
    missing = np.diff(idx) - 1
    return (np.round(t * 1e9).astype(np.int64), np.tile([0.0, 0.0, 9.81], (idx.size, 1)),
            int(np.sum(missing > 0)), int(np.sum(missing)))


@pytest.mark.parametrize(("true_hz", "seed"), [(100.0, 1), (97.0, 3), (103.0, 1)])
def test_a_jittered_phone_losing_one_sample_in_ten_is_counted_per_cluster(true_hz, seed):
    # review 29 / gapfix3: each long interval alone, the one or two samples between neighbouring holes
    # are no grid line (these draws: 175 gaps, 199 samples for 179, 200 at 100 Hz; 177, 202 for 176, 200
    # at 97 Hz; 170, 198 for 179, 200 at 103 Hz); counted per cluster in the sensor's own periods, exact
    t_ns, acc, n_true, m_true = _dense_loss(true_hz, 0.002, seed)
    _, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert (gaps.n_gaps, round(gaps.gap_total_s * 100.0)) == (n_true, m_true)
    assert gaps.filled_s == pytest.approx(m_true / 100.0)


@pytest.mark.parametrize("true_hz", [98.0, 99.7, 100.4])
def test_a_counter_timed_sensor_losing_one_sample_in_ten_is_counted_interval_by_interval(true_hz):
    # review 29: dense loss without jitter is no cluster (the jitter test keeps it on the counter of
    # each interval alone, which is exact there); told 100 Hz, counted in the sensor's own periods
    t_ns, acc, n_true, m_true = _dense_loss(true_hz, 0.0, 0)
    assert resample._dense_jittered(np.diff(t_ns) * 1e-9, int(np.sum(np.diff(t_ns) >= 15e6)), 100.0, 1.5) is False
    _, gaps = to_grid(t_ns, acc, None, fs_hz=100.0)
    assert (gaps.n_gaps, round(gaps.gap_total_s * 100.0)) == (n_true, m_true)


def test_dense_jittered_reads_the_share_first_and_the_jitter_only_when_dense():
    jittered = np.random.default_rng(0).normal(0.01, 0.002 * np.sqrt(2), 1000)  # a phone's intervals, s
    assert resample._dense_jittered(jittered, 100, 100.0, 1.5) is True  # 10 % long
    assert resample._dense_jittered(jittered, 80, 100.0, 1.5) is False  # 8 %: sparse
    assert resample._dense_jittered(jittered[:99], 50, 100.0, 1.5) is False  # too short to tell
    assert resample._dense_jittered(np.full(1000, 0.01), 100, 100.0, 1.5) is False  # counter-timed
