"""``imuback scan``, ``imuback record`` and ``imuback recover``: parse, call one function, print."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import Any

from imuback.cli import paths
from imuback.cli.mounting import RECOMMENDED_MOUNTING as RECOMMENDED_MOUNTING
from imuback.cli.numbers import positive_float
from imuback.collect.assemble import CollectReport
from imuback.collect.families import FAMILY_NAMES, all_families, family_by_name
from imuback.collect.recorder import Backends, RecordParams, Target, default_session_id, record, recover_pending
from imuback.collect.sensor import StreamSettings
from imuback.collect.status import RecordStatus, minutes_seconds
from imuback.core import RawSession, check_id
from imuback.errors import BluetoothUnavailable, CollectError
from imuback.formats.identity import parse_mounting
from imuback.formats.zone import FORGET


def register(subparsers: Any) -> None:
    """Add ``scan``, ``record`` and ``recover`` to the ``imuback`` command."""
    p = subparsers.add_parser(
        "scan", help="list nearby imuback and Polar sensors",
        description="Scan for BLE sensors imuback can record (imuback firmware, Polar Verity Sense).")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to scan (default 5)")
    p.add_argument("--all", action="store_true", help="list every advertising device, not only sensors")
    _add_link_args(p)
    p.set_defaults(func=cmd_scan)

    p = subparsers.add_parser(
        "record", help="record a session from a BLE sensor into a raw Parquet file",
        description="Record acc+gyro from one sensor until Ctrl-C or --stop-after. Everything received "
                    "is journaled within a second; reconnects automatically; writes "
                    "<out>/<session>.parquet on stop. Only the given device is ever connected.")
    p.add_argument("--sensor", choices=FAMILY_NAMES, default="imuback", help="sensor family")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--address", help="the sensor's BLE address (from `imuback scan`)")
    who.add_argument("--name", help="the sensor's exact advertised name")
    p.add_argument("--rate", type=float, default=None,
                   help="sample rate in Hz (imuback 52-1600: the sensor streams at the nearest rate it supports, "
                        "52, 104, 208, 416, 833 or 1666; Polar 26-416; default: the sensor's); another is refused")
    p.add_argument("--mounting", default=None,
                   help="nominal mounting R (v_body = R @ v_sensor) as JSON 3x3, or 'recommended' for the "
                        "imuback sensor worn as in firmware_notes/mounting.md (the default for --sensor "
                        "imuback; for the others not known: the file says so, and 'imuback process "
                        "--mounting' may give it later), or 'unknown': not known. With --simulate the "
                        "simulated sensor is strapped on so (its samples in that sensor's frame); "
                        "without it, as the simulator's identity")
    p.add_argument("--acc-range", type=int, default=16, help="accelerometer range in g (default 16)")
    p.add_argument("--gyr-range", type=int, default=2000, help="gyroscope range in deg/s (default 2000)")
    p.add_argument("--stop-after", type=positive_float, default=None, metavar="MIN",
                   help="stop recording a real sensor after MIN minutes (default: Ctrl-C)")
    p.add_argument("--out", required=True, type=paths.out_folder, help="output folder")
    p.add_argument("--runner", metavar="ID",
                   help="runner id, written into the file; needed for a real sensor (never defaulted: a run "
                        "filed under a wrong runner is refused later unless moved); with --simulate: 'runner'")
    p.add_argument("--session", default=None, help="session id (default <runner>-<UTC time>, with --simulate too: "
                                                     "the seed gives the same samples, not the name)")
    p.add_argument("--simulate", action="store_true",
                   help="record a simulated sensor over a virtual BLE link (no hardware)")
    p.add_argument("--speedup", type=positive_float, default=20.0,
                   help="with --simulate: stream this many times faster than real time (default 20)")
    p.add_argument("--seed", type=int, default=7, help="with --simulate: random seed")
    p.add_argument("--minutes", type=float, default=None,
                   help="with --simulate: minutes of running of the simulated runner, as in "
                        "'imuback simulate' and 'imuback demo' (default: 2)")
    p.add_argument("--quiet", action="store_true", help="no live status line")
    p.add_argument("--time-zone", metavar="ZONE",
                   help="where the run is recorded (Europe/Madrid, UTC, +01:00); default: this computer's "
                        "zone. Its offset at the start is written to the file (imuback.utc_offset_min), so "
                        "the reports put the run on the runner's own day")
    _add_link_args(p, simulate=False)
    p.set_defaults(func=cmd_record)

    p = subparsers.add_parser(
        "recover", help="turn the journal of a crashed recording into a raw Parquet file",
        description="Rebuild <session>.parquet from an imuback journal left by a killed recorder.")
    p.add_argument("journal", nargs="+", help="journal files (*.journal)")
    p.add_argument("--out", default=None, type=paths.out_folder, help="output folder (default: next to the journal)")
    p.add_argument("--keep", action="store_true", help="keep the journal after writing the file")
    p.add_argument("--new-session", action="store_true",
                   help="when <out>/<session>.parquet holds another recording (it is never replaced), write "
                        "this one as session <session>-recovered (-recovered-2, ...) instead of refusing")
    p.set_defaults(func=cmd_recover)


def _add_link_args(p: argparse.ArgumentParser, *, simulate: bool = True) -> None:
    p.add_argument("--hci", default=None, metavar="TRANSPORT",
                   help="use the bumble host stack on this HCI transport instead of the OS Bluetooth "
                        "(e.g. tcp-client:127.0.0.1:9000 for a simulated sensor, usb:0 for a dongle)")
    if simulate:
        p.add_argument("--simulate", action="store_true",
                       help="scan a simulated sensor on a virtual BLE link (demo mode)")


def _sim_raw(minutes: float, rate_hz: float | None, seed: int, runner: str, session: str) -> RawSession:
    """The run the simulated sensor streams: the runner simulator (a short warm-up walk, then
    ``minutes`` of running; the samples are the seed's, the same for the same seed), at ``rate_hz``
    (default 208 Hz).
    """
    from imuback.simulate.runner import RunnerParams, simulate_session

    params = RunnerParams(run_minutes=minutes, stand_start_s=5.0, stand_end_s=5.0, walk_start_s=20.0,
                          walk_end_s=20.0, sample_rate_hz=rate_hz or 208.0)
    return simulate_session(params, seed=seed, session_id=session, runner_id=runner, start_time=time.time_ns()).raw


def _rate(rate_hz: float | None, sensor: str) -> float | None:
    """The rate asked for, checked against the family's range before recording (one line if outside);
    for the imuback sensor the rate it streams at, the nearest it supports (protocol.md), as a real one picks.
    """
    from imuback.collect import imuback_protocol, polar_pmd

    if rate_hz is None:
        return None
    low, high = imuback_protocol.RATE_RANGE_HZ if sensor == "imuback" else polar_pmd.RATE_RANGE_HZ
    if not low <= rate_hz <= high:
        raise CollectError(f"--rate {rate_hz:g}: the {sensor} sensor streams at {low:g}-{high:g} Hz; give a rate "
                           "in that range")
    return imuback_protocol.picked_rate_hz(rate_hz) if sensor == "imuback" else rate_hz


def cmd_scan(args: argparse.Namespace) -> int:
    """``imuback scan``."""
    return asyncio.run(_scan(args))


async def _scan(args: argparse.Namespace) -> int:
    from bleak import BleakScanner
    from bleak.exc import BleakError

    from imuback.collect.bumble_backend import BumbleCentral

    kw: dict[str, Any] = {}
    sim = None
    central = None
    if args.simulate:
        from bumble.link import LocalLink

        from imuback.simulate.peripheral import SimulatedSensor
        from imuback.simulate.peripheral_data import synthetic_raw

        link = LocalLink()  # type: ignore[no-untyped-call]
        sim = SimulatedSensor(synthetic_raw(minutes=0.1), link=link)
        await sim.start()
        central = BumbleCentral.on_link(link)
    elif args.hci:
        central = await BumbleCentral.open(args.hci)
    if central is not None:
        await central.power_on()
        kw["backend"] = central.scanner_backend
    try:
        found = await BleakScanner.discover(timeout=args.timeout, return_adv=True, **kw)
    except (BleakError, OSError) as exc:
        raise BluetoothUnavailable(
            f"no Bluetooth to scan with ({type(exc).__name__}: {exc}). Is a Bluetooth adapter present "
            "and the Bluetooth service running (Linux: `systemctl start bluetooth`)? A USB dongle can "
            "be used with --hci usb:0; `imuback scan --simulate` shows a simulated sensor") from exc
    finally:
        if sim is not None:
            await sim.close()
        if central is not None:
            await central.close()
    families = all_families()
    rows = []
    for device, adv in found.values():
        fam = next((f.name for f in families if f.advertises(adv.local_name, adv.service_uuids)), None)
        if fam is None and not args.all:
            continue
        rows.append((fam or "-", device.address, adv.local_name or device.name or "", adv.rssi))
    if not rows:
        print("no imuback or Polar sensor found (is it on, near, and not connected elsewhere?)")
        return 1
    print(f"{'family':8s} {'address':20s} {'rssi':>5s}  name")
    for fam, addr, name, rssi in sorted(rows):
        print(f"{fam:8s} {addr:20s} {rssi:5d}  {name}")
    return 0


class _StatusPrinter:
    """The live status: one line rewritten in place on a terminal; otherwise (a log file, a pipe)
    plain lines, one every ``plain_every_s`` seconds of recording and the final one.
    """

    def __init__(self, *, plain_every_s: float = 30.0) -> None:
        self.tty = sys.stderr.isatty()
        self.plain_every_s = plain_every_s
        self._next = 0.0
        self.wrote = False

    def __call__(self, st: RecordStatus) -> None:
        if self.tty:
            sys.stderr.write("\r" + st.line() + " " * 4)
        elif st.stopped or st.elapsed_s >= self._next:
            sys.stderr.write(st.line() + "\n")
            self._next = st.elapsed_s + self.plain_every_s
        else:
            return
        sys.stderr.flush()
        self.wrote = True

    def end(self) -> None:
        if self.tty and self.wrote:
            sys.stderr.write("\n")


def _stop_on_signals() -> asyncio.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM: the recording then ends cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    return stop


def cmd_record(args: argparse.Namespace) -> int:
    """``imuback record``."""
    out = Path(args.out)
    if args.minutes is not None and not args.simulate:
        raise CollectError("--minutes is the simulated runner's minutes of running (with --simulate); "
                           f"to stop recording a real sensor after {args.minutes:g} minutes give "
                           f"--stop-after {args.minutes:g}")
    if args.stop_after is not None and args.simulate:
        raise CollectError("--stop-after stops a real sensor's recording; with --simulate give the "
                           "simulated run's length as --minutes")
    if args.runner is None and not args.simulate:
        raise CollectError("record needs --runner ID: whose run it is, written into the file (a real "
                           "sensor's recording is never filed under a default runner)")
    if args.time_zone is not None:  # a bad zone is refused before recording, not after
        from imuback.formats.zone import parse_zone

        parse_zone(args.time_zone, src="imuback record")
    mounting = _mounting(args.mounting, args.sensor)  # a bad mounting too
    rate_hz = _rate(args.rate, args.sensor)  # and a rate the sensor does not stream at
    runner = args.runner or "runner"
    session = args.session or default_session_id(runner)  # <runner>-<UTC time>, as for a real sensor
    check_id(runner, what="--runner", source="imuback record")
    check_id(session, what="--session", source="imuback record")
    if (out / f"{session}.parquet").exists():  # before recovering journals or recording anything
        raise CollectError(f"{out / f'{session}.parquet'} already exists; choose another --session")
    pending = recover_pending(out)
    for path, report in zip(pending.recovered, pending.reports, strict=True):
        print("recovered an interrupted recording: " + recovered_text(path, report))
    for journal, why in pending.failed:
        print(f"could not recover {journal} ({why}); it is left in place: "
              f"try `imuback recover {journal}`", file=sys.stderr)
    printer = None if args.quiet else _StatusPrinter()
    settings = StreamSettings(rate_hz=rate_hz, acc_range_g=args.acc_range, gyr_range_dps=args.gyr_range)
    if args.simulate:
        raw = _sim_raw(args.minutes or 2.0, rate_hz, args.seed, runner, session)
        if args.mounting is not None:  # the simulated sensor strapped on as given (else: the simulator's own)
            from imuback.simulate.sensor import strapped_on

            raw = strapped_on(raw, mounting)
        result = asyncio.run(_record_simulated(args, raw, settings, printer))
    else:
        if not (args.address or args.name):
            raise CollectError("record needs --address ADDR (or --name NAME); run `imuback scan` first, "
                               "or use --simulate")
        result = asyncio.run(_record_real(args, session, settings, printer))
    if printer is not None:
        printer.end()
    from imuback.formats.zone import stamp_recorded_zone

    stamp_recorded_zone(result.path, args.time_zone)  # where it was recorded: the reports' local days
    r = result.report
    print(f"{result.path}: {length_text(r)} recorded from {result.address} "
          f"({r.n_samples} samples); {losses_text(r)}, {r.reconnects} reconnects")
    return 0


def length_text(r: CollectReport) -> str:
    """The recording's length, ``1 min 51 s`` (the status line's last clock says the same)."""
    minutes, seconds = minutes_seconds(r.duration_s)
    return f"{minutes:d} min {seconds:02d} s"


def recovered_text(path: Path, r: CollectReport) -> str:
    """What a recovery wrote (or found written), in lines: length, samples, every loss, where it went,
    and that a recovered file has no time zone (the journal does not say where it was recorded).
    """
    what = ("already recovered (the file holds exactly this journal's recording; nothing written)"
            if r.already_there else "recovered")
    lines = [f"{path}: {length_text(r)} ({r.n_samples} samples) {what}; {losses_text(r)}"
             + (f", {r.torn_bytes} bytes of a torn last block dropped" if r.torn_bytes else "")
             + (f"; CORRUPTED: {r.corrupt_bytes} bytes failed their checksum and were skipped, "
                f"the journal is kept as {r.kept_journal}" if r.kept_journal else "")]
    if r.in_place_of is not None:
        lines.append(f"{r.in_place_of} holds another recording, kept as it is: this journal's is session "
                     f"{path.stem} ({path.name})")
    lines.append(f"{path} has no time zone (a journal does not say where it was recorded): the reports show "
                 "it in UTC unless `imuback process` is given --time-zone ZONE (e.g. Europe/Madrid)")
    return "\n".join(lines)


def losses_text(r: CollectReport) -> str:
    """Every sample missing by its reason, every frame rejected or kept out of order, in words."""
    by = "; ".join(f"{n} {why}" for why, n in sorted(r.lost_by_reason.items(), key=lambda kv: -kv[1]))
    parts = [f"{r.samples_lost} samples missing in {r.n_gaps} gaps" + (f" ({by})" if by else ""),
             f"{r.bad_frames - r.resent_frames} damaged packets"]
    if r.resent_frames:
        parts.append(f"{r.resent_frames} re-sent packets dropped (their samples already kept)")
    if r.late_frames:
        parts.append(f"{r.late_frames} packets arrived out of order (kept in their place)")
    if r.rows_dropped:
        parts.append(f"{r.rows_dropped} rows dropped whose time did not increase")
    if r.corrupt_bytes:
        parts.append(f"{r.corrupt_bytes} journal bytes failed their checksum (their samples are in the gaps)")
    return ", ".join(parts)


async def _record_simulated(args: argparse.Namespace, raw: RawSession, settings: StreamSettings,
                            status: Any) -> Any:
    from imuback.simulated_recording import record_simulated_async

    rec = await record_simulated_async(raw, Path(args.out), speedup=args.speedup, sensor=args.sensor,
                                       rate_hz=settings.rate_hz, params=RecordParams(settings=settings),
                                       status=status, stop=_stop_on_signals())
    return rec.result


async def _record_real(args: argparse.Namespace, session: str, settings: StreamSettings, status: Any) -> Any:
    from imuback.collect.bumble_backend import BumbleCentral

    backends = Backends()
    central = None
    if args.hci:
        central = await BumbleCentral.open(args.hci)
        await central.power_on()
        backends = Backends(scanner=central.scanner_backend, client=central.client_backend)
    stop = _stop_on_signals()
    try:
        return await record(family=family_by_name(args.sensor),
                            target=Target(address=args.address, name=args.name), out_dir=Path(args.out),
                            runner_id=args.runner, session_id=session,
                            mounting=_mounting(args.mounting, args.sensor),
                            params=RecordParams(settings=settings, minutes=args.stop_after),
                            backends=backends, stop=stop, status=status)
    finally:
        if central is not None:
            await central.close()


def _mounting(spec: str | None, sensor: str) -> list[list[float]] | None:
    """The nominal mounting written to the raw file (the pipeline then finds the real one); None:
    not known (a Polar sensor worn at the back without --mounting, or ``unknown``), which the file says.
    """
    if spec is None:
        if sensor != "imuback":
            return None
        spec = "recommended"
    if spec == FORGET:
        return None
    try:
        return parse_mounting(spec)
    except ValueError as exc:
        raise CollectError(f"--mounting: {exc}; or {FORGET!r} when it is not known") from None


def cmd_recover(args: argparse.Namespace) -> int:
    """``imuback recover``."""
    from imuback.collect.assemble import finalize_journal

    for j in args.journal:
        path, r = finalize_journal(j, out_dir=args.out, remove_journal=not args.keep, new_session=args.new_session)
        print(recovered_text(path, r))
    return 0
