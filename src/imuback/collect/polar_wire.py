"""Polar Measurement Data (PMD) wire format: settings TLVs, control point responses, delta frames.

Written from Polar's public BLE SDK documentation of the PMD format (polarofficial/polar-ble-sdk);
the code is ours. Summary (little-endian throughout):

Control point ``PMD_CP`` (read: features; write: commands; indicate: responses)
    read value       0x0F, then a bitmap: bit n of byte 1 + n//8 = measurement type n supported
    commands         0x01 GET_MEASUREMENT_SETTINGS <type>
                     0x02 REQUEST_MEASUREMENT_START <type> <settings TLVs>
                     0x03 STOP_MEASUREMENT <type>
                     (type 0x09 = SDK mode: enables the full rate/range set, up to 416 Hz)
    response         0xF0 <op> <type> <status: 0 = success> <more> <settings TLVs>
    settings TLV     <setting type> <count> <count values>: 0 sample rate u16 Hz, 1 resolution u16
                     bits, 2 range u16 (g or deg/s), 3 range milliunit u32, 4 channels u8,
                     5 factor f32 (in start responses: multiply samples by it)
Measurement types: 2 = ACC, 5 = GYRO.

Data ``PMD_DATA`` (notify), one frame per notification::

    0  u8   measurement type
    1  u64  timestamp (ns, Polar clock, of the LAST sample in the frame)
    9  u8   frame type: bit 7 = delta-compressed, bits 0-6 = type number
    10 ...  samples

Uncompressed ACC types 0/1/2: int8/int16/int24 x y z in mG. Compressed (delta) frames:
a reference sample (each channel a signed int of ceil(resolution/8) bytes), then blocks of
``<u8 bit width> <u8 count>`` and count x channels signed deltas of that many bits, packed LSB
first; each sample is the previous plus its delta. Compressed ACC type 1 x factor = mG;
compressed GYRO type 0 x factor = deg/s.
"""

from __future__ import annotations

import math
import struct
from typing import Final

import numpy as np
import numpy.typing as npt

from imuback.errors import ProtocolError

ACC: Final = 2
GYRO: Final = 5
SDK_MODE: Final = 9
OP_GET_SETTINGS: Final = 0x01
OP_START: Final = 0x02
OP_STOP: Final = 0x03
SET_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLI, SET_CHANNELS, SET_FACTOR = range(6)
_FIELD_BYTES: Final = {SET_RATE: 2, SET_RESOLUTION: 2, SET_RANGE: 2, SET_RANGE_MILLI: 4,
                       SET_CHANNELS: 1, SET_FACTOR: 4}
ERROR_NAMES: Final = ("success", "invalid op code", "invalid measurement type", "not supported",
                      "invalid length", "invalid parameter", "already in state",
                      "invalid resolution", "invalid sample rate", "invalid range", "invalid MTU",
                      "invalid number of channels", "invalid state", "device in charger",
                      "disk full")
ALREADY_IN_STATE: Final = 6
HEADER_BYTES: Final = 10


# --- settings TLVs ----------------------------------------------------------------------------
def parse_settings(data: bytes) -> dict[int, list[float]]:
    """Settings TLVs -> {setting type: values}; factor values are float32. Raises ProtocolError."""
    out: dict[int, list[float]] = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProtocolError(f"PMD settings: truncated TLV header at byte {pos}")
        typ, count = data[pos], data[pos + 1]
        pos += 2
        size = _FIELD_BYTES.get(typ)
        if size is None:
            raise ProtocolError(f"PMD settings: unknown setting type {typ} at byte {pos - 2}")
        if pos + size * count > len(data):
            raise ProtocolError(f"PMD settings: setting {typ} needs {size * count} bytes, "
                                f"{len(data) - pos} left")
        vals: list[float] = []
        for i in range(count):
            chunk = data[pos + i * size: pos + (i + 1) * size]
            vals.append(struct.unpack("<f", chunk)[0] if typ == SET_FACTOR
                        else int.from_bytes(chunk, "little"))
        out[typ] = vals
        pos += size * count
    return out


def encode_settings(selected: dict[int, int]) -> bytes:
    """{setting type: value} -> TLVs with count 1 (the factor is never sent)."""
    out = bytearray()
    for typ, val in selected.items():
        if typ == SET_FACTOR:
            continue
        out += bytes([typ, 1]) + int(val).to_bytes(_FIELD_BYTES[typ], "little")
    return bytes(out)


def parse_response(data: bytes) -> tuple[int, int, int, bool, bytes]:
    """Control point response -> (op, type, status, more, parameters)."""
    if len(data) < 4 or data[0] != 0xF0:
        raise ProtocolError(f"PMD control point: not a response ({data.hex()})")
    status = data[3]
    more = status == 0 and len(data) > 4 and data[4] != 0
    params = bytes(data[5:]) if status == 0 and len(data) > 5 else b""
    return data[1], data[2], status, more, params


# --- delta frames -----------------------------------------------------------------------------
def delta_decode(content: bytes | npt.NDArray[np.uint8], channels: int, resolution: int) -> npt.NDArray[np.int64]:
    """Decode a delta-compressed PMD sample block -> (n, channels) int64. Raises ProtocolError.

    Vectorised per block: ``np.unpackbits`` (LSB first) and a weighted sum give every delta of
    a block at once; ``np.cumsum`` adds them to the reference sample.
    """
    buf = np.frombuffer(bytes(content), dtype=np.uint8)
    rb = math.ceil(resolution / 8)
    if resolution < 1 or rb > 4:
        raise ProtocolError(f"PMD delta frame: resolution {resolution} bits is not supported")
    if buf.size < channels * rb:
        raise ProtocolError(f"PMD delta frame: {buf.size} bytes, reference sample needs {channels * rb}")
    ref = buf[:channels * rb].reshape(channels, rb).astype(np.int64) @ (1 << (8 * np.arange(rb, dtype=np.int64)))
    ref = np.where(ref >= (1 << (resolution - 1)), ref - (1 << resolution), ref) if resolution < 64 else ref
    out = [ref.reshape(1, channels)]
    pos = channels * rb
    last = out[0][-1]
    while pos < buf.size:
        if pos + 2 > buf.size:
            raise ProtocolError(f"PMD delta frame: truncated block header at byte {pos}")
        width, count = int(buf[pos]), int(buf[pos + 1])
        pos += 2
        if width > 32:
            raise ProtocolError(f"PMD delta frame: delta width {width} bits > 32")
        nbits = width * count * channels
        nbytes = (nbits + 7) // 8
        if pos + nbytes > buf.size:
            raise ProtocolError(f"PMD delta frame: block needs {nbytes} bytes, {buf.size - pos} left")
        if count == 0:
            continue
        if width == 0:
            deltas = np.zeros((count, channels), dtype=np.int64)
        else:
            bits = np.unpackbits(buf[pos:pos + nbytes], bitorder="little")[:nbits]
            vals = bits.reshape(count * channels, width).astype(np.int64) @ (1 << np.arange(width, dtype=np.int64))
            vals = np.where(vals >= (1 << (width - 1)), vals - (1 << width), vals)
            deltas = vals.reshape(count, channels)
        block = last + np.cumsum(deltas, axis=0)
        out.append(block)
        last = block[-1]
        pos += nbytes
    return np.concatenate(out, axis=0)


def delta_encode(samples: npt.NDArray[np.int64], resolution: int = 16, *, max_block: int = 255) -> bytes:
    """Inverse of :func:`delta_decode` (used by tests and the simulated Polar sensor)."""
    s = np.asarray(samples, dtype=np.int64)
    rb = math.ceil(resolution / 8)
    out = bytearray()
    for v in s[0]:
        out += int(v & ((1 << (8 * rb)) - 1)).to_bytes(rb, "little")
    d = np.diff(s, axis=0)
    for lo in range(0, d.shape[0], max_block):
        blk = d[lo:lo + max_block]
        m = int(np.max(np.abs(blk))) if blk.size else 0
        width = max(1, int(m).bit_length() + 1)
        u = (blk.reshape(-1) & ((1 << width) - 1)).astype(np.int64)
        bits = ((u[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, blk.shape[0]]) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


def error_name(status: int) -> str:
    """A control point status byte -> its name in the PMD documentation."""
    return ERROR_NAMES[status] if status < len(ERROR_NAMES) else f"error {status}"
