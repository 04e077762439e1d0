"""Polar PMD: frames built by hand from the published format (settings, raw, delta-compressed)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imuback.collect.polar_pmd import MG_TO_MPS2, PolarDecoder
from imuback.collect.polar_wire import delta_decode, delta_encode, encode_settings, parse_response, parse_settings
from imuback.collect.sensor import FrameBatch, StreamInfo
from imuback.errors import ProtocolError


def pmd(mtype: int, ts_ns: int, ftype: int, content: bytes) -> bytes:
    return bytes([mtype]) + ts_ns.to_bytes(8, "little") + bytes([ftype]) + content


def test_delta_frame_known_answer_by_hand() -> None:
    # reference (100, -200, 1000) as int16; one block: width 3 bits, 2 samples x 3 channels
    # deltas (1, -1, 2), (-4, 3, 0) -> 3-bit two's complement, LSB first:
    # 1=001, -1=111, 2=010, -4=100, 3=011, 0=000 -> bit stream (LSB first per value)
    ref = struct.pack("<hhh", 100, -200, 1000)
    vals = [1, -1, 2, -4, 3, 0]
    bits = [(v >> i) & 1 for v in vals for i in range(3)]  # 18 bits
    packed = bytearray(3)
    for i, b in enumerate(bits):
        packed[i // 8] |= b << (i % 8)
    content = ref + bytes([3, 2]) + bytes(packed)
    out = delta_decode(content, 3, 16)
    np.testing.assert_array_equal(out, [[100, -200, 1000], [101, -201, 1002], [97, -198, 1002]])


def test_delta_round_trip_and_malformed() -> None:
    s = np.cumsum(np.random.default_rng(1).integers(-300, 300, (40, 3)), axis=0)
    np.testing.assert_array_equal(delta_decode(delta_encode(s), 3, 16), s)
    with pytest.raises(ProtocolError):
        delta_decode(b"\x01\x02", 3, 16)
    with pytest.raises(ProtocolError):
        delta_decode(delta_encode(s)[:-3], 3, 16)


def test_settings_tlv_and_response() -> None:
    tlv = bytes([0, 2]) + struct.pack("<HH", 52, 416) + bytes([1, 1]) + struct.pack("<H", 16) + \
        bytes([2, 2]) + struct.pack("<HH", 8, 16) + bytes([4, 1, 3])
    s = parse_settings(tlv)
    assert s == {0: [52, 416], 1: [16], 2: [8, 16], 4: [3]}
    assert parse_settings(bytes([5, 1]) + struct.pack("<f", 0.5))[5] == [0.5]
    assert encode_settings({0: 416, 1: 16, 5: 7}) == bytes([0, 1, 0xA0, 0x01, 1, 1, 16, 0])
    assert parse_response(bytes([0xF0, 2, 2, 0, 0]) + tlv)[4] == tlv
    with pytest.raises(ProtocolError):
        parse_settings(bytes([0, 3, 1]))


def test_acc_gyro_frames_timestamps_and_units() -> None:
    d = PolarDecoder(rate_hz=52, acc_factor=1.0, gyr_factor=0.5)
    acc = np.array([[10, -1000, 20]] * 5) + np.arange(5)[:, None]
    period = round(1e9 / 52)
    t1 = 10**15
    f1 = pmd(2, t1, 0x81, delta_encode(acc))
    f2 = pmd(2, t1 + 5 * period, 0x81, delta_encode(acc))
    f3 = pmd(5, t1, 0x80, delta_encode(acc))
    raw = pmd(2, t1 + 20 * period, 0x01, struct.pack("<hhh", 1, 2, 3))  # uncompressed type 1 (int16 mG)
    out = d.decode(FrameBatch.from_frames([f1, f3, f2, raw], [1, 2, 3, 4]))
    a, g = out.streams["acc"], out.streams["gyr"]
    assert out.bad.n == 0
    np.testing.assert_allclose(a.values[:5], acc * MG_TO_MPS2, rtol=1e-6)
    np.testing.assert_allclose(g.values, acc * 0.5)
    assert a.t_sensor_ns[4] == t1 and abs(a.t_sensor_ns[0] - (t1 - 4 * 1e9 / 52)) <= 1
    np.testing.assert_array_equal(a.sample_idx, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 24])  # 14 lost before `raw`
    np.testing.assert_allclose(a.values[-1], np.array([1, 2, 3]) * MG_TO_MPS2, rtol=1e-6)


def test_bad_frames_counted() -> None:
    d = PolarDecoder(rate_hz=52)
    frames = [b"", b"\x02" * 5, pmd(7, 1, 0, b"xx"), pmd(2, 100, 0x85, b"\x00" * 8),
              pmd(2, 10**12, 0x81, b"\x00" * 7), pmd(2, 10**12 + 20_000_000, 0x81, delta_encode(np.zeros((3, 3), int))),
              pmd(2, 5, 0x81, delta_encode(np.zeros((3, 3), int)))]
    out = d.decode(FrameBatch.from_frames(frames, np.arange(len(frames))))
    assert out.bad.n == 6 and out.streams["acc"].n == 3
    assert out.bad.reasons[-1].startswith("timestamp went backwards")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=240), max_size=10))
def test_no_byte_string_crashes_the_polar_decoder(frames: list[bytes]) -> None:
    out = PolarDecoder(rate_hz=208).decode(FrameBatch.from_frames(frames, np.arange(len(frames))))
    assert out.bad.n + out.streams["acc"].frame_host_ns.size + out.streams["gyr"].frame_host_ns.size == len(frames)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(1, 4), st.sampled_from([8, 16, 24]))
def test_delta_decode_never_crashes_other_than_protocol_error(b: bytes, ch: int, res: int) -> None:
    try:
        delta_decode(b, ch, res)
    except ProtocolError:
        pass


# --- clock checks: sensor time against host receive time (issue 17, items 1, 2, 8) -----------
RATE = 52.0
N_PER_FRAME = 10
PERIOD_NS = 1e9 / RATE


def stream(n_frames: int, *, t0: int = 10**15, host0: int = 5 * 10**9) -> tuple[list[bytes], np.ndarray, list[int]]:
    """ACC frames of 10 samples, received 20 ms after their last sample; (frames, host, ts)."""
    samples = np.arange(n_frames * N_PER_FRAME)[:, None] * np.array([1, 2, 3])  # sample n reads (n, 2n, 3n) mG
    ts = [t0 + round(((i + 1) * N_PER_FRAME - 1) * PERIOD_NS) for i in range(n_frames)]
    frames = [pmd(2, t, 0x81, delta_encode(samples[i * N_PER_FRAME:(i + 1) * N_PER_FRAME]))
              for i, t in enumerate(ts)]
    host = np.array([host0 + (t - t0) + 20_000_000 for t in ts], dtype=np.int64)
    return frames, host, ts


def with_ts(frame: bytes, ts: int) -> bytes:
    return frame[:1] + ts.to_bytes(8, "little") + frame[9:]


def test_timestamp_of_2_63_or_more_is_a_counted_bad_frame() -> None:
    frames, host, _ = stream(6)
    frames[3] = with_ts(frames[3], 2**64 - 1)
    out = PolarDecoder(rate_hz=RATE).decode(FrameBatch.from_frames(frames, host))
    assert out.bad.n == 1 and "2^63" in out.bad.reasons[0]
    assert out.streams["acc"].n == 5 * N_PER_FRAME


@pytest.mark.parametrize("step_ns", [3_600 * 10**9, -3_600 * 10**9, 40 * 10**9])
def test_a_lone_corrupted_timestamp_costs_only_its_own_samples(step_ns: int) -> None:
    frames, host, ts = stream(40)
    frames[17] = with_ts(frames[17], ts[17] + step_ns)
    out = PolarDecoder(rate_hz=RATE).decode(FrameBatch.from_frames(frames, host))
    acc = out.streams["acc"]
    assert out.bad.n == 1 and "corrupted time stamp" in out.bad.reasons[0]
    expected = np.setdiff1d(np.arange(40 * N_PER_FRAME), np.arange(170, 180))
    np.testing.assert_array_equal(acc.sample_idx, expected)  # a 10-sample gap where the frame was
    assert out.breaks == ()


@pytest.mark.parametrize("step_ns", [3_600 * 10**9, -3_600 * 10**9])
def test_a_confirmed_clock_step_starts_a_new_segment_placed_by_host_time(step_ns: int) -> None:
    frames, host, ts = stream(40)
    frames[17:] = [with_ts(f, t + step_ns) for f, t in zip(frames[17:], ts[17:], strict=True)]
    d = PolarDecoder(rate_hz=RATE)
    half = FrameBatch.from_frames(frames[:25], host[:25])
    out = [d.decode(half), d.decode(FrameBatch.from_frames(frames[25:], host[25:]))]
    idx = np.concatenate([o.streams["acc"].sample_idx for o in out])
    t = np.concatenate([o.streams["acc"].t_sensor_ns for o in out])
    assert sum(o.bad.n for o in out) == 0
    np.testing.assert_array_equal(idx, np.arange(400))  # every sample kept, none invented
    assert np.all(np.diff(t) > 0) and abs(np.diff(t).max() - PERIOD_NS) < 0.01 * PERIOD_NS
    (brk,) = out[0].breaks
    assert brk.sample_idx == 170 and "stepped" in brk.reason


def test_a_reboot_after_a_reconnect_restarts_the_clock_lower() -> None:
    frames, host, ts = stream(30)
    d = PolarDecoder(rate_hz=RATE)
    info = StreamInfo(family="polar", rate_hz=RATE, acc_range_g=16, gyr_range_dps=None, gyro=False)
    d.stream_event(info, 0)
    a = d.decode(FrameBatch.from_frames(frames[:10], host[:10]))
    d.stream_event(info, int(host[14]))  # 5 frames lost in the outage; then the clock starts near 0
    reboot = [with_ts(f, t - ts[14]) for f, t in zip(frames[15:], ts[15:], strict=True)]
    b = d.decode(FrameBatch.from_frames(reboot, host[15:]))
    assert a.bad.n + b.bad.n == 0
    np.testing.assert_array_equal(b.streams["acc"].sample_idx, np.arange(150, 300))  # 50 lost, by host time
    assert "reboot" in b.breaks[0].reason


def test_a_notification_longer_than_the_mtu_allows_is_a_bad_frame() -> None:
    frames, host, _ = stream(4)
    d = PolarDecoder(rate_hz=RATE)
    d.stream_event(StreamInfo(family="polar", rate_hz=RATE, acc_range_g=16, gyr_range_dps=None, gyro=False,
                              params={"mtu": 23}), 0)
    out = d.decode(FrameBatch.from_frames(frames, host))
    assert out.bad.n == 4 and all("longer than one notification" in r for r in out.bad.reasons)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 35), st.integers(0, 63), st.booleans())
def test_a_flipped_timestamp_bit_costs_only_its_own_frame(j: int, bit: int, two: bool) -> None:
    """Property: one or two adjacent frames with a flipped time stamp bit; every other sample kept."""
    frames, host, ts = stream(40)
    bad = {j, j + 1} if two else {j}
    for i in bad:
        frames[i] = with_ts(frames[i], ts[i] ^ (1 << bit))
    out = PolarDecoder(rate_hz=RATE).decode(FrameBatch.from_frames(frames, host))
    acc = out.streams["acc"]
    n = np.round(acc.values[:, 0] / MG_TO_MPS2).astype(np.int64)  # each sample carries its number
    valid = np.concatenate([np.arange(i * N_PER_FRAME, (i + 1) * N_PER_FRAME) for i in range(40) if i not in bad])
    assert np.isin(valid, n).all(), np.setdiff1d(valid, n)[:10]  # every valid sample kept ...
    ok = np.isin(n, valid)
    assert np.unique(acc.sample_idx[ok] - n[ok]).size == 1  # ... each at its own place
    assert acc.n - int(ok.sum()) <= N_PER_FRAME * len(bad) and np.all(np.diff(acc.t_sensor_ns) > 0)


@pytest.mark.parametrize("j", [1, 20])  # before and after the measured period is known (500 samples)
def test_a_ten_sample_gap_before_a_38_sample_frame_is_counted_not_spread(j: int) -> None:
    """A gap shorter than half a 38-sample frame is counted: ``first_idx`` jumps by the lost samples
    and the frame keeps the sensor's spacing (spread over the gap, 10 samples would vanish).
    """
    per, lost, n_frames = 38, 10, 30
    first = [i * per + (lost if i >= j else 0) for i in range(n_frames)]  # sample number of each frame's first
    t0, host0 = 10**15, 5 * 10**9
    frames, host = [], []
    for f in first:
        samples = np.arange(f, f + per)[:, None] * np.array([1, 2, 3])  # sample n reads (n, 2n, 3n) mG
        ts = t0 + round((f + per - 1) * PERIOD_NS)
        frames.append(pmd(2, ts, 0x81, delta_encode(samples)))
        host.append(host0 + (ts - t0) + 20_000_000)
    out = PolarDecoder(rate_hz=RATE).decode(FrameBatch.from_frames(frames, np.array(host, dtype=np.int64)))
    acc = out.streams["acc"]
    assert out.bad.n == 0
    n = np.round(acc.values[:, 0] / MG_TO_MPS2).astype(np.int64)
    np.testing.assert_array_equal(acc.sample_idx, n)  # each sample at its own place: first_idx = j*38 + 10
    assert acc.sample_idx[j * per] == j * per + lost
    assert int(np.diff(acc.sample_idx).sum() - (acc.n - 1)) == lost  # the gap counted, once
    assert abs(np.diff(acc.t_sensor_ns[j * per:(j + 1) * per]).mean() - PERIOD_NS) < 0.01 * PERIOD_NS
