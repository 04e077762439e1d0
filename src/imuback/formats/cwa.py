"""Axivity AX6 ``.cwa`` recordings (OpenMovement's continuous wave accelerometry format), decoded
with numpy, no extra dependency.

Specification: OpenMovement, ``Docs/ax3/cwa.h`` (github.com/openmovementproject/openmovement,
"Structure of a .CWA binary file"; BSD licence). All values little-endian, tightly packed::

    header   1024 bytes at offset 0: "MD", packetLength 1020, hardwareType @4 (0x64 AX6),
             deviceId @5 (u16, upper word @11), sessionId @7, sensorConfig @35 (0x00/0xff:
             accelerometer only, else bottom nibble n: gyro range 8000/2^n dps),
             samplingRate @36 (rate code: 3200 / 2^(15 - (code & 15)) Hz, range 16 >> (code >> 6) g)
    sector   512 bytes each after the header: "AX", packetLength 508, deviceFractional @4 (top bit
             set: 15-bit fraction of a second of the timestamp), sequenceId @10, timestamp @14
             (packed YYYYYYMM MMDDDDDh hhhhmmmm mmssssss, years since 2000), lightScale @18
             (AAAGGGLLLLLLLLLL: accel 1/2^(8+A) g per count, gyro range 8000/2^G dps), sampleRate @24,
             numAxesBPS @25 (top nibble axes: 3 Axyz, 6 Gxyz/Axyz; bottom nibble packing: 2 = int16,
             0 = 3x10-bit + exponent), timestampOffset @26 (the sample index at which timestamp holds),
             sampleCount @28, 480 bytes of samples @30, checksum @510 (the 16-bit word sum of the
             whole sector is zero)

An AX6 records int16 gyro then accelerometer (6 axes); an AX3 (or an AX6 set to accelerometer
only) records 3 axes and is refused: imuback needs a gyroscope. Sample times: each sector's
timestamp (plus its fraction) dates sample ``timestampOffset`` of that sector; samples in between
are interpolated along the sector sequence, as OpenMovement's own readers do. A sector whose
checksum fails is not decoded: its samples stay missing, counted in the session's ``gaps`` (reason
"N sectors failed their checksum"; before the first or after the last readable sector, a full
sector's samples each, as its own count is not trusted) and in a warning. Gyro scale: cwa.h's
lightScale comment gives 8000/2^G dps (its notes further down say 4000/2^n with "1: 2000 dps", which
disagrees; OpenMovement's own cwa_load.py uses 8000/2^G); with G = 0 the sector does not say, and the
header's sensorConfig range (8000/2^n dps) is used. A file whose length is not the header plus
whole sectors was cut short (an interrupted copy) and is refused.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2, RawSession, check_id
from imuback.errors import RawFormatError
from imuback.formats.identity import check_keys, default_session_id, mounting_given, runner_id

log = logging.getLogger("imuback")

HEADER_BYTES = 1024
SECTOR_BYTES = 512
_HEADER_MAGIC = b"MD"
_SECTOR_MAGIC = 0x5841  # "AX" little-endian
_KEYS = frozenset({"runner_id", "session_id", "sensor", "mounting"})
_AX6 = 0x64

SECTOR_DTYPE = np.dtype([
    ("packet_header", "<u2"), ("packet_length", "<u2"), ("device_fractional", "<u2"),
    ("session_id", "<u4"), ("sequence_id", "<u4"), ("timestamp", "<u4"), ("light_scale", "<u2"),
    ("temperature", "<u2"), ("events", "u1"), ("battery", "u1"), ("rate_code", "u1"),
    ("num_axes_bps", "u1"), ("timestamp_offset", "<i2"), ("sample_count", "<u2"),
    ("samples", "V480"), ("checksum", "<u2"),
])
"""One data sector (``OM_READER_DATA_PACKET`` of cwa.h), 512 bytes."""
assert SECTOR_DTYPE.itemsize == SECTOR_BYTES


def is_cwa(head: bytes) -> bool:
    """Whether a file's first bytes are a CWA header block ("MD", packet length 1020)."""
    return head[:2] == _HEADER_MAGIC and int.from_bytes(head[2:4], "little") == HEADER_BYTES - 4


def rate_hz(rate_code: npt.NDArray[np.uint8] | int) -> npt.NDArray[np.float64]:
    """Sample rate of a cwa.h rate code: 3200 / 2^(15 - (code & 15)) Hz."""
    shift = 15 - (np.asarray(rate_code, dtype=np.int64) & 0x0F)
    out: npt.NDArray[np.float64] = 3200.0 / np.left_shift(1, shift).astype(np.float64)
    return out


def packed_time_ns(value: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """cwa.h packed timestamps (``YYYYYYMM MMDDDDDh hhhhmmmm mmssssss``, years since 2000) -> UTC ns.

    The device clock keeps the time the recording was set up with; OmGui sets it to UTC.
    """
    v = np.asarray(value, dtype=np.int64)
    months = ((v >> 26) & 0x3F) * 12 + ((v >> 22) & 0x0F) - 1 + (2000 - 1970) * 12
    days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + ((v >> 17) & 0x1F) - 1
    seconds: npt.NDArray[np.int64] = days * 86400 + ((v >> 12) & 0x1F) * 3600 + ((v >> 6) & 0x3F) * 60 + (v & 0x3F)
    return seconds * 1_000_000_000


def _header(buf: bytes, src: str) -> dict[str, Any]:
    if len(buf) < HEADER_BYTES or not is_cwa(buf):
        raise RawFormatError(f"{src}: {len(buf)} bytes, shorter than a CWA header block ({HEADER_BYTES} bytes): "
                             "the file was cut short; copy it from the device again")
    upper = int.from_bytes(buf[11:13], "little")
    return {"hardware": buf[4], "device_id": int.from_bytes(buf[5:7], "little") + ((0 if upper == 0xFFFF else upper)
                                                                                 << 16),
            "sensor_config": buf[35], "rate_code": buf[36]}


def read_cwa(path: str | Path, **identity: Any) -> RawSession:
    """Read an Axivity AX6 ``.cwa`` file as a raw session (sensor frame, as recorded).

    ``identity``: ``runner_id`` (required: the file names none), ``session_id`` (default: file
    stem + UTC start), ``sensor``, ``mounting``. Acceleration g -> m/s² (× 9.80665); gyro in deg/s.
    """
    path = Path(path)
    src = str(path)
    check_keys(identity, _KEYS, src=src, fmt="Axivity .cwa")
    runner = runner_id(identity, src=src)
    buf = path.read_bytes()
    head = _header(buf, src)
    body = len(buf) - HEADER_BYTES
    if body % SECTOR_BYTES:
        raise RawFormatError(f"{src}: truncated: {body % SECTOR_BYTES} bytes after the last whole {SECTOR_BYTES}-byte "
                             "sector (the copy from the device was interrupted?); copy the file again")
    if head["sensor_config"] in (0x00, 0xFF):
        raise RawFormatError(f"{src}: an accelerometer-only recording (Axivity AX3, or an AX6 set to accelerometer "
                             "only); imuback needs a gyroscope: record with an AX6 with its gyroscope on")
    sectors = np.frombuffer(buf, dtype=SECTOR_DTYPE, offset=HEADER_BYTES)
    words = np.frombuffer(buf, dtype="<u2", offset=HEADER_BYTES).reshape(-1, SECTOR_BYTES // 2)
    is_data = (sectors["packet_header"] == _SECTOR_MAGIC) & (sectors["packet_length"] == SECTOR_BYTES - 4)
    good = is_data & (words.sum(axis=1, dtype=np.uint16) == 0)
    n_bad = int(np.count_nonzero(is_data & ~good))
    n_other = int(sectors.size - np.count_nonzero(is_data))
    if not good.any():
        raise RawFormatError(f"{src}: no readable data sectors among {sectors.size} ({n_bad} failed their checksum); "
                             "the recording holds no samples imuback can trust")
    pos = np.flatnonzero(good)  # sector positions in the file
    s = sectors[pos]
    fmt = s[["rate_code", "num_axes_bps"]][0]
    changed = (s["rate_code"] != fmt["rate_code"]) | (s["num_axes_bps"] != fmt["num_axes_bps"])
    if changed.any():
        raise RawFormatError(f"{src}: the sample rate or axes change at sector {int(pos[np.argmax(changed)])}; "
                             "imuback reads one configuration per file: split the recording with OmGui")
    axes, packing = int(fmt["num_axes_bps"]) >> 4, int(fmt["num_axes_bps"]) & 0x0F
    if axes < 6:
        raise RawFormatError(f"{src}: an accelerometer-only recording ({axes} axes per sample); imuback needs a "
                             "gyroscope: record with an AX6 with its gyroscope on")
    if packing != 2:
        raise RawFormatError(f"{src}: sample packing {packing} with {axes} axes is not in the CWA specification "
                             "(int16 packing 2 expected)")
    fs = float(rate_hz(int(fmt["rate_code"])))
    per_sector = 480 // (2 * axes)
    count = s["sample_count"].astype(np.int64)
    if np.any(count > per_sector):
        raise RawFormatError(f"{src}: sector {int(pos[np.argmax(count > per_sector)])} claims more than "
                             f"{per_sector} samples of {axes} axes")
    # 1. samples: (sectors, per_sector, axes) int16 counts, the first sample_count of each sector
    counts = np.frombuffer(s["samples"].tobytes(), dtype="<i2").reshape(s.size, 240)[:, :per_sector * axes]
    counts = counts.reshape(s.size, per_sector, axes)
    keep = np.arange(per_sector)[None, :] < count[:, None]
    values = counts[keep]  # (N, axes), sector by sector
    # 2. scales per sector (lightScale AAAGGG...): accel 1/2^(8+A) g per count, gyro range 8000/2^G dps
    light = s["light_scale"].astype(np.int64)
    acc_g_per_count = 1.0 / np.left_shift(1, 8 + ((light >> 13) & 0x07)).astype(np.float64)
    g_code = (light >> 10) & 0x07
    header_range_dps = float(8000 >> (head["sensor_config"] & 0x0F))  # cwa.h sensorConfig: 8000/2^n dps
    # G = 0: the sector does not say; the header's configured range holds (OpenMovement's
    # cwa_load.py assumes 2000 dps there, 4x too large for a 500 dps recording)
    gyr_range_dps = np.where(g_code == 0, header_range_dps, 8000.0 / np.left_shift(1, g_code).astype(np.float64))
    # float32 as stored (24-bit mantissa > 16-bit counts): half the memory of float64 for long files
    acc_mps2 = values[:, 3:6] * np.repeat((acc_g_per_count * G_MPS2).astype(np.float32), count)[:, None]
    gyr_dps = values[:, 0:3] * np.repeat((gyr_range_dps / 32768.0).astype(np.float32), count)[:, None]
    # 3. times: sector timestamp (+ fraction) dates its sample timestampOffset; interpolate along the
    #    sequence of sectors (sequenceId * samples per sector: missing sectors leave their room)
    ts_ns = packed_time_ns(s["timestamp"])
    offset = s["timestamp_offset"].astype(np.int64)
    frac = s["device_fractional"].astype(np.int64)
    has_frac = (frac & 0x8000) != 0
    frac16 = np.where(has_frac, (frac & 0x7FFF) << 1, 0)
    offset = offset + np.where(has_frac, (frac16 * int(fs)) >> 16, 0)  # cwa.h: undo the whole-sample shim
    ts_ns = ts_ns + (frac16 * 1_000_000_000) // 65536
    base = s["sequence_id"].astype(np.int64) * per_sector
    if np.any(np.diff(base) <= 0):
        _refuse_sequence(s, pos, src=src)
    anchor_idx = (base + offset).astype(np.float64)
    anchor_s = (ts_ns - ts_ns[0]) / 1e9
    sample_idx = (np.repeat(base, count) + (np.arange(values.shape[0]) - np.repeat(np.cumsum(count) - count, count)))
    t_s = _interp_extrapolated(sample_idx.astype(np.float64), anchor_idx, anchor_s, fs)
    time_ns = ts_ns[0] + np.round(t_s * 1e9).astype(np.int64)
    # 4. what is missing, and why (never silently): sectors skipped between, before and after good ones
    gaps = _gap_log(pos, base, count, time_ns, per_sector, bad=is_data & ~good, fs=fs)
    if n_bad or n_other:
        log.warning("%s: %d sectors failed their checksum and %d are not data sectors; their samples are missing "
                    "(%d gaps recorded)", src, n_bad, n_other, len(gaps))
    sid = identity.get("session_id") or default_session_id(path, int(time_ns[0]))
    model = "AX6" if head["hardware"] == _AX6 or axes >= 6 else "AX3"
    return RawSession(session_id=check_id(str(sid), what="session id", source=src), runner_id=runner,
                      sensor=str(identity.get("sensor") or f"Axivity {model} {head['device_id']}"),
                      sample_rate_hz=fs, time_ns=time_ns, acc_mps2=acc_mps2, gyr_dps=gyr_dps, gaps=gaps,
                      acc_range_g=float(16 >> (int(fmt["rate_code"]) >> 6)),
                      gyr_range_dps=header_range_dps,
                      **mounting_given(identity), source=src)


def _refuse_sequence(s: npt.NDArray[np.void], pos: npt.NDArray[np.intp], *, src: str) -> None:
    """The error for readable sectors whose sequence numbers do not increase: a sector stored twice
    (the same number again) or recordings joined (the numbers go back). Sectors counted from 0.
    """
    seq = s["sequence_id"].astype(np.int64)
    i = int(np.flatnonzero(np.diff(seq) <= 0)[0])
    a, b = int(pos[i]), int(pos[i + 1])
    if seq[i + 1] == seq[i]:
        same = s[i].tobytes() == s[i + 1].tobytes()
        raise RawFormatError(f"{src}: sector {b} repeats sector {a}'s sequence number {int(seq[i])}"
                             + (", byte for byte: the sector was stored twice (a damaged copy from the device); "
                                "copy the file from the device again" if same else
                                ", with other samples: the file joins two recordings; split it with OmGui"))
    raise RawFormatError(f"{src}: the sector sequence numbers go back at sector {b} ({int(seq[i])} -> "
                         f"{int(seq[i + 1])}): the file joins two recordings; split it with OmGui")


def _interp_extrapolated(x: npt.NDArray[np.float64], xp: npt.NDArray[np.float64], fp: npt.NDArray[np.float64],
                         fs: float) -> npt.NDArray[np.float64]:
    """``np.interp``, continued past both ends with the rate between the outer anchors (``fs`` if one)."""
    slope = (fp[-1] - fp[0]) / (xp[-1] - xp[0]) if xp.size > 1 else 1.0 / fs
    out = np.interp(x, xp, fp)
    out = np.where(x < xp[0], fp[0] + (x - xp[0]) * slope, out)
    return np.where(x > xp[-1], fp[-1] + (x - xp[-1]) * slope, out)


def _gap_log(pos: npt.NDArray[np.intp], base: npt.NDArray[np.int64], count: npt.NDArray[np.int64],
             time_ns: npt.NDArray[np.int64], per_sector: int, *, bad: npt.NDArray[np.bool_],
             fs: float) -> tuple[dict[str, Any], ...]:
    """One entry per place where sectors are missing from the decoded data (the collector's gap log:
    first missing sample, next sample, samples lost, reason): between two good sectors, and failed
    sectors before the first or after the last good one (there the times follow the rate, and the
    "end" after the last is where the next sample would have been).
    """
    skipped = np.flatnonzero((np.diff(pos) > 1) | (np.diff(base) > per_sector))
    ends = np.cumsum(count) - 1  # last sample of each good sector
    n_bad = np.concatenate(([0], np.cumsum(bad)))  # bad sectors before each file position
    out = []
    for i in skipped.tolist():  # one per gap, not per sample
        between = int(pos[i + 1] - pos[i] - 1)
        failed = int(n_bad[pos[i + 1]] - n_bad[pos[i] + 1])
        reason = (f"{failed} sectors failed their checksum" if failed == between and failed
                  else f"{failed} sectors failed their checksum, {between - failed} are not data sectors" if between
                  else "sectors missing from the recording (sequence numbers skip)")
        out.append({"start": _iso(int(time_ns[ends[i]]) + round(1e9 / fs)), "end": _iso(int(time_ns[ends[i] + 1])),
                    "samples_lost": int(base[i + 1] - base[i] - count[i]), "reason": reason})
    # failed sectors before the first / after the last good one: no good neighbour dates them, so
    # their room is per_sector samples each at the rate, next to the first / last decoded sample
    step_ns = 1e9 / fs
    lead, trail = int(np.count_nonzero(bad[:pos[0]])), int(np.count_nonzero(bad[pos[-1] + 1:]))
    if lead:
        lost = lead * per_sector
        out.insert(0, {"start": _iso(int(time_ns[0]) - round(lost * step_ns)), "end": _iso(int(time_ns[0])),
                       "samples_lost": lost, "reason": f"{lead} sectors failed their checksum (before the first "
                                                        "readable sector)"})
    if trail:
        lost = trail * per_sector
        out.append({"start": _iso(int(time_ns[-1]) + round(step_ns)),
                    "end": _iso(int(time_ns[-1]) + round((lost + 1) * step_ns)), "samples_lost": lost,
                    "reason": f"{trail} sectors failed their checksum (after the last readable sector)"})
    return tuple(out)


def _iso(t_ns: int) -> str:
    return str(np.datetime_as_string(np.datetime64(t_ns, "ns"), unit="ms")) + "Z"
