"""imuback frame decoder: known answers from the spec, bad frames counted, no bytes crash it."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imuback.collect.imuback_protocol import (
    ImubackDecoder,
    encode_start,
    parse_status,
    samples_per_frame,
)
from imuback.collect.sensor import FrameBatch

ACC_S, GYR_S = 16 * 9.80665 / 32768, 2000 / 32768


def frame(seq: int, first: int, counts: np.ndarray, kind: int = 0xA6) -> bytes:
    """Built from firmware_notes/protocol.md, not from the decoder."""
    return struct.pack("<BBHI", kind, counts.shape[0], seq, first) + counts.astype("<i2").tobytes()


def dec(rate: float = 100.0) -> ImubackDecoder:
    return ImubackDecoder(rate_hz=rate, gyro=True, acc_scale=ACC_S, gyr_scale=GYR_S)


def test_frame_sizes_for_mtu_247_and_23() -> None:
    assert samples_per_frame(247) == 19 and 8 + 19 * 12 <= 244
    assert samples_per_frame(23) == 1 and 8 + 12 <= 20
    assert samples_per_frame(23, channels=3) == 2


def test_known_answer_counts_to_units_and_indices() -> None:
    c = np.arange(19 * 6, dtype=np.int16).reshape(19, 6) - 50
    out = dec().decode(FrameBatch.from_frames([frame(0, 1000, c), frame(1, 1019, c)], [10, 20]))
    s = out.streams["imu"]
    assert out.bad.n == 0
    np.testing.assert_array_equal(s.sample_idx, np.arange(1000, 1038))
    np.testing.assert_allclose(s.values[:19, :3], c[:, :3] * ACC_S, rtol=1e-6)
    np.testing.assert_allclose(s.values[:19, 3:], c[:, 3:] * GYR_S, rtol=1e-6)
    assert s.t_sensor_ns[1] - s.t_sensor_ns[0] == 10_000_000
    np.testing.assert_array_equal(s.frame_host_ns, [10, 20])


def test_mixed_lengths_keep_order() -> None:
    a = np.full((3, 6), 7, np.int16)
    b = np.full((1, 6), -7, np.int16)
    out = dec().decode(FrameBatch.from_frames([frame(0, 0, a), frame(1, 3, b), frame(2, 4, a)], [1, 2, 3]))
    s = out.streams["imu"]
    np.testing.assert_array_equal(s.sample_idx, np.arange(7))
    assert (s.values[3] < 0).all() and (s.values[[0, 4]] > 0).all()


def test_bad_frames_are_counted_not_fatal_and_gaps_stay_visible() -> None:
    c = np.ones((19, 6), np.int16)
    frames = [frame(0, 0, c), frame(1, 19, c)[:50], b"\x01\x02", frame(2, 38, c, kind=0x11),
              frame(3, 57, c), frame(4, 10, c), frame(5, 4_000_000_000, c), frame(6, 76, c)]
    out = dec().decode(FrameBatch.from_frames(frames, np.arange(8) * 1_000_000))
    s = out.streams["imu"]
    assert out.bad.n == 5
    assert set(out.bad.reasons) == {"length does not match k", "shorter than the 8-byte header",
                                    "unknown frame kind", "sample counter went backwards",
                                    "sample counter jumped implausibly far"}
    np.testing.assert_array_equal(np.unique(s.sample_idx // 19), [0, 3, 4])


def test_state_carries_across_batches() -> None:
    d = dec()
    c = np.ones((2, 6), np.int16)
    d.decode(FrameBatch.from_frames([frame(0, 10, c)], [0]))
    out = d.decode(FrameBatch.from_frames([frame(1, 5, c), frame(2, 12, c)], [1, 2]))
    assert out.bad.reasons == ("sample counter went backwards",)
    np.testing.assert_array_equal(out.streams["imu"].sample_idx, [12, 13])


def test_commands_and_status_layout() -> None:
    assert encode_start(rate_hz=1600, acc_range_g=16, gyr_range_dps=2000, gyro=True, resume=True) == \
        bytes([1, 0x40, 0x06, 16, 0xD0, 0x07, 3])
    st_ = parse_status(struct.pack("<BBBBfffBBH", 1, 1, 90, 1, 208.0, 0.0048, 0.061, 16, 0, 2000))
    assert st_["state"] == "streaming" and st_["rate_hz"] == 208.0 and st_["battery_pct"] == 90


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=260), max_size=12), st.booleans())
def test_no_byte_string_crashes_the_decoder(frames: list[bytes], gyro: bool) -> None:
    d = ImubackDecoder(rate_hz=208, gyro=gyro, acc_scale=ACC_S, gyr_scale=GYR_S)
    out = d.decode(FrameBatch.from_frames(frames, np.arange(len(frames))))
    s = out.streams["imu"]
    assert out.bad.n + s.frame_host_ns.size == len(frames)
    assert np.all(np.diff(s.sample_idx) > 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 19), st.integers(0, 3)), min_size=1, max_size=20),
       st.integers(0, 2**31))
def test_round_trip_any_frame_sizes_and_jumps(spec: list[tuple[int, int]], start: int) -> None:
    rng = np.random.default_rng(0)
    frames, idx, want, first = [], [], [], start
    for k, jump in spec:
        first += jump
        c = rng.integers(-32768, 32767, (k, 6)).astype(np.int16)
        frames.append(frame(len(frames), first, c))
        idx += list(range(first, first + k))
        want.append(c)
        first += k
    out = dec().decode(FrameBatch.from_frames(frames, np.arange(len(frames))))
    s = out.streams["imu"]
    np.testing.assert_array_equal(s.sample_idx, idx)
    np.testing.assert_allclose(s.values[:, 0], np.concatenate(want)[:, 0] * ACC_S, rtol=1e-6)
