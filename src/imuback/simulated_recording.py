"""Record a simulated sensor over a bumble virtual link with the real collector.

The wiring of ``simulate`` (the peripheral) into ``collect`` (the recorder) lives here, above
both: ``collect`` knows nothing of ``simulate``. Used by ``imuback demo``,
``imuback record --simulate`` and the tests: the simulated peripheral
streams a :class:`RawSession` over the link, the recorder (bleak + our bumble backend) records
it exactly as it would a real sensor, and the raw Parquet file it writes is returned.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bumble.link import LocalLink

from imuback.collect.bumble_backend import BumbleCentral
from imuback.collect.families import family_by_name
from imuback.collect.recorder import Backends, RecordParams, RecordResult, Target, record
from imuback.collect.status import RecordStatus
from imuback.core import RawSession
from imuback.errors import CollectError
from imuback.simulate.peripheral import CLOCK_DRIFT, NO_FAULTS, Misbehaviour, SimulatedSensor


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedRecording:
    """The recorder's result and the simulated sensor (with its log of every frame's fate)."""

    result: RecordResult
    sensor: SimulatedSensor


def simulated_label(sensor: str) -> str:
    """The ``sessions.sensor`` of a recording from the simulated sensor of family ``sensor``."""
    return f"{sensor} (simulated)"


def make_sensor(raw: RawSession, *, link: LocalLink, sensor: str, speedup: float,
                rate_hz: float | None, faults: Misbehaviour) -> SimulatedSensor:
    """The simulated peripheral for family ``sensor`` (``imuback`` or ``polar``)."""
    if sensor == "imuback":
        return SimulatedSensor(raw, link=link, speedup=speedup, rate_hz=rate_hz, faults=faults)
    if sensor == "polar":
        from imuback.simulate.peripheral_polar import SimulatedPolar

        return SimulatedPolar(raw, link=link, speedup=speedup, rate_hz=rate_hz, faults=faults)
    raise CollectError(f"no simulated sensor of family {sensor!r}; choose imuback or polar")


async def record_simulated_async(raw: RawSession, out_dir: Path, *, speedup: float = 20.0,
                                 sensor: str = "imuback", rate_hz: float | None = None,
                                 faults: Misbehaviour = NO_FAULTS,
                                 params: RecordParams | None = None,
                                 status: Callable[[RecordStatus], None] | None = None,
                                 tail_s: float = 0.3,
                                 stop: asyncio.Event | None = None) -> SimulatedRecording:
    """Stream ``raw`` from a simulated sensor over a virtual link and record it (async).

    The recording stops ``tail_s`` wall seconds after the sensor has sent its last sample, or
    when ``stop`` is set (Ctrl-C, SIGTERM): it then ends cleanly with what was received.
    """
    link = LocalLink()  # type: ignore[no-untyped-call]
    sim = make_sensor(raw, link=link, sensor=sensor, speedup=speedup, rate_hz=rate_hz, faults=faults)
    central = BumbleCentral.on_link(link)
    await sim.start()
    await central.power_on()
    family = family_by_name(sensor)
    rate = rate_hz or raw.sample_rate_hz
    base = params or RecordParams()
    acc_range = int(raw.acc_range_g) if raw.acc_range_g in (2, 4, 8, 16) else 16
    gyr_range = int(raw.gyr_range_dps) if raw.gyr_range_dps in (125, 250, 500, 1000, 2000) else 2000
    params = replace(base, clock_speedup=speedup, max_clock_drift=CLOCK_DRIFT,
                     settings=replace(base.settings, rate_hz=rate, acc_range_g=acc_range,
                                      gyr_range_dps=gyr_range, gyro=raw.gyr_dps is not None),
                     scan_timeout_s=min(base.scan_timeout_s, 5.0),
                     backoff_first_s=min(base.backoff_first_s, 0.05),
                     backoff_max_s=min(base.backoff_max_s, 1.0),
                     give_up_after_s=base.give_up_after_s if base.give_up_after_s is not None else 30.0)
    stop = stop or asyncio.Event()

    async def stop_when_done() -> None:
        await sim.done.wait()
        await asyncio.sleep(tail_s)
        stop.set()

    watcher = asyncio.ensure_future(stop_when_done())
    try:
        result = await record(family=family, target=Target(address=sim.address),
                              out_dir=Path(out_dir), runner_id=raw.runner_id,
                              session_id=raw.session_id,
                              mounting=None if raw.mounting_source == "assumed" else raw.mounting.tolist(),
                              sensor_label=simulated_label(sensor), params=params,
                              backends=Backends(scanner=central.scanner_backend,
                                                client=central.client_backend),
                              stop=stop, status=status)
    finally:
        watcher.cancel()
        await sim.close()
        await central.close()
    return SimulatedRecording(result=result, sensor=sim)


def record_simulated(raw: RawSession, out_dir: Path, *, speedup: float = 20.0,
                     sensor: str = "imuback", rate_hz: float | None = None,
                     status: Callable[[str], None] | None = None, faults: Misbehaviour = NO_FAULTS) -> Path:
    """Stream ``raw`` from a simulated sensor over a bumble virtual link, record it, return the file.

    Parameters
    ----------
    raw : the session the simulated sensor streams (acc m/s², gyro deg/s, sensor frame).
    out_dir : folder for ``<raw.session_id>.parquet`` (same session_id and runner_id as ``raw``).
    speedup : the sensor streams this many times faster than real time.
    sensor : ``"imuback"`` (own protocol) or ``"polar"`` (Polar PMD, rates up to 416 Hz).
    rate_hz : output data rate to ask for (default: the rate of ``raw``).
    status : called about once a second with a status line (samples/s, lost, battery, time).
    faults : the simulated sensor's faults and firmware buffer (default: none, a minute's buffer).
    """
    cb = None if status is None else (lambda st: status(st.line()))

    def run() -> SimulatedRecording:
        return asyncio.run(record_simulated_async(raw, Path(out_dir), speedup=speedup, sensor=sensor,
                                                  rate_hz=rate_hz, faults=faults, status=cb))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run().result.path
    # an event loop already runs in this thread (Jupyter, Playwright's sync API): use another one
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result().result.path
