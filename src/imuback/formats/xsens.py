"""Xsens MTw / DOT text exports: ``PacketCounter`` sample clock, ``Acc_X/Y/Z``, ``Gyr_X/Y/Z``.

An export is a few preamble lines (MT Manager writes ``// Update Rate: 100.00Hz``; other tools
``Acquisition frequency: 100 Hz``), then a header row and one row per received packet, separated by
tabs, commas or semicolons. ``PacketCounter`` counts samples on the sensor (a 16-bit counter that
wraps at 65536): where the wireless link dropped packets it skips, and those samples stay missing
rows. Units as MT Manager exports them: acceleration m/s² (incl. gravity), angular velocity rad/s
(``--gyr-unit deg/s`` for an export in deg/s). The UTC time comes from ``UTC_Year...UTC_Nano``
columns when the export has them, else from ``--start``; the runner from ``--runner``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from imuback.core import RawSession, check_id
from imuback.errors import RawFormatError
from imuback.formats.identity import check_keys, check_stated, default_session_id, mounting_given, runner_id, start_ns

if TYPE_CHECKING:
    from imuback.formats.csv import ColumnMapping

COUNTER_MODULO = 65536
"""``PacketCounter`` is an unsigned 16-bit number: it wraps to 0 after 65535."""
SENSOR = "Xsens MTw"
_RATE = re.compile(r"(?:rate|frequency)\D{0,20}?(\d+(?:\.\d+)?)\s*Hz", re.IGNORECASE)
_ACC, _GYR = ("Acc_X", "Acc_Y", "Acc_Z"), ("Gyr_X", "Gyr_Y", "Gyr_Z")
_UTC = ("UTC_Year", "UTC_Month", "UTC_Day", "UTC_Hour", "UTC_Minute", "UTC_Second", "UTC_Nano")
_KEYS = frozenset({"runner_id", "session_id", "start", "sensor", "sample_rate_hz", "mounting"})
_MAX_PREAMBLE = 30


def _is_header(line: str) -> bool:
    return "PacketCounter" in line and "Acc_X" in line


def is_xsens_text(head: bytes) -> bool:
    """Whether a file's first bytes hold an Xsens export's header row (``PacketCounter``, ``Acc_X``)."""
    return any(_is_header(line) for line in head.decode("utf-8", errors="replace").splitlines()[:_MAX_PREAMBLE])


def read_xsens(path: str | Path, *, mapping: ColumnMapping | None = None, **identity: Any) -> RawSession:
    """Read one Xsens MTw/DOT text export as a raw session (sensor frame, as exported).

    ``identity``: ``runner_id`` (required), ``session_id`` (default: file stem + UTC start),
    ``start`` (ISO 8601; required without UTC columns), ``sensor``, ``sample_rate_hz`` (required
    when the preamble states no rate), ``mounting``. ``mapping``: only its units are used.
    """
    from imuback.formats.csv import ColumnMapping, unit_scales

    path = Path(path)
    src = str(path)
    check_keys(identity, _KEYS, src=src, fmt="Xsens text export")
    runner = runner_id(identity, src=src)
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [f.readline() for _ in range(_MAX_PREAMBLE)]
    h = next((i for i, line in enumerate(lines) if _is_header(line)), None)
    if h is None:
        raise RawFormatError(f"{src}: no 'PacketCounter ... Acc_X' header row in its first {_MAX_PREAMBLE} lines; "
                             "not an Xsens text export (export with PacketCounter, Acc and Gyr)")
    rate = identity.get("sample_rate_hz")
    found = [m for m in map(_RATE.search, lines[:h]) if m]
    if rate is None and not found:
        raise RawFormatError(f"{src}: the export states no update rate (e.g. '// Update Rate: 100.00Hz'); "
                             "give sample_rate_hz")
    fs = float(rate if rate is not None else found[0].group(1))
    delimiter = max(("\t", ",", ";"), key=lines[h].count)
    try:
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows=h),
                               parse_options=pacsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as exc:
        raise RawFormatError(f"{src}: unreadable rows after the header ({str(exc)[:200]})") from None
    names = table.column_names
    missing = [c for c in ("PacketCounter", *_ACC) if c not in names]
    if missing:
        raise RawFormatError(f"{src}: missing column(s) {missing}; found {names[:20]}")
    has_gyr = [c for c in _GYR if c in names]
    if has_gyr and len(has_gyr) != 3:
        raise RawFormatError(f"{src}: gyro columns must be all of {list(_GYR)} or none; found {has_gyr}")

    def block(cols: tuple[str, ...]) -> np.ndarray[Any, np.dtype[np.float64]]:
        try:
            out = np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
                                   for c in cols])
        except (TypeError, ValueError, pa.ArrowInvalid):
            raise RawFormatError(f"{src}: columns {list(cols)} must be numbers in every row") from None
        if not np.isfinite(out).all():
            row = int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])
            raise RawFormatError(f"{src}: {list(cols)} empty or not a number in data row {row + 1} (line "
                                 f"{h + row + 2}); drop incomplete rows from the export")
        return out

    counter = block(("PacketCounter",))[:, 0]
    if counter.size < 2:
        raise RawFormatError(f"{src}: {counter.size} data rows; a session needs samples")
    step = np.mod(np.diff(counter), COUNTER_MODULO)
    if np.any(step == 0):
        row = int(np.flatnonzero(step == 0)[0]) + 1
        raise RawFormatError(f"{src}: PacketCounter {counter[row]:g} repeats at data row {row + 1}; a packet "
                             "was exported twice: remove the duplicate rows")
    back = np.flatnonzero(step >= COUNTER_MODULO // 2)
    if back.size:  # a wrap is 65535 -> 0 (a small step); half the counter's range is a counter going back
        row = int(back[0]) + 1
        raise RawFormatError(f"{src}: PacketCounter goes back from {counter[row - 1]:g} to {counter[row]:g} at data "
                             f"row {row + 1} (line {h + row + 2}): the sensor restarted or rows are out of order, "
                             "or over half the counter's range (32768 packets) was lost; split the export there")
    k = np.concatenate(([0.0], np.cumsum(step)))  # samples since the first, on the sensor's clock
    dated = all(c in names for c in _UTC)  # the export dates itself: a --start given must be its moment
    if dated:
        utc = block(_UTC[:6])[0].astype(np.int64)
        nano = int(block(_UTC[6:])[0, 0])
        t0 = int(np.datetime64(f"{utc[0]:04d}-{utc[1]:02d}-{utc[2]:02d}T{utc[3]:02d}:{utc[4]:02d}:{utc[5]:02d}",
                               "ns").astype(np.int64)) + nano
        check_stated("start", t0, identity.get("start"), src=src, states="the export's UTC_* columns put the first "
                     "sample at")
    elif identity.get("start") is not None:
        t0 = start_ns(str(identity["start"]), src=src)
    else:
        raise RawFormatError(f"{src}: the export has no UTC_* columns, so no date: give the start time of its "
                             "first sample (--start 2024-03-04T07:00:00Z, ISO 8601)")
    acc_scale, gyr_scale = unit_scales(mapping or ColumnMapping(), gyr_default="rad/s")
    acc = block(_ACC) * acc_scale
    gyr = block(_GYR) * gyr_scale if has_gyr else None
    sid = identity.get("session_id") or default_session_id(path, t0)
    return RawSession(session_id=check_id(str(sid), what="session id", source=src), runner_id=runner,
                      sensor=str(identity.get("sensor") or SENSOR), sample_rate_hz=fs,
                      time_ns=t0 + np.round(k * (1e9 / fs)).astype(np.int64), acc_mps2=acc.astype(np.float32),
                      gyr_dps=None if gyr is None else gyr.astype(np.float32),
                      **mounting_given(identity), source=src, start_source="file" if dated else "given")
