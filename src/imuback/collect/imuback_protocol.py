"""imuback's own BLE protocol for DIY firmware (nRF52840 / ESP32 + a 6-axis IMU).

The firmware author's reference is ``firmware_notes/protocol.md``; this module is the host side.

Data frame (one notification on ``DATA_UUID``), little-endian::

    offset size  field
    0      1     kind: 0xA6 = acc+gyro (6 channels), 0xA3 = acc only (3 channels)
    1      1     k = samples in this frame (1..255)
    2      2     seq: frame counter, +1 per frame, wraps at 65536
    4      4     first_idx: sensor sample counter of the first sample (continues across reconnects)
    8      2*C*k samples, int16 counts: ax ay az [gx gy gz], sample after sample

At ATT MTU 247 a frame holds k = 19 six-axis samples (236 bytes); at MTU 23 it holds one
(20 bytes). Counts become physical units with the scale factors read from ``STATUS_UUID``
(m/s² and deg/s per count), once, here.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

import numpy as np
from bleak import BleakClient

from imuback.collect.sensor import (
    I64,
    BadFrames,
    Decoded,
    FrameBatch,
    SampleStream,
    StreamInfo,
    StreamSettings,
)
from imuback.errors import ProtocolError

SERVICE_UUID: Final = "f0e10001-7c1a-4d8b-9a52-1b2c3d4e5f60"
CONTROL_UUID: Final = "f0e10002-7c1a-4d8b-9a52-1b2c3d4e5f60"
DATA_UUID: Final = "f0e10003-7c1a-4d8b-9a52-1b2c3d4e5f60"
STATUS_UUID: Final = "f0e10004-7c1a-4d8b-9a52-1b2c3d4e5f60"
NAME_PREFIX: Final = "imuback"

KIND_IMU6: Final = 0xA6
KIND_ACC3: Final = 0xA3
HEADER_BYTES: Final = 8
OP_START: Final = 0x01
OP_STOP: Final = 0x02
FLAG_GYRO: Final = 0x01
FLAG_RESUME: Final = 0x02
STATUS_STRUCT: Final = struct.Struct("<BBBBfffBBH")
"""version, state, battery %, flags, rate_hz, acc scale (m/s²/count), gyr scale (deg/s/count),
acc range (g), reserved, gyr range (deg/s): 20 bytes."""
STATE_NAMES: Final = {0: "idle", 1: "streaming", 2: "buffering"}

MAX_JUMP_SLACK_S: Final = 15.0
"""A frame may start at most this much sensor time (+ host time elapsed) after the previous one:
bounds the firmware's backlog buffer (the spec allows up to 10 s) and rejects garbled indices."""


def samples_per_frame(mtu: int, *, channels: int = 6) -> int:
    """K for a given ATT MTU: the most samples a notification (MTU - 3 bytes) can carry."""
    return max(0, min(255, (mtu - 3 - HEADER_BYTES) // (2 * channels)))


def encode_start(*, rate_hz: int, acc_range_g: int, gyr_range_dps: int, gyro: bool, resume: bool) -> bytes:
    """The 7-byte START command."""
    flags = (FLAG_GYRO if gyro else 0) | (FLAG_RESUME if resume else 0)
    return struct.pack("<BHBHB", OP_START, rate_hz, acc_range_g, gyr_range_dps, flags)


def encode_stop() -> bytes:
    """The 1-byte STOP command."""
    return bytes([OP_STOP])


def parse_status(data: bytes) -> dict[str, float | int | str]:
    """Decode the 20-byte status characteristic; raise :class:`ProtocolError` if malformed."""
    if len(data) < STATUS_STRUCT.size:
        raise ProtocolError(f"imuback status: {len(data)} bytes, expected {STATUS_STRUCT.size} "
                            "(see firmware_notes/protocol.md, Status characteristic)")
    ver, state, batt, flags, rate, acc_s, gyr_s, acc_r, _, gyr_r = STATUS_STRUCT.unpack_from(data)
    if ver != 1:
        raise ProtocolError(f"imuback status: protocol version {ver} is not supported (expected 1)")
    return {"version": ver, "state": STATE_NAMES.get(state, f"unknown({state})"), "battery_pct": batt,
            "gyro": int(bool(flags & FLAG_GYRO)), "rate_hz": float(rate), "acc_scale": float(acc_s),
            "gyr_scale": float(gyr_s), "acc_range_g": acc_r, "gyr_range_dps": gyr_r}


class ImubackFamily:
    """imuback's own firmware protocol (see module docstring and firmware_notes/)."""

    name = "imuback"
    service_uuid = SERVICE_UUID
    data_uuid = DATA_UUID

    def advertises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """Advertises our service UUID (or, as a fallback, a name starting with ``imuback``)."""
        return SERVICE_UUID in [u.lower() for u in service_uuids] or (
            local_name is not None and local_name.lower().startswith(NAME_PREFIX))

    async def start(self, client: BleakClient, *, settings: StreamSettings, resume: bool) -> StreamInfo:
        """Write START (resume keeps the sample counter and sends the backlog first), read status."""
        rate = round(settings.rate_hz) if settings.rate_hz else 208
        await client.write_gatt_char(CONTROL_UUID, encode_start(
            rate_hz=rate, acc_range_g=settings.acc_range_g, gyr_range_dps=settings.gyr_range_dps,
            gyro=settings.gyro, resume=resume), response=True)
        st = parse_status(bytes(await client.read_gatt_char(STATUS_UUID)))
        gyro = bool(st["gyro"]) and settings.gyro
        return StreamInfo(family=self.name, rate_hz=float(st["rate_hz"]),
                          acc_range_g=float(st["acc_range_g"]),
                          gyr_range_dps=float(st["gyr_range_dps"]) if gyro else None, gyro=gyro,
                          params={"acc_scale": st["acc_scale"], "gyr_scale": st["gyr_scale"],
                                  "mtu": client.mtu_size})

    async def stop(self, client: BleakClient) -> None:
        """Write STOP."""
        await client.write_gatt_char(CONTROL_UUID, encode_stop(), response=True)

    async def battery_pct(self, client: BleakClient) -> int | None:
        """Battery from the status characteristic."""
        return int(parse_status(bytes(await client.read_gatt_char(STATUS_UUID)))["battery_pct"])

    def decoder(self, info: StreamInfo, *, clock_speedup: float = 1.0) -> ImubackDecoder:
        """A decoder for frames streamed with ``info``."""
        return ImubackDecoder(rate_hz=info.rate_hz, gyro=info.gyro,
                              acc_scale=float(info.params["acc_scale"]),
                              gyr_scale=float(info.params.get("gyr_scale", 0.0)),
                              clock_speedup=clock_speedup)


class ImubackDecoder:
    """Vectorised decoder of imuback data frames (``np.frombuffer`` over many frames at once).

    State across calls: the end of the last accepted frame (sample counter) and its host time,
    so frames whose counter goes backwards or jumps implausibly far are rejected as garbled.
    """

    def __init__(self, *, rate_hz: float, gyro: bool, acc_scale: float, gyr_scale: float,
                 clock_speedup: float = 1.0) -> None:
        self.channels = 6 if gyro else 3
        self.kind = KIND_IMU6 if gyro else KIND_ACC3
        self.rate_hz = float(rate_hz)
        self.scale = np.array([acc_scale] * 3 + ([gyr_scale] * 3 if gyro else []), dtype=np.float32)
        self.samples_per_host_s = self.rate_hz * clock_speedup
        self.stream_channels = {"imu": self.channels}
        self._last_end: int | None = None
        self._last_host: int = 0

    def decode(self, batch: FrameBatch) -> Decoded:
        """Decode frames in arrival order; never raises on bad bytes."""
        c = self.channels
        n = batch.n
        if n == 0:
            return Decoded(streams={"imu": SampleStream.empty(c)}, bad=BadFrames.none())
        lengths = batch.lengths
        offsets = batch.offsets
        pay = batch.payload
        # 1. header fields of every frame (frames shorter than a header read as zeros)
        head_ok = lengths >= HEADER_BYTES
        hidx = offsets[head_ok][:, None] + np.arange(HEADER_BYTES)
        head = np.zeros((n, HEADER_BYTES), dtype=np.uint8)
        head[head_ok] = pay[hidx]
        kind = head[:, 0]
        k = head[:, 1].astype(np.int64)
        first = head[:, 4:8].copy().view("<u4").reshape(n).astype(np.int64)
        # 2. shape checks
        reason = np.full(n, "", dtype=object)
        reason[~head_ok] = "shorter than the 8-byte header"
        reason[(reason == "") & (kind != self.kind)] = "unknown frame kind"
        reason[(reason == "") & ((k == 0) | (lengths != HEADER_BYTES + 2 * c * k))] = "length does not match k"
        # 3. sequence checks: counter strictly forward, jump plausible for the host time elapsed
        cand = np.flatnonzero(reason == "")
        accepted = self._sequence(cand, first[cand], k[cand], batch.host_ns[cand], reason)
        # 4. samples of accepted frames, grouped by length (one group in the common case)
        streams = {"imu": self._samples(batch, accepted, first, k, offsets)}
        bad_i = np.flatnonzero(reason != "")
        bad = BadFrames(host_ns=batch.host_ns[bad_i], lengths=lengths[bad_i],
                        reasons=tuple(str(r) for r in reason[bad_i]))
        return Decoded(streams=streams, bad=bad)

    def _allowance(self, dt_host_ns: I64) -> I64:
        return ((np.maximum(dt_host_ns, 0) / 1e9 * 1.5 + MAX_JUMP_SLACK_S)
                * self.samples_per_host_s).astype(np.int64) + 256

    def _sequence(self, cand: I64, first: I64, k: I64, host: I64, reason: np.ndarray) -> I64:
        if cand.size == 0:
            return cand
        end = first + k
        prev_end = np.concatenate([[self._last_end if self._last_end is not None else first[0]], end[:-1]])
        prev_host = np.concatenate([[self._last_host if self._last_end is not None else host[0]], host[:-1]])
        jump = first - prev_end
        ok = (jump >= 0) & (jump <= self._allowance(host - prev_host))
        if ok.all():
            self._last_end, self._last_host = int(end[-1]), int(host[-1])
            return cand
        # rare path (a garbled or replayed frame): decide frame by frame, frames not samples
        keep = []
        last_end, last_host = self._last_end, self._last_host
        for j in range(cand.size):
            if last_end is None:
                keep.append(j)
                last_end, last_host = int(end[j]), int(host[j])
                continue
            jj = int(first[j]) - last_end
            if jj < 0:
                reason[cand[j]] = "sample counter went backwards"
            elif jj > int(self._allowance(np.array([host[j] - last_host]))[0]):
                reason[cand[j]] = "sample counter jumped implausibly far"
            else:
                keep.append(j)
                last_end, last_host = int(end[j]), int(host[j])
        self._last_end, self._last_host = last_end, last_host
        return cand[np.asarray(keep, dtype=np.int64)]

    def _samples(self, batch: FrameBatch, acc: I64, first: I64, k: I64, offsets: I64) -> SampleStream:
        c = self.channels
        if acc.size == 0:
            return SampleStream.empty(c)
        ka = k[acc]
        out_start = np.zeros(acc.size, dtype=np.int64)
        np.cumsum(ka[:-1], out=out_start[1:])
        m = int(ka.sum())
        counts = np.empty((m, c), dtype=np.int16)
        lengths = batch.lengths[acc]
        if acc.size == batch.n and np.all(lengths == lengths[0]):
            # fast path: every frame accepted and equally long -> one zero-copy reshape
            rows = batch.payload.reshape(batch.n, int(lengths[0]))
            counts[:] = rows[:, HEADER_BYTES:].copy().view("<i2").reshape(m, c)
        else:
            for length in np.unique(lengths):
                g = np.flatnonzero(lengths == length)
                kk = int(ka[g[0]])
                rows = batch.payload[offsets[acc[g]][:, None] + np.arange(HEADER_BYTES, int(length))]
                dest = (out_start[g][:, None] + np.arange(kk)).reshape(-1)
                counts[dest] = rows.view("<i2").reshape(g.size * kk, c)
        idx = np.repeat(first[acc] - out_start, ka) + np.arange(m, dtype=np.int64)
        t_ns = np.round(idx * (1e9 / self.rate_hz)).astype(np.int64)
        last_idx = first[acc] + ka - 1
        return SampleStream(sample_idx=idx, t_sensor_ns=t_ns,
                            values=counts.astype(np.float32) * self.scale,
                            frame_host_ns=batch.host_ns[acc],
                            frame_t_last_ns=np.round(last_idx * (1e9 / self.rate_hz)).astype(np.int64))
