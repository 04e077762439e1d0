"""Raw session files: one Parquet file per session, validated on every read (CSV: :mod:`imuback.formats`).

Columns: ``time`` (timestamp[ns, UTC]), ``acc_x/y/z`` float32 m/s² (one of them may be absent:
a two-axis accelerometer) and optional ``gyr_x/y/z`` float32 deg/s, all in the SENSOR frame.
Missing samples are missing rows. See docs/data_contract.md.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from imuback.core import G_MPS2 as G_MPS2
from imuback.core import ZONE_SOURCES, check_id
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
    if raw.mounting_source == "assumed":  # a placeholder, not a stated mounting (schema 1.7)
        meta[S.META_MOUNTING_ASSUMED] = "true"
    if raw.utc_offset_min is not None:  # where it was recorded (schema 1.8)
        meta[S.META_UTC_OFFSET_MIN] = str(int(raw.utc_offset_min))
        meta[S.META_UTC_OFFSET_SOURCE] = str(raw.utc_offset_source or "file")  # schema 1.9
    if raw.acc_absent:  # at most one (RawSession checks): the file declares the column it leaves out
        meta[S.META_ACC_ABSENT] = raw.acc_absent[0]
    return {k.encode(): v.encode() for k, v in meta.items()}


def raw_to_table(raw: RawSession) -> pa.Table:
    """Convert a :class:`RawSession` to an Arrow table with the raw schema and metadata."""
    cols: dict[str, pa.Array] = {"time": pa.array(raw.time_ns, type=pa.int64()).cast(S.TIME_TYPE)}
    for i, c in enumerate(S.ACC_COLUMNS):
        if c not in raw.acc_absent:  # a two-axis sensor's file has no column for the axis it lacks
            cols[c] = pa.array(np.ascontiguousarray(raw.acc_mps2[:, i]), type=pa.float32())
    if raw.gyr_dps is not None:
        for i, c in enumerate(S.GYR_COLUMNS):
            cols[c] = pa.array(np.ascontiguousarray(raw.gyr_dps[:, i]), type=pa.float32())
    if raw.speed_mps is not None:  # no fix: null, not NaN
        cols[S.SPEED_COLUMN] = pa.array(raw.speed_mps, type=pa.float32(), from_pandas=True)
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


def raw_file_matches(path: str | Path, raw: RawSession) -> bool:
    """Whether the file ``path`` holds exactly the bytes :func:`write_raw` writes for ``raw``."""
    path = Path(path)
    probe = path.with_name(f".{path.stem}.probe.parquet")
    try:
        write_raw(probe, raw)
        return filecmp.cmp(probe, path, shallow=False)
    finally:
        probe.unlink(missing_ok=True)


def check_raw_path(path: Path) -> None:
    """A clear error unless ``path`` is an existing, non-empty file."""
    if path.is_dir():
        raise RawFormatError(f"{path}: is a folder, not a raw session file; give the files in it "
                             "(or use 'imuback batch' for a folder)")
    if not path.exists():
        raise RawFormatError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise RawFormatError(f"{path}: the file is empty")


def read_raw(path: str | Path) -> RawSession:
    """Read and validate a raw session Parquet file (the raw contract, docs/data_contract.md).

    Other formats (CSV...) are read by :func:`imuback.formats.read_session`.
    """
    path = Path(path)
    src = str(path)
    check_raw_path(path)
    if path.suffix.lower() == ".csv":
        raise RawFormatError(f"{src}: a CSV file; read it with imuback.formats.read_session (or imuback.read)")
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


def table_to_raw(table: pa.Table, meta: dict[str, str], *, source: str,
                 mounting_source: str = "file", start_source: str = "file") -> RawSession:
    """Validate an Arrow table + metadata against the raw contract and build a RawSession
    (``mounting_source``: where ``imuback.mounting`` came from, :data:`imuback.core.MOUNTING_SOURCES`;
    ``start_source``: where its first sample's time did, :data:`imuback.core.START_SOURCES`).
    """
    missing = [k for k in S.REQUIRED_RAW_META if k not in meta]
    if missing:
        raise RawFormatError(f"{source}: missing schema metadata {missing}")
    major = meta[S.META_SCHEMA_VERSION].split(".")[0]
    if major != S.SCHEMA_VERSION.split(".")[0]:
        raise RawFormatError(f"{source}: schema version {meta[S.META_SCHEMA_VERSION]} is not "
                             f"readable by this imuback (schema {S.SCHEMA_VERSION})")
    names = set(table.column_names)
    if "time" not in names:
        raise RawFormatError(f"{source}: missing column 'time'")
    acc_absent = declared_acc_absent(meta, table.column_names, source=source)
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
            if c in acc_absent:
                out[:, i] = 0.0
                continue
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
    speed = None
    if S.SPEED_COLUMN in names:
        col = table.column(S.SPEED_COLUMN)
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_null(col.type)):
            raise RawFormatError(f"{source}: column {S.SPEED_COLUMN!r} must be numeric (m/s), got {col.type}")
        speed = np.asarray(col.cast(pa.float32()).fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float32)
    try:
        mounting = np.asarray(_json(meta, S.META_MOUNTING, source=source), dtype=np.float64)
        rate = float(meta[S.META_SAMPLE_RATE_HZ])
        gaps = tuple(_json(meta, S.META_GAPS, source=source, default="[]"))
    except (ValueError, TypeError) as exc:
        raise RawFormatError(f"{source}: unreadable metadata ({str(exc)[:200]})") from None
    if mounting.shape != (3, 3):
        raise RawFormatError(f"{source}: metadata {S.META_MOUNTING} must be a 3x3 matrix (row-major JSON), "
                             f"got shape {mounting.shape}")
    assumed = meta.get(S.META_MOUNTING_ASSUMED, "false").strip().lower()
    if assumed not in ("true", "false"):
        raise RawFormatError(f"{source}: metadata {S.META_MOUNTING_ASSUMED} must be true or false, got "
                             f"{meta[S.META_MOUNTING_ASSUMED][:40]!r}")
    if assumed == "true":
        mounting_source = "assumed"
    offset_text = meta.get(S.META_UTC_OFFSET_MIN)
    try:
        offset = None if offset_text is None else int(offset_text.strip())
    except ValueError:
        raise RawFormatError(f"{source}: metadata {S.META_UTC_OFFSET_MIN} must be whole minutes (60 for "
                             f"UTC+01:00), got {str(offset_text)[:40]!r}") from None
    offset_source = meta.get(S.META_UTC_OFFSET_SOURCE, "file").strip()  # absent (before 1.9): as stated
    if offset_source not in ZONE_SOURCES:
        raise RawFormatError(f"{source}: metadata {S.META_UTC_OFFSET_SOURCE} must be one of {list(ZONE_SOURCES)}, "
                             f"got {offset_source[:40]!r}")
    return RawSession(
        session_id=check_id(meta[S.META_SESSION_ID], what="session_id", source=source),
        runner_id=check_id(meta[S.META_RUNNER_ID], what="runner_id", source=source),
        sensor=meta[S.META_SENSOR],
        sample_rate_hz=rate,
        time_ns=time_ns,
        acc_mps2=acc,
        gyr_dps=gyr,
        mounting=mounting,
        mounting_source=mounting_source,
        gaps=gaps,
        acc_range_g=_number(meta, S.META_ACC_RANGE_G, source=source),
        gyr_range_dps=_number(meta, S.META_GYR_RANGE_DPS, source=source),
        source=source,
        speed_mps=speed,
        acc_absent=acc_absent,
        utc_offset_min=offset,
        utc_offset_source=offset_source,
        start_source=start_source,
    )


def declared_acc_absent(meta: dict[str, str], names: list[str], *, source: str, hint: str = "",
                        declare_in: str = "the file's Parquet metadata") -> tuple[str, ...]:
    """The accelerometer column a two-axis sensor lacks, as ``meta`` declares it (``imuback.acc_absent``),
    checked against the file's column ``names``: a missing acc column not declared so is an error (a
    misspelt header must not silently become a two-axis sensor). ``hint``: the format's own advice
    (CSV: ``--columns``); ``declare_in``: where such a file declares the axis it lacks.
    """
    declared = meta.get(S.META_ACC_ABSENT, "").strip()
    if declared and declared not in S.ACC_COLUMNS:
        raise RawFormatError(f"{source}: {S.META_ACC_ABSENT} = {declared!r} is not one of {list(S.ACC_COLUMNS)}")
    if declared in names:
        raise RawFormatError(f"{source}: {S.META_ACC_ABSENT} declares {declared!r} absent, but the file has that "
                             f"column; drop the column or the {S.META_ACC_ABSENT} key")
    missing = [c for c in S.ACC_COLUMNS if c not in names and c != declared]
    if missing:
        two_axis = (f'; a sensor with only two accelerometer axes declares the one it lacks: "{S.META_ACC_ABSENT}": '
                    f'"{missing[0]}" in {declare_in}' if len(missing) == 1 and not declared else
                    f"; a session needs at least two of {list(S.ACC_COLUMNS)}")
        raise RawFormatError(f"{source}: missing column(s) {missing}; found {names[:20]}"
                             + (f"; {hint}" if hint else "") + two_axis)
    return (declared,) if declared else ()


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
