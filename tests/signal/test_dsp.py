"""Known answers for the interval helpers the metrics are built on."""

from __future__ import annotations

import numpy as np
import pytest

from imuback.errors import SignalError
from imuback.signal.dsp import (
    argmin_between,
    argmin_between_held,
    block_mean,
    block_middles,
    clipped_windows,
    interp_at,
    interval_indices,
    interval_mask,
    interval_max,
    interval_readings,
    lowpass,
    prefix_sum,
    windows_around,
)

FS = 200.0


def test_readings_recover_a_periodic_angle_through_gyro_bias() -> None:
    # angle = 5 sin(2 pi f t) deg (range 10 deg), gyro = its derivative + a 3 deg/s bias
    f, n = 1.37, 4000
    t = np.arange(n) / FS
    gyr = 5 * 2 * np.pi * f * np.cos(2 * np.pi * f * t) + 3.0
    c = prefix_sum(gyr) / FS
    start = np.array([100.3, 1000.0, 2500.75])  # fractional positions, one period each
    r = interval_readings(start, start + FS / f, 4, n)
    got = r.range(r.minus_chord(r.read(c)))
    np.testing.assert_allclose(got, 10.0, atol=0.05)  # read at 50 Hz: at most 0.04 deg short


def test_excursion_of_a_sinusoidal_acceleration() -> None:
    # a = A sin(w t) + bias: displacement amplitude A / w^2, range 2 A / w^2 over whole periods
    amp, f, n = 3.0, 2.8, 6000
    w = 2 * np.pi * f
    t = np.arange(n) / FS
    acc = amp * np.sin(w * t + 0.4) + 0.7
    vel = prefix_sum(acc) / FS
    disp = prefix_sum(vel[:-1]) / FS
    start = np.array([50.2, 777.0, 3000.5])
    r = interval_readings(start, start + FS / f, 4, n)
    np.testing.assert_allclose(r.excursion(vel, disp, FS), 2 * amp / w**2, rtol=0.016)  # at most 1.5 % short


def test_readings_hold_each_interval_end_exactly() -> None:
    r = interval_readings(np.array([3.25, 10.0]), np.array([9.5, 21.0]), 4, 30)
    np.testing.assert_array_equal(r.lengths, [4, 5])
    np.testing.assert_allclose(r.pos, [3.25, 4, 8, 9.5, 10, 12, 16, 20, 21])


def test_windows_around_merge_and_never_cross_a_gap() -> None:
    bounds = np.array([0, 100, 250])
    s, e = windows_around(np.array([10.0, 20.0, 95.0, 102.0, 240.0]), 8, bounds)
    # 10 and 20 overlap -> one window; 95 is cut at the gap at 100; 102 starts after it
    np.testing.assert_array_equal(s, [2, 87, 100, 232])
    np.testing.assert_array_equal(e, [29, 100, 111, 249])


@pytest.mark.parametrize("seed", range(4))
def test_interval_indices_are_the_concatenated_ranges(seed: int) -> None:
    rng = np.random.default_rng(seed)
    starts = rng.integers(-5, 200, 60)  # unsorted, overlapping, some empty or reversed
    ends = starts + rng.integers(-3, 12, 60)
    idx, lengths = interval_indices(starts, ends)
    want = [np.arange(s, e) for s, e in zip(starts, ends, strict=True)]
    np.testing.assert_array_equal(idx, np.concatenate(want))
    np.testing.assert_array_equal(lengths, [w.size for w in want])
    assert idx.dtype == np.int64
    empty = np.zeros(0, dtype=np.int64)
    assert interval_indices(empty, empty)[0].size == 0
    assert interval_indices(starts, starts)[0].size == 0


@pytest.mark.parametrize("seed", range(4))
def test_interval_mask_marks_the_samples_of_any_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    starts = rng.integers(-20, n + 10, 40)  # unsorted, overlapping, adjacent, empty, reversed, outside
    ends = starts + rng.integers(-5, 30, 40)
    want = np.zeros(n, dtype=bool)
    for s, e in zip(starts, ends, strict=True):
        want[max(s, 0):max(min(e, n), 0)] = True
    np.testing.assert_array_equal(interval_mask(starts, ends, n), want)
    assert not interval_mask(starts[:0], ends[:0], n).any() and interval_mask(starts[:0], ends[:0], n).size == n
    np.testing.assert_array_equal(interval_mask(np.array([0, 5]), np.array([5, 9]), 9), np.ones(9, dtype=bool))


@pytest.mark.parametrize("overlapping", [False, True])
def test_interval_max_is_the_max_of_each_interval(overlapping: bool) -> None:
    rng = np.random.default_rng(int(overlapping))
    x, y = rng.normal(size=500), rng.normal(size=500)
    x[[7, 250]] = np.nan  # NaN propagates into its interval's max, as np.max does
    starts = np.sort(rng.choice(np.arange(0, 480, 12), 30, replace=False))
    ends = starts + rng.integers(0, 30 if overlapping else 12, 30)  # some empty
    ends[-1] = 500  # the last one reaches the end
    got = interval_max(starts, ends, x, y)
    for sig, g in zip((x, y), got, strict=True):
        want = [np.max(sig[s:e]) if e > s else np.nan for s, e in zip(starts, ends, strict=True)]
        np.testing.assert_array_equal(g, want)


def test_readings_interpolate_a_prefix_sum() -> None:
    rng = np.random.default_rng(1)
    c = np.cumsum(rng.normal(size=101))
    r = interval_readings(np.array([0.0, 3.25, 40.5]), np.array([2.0, 30.0, 98.7]), 4, 100)
    np.testing.assert_allclose(r.read(c), np.interp(r.pos + 0.5, np.arange(101), c), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("q", "n"), [(4, 1000), (4, 1003), (3, 998), (1, 50)])
def test_readings_through_block_middles_are_the_same_bits(q: int, n: int) -> None:
    rng = np.random.default_rng(q * n)
    c = prefix_sum(rng.normal(size=n))
    start = np.sort(rng.uniform(0, n - 40, 30))
    end = np.minimum(start + rng.uniform(0, 60, 30), n - 1.0)
    end[-1] = n - 1.0  # an interval reaching the last sample
    r = interval_readings(start, end, q, n)
    at = np.clip(np.floor(r.pos + 0.5).astype(np.int64), 0, n - 1)  # the definition of each reading
    np.testing.assert_array_equal(r.read(c), c[at] + (r.pos + 0.5 - at) * (c[at + 1] - c[at]))
    mids = block_middles(c, q)
    assert mids.size == -(-n // q)
    np.testing.assert_array_equal(r.read(c, mids), r.read(c))
    vel = c / FS
    disp = prefix_sum(vel[:-1]) / FS
    np.testing.assert_array_equal(r.excursion(vel, disp, FS, (block_middles(vel, q), block_middles(disp, q))),
                                  r.excursion(vel, disp, FS))
    beyond = interval_readings(start, end + 0.5, q, n)  # past the last sample: read as before
    np.testing.assert_array_equal(beyond.read(c, mids), beyond.read(c))


def test_interp_at_is_np_interp() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    pos = np.concatenate([rng.uniform(-2, 52, 100), [np.nan]])
    got = interp_at(x, pos)
    np.testing.assert_allclose(got[:-1], np.interp(pos[:-1], np.arange(50), x))
    assert np.isnan(got[-1])


@pytest.mark.parametrize("q", [1, 3, 4])
def test_argmin_between_held_matches_the_held_signal(q: int) -> None:
    rng = np.random.default_rng(q)
    x_d = rng.integers(0, 5, 40).astype(float)  # ties on purpose: the first minimum wins
    held = np.repeat(x_d, q)
    starts = rng.integers(0, held.size - 10, 30)
    ends = starts + rng.integers(1, 10, 30)
    np.testing.assert_array_equal(argmin_between_held(x_d, q, starts, ends), argmin_between(held, starts, ends))


@pytest.mark.parametrize("n", [2, 3, 16, 17, 1000])
def test_lowpass_is_sosfiltfilt_per_segment(n: int) -> None:
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(n)
    x = rng.normal(size=2 * n)
    sos = butter(2, 20 / (FS / 2), output="sos")
    want = np.concatenate([sosfiltfilt(sos, x[:n], padlen=min(15, n - 1)),
                           sosfiltfilt(sos, x[n:], padlen=min(15, n - 1))])
    np.testing.assert_allclose(lowpass(x, 20.0, FS, np.array([0, n, 2 * n])), want, atol=1e-12)


def test_excursion_of_a_degenerate_interval_is_zero_without_warnings() -> None:
    vel = prefix_sum(np.ones(100)) / FS
    disp = prefix_sum(vel[:-1]) / FS
    r = interval_readings(np.array([10.0, 20.0]), np.array([10.0, 60.0]), 4, 100)
    got = r.excursion(vel, disp, FS)  # warnings are errors in the tests
    assert got[0] == 0.0 and np.isfinite(got[1])


def test_block_mean_of_a_strided_view_sums_each_block_in_order_across_chunks() -> None:
    # every 4th row of a column-major (N, 3) array, longer than one chunk of blocks: each block's
    # mean is its samples summed first to last, divided by q (the same bits as that definition)
    rng = np.random.default_rng(3)
    full = np.asfortranarray(rng.normal(size=(4 * 4 * 4096 * 2 + 37, 3)) * 50.0)
    view = full[::4]
    got = block_mean(view, 4)
    m = view.shape[0] // 4 * 4
    want = view[0:m:4].copy()
    for i in range(1, 4):
        want += view[i:m:4]
    want /= 4
    assert got.shape == (view.shape[0] // 4, 3)
    assert np.array_equal(got, want)
    col = full[::4, 1]  # 1-D, strided, q = 3
    n3 = col.size // 3 * 3
    assert np.allclose(block_mean(col, 3), col[:n3].reshape(-1, 3).mean(axis=1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 16, 17, 1000, 20_001])
def test_lowpass_is_the_biquad_over_the_odd_extension_bit_for_bit(n: int) -> None:
    # the extension is filtered piece by piece (no concatenated copy): the same recursion, so
    # the same bits as filtering the concatenation, on contiguous and on strided input
    from scipy.signal import lfilter, lfilter_zi

    from imuback.signal.dsp import butter_sos

    rng = np.random.default_rng(n)
    for x in (rng.normal(size=n) * 3.0 + 1.0, (rng.normal(size=2 * n) * 3.0)[::2]):
        for cutoff_hz in (8.0, 30.0, 99.0):
            b, a = np.split(butter_sos(2, (min(cutoff_hz / (FS / 2), 0.99),), "lowpass")[0], 2)
            pad = min(15, n - 1)
            ext = np.concatenate([2.0 * x[0] - x[pad:0:-1], x, 2.0 * x[-1] - x[-2:-pad - 2:-1]])
            zi = lfilter_zi(b, a)
            y, _ = lfilter(b, a, ext, zi=zi * ext[0])
            y = y[::-1]
            y, _ = lfilter(b, a, y, zi=zi * y[0])
            want = y[::-1][pad:pad + n]
            assert np.array_equal(lowpass(x, cutoff_hz, FS, np.array([0, n])), want)


@pytest.mark.parametrize("n", [5, 40, 1000])
def test_clipped_windows_are_the_clipped_gather(n: int) -> None:
    # windows inside their segment, reaching past its first or last sample (or both), in a
    # signal shorter than a window: the same values as gathering through clipped indices
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    bounds = np.array([0, n // 3, n])
    width = 13
    start = rng.integers(-width, n, 200)
    seg = np.clip(np.searchsorted(bounds, start + width // 2, side="right") - 1, 0, 1)
    lo, end = bounds[seg], bounds[seg + 1]
    want = x[np.clip(start[:, None] + np.arange(width), lo[:, None], end[:, None] - 1)]
    got = clipped_windows(x, start_idx=start, width=width, seg_start_idx=lo, seg_end_idx=end)
    assert got.shape == (200, width) and np.array_equal(got, want)
    assert clipped_windows(x, start_idx=start[:0], width=width, seg_start_idx=lo[:0],
                           seg_end_idx=end[:0]).shape == (0, width)
    x32 = x.astype(np.float32)
    got32 = clipped_windows(x32, start_idx=start, width=width, seg_start_idx=lo,
                            seg_end_idx=end)
    assert got32.dtype == np.float32 and np.array_equal(got32, want.astype(np.float32))


@pytest.mark.parametrize(("seg_start", "seg_end"), [(-1, 10), (0, 41), (7, 7), (8, 7)])
def test_clipped_windows_reject_a_segment_outside_the_signal(seg_start: int, seg_end: int) -> None:
    # a window in the signal's middle: without the check the sliding view would return its
    # samples for a segment that does not exist
    x = np.arange(40.0)
    with pytest.raises(SignalError, match="segment"):
        clipped_windows(x, start_idx=np.array([10, 20]), width=5, seg_start_idx=np.array([0, seg_start]),
                        seg_end_idx=np.array([40, seg_end]))
