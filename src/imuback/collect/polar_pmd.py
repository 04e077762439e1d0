"""Polar Verity Sense (and H10) through the public Polar Measurement Data (PMD) service.

The family: discovery, settings, start/stop on the control point, and the decoder that turns
``PMD_DATA`` notifications into timed samples. The wire format (TLVs, responses, delta frames)
is in :mod:`imuback.collect.polar_wire`. Sample times: the frame time is the last sample's; the
others are spaced by (this - previous frame time) / n when frames are contiguous, else by the
nominal period back from the frame time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from bleak import BleakClient

from imuback.collect.polar_wire import (
    ACC,
    ALREADY_IN_STATE,
    GYRO,
    HEADER_BYTES,
    OP_GET_SETTINGS,
    OP_START,
    OP_STOP,
    SDK_MODE,
    SET_CHANNELS,
    SET_FACTOR,
    SET_RANGE,
    SET_RATE,
    SET_RESOLUTION,
    delta_decode,
    encode_settings,
    error_name,
    parse_response,
    parse_settings,
)
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

RATE_RANGE_HZ: Final = (26.0, 416.0)
"""The rates a Polar Verity Sense streams acc+gyro at (26, 52, 104, 208, 416 Hz)."""
PMD_SERVICE: Final = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CP: Final = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA: Final = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
BATTERY_LEVEL: Final = "00002a19-0000-1000-8000-00805f9b34fb"
MG_TO_MPS2: Final = G_MPS2 / 1000.0


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
            raise ProtocolError(f"PMD settings query for type {typ}: {error_name(status)}")
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
            raise ProtocolError(f"PMD start of type {typ}: {error_name(status)}")
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
                raise ProtocolError(f"Polar PMD: SDK mode refused ({error_name(status)})")
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
MEASURED_PERIOD_MIN_SAMPLES: Final = round(0.5 / SPAN_DRIFT)
"""The sensor's period is measured (sum of contiguous spans / their samples; the spans telescope, so
only the end points' time stamp errors count) once over this many samples: a time stamp off by up
to half a period then moves it by at most ``SPAN_DRIFT``. Before that the nominal period is used,
within ``max_clock_drift`` (a sensor may run a few % off its nominal rate)."""
AGREE_S: Final = 1.0
"""Two frames after a clock step agree on it when their receive latencies differ by at most this
many host seconds."""


class _TypeState:
    """Per measurement type: the last accepted frame and the samples decoded in this batch."""

    __slots__ = ("break_reason", "frame_host", "frame_idx", "frame_t", "idx", "last_idx", "last_t",
                 "skipped_n", "span_n", "span_ns", "t", "vals")

    def __init__(self) -> None:
        self.last_t: int | None = None
        self.last_idx = -1
        self.skipped_n = 0  # samples of frames rejected by the clock checks since the last accepted one
        self.break_reason = ""
        self.span_ns = 0  # sensor time spanned by frames judged contiguous (their own samples) ...
        self.span_n = 0  # ... and the samples in them: span_ns / span_n is the sensor's real period
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

    def _contiguous(self, span_ns: int, n: int, period_ns: float, *, known: bool) -> bool:
        """A frame of ``n`` samples ``span_ns`` after the previous one has no sample missing before it.

        Contiguous when the span is less than half a period (plus :data:`SPAN_DRIFT` per sample) longer
        than ``n`` periods of the sensor's measured period; before that period is ``known``
        (:data:`MEASURED_PERIOD_MIN_SAMPLES`), of the nominal period within ``max_clock_drift`` per
        sample. A longer span is a gap: its samples are counted, never spread over it (before, up
        to n/2 missing samples were spread silently).
        """
        tol = SPAN_DRIFT if known else max(SPAN_DRIFT, self.max_drift)
        return span_ns <= (n + 0.5 + tol * n) * period_ns

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
        known = st.span_n >= MEASURED_PERIOD_MIN_SAMPLES
        period = st.span_ns / st.span_n if known else self.period_ns
        if span is not None and self._contiguous(span, n, period, known=known):
            delta = span / n  # contiguous with the previous frame: spread its span (Polar SDK way)
            first_idx = st.last_idx + 1
            st.span_ns += span
            st.span_n += n
        else:  # a gap (or the first frame): its samples counted, nominal spacing back from the frame time
            delta = period
            t_first = ts - (n - 1) * delta
            first_idx = 0 if st.last_t is None else st.last_idx + max(1, round((t_first - st.last_t) / period))
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
