"""Serve the simulated sensor to a recorder in another process, over a bumble HCI transport.

The virtual link lives in this process with two controllers: the simulated sensor's and a
central controller whose HCI is exposed on a transport (e.g. ``tcp-server:127.0.0.1:9000``). A
recorder started with ``imuback record --hci tcp-client:127.0.0.1:9000`` then runs its own host
stack in its own process, as it would against a USB dongle. Used by the kill -9 test and the
CPU benchmark (so the recorder's CPU share is measured alone).
"""

from __future__ import annotations

from dataclasses import dataclass

from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import Transport

from imuback.core import RawSession
from imuback.simulate.peripheral import NO_FAULTS, Misbehaviour, SimulatedSensor

CENTRAL_ADDRESS = "F1:F1:F1:F1:F1:F1"


@dataclass(slots=True)
class PeripheralServer:
    """The running link: the sensor and the exposed central controller's transport."""

    sensor: SimulatedSensor
    transport: Transport
    link: LocalLink

    async def close(self) -> None:
        """Stop the sensor and close the transport."""
        await self.sensor.close()
        await self.transport.close()
        # bumble's TCP server transport leaves its listening socket and client connection open
        conn = getattr(self.transport.sink, "transport", None)
        if conn is not None:
            conn.close()
        server = getattr(self.transport, "server", None)
        if server is not None:
            server.close()
            await server.wait_closed()


async def serve(raw: RawSession, *, hci: str, sensor: str = "imuback", speedup: float = 1.0,
                rate_hz: float | None = None, faults: Misbehaviour = NO_FAULTS) -> PeripheralServer:
    """Start the simulated sensor and expose a central controller on the HCI transport ``hci``."""
    link = LocalLink()  # type: ignore[no-untyped-call]
    if sensor == "polar":
        from imuback.simulate.peripheral_polar import SimulatedPolar

        sim: SimulatedSensor = SimulatedPolar(raw, link=link, speedup=speedup, rate_hz=rate_hz, faults=faults)
    else:
        sim = SimulatedSensor(raw, link=link, speedup=speedup, rate_hz=rate_hz, faults=faults)
    transport = await open_transport(hci)
    Controller("exposed-central", host_source=transport.source, host_sink=transport.sink,
               link=link, public_address=CENTRAL_ADDRESS)
    await sim.start()
    return PeripheralServer(sensor=sim, transport=transport, link=link)
