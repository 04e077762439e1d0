"""CSV sessions (researchers' own exports): the raw contract's columns, time in dates or numbers.

Columns ``time, acc_x, acc_y, acc_z[, gyr_x, gyr_y, gyr_z]`` (m/s², deg/s, sensor frame),
separated by ``,``, ``;`` or tabs. Identity from a ``<file>.csv.json`` sidecar or the caller
(docs/data_contract.md, CSV import). Other column names and units: a :class:`ColumnMapping`
(``--columns time=ts,acc_x=ax,... --acc-unit g --gyr-unit rad/s --time-unit ms``).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from imuback.core import G_MPS2, RawSession
from imuback.errors import RawFormatError, UnitsError
from imuback.formats.encoding import refuse_wide, wide_encoding
from imuback.formats.identity import UndatedStart, check_stated, default_session_id, start_ns
from imuback.store import schema as S
from imuback.store.raw import check_raw_path, declared_acc_absent, table_to_raw

AccUnit = Literal["m/s2", "g"]
GyrUnit = Literal["deg/s", "rad/s"]
TimeUnit = Literal["auto", "s", "ms", "us", "ns"]
TIME_UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_COLUMNS = ("time", *S.ACC_COLUMNS, *S.GYR_COLUMNS)


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMapping:
    """How a CSV's own columns and units map to the raw contract.

    Attributes
    ----------
    columns : ((contract column, file column), ...), e.g. ``(("time", "ts"), ("acc_x", "ax"))``;
        contract columns not named keep their own names.
    acc_unit : ``"m/s2"`` or ``"g"`` (multiplied by 9.80665); None: the format's own (CSV: m/s²).
    gyr_unit : ``"deg/s"`` or ``"rad/s"`` (converted to deg/s); None: the format's own (CSV:
        deg/s, Xsens text exports: rad/s). The units also apply to Xsens exports.
    time_unit : ``"auto"`` (dates, or epoch s/ms/µs/ns told apart by size) or ``"s"``, ``"ms"``,
        ``"us"``, ``"ns"``: epoch time in that unit, or time since the start when a start is given.
    """

    columns: tuple[tuple[str, str], ...] = ()
    acc_unit: AccUnit | None = None
    gyr_unit: GyrUnit | None = None
    time_unit: TimeUnit = "auto"

    def __post_init__(self) -> None:
        for ours, _theirs in self.columns:
            if ours not in _COLUMNS:
                raise RawFormatError(f"--columns: {ours!r} is not a raw contract column; name one of {list(_COLUMNS)}")
        for name, value, allowed in (("acc unit", self.acc_unit, (None, "m/s2", "g")),
                                     ("gyro unit", self.gyr_unit, (None, "deg/s", "rad/s")),
                                     ("time unit", self.time_unit, ("auto", *TIME_UNIT_NS))):
            if value not in allowed:
                raise RawFormatError(f"--columns: {name} {value!r} is not one of {list(allowed)}")

    @classmethod
    def parse(cls, text: str, *, acc_unit: str | None = None, gyr_unit: str | None = None,
              time_unit: str = "auto") -> ColumnMapping:
        """From the command line's ``time=ts,acc_x=ax,...`` (contract column = file column)."""
        pairs = []
        for item in filter(None, (p.strip() for p in text.split(","))):
            ours, eq, theirs = item.partition("=")
            if not eq or not ours.strip() or not theirs.strip():
                raise RawFormatError(f"--columns: {item!r} is not COLUMN=NAME (e.g. time=ts,acc_x=ax)")
            pairs.append((ours.strip(), theirs.strip()))
        return cls(columns=tuple(pairs), acc_unit=acc_unit, gyr_unit=gyr_unit,  # type: ignore[arg-type]
                   time_unit=time_unit)  # type: ignore[arg-type]


def read_csv_session(path: str | Path, *, mapping: ColumnMapping | None = None, **identity: Any) -> RawSession:
    """Read and validate one CSV session.

    ``identity``: ``session_id``, ``runner_id``, ``sensor``, ``sample_rate_hz``, ``mounting``,
    ``start`` (what the sidecar does not give). A runner id is required; the session id defaults
    to ``<file stem>-<UTC start time>`` and the rate to the median sample interval. ``time`` is
    ISO 8601 with a zone (``Z``, ``+01:00``; dates without one need ``imuback.time_zone`` in the
    sidecar), or epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size),
    or seconds since the start when ``start`` (ISO 8601 with its zone) is given.
    """
    path = Path(path)
    check_raw_path(path)
    mapping = mapping or ColumnMapping()
    table, meta, mounting_source, start_source = _read_csv(path, identity, mapping)
    try:
        return table_to_raw(table, meta, source=str(path), mounting_source=mounting_source, start_source=start_source)
    except UnitsError as exc:  # a CSV can say its units: point at the flag, not at editing the file
        hint = ("--acc-unit g" if exc.kind == "acc_in_g" and mapping.acc_unit is None else
                "--gyr-unit rad/s" if exc.kind == "gyr_rad_s" and mapping.gyr_unit is None else None)
        if hint is None:
            raise
        raise UnitsError(f"{exc}; or give the file's unit: {hint} (ColumnMapping "
                         f"{hint[2:5]}_unit= in Python)", kind=exc.kind) from None


META_TIME_ZONE = "imuback.time_zone"
"""Sidecar key: the zone of a ``time`` column's dates written without one (``UTC``, ``+01:00``,
``Europe/Madrid``); the dates become UTC and, but for ``UTC``, its offset at the first sample is
kept as where the session was recorded (``utc_offset_min``, schema 1.8)."""
EPOCH_UNITS = ((1e11, 10**9, "seconds"), (1e14, 10**6, "milliseconds"), (1e17, 10**3, "microseconds"),
               (float("inf"), 1, "nanoseconds"))
"""(largest first value, ns per unit, name): epoch times after 1973 in s, ms, µs or ns."""
RELATIVE_MAX = 1e8
"""A first time value below this (~3 years in seconds) is time since the start, not an epoch."""


def header_names(path: Path) -> tuple[str, list[str]]:
    """The CSV's delimiter (the commonest of ``, ; tab`` in its header line) and its column names
    (empty for an empty file); the one place both the reader and the batch folder scan tell them.
    """
    with open(path, "rb") as f:
        head = f.readline(65536).decode("utf-8-sig", errors="replace")
    delimiter = max((",", ";", "\t"), key=head.count)
    names = next(csv.reader([head], delimiter=delimiter), []) if head.strip() else []
    return delimiter, [n.strip() for n in names]


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


def _dates_ns(t: pa.ChunkedArray, *, src: str, zone: str | None) -> npt.NDArray[np.int64]:
    """UTC ns of a ``time`` column of dates: with their own zone, or without one in ``zone``
    (the sidecar's ``imuback.time_zone``: ``UTC``, ``+01:00`` or a place's name, ``Europe/Madrid``).
    """
    if not t.type.tz:
        first = str(t[0]) if len(t) else ""
        if zone is None:
            raise RawFormatError(f"{src}: column 'time' holds dates without a time zone (first {first!r}), so they "
                                 "name no single moment; write them with Z (UTC) or their offset (+01:00), or "
                                 f"state their zone in {Path(src).name}.json: "
                                 '{"imuback.time_zone": "UTC"} (or "+01:00", "Europe/Madrid")')
        offset = re.fullmatch(r"([+-])([01]\d|2[0-3]):?([0-5]\d)", zone.strip())
        if offset:  # a fixed offset, by hand: older pyarrow (the lower bound) knows only zone names
            local = t.cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy(zero_copy_only=False)
            sign = 1 if offset[1] == "+" else -1
            return np.asarray(local, dtype=np.int64) - sign * (int(offset[2]) * 3600 + int(offset[3]) * 60) * 10**9
        try:
            t = pc.assume_timezone(t.cast(pa.timestamp("ns")), timezone="UTC" if zone in ("Z", "z") else zone,
                                   ambiguous="raise", nonexistent="raise")
        except pa.ArrowInvalid as exc:
            raise RawFormatError(f"{src}: column 'time' in imuback.time_zone {zone!r}: {_zone_reason(exc)} "
                                 "(a zone is UTC, an offset like +01:00 or a name like Europe/Madrid; a time "
                                 "in an hour the clocks repeat or skip names no single moment: write such dates "
                                 "with their offset)"
                                 ) from None
    ts = t.cast(pa.timestamp("ns", tz="UTC"))
    return np.asarray(ts.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _stated_offset_min(path: Path, mapping: ColumnMapping, *, zone: str | None, t0_ns: int) -> int | None:
    """The UTC offset (minutes) of the place a CSV of dates was recorded, as the file states it: the
    first date's own offset (``2024-03-04T07:00:00+05:00``: 300), else the sidecar's
    ``imuback.time_zone`` at the first sample; None for dates in ``Z`` or a zone of ``UTC`` (the
    dates' zone, not a claim about where the runner was) and for dates without a zone.
    """
    from imuback.formats.zone import offset_min_at, parse_zone, text_offset_min

    delimiter, names = header_names(path)
    column = dict(mapping.columns).get("time", "time")
    if column in names:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
            rows = csv.reader(f, delimiter=delimiter)
            next(rows, None)
            first = next(rows, None)
        text = first[names.index(column)] if first is not None and len(first) > names.index(column) else ""
        stated = text_offset_min(text)
        if stated is not None:
            return stated
    if zone is None or zone.strip() in ("Z", "z", "UTC", "utc"):
        return None
    return offset_min_at(parse_zone(zone, src=str(path), what=META_TIME_ZONE), t0_ns)


def _zone_reason(exc: Exception) -> str:
    """The reason pyarrow gives that a date has no moment in a zone, as one whole clause: up to its first sentence's
    end (an ambiguous date: "... is ambiguous"), a skipped hour said so (its text breaks off there).
    """
    text = str(exc).splitlines()[0].split(". ")[0].strip()
    gap = " is in a gap between"
    return text.removesuffix(gap) + " falls in the hour the clocks skip" if text.endswith(gap) else text


_SIDECAR_KEYS = (S.META_SCHEMA_VERSION, S.META_SESSION_ID, S.META_RUNNER_ID, S.META_SENSOR, S.META_SAMPLE_RATE_HZ,
                 S.META_MOUNTING, S.META_GAPS, S.META_ACC_RANGE_G, S.META_GYR_RANGE_DPS, S.META_ACC_ABSENT,
                 META_TIME_ZONE)
_SIDECAR_NUMBERS = {S.META_SAMPLE_RATE_HZ: ("Hz", "100"), S.META_ACC_RANGE_G: ("g", "16"),
                    S.META_GYR_RANGE_DPS: ("deg/s", "2000")}


def _check_sidecar(meta: dict[str, str], path: Path) -> None:
    """The sidecar's keys are imuback's (a misspelt or unprefixed one would be ignored) and its
    numbers are numbers, each named with the sidecar's file name. Other keys (a lab's own notes)
    are left alone unless they look like one of imuback's (``sample_rate_hz``, ``rate``).
    """
    sidecar = f"{path.name}.json"
    for key in meta:
        if key in _SIDECAR_KEYS:
            continue
        bare = key.lower().removeprefix("imuback.")
        near = next((k for k in _SIDECAR_KEYS if k.removeprefix("imuback.") in bare
                     or (len(bare) >= 4 and bare in k)), None)
        if key.startswith("imuback.") or near is not None:
            raise RawFormatError(f"{path}: {sidecar} has key {key!r}, which imuback does not know"
                                 + (f" (did you mean {near!r}?)" if near else "")
                                 + f"; its keys are {list(_SIDECAR_KEYS[1:])}")
    for key, (unit, example) in _SIDECAR_NUMBERS.items():
        if key not in meta:
            continue
        try:
            float(meta[key])
        except ValueError:
            raise RawFormatError(f"{path}: {sidecar} gives {key} = {meta[key][:40]!r}, not a number in {unit}; "
                                 f'write it as a number, e.g. "{key}": {example}') from None


def _time_ns(t: pa.ChunkedArray, *, src: str, start: str | None, unit: TimeUnit = "auto",
             zone: str | None = None) -> npt.NDArray[np.int64]:
    """UTC ns of a CSV ``time`` column (see :func:`read_csv_session`); ``zone``: that of dates without one."""
    if pa.types.is_string(t.type) and len(t) and pc.all(pc.match_substring_regex(t, r"\d[zZ]$")).as_py():
        # dates in UTC with a lower-case z (RFC 3339 allows it), which pyarrow leaves as text
        try:
            t = pc.replace_substring_regex(t, "z$", "Z").cast(pa.timestamp("ns", tz="UTC"))
        except pa.ArrowInvalid as exc:
            raise RawFormatError(f"{src}: column 'time' is not ISO 8601 dates ({str(exc)[:120]})") from None
    if pa.types.is_timestamp(t.type):
        if start is not None:
            raise RawFormatError(f"{src}: column 'time' holds dates already; drop --start")
        return _dates_ns(t, src=src, zone=zone)
    if not (pa.types.is_integer(t.type) or pa.types.is_floating(t.type)):
        raise RawFormatError(f"{src}: column 'time' must be ISO 8601 dates or epoch numbers, got {t.type}")
    x = t.to_numpy(zero_copy_only=False)
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    first, dated = float(x[0]), _dated(t, unit=unit)
    shown = f"{first:g} {unit}" if unit != "auto" else f"{first:g}"
    if start is None and not dated:
        raise RawFormatError(f"{src}: column 'time' starts at {shown}: "
                             + ("time" if unit != "auto" else "seconds") + " since the start, not a date; give the "
                             "start time (--start 2024-03-04T07:00:00Z, ISO 8601)")
    if start is not None and dated:
        raise RawFormatError(f"{src}: column 'time' starts at {shown}, already a date (epoch); drop --start")
    per = TIME_UNIT_NS[unit] if unit != "auto" else (
        1_000_000_000 if not dated else next(ns for limit, ns, _name in EPOCH_UNITS if abs(first) < limit))
    t0 = 0 if start is None else start_ns(start, src=src)
    if np.issubdtype(x.dtype, np.integer):
        return np.asarray(t0 + np.asarray(x, dtype=np.int64) * per, dtype=np.int64)
    return np.asarray(t0 + np.round(np.asarray(x, dtype=np.float64) * per).astype(np.int64), dtype=np.int64)


def _dated(t: pa.ChunkedArray, *, unit: TimeUnit) -> bool:
    """Whether a CSV ``time`` column dates its samples itself: dates, or numbers whose first is an epoch
    time (:data:`RELATIVE_MAX` seconds or more, in ``unit``); smaller numbers are time since the start.
    """
    if not (pa.types.is_integer(t.type) or pa.types.is_floating(t.type)) or not len(t):
        return True  # dates (or a column _time_ns refuses)
    first = abs(float(t[0].as_py() or 0.0))
    return first * (TIME_UNIT_NS[unit] / 1e9 if unit != "auto" else 1.0) >= RELATIVE_MAX


def _apply_mapping(table: pa.Table, mapping: ColumnMapping, *, src: str) -> pa.Table:
    """Rename the file's columns to the contract's and convert acc/gyro units (one pass per column)."""
    if mapping.columns:
        theirs = {t: o for o, t in mapping.columns}
        absent = [t for t in theirs if t not in table.column_names]
        if absent:
            raise RawFormatError(f"{src}: --columns names column(s) {absent} that the file does not have; "
                                 f"found {table.column_names[:20]}")
        # the file's columns named in the mapping, renamed; contract columns not named keep their
        # own names (unless a mapped column takes that name)
        keep = [c for c in table.column_names
                if c in theirs or (c in _COLUMNS and c not in theirs.values())]
        table = table.select(keep).rename_columns([theirs.get(c, c) for c in keep])
    _check_numbers(table, src=src)
    acc_scale, gyr_scale = unit_scales(mapping)
    for cols, factor in ((S.ACC_COLUMNS, acc_scale), (S.GYR_COLUMNS, gyr_scale)):
        for c in cols:
            if factor != 1.0 and c in table.column_names:
                col = table.column(c)
                if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
                    raise RawFormatError(f"{src}: column {c!r} must be numeric, got {col.type}")
                values = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64) * factor
                table = table.set_column(table.column_names.index(c), c, pa.array(values.astype(np.float32)))
    return table


def unit_scales(mapping: ColumnMapping, *, acc_default: AccUnit = "m/s2",
                gyr_default: GyrUnit = "deg/s") -> tuple[float, float]:
    """(acc factor to m/s², gyro factor to deg/s) for a mapping's units, or the format's defaults."""
    acc = mapping.acc_unit or acc_default
    gyr = mapping.gyr_unit or gyr_default
    return (G_MPS2 if acc == "g" else 1.0), (float(np.degrees(1.0)) if gyr == "rad/s" else 1.0)


def _check_utf8_header(path: Path) -> None:
    """A clear error when the header row is not UTF-8 (e.g. a Latin-1 export with an accent in a name,
    or a UTF-16 file).
    """
    with open(path, "rb") as f:
        head = f.readline(65536)
    wide = wide_encoding(head)
    if wide is not None:
        raise refuse_wide(path, wide)
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RawFormatError(f"{path}: the header row is not UTF-8 text (byte {head[exc.start]:#04x} at character "
                             f"{exc.start + 1}{_latin1_hint(head[exc.start:exc.start + 1])}); save the file as "
                             "UTF-8") from None


def _latin1_hint(byte: bytes) -> str:
    """``, '²' in Latin-1/Windows-1252`` for a byte that is a printable character there, else ''."""
    char = byte.decode("cp1252", errors="replace")
    return f", {char!r} in Latin-1/Windows-1252" if char.isprintable() and char != "\ufffd" else ""


def _check_numbers(table: pa.Table, *, src: str) -> None:
    """A contract column that is not numeric: the first cell that is not a number, by row, named;
    bytes that are not UTF-8 (pyarrow reads such a column as binary) said to be so.
    """
    for c in _COLUMNS[1:]:
        if c not in table.column_names:
            continue
        col = table.column(c)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_binary(col.type)
                or pa.types.is_large_binary(col.type)):
            continue
        # a Python loop over cells, on purpose: only reached when pyarrow read a sensor column as text,
        # and such a file is refused anyway (here, or as not numeric by table_to_raw); it stops at the
        # first cell that is not a number. A numeric column, that of every good file, never gets here
        for i, cell in enumerate(col.to_pylist()):
            if cell is None:
                continue
            text = cell.decode("utf-8", errors="replace") if isinstance(cell, bytes) else cell
            try:
                float(text.replace(",", "."))
                continue
            except ValueError:
                pass
            if isinstance(cell, bytes) and "\ufffd" in text:
                bad = next(b for b in cell if b >= 0x80)
                raise RawFormatError(f"{src}: column {c!r}, data row {i + 1} (line {i + 2}): {cell[:40]!r} is not "
                                     f"UTF-8 text (byte {bad:#04x}{_latin1_hint(bytes([bad]))}) and not a number; "
                                     "save the file as UTF-8 and leave only numbers in the sensor columns")
            raise RawFormatError(f"{src}: column {c!r}, data row {i + 1} (line {i + 2}): {text[:40]!r} is not a "
                                 "number; the sensor columns hold numbers only")


def _read_table(path: Path, delimiter: str) -> pa.Table:
    """The CSV as a table; a ``;``-separated file whose numbers have decimal commas (a spreadsheet's
    export in many European locales: ``9,81;0,12``) is read with ``,`` as the decimal point.
    """
    table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    texts = sum(pa.types.is_string(f.type) for f in table.schema)
    if delimiter != ";" or not texts:
        return table
    commas = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter),
                            convert_options=pacsv.ConvertOptions(decimal_point=","))
    return commas if sum(pa.types.is_string(f.type) for f in commas.schema) < texts else table


def _read_csv(path: Path, given: dict[str, Any],
              mapping: ColumnMapping) -> tuple[pa.Table, dict[str, str], str, str]:
    """(table in the contract's columns, metadata, mounting source, start source) of a CSV and its sidecar."""
    src = str(path)
    _check_utf8_header(path)
    try:
        table = _read_table(path, header_names(path)[0])
    except (pa.ArrowInvalid, OSError) as exc:
        raise RawFormatError(f"{src}: not a readable CSV file ({str(exc)[:200]})") from exc
    table = _apply_mapping(table, mapping, src=src)
    given = dict(given)
    start = given.pop("start", None)
    meta = csv_sidecar(path)
    _check_sidecar(meta, path)
    hint = "" if mapping.columns else "name yours with --columns time=ts,acc_x=ax,..."
    if "time" not in table.column_names:
        missing = [c for c in ("time", *S.ACC_COLUMNS)
                   if c not in table.column_names and c != meta.get(S.META_ACC_ABSENT)]
        raise RawFormatError(f"{src}: missing column(s) {missing}; found {table.column_names[:20]}"
                             + (f"; {hint}" if hint else ""))
    if table.num_rows == 0:  # after the columns: a line of text alone is no recording's header
        raise RawFormatError(f"{src}: has no data rows (only its header line): there are no samples to read")
    # one acc column may be absent: a two-axis accelerometer, declared in the sidecar
    declared_acc_absent(meta, table.column_names, source=src, hint=hint, declare_in=f"{path.name}.json")
    zone = meta.pop(META_TIME_ZONE, None)
    dates = pa.types.is_timestamp(table.column("time").type) or pa.types.is_string(table.column("time").type)
    if isinstance(start, UndatedStart) and _dated(table.column("time"), unit=mapping.time_unit):
        start = None  # a batch's --start: this file's own dates are kept
    tn = _time_ns(table.column("time"), src=src, start=None if start is None else str(start), unit=mapping.time_unit,
                  zone=zone)
    offset = _stated_offset_min(path, mapping, zone=zone if dates else None, t0_ns=int(tn[0])) if dates else None
    if offset is not None:  # where it was recorded, as the file states it (schema 1.8)
        meta[S.META_UTC_OFFSET_MIN] = str(offset)
    table = table.set_column(table.column_names.index("time"), "time", pa.array(tn).cast(S.TIME_TYPE))
    mounting_source = ("file" if S.META_MOUNTING in meta else
                       "given" if given.get("mounting") is not None else "assumed")
    for key, value in given.items():
        if value is None:
            continue
        stored = meta.get(f"imuback.{key}")
        if stored is not None:  # what the file says is kept (its own text); a conflict is refused
            check_stated(key, stored, value, src=src, states=f"{path.name}.json gives imuback.{key} =",
                         fix=f"correct {path.name}.json")
            continue
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
        if tn.size < 2:
            raise RawFormatError(f"{src}: {tn.size} sample(s); a session needs at least two")
        dt = np.median(np.diff(tn))
        if dt <= 0:
            raise RawFormatError(f"{src}: cannot infer the sample rate: most 'time' values do not increase "
                                 f"(first {tn[0]} ns, last {tn[-1]} ns; written with too few digits?); write "
                                 f"the times in full, or give imuback.sample_rate_hz in {path.name}.json")
        meta[S.META_SAMPLE_RATE_HZ] = repr(round(1e9 / float(dt), 3))
    return table, meta, mounting_source, "file" if start is None else "given"
