"""Sensor Logger exports (the phone app by Kelvin Choi, tszheichoi.com/sensorlogger): a zip or its
unzipped folder -> :class:`~imuback.core.RawSession`; and the same export written from a session
(the demo's and the tests' simulated phone).

What the export holds, and the source of each convention (github.com/tszheichoi/awesome-sensor-logger):

- Files ``Accelerometer.csv``, ``Gravity.csv``, ``Gyroscope.csv``, Android's ``TotalAcceleration.csv``,
  ``Metadata.csv``, ``Location.csv``; columns ``time,seconds_elapsed,z,y,x``. ``time`` is ns since
  the epoch (UTC), ``seconds_elapsed`` s since the start (README.md, "Understanding Timestamps").
- Units (UNITS.md): Accelerometer and Gravity in m/s² (g = 9.80665), Gyroscope in rad/s (read
  here as deg/s). ``Accelerometer.csv`` is the acceleration WITHOUT gravity (user motion);
  Android alone also writes ``TotalAcceleration.csv``, the accelerometer's reading with gravity;
  on iOS "create acceleration with gravity by combining the Accelerometer and Gravity readings".
- Signs (COORDINATES.md, CROSSPLATFORM.md): the axes are the same on both platforms (x and y in
  the screen's plane, z out of the screen) but iOS reports acceleration and gravity with the
  opposite sign of Android in all three axes (lying flat, gravity reads -z on iOS, +z on
  Android). Android's convention is the specific force the raw contract stores (+g up at rest),
  so iOS's sum is negated. With the app's "Standardise Units & Frames" setting on, iOS follows
  Android's convention. The gyroscope's definition is the same on both platforms.
- ``Metadata.csv`` (README.md, "Accessing Recording Metadata"): ``version``, ``device name``,
  ``recording time``, ``platform`` (iOS or Android). Newer exports add ``recording timezone`` (an
  IANA name, seen in exports and third-party readers, not in the app's README; ``GMT+05:30`` and
  ``UTC+1`` forms are read too): when present, its offset at the first sample is where the session
  was recorded (``utc_offset_min``); one that is none of these leaves the zone unknown (null), the
  samples are read all the same. The setting
  above is read from a
  ``standardisation`` column when one is present; its name is not in the app's documentation
  (it appears in exports and third-party writers), so when it is absent the app's default,
  off, is assumed.

Specific force = ``TotalAcceleration`` where the export has it (Android), else
``sign x (Accelerometer + Gravity)`` with Gravity interpolated onto the accelerometer's times.
Gyroscope and Gravity are put on the accelerometer's times (:mod:`imuback.formats.phone`).
``Location.csv``'s ``speed`` (m/s, negative = invalid, UNITS.md) becomes the session's GPS speed
channel, interpolated the same way (NaN where there is no valid fix).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from scipy.ndimage import uniform_filter1d

from imuback.core import RawSession
from imuback.errors import RawFormatError
from imuback.formats.phone import F64, I64, Export, build_session, clean_stream, columns, gap_log, on_times, write_zip

XYZ = ("x", "y", "z")
FILE_COLUMNS = ("time", "seconds_elapsed", "z", "y", "x")
"""Column order of the app's motion files."""
PLATFORMS = ("ios", "android")


def is_sensorlogger(export: Export) -> bool:
    """Whether ``export`` is a Sensor Logger export: a motion file with a ``seconds_elapsed`` column."""
    for name in ("TotalAcceleration.csv", "Accelerometer.csv", "Gyroscope.csv"):
        if export.has(name):
            return "seconds_elapsed" in export.header(name).replace('"', "").split(",")
    return False


def _stream(export: Export, name: str) -> tuple[I64, F64]:
    """(times ns, (N, 3) x, y, z) of one motion file, time-ordered, repeats removed."""
    src = f"{export.path}: {name}"
    table = export.table(name)
    if "time" not in table.column_names:
        raise RawFormatError(f"{src}: no 'time' column; found {table.column_names[:8]} (not a Sensor Logger file)")
    t = table.column("time")
    if not pa.types.is_integer(t.type) or t.null_count:
        raise RawFormatError(f"{src}: column 'time' must be whole nanoseconds since the epoch, got {t.type}")
    t_ns = np.asarray(t.to_numpy(zero_copy_only=False), dtype=np.int64)
    return clean_stream(t_ns, columns(table, XYZ, source=src), source=src)


def _metadata(export: Export) -> dict[str, str]:
    """Metadata.csv's header -> value (lower-case keys), or {} when the export has none."""
    if not export.has("Metadata.csv"):
        return {}
    rows = list(csv.reader(io.StringIO(export.text("Metadata.csv").decode("utf-8", errors="replace"))))
    if len(rows) < 2:
        return {}
    return {k.strip().lower(): v.strip() for k, v in zip(rows[0], rows[1], strict=False)}


def read_sensorlogger(path: str | Path, export: Export, **identity: Any) -> RawSession:
    """Read one Sensor Logger export (zip or folder) as a session in the phone's frame.

    Specific force in m/s² (Android's sign convention, which is the raw contract's), angular
    velocity in deg/s, on the accelerometer's own times; identity from ``identity`` (``runner_id``
    required, ``session_id`` defaults to ``<export name>-<UTC start>Z``).
    """
    path = Path(path)
    if "start" in identity:
        raise RawFormatError(f"{path}: a Sensor Logger export times every sample itself (ns since the epoch); "
                             "drop --start")
    meta = _metadata(export)
    platform = meta.get("platform", "").lower()
    device = meta.get("device name", "")
    gaps: list[dict[str, Any]] = []
    if export.has("TotalAcceleration.csv"):
        t_ns, acc = _stream(export, "TotalAcceleration.csv")
        platform = platform or "android"
    elif export.has("Accelerometer.csv"):
        if not export.has("Gravity.csv"):
            raise RawFormatError(f"{path}: Accelerometer.csv without Gravity.csv holds motion without gravity, "
                                 "which cannot be told from the phone's tilt; record with Gravity on (Android: "
                                 "or TotalAcceleration)")
        if platform not in PLATFORMS:
            raise RawFormatError(f"{path}: unknown platform {platform or '(no Metadata.csv)'!r}: iOS and Android "
                                 "report acceleration with opposite signs; export with Metadata.csv")
        standard = meta.get("standardisation", "false").lower() in ("true", "1", "yes", "on")
        sign = -1.0 if platform == "ios" and not standard else 1.0
        t_ns, user = _stream(export, "Accelerometer.csv")
        tg, grav = _stream(export, "Gravity.csv")
        grav_at, ok = on_times(t_ns, tg, grav)
        acc = sign * (user + grav_at)
        gaps += gap_log(t_ns, ok, reason="no Gravity.csv samples around these accelerometer samples")
        t_ns, acc = t_ns[ok], acc[ok]
    else:
        raise RawFormatError(f"{path}: a Sensor Logger export without Accelerometer.csv or TotalAcceleration.csv; "
                             "record with the Accelerometer on")
    gyr = None
    if export.has("Gyroscope.csv"):
        tw, w_rps = _stream(export, "Gyroscope.csv")
        w_at, ok = on_times(t_ns, tw, w_rps)
        gaps += gap_log(t_ns, ok, reason="no Gyroscope.csv samples around these accelerometer samples")
        t_ns, acc, gyr = t_ns[ok], acc[ok], np.degrees(w_at[ok])
    sensor = f"Sensor Logger {'iOS' if platform == 'ios' else 'Android'}" + (f" ({device})" if device else "")
    raw = build_session(path=path, sensor=sensor[:80], time_ns=t_ns, acc_mps2=acc, gyr_dps=gyr,
                        gaps=gaps, identity=identity, speed_mps=_gps_speed(export, t_ns))
    from imuback.formats.zone import stated_zone, with_zone

    zone = stated_zone(meta.get("recording timezone", "")) if meta.get("recording timezone") else None
    return raw if zone is None else with_zone(raw, zone, source="file")  # one it cannot read: unknown, the samples kept


def _gps_speed(export: Export, t_ns: I64) -> F64 | None:
    """Location.csv's ``speed`` (m/s; negative = invalid, UNITS.md) at the accelerometer's times:
    NaN outside the fixes, across holes in them and where a fix is invalid; None without the file;
    all NaN when it holds no fix (the app's location was on but found none, e.g. indoors).
    """
    if not export.has("Location.csv"):
        return None
    src = f"{export.path}: Location.csv"
    if not export.text("Location.csv").strip():
        return np.full(t_ns.shape, np.nan)
    table = export.table("Location.csv", allow_empty=True)
    if table.num_rows == 0:
        return np.full(t_ns.shape, np.nan)
    if "time" not in table.column_names or not pa.types.is_integer(table.column("time").type):
        raise RawFormatError(f"{src}: column 'time' must be whole nanoseconds since the epoch")
    tl = np.asarray(table.column("time").to_numpy(zero_copy_only=False), dtype=np.int64)
    speed = columns(table, ("speed",), source=src)
    valid = np.isfinite(speed[:, 0]) & (speed[:, 0] >= 0)
    if not valid.any():
        return np.full(t_ns.shape, np.nan)
    tl, speed = clean_stream(tl[valid], speed[valid], source=src)
    at, ok = on_times(t_ns, tl, speed)
    return np.where(ok, at[:, 0], np.nan)


GRAVITY_WINDOW_S = 1.0
"""Moving-average window that splits the written specific force into gravity and user motion."""


def _motion_csv(t_ns: I64, t0_ns: int, xyz: F64) -> bytes:
    """One motion file's bytes in the app's column order."""
    table = pa.table({"time": pa.array(t_ns, pa.int64()), "seconds_elapsed": (t_ns - t0_ns) / 1e9,
                      "z": xyz[:, 2], "y": xyz[:, 1], "x": xyz[:, 0]})
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="none"))
    return buf.getvalue()


LOCATION_COLUMNS = ("time", "seconds_elapsed", "bearingAccuracy", "speedAccuracy", "verticalAccuracy",
                    "horizontalAccuracy", "speed", "bearing", "altitude", "longitude", "latitude")
"""Column order of the app's Location.csv (its units: UNITS.md, "Location")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationFixes:
    """A phone's location fixes as Sensor Logger's ``Location.csv`` holds them (UNITS.md).

    Attributes
    ----------
    time_ns : (M,) int64 fix times, ns since the epoch (UTC), increasing.
    speed_mps : (M,) ground speed, m/s (negative = invalid).
    speed_accuracy_mps : (M,) the speed's uncertainty (about one SD), m/s.
    latitude_deg, longitude_deg : (M,) WGS84 position, degrees (north, east positive).
    horizontal_accuracy_m : (M,) radius of uncertainty of the position (about one SD), m.
    bearing_deg : (M,) direction of travel, degrees clockwise from due north, 0-360.
    altitude_m : (M,) height above the WGS84 ellipsoid, m.
    """

    time_ns: I64
    speed_mps: F64
    speed_accuracy_mps: F64
    latitude_deg: F64
    longitude_deg: F64
    horizontal_accuracy_m: F64
    bearing_deg: F64
    altitude_m: F64

    def __post_init__(self) -> None:
        n = self.time_ns.shape[0]
        for name in ("speed_mps", "speed_accuracy_mps", "latitude_deg", "longitude_deg", "horizontal_accuracy_m",
                     "bearing_deg", "altitude_m"):
            if getattr(self, name).shape != (n,):
                raise RawFormatError(f"LocationFixes: {name} must have one value per fix ({n}), "
                                     f"got shape {getattr(self, name).shape}")
        if n > 1 and not bool(np.all(np.diff(self.time_ns) > 0)):
            raise RawFormatError("LocationFixes: fix times must strictly increase")


def _location_csv(fixes: LocationFixes, t0_ns: int) -> bytes:
    """Location.csv's bytes in the app's column order (vertical and bearing accuracy fixed at 3 m, 10°)."""
    n = fixes.time_ns.shape[0]
    cols = {"time": pa.array(fixes.time_ns, pa.int64()), "seconds_elapsed": (fixes.time_ns - t0_ns) / 1e9,
            "bearingAccuracy": np.full(n, 10.0), "speedAccuracy": fixes.speed_accuracy_mps,
            "verticalAccuracy": np.full(n, 3.0), "horizontalAccuracy": fixes.horizontal_accuracy_m,
            "speed": fixes.speed_mps, "bearing": fixes.bearing_deg, "altitude": fixes.altitude_m,
            "longitude": fixes.longitude_deg, "latitude": fixes.latitude_deg}
    buf = io.BytesIO()
    pacsv.write_csv(pa.table({k: cols[k] for k in LOCATION_COLUMNS}), buf, pacsv.WriteOptions(quoting_style="none"))
    return buf.getvalue()


def write_sensorlogger(raw: RawSession, path: str | Path, *, platform: str = "ios",
                       device: str = "imuback simulated phone", gyro_offset_ms: float = 3.0,
                       location: LocationFixes | None = None) -> Path:
    """Write ``raw`` as a Sensor Logger zip export (the layout and conventions read above).

    The specific force is split into Gravity (its 1 s moving average) and Accelerometer (the rest);
    iOS gets both negated, Android also ``TotalAcceleration.csv``. The gyroscope is stamped
    ``gyro_offset_ms`` after the accelerometer (interpolated from ``raw``), as phones stamp each
    sensor on its own tick. ``location``: the phone's GPS fixes, written as ``Location.csv``
    (e.g. :func:`imuback.simulate.gps.simulated_gps`); None: an export without location, as when
    the app's Location sensor is off. Returns ``path``.
    """
    if platform not in PLATFORMS:
        raise RawFormatError(f"write_sensorlogger: platform must be one of {PLATFORMS}, not {platform!r}")
    path = Path(path)
    t = np.asarray(raw.time_ns, dtype=np.int64)
    f = np.asarray(raw.acc_mps2, dtype=np.float64)
    win = max(1, round(GRAVITY_WINDOW_S * raw.sample_rate_hz))
    grav = uniform_filter1d(f, size=win, axis=0, mode="nearest")
    sign = -1.0 if platform == "ios" else 1.0
    files = {"Accelerometer.csv": _motion_csv(t, int(t[0]), sign * (f - grav)),
             "Gravity.csv": _motion_csv(t, int(t[0]), sign * grav)}
    if platform == "android":
        files["TotalAcceleration.csv"] = _motion_csv(t, int(t[0]), f)
    if raw.gyr_dps is not None:
        tg = t + round(gyro_offset_ms * 1e6)
        rel = (t - t[0]).astype(np.float64)
        w = np.column_stack([np.interp((tg - t[0]).astype(np.float64), rel, raw.gyr_dps[:, k]) for k in range(3)])
        files["Gyroscope.csv"] = _motion_csv(tg, int(t[0]), np.radians(w))
    if location is not None:
        files["Location.csv"] = _location_csv(location, int(t[0]))
    start = np.datetime_as_string(np.datetime64(int(t[0]), "ns"), unit="ms")
    files["Metadata.csv"] = ("version,device name,recording time,platform,standardisation\n"
                             f"3,{device},{start},{'iOS' if platform == 'ios' else 'Android'},false\n").encode()
    return write_zip(path, files)
