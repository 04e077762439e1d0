"""Raw session files: one Parquet (or CSV) file per session, validated on every read.

Columns: ``time`` (timestamp[ns, UTC]), ``acc_x/y/z`` float32 m/s² and optional ``gyr_x/y/z``
float32 deg/s, all in the SENSOR frame. Missing samples are missing rows. See docs/data_contract.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imuback.core import G_MPS2 as G_MPS2
from imuback.core import MAX_ID_LEN, check_id
from imuback.core import RawSession as RawSession
from imuback.errors import RawFormatError
from imuback.store import schema as S


def _metadata(raw: RawSession) -> dict[bytes, bytes]:
    meta = {
        S.META_SCHEMA_VERSION: S.SCHEMA_VERSION,
        S.META_SESSION_ID: raw.session_id,
        S.META_RUNNER_ID: raw.runner_id,
        S.META_SENSOR: raw.sensor,
        S.META_SAMPLE_RATE_HZ: repr(float(raw.sample_rate_hz)),
        S.META_MOUNTING: json.dumps(np.asarray(raw.mounting, dtype=float).tolist()),
        S.META_GAPS: json.dumps(list(raw.gaps)),
    }
    if raw.acc_range_g is not None:
        meta[S.META_ACC_RANGE_G] = repr(float(raw.acc_range_g))
    if raw.gyr_range_dps is not None:
        meta[S.META_GYR_RANGE_DPS] = repr(float(raw.gyr_range_dps))
    return {k.encode(): v.encode() for k, v in meta.items()}


def raw_to_table(raw: RawSession) -> pa.Table:
    """Convert a :class:`RawSession` to an Arrow table with the raw schema and metadata."""
    cols: dict[str, pa.Array] = {"time": pa.array(raw.time_ns, type=pa.int64()).cast(S.TIME_TYPE)}
    for i, c in enumerate(S.ACC_COLUMNS):
        cols[c] = pa.array(np.ascontiguousarray(raw.acc_mps2[:, i]), type=pa.float32())
    if raw.gyr_dps is not None:
        for i, c in enumerate(S.GYR_COLUMNS):
            cols[c] = pa.array(np.ascontiguousarray(raw.gyr_dps[:, i]), type=pa.float32())
    fields = [S.RAW_SCHEMA.field(name) for name in cols]
    return pa.Table.from_arrays(list(cols.values()), schema=pa.schema(fields, metadata=_metadata(raw)))


def write_raw(path: str | Path, raw: RawSession) -> Path:
    """Write a raw session Parquet file atomically (temp file + rename); return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # raw files are read again on every re-processing. Sample times as deltas (a near-constant
    # step packs into a few bits) and the sensor's quantised values as dictionaries, no general
    # compression: 1 h at 200 Hz is 6.6 MB and reads in ~28 ms, against 11 MB and 30-42 ms with lz4
    # and the time column stored plain (a float column that is not quantised falls back to plain)
    table = raw_to_table(raw)
    pq.write_table(table, tmp, compression="none", use_dictionary=[c for c in table.column_names if c != "time"],
                   column_encoding={"time": "DELTA_BINARY_PACKED"})
    tmp.replace(path)
    return path


def read_raw(path: str | Path, **csv_meta: Any) -> RawSession:
    """Read and validate a raw session (``.parquet`` or ``.csv``).

    For CSV, metadata comes from ``csv_meta`` keyword arguments (``session_id``, ``runner_id``,
    ``sensor``, ``sample_rate_hz``, ``mounting``, ``start``) or a JSON sidecar ``<file>.json``
    with the ``imuback.*`` keys. A CSV needs a runner id (else it is refused); its session id
    defaults to ``<file stem>-<UTC start time>`` and its rate to the median sample interval. Its
    ``time`` column is ISO 8601, or epoch seconds, milliseconds, microseconds or nanoseconds
    (told apart by size), or seconds since the start when ``start`` (ISO 8601) is given.
    """
    path = Path(path)
    src = str(path)
    if path.is_dir():
        raise RawFormatError(f"{src}: is a folder, not a raw session file; give the files in it "
                             "(or use 'imuback batch' for a folder)")
    if not path.exists():
        raise RawFormatError(f"{src}: no such file")
    if path.stat().st_size == 0:
        raise RawFormatError(f"{src}: the file is empty")
    if path.suffix.lower() == ".csv":
        table, meta = _read_csv(path, csv_meta)
    else:
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise RawFormatError(f"{src}: not a readable Parquet file ({exc})") from exc
        meta = {}
        for k, v in (table.schema.metadata or {}).items():
            try:
                meta[k.decode()] = v.decode()
            except UnicodeDecodeError:
                raise RawFormatError(f"{src}: schema metadata {k[:40]!r} is not UTF-8 text; rewrite the "
                                     "file's metadata as UTF-8") from None
    return table_to_raw(table, meta, source=src)


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
        try:
            t0 = np.datetime64(_parse_start(start, src=src), "ns").astype(np.int64)
        except ValueError:
            raise RawFormatError(f"{src}: --start {start!r} is not an ISO 8601 time") from None
        return np.asarray(t0 + np.round(np.asarray(x, dtype=np.float64) * 1e9).astype(np.int64), dtype=np.int64)
    ns_per = next(ns for limit, ns, _name in EPOCH_UNITS if abs(first) < limit)
    if np.issubdtype(x.dtype, np.integer):
        return np.asarray(x, dtype=np.int64) * ns_per
    return np.round(np.asarray(x, dtype=np.float64) * ns_per).astype(np.int64)


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
        stamp = np.datetime_as_string(np.datetime64(int(tn[0]), "ns"), unit="s").replace("-", "").replace(":", "")
        stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in path.stem).lstrip(".") or "csv"
        meta[S.META_SESSION_ID] = f"{stem[:MAX_ID_LEN - 17]}-{stamp}Z"
    meta.setdefault(S.META_SENSOR, "csv")
    meta.setdefault(S.META_MOUNTING, json.dumps(np.eye(3).tolist()))
    if S.META_SAMPLE_RATE_HZ not in meta:
        dt = np.median(np.diff(tn)) if tn.size > 1 else 0
        if dt <= 0:
            raise RawFormatError(f"{src}: cannot infer the sample rate from 'time'; give sample_rate_hz")
        meta[S.META_SAMPLE_RATE_HZ] = repr(round(1e9 / float(dt), 3))
    return table, meta


def table_to_raw(table: pa.Table, meta: dict[str, str], *, source: str) -> RawSession:
    """Validate an Arrow table + metadata against the raw contract and build a RawSession."""
    missing = [k for k in S.REQUIRED_RAW_META if k not in meta]
    if missing:
        raise RawFormatError(f"{source}: missing schema metadata {missing}")
    major = meta[S.META_SCHEMA_VERSION].split(".")[0]
    if major != S.SCHEMA_VERSION.split(".")[0]:
        raise RawFormatError(f"{source}: schema version {meta[S.META_SCHEMA_VERSION]} is not "
                             f"readable by this imuback (schema {S.SCHEMA_VERSION})")
    names = set(table.column_names)
    for col in ("time", *S.ACC_COLUMNS):
        if col not in names:
            raise RawFormatError(f"{source}: missing column {col!r}")
    present_gyr = [c for c in S.GYR_COLUMNS if c in names]
    if present_gyr and len(present_gyr) != 3:
        raise RawFormatError(f"{source}: gyro columns must be all of {S.GYR_COLUMNS} or none; found {present_gyr}")
    if table.num_rows == 0:
        raise RawFormatError(f"{source}: the file has no samples (0 rows)")
    tcol = table.column("time")
    if not pa.types.is_timestamp(tcol.type) or tcol.type.tz is None:
        raise RawFormatError(f"{source}: column 'time' must be timestamp[ns, tz=UTC], got {tcol.type} "
                             "(a time without a time zone is ambiguous: store it as UTC)")
    if tcol.null_count:
        raise RawFormatError(f"{source}: column 'time' has {tcol.null_count} null values")
    time_ns = np.asarray(tcol.cast(pa.timestamp("ns", tz=tcol.type.tz)).cast(pa.int64()).to_numpy(), dtype=np.int64)

    def _matrix(cols: tuple[str, ...], unit: str) -> npt.NDArray[np.float32]:
        out = np.empty((table.num_rows, 3), dtype=np.float32, order="F")  # column by column, as stored
        for i, c in enumerate(cols):
            col = table.column(c)
            if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
                raise RawFormatError(f"{source}: column {c!r} must be numeric ({unit}), got {col.type}")
            if col.null_count:
                raise RawFormatError(f"{source}: column {c!r} has {col.null_count} null values; missing "
                                     "samples must be missing rows, so drop them")
            start = 0
            for chunk in col.chunks:  # straight into the column: no concatenated copy first
                out[start : start + len(chunk), i] = chunk.to_numpy(zero_copy_only=False)
                start += len(chunk)
        return out

    acc = _matrix(S.ACC_COLUMNS, "m/s^2")
    gyr = _matrix(S.GYR_COLUMNS, "deg/s") if present_gyr else None
    try:
        mounting = np.asarray(_json(meta, S.META_MOUNTING, source=source), dtype=np.float64)
        rate = float(meta[S.META_SAMPLE_RATE_HZ])
        gaps = tuple(_json(meta, S.META_GAPS, source=source, default="[]"))
    except (ValueError, TypeError) as exc:
        raise RawFormatError(f"{source}: unreadable metadata ({str(exc)[:200]})") from None
    if mounting.shape != (3, 3):
        raise RawFormatError(f"{source}: metadata {S.META_MOUNTING} must be a 3x3 matrix (row-major JSON), "
                             f"got shape {mounting.shape}")
    return RawSession(
        session_id=check_id(meta[S.META_SESSION_ID], what="session_id", source=source),
        runner_id=check_id(meta[S.META_RUNNER_ID], what="runner_id", source=source),
        sensor=meta[S.META_SENSOR],
        sample_rate_hz=rate,
        time_ns=time_ns,
        acc_mps2=acc,
        gyr_dps=gyr,
        mounting=mounting,
        gaps=gaps,
        acc_range_g=_number(meta, S.META_ACC_RANGE_G, source=source),
        gyr_range_dps=_number(meta, S.META_GYR_RANGE_DPS, source=source),
        source=source,
    )


def _json(meta: dict[str, str], key: str, *, source: str, default: str | None = None) -> Any:
    """The JSON value under ``key``; a one-line error naming the key when it is not JSON."""
    text = meta.get(key, default)
    if text is None:
        raise RawFormatError(f"{source}: missing metadata {key}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise RawFormatError(f"{source}: metadata {key} is not valid JSON (or nested too deeply): "
                             f"{text[:40]!r}...") from None


def _number(meta: dict[str, str], key: str, *, source: str) -> float | None:
    """The optional number under ``key`` (None when absent); a clear error when it is not one."""
    if key not in meta:
        return None
    try:
        return float(meta[key])
    except ValueError:
        raise RawFormatError(f"{source}: metadata {key} = {meta[key][:40]!r} is not a number") from None
