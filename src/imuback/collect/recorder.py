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
import os
import socket
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
from imuback.collect.events import (
    ConnectFailed,
    Disconnected,
    GaveUp,
    JournalEvent,
    NotFound,
    Starting,
    Stopped,
    StreamStarted,
)
from imuback.collect.journal import SUFFIX, JournalWriter
from imuback.collect.sensor import SensorFamily, StreamInfo, StreamSettings
from imuback.collect.status import LiveStats, RecordStatus, minutes_seconds
from imuback.core import check_id
from imuback.errors import BluetoothUnavailable, CollectError, ImubackError, JournalBusy, JournalWriteError

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
    reports: tuple[CollectReport, ...] = ()
    """What went into each recovered file, in the order of ``recovered``."""
    failed: tuple[tuple[Path, str], ...] = ()
    """(journal, why) for each journal left in place; ``imuback recover`` says more."""


def recover_pending(out_dir: Path, *, skip: Path | None = None) -> PendingRecovery:
    """Turn every journal left in ``out_dir`` by a crashed recorder into a raw file.

    Journals that a running recorder still holds (its ``flock``) are left alone. A journal that
    cannot be recovered is left in place and listed in ``failed``: recovering an old journal
    never blocks a new recording, whatever went wrong with it. A journal whose session's file
    holds another recording is written as a new session (``<session>-recovered``,
    ``CollectReport.in_place_of``): neither recording is lost.
    """
    done: list[Path] = []
    reports: list[CollectReport] = []
    failed: list[tuple[Path, str]] = []
    for j in sorted(Path(out_dir).glob(f"*{SUFFIX}")):
        if skip is not None and j.resolve() == skip.resolve():
            continue
        try:
            path, report = finalize_journal(j, new_session=True)  # takes the lock; JournalBusy if a recorder holds it
        except JournalBusy:
            continue
        except Exception as exc:  # any failure: one bad old journal must not stop a new recording
            _log.warning("%s: not recovered (%s: %s)", j, type(exc).__name__, exc)
            failed.append((j, f"{type(exc).__name__}: {exc}" if not isinstance(exc, ImubackError) else str(exc)))
            continue
        done.append(path)
        reports.append(report)
    return PendingRecovery(recovered=tuple(done), reports=tuple(reports), failed=tuple(failed))


class _Recording:
    """One :func:`record` call; each step of a recording is one method.

    Frames go: notification callback -> ``queue`` -> :meth:`drain` (journal + live counts), every
    ``flush_interval_s`` from :meth:`write_loop`. A failed journal write (disk full, folder gone
    or read-only) stops the recording at once: nothing is received that cannot be kept.
    """

    def __init__(self, *, family: SensorFamily, target: Target, journal: JournalWriter,
                 params: RecordParams, backends: Backends, stop: asyncio.Event) -> None:
        self.family, self.target, self.journal = family, target, journal
        self.params, self.backends, self.stop = params, backends, stop
        self.queue: deque[tuple[int, bytes]] = deque()
        self.live = LiveStats()
        self.t_start = time.monotonic()
        self.disconnected = asyncio.Event()
        self.address = target.address or ""
        self.pinned = target.address
        self.started = False
        self.backoff = params.backoff_first_s
        self.last_connected = time.monotonic()
        self.write_error: OSError | None = None
        self.samples_on_disk = 0
        self.no_bluetooth: Exception | None = None
        m = params.minutes
        self.deadline_s = None if m is None else m * 60.0 / params.clock_speedup

    # --- the journal --------------------------------------------------------------------------
    def on_notify(self, _: BleakGATTCharacteristic, data: bytearray) -> None:
        """Notification callback: timestamp and enqueue only."""
        self.queue.append((time.monotonic_ns(), bytes(data)))

    def _write(self, action: Callable[[], None]) -> None:
        """Run a journal write; the first failure stops the recording."""
        if self.write_error is not None:
            return
        try:
            action()
        except OSError as exc:
            self.write_error = exc
            self.stop.set()

    def drain(self) -> None:
        """Everything queued -> the journal (one block) and the live counts."""
        n = len(self.queue)
        if n == 0 or self.write_error is not None:
            return
        items = [self.queue.popleft() for _ in range(n)]
        host = [h for h, _ in items]
        frames = [f for _, f in items]
        self._write(lambda: self.journal.append_frames(host, frames))
        if self.write_error is None:
            self.live.feed(host, frames)

    def event(self, ev: JournalEvent) -> None:
        """Journal one connection event."""
        self._write(lambda: self.journal.append_event(ev))

    async def write_loop(self) -> None:
        """Drain, fsync at least every ``fsync_interval_s``, and check the journal is still there."""
        last_sync = time.monotonic()
        while self.write_error is None:
            await asyncio.sleep(self.params.flush_interval_s)
            self.drain()
            now = time.monotonic()
            if now - last_sync >= self.params.fsync_interval_s:
                self.sync()
                self._write(self.journal.check_on_disk)
                last_sync = now

    def sync(self) -> None:
        """Flush and fsync the journal; what was fed before is then on disk."""
        samples = self.live.status.samples
        self._write(self.journal.flush)
        if self.write_error is None:
            self.samples_on_disk = samples

    async def status_loop(self, status: Callable[[RecordStatus], None]) -> None:
        """Call ``status`` every ``status_interval_s``."""
        while True:
            await asyncio.sleep(self.params.status_interval_s)
            status(self.tick())

    def tick(self) -> RecordStatus:
        """The live status now; its clock is the recording's: sensor seconds since the first sample."""
        now_ns = time.monotonic_ns()
        first = self.live.first_host_ns
        elapsed_s = 0.0 if first is None else max(0, now_ns - first) / 1e9 * self.params.clock_speedup
        return self.live.tick(now_ns / 1e9, elapsed_s)

    # --- the link -----------------------------------------------------------------------------
    def time_up(self) -> bool:
        """``params.minutes`` of sensor time have passed."""
        return self.deadline_s is not None and time.monotonic() - self.t_start >= self.deadline_s

    def given_up(self) -> bool:
        """No connection for longer than ``params.give_up_after_s``."""
        g = self.params.give_up_after_s
        return g is not None and time.monotonic() - self.last_connected > g

    async def wait_backoff(self) -> None:
        """Wait the back-off (or until stopped), then double it up to the maximum."""
        await _wait_any(self.stop, timeout=self.backoff)
        self.backoff = min(self.backoff * 2, self.params.backoff_max_s)

    async def find(self) -> BLEDevice | None:
        """Scan for the target (once streaming: the address that streamed, never a namesake).

        With no Bluetooth at all (no adapter, no service) before the first stream this sets
        ``no_bluetooth`` and stops; later (an adapter unplugged) it is a failed attempt.
        """
        kw: dict[str, Any] = {}
        if self.backends.scanner is not None:
            kw["backend"] = self.backends.scanner
        pinned = self.pinned
        match = self.target.matches if not pinned else (lambda d, _a: d.address.lower() == pinned.lower())
        try:
            return await BleakScanner.find_device_by_filter(match, timeout=self.params.scan_timeout_s, **kw)
        except (BleakError, OSError) as exc:
            if not self.started:
                self.no_bluetooth = exc
                self.stop.set()
            else:
                self.event(ConnectFailed(host_ns=time.monotonic_ns(), error=f"scan failed: {exc}"))
            return None

    async def connect(self, device: BLEDevice) -> tuple[BleakClient, StreamInfo] | None:
        """Connect, subscribe and start the stream; None (journaled) if any step fails."""
        self.address = device.address
        self.disconnected.clear()
        kw: dict[str, Any] = {"timeout": self.params.connect_timeout_s}
        if self.backends.client is not None:
            kw["backend"] = self.backends.client
        client = BleakClient(device, disconnected_callback=lambda _c: self.disconnected.set(), **kw)
        self.drain()  # what came before belongs to the previous connection
        self.event(Starting(host_ns=time.monotonic_ns(), address=self.address))
        try:
            await client.connect()
            await client.start_notify(self.family.data_uuid, self.on_notify)
            info = await self.family.start(client, settings=self.params.settings, resume=self.started)
        except (TimeoutError, BleakError, ImubackError, KeyError, OSError) as exc:
            self.event(ConnectFailed(host_ns=time.monotonic_ns(), error=str(exc)))
            with contextlib.suppress(BleakError, asyncio.TimeoutError, OSError):
                await client.disconnect()
            return None
        return client, info

    def streaming(self, client: BleakClient, info: StreamInfo) -> None:
        """The stream runs: journal its settings (frames since START decode with them)."""
        if self.started:
            self.live.status.reconnects += 1
        self.started, self.pinned = True, self.address
        self.backoff = self.params.backoff_first_s
        stream_ns = time.monotonic_ns()
        self.event(StreamStarted(host_ns=stream_ns, address=self.address, mtu=client.mtu_size, info=info))
        self.sync()
        self.live.set_stream(self.family, info, self.params.clock_speedup, stream_ns)
        self.live.status.connected = True

    async def hold(self, client: BleakClient) -> None:
        """Until the link drops, the recording is stopped or the time is up; battery now and then."""
        next_battery = 0.0
        while client.is_connected and not self.stop.is_set() and not self.disconnected.is_set():
            if time.monotonic() >= next_battery:
                with contextlib.suppress(BleakError, ImubackError, asyncio.TimeoutError):
                    self.live.status.battery_pct = await self.family.battery_pct(client)
                next_battery = time.monotonic() + self.params.battery_interval_s
            left = None if self.deadline_s is None else self.deadline_s - (time.monotonic() - self.t_start)
            if left is not None and left <= 0:
                self.stop.set()
                break
            await _wait_any(self.stop, self.disconnected, timeout=min(left or 1.0, 1.0))
        self.live.status.connected = False
        self.last_connected = time.monotonic()

    async def release(self, client: BleakClient) -> None:
        """Stop the stream and disconnect (best effort, bounded)."""
        with contextlib.suppress(BleakError, ImubackError, asyncio.TimeoutError, OSError):
            await asyncio.wait_for(self.family.stop(client), timeout=2.0)
        with contextlib.suppress(BleakError, asyncio.TimeoutError, OSError):
            await asyncio.wait_for(client.disconnect(), timeout=2.0)

    async def run(self) -> None:
        """Find, connect, stream, reconnect, until stopped, time up or given up."""
        while not self.stop.is_set() and not self.time_up():
            if self.given_up():
                self.event(GaveUp(host_ns=time.monotonic_ns()))
                break
            device = await self.find()
            if device is None:
                if not self.stop.is_set():
                    self.event(NotFound(host_ns=time.monotonic_ns()))
                    await self.wait_backoff()
                continue
            link = await self.connect(device)
            if link is None:
                await self.wait_backoff()
                continue
            client, info = link
            self.streaming(client, info)
            await self.hold(client)
            if self.disconnected.is_set() and not self.stop.is_set():
                self.drain()
                self.event(Disconnected(host_ns=time.monotonic_ns()))
                await _wait_any(self.stop, timeout=self.backoff)
                continue
            await self.release(client)

    def close_journal(self) -> None:
        """Last frames, the stop event, fsync (all skipped once a write has failed)."""
        self.drain()
        self.event(Stopped(host_ns=time.monotonic_ns()))
        self.sync()

    def failure(self) -> CollectError | None:
        """Why the recording cannot be finalized, in words (None: it can)."""
        path = self.journal.path
        if self.write_error is not None:
            st = self.tick()
            m, s = minutes_seconds(st.elapsed_s)
            why = self.write_error.strerror or str(self.write_error)
            if not self.started:  # nothing streamed yet: the journal holds no samples and is removed
                return JournalWriteError(
                    f"recording stopped before the sensor streamed: writing the journal {path} failed "
                    f"({why}); nothing was recorded. Free some space or fix the folder, then record again")
            return JournalWriteError(
                f"recording stopped: writing the journal {path} failed ({why}) after {m:02d}:{s:02d}; "
                f"at least {self.samples_on_disk} samples had reached the disk and are in {path}. "
                f"Free some space or fix the folder, then run `imuback recover {path}`")
        if self.no_bluetooth is not None:
            return BluetoothUnavailable(
                f"no Bluetooth to record with ({type(self.no_bluetooth).__name__}: {self.no_bluetooth}). "
                "Is a Bluetooth adapter present and the Bluetooth service running (Linux: "
                "`systemctl start bluetooth`)? A USB dongle can be used with --hci usb:0; "
                "`--simulate` records a simulated sensor without any hardware")
        if not self.started:
            return CollectError(f"sensor {self.target} was not found or could not be started; is it "
                                "switched on and in range? (`imuback scan` lists what advertises)")
        return None


async def _wait_any(*events: asyncio.Event, timeout: float | None) -> None:
    tasks = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


def _open_journal(out_dir: Path, session_id: str, header: dict[str, Any]) -> JournalWriter:
    """The journal ``<out_dir>/<session_id>.journal``, or a clear error if the folder is unusable."""
    if (out_dir / f"{session_id}.parquet").exists():
        raise CollectError(f"{out_dir / f'{session_id}.parquet'} already exists; choose another session id")
    try:
        return JournalWriter(out_dir / f"{session_id}{SUFFIX}", header)
    except OSError as exc:
        raise CollectError(f"cannot write the journal into {out_dir} ({exc.strerror or exc}); "
                           "choose a writable --out folder with free space") from exc


async def record(*, family: SensorFamily, target: Target, out_dir: Path,
                 runner_id: str = "runner", session_id: str | None = None,
                 mounting: list[list[float]] | None = None, sensor_label: str | None = None,
                 params: RecordParams = RecordParams(), backends: Backends = Backends(),
                 stop: asyncio.Event | None = None,
                 status: Callable[[RecordStatus], None] | None = None) -> RecordResult:
    """Record one session from ``target`` into ``out_dir/<session_id>.parquet``.

    Returns when ``stop`` is set, ``params.minutes`` of sensor time have passed, or the sensor
    cannot be reconnected within ``params.give_up_after_s``. Raises :class:`BluetoothUnavailable`
    (no journal is left), :class:`CollectError` if the sensor is never found or started, and
    :class:`JournalWriteError` (the journal is kept for ``imuback recover``) if the journal cannot
    be written.
    """
    check_id(runner_id, what="runner_id", source="record")
    session_id = session_id or default_session_id(runner_id)
    check_id(session_id, what="session_id", source="record")
    out_dir = Path(out_dir)
    header: dict[str, Any] = {
        "format": 1, "session_id": session_id, "runner_id": runner_id, "family": family.name,
        "sensor_label": sensor_label or family.name, "target": str(target),
        "mounting": mounting if mounting is not None else np.eye(3).tolist(),
        "mounting_assumed": mounting is None,  # nobody said how it is worn: the identity, a placeholder
        "utc_ns": time.time_ns(), "mono_ns": time.monotonic_ns(),
        "pid": os.getpid(), "host": socket.gethostname(),  # who records it (a second recorder says so)
        "clock_speedup": params.clock_speedup, "max_clock_drift": params.max_clock_drift,
        "settings": {"rate_hz": params.settings.rate_hz, "acc_range_g": params.settings.acc_range_g,
                     "gyr_range_dps": params.settings.gyr_range_dps, "gyro": params.settings.gyro},
    }
    journal = _open_journal(out_dir, session_id, header)
    rec = _Recording(family=family, target=target, journal=journal, params=params, backends=backends,
                     stop=stop or asyncio.Event())
    tasks = [asyncio.ensure_future(rec.write_loop())]
    if status is not None:
        tasks.append(asyncio.ensure_future(rec.status_loop(status)))
    try:
        await rec.run()
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        rec.close_journal()
    return _finish(rec, status)


def _finish(rec: _Recording, status: Callable[[RecordStatus], None] | None) -> RecordResult:
    """The journal -> the raw file, or the reason it cannot be; the journal's lock is held throughout."""
    path = rec.journal.path
    try:
        failure = rec.failure()
        if failure is not None:
            if not rec.started:
                path.unlink(missing_ok=True)  # holds no samples: leave nothing behind
            raise failure
        try:
            out, report = finalize_journal(path, lock=False)
        except OSError as exc:
            raise JournalWriteError(f"could not write the raw file next to {path} ({exc.strerror or exc}); "
                                    f"every sample is kept in {path}: run `imuback recover {path}` "
                                    "once the folder is writable and has space") from exc
    finally:
        with contextlib.suppress(OSError):
            rec.journal.close()
    rec.live.status.stopped = True
    if status is not None:  # the last line's clock: the length of the file, as the summary says
        status(replace(rec.tick(), elapsed_s=report.duration_s))
    return RecordResult(path=out, report=report, address=rec.address)
