"""The bleak backend on bumble: scan, connect, MTU, read/write/notify, errors, disconnect callback."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble.link import LocalLink

from imuback.collect.bumble_backend import BumbleCentral
from imuback.simulate.peripheral import CONTROL_UUID, STATUS_UUID, Misbehaviour, SimulatedSensor
from imuback.simulate.peripheral_data import synthetic_raw


async def _setup(max_mtu: int = 247) -> tuple[SimulatedSensor, BumbleCentral]:
    link = LocalLink()
    # a firmware buffer longer than the stream: every sample gets through however slow the machine
    sim = SimulatedSensor(synthetic_raw(minutes=0.05, rate_hz=100), link=link, speedup=50,
                          faults=Misbehaviour(max_mtu=max_mtu, buffer_s=60.0))
    await sim.start()
    central = BumbleCentral.on_link(link)
    await central.power_on()
    return sim, central


def test_scan_finds_the_simulated_sensor_with_name_and_service() -> None:
    async def main() -> None:
        sim, central = await _setup()
        found = await BleakScanner.discover(timeout=0.3, return_adv=True, backend=central.scanner_backend)
        _dev, adv = found[sim.address]
        assert adv.local_name == "imuback-sim"
        assert "f0e10001-7c1a-4d8b-9a52-1b2c3d4e5f60" in adv.service_uuids
        filtered = await BleakScanner.discover(timeout=0.2, service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"],
                                               backend=central.scanner_backend)
        assert filtered == []
        await sim.close()
        await central.close()

    asyncio.run(main())


@pytest.mark.parametrize("max_mtu", [247, 23])
def test_connect_discover_read_write_notify_disconnect(max_mtu: int) -> None:
    async def main() -> None:
        sim, central = await _setup(max_mtu)
        dev = await BleakScanner.find_device_by_address(sim.address, timeout=2, backend=central.scanner_backend)
        assert dev is not None
        lost = asyncio.Event()
        client = BleakClient(dev, disconnected_callback=lambda _c: lost.set(), backend=central.client_backend)
        await client.connect()
        assert client.is_connected and client.mtu_size == max_mtu
        ch = client.services.get_characteristic(STATUS_UUID)
        assert ch is not None and ch.properties == ["read"]
        status = await client.read_gatt_char(STATUS_UUID)
        assert len(status) == 20
        with pytest.raises(BleakGATTProtocolError):  # the firmware rejects an unknown opcode
            await client.write_gatt_char(CONTROL_UUID, b"\x7f", response=True)
        got: list[bytearray] = []
        await client.start_notify("f0e10003-7c1a-4d8b-9a52-1b2c3d4e5f60", lambda _c, d: got.append(d))
        await client.write_gatt_char(CONTROL_UUID, bytes([1, 100, 0, 16, 0xD0, 0x07, 1]), response=True)
        await asyncio.wait_for(sim.done.wait(), 10)
        await asyncio.sleep(0.05)
        assert got and max(len(g) for g in got) <= max_mtu - 3
        assert sum(g[1] for g in got) == sim.sample_idx.size
        await sim._drop_link(0.0)  # the sensor drops the link: unsolicited -> callback
        await asyncio.wait_for(lost.wait(), 2)
        assert not client.is_connected
        with pytest.raises(BleakError):
            await client.read_gatt_char(STATUS_UUID)
        await sim.close()
        await central.close()

    asyncio.run(main())


def test_requested_disconnect_does_not_call_the_callback() -> None:
    async def main() -> None:
        sim, central = await _setup()
        called = []
        async with BleakClient(sim.address, disconnected_callback=lambda _c: called.append(1),
                               backend=central.client_backend, timeout=2) as client:
            assert client.name == sim.address
            assert client.is_connected
        await asyncio.sleep(0.05)
        assert called == []
        with pytest.raises(BleakError):
            await client.pair()
        await sim.close()
        await central.close()

    asyncio.run(main())


def test_connecting_to_an_absent_address_fails_cleanly() -> None:
    async def main() -> None:
        sim, central = await _setup()
        client = BleakClient("F9:F9:F9:F9:F9:F9", backend=central.client_backend, timeout=0.3)
        with pytest.raises(BleakError):
            await client.connect()
        await sim.close()
        await central.close()

    asyncio.run(main())
