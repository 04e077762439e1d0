"""A bleak backend on Google's bumble host stack: bleak's public API over a virtual BLE link.

bleak picks an OS backend (BlueZ, CoreBluetooth, WinRT) unless it is handed another through its
documented ``backend=`` argument of :class:`bleak.BleakScanner` and :class:`bleak.BleakClient`.
This module is that other backend: a :class:`BumbleCentral` owns one bumble ``Device`` (the host
side of a central) and hands out a scanner class and a client class bound to it::

    central = BumbleCentral.on_link(link)          # or: await BumbleCentral.open("tcp-client:...")
    await central.power_on()
    device = await BleakScanner.find_device_by_address(addr, backend=central.scanner_backend)
    async with BleakClient(device, backend=central.client_backend) as client: ...

The collector never imports bumble: it only sees bleak. The backend does what a BLE central
needs (scan, connect to one address, MTU exchange, service discovery, read, write, notify,
disconnect callback) and nothing else; pairing is not supported (our sensors do not need it).
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuid_module
from collections.abc import Callable
from typing import Any, ClassVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import att, core, hci
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

_log = logging.getLogger(__name__)

DEFAULT_CENTRAL_ADDRESS = "F1:F1:F1:F1:F1:F1"
PREFERRED_MTU = 247
"""ATT MTU the central asks for: 244-byte notifications (the peripheral may answer less)."""


def bleak_uuid(u: core.UUID) -> str:
    """Bumble UUID (little-endian bytes) -> bleak's lower-case 128-bit string."""
    return str(uuid_module.UUID(bytes=bytes(reversed(u.uuid_128_bytes))))


def advertisement_data(adv: Advertisement) -> AdvertisementData:
    """Translate one bumble advertisement into bleak's :class:`AdvertisementData`."""
    T = core.AdvertisingData.Type
    name: str | None = None
    services: list[str] = []
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    tx_power: int | None = None
    for ad_type, raw in adv.data.ad_structures:
        try:
            obj = core.AdvertisingData.ad_data_to_object(ad_type, raw)
        except Exception:  # a malformed AD structure is skipped, never fatal
            continue
        if ad_type in (T.COMPLETE_LOCAL_NAME, T.SHORTENED_LOCAL_NAME) and isinstance(obj, str):
            if name is None or ad_type == T.COMPLETE_LOCAL_NAME:
                name = obj
        elif isinstance(obj, list):
            services += [bleak_uuid(u) for u in obj if isinstance(u, core.UUID)]
        elif isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], bytes):
            key = obj[0]
            if ad_type == T.MANUFACTURER_SPECIFIC_DATA and isinstance(key, int):
                manufacturer[key] = obj[1]
            elif isinstance(key, core.UUID):
                service_data[bleak_uuid(key)] = obj[1]
        elif ad_type == T.TX_POWER_LEVEL and isinstance(obj, int):
            tx_power = obj
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=sorted(set(services)),
        tx_power=tx_power,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )


class BumbleCentral:
    """The host side of a BLE central on bumble, and the bleak backends bound to it.

    Create it on an in-process :class:`bumble.link.LocalLink` (:meth:`on_link`) or on an HCI
    transport such as ``tcp-client:127.0.0.1:PORT`` that leads to a bumble controller in another
    process (:meth:`open`). ``scanner_backend`` and ``client_backend`` are classes to pass as
    bleak's ``backend=`` argument.
    """

    def __init__(self, host: Host, *, address: str = DEFAULT_CENTRAL_ADDRESS,
                 transport: Transport | None = None, mtu: int = PREFERRED_MTU) -> None:
        self.device = Device(name="imuback-central", address=hci.Address(address), host=host)
        self.mtu = mtu
        self._transport = transport
        self._powered = False
        central = self

        class BleakScannerBumble(_BumbleScanner):
            _central: ClassVar[BumbleCentral] = central

        class BleakClientBumble(_BumbleClient):
            _central: ClassVar[BumbleCentral] = central

        self.scanner_backend: type[BaseBleakScanner] = BleakScannerBumble
        self.client_backend: type[BaseBleakClient] = BleakClientBumble

    @classmethod
    def on_link(cls, link: LocalLink, *, address: str = DEFAULT_CENTRAL_ADDRESS,
                mtu: int = PREFERRED_MTU) -> BumbleCentral:
        """A central whose controller sits on ``link`` in this process."""
        controller = Controller("imuback-central", link=link, public_address=address)
        return cls(Host(controller, AsyncPipeSink(controller)), address=address, mtu=mtu)

    @classmethod
    async def open(cls, transport_spec: str, *, address: str = DEFAULT_CENTRAL_ADDRESS,
                   mtu: int = PREFERRED_MTU) -> BumbleCentral:
        """A central talking HCI over a bumble transport (e.g. ``tcp-client:127.0.0.1:9000``)."""
        transport = await open_transport(transport_spec)
        return cls(Host(transport.source, transport.sink), address=address,
                   transport=transport, mtu=mtu)

    async def power_on(self) -> None:
        """Reset and start the controller (idempotent)."""
        if not self._powered:
            await self.device.power_on()
            self._powered = True

    async def close(self) -> None:
        """Drop every connection and close the HCI transport, if any."""
        for conn in list(self.device.connections.values()):
            try:
                await conn.disconnect()
            except (TimeoutError, core.BaseBumbleError, hci.HCI_Error):
                pass
        if self._transport is not None:
            await self._transport.close()
            self._transport = None


class _BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: bumble advertisement events -> bleak detection callbacks."""

    _central: ClassVar[BumbleCentral]

    def __init__(self, detection_callback: AdvertisementDataCallback | None,
                 service_uuids: list[str] | None, scanning_mode: str = "active",
                 **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode != "passive"

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = str(adv.address).split("/")[0]
        device = self.create_or_update_device(address, address, data.local_name, adv.address, data)
        self.call_detection_callbacks(device, data)

    async def start(self) -> None:
        """Start scanning; every advertisement goes to the registered callbacks."""
        self.seen_devices = {}
        central = self._central
        await central.power_on()
        central.device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await central.device.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        """Stop scanning."""
        device = self._central.device
        device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        if device.is_scanning:
            await device.stop_scanning()


class _BumbleClient(BaseBleakClient):
    """bleak client backend: one LE connection to one address over the bumble central."""

    _central: ClassVar[BumbleCentral]

    def __init__(self, address_or_ble_device: BLEDevice | str, *,
                 disconnected_callback: Callable[[], None] | None = None,
                 timeout: float = 10.0, services: set[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback,
                         timeout=timeout)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._proxies: dict[int, CharacteristicProxy[bytes]] = {}
        self._closing = False
        self._name: str | None = None
        self._details: hci.Address | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            self._name = address_or_ble_device.name
            if isinstance(address_or_ble_device.details, hci.Address):
                self._details = address_or_ble_device.details

    @property
    def name(self) -> str:
        """The advertised name if known, else the address."""
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 until the exchange)."""
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """True while the LE connection is up."""
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect to ``self.address`` only, exchange the MTU, discover all services."""
        central = self._central
        await central.power_on()
        # bumble's virtual controller never completes a cancelled connection attempt, so the
        # timeout is also enforced out here: connect fails in bounded time instead of hanging.
        try:
            conn = await asyncio.wait_for(
                central.device.connect(self._details or hci.Address(self.address), timeout=self._timeout),
                self._timeout + 1.0)
        except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as exc:
            raise BleakError(f"could not connect to {self.address}: {exc}") from exc
        self._connection = conn
        self._closing = False
        conn.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            peer = Peer(conn)
            self._peer = peer
            if central.mtu > 23:
                await peer.request_mtu(central.mtu)
            self.services = await self._discover(peer)
        except Exception:
            await self.disconnect()
            raise

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        self._proxies = {}
        await peer.discover_services()
        for svc in peer.services:
            await svc.discover_characteristics()
            bsvc = BleakGATTService(svc, svc.handle, bleak_uuid(svc.uuid))
            collection.add_service(bsvc)
            for ch in svc.characteristics:
                await peer.discover_descriptors(ch)
                props: list[CharacteristicPropertyName] = [
                    name for bit, name in CHARACTERISTIC_PROPERTIES.items() if int(ch.properties) & bit
                ]
                bch = BleakGATTCharacteristic(ch, ch.handle, bleak_uuid(ch.uuid), props,
                                              lambda: self.mtu_size - 3, bsvc)
                collection.add_characteristic(bch)
                self._proxies[ch.handle] = ch
                for d in ch.descriptors:
                    collection.add_descriptor(BleakGATTDescriptor(d, d.handle, bleak_uuid(d.type), bch))
        return collection

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        self._peer = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        """Disconnect (no disconnected callback for a disconnect we asked for)."""
        conn = self._connection
        self._closing = True
        if conn is None:
            return
        try:
            await conn.disconnect()
        except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as exc:
            _log.debug("disconnect from %s: %s", self.address, exc)
        self._connection = None
        self._peer = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Not supported: imuback sensors need no pairing."""
        raise BleakError("the bumble backend does not pair")

    async def unpair(self) -> None:
        """Not supported: imuback sensors need no pairing."""
        raise BleakError("the bumble backend does not pair")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"not connected to {self.address}")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        """Read a characteristic value."""
        return bytearray(await self._gatt(self._require_peer().read_value(characteristic.handle)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        """Read a descriptor value."""
        return bytearray(await self._gatt(self._require_peer().read_value(descriptor.handle)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: SizedBuffer,
                              response: bool) -> None:
        """Write a characteristic value (with or without response)."""
        await self._gatt(self._require_peer().write_value(characteristic.handle, bytes(data),
                                                          with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        """Write a descriptor value."""
        await self._gatt(self._require_peer().write_value(descriptor.handle, bytes(data),
                                                          with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback,
                           **kwargs: Any) -> None:
        """Subscribe (notify preferred over indicate); ``callback`` gets each value as bytearray."""
        proxy = self._proxies[characteristic.handle]

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        await self._gatt(self._require_peer().subscribe(proxy, on_value, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe."""
        await self._gatt(self._require_peer().unsubscribe(self._proxies[characteristic.handle]))

    @staticmethod
    async def _gatt(awaitable: Any) -> Any:
        try:
            return await awaitable
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except (core.BaseBumbleError, hci.HCI_Error) as exc:
            raise BleakError(str(exc)) from exc
        except asyncio.CancelledError as exc:
            # bumble cancels a pending request when the link drops; a real backend raises a
            # BleakError then. A cancellation of our own task propagates as it is.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            raise BleakError("the connection was lost during a GATT operation") from exc
