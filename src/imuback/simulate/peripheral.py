"""A simulated lower-back sensor: a bumble GATT server on a virtual link that streams a RawSession.

It plays the firmware side of ``firmware_notes/protocol.md`` and is written from that spec, not
from the collector's code (it imports nothing from :mod:`imuback.collect`): the tests check one
implementation of the protocol against another.

What it streams is exactly what a :class:`~imuback.store.raw.RawSession` holds: acc (m/s²) and
gyro (deg/s) in the sensor frame, quantised to int16 counts with the firmware scale factors. The
sensor's sample clock starts at the first START and runs ``speedup`` times faster than real time,
so tests and the demo cover minutes of running in seconds. It keeps running while the link is
down; a ring buffer of ``buffer_s`` sensor seconds holds what could not be sent yet, the rest is
overwritten (a gap the collector must report).

It misbehaves on demand (:class:`Misbehaviour`): drop notifications, stall, disconnect mid-stream,
send short or garbled frames, negotiate only MTU 23, or send a frame late. BLE delivers one link's
notifications in order, so a late frame stands for firmware that reorders its own queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from bumble import att, core, gatt, hci
from bumble.controller import Controller
from bumble.device import Connection, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from imuback.core import G_MPS2, RawSession

_log = logging.getLogger(__name__)

# --- the firmware's constants (firmware_notes/protocol.md) ------------------------------------
SERVICE_UUID = "F0E10001-7C1A-4D8B-9A52-1B2C3D4E5F60"
CONTROL_UUID = "F0E10002-7C1A-4D8B-9A52-1B2C3D4E5F60"
DATA_UUID = "F0E10003-7C1A-4D8B-9A52-1B2C3D4E5F60"
STATUS_UUID = "F0E10004-7C1A-4D8B-9A52-1B2C3D4E5F60"
BATTERY_SERVICE = 0x180F
BATTERY_LEVEL = 0x2A19
ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (125, 250, 500, 1000, 2000)
ERR_BAD_COMMAND = 0x80
ERR_UNSUPPORTED = 0x81
DEFAULT_ADDRESS = "F0:F0:F0:F0:F0:F0"


@dataclass(frozen=True, slots=True, kw_only=True)
class Misbehaviour:
    """Faults to inject. Frame numbers count every frame the firmware forms, from 0.

    Attributes
    ----------
    drop_frames : frames never sent (lost on the way).
    short_frames : frames sent cut to half their length.
    garbled_frames : frames sent with a corrupted kind byte.
    stalls : (start_s, duration_s) in sensor seconds during which nothing is sent.
    disconnects : (at_s, outage_s) in sensor seconds: the sensor drops the link at ``at_s`` and
        advertises again ``outage_s`` later.
    max_mtu : largest ATT MTU the sensor accepts (23 = the BLE minimum).
    buffer_s : firmware backlog buffer, sensor seconds.
    bad_clock_frames : frames sent with their sensor time field corrupted (imuback: bit 20 of
        ``first_idx`` flipped; Polar: the time stamp one hour ahead).
    clock_steps : (at_s, step_s): from sensor second ``at_s`` on, the time stamps the sensor sends
        are ``step_s`` seconds off (Polar; a step back to near 0 with a disconnect at the same
        time is a reboot).
    duplicate_frames : frames sent twice in a row (a re-send; the second copy must be dropped).
    late_frames : frames held back and sent just after the frame that follows them (out of order).
    delayed_frames : (frame, n): the frame is held back and sent after the ``n`` frames formed after
        it (``n`` = 1 is ``late_frames``); several may be held at once, and a held frame whose
        turn comes while the frame it waits for is itself held goes out with the next frame sent.
        A frame held when the link drops goes out on the next connection (its turn, or the end).
    counter_start : the sensor counter (imuback ``first_idx``) of the first sample; near 2**32 the
        u32 field wraps during the run. The log keeps counting from 0 (``sample_idx``).
    """

    drop_frames: frozenset[int] = frozenset()
    short_frames: frozenset[int] = frozenset()
    garbled_frames: frozenset[int] = frozenset()
    stalls: tuple[tuple[float, float], ...] = ()
    disconnects: tuple[tuple[float, float], ...] = ()
    max_mtu: int = 247
    buffer_s: float = 2.0
    bad_clock_frames: frozenset[int] = frozenset()
    clock_steps: tuple[tuple[float, float], ...] = ()
    duplicate_frames: frozenset[int] = frozenset()
    late_frames: frozenset[int] = frozenset()
    delayed_frames: tuple[tuple[int, int], ...] = ()
    counter_start: int = 0


CLOCK_DRIFT = 0.0
"""The simulated sensors' sample clock is the event loop's monotonic clock times ``speedup``: it has
no rate error. Under load a sped-up run's receive times fall behind it steadily (the host handles
``speedup`` times the real data rate), which a clock fit cannot tell from drift: recordings of a
simulated sensor are made with this as the largest believable drift."""


NO_FAULTS = Misbehaviour(buffer_s=60.0)
"""A well-behaved sensor: no faults, and a firmware buffer of a minute. Sped up 60-100x (the demo),
2 s of sensor time are 20-30 ms of wall time, which the simulation's own scheduling delays on a
slow machine exceed: with the default 2 s the demo lost a fifth of its run to 'overflow'."""


@dataclass(slots=True)
class PeripheralLog:
    """What the sensor did, for tests: every frame formed and its fate."""

    frame_first_idx: list[int] = field(default_factory=list)
    frame_k: list[int] = field(default_factory=list)
    frame_fate: list[str] = field(default_factory=list)
    frame_wall_s: list[float] = field(default_factory=list)
    send_order: list[int] = field(default_factory=list)
    """Frame numbers in the order their notifications went out (a duplicate appears twice)."""
    overflow_samples: int = 0
    disconnects: int = 0
    connections: int = 0

    def samples(self, fate: str) -> int:
        """Samples in frames with ``fate`` (``sent``, ``dropped``, ``short``, ``garbled``)."""
        return sum(k for k, f in zip(self.frame_k, self.frame_fate, strict=True) if f == fate)

    def frames_sent_late(self) -> int:
        """Frames that went out after a frame formed after them (counted once each)."""
        order = np.array(self.send_order, dtype=np.int64)
        if order.size == 0:
            return 0
        before = np.r_[-1, np.maximum.accumulate(order)[:-1]]
        return int(np.unique(order[order < before]).size)


def quantise(raw: RawSession, *, rate_hz: float | None, acc_scale: float, gyr_scale: float | None
             ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
    """Sample counter and int16 counts of ``raw`` as the sensor would produce them.

    Returns idx (N,) int64 (``round((t - t0)·rate)``; missing rows of ``raw`` are missing
    indices) and counts (N, C) int16, C = 6 with gyro else 3. With ``rate_hz`` different from
    the raw rate, each output sample is the nearest raw sample within half a raw period.
    """
    fs = float(raw.sample_rate_hz)
    t = raw.time_ns - raw.time_ns[0]
    vals = [raw.acc_mps2 / acc_scale]
    if raw.gyr_dps is not None and gyr_scale is not None:
        vals.append(raw.gyr_dps / gyr_scale)
    counts = np.clip(np.round(np.hstack(vals)), -32768, 32767).astype(np.int16)
    if rate_hz is None or abs(rate_hz - fs) < 1e-9:
        return np.round(t * fs / 1e9).astype(np.int64), counts
    n_out = int(t[-1] * rate_hz / 1e9) + 1
    grid = np.arange(n_out) * (1e9 / rate_hz)
    j = np.clip(np.searchsorted(t, grid), 1, max(1, t.size - 1))
    j = np.where(np.abs(t[j - 1] - grid) <= np.abs(t[j] - grid), j - 1, j) if t.size > 1 else np.zeros_like(j)
    ok = np.abs(t[j] - grid) <= 0.5e9 / fs
    return np.flatnonzero(ok).astype(np.int64), counts[j[ok]]


class SimulatedSensor:
    """The imuback-protocol sensor on a bumble virtual link (see the module docstring).

    Use: ``sensor = SimulatedSensor(raw, link=link); await sensor.start()``; then record it;
    ``sensor.done`` is set once every sample has been sent (or lost); ``await sensor.close()``.
    """

    family: ClassVar[str] = "imuback"

    def __init__(self, raw: RawSession, *, link: LocalLink, address: str = DEFAULT_ADDRESS,
                 name: str = "imuback-sim", speedup: float = 20.0, rate_hz: float | None = None,
                 faults: Misbehaviour = NO_FAULTS, battery_pct: int = 87,
                 tick_s: float = 0.005) -> None:
        self.raw = raw
        self.address = address
        self.name = name
        self.speedup = float(speedup)
        self.wanted_rate_hz = rate_hz
        self.faults = faults
        self.battery_pct = battery_pct
        self.boot_id = 1  # Status byte 17: a new nonzero value at every power-on (no reboots here)
        self.tick_s = tick_s
        self.log = PeripheralLog()
        self.done = asyncio.Event()
        controller = Controller(f"sim-{name}", link=link, public_address=address)
        self.device = Device(name=name, address=hci.Address(address),
                             host=Host(controller, AsyncPipeSink(controller)))
        self.device.gatt_server.max_mtu = faults.max_mtu
        self.device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._conn: Connection | None = None
        self._streaming = False
        self._stream_task: asyncio.Task[None] | None = None
        self._t0: float | None = None  # loop time of the first START (sensor clock origin)
        self.rate_hz = float(rate_hz or raw.sample_rate_hz)
        self.gyro_enabled = raw.gyr_dps is not None
        self.acc_range_g, self.gyr_range_dps = 16, 2000
        self._idx = np.zeros(0, np.int64)
        self._counts = np.zeros((0, 6), np.int16)
        self._run_end = np.zeros(0, np.int64)
        self._pos = 0
        self._frame_no = 0
        self._closing = False
        self._next_disconnect = 0
        self._advertise_handle: asyncio.TimerHandle | None = None
        self._delay = {**{no: 1 for no in faults.late_frames}, **dict(faults.delayed_frames)}
        self._held: list[tuple[int, int, bytes]] = []  # late frames: (send after frame, frame, payload)
        self._background: set[asyncio.Future[Any]] = set()
        self._adv_lock = asyncio.Lock()
        self._build_gatt()

    # --- GATT ---------------------------------------------------------------------------------
    def _build_gatt(self) -> None:
        self._data_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            DATA_UUID, gatt.Characteristic.Properties.NOTIFY, gatt.Characteristic.READABLE, b"")
        control: gatt.Characteristic[bytes] = gatt.Characteristic(
            CONTROL_UUID, gatt.Characteristic.Properties.WRITE, gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_control))
        status: gatt.Characteristic[bytes] = gatt.Characteristic(
            STATUS_UUID, gatt.Characteristic.Properties.READ, gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=lambda _c: self._status()))
        battery: gatt.Characteristic[bytes] = gatt.Characteristic(
            core.UUID.from_16_bits(BATTERY_LEVEL), gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE, gatt.CharacteristicValue(read=lambda _c: bytes([self.battery_pct])))
        self.device.add_service(gatt.Service(SERVICE_UUID, [control, self._data_char, status]))
        self.device.add_service(gatt.Service(core.UUID.from_16_bits(BATTERY_SERVICE), [battery]))

    def _advertising_data(self) -> bytes:
        return bytes(core.AdvertisingData([
            (core.AdvertisingData.FLAGS, bytes([0x06])),
            (core.AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            (core.AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
             core.UUID(SERVICE_UUID).to_bytes()),
        ]))

    @property
    def acc_scale(self) -> float:
        """m/s² per count at the current range."""
        return self.acc_range_g * G_MPS2 / 32768.0

    @property
    def gyr_scale(self) -> float:
        """deg/s per count at the current range."""
        return self.gyr_range_dps / 32768.0

    def _status(self) -> bytes:
        state = 1 if self._streaming else (2 if self._t0 is not None else 0)
        flags = 0x01 if self.raw.gyr_dps is not None else 0
        return struct.pack("<BBBBfffBBH", 1, state, self.battery_pct, flags, self.rate_hz,
                           self.acc_scale, self.gyr_scale, self.acc_range_g, self.boot_id, self.gyr_range_dps)

    def _on_control(self, connection: Connection, value: bytes) -> None:
        if not value:
            raise att.ATT_Error(ERR_BAD_COMMAND)
        if value[0] == 0x02 and len(value) == 1:
            self._streaming = False
            return
        if value[0] != 0x01 or len(value) != 7:
            raise att.ATT_Error(ERR_BAD_COMMAND)
        _, _rate, acc_r, gyr_r, flags = struct.unpack("<BHBHB", value)
        if acc_r not in ACC_RANGES_G or gyr_r not in GYR_RANGES_DPS:
            raise att.ATT_Error(ERR_UNSUPPORTED)
        if self._t0 is None:  # first START: fix settings, quantise, start the sample clock
            self.acc_range_g, self.gyr_range_dps = acc_r, gyr_r
            self.gyro_enabled = bool(flags & 0x01) and self.raw.gyr_dps is not None
            self._prepare()
            self._t0 = asyncio.get_running_loop().time()
        self._streaming = True
        if self._stream_task is None or self._stream_task.done():
            self._stream_task = asyncio.ensure_future(self._stream(connection))

    def _prepare(self) -> None:
        idx, counts = quantise(self.raw, rate_hz=self.wanted_rate_hz, acc_scale=self.acc_scale,
                               gyr_scale=self.gyr_scale if self.gyro_enabled else None)
        self._idx, self._counts = idx, counts
        breaks = np.r_[np.flatnonzero(np.diff(idx) != 1) + 1, idx.size]
        self._run_end = np.repeat(breaks, np.diff(np.r_[0, breaks]))

    # --- connection and advertising -------------------------------------------------------------
    async def start(self) -> None:
        """Power on and advertise."""
        await self.device.power_on()
        await self._advertise()

    async def _advertise(self) -> None:
        async with self._adv_lock:  # bumble's advertising calls must not interleave
            if self._closing or self.done.is_set():
                return
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                await self.device.start_advertising(advertising_data=self._advertising_data(),
                                                    advertising_interval_min=20,
                                                    advertising_interval_max=20)

    def _on_connection(self, connection: Connection) -> None:
        self._conn = connection
        self.log.connections += 1
        connection.on(Connection.EVENT_DISCONNECTION, lambda *_: self._on_disconnection(connection))

    def _on_disconnection(self, connection: Connection) -> None:
        if self._conn is connection:
            self._conn = None
        self._streaming = False
        if self._advertise_handle is None:  # not an outage we are staging: advertise at once
            self._spawn(self._advertise())

    def _spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background, keeping a reference until it is done."""
        fut = asyncio.ensure_future(coro)
        self._background.add(fut)
        fut.add_done_callback(self._background.discard)

    async def _drop_link(self, outage_s: float) -> None:
        conn = self._conn
        self.log.disconnects += 1
        if conn is not None:  # held late frames stay in the TX queue: they go out on the next link
            await self._flush(conn)  # the link drops between frames
        loop = asyncio.get_running_loop()
        self._advertise_handle = loop.call_later(outage_s / self.speedup, self._end_outage)
        self._streaming = False
        if conn is not None:
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error, asyncio.TimeoutError):
                await conn.disconnect()

    async def _flush(self, conn: Connection) -> None:
        """Until what the sensor handed to its stack has gone out over the link.

        bumble's host queues notifications without bound; when the simulation runs faster than the
        machine can move packets, that is many seconds of them, which a disconnect or the end of
        the recording would otherwise drop unseen while the sensor logged them as sent.
        """
        queue = self.device.host.get_data_packet_queue(conn.handle)
        if queue is None:
            return
        stall_s = 10.0  # waits as long as packets go out; gives up only when none has for this long
        while (before := queue.pending) > 0:
            try:
                await asyncio.wait_for(self._drained(queue, conn.handle), timeout=stall_s)
            except ValueError:  # the link is gone: bumble flushed the queue
                return
            except TimeoutError:
                if queue.pending >= before:
                    _log.warning("%d notifications still queued after %g s without one going out: "
                                 "dropped with the link", queue.pending, stall_s)
                    return

    @staticmethod
    async def _drained(queue: Any, handle: int) -> None:
        """Until nothing handed to the host is pending: bumble's ``drain`` can return while more
        packets wait (its event is set between two completions and a refill).
        """
        while queue.pending > 0:
            await queue.drain(handle)
            await asyncio.sleep(0)  # drain returns at once when its event is set: yield anyway

    def _end_outage(self) -> None:
        self._advertise_handle = None
        self._spawn(self._advertise())

    async def close(self) -> None:
        """Stop streaming and advertising, drop the link."""
        self._closing = True
        self._streaming = False
        if self._advertise_handle is not None:
            self._advertise_handle.cancel()
        if self._stream_task is not None:
            self._stream_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stream_task
        for fut in list(self._background):
            fut.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        async with self._adv_lock:
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error, TimeoutError):
                await self.device.stop_advertising()
        if self._conn is not None:
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error, asyncio.TimeoutError):
                await self._conn.disconnect()

    # --- streaming ------------------------------------------------------------------------------
    def _now_idx(self) -> int:
        """Samples taken so far on the sensor clock."""
        assert self._t0 is not None
        return int((asyncio.get_running_loop().time() - self._t0) * self.rate_hz * self.speedup)

    def samples_per_frame(self, mtu: int) -> int:
        """K for the current MTU (notification payload = MTU - 3)."""
        c = 6 if self.gyro_enabled else 3
        return max(1, min(255, (mtu - 3 - 8) // (2 * c)))

    def encode(self, seq: int, first_idx: int, counts: npt.NDArray[np.int16]) -> list[bytes]:
        """One data frame (firmware_notes/protocol.md, Data frame)."""
        kind = 0xA6 if counts.shape[1] == 6 else 0xA3
        head = struct.pack("<BBHI", kind, counts.shape[0], seq & 0xFFFF, first_idx & 0xFFFFFFFF)
        return [head + counts.astype("<i2").tobytes()]

    async def _send(self, conn: Connection, payload: bytes) -> None:
        await self.device.notify_subscriber(conn, self._data_char, payload)

    async def _stream(self, conn: Connection) -> None:
        f = self.faults
        n = int(self._idx.size)
        buffer = int(f.buffer_s * self.rate_hz)
        try:
            while self._streaming and self._conn is conn:
                now = self._now_idx()
                t_s = now / self.rate_hz
                if (self._next_disconnect < len(f.disconnects)
                        and t_s >= f.disconnects[self._next_disconnect][0]):
                    outage = f.disconnects[self._next_disconnect][1]
                    self._next_disconnect += 1
                    await self._drop_link(outage)
                    return
                if any(a <= t_s < a + d for a, d in f.stalls):
                    await asyncio.sleep(self.tick_s)
                    continue
                # the ring buffer keeps the newest ``buffer`` samples taken: once the recording has
                # ended, nothing newer comes to overwrite what is still waiting
                oldest_kept = min(now, int(self._idx[-1]) + 1) - buffer
                if self._pos < n and self._idx[self._pos] < oldest_kept:  # ring buffer overwrote
                    new_pos = int(np.searchsorted(self._idx, oldest_kept))
                    self.log.overflow_samples += new_pos - self._pos
                    self._pos = new_pos
                k = self.samples_per_frame(conn.att_mtu)
                while self._pos < n and self._streaming and self._conn is conn:
                    end = min(self._pos + k, int(self._run_end[self._pos]))
                    if self._idx[end - 1] >= now:
                        break  # the frame's last sample is not taken yet
                    await self._emit(conn, self._pos, end)
                    self._pos = end
                if self._pos >= n:
                    await self._send_held(conn)
                    await self._flush(conn)
                    self.done.set()
                    return
                await asyncio.sleep(self.tick_s)
        except (core.BaseBumbleError, hci.HCI_Error, ConnectionError) as exc:
            _log.debug("stream ended: %s", exc)

    async def _emit(self, conn: Connection, lo: int, hi: int) -> None:
        f = self.faults
        for payload in self.encode(self._frame_no, int(self._idx[lo]) + f.counter_start, self._counts[lo:hi]):
            no = self._frame_no
            self._frame_no += 1
            fate = ("dropped" if no in f.drop_frames else "short" if no in f.short_frames
                    else "garbled" if no in f.garbled_frames else "bad clock" if no in f.bad_clock_frames
                    else "sent")
            self._log_frame(lo, hi, fate, payload)
            if fate == "dropped":
                continue
            if fate == "short":
                payload = payload[: len(payload) // 2]
            elif fate == "garbled":
                payload = bytes([payload[0] ^ 0x5A]) + payload[1:]
            elif fate == "bad clock":
                payload = self.corrupt_clock(payload)
            if self._delay.get(no, 0) > 0:
                self._held.append((no + self._delay[no], no, payload))  # goes out later
                continue
            await self._send(conn, payload)
            self.log.send_order.append(no)
            if no in f.duplicate_frames:
                await self._send(conn, payload)
                self.log.send_order.append(no)
            await self._send_held(conn, after=no)

    async def _send_held(self, conn: Connection, *, after: int | None = None) -> None:
        """Send the held-back late frames whose turn has come after frame ``after`` (None: all)."""
        due = sorted(h for h in self._held if after is None or h[0] <= after)
        self._held = [h for h in self._held if h not in due]
        for _, no, payload in due:
            await self._send(conn, payload)
            self.log.send_order.append(no)

    def corrupt_clock(self, payload: bytes) -> bytes:
        """The frame with its sensor time field corrupted: bit 20 of ``first_idx`` flipped."""
        return payload[:6] + bytes([payload[6] ^ 0x10]) + payload[7:]

    def _log_frame(self, lo: int, hi: int, fate: str, payload: bytes) -> None:
        self.log.frame_first_idx.append(int(self._idx[lo]))
        self.log.frame_k.append(hi - lo)
        self.log.frame_fate.append(fate)
        self.log.frame_wall_s.append(asyncio.get_running_loop().time())

    # --- for tests ----------------------------------------------------------------------------
    @property
    def sample_idx(self) -> npt.NDArray[np.int64]:
        """(N,) the sensor counter of every sample the sensor has (after the first START)."""
        return self._idx

    @property
    def counts(self) -> npt.NDArray[np.int16]:
        """(N, C) int16 counts of every sample (after the first START)."""
        return self._counts

    def info(self) -> dict[str, Any]:
        """Address, name, family and rate, e.g. for a status line."""
        return {"address": self.address, "name": self.name, "family": self.family,
                "rate_hz": self.rate_hz}
