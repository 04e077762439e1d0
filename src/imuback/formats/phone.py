"""What the phone readers share: an export as a zip or a folder, irregular streams put on one time
base, and the session built with the caller's identity.

Phones stamp each sensor on its own clock tick: accelerometer and gyroscope times differ, jitter
and, now and then, repeat. The accelerometer's own times are kept (the resampling stage puts them
on a uniform grid once, so the impacts are interpolated only once) and every other stream is
linearly interpolated onto them (``np.interp``, vectorized). Where the other stream has a hole
longer than ``max(MIN_HOLE_S, HOLE_PERIODS x its median interval)``, or before its first and after
its last sample, nothing is invented: those accelerometer rows are left out and written to the
session's gap log, so nothing is lost silently.

The phone's axes are the sensor frame; how the phone sits in the belt is unknown, so the nominal
mounting is the identity (the pipeline finds the body frame from any orientation, docs/frames.md).
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from imuback.core import RawSession, check_id
from imuback.errors import RawFormatError

log = logging.getLogger("imuback")

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MIN_HOLE_S = 0.05
"""Shortest hole (s) in a stream that is not bridged by interpolation."""
HOLE_PERIODS = 3.0
"""A hole longer than this many median intervals of the stream is not bridged."""
PHONE_MIN_RATE_HZ = 25.0
"""Slowest accelerometer rate accepted: below it running steps (~3 Hz, impacts in ~30 ms) are lost."""
MAX_MEMBER_BYTES = 2 * 1024**3
"""Largest CSV read from an export (2 GB: ~10 h of 500 Hz samples); a zip bomb stops here."""
PHONE_IDENTITY = frozenset({"runner_id", "session_id", "mounting", "start"})
"""Identity a phone export takes from the caller (``start`` only where the export has no clock)."""


@dataclass(frozen=True, slots=True)
class Export:
    """The CSV files of one app export, from a zip or an unzipped folder (names compared without case
    and without the folder they sit in: zips of a folder hold ``<folder>/Accelerometer.csv``).
    """

    path: Path
    members: dict[str, str]
    """lower-case relative path (``accelerometer.csv``, ``meta/time.csv``) -> name in the zip or folder."""

    def has(self, name: str) -> bool:
        """Whether the export holds ``name`` (e.g. ``"Gyroscope.csv"``, ``"meta/time.csv"``)."""
        return name.lower() in self.members

    def text(self, name: str) -> bytes:
        """The raw bytes of member ``name``."""
        real = self.members[name.lower()]
        try:
            if self.path.is_dir():
                return (self.path / real).read_bytes()
            with zipfile.ZipFile(self.path) as zf:
                if zf.getinfo(real).file_size > MAX_MEMBER_BYTES:
                    raise RawFormatError(f"{self.path}: {real} is larger than {MAX_MEMBER_BYTES >> 30} GB "
                                         "unpacked; split the recording")
                return zf.read(real)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise RawFormatError(f"{self.path}: cannot read {real} ({str(exc)[:120]}); the export is "
                                 "damaged: export it again from the app") from None

    def header(self, name: str) -> str:
        """The first line of member ``name`` (to tell apps apart without reading the samples)."""
        real = self.members[name.lower()]
        try:
            if self.path.is_dir():
                with open(self.path / real, "rb") as f:
                    line = f.readline(4096)
            else:
                with zipfile.ZipFile(self.path) as zf, zf.open(real) as f:
                    line = f.readline(4096)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise RawFormatError(f"{self.path}: cannot read {real} ({str(exc)[:120]}); the export is "
                                 "damaged: export it again from the app") from None
        return line.decode("utf-8", errors="replace").strip().lstrip("\ufeff")

    def table(self, name: str, *, allow_empty: bool = False) -> pa.Table:
        """Member ``name`` as an Arrow table (header row, comma separated); one without data rows
        is refused unless ``allow_empty``.
        """
        data = self.text(name)
        if not data.strip():
            raise RawFormatError(f"{self.path}: {self.members[name.lower()]} is empty")
        try:
            table = pacsv.read_csv(io.BytesIO(data))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise RawFormatError(f"{self.path}: {self.members[name.lower()]} is not a readable CSV "
                                 f"({str(exc)[:160]})") from None
        if table.num_rows == 0 and not allow_empty:
            raise RawFormatError(f"{self.path}: {self.members[name.lower()]} has no data rows (only its header "
                                 "line): the app recorded no samples; record again, or export the recording again")
        return table


EXPORT_MARKERS = frozenset({"accelerometer.csv", "totalacceleration.csv"})
"""A folder holding one of these (any case) is an unzipped phone export."""


def is_export_folder(path: Path) -> bool:
    """Whether ``path`` is a folder that holds a phone app's motion file at its top level."""
    try:
        return path.is_dir() and any(p.name.lower() in EXPORT_MARKERS for p in path.iterdir())
    except OSError:
        return False


def open_export(path: Path) -> Export | None:
    """The export at ``path`` (a zip file or a folder), or None when ``path`` is neither.

    A file named ``.zip`` that is not a zip raises :class:`RawFormatError` (a corrupt zip).
    """
    if path.is_dir():
        files = [p for p in path.rglob("*.csv") if p.is_file() and len(p.relative_to(path).parts) <= 3]
        rel = [p.relative_to(path).as_posix() for p in files]
        return Export(path=path, members=_member_names(rel))
    if not path.is_file():
        return None
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".zip":
            raise RawFormatError(f"{path}: not a readable zip file (damaged or cut short); export it again "
                                 "from the app, or unzip it and give the folder")
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise RawFormatError(f"{path}: not a readable zip file ({str(exc)[:120]}); export it again") from None
    return Export(path=path, members=_member_names([n for n in names if n.lower().endswith(".csv")]))


def _member_names(names: list[str]) -> dict[str, str]:
    """Map names to keys relative to the export's top folder (a zip of a folder has one more level)."""
    names = [n for n in names if not PurePosixPath(n).name.startswith(".") and "__MACOSX" not in n]
    parts = [PurePosixPath(n).parts for n in names]
    tops = {p[0] for p in parts if len(p) > 1}
    strip = len(tops) == 1 and all(len(p) > 1 for p in parts) and not any(p[0].lower() == "meta" for p in parts)
    out: dict[str, str] = {}
    for p, name in zip(parts, names, strict=True):
        key = "/".join(p[1:] if strip else p).lower()
        out.setdefault(key, name)
    return out


PhoneFormat = Literal["sensorlogger", "phyphox"]


def phone_format(path: Path) -> PhoneFormat | None:
    """Which phone app exported ``path`` (a zip, or a folder holding the app's motion file), or None
    when it is neither a zip nor such a folder. A zip of other files (or a damaged one) raises
    :class:`RawFormatError` naming what it holds.
    """
    from imuback.formats.phyphox import is_phyphox
    from imuback.formats.sensorlogger import is_sensorlogger

    if not (path.suffix.lower() == ".zip" or is_export_folder(path)):
        return None
    export = open_export(path)
    if export is None:
        return None
    if is_sensorlogger(export):
        return "sensorlogger"
    if is_phyphox(export):
        return "phyphox"
    held = sorted(export.members)[:6]
    raise RawFormatError(f"{path}: not a phone export imuback reads (Sensor Logger: Accelerometer.csv with "
                         "time,seconds_elapsed,z,y,x; phyphox: Accelerometer.csv with 'Time (s)'); it holds "
                         f"{held or 'no CSV files'}")


def read_phone(path: Path, kind: PhoneFormat, **identity: Any) -> RawSession:
    """The session of the ``kind`` export at ``path`` (see :func:`phone_format`)."""
    from imuback.formats.phyphox import is_phyphox, read_phyphox
    from imuback.formats.sensorlogger import is_sensorlogger, read_sensorlogger

    export = open_export(path)
    if export is None:
        raise RawFormatError(f"{path}: a {kind} export is the app's zip or its unzipped folder")
    if kind == "sensorlogger" and is_sensorlogger(export):
        return read_sensorlogger(path, export, **identity)
    if kind == "phyphox" and is_phyphox(export):
        return read_phyphox(path, export, **identity)
    raise RawFormatError(f"{path}: not a {kind} export (its Accelerometer.csv header does not match); "
                         "give the right format or leave it out")


def columns(table: pa.Table, names: tuple[str, ...], *, source: str) -> F64:
    """(N, len(names)) float64 of the named numeric columns; a clear error for a missing or text one."""
    missing = [c for c in names if c not in table.column_names]
    if missing:
        raise RawFormatError(f"{source}: missing column(s) {missing}; found {table.column_names[:12]}")
    out = np.empty((table.num_rows, len(names)), dtype=np.float64)
    for i, c in enumerate(names):
        col = table.column(c)
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_null(col.type)):
            raise RawFormatError(f"{source}: column {c!r} must hold numbers, got {col.type}")
        out[:, i] = col.to_numpy(zero_copy_only=False) if col.null_count == 0 else np.asarray(
            col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
    return out


def clean_stream(t_ns: I64, values: F64, *, source: str) -> tuple[I64, F64]:
    """Rows in time order, exact repeats (same time, same values) removed; empty or NaN rows refused.

    Phones deliver a buffered sample late (time order is restored) and sometimes twice (the second
    copy carries nothing new). Two different readings at one time cannot both be right: refused.
    """
    if t_ns.size == 0:
        raise RawFormatError(f"{source}: holds no samples")
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise RawFormatError(f"{source}: {int(bad.sum())} rows have empty or non-numeric values (first at "
                             f"data row {int(np.flatnonzero(bad)[0]) + 1}); the export is damaged")
    if np.any(np.diff(t_ns) < 0):
        order = np.argsort(t_ns, kind="stable")
        t_ns, values = t_ns[order], values[order]
    same_t = np.flatnonzero(np.diff(t_ns) == 0) + 1
    if same_t.size:
        differ = np.any(values[same_t] != values[same_t - 1], axis=1)
        if differ.any():
            i = int(same_t[np.flatnonzero(differ)[0]])
            raise RawFormatError(f"{source}: {int(differ.sum())} timestamps carry two different readings "
                                 f"(first at time {int(t_ns[i])} ns); the export is damaged")
        keep = np.ones(t_ns.size, dtype=bool)
        keep[same_t] = False
        t_ns, values = t_ns[keep], values[keep]
    return t_ns, values


def on_times(t_ns: I64, src_t_ns: I64, src: F64) -> tuple[F64, npt.NDArray[np.bool_]]:
    """``src`` (M, k) sampled at ``src_t_ns`` linearly interpolated at ``t_ns`` (N,), and where that is
    honest: inside the stream and not across a hole (see the module docstring).
    """
    rel = (t_ns - src_t_ns[0]).astype(np.float64)
    src_rel = (src_t_ns - src_t_ns[0]).astype(np.float64)
    out = np.column_stack([np.interp(rel, src_rel, src[:, k]) for k in range(src.shape[1])])
    dt = np.diff(src_t_ns)
    hole_ns = max(MIN_HOLE_S * 1e9, HOLE_PERIODS * float(np.median(dt))) if dt.size else 0.0
    j = np.clip(np.searchsorted(src_t_ns, t_ns, side="right"), 1, max(src_t_ns.size - 1, 1))
    inside = (t_ns >= src_t_ns[0]) & (t_ns <= src_t_ns[-1])
    if dt.size:  # a sample of the stream itself at this time, or neighbours close enough
        inside &= ((src_t_ns[j] - src_t_ns[j - 1]) <= hole_ns) | (src_t_ns[j - 1] == t_ns)
    return out, inside


def gap_log(t_ns: I64, keep: npt.NDArray[np.bool_], *, reason: str) -> list[dict[str, Any]]:
    """One gap record per run of left-out rows (``keep`` False), in the raw contract's form."""
    if keep.all():
        return []
    edges = np.diff(np.concatenate([[0], (~keep).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    iso = np.datetime_as_string(t_ns.astype("datetime64[ns]"), unit="ms")
    return [{"start": f"{iso[a]}Z", "end": f"{iso[b - 1]}Z", "samples_lost": int(b - a), "reason": reason}
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]  # loop over gaps, not samples


def build_session(*, path: Path, sensor: str, time_ns: I64, acc_mps2: F64, gyr_dps: F64 | None,
                  gaps: list[dict[str, Any]], identity: dict[str, Any], speed_mps: F64 | None = None,
                  start_source: str = "file") -> RawSession:
    """The validated session of one phone export, identity from the caller (``runner_id`` required);
    ``start_source``: ``given`` when ``--start`` timed it (a phyphox export without ``meta/time.csv``).
    """
    src = str(path)
    unknown = sorted(set(identity) - PHONE_IDENTITY)
    if unknown:
        raise RawFormatError(f"{src}: {unknown} do not apply to a phone export (it gives: {sorted(PHONE_IDENTITY)})")
    runner = identity.get("runner_id")
    if runner is None:
        raise RawFormatError(f"{src}: a phone export names no runner; give --runner ID (runner_id= in Python) "
                             "to keep runners apart")
    if time_ns.size < 2:
        raise RawFormatError(f"{src}: fewer than 2 accelerometer samples with a gyroscope reading beside them")
    rate = 1e9 / float(np.median(np.diff(time_ns)))
    if rate < PHONE_MIN_RATE_HZ:
        raise RawFormatError(f"{src}: the accelerometer logged at {rate:.3g} Hz, too slow to find steps; record "
                             f"at {PHONE_MIN_RATE_HZ:g} Hz or more (100 Hz or the app's fastest setting)")
    from imuback.formats.identity import default_session_id

    session = identity.get("session_id") or default_session_id(path, int(time_ns[0]))
    mounting = identity.get("mounting")
    if isinstance(mounting, str):
        mounting = json.loads(mounting)
    if gyr_dps is None:
        log.warning("%s: no gyroscope in the export: an accelerometer-only session (pelvis angles and "
                    "running feet are not available)", src)
    return RawSession(
        session_id=check_id(str(session), what="session_id", source=src),
        runner_id=check_id(str(runner), what="runner_id", source=src),
        sensor=sensor, sample_rate_hz=round(rate, 3), time_ns=time_ns,
        acc_mps2=acc_mps2.astype(np.float32),
        gyr_dps=None if gyr_dps is None else gyr_dps.astype(np.float32),
        mounting=np.eye(3) if mounting is None else np.asarray(mounting, dtype=np.float64),
        mounting_source="assumed" if mounting is None else "given",
        gaps=tuple(gaps), source=src, speed_mps=None if speed_mps is None else speed_mps.astype(np.float32),
        start_source=start_source)


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (name -> bytes) as a zip at ``path`` atomically (temp file + rename); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    tmp.replace(path)
    return path
