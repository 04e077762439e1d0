"""A writer of Axivity ``.cwa`` files to OpenMovement's published specification, for the tests.

Specification: OpenMovement ``Docs/ax3/cwa.h`` (github.com/openmovementproject/openmovement, BSD):
a 1024-byte "MD" header, then 512-byte "AX" sectors (fields and offsets as listed there; the
16-bit word sum of a sector is zero). Written sector by sector with ``struct``, independently of
the reader (src/imuback/formats/cwa.py), so that a test compares the reader with the spec. No real
.cwa file ships with a package we could use (OpenMovement's PyPI package has none; actipy's and
scikit-digital-health's wheels none either), so the tests use files written here.
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import numpy as np

G = 9.80665


def pack_time(when: dt.datetime) -> int:
    """cwa.h packed timestamp: (MSB) YYYYYYMM MMDDDDDh hhhhmmmm mmssssss (LSB), years since 2000."""
    return ((when.year - 2000) << 26) | (when.month << 22) | (when.day << 17) | (when.hour << 12) \
        | (when.minute << 6) | when.second


def rate_code(fs: float, range_g: int) -> int:
    """Rate code: frequency 3200 / (1 << (15 - (code & 15))) Hz, range 16 >> (code >> 6) g."""
    low = 15 - round(float(np.log2(3200 / fs)))
    return ({16: 0, 8: 1, 4: 2, 2: 3}[range_g] << 6) | low


def header(*, device_id: int = 4321, session_id: int = 7, hardware: int = 0x64, sensor_config: int = 0x02,
           code: int = 0x4A) -> bytes:
    """The 1024-byte header block (``cwa_header_t``)."""
    h = bytearray(1024)
    struct.pack_into("<HHBHIH", h, 0, 0x444D, 1020, hardware, device_id & 0xFFFF, session_id, device_id >> 16)
    h[35] = sensor_config
    h[36] = code
    return bytes(h)


def sector(*, sequence: int, when: dt.datetime, frac16: int | None, offset: int, code: int, axes: int,
           light_scale: int, values: np.ndarray, session_id: int = 7) -> bytes:
    """One 512-byte data sector (``OM_READER_DATA_PACKET``); ``values`` (n, axes) int16 counts."""
    b = bytearray(512)
    device_fractional = 0x8000 | (frac16 >> 1) if frac16 is not None else 0x1234 & 0x7FFF
    struct.pack_into("<HHHIIIHHBBBBhH", b, 0, 0x5841, 508, device_fractional, session_id, sequence,
                     pack_time(when), light_scale, 0, 0, 200, code, (axes << 4) | 2, offset, len(values))
    raw = np.asarray(values, dtype="<i2").tobytes()
    b[30:30 + len(raw)] = raw
    words = struct.unpack("<256H", bytes(b))
    struct.pack_into("<H", b, 510, (-sum(words)) & 0xFFFF)
    return bytes(b)


def write_cwa(path: Path, *, acc_mps2: np.ndarray, gyr_dps: np.ndarray | None, fs: float, start: dt.datetime,
              fractional: bool = True, acc_scale: int = 4, gyr_scale: int = 2, range_g: int = 8,
              device_id: int = 4321, sensor_config: int = 0x02, sector_gyr_code: int | None = None) -> Path:
    """Write samples as a .cwa file; sample k is at ``start + k / fs``.

    ``acc_scale`` A: 1/2^(8+A) g per count (4: ±8 g); ``gyr_scale`` G: range 8000/2^G dps (2: 2000).
    ``fractional``: sector timestamps carry the 15-bit fraction (newer firmware); else whole seconds
    at the sample index ``timestampOffset`` (which may lie outside the sector). ``sector_gyr_code``:
    the G bits written in each sector's lightScale (default ``gyr_scale``; 0: the sector does not say).
    """
    code = rate_code(fs, range_g)
    acc_counts = np.round(acc_mps2 / G * (1 << (8 + acc_scale)))
    if gyr_dps is None:
        axes, counts = 3, acc_counts
    else:
        axes, counts = 6, np.column_stack([np.round(gyr_dps * 32768 / (8000 >> gyr_scale)), acc_counts])
    counts = np.clip(counts, -32768, 32767).astype(np.int16)
    per = 480 // (2 * axes)
    light_scale = (acc_scale << 13) | ((gyr_scale if sector_gyr_code is None else sector_gyr_code) << 10) | 300
    out = [header(device_id=device_id, sensor_config=sensor_config, code=code)]
    for i, first in enumerate(range(0, len(counts), per)):
        t = start + dt.timedelta(seconds=first / fs)  # time of the sector's first sample
        whole = t.replace(microsecond=0)
        frac = (t - whole).total_seconds()
        if fractional:
            f16 = int(frac * 65536) & 0xFFFE  # stored as 15 bits
            shim = (f16 * int(fs)) >> 16  # cwa.h: offset moved back by the whole samples of the fraction
            out.append(sector(sequence=i, when=whole, frac16=f16, offset=-shim, code=code, axes=axes,
                              light_scale=light_scale, values=counts[first:first + per]))
        else:  # the whole second lies round(frac * fs) samples before the first sample
            out.append(sector(sequence=i, when=whole, frac16=None, offset=-round(frac * fs), code=code, axes=axes,
                              light_scale=light_scale, values=counts[first:first + per]))
    path.write_bytes(b"".join(out))
    return path
