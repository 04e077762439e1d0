"""The recorder: find the chosen sensor, stream it, journal everything, reconnect, finalize.

Only bleak's public API is used (``BleakScanner``, ``BleakClient``), so the same code records a
real sensor through the OS Bluetooth stack or a simulated one through the bumble backend.

- The notification callback only timestamps and enqueues the bytes (``deque.append``).
- A writer task drains the queue every ``flush_interval_s`` into the journal and fsyncs it at
  least every ``fsync_interval_s`` (default 0.5 s): a ``kill -9`` loses at most the last second.
- On an unsolicited disconnect the recorder reconnects with exponential back-off to the same
  device only (the address that streamed, also when the target was a name; never the first
  thing that advertises) and resumes the stream;
  the sensor's sample counter makes the outage a gap in the log.
- On stop (Ctrl-C, time up, or ``stop`` event) the journal becomes the raw Parquet file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from imuback.collect.assemble import CollectReport, finalize_journal
from imuback.collect.journal import SUFFIX, JournalBusy, JournalWriter
from imuback.collect.sensor import FrameBatch, FrameDecoder, SensorFamily, StreamInfo, StreamSettings
from imuback.errors import CollectError, ImubackError
from imuback.store.raw import check_id

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The one device to record: by address (preferred) or by advertised name."""

    address: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.address and not self.name:
            raise CollectError("record needs the sensor's --address (or its exact --name); "
                               "run `imuback scan` to list nearby sensors")

    def matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        """True for the chosen device only."""
        if self.address:
            return device.address.lower() == self.address.lower()
        return adv.local_name == self.name or device.name == self.name

    def __str__(self) -> str:
        return self.address or f"name={self.name!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Backends:
    """bleak backends to use instead of the OS one (the bumble backend in tests and the demo)."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordParams:
    """How to record. Times are wall-clock seconds unless they say ``sensor``.

    Attributes
    ----------
    settings : what to ask the sensor for (rate, ranges, gyro).
    minutes : stop after this many minutes of sensor time (None: until stopped).
    flush_interval_s : how often the queue is written to the journal.
    fsync_interval_s : how often the journal is fsynced (must stay below 1 s).
    scan_timeout_s, connect_timeout_s : per attempt.
    backoff_first_s, backoff_max_s : reconnect back-off: first wait, doubling up to the max.
    give_up_after_s : stop trying to reconnect after this long without a connection (None: never).
    clock_speedup : a simulated sensor streams this many times faster than real time.
    max_clock_drift : largest believable sensor clock rate error (imuback IMUs: a few %).
    status_interval_s : how often ``status`` is called.
    battery_interval_s : how often the battery is read while streaming.
    """

    settings: StreamSettings = field(default_factory=StreamSettings)
    minutes: float | None = None
    flush_interval_s: float = 0.2
    fsync_interval_s: float = 0.5
    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    backoff_first_s: float = 0.5
    backoff_max_s: float = 10.0
    give_up_after_s: float | None = None
    clock_speedup: float = 1.0
    max_clock_drift: float = 0.05
    status_interval_s: float = 1.0
    battery_interval_s: float = 30.0


@dataclass(slots=True, kw_only=True)
class RecordStatus:
    """Live numbers for the status line."""

    elapsed_s: float = 0.0
    samples: int = 0
    samples_per_s: float = 0.0
    packets: int = 0
    packets_lost: int = 0
    samples_lost: int = 0
    bad_frames: int = 0
    battery_pct: int | None = None
    connected: bool = False
    stopped: bool = False
    reconnects: int = 0

    def line(self) -> str:
        """One status line: samples/s, packets lost, battery, elapsed time."""
        m, s = divmod(int(self.elapsed_s), 60)
        batt = "?" if self.battery_pct is None else f"{self.battery_pct}%"
        state = "stopped" if self.stopped else "streaming" if self.connected else "connecting"
        return (f"{m:02d}:{s:02d}  {state:12s} {self.samples_per_s:7.0f} samples/s  "
                f"{self.samples} samples  packets lost {self.packets_lost} "
                f"({self.samples_lost} samples)  bad frames {self.bad_frames}  battery {batt}  "
                f"reconnects {self.reconnects}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordResult:
    """The raw file written and what went into it."""

    path: Path
    report: CollectReport
    address: str


def default_session_id(runner_id: str) -> str:
    """``<runner>-<UTC time>``, safe for file names."""
    return f"{runner_id}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRecovery:
    """What :func:`recover_pending` did: files written, and journals it could not turn into one."""

    recovered: tuple[Path, ...] = ()
    failed: tuple[tuple[Path, str], ...] = ()
    """(journal, why) for each journal left in place; ``imuback recover`` says more."""


def recover_pending(out_dir: Path, *, skip: Path | None = None) -> PendingRecovery:
    """Turn every journal left in ``out_dir`` by a crashed recorder into a raw file.

    Journals that a running recorder still holds (its ``flock``) are left alone. A journal that
    cannot be recovered is left in place and listed in ``failed``: recovering an old journal
    never blocks a new recording, whatever went wrong with it.
    """
    done: list[Path] = []
    failed: list[tuple[Path, str]] = []
    for j in sorted(Path(out_dir).glob(f"*{SUFFIX}")):
        if skip is not None and j.resolve() == skip.resolve():
            continue
        try:
            path, _ = finalize_journal(j)  # takes the lock; JournalBusy if a recorder holds it
        except JournalBusy:
            continue
        except Exception as exc:  # any failure: one bad old journal must not stop a new recording
            _log.warning("%s: not recovered (%s: %s)", j, type(exc).__name__, exc)
            failed.append((j, f"{type(exc).__name__}: {exc}" if not isinstance(exc, ImubackError) else str(exc)))
            continue
        done.append(path)
    return PendingRecovery(recovered=tuple(done), failed=tuple(failed))


class _LiveStats:
    """Decodes each drained batch (vectorised) only to count samples and losses for the status."""

    def __init__(self, t_start: float) -> None:
        self.decoder: FrameDecoder | None = None
        self.info: StreamInfo | None = None
        self.last_idx: int | None = None
        self.status = RecordStatus()
        self._window: deque[tuple[float, int]] = deque([(t_start, 0)])

    def set_stream(self, family: SensorFamily, info: StreamInfo, speedup: float, host_ns: int) -> None:
        if self.decoder is None or self.info is None or info.identity() != self.info.identity():
            self.decoder = family.decoder(info, clock_speedup=speedup)
        self.info = info
        self.decoder.stream_event(info, host_ns)

    def feed(self, host_ns: list[int], frames: list[bytes]) -> None:
        st = self.status
        st.packets += len(frames)
        if self.decoder is None or not frames:
            return
        out = self.decoder.decode(FrameBatch.from_frames(frames, host_ns))
        st.bad_frames += out.bad.n
        name = "imu" if "imu" in out.streams else "acc"
        idx = out.streams[name].sample_idx
        if idx.size:
            prev = self.last_idx if self.last_idx is not None else int(idx[0]) - 1
            d = np.diff(np.r_[prev, idx])
            lost = d[d > 1] - 1
            st.samples_lost += int(lost.sum())
            st.packets_lost += int(lost.size)
            self.last_idx = int(idx[-1])
            st.samples += int(idx.size)

    def tick(self, now: float, elapsed_s: float) -> RecordStatus:
        st = self.status
        st.elapsed_s = elapsed_s
        self._window.append((now, st.samples))
        while len(self._window) > 2 and now - self._window[0][0] > 3.0:
            self._window.popleft()
        t0, n0 = self._window[0]
        st.samples_per_s = (st.samples - n0) / (now - t0) if now > t0 else 0.0
        return st


async def record(*, family: SensorFamily, target: Target, out_dir: Path,
                 runner_id: str = "runner", session_id: str | None = None,
                 mounting: list[list[float]] | None = None, sensor_label: str | None = None,
                 params: RecordParams = RecordParams(), backends: Backends = Backends(),
                 stop: asyncio.Event | None = None,
                 status: Callable[[RecordStatus], None] | None = None) -> RecordResult:
    """Record one session from ``target`` into ``out_dir/<session_id>.parquet``.

    Returns when ``stop`` is set, ``params.minutes`` of sensor time have passed, or the sensor
    cannot be reconnected within ``params.give_up_after_s``. Raises :class:`CollectError` if the
    sensor is never found or no sample arrives.
    """
    check_id(runner_id, what="runner_id", source="record")
    session_id = session_id or default_session_id(runner_id)
    check_id(session_id, what="session_id", source="record")
    out_dir = Path(out_dir)
    journal_path = out_dir / f"{session_id}{SUFFIX}"
    if (out_dir / f"{session_id}.parquet").exists():
        raise CollectError(f"{out_dir / f'{session_id}.parquet'} already exists; choose another session id")
    header: dict[str, Any] = {
        "format": 1, "session_id": session_id, "runner_id": runner_id, "family": family.name,
        "sensor_label": sensor_label or family.name, "target": str(target),
        "mounting": mounting if mounting is not None else np.eye(3).tolist(),
        "utc_ns": time.time_ns(), "mono_ns": time.monotonic_ns(),
        "clock_speedup": params.clock_speedup, "max_clock_drift": params.max_clock_drift,
        "settings": {"rate_hz": params.settings.rate_hz, "acc_range_g": params.settings.acc_range_g,
                     "gyr_range_dps": params.settings.gyr_range_dps, "gyro": params.settings.gyro},
    }
    journal = JournalWriter(journal_path, header)
    queue: deque[tuple[int, bytes]] = deque()
    stop = stop or asyncio.Event()
    live = _LiveStats(time.monotonic())
    disconnected = asyncio.Event()
    address = target.address or ""
    pinned = target.address

    def on_notify(_: BleakGATTCharacteristic, data: bytearray) -> None:
        queue.append((time.monotonic_ns(), bytes(data)))

    def drain() -> None:
        n = len(queue)
        if n == 0:
            return
        items = [queue.popleft() for _ in range(n)]
        host = [h for h, _ in items]
        frames = [f for _, f in items]
        journal.append_frames(host, frames)
        live.feed(host, frames)

    async def writer() -> None:
        last_sync = time.monotonic()
        while True:
            await asyncio.sleep(params.flush_interval_s)
            drain()
            now = time.monotonic()
            if now - last_sync >= params.fsync_interval_s:
                journal.flush(fsync=True)
                last_sync = now

    t_start = time.monotonic()
    sensor_deadline_s = None if params.minutes is None else params.minutes * 60.0 / params.clock_speedup

    async def reporter() -> None:
        while True:
            await asyncio.sleep(params.status_interval_s)
            st = live.tick(time.monotonic(), (time.monotonic() - t_start) * params.clock_speedup)
            if status is not None:
                status(st)

    async def find() -> BLEDevice | None:
        kw: dict[str, Any] = {}
        if backends.scanner is not None:
            kw["backend"] = backends.scanner
        # once streaming, a name target is pinned to the address that streamed: a reconnect must
        # never pick up another sensor advertising the same name
        match = target.matches if not pinned else (lambda d, _a: d.address.lower() == pinned.lower())
        return await BleakScanner.find_device_by_filter(match, timeout=params.scan_timeout_s, **kw)

    async def wait_any(*events: asyncio.Event, timeout: float | None) -> None:
        tasks = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()

    writer_task = asyncio.ensure_future(writer())
    reporter_task = asyncio.ensure_future(reporter())
    started = False
    backoff = params.backoff_first_s
    last_connected = time.monotonic()
    try:
        while not stop.is_set():
            if sensor_deadline_s is not None and time.monotonic() - t_start >= sensor_deadline_s:
                break
            if (params.give_up_after_s is not None
                    and time.monotonic() - last_connected > params.give_up_after_s):
                journal.append_event({"type": "gave_up", "host_ns": time.monotonic_ns()})
                break
            device = await find()
            if device is None:
                journal.append_event({"type": "not_found", "host_ns": time.monotonic_ns()})
                await wait_any(stop, timeout=backoff)
                backoff = min(backoff * 2, params.backoff_max_s)
                continue
            address = device.address
            disconnected.clear()
            kw: dict[str, Any] = {"timeout": params.connect_timeout_s}
            if backends.client is not None:
                kw["backend"] = backends.client
            client = BleakClient(device, disconnected_callback=lambda _c: disconnected.set(), **kw)
            drain()  # what came before belongs to the previous connection
            journal.append_event({"type": "starting", "host_ns": time.monotonic_ns(), "address": address})
            try:
                await client.connect()
                await client.start_notify(family.data_uuid, on_notify)
                info = await family.start(client, settings=params.settings, resume=started)
            except (TimeoutError, BleakError, ImubackError, KeyError) as exc:
                journal.append_event({"type": "connect_failed", "host_ns": time.monotonic_ns(),
                                      "error": str(exc)})
                with contextlib.suppress(BleakError, asyncio.TimeoutError):
                    await client.disconnect()
                await wait_any(stop, timeout=backoff)
                backoff = min(backoff * 2, params.backoff_max_s)
                continue
            if started:
                live.status.reconnects += 1
            started, pinned = True, address
            backoff = params.backoff_first_s
            # frames that arrived since START are journaled before this event: assemble (and the
            # live decoder, fed from the next drain) decode them with this stream's settings
            stream_ns = time.monotonic_ns()
            journal.append_event({"type": "stream", "host_ns": stream_ns, "address": address,
                                  "mtu": client.mtu_size, "info": info.to_json()})
            journal.flush()
            live.set_stream(family, info, params.clock_speedup, stream_ns)
            live.status.connected = True
            next_battery = 0.0
            while client.is_connected and not stop.is_set() and not disconnected.is_set():
                if time.monotonic() >= next_battery:
                    with contextlib.suppress(BleakError, ImubackError, asyncio.TimeoutError):
                        live.status.battery_pct = await family.battery_pct(client)
                    next_battery = time.monotonic() + params.battery_interval_s
                left = None if sensor_deadline_s is None else sensor_deadline_s - (time.monotonic() - t_start)
                if left is not None and left <= 0:
                    stop.set()
                    break
                await wait_any(stop, disconnected, timeout=min(left or 1.0, 1.0))
            live.status.connected = False
            last_connected = time.monotonic()
            if disconnected.is_set() and not stop.is_set():
                drain()
                journal.append_event({"type": "disconnected", "host_ns": time.monotonic_ns()})
                await wait_any(stop, timeout=backoff)
                continue
            with contextlib.suppress(BleakError, ImubackError, asyncio.TimeoutError):
                await asyncio.wait_for(family.stop(client), timeout=2.0)
            with contextlib.suppress(BleakError, asyncio.TimeoutError):
                await asyncio.wait_for(client.disconnect(), timeout=2.0)
    finally:
        writer_task.cancel()
        reporter_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer_task
        with contextlib.suppress(asyncio.CancelledError):
            await reporter_task
        drain()
        journal.append_event({"type": "stopped", "host_ns": time.monotonic_ns()})
        journal.flush()
    try:  # still holding the journal's lock, so no other recorder's recovery can take it
        if not started:
            journal_path.unlink(missing_ok=True)  # holds no samples
            raise CollectError(f"sensor {target} was not found or could not be started; "
                               "is it switched on and in range? (`imuback scan` lists what advertises)")
        path, report = finalize_journal(journal_path, lock=False)
    finally:
        journal.close()
    live.status.stopped = True
    if status is not None:
        status(replace(live.tick(time.monotonic(), (time.monotonic() - t_start) * params.clock_speedup)))
    return RecordResult(path=path, report=report, address=address)
