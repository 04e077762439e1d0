"""CSV sessions (researchers' own exports): the raw contract's columns, time in dates or numbers.

Columns ``time, acc_x, acc_y, acc_z[, gyr_x, gyr_y, gyr_z]`` (m/s², deg/s, sensor frame),
separated by ``,``, ``;`` or tabs. Identity from a ``<file>.csv.json`` sidecar or the caller
(docs/data_contract.md, CSV import).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from imuback.core import MAX_ID_LEN, RawSession
from imuback.errors import RawFormatError
from imuback.store import schema as S
from imuback.store.raw import check_raw_path, table_to_raw


def read_csv_session(path: str | Path, **identity: Any) -> RawSession:
    """Read and validate one CSV session.

    ``identity``: ``session_id``, ``runner_id``, ``sensor``, ``sample_rate_hz``, ``mounting``,
    ``start`` (what the sidecar does not give). A runner id is required; the session id defaults
    to ``<file stem>-<UTC start time>`` and the rate to the median sample interval. ``time`` is
    ISO 8601, or epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size),
    or seconds since the start when ``start`` (ISO 8601) is given.
    """
    path = Path(path)
    check_raw_path(path)
    table, meta = _read_csv(path, identity)
    return table_to_raw(table, meta, source=str(path))


EPOCH_UNITS = ((1e11, 10**9, "seconds"), (1e14, 10**6, "milliseconds"), (1e17, 10**3, "microseconds"),
               (float("inf"), 1, "nanoseconds"))
"""(largest first value, ns per unit, name): epoch times after 1973 in s, ms, µs or ns."""
RELATIVE_MAX = 1e8
"""A first time value below this (~3 years in seconds) is time since the start, not an epoch."""


def _delimiter(path: Path) -> str:
    """The CSV's delimiter: the commonest of ``, ; tab`` in its header line."""
    with open(path, "rb") as f:
        head = f.readline(65536).decode("utf-8", errors="replace")
    return max((",", ";", "\t"), key=head.count)


def csv_sidecar(path: Path) -> dict[str, str]:
    """The ``<file>.json`` sidecar's keys (a JSON object), or {} when there is none."""
    sidecar = path.with_name(path.name + ".json")
    if not sidecar.exists():
        return {}
    try:
        value = json.loads(sidecar.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, OSError) as exc:
        raise RawFormatError(f"{sidecar}: not valid JSON ({str(exc)[:80]}); it must be one object of "
                             "imuback.* keys") from None
    if not isinstance(value, dict):
        raise RawFormatError(f"{sidecar}: must be a JSON object of imuback.* keys, not a {type(value).__name__}")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _time_ns(t: pa.ChunkedArray, *, src: str, start: str | None) -> npt.NDArray[np.int64]:
    """UTC ns of a CSV ``time`` column (see :func:`read_raw`)."""
    if pa.types.is_timestamp(t.type):
        if start is not None:
            raise RawFormatError(f"{src}: column 'time' holds dates already; drop --start")
        ts = t.cast(pa.timestamp("ns", tz="UTC") if t.type.tz else pa.timestamp("ns"))
        return np.asarray(ts.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    if not (pa.types.is_integer(t.type) or pa.types.is_floating(t.type)):
        raise RawFormatError(f"{src}: column 'time' must be ISO 8601 dates or epoch numbers, got {t.type}")
    x = t.to_numpy(zero_copy_only=False)
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = float(x[0])
    if start is not None or abs(first) < RELATIVE_MAX:
        if start is None:
            raise RawFormatError(f"{src}: column 'time' starts at {first:g}: seconds since the start, not a "
                                 "date; give the start time (--start 2024-03-04T07:00:00Z, ISO 8601)")
        t0 = parse_start_ns(start, src=src)
        return np.asarray(t0 + np.round(np.asarray(x, dtype=np.float64) * 1e9).astype(np.int64), dtype=np.int64)
    ns_per = next(ns for limit, ns, _name in EPOCH_UNITS if abs(first) < limit)
    if np.issubdtype(x.dtype, np.integer):
        return np.asarray(x, dtype=np.int64) * ns_per
    return np.round(np.asarray(x, dtype=np.float64) * ns_per).astype(np.int64)


def default_session_id(path: Path, t0_ns: int) -> str:
    """A session id for a file without one: ``<file stem>-<UTC start, YYYYMMDDTHHMMSS>Z``."""
    stamp = np.datetime_as_string(np.datetime64(int(t0_ns), "ns"), unit="s").replace("-", "").replace(":", "")
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in path.stem).lstrip(".") or "session"
    return f"{stem[:MAX_ID_LEN - 17]}-{stamp}Z"


def parse_start_ns(start: str, *, src: str) -> int:
    """An ISO 8601 start time (``--start``) as UTC ns since the epoch; a clear error otherwise."""
    try:
        return int(np.datetime64(_parse_start(start, src=src), "ns").astype(np.int64))
    except ValueError:
        raise RawFormatError(f"{src}: --start {start!r} is not an ISO 8601 time") from None


def _parse_start(start: str, *, src: str) -> Any:
    """ISO 8601 start time -> naive UTC datetime (a time zone is converted, none means UTC)."""
    import datetime as dt

    try:
        when = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise RawFormatError(f"{src}: --start {start!r} is not an ISO 8601 time") from None
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def _read_csv(path: Path, given: dict[str, Any]) -> tuple[pa.Table, dict[str, str]]:
    src = str(path)
    try:
        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=_delimiter(path)))
    except (pa.ArrowInvalid, OSError) as exc:
        raise RawFormatError(f"{src}: not a readable CSV file ({str(exc)[:200]})") from exc
    required = ("time", *S.ACC_COLUMNS)
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise RawFormatError(f"{src}: missing column(s) {missing}; found {table.column_names[:20]}")
    given = dict(given)
    start = given.pop("start", None)
    tn = _time_ns(table.column("time"), src=src, start=None if start is None else str(start))
    table = table.set_column(table.column_names.index("time"), "time", pa.array(tn).cast(S.TIME_TYPE))
    meta = csv_sidecar(path)
    for key, value in given.items():
        if value is not None:
            meta[f"imuback.{key}"] = value if isinstance(value, str) else json.dumps(value)
    if S.META_RUNNER_ID not in meta:
        raise RawFormatError(f"{src}: no runner id: a CSV needs one to keep runners apart; give --runner "
                             f"(or imuback.runner_id in {path.name}.json)")
    meta.setdefault(S.META_SCHEMA_VERSION, S.SCHEMA_VERSION)
    if S.META_SESSION_ID not in meta and tn.size:
        meta[S.META_SESSION_ID] = default_session_id(path, int(tn[0]))
    meta.setdefault(S.META_SENSOR, "csv")
    meta.setdefault(S.META_MOUNTING, json.dumps(np.eye(3).tolist()))
    if S.META_SAMPLE_RATE_HZ not in meta:
        dt = np.median(np.diff(tn)) if tn.size > 1 else 0
        if dt <= 0:
            raise RawFormatError(f"{src}: cannot infer the sample rate from 'time'; give sample_rate_hz")
        meta[S.META_SAMPLE_RATE_HZ] = repr(round(1e9 / float(dt), 3))
    return table, meta
