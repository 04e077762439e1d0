"""A simulated Polar Verity Sense: the PMD service on a bumble virtual link (SDK mode, ACC + GYRO).

Written from Polar's public PMD description (see ``firmware_notes/polar_pmd.md``), independently
of :mod:`imuback.collect.polar_pmd` and :mod:`imuback.collect.polar_wire`. Frames are
delta-compressed (ACC type 1 in mG, GYRO type 0 with a factor in deg/s), time-stamped in ns on
the sensor clock (the last sample of each frame).
Like a real Polar sensor it keeps no backlog: after a reconnect the stream restarts at "now".
"""

from __future__ import annotations

import asyncio
import struct

import numpy as np
import numpy.typing as npt
from bumble import att, core, gatt
from bumble.device import Connection
from bumble.link import LocalLink

from imuback.core import G_MPS2, RawSession
from imuback.simulate.peripheral import NO_FAULTS, Misbehaviour, SimulatedSensor

PMD_SERVICE = "FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_CP = "FB005C81-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_DATA = "FB005C82-02E7-F387-1CAD-8ACD2D8DF0C8"
RATES_HZ = (26, 52, 104, 208, 416)
ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (250, 500, 1000, 2000)
POLAR_EPOCH_OFFSET_NS = 789_000_000_000_000_000
"""Sensor clock at the first sample: ns since 2000-01-01 (about 2025)."""


def _pack_deltas(samples: npt.NDArray[np.int64]) -> bytes:
    """Reference sample (int16 x 3) + one delta block, LSB-first bit packing."""
    out = bytearray(samples[0].astype("<i2").tobytes())
    if samples.shape[0] > 1:
        d = np.diff(samples, axis=0)
        width = max(1, int(np.max(np.abs(d))).bit_length() + 1)
        u = d.reshape(-1) & ((1 << width) - 1)
        bits = ((u[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, d.shape[0]]) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


class SimulatedPolar(SimulatedSensor):
    """Polar Verity Sense on the virtual link, streaming a RawSession (rates 26-416 Hz)."""

    family = "polar"

    def __init__(self, raw: RawSession, *, link: LocalLink, address: str = "F2:F2:F2:F2:F2:F2",
                 name: str = "Polar Sense 1A2B3C4D", speedup: float = 20.0,
                 rate_hz: float | None = None, faults: Misbehaviour = NO_FAULTS,
                 battery_pct: int = 64) -> None:
        self._started: set[int] = set()
        self._pending_rate: int | None = None
        self.acc_factor = 1.0
        super().__init__(raw, link=link, address=address, name=name, speedup=speedup,
                         rate_hz=rate_hz, faults=faults, battery_pct=battery_pct)
        self.gyr_factor = self.gyr_range_dps / 32768.0

    # --- GATT: PMD service + battery ---------------------------------------------------------
    def _build_gatt(self) -> None:
        self._cp: gatt.Characteristic[bytes] = gatt.Characteristic(
            PMD_CP, gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.WRITE
            | gatt.Characteristic.Properties.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=lambda _c: self._features(), write=self._on_cp))
        self._data_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            PMD_DATA, gatt.Characteristic.Properties.NOTIFY, gatt.Characteristic.READABLE, b"")
        battery: gatt.Characteristic[bytes] = gatt.Characteristic(
            core.UUID.from_16_bits(0x2A19), gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE, gatt.CharacteristicValue(read=lambda _c: bytes([self.battery_pct])))
        self.device.add_service(gatt.Service(PMD_SERVICE, [self._cp, self._data_char]))
        self.device.add_service(gatt.Service(core.UUID.from_16_bits(0x180F), [battery]))

    def _advertising_data(self) -> bytes:
        return bytes(core.AdvertisingData([
            (core.AdvertisingData.FLAGS, bytes([0x06])),
            (core.AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
        ]))

    def _features(self) -> bytes:
        gyro = 1 << 5 if self.raw.gyr_dps is not None else 0
        return bytes([0x0F, (1 << 2) | gyro, 1 << 1])  # ACC, GYRO, SDK mode

    def _respond(self, connection: Connection, op: int, typ: int, status: int, params: bytes = b"") -> None:
        value = bytes([0xF0, op, typ, status, 0]) + params
        self._spawn(self.device.indicate_subscriber(connection, self._cp, value))

    def _on_cp(self, connection: Connection, value: bytes) -> None:
        if len(value) < 2:
            raise att.ATT_Error(0x80)
        op, typ = value[0], value[1]
        if op == 0x01:  # settings query
            if typ == 2:
                tlv = (self._tlv(0, RATES_HZ, 2) + self._tlv(1, (16,), 2)
                       + self._tlv(2, ACC_RANGES_G, 2) + self._tlv(4, (3,), 1))
            elif typ == 5 and self.raw.gyr_dps is not None:
                tlv = (self._tlv(0, RATES_HZ, 2) + self._tlv(1, (16,), 2)
                       + self._tlv(2, GYR_RANGES_DPS, 2) + self._tlv(4, (3,), 1))
            else:
                self._respond(connection, op, typ, 2)
                return
            self._respond(connection, op, typ, 0, tlv)
        elif op == 0x02:
            if typ == 9:
                self._respond(connection, op, typ, 0)
                return
            if typ in self._started:
                self._respond(connection, op, typ, 6)  # already in state
                return
            sel = {value[i]: int.from_bytes(value[i + 2:i + 2 + (1 if value[i] == 4 else 2)], "little")
                   for i in self._tlv_positions(value[2:], 2)}
            rate = sel.get(0)
            if rate not in RATES_HZ or (self._pending_rate is not None and rate != self._pending_rate):
                self._respond(connection, op, typ, 8)
                return
            self._pending_rate = rate
            if typ == 2:
                self.acc_range_g = sel.get(2, 16)
            else:
                self.gyr_range_dps = sel.get(2, 2000)
                self.gyr_factor = self.gyr_range_dps / 32768.0
            self._started.add(typ)
            factor = self.acc_factor if typ == 2 else self.gyr_factor
            self._respond(connection, op, typ, 0, bytes([5, 1]) + struct.pack("<f", factor))
            if 2 in self._started and (5 in self._started or self.raw.gyr_dps is None):
                self._begin(connection)
        elif op == 0x03:
            self._started.discard(typ)
            if typ == 2:
                self._streaming = False
            self._respond(connection, op, typ, 0)
        else:
            self._respond(connection, op, typ, 1)

    @staticmethod
    def _tlv(typ: int, values: tuple[int, ...], size: int) -> bytes:
        return bytes([typ, len(values)]) + b"".join(int(v).to_bytes(size, "little") for v in values)

    @staticmethod
    def _tlv_positions(data: bytes, offset: int) -> list[int]:
        pos, out = 0, []
        while pos + 2 <= len(data):
            out.append(pos + offset)
            pos += 2 + data[pos + 1] * (1 if data[pos] == 4 else 4 if data[pos] in (3, 5) else 2)
        return out

    def _begin(self, connection: Connection) -> None:
        if self._t0 is None:
            self.wanted_rate_hz = float(self._pending_rate or self.raw.sample_rate_hz)
            self.rate_hz = self.wanted_rate_hz
            self.gyro_enabled = self.raw.gyr_dps is not None
            self._prepare()
            self._t0 = asyncio.get_running_loop().time()
        else:  # no backlog on a real Polar: restart at the current sample
            now = self._now_idx()
            skip = int(np.searchsorted(self._idx, now))
            self.log.overflow_samples += max(0, skip - self._pos)
            self._pos = max(self._pos, skip)
        self._streaming = True
        if self._stream_task is None or self._stream_task.done():
            self._stream_task = asyncio.ensure_future(self._stream(connection))

    def _on_disconnection(self, connection: Connection) -> None:
        self._started.clear()
        super()._on_disconnection(connection)

    # --- frames -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        # ACC in mG (factor 1), GYRO in counts of range/32768 deg/s: pass scales so that
        # quantise() yields those integer units directly.
        from imuback.simulate.peripheral import quantise

        idx, counts = quantise(self.raw, rate_hz=self.wanted_rate_hz, acc_scale=G_MPS2 / 1000.0,
                               gyr_scale=self.gyr_factor if self.gyro_enabled else None)
        self._idx, self._counts = idx, counts
        breaks = np.r_[np.flatnonzero(np.diff(idx) != 1) + 1, idx.size]
        self._run_end = np.repeat(breaks, np.diff(np.r_[0, breaks]))

    def corrupt_clock(self, payload: bytes) -> bytes:
        """The frame with its time stamp one hour ahead."""
        ts = int.from_bytes(payload[1:9], "little") + 3_600 * 10**9
        return payload[:1] + ts.to_bytes(8, "little") + payload[9:]

    def samples_per_frame(self, mtu: int) -> int:
        """Worst case 16-bit deltas: 10 header + 6 reference + 2 block header + 6 per sample."""
        return max(1, min(200, (mtu - 3 - 18) // 6 + 1))

    def encode(self, seq: int, first_idx: int, counts: npt.NDArray[np.int16]) -> list[bytes]:
        """One ACC frame and (with gyro) one GYRO frame for the same samples."""
        n = counts.shape[0]
        t_s = (first_idx + n - 1) / self.rate_hz
        step_s = sum(step for at, step in self.faults.clock_steps if t_s >= at)
        ts = POLAR_EPOCH_OFFSET_NS + round((t_s + step_s) * 1e9)
        c = counts.astype(np.int64)
        out = [bytes([2]) + ts.to_bytes(8, "little") + bytes([0x81]) + _pack_deltas(c[:, :3])]
        if counts.shape[1] == 6:
            out.append(bytes([5]) + ts.to_bytes(8, "little") + bytes([0x80]) + _pack_deltas(c[:, 3:]))
        return out
