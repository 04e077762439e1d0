"""Polar Verity Sense (and H10) through the public Polar Measurement Data (PMD) service.

Written from Polar's public BLE SDK documentation of the PMD format (polarofficial/polar-ble-sdk);
the code is ours. Summary (little-endian throughout):

Control point ``PMD_CP`` (read: features; write: commands; indicate: responses)
    read value       0x0F, then a bitmap: bit n of byte 1 + n//8 = measurement type n supported
    commands         0x01 GET_MEASUREMENT_SETTINGS <type>
                     0x02 REQUEST_MEASUREMENT_START <type> <settings TLVs>
                     0x03 STOP_MEASUREMENT <type>
                     (type 0x09 = SDK mode: enables the full rate/range set, up to 416 Hz)
    response         0xF0 <op> <type> <status: 0 = success> <more> <settings TLVs>
    settings TLV     <setting type> <count> <count values>: 0 sample rate u16 Hz, 1 resolution u16
                     bits, 2 range u16 (g or deg/s), 3 range milliunit u32, 4 channels u8,
                     5 factor f32 (in start responses: multiply samples by it)
Measurement types: 2 = ACC, 5 = GYRO.

Data ``PMD_DATA`` (notify), one frame per notification::

    0  u8   measurement type
    1  u64  timestamp (ns, Polar clock, of the LAST sample in the frame)
    9  u8   frame type: bit 7 = delta-compressed, bits 0-6 = type number
    10 ...  samples

Uncompressed ACC types 0/1/2: int8/int16/int24 x y z in mG. Compressed (delta) frames:
a reference sample (each channel a signed int of ceil(resolution/8) bytes), then blocks of
``<u8 bit width> <u8 count>`` and count x channels signed deltas of that many bits, packed LSB
first; each sample is the previous plus its delta. Compressed ACC type 1 x factor = mG;
compressed GYRO type 0 x factor = deg/s. Sample times: the frame time is the last sample's; the
others are spaced by (this - previous frame time) / n when frames are contiguous, else by the
nominal period back from the frame time.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from bleak import BleakClient

from imuback.collect.sensor import (
    BadFrames,
    CounterBreak,
    Decoded,
    FrameBatch,
    SampleStream,
    StreamInfo,
    StreamSettings,
)
from imuback.core import G_MPS2
from imuback.errors import ProtocolError

PMD_SERVICE: Final = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CP: Final = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA: Final = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
BATTERY_LEVEL: Final = "00002a19-0000-1000-8000-00805f9b34fb"
ACC: Final = 2
GYRO: Final = 5
SDK_MODE: Final = 9
OP_GET_SETTINGS: Final = 0x01
OP_START: Final = 0x02
OP_STOP: Final = 0x03
SET_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLI, SET_CHANNELS, SET_FACTOR = range(6)
_FIELD_BYTES: Final = {SET_RATE: 2, SET_RESOLUTION: 2, SET_RANGE: 2, SET_RANGE_MILLI: 4,
                       SET_CHANNELS: 1, SET_FACTOR: 4}
ERROR_NAMES: Final = ("success", "invalid op code", "invalid measurement type", "not supported",
                      "invalid length", "invalid parameter", "already in state",
                      "invalid resolution", "invalid sample rate", "invalid range", "invalid MTU",
                      "invalid number of channels", "invalid state", "device in charger",
                      "disk full")
ALREADY_IN_STATE: Final = 6
HEADER_BYTES: Final = 10
MG_TO_MPS2: Final = G_MPS2 / 1000.0


# --- settings TLVs ----------------------------------------------------------------------------
def parse_settings(data: bytes) -> dict[int, list[float]]:
    """Settings TLVs -> {setting type: values}; factor values are float32. Raises ProtocolError."""
    out: dict[int, list[float]] = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProtocolError(f"PMD settings: truncated TLV header at byte {pos}")
        typ, count = data[pos], data[pos + 1]
        pos += 2
        size = _FIELD_BYTES.get(typ)
        if size is None:
            raise ProtocolError(f"PMD settings: unknown setting type {typ} at byte {pos - 2}")
        if pos + size * count > len(data):
            raise ProtocolError(f"PMD settings: setting {typ} needs {size * count} bytes, "
                                f"{len(data) - pos} left")
        vals: list[float] = []
        for i in range(count):
            chunk = data[pos + i * size: pos + (i + 1) * size]
            vals.append(struct.unpack("<f", chunk)[0] if typ == SET_FACTOR
                        else int.from_bytes(chunk, "little"))
        out[typ] = vals
        pos += size * count
    return out


def encode_settings(selected: dict[int, int]) -> bytes:
    """{setting type: value} -> TLVs with count 1 (the factor is never sent)."""
    out = bytearray()
    for typ, val in selected.items():
        if typ == SET_FACTOR:
            continue
        out += bytes([typ, 1]) + int(val).to_bytes(_FIELD_BYTES[typ], "little")
    return bytes(out)


def parse_response(data: bytes) -> tuple[int, int, int, bool, bytes]:
    """Control point response -> (op, type, status, more, parameters)."""
    if len(data) < 4 or data[0] != 0xF0:
        raise ProtocolError(f"PMD control point: not a response ({data.hex()})")
    status = data[3]
    more = status == 0 and len(data) > 4 and data[4] != 0
    params = bytes(data[5:]) if status == 0 and len(data) > 5 else b""
    return data[1], data[2], status, more, params


# --- delta frames -----------------------------------------------------------------------------
def delta_decode(content: bytes | npt.NDArray[np.uint8], channels: int, resolution: int) -> npt.NDArray[np.int64]:
    """Decode a delta-compressed PMD sample block -> (n, channels) int64. Raises ProtocolError.

    Vectorised per block: ``np.unpackbits`` (LSB first) and a weighted sum give every delta of
    a block at once; ``np.cumsum`` adds them to the reference sample.
    """
    buf = np.frombuffer(bytes(content), dtype=np.uint8)
    rb = math.ceil(resolution / 8)
    if resolution < 1 or rb > 4:
        raise ProtocolError(f"PMD delta frame: resolution {resolution} bits is not supported")
    if buf.size < channels * rb:
        raise ProtocolError(f"PMD delta frame: {buf.size} bytes, reference sample needs {channels * rb}")
    ref = buf[:channels * rb].reshape(channels, rb).astype(np.int64) @ (1 << (8 * np.arange(rb, dtype=np.int64)))
    ref = np.where(ref >= (1 << (resolution - 1)), ref - (1 << resolution), ref) if resolution < 64 else ref
    out = [ref.reshape(1, channels)]
    pos = channels * rb
    last = out[0][-1]
    while pos < buf.size:
        if pos + 2 > buf.size:
            raise ProtocolError(f"PMD delta frame: truncated block header at byte {pos}")
        width, count = int(buf[pos]), int(buf[pos + 1])
        pos += 2
        if width > 32:
            raise ProtocolError(f"PMD delta frame: delta width {width} bits > 32")
        nbits = width * count * channels
        nbytes = (nbits + 7) // 8
        if pos + nbytes > buf.size:
            raise ProtocolError(f"PMD delta frame: block needs {nbytes} bytes, {buf.size - pos} left")
        if count == 0:
            continue
        if width == 0:
            deltas = np.zeros((count, channels), dtype=np.int64)
        else:
            bits = np.unpackbits(buf[pos:pos + nbytes], bitorder="little")[:nbits]
            vals = bits.reshape(count * channels, width).astype(np.int64) @ (1 << np.arange(width, dtype=np.int64))
            vals = np.where(vals >= (1 << (width - 1)), vals - (1 << width), vals)
            deltas = vals.reshape(count, channels)
        block = last + np.cumsum(deltas, axis=0)
        out.append(block)
        last = block[-1]
        pos += nbytes
    return np.concatenate(out, axis=0)


def delta_encode(samples: npt.NDArray[np.int64], resolution: int = 16, *, max_block: int = 255) -> bytes:
    """Inverse of :func:`delta_decode` (used by tests and the simulated Polar sensor)."""
    s = np.asarray(samples, dtype=np.int64)
    rb = math.ceil(resolution / 8)
    out = bytearray()
    for v in s[0]:
        out += int(v & ((1 << (8 * rb)) - 1)).to_bytes(rb, "little")
    d = np.diff(s, axis=0)
    for lo in range(0, d.shape[0], max_block):
        blk = d[lo:lo + max_block]
        m = int(np.max(np.abs(blk))) if blk.size else 0
        width = max(1, int(m).bit_length() + 1)
        u = (blk.reshape(-1) & ((1 << width) - 1)).astype(np.int64)
        bits = ((u[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, blk.shape[0]]) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


# --- family -----------------------------------------------------------------------------------
def _error(status: int) -> str:
    return ERROR_NAMES[status] if status < len(ERROR_NAMES) else f"error {status}"


def _nearest(options: Sequence[float], want: float) -> int:
    return int(min(options, key=lambda o: (abs(o - want), -o)))


class PolarFamily:
    """Polar Verity Sense / H10 over PMD: SDK mode, ACC + GYRO at the same rate."""

    name = "polar"
    service_uuid = PMD_SERVICE
    data_uuid = PMD_DATA

    def __init__(self) -> None:
        self._responses: asyncio.Queue[bytes] | None = None

    def advertises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """PMD service advertised, or a name like ``Polar Sense 1A2B3C4D``."""
        return PMD_SERVICE in [u.lower() for u in service_uuids] or (
            local_name is not None and local_name.startswith("Polar "))

    async def _command(self, client: BleakClient, payload: bytes) -> tuple[int, bytes]:
        assert self._responses is not None
        await client.write_gatt_char(PMD_CP, payload, response=True)
        op, _typ, status, more, params = parse_response(await asyncio.wait_for(self._responses.get(), 5.0))
        while more:  # continuation packets: <more> <parameters...>
            nxt = await asyncio.wait_for(self._responses.get(), 5.0)
            more = bool(nxt[0]) if nxt else False
            params += bytes(nxt[1:])
        if op != payload[0]:
            raise ProtocolError(f"PMD control point: response to op {op}, expected {payload[0]}")
        return status, params

    async def _start_type(self, client: BleakClient, typ: int, want_rate: float,
                          want_range: int) -> tuple[int, int, float]:
        status, params = await self._command(client, bytes([OP_GET_SETTINGS, typ]))
        if status != 0:
            raise ProtocolError(f"PMD settings query for type {typ}: {_error(status)}")
        avail = parse_settings(params)
        rate = _nearest(avail.get(SET_RATE, [52]), want_rate)
        rng = _nearest(avail.get(SET_RANGE, [want_range]), want_range)
        sel = {SET_RATE: rate, SET_RESOLUTION: int(max(avail.get(SET_RESOLUTION, [16]))),
               SET_RANGE: rng, SET_CHANNELS: int(max(avail.get(SET_CHANNELS, [3])))}
        sel = {k: v for k, v in sel.items() if k in avail or k in (SET_RATE, SET_RESOLUTION)}
        status, params = await self._command(client, bytes([OP_START, typ]) + encode_settings(sel))
        if status == ALREADY_IN_STATE:  # resumed after a reconnect while still running
            await self._command(client, bytes([OP_STOP, typ]))
            status, params = await self._command(client, bytes([OP_START, typ]) + encode_settings(sel))
        if status != 0:
            raise ProtocolError(f"PMD start of type {typ}: {_error(status)}")
        factor = parse_settings(params).get(SET_FACTOR, [1.0])[0] if params else 1.0
        return rate, rng, float(factor)

    async def start(self, client: BleakClient, *, settings: StreamSettings, resume: bool) -> StreamInfo:
        """Enable SDK mode, query settings, start ACC (and GYRO) at the nearest supported rate."""
        self._responses = asyncio.Queue()
        queue = self._responses
        await client.start_notify(PMD_CP, lambda _c, d: queue.put_nowait(bytes(d)))
        features = bytes(await client.read_gatt_char(PMD_CP))
        if len(features) < 2 or features[0] != 0x0F or not features[1] & (1 << ACC):
            raise ProtocolError(f"Polar PMD: the sensor does not offer ACC streaming (features {features.hex()})")
        has_gyro = bool(features[1] & (1 << GYRO))
        has_sdk = len(features) > 2 and bool(features[2] & (1 << (SDK_MODE - 8)))
        if has_sdk:
            status, _ = await self._command(client, bytes([OP_START, SDK_MODE]))
            if status not in (0, ALREADY_IN_STATE):
                raise ProtocolError(f"Polar PMD: SDK mode refused ({_error(status)})")
        want = settings.rate_hz or 208.0
        rate, acc_rng, acc_f = await self._start_type(client, ACC, want, settings.acc_range_g)
        gyro = settings.gyro and has_gyro
        gyr_rng, gyr_f = None, 1.0
        if gyro:
            g_rate, gyr_rng, gyr_f = await self._start_type(client, GYRO, rate, settings.gyr_range_dps)
            if g_rate != rate:
                raise ProtocolError(f"Polar PMD: ACC at {rate} Hz but GYRO only at {g_rate} Hz")
        return StreamInfo(family=self.name, rate_hz=float(rate), acc_range_g=float(acc_rng),
                          gyr_range_dps=float(gyr_rng) if gyr_rng is not None else None, gyro=gyro,
                          params={"acc_factor": acc_f, "gyr_factor": gyr_f, "sdk_mode": has_sdk,
                                  "mtu": client.mtu_size})

    async def stop(self, client: BleakClient) -> None:
        """Stop GYRO, ACC and SDK mode."""
        for typ in (GYRO, ACC, SDK_MODE):
            try:
                await self._command(client, bytes([OP_STOP, typ]))
            except (TimeoutError, ProtocolError):
                continue

    async def battery_pct(self, client: BleakClient) -> int | None:
        """Standard Battery Level characteristic."""
        data = await client.read_gatt_char(BATTERY_LEVEL)
        return int(data[0]) if data else None

    def decoder(self, info: StreamInfo, *, clock_speedup: float = 1.0) -> PolarDecoder:
        """A decoder for frames streamed with ``info``."""
        return PolarDecoder(rate_hz=info.rate_hz, acc_factor=float(info.params.get("acc_factor", 1.0)),
                            gyr_factor=float(info.params.get("gyr_factor", 1.0)), clock_speedup=clock_speedup)


MAX_NOTIFICATION_BYTES: Final = 512
"""ATT: an attribute value (one notification) is at most 512 bytes, whatever the MTU."""
AHEAD_SLACK_S: Final = 1.0
"""A frame's receive latency may lie at most this many host seconds (host scheduling, radio
retries) below the smallest latency seen, plus ``max_clock_drift`` times the time since then."""
SPAN_DRIFT: Final = 1e-3
"""Between neighbouring frames the sensor's own clock runs at its nominal rate within this (1000 ppm,
ten times a crystal's error): a frame whose time is off its neighbours' span by more than half a
period plus this is a corrupted time stamp."""
AGREE_S: Final = 1.0
"""Two frames after a clock step agree on it when their receive latencies differ by at most this
many host seconds."""


class _TypeState:
    """Per measurement type: the last accepted frame and the samples decoded in this batch."""

    __slots__ = ("break_reason", "frame_host", "frame_idx", "frame_t", "idx", "last_idx", "last_t",
                 "skipped_n", "t", "vals")

    def __init__(self) -> None:
        self.last_t: int | None = None
        self.last_idx = -1
        self.skipped_n = 0  # samples of frames rejected by the clock checks since the last accepted one
        self.break_reason = ""
        self.idx: list[npt.NDArray[np.int64]] = []
        self.t: list[npt.NDArray[np.int64]] = []
        self.vals: list[npt.NDArray[np.float32]] = []
        self.frame_host: list[int] = []
        self.frame_t: list[int] = []
        self.frame_idx: list[npt.NDArray[np.int64]] = []


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One frame after the shape checks: measurement type, sensor time, samples or the reason."""

    mtype: int
    ts_ns: int
    host_ns: int
    length: int
    vals: npt.NDArray[np.float32] | None
    why: str


class PolarDecoder:
    """PMD frame decoder; frames are judged one by one (tens per second), samples vectorised.

    Polar frames carry no counter, only the sensor time of their last sample, so every frame's
    time is cross-checked against the host receive time (as the imuback decoder checks its
    counter): ``lat = host·speedup - t`` (sensor ns) is the receive latency plus a constant. Its
    floor (the smallest latency seen) moves only by clock drift; notifications are never early.

    - A frame is plausible when its time is after the previous frame's of its type and its latency
      is not below the floor by more than ``AHEAD_SLACK_S`` + drift.
    - An implausible frame whose next frame of the same type is plausible is a lone outlier (a
      corrupted time stamp): a bad frame; its samples become a counted gap.
    - A plausible frame that the next frame of its type contradicts (while the next one continues
      what came before) is an outlier too.
    - An implausible frame that the next frame of its type agrees with is a clock step or a
      reboot (the clock restarts lower): a new segment begins, placed by host receive time; it is
      reported as a :class:`CounterBreak` and the samples lost before it are estimated.
    """

    def __init__(self, *, rate_hz: float, acc_factor: float = 1.0, gyr_factor: float = 1.0,
                 clock_speedup: float = 1.0, max_clock_drift: float = 0.05) -> None:
        self.rate_hz = float(rate_hz)
        self.period_ns = 1e9 / self.rate_hz
        self.acc_factor = acc_factor
        self.gyr_factor = gyr_factor
        self.speedup = float(clock_speedup)
        self.max_drift = float(max_clock_drift)
        self.max_frame_bytes = MAX_NOTIFICATION_BYTES
        self.stream_channels = {"acc": 3, "gyr": 3}
        self._state = {ACC: _TypeState(), GYRO: _TypeState()}
        self._shift_ns = 0  # added to sensor times: keeps the time line continuous across steps
        self._floor: int | None = None  # smallest latency of an accepted frame (sensor ns)
        self._floor_t = 0  # shifted sensor time when the floor was last lowered
        self._reconnected = False

    def stream_event(self, info: StreamInfo, host_ns: int) -> None:
        """A (re)connect: a new MTU; a clock that restarts lower now is a reboot, not corruption."""
        mtu = int(info.params.get("mtu", 0) or 0)
        self.max_frame_bytes = min(MAX_NOTIFICATION_BYTES, mtu - 3) if mtu > 3 else MAX_NOTIFICATION_BYTES
        self._reconnected = self._floor is not None

    def _samples(self, mtype: int, ftype: int, content: bytes) -> npt.NDArray[np.float32]:
        compressed, t = bool(ftype & 0x80), ftype & 0x7F
        if mtype == ACC:
            if not compressed and t in (0, 1, 2):
                w = t + 1
                if len(content) % (3 * w):
                    raise ProtocolError("ACC raw frame: length is not a whole number of samples")
                b = np.frombuffer(content, dtype=np.uint8).reshape(-1, w).astype(np.int64)
                v = b @ (1 << (8 * np.arange(w, dtype=np.int64)))
                v = np.where(v >= 1 << (8 * w - 1), v - (1 << (8 * w)), v)
                return (v.reshape(-1, 3) * MG_TO_MPS2).astype(np.float32)
            if compressed and t in (0, 1):
                s = delta_decode(content, 3, 16)
                f = self.acc_factor * (1000.0 if t == 0 else 1.0)  # type 0 arrives in g
                return (s * f * MG_TO_MPS2).astype(np.float32)
        elif mtype == GYRO and compressed and t == 0:
            return (delta_decode(content, 3, 16) * self.gyr_factor).astype(np.float32)
        raise ProtocolError(f"unsupported frame type {ftype:#04x} for measurement type {mtype}")

    def _parse(self, frame: bytes, host: int) -> _Parsed:
        """Shape checks of one frame; any malformed frame gets a reason, nothing raises."""
        def bad(why: str, mtype: int = -1) -> _Parsed:
            return _Parsed(mtype, 0, host, len(frame), None, why)

        if len(frame) < HEADER_BYTES + 1:
            return bad("shorter than the 10-byte PMD header plus data")
        if len(frame) > self.max_frame_bytes:
            return bad(f"{len(frame)} bytes, longer than one notification can be "
                       f"({self.max_frame_bytes} at this link's MTU)")
        mtype = frame[0]
        if mtype not in self._state:
            return bad(f"measurement type {mtype} not requested")
        ts = int.from_bytes(frame[1:9], "little")
        if ts >= 1 << 63:
            return bad("timestamp out of range (2^63 ns or later)", mtype)
        try:
            vals = self._samples(mtype, frame[9], frame[HEADER_BYTES:])
        except (ProtocolError, ValueError, OverflowError, IndexError) as exc:
            return bad(str(exc), mtype)
        if vals.shape[0] == 0:
            return bad("frame without samples", mtype)
        return _Parsed(mtype, ts, host, len(frame), vals, "")

    def _latency(self, p: _Parsed) -> int:
        return int(p.host_ns * self.speedup) - (p.ts_ns + self._shift_ns)

    def _plausible(self, p: _Parsed, last_t: int | None) -> bool:
        """``p`` continues a type whose last accepted frame ended at (shifted) ``last_t``."""
        t = p.ts_ns + self._shift_ns
        if last_t is not None and t <= last_t:
            return False
        if self._floor is None:
            return True
        slack = AHEAD_SLACK_S * 1e9 * self.speedup + self.max_drift * max(0, t - self._floor_t)
        return self._latency(p) >= self._floor - slack

    def decode(self, batch: FrameBatch) -> Decoded:
        """Decode frames in arrival order; never raises on bad bytes."""
        offsets = batch.offsets
        parsed = [self._parse(batch.payload[int(o):int(o) + int(n)].tobytes(), int(h))
                  for o, n, h in zip(offsets, batch.lengths, batch.host_ns, strict=True)]
        # the next good frame of the same type, for the look-ahead of the clock checks
        nxt: list[int | None] = [None] * len(parsed)
        seen: dict[int, int] = {}
        for i in range(len(parsed) - 1, -1, -1):
            if parsed[i].vals is not None:
                nxt[i] = seen.get(parsed[i].mtype)
                seen[parsed[i].mtype] = i
        fresh = {ACC: _TypeState(), GYRO: _TypeState()}
        bad_i: list[int] = []
        bad_why: list[str] = []
        breaks: list[CounterBreak] = []
        for i, p in enumerate(parsed):
            n1 = nxt[i]
            n2 = None if n1 is None else nxt[n1]
            why = p.why or self._judge(p, None if n1 is None else parsed[n1], None if n2 is None else parsed[n2])
            if why:
                bad_i.append(i)
                bad_why.append(why)
                if p.vals is not None:
                    self._state[p.mtype].skipped_n += p.vals.shape[0]
                continue
            brk = self._accept(p, fresh[p.mtype])
            if brk is not None:
                breaks.append(brk)
        streams = {}
        for typ, name in ((ACC, "acc"), (GYRO, "gyr")):
            st = fresh[typ]
            if not st.idx:
                streams[name] = SampleStream.empty(3)
                continue
            streams[name] = SampleStream(
                sample_idx=np.concatenate(st.idx), t_sensor_ns=np.concatenate(st.t),
                values=np.concatenate(st.vals), frame_host_ns=np.asarray(st.frame_host, np.int64),
                frame_t_last_ns=np.asarray(st.frame_t, np.int64), frame_idx=np.concatenate(st.frame_idx))
        bi = np.asarray(bad_i, dtype=np.int64)
        return Decoded(streams=streams, bad=BadFrames(host_ns=batch.host_ns[bi], lengths=batch.lengths[bi],
                                                      reasons=tuple(bad_why)), breaks=tuple(breaks))

    def _judge(self, p: _Parsed, nxt: _Parsed | None, nxt2: _Parsed | None) -> str:
        """'' to accept ``p`` (maybe as a new segment), else why it is a bad frame.

        ``nxt``, ``nxt2``: the next two good frames of the same type (None at the end of a run).
        """
        st = self._state[p.mtype]
        t = p.ts_ns + self._shift_ns
        if self._plausible(p, st.last_t):
            if st.last_t is None or nxt is None:
                return ""
            if self._off_its_neighbours(p, [q for q in (nxt, nxt2) if q is not None], st.last_t):
                return "timestamp off the span of its neighbours (corrupted time stamp)"
            if (not self._plausible(nxt, t) and self._plausible(nxt, st.last_t)
                    and nxt2 is not None and not self._plausible(nxt2, t)):
                return "timestamp contradicted by the next frames (corrupted time stamp)"
            return ""
        off = ("timestamp went backwards" if st.last_t is not None and t <= st.last_t
               else "timestamp ahead of the host receive time")
        if nxt is not None and self._plausible(nxt, st.last_t):
            return off + " (a lone outlier: corrupted time stamp)"
        if nxt2 is not None and self._plausible(nxt2, st.last_t):
            return off + " (with the next frame: corrupted time stamps)"
        agree_ns = AGREE_S * 1e9 * self.speedup
        if nxt is not None and nxt.ts_ns > p.ts_ns and abs(self._latency(nxt) - self._latency(p)) <= agree_ns:
            self._new_segment(p, st)
            return ""
        if nxt is None and self._reconnected:
            self._new_segment(p, st)
            return ""
        return off + " (not confirmed by the next frame)"

    def _off_its_neighbours(self, p: _Parsed, after: list[_Parsed], last_t: int) -> bool:
        """A later frame is exactly as far from the previous frame as the samples between them
        take, but ``p``'s time does not fit its own samples: ``p``'s time stamp was corrupted by
        less than the plausibility slack (one or two frames in a row).
        """
        assert p.vals is not None

        def fits(span: float, n: int) -> bool:
            return abs(span - n * self.period_ns) <= (0.5 + SPAN_DRIFT * n) * self.period_ns

        n = self._state[p.mtype].skipped_n + p.vals.shape[0]  # the samples since the last accepted frame
        if fits(p.ts_ns + self._shift_ns - last_t, n):
            return False
        for q in after:
            assert q.vals is not None
            n += q.vals.shape[0]
            if fits(q.ts_ns + self._shift_ns - last_t, n):
                return True
        return False

    def _new_segment(self, p: _Parsed, st: _TypeState) -> None:
        """Confirmed clock step or reboot: shift the sensor clock so ``p`` lands at its host time."""
        floor = self._floor if self._floor is not None else self._latency(p)
        t_old = p.ts_ns + self._shift_ns
        est = int(p.host_ns * self.speedup) - floor  # where the floor latency puts it (never early)
        n = 0 if p.vals is None else p.vals.shape[0]
        if st.last_t is not None:  # within half a frame of contiguous: contiguous (receive jitter)
            missing = (est - st.last_t) / self.period_ns - n
            if missing < n / 2:
                est = st.last_t + round(n * self.period_ns)
        back = st.last_t is not None and t_old <= st.last_t
        step_s = (t_old - est) / 1e9
        why = ("sensor clock restarted after a reconnect (reboot?)" if self._reconnected and back
               else f"sensor clock stepped {step_s:+.3f} s")
        self._shift_ns += est - t_old
        self._floor_t = est
        for s in self._state.values():
            s.break_reason = why + "; samples lost estimated from host receive time"

    def _accept(self, p: _Parsed, o: _TypeState) -> CounterBreak | None:
        assert p.vals is not None
        st = self._state[p.mtype]
        n = p.vals.shape[0]
        ts = p.ts_ns + self._shift_ns
        span = None if st.last_t is None else ts - st.last_t
        if span is not None and span <= 1.5 * n * self.period_ns:
            delta = span / n  # contiguous with the previous frame: spread its span (Polar SDK way)
            first_idx = st.last_idx + 1
        else:
            delta = self.period_ns
            t_first = ts - (n - 1) * delta
            first_idx = 0 if st.last_t is None else st.last_idx + max(1, round((t_first - st.last_t) / self.period_ns))
        # int64 on the ns epoch (~8e17 ns: float64 there resolves only 128 ns); the last sample
        # is the frame time exactly
        t = ts - np.round((n - 1 - np.arange(n)) * delta).astype(np.int64)
        o.frame_idx.append(np.full(n, len(o.frame_host), dtype=np.int64))
        o.idx.append(first_idx + np.arange(n, dtype=np.int64))
        o.t.append(t)
        o.vals.append(p.vals)
        o.frame_host.append(p.host_ns)
        o.frame_t.append(ts)
        st.last_t, st.last_idx = ts, first_idx + n - 1
        st.skipped_n = 0
        lat = self._latency(p)
        if self._floor is None or lat < self._floor:
            self._floor, self._floor_t = lat, ts
        self._reconnected = False
        brk = None
        if st.break_reason and p.mtype == ACC:  # rows are acc samples: the gap log keys on them
            brk = CounterBreak(stream="acc", sample_idx=first_idx, host_ns=p.host_ns, reason=st.break_reason)
        st.break_reason = ""
        return brk
