"""phyphox CSV exports (the RWTH Aachen physics app, phyphox.org): a zip or its unzipped folder ->
:class:`~imuback.core.RawSession`; and the same export written from a session (tests).

What the export holds, and the source of each convention:

- The "CSV (Comma, decimal point)" export of an experiment is a zip with one CSV per export set,
  each with a quoted header row of ``"<Quantity> (<unit>)"`` columns, plus ``meta/device.csv``
  (``"property","value"``) and ``meta/time.csv`` (``"event","experiment time","system time",
  "system time text"``: one ``START``/``PAUSE`` row each time the experiment was started or
  paused; ``system time`` in s since the epoch). Source: phyphox's export code (phyphox-android
  and phyphox-ios on GitHub, the export sets of the built-in experiments) as read via the search
  tool; the app's manual does not spell the layout out.
- "Acceleration with g": ``Accelerometer.csv`` with ``Time (s)``, ``Acceleration x (m/s^2)``,
  ``... y``, ``... z``; "Gyroscope": ``Gyroscope.csv`` with ``Time (s)``, ``Gyroscope x (rad/s)``,
  ... (units in the headers; the gyroscope is read here as deg/s). A phone export holding both
  files (two experiments' exports unzipped into one folder, or a custom experiment) gives a
  6-axis session; the accelerometer alone gives an accelerometer-only one.
- Time: ``Time (s)`` is experiment time, which stops while the experiment is paused. A sample's
  UTC time is ``system time + (Time - experiment time)`` of the last ``START`` row at or before
  it (vectorized with ``np.searchsorted``).
- Signs: phyphox reports the acceleration with g as the specific force, +9.81 m/s² along +z for a
  phone lying screen up, on Android and iOS alike (phyphox converts iOS's g units and sign to this
  convention; not confirmed from a published page, written to the Android convention, the one
  the raw contract uses). "Linear Acceleration" (without g) is refused: gravity cannot be added back.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from imuback.core import RawSession
from imuback.errors import RawFormatError
from imuback.formats.phone import F64, I64, Export, build_session, clean_stream, columns, gap_log, on_times, write_zip

TIME_COL = "Time (s)"
ACC_COLS = tuple(f"Acceleration {a} (m/s^2)" for a in "xyz")
GYR_COLS = tuple(f"Gyroscope {a} (rad/s)" for a in "xyz")
TIME_FILE = "meta/time.csv"


def is_phyphox(export: Export) -> bool:
    """Whether ``export`` is a phyphox export: an ``Accelerometer.csv`` timed in ``Time (s)``."""
    return export.has("Accelerometer.csv") and TIME_COL in export.header("Accelerometer.csv").replace('"', "")


def _starts(export: Export, *, start: str | None) -> tuple[F64, F64]:
    """(experiment time s, system time s) of every START in ``meta/time.csv`` (or ``start``, which
    must then be the first START's time: another is refused naming both).
    """
    if not export.has(TIME_FILE):
        if start is None:
            raise RawFormatError(f"{export.path}: no meta/time.csv, so the start time is unknown; export the "
                                 "experiment again with phyphox (it writes meta/time.csv) or give --start (ISO 8601)")
        from imuback.formats.identity import start_ns

        return np.zeros(1), np.array([start_ns(start, src=str(export.path)) / 1e9])
    table = export.table(TIME_FILE)
    need = ("event", "experiment time", "system time")
    if any(c not in table.column_names for c in need):
        raise RawFormatError(f"{export.path}: meta/time.csv must have columns {list(need)}; found {table.column_names}")
    ev = np.asarray(table.column("event").cast(pa.string()).to_pylist(), dtype=object)
    is_start = ev == "START"
    if not is_start.any():
        raise RawFormatError(f"{export.path}: meta/time.csv has no START row, so the start time is unknown")
    exp = columns(table, ("experiment time", "system time"), source=f"{export.path}: {TIME_FILE}")[is_start]
    from imuback.formats.identity import check_stated

    check_stated("start", round(exp[0, 1] * 1e9), start, src=str(export.path),  # the export's own start
                 states="meta/time.csv's first START is at")
    return exp[:, 0], exp[:, 1]


def _stream(export: Export, name: str, cols: tuple[str, ...], starts: tuple[F64, F64]) -> tuple[I64, F64]:
    """(UTC ns, (N, 3) values) of one phyphox file."""
    src = f"{export.path}: {name}"
    table = export.table(name)
    x = columns(table, (TIME_COL, *cols), source=src)
    exp_s, sys_s = starts
    k = np.clip(np.searchsorted(exp_s, x[:, 0], side="right") - 1, 0, exp_s.size - 1)
    t_ns = np.round((sys_s[k] + (x[:, 0] - exp_s[k])) * 1e9).astype(np.int64)
    return clean_stream(t_ns, x[:, 1:], source=src)


def read_phyphox(path: str | Path, export: Export, **identity: Any) -> RawSession:
    """Read one phyphox export (zip or folder): acceleration with g (m/s²) and, if present, the
    gyroscope (rad/s -> deg/s) on the accelerometer's times; identity as for any phone export.
    """
    path = Path(path)
    header = export.header("Accelerometer.csv").replace('"', "")
    if "Linear Acceleration" in header:
        raise RawFormatError(f"{path}: a phyphox 'Linear Acceleration' export (without g); record 'Acceleration "
                             "with g' instead: the pipeline needs gravity to find the body's axes")
    ident = dict(identity)
    starts = _starts(export, start=ident.pop("start", None))
    t_ns, acc = _stream(export, "Accelerometer.csv", ACC_COLS, starts)
    gyr, gaps = None, []
    if export.has("Gyroscope.csv"):
        tw, w_rps = _stream(export, "Gyroscope.csv", GYR_COLS, starts)
        w_at, ok = on_times(t_ns, tw, w_rps)
        gaps = gap_log(t_ns, ok, reason="no Gyroscope.csv samples around these accelerometer samples")
        t_ns, acc, gyr = t_ns[ok], acc[ok], np.degrees(w_at[ok])
    return build_session(path=path, sensor="phyphox", time_ns=t_ns, acc_mps2=acc, gyr_dps=gyr, gaps=gaps,
                         identity=ident, start_source="file" if export.has(TIME_FILE) else "given")


def _csv(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def write_phyphox(raw: RawSession, path: str | Path, *, pause_after_s: float | None = None,
                  pause_s: float = 5.0) -> Path:
    """Write ``raw`` as a phyphox zip export (layout above); with ``pause_after_s`` the experiment is
    paused for ``pause_s`` there (the samples in the pause are left out, experiment time stops).
    """
    path = Path(path)
    t = np.asarray(raw.time_ns, dtype=np.int64)
    rel = (t - t[0]) / 1e9
    exp = rel.copy()
    keep = np.ones(t.size, dtype=bool)
    rows = [("START", 0.0, t[0] / 1e9)]
    if pause_after_s is not None:
        keep = (rel < pause_after_s) | (rel >= pause_after_s + pause_s)
        exp = np.where(rel >= pause_after_s + pause_s, rel - pause_s, rel)
        rows += [("PAUSE", pause_after_s, t[0] / 1e9 + pause_after_s),
                 ("START", pause_after_s, t[0] / 1e9 + pause_after_s + pause_s)]
    files = {"Accelerometer.csv": _csv(pa.table({TIME_COL: exp[keep], **{c: np.asarray(raw.acc_mps2[keep, i], float)
                                                                           for i, c in enumerate(ACC_COLS)}}))}
    if raw.gyr_dps is not None:
        files["Gyroscope.csv"] = _csv(pa.table({TIME_COL: exp[keep], **{
            c: np.radians(np.asarray(raw.gyr_dps[keep, i], float)) for i, c in enumerate(GYR_COLS)}}))
    files[TIME_FILE] = _csv(pa.table({"event": [r[0] for r in rows], "experiment time": [r[1] for r in rows],
                                      "system time": [r[2] for r in rows],
                                      "system time text": [str(np.datetime64(round(r[2] * 1e3), "ms")) + " UTC"
                                                           for r in rows]}))
    files["meta/device.csv"] = b'"property","value"\n"deviceModel","imuback simulated phone"\n'
    return write_zip(path, files)
