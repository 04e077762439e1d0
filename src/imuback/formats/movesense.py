"""Movesense logs: the JSON of the sensor's DataLogger / Logbook (as the Movesense apps export it).

Specification: the Movesense device API (bitbucket.org/movesense/movesense-device-lib,
``MovesenseCoreLib/resources/movesense-api/meas/{acc,gyro,imu}.yaml``): a subscription to
``/Meas/IMU6/{SampleRate}`` (or ``/Meas/Acc`` and ``/Meas/Gyro``) delivers notifications
``{"Timestamp": ms, "ArrayAcc": [{"x","y","z"}...], "ArrayGyro": [...]}`` with acceleration in
m/s² (incl. gravity), angular velocity in deg/s, and ``Timestamp`` the sensor's local clock in ms
(since power-on). That it dates the first sample of the notification, the others following at the
sample rate, is how public Movesense client code spaces them (the yaml text itself was not at
hand to quote). A DataLogger log, read back through
``/Mem/Logbook`` and saved as JSON, holds those notifications as lists under ``Meas``::

    {"Meas": {"IMU6": [{"Timestamp": 1234, "ArrayAcc": [...], "ArrayGyro": [...]}, ...]}}
    {"Meas": {"Acc": [...ArrayAcc...], "Gyro": [...ArrayGyro...]}}   (paired by Timestamp)

(``IMU9`` is read like ``IMU6``; a path key such as ``"IMU6/104"`` gives the rate; a notification
may be wrapped as ``{"Body": {...}}``). No Movesense log file was at hand: the layout is the
API's, and the tests write files to it. The sensor clock has no date: ``--start`` gives the UTC
time of the first sample, ``--runner`` the runner. An accelerometer-only log is refused (imuback
needs a gyroscope: log ``/Meas/IMU6``). A Showcase-app CSV export has no published layout; read
it as CSV with ``--columns`` (docs/formats.md).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from imuback.core import RawSession, check_id
from imuback.errors import RawFormatError
from imuback.formats.identity import check_keys, default_session_id, mounting_given, runner_id, start_ns

_KEYS = frozenset({"runner_id", "session_id", "start", "sensor", "sample_rate_hz", "mounting"})
_RATE_IN_KEY = re.compile(r"/(\d+(?:\.\d+)?)$")
SENSOR = "Movesense"


def is_movesense_json(head: bytes) -> bool:
    """Whether a file's first bytes look like a Movesense log in JSON (``ArrayAcc`` or ``Meas``)."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"{") and (b'"ArrayAcc"' in head or b'"Meas"' in head)


def _find_streams(doc: Any) -> dict[str, list[Any]]:
    """The notification lists under ``Meas`` (keys ``IMU6``, ``IMU9``, ``Acc``, ``Gyro``, maybe
    with ``/rate``), found at the top level or one level down.
    """
    meas = doc.get("Meas") if isinstance(doc, dict) else None
    if meas is None and isinstance(doc, dict):
        meas = next((v["Meas"] for v in doc.values() if isinstance(v, dict) and "Meas" in v), None)
    if not isinstance(meas, dict):
        return {}
    return {k.strip("/"): v for k, v in meas.items() if isinstance(v, list)}


def _packets(items: list[Any], key: str, src: str, stream: str) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Timestamps (ms) and sample arrays (``key``) of one stream's notifications."""
    bodies = [p.get("Body", p) if isinstance(p, dict) else p for p in items]
    try:
        stamps = np.array([int(b["Timestamp"]) for b in bodies], dtype=np.int64)
        arrays = [b[key] for b in bodies]
    except (KeyError, TypeError, ValueError):
        raise RawFormatError(f"{src}: Meas/{stream}: every notification needs 'Timestamp' (ms) and '{key}'") from None
    return stamps, arrays


def _xyz(arrays: list[Any], src: str, what: str) -> npt.NDArray[np.float64]:
    # one pass over samples that JSON parsing already made Python objects: no faster path exists
    try:
        return np.array([(v["x"], v["y"], v["z"]) for arr in arrays for v in arr], dtype=np.float64).reshape(-1, 3)
    except (KeyError, TypeError, ValueError):
        raise RawFormatError(f"{src}: {what} samples must be objects with numbers x, y, z") from None


def read_movesense(path: str | Path, **identity: Any) -> RawSession:
    """Read a Movesense DataLogger/Logbook JSON log as a raw session (sensor frame, as logged).

    ``identity``: ``runner_id`` (required), ``start`` (ISO 8601 time of the first sample with its zone;
    required: the sensor clock has no date), ``session_id`` (default: file stem + start),
    ``sensor``, ``sample_rate_hz`` (default: from the stream's name, else from the timestamps),
    ``mounting``.
    """
    path = Path(path)
    src = str(path)
    check_keys(identity, _KEYS, src=src, fmt="Movesense log")
    runner = runner_id(identity, src=src)
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RawFormatError(f"{src}: not valid JSON ({str(exc)[:120]}); was the log saved completely?") from None
    streams = _find_streams(doc)
    base = {k.split("/")[0]: k for k in streams}
    if not streams:
        raise RawFormatError(f"{src}: no 'Meas' streams (IMU6, IMU9, Acc + Gyro); not a Movesense DataLogger log")
    imu = base.get("IMU6") or base.get("IMU9")
    if imu is not None:
        t_ms, acc_arrays = _packets(streams[imu], "ArrayAcc", src, imu)
        gyr_arrays = _packets(streams[imu], "ArrayGyro", src, imu)[1]
        rate_key = imu
    elif "Acc" in base and "Gyro" in base:
        t_ms, acc_arrays = _packets(streams[base["Acc"]], "ArrayAcc", src, base["Acc"])
        tg, gyr_arrays = _packets(streams[base["Gyro"]], "ArrayGyro", src, base["Gyro"])
        if t_ms.shape != tg.shape or np.any(t_ms != tg):
            raise RawFormatError(f"{src}: Meas/Acc and Meas/Gyro notifications do not share timestamps "
                                 f"({t_ms.size} and {tg.size}); log /Meas/IMU6 to record both together")
        rate_key = base["Acc"]
    elif "Acc" in base:
        raise RawFormatError(f"{src}: an accelerometer-only log (Meas/Acc, no gyroscope); imuback needs a gyroscope: "
                             "log /Meas/IMU6 (accelerometer and gyroscope)")
    else:
        raise RawFormatError(f"{src}: Meas holds {sorted(streams)}, none of IMU6, IMU9 or Acc + Gyro")
    acc, gyr = _xyz(acc_arrays, src, "ArrayAcc"), _xyz(gyr_arrays, src, "ArrayGyro")
    per = np.array([len(a) for a in acc_arrays], dtype=np.int64)
    if acc.shape != gyr.shape or np.any(per != [len(g) for g in gyr_arrays]):
        raise RawFormatError(f"{src}: ArrayAcc and ArrayGyro hold different numbers of samples per notification")
    if acc.shape[0] < 2:
        raise RawFormatError(f"{src}: {acc.shape[0]} samples; a session needs more")
    same = np.flatnonzero((np.diff(t_ms) == 0) & (per[1:] > 0) & (per[:-1] > 0))
    if same.size:  # each notification's samples follow its Timestamp: two with one Timestamp overlap
        k = int(same[0]) + 1
        twice = acc_arrays[k - 1] == acc_arrays[k] and gyr_arrays[k - 1] == gyr_arrays[k]
        raise RawFormatError(f"{src}: notifications {k - 1} and {k} of Meas/{rate_key} (counted from 0) both have "
                             f"Timestamp {int(t_ms[k])} ms, "
                             + ("with the same samples: one notification was stored twice; delete one of them"
                                if twice else "with different samples, which would overlap in time: the log joins "
                                "two recordings or streams; split it there")
                             + f" ({same.size} such pair(s) in the log)")
    fs = _rate(identity.get("sample_rate_hz"), rate_key, t_ms, per, src)
    if identity.get("start") is None:
        raise RawFormatError(f"{src}: a Movesense log is timed by the sensor's clock since power-on, with no date: "
                             "give the UTC time of its first sample (--start 2024-03-04T07:00:00Z, ISO 8601)")
    t0 = start_ns(str(identity["start"]), src=src)
    # sample j of a notification: its Timestamp + j / fs (the sensor clock keeps packets apart)
    first = np.repeat(t_ms - t_ms[0], per) * 1_000_000
    within = np.arange(acc.shape[0]) - np.repeat(np.cumsum(per) - per, per)
    time_ns = t0 + first + np.round(within * (1e9 / fs)).astype(np.int64)
    sid = identity.get("session_id") or default_session_id(path, t0)
    return RawSession(session_id=check_id(str(sid), what="session id", source=src), runner_id=runner,
                      sensor=str(identity.get("sensor") or SENSOR), sample_rate_hz=fs, time_ns=time_ns,
                      acc_mps2=acc.astype(np.float32), gyr_dps=gyr.astype(np.float32),
                      **mounting_given(identity), source=src, start_source="given")


def _rate(given: Any, key: str, t_ms: npt.NDArray[np.int64], per: npt.NDArray[np.int64], src: str) -> float:
    """Sample rate: given, else the path's ``/rate``, else the median ms per sample between consecutive
    notifications (those with samples whose Timestamp moved on). Finite and above 0, else RawFormatError.
    """
    back = np.flatnonzero(np.diff(t_ms) < 0)
    if back.size:  # a uint32 ms clock wraps after 49.7 days; the API text to confirm it was not at hand
        k = int(back[0]) + 1
        raise RawFormatError(f"{src}: the Timestamp goes back at notification {k} ({int(t_ms[k - 1])} -> "
                             f"{int(t_ms[k])} ms): the sensor clock wrapped or two logs were joined; "
                             "split the log there and read each part")
    if given is not None:
        fs, origin = _number(given), "the sample rate given"
    elif (m := _RATE_IN_KEY.search(key)) is not None:
        fs, origin = float(m.group(1)), f"the stream name {key!r}"
    else:
        step = np.diff(t_ms)
        usable = (per[:-1] > 0) & (step > 0)
        if not usable.any():
            raise RawFormatError(f"{src}: no two notifications with samples and different Timestamps, so no "
                                 "sample rate: give it (sample_rate_hz)")
        fs, origin = round(1000.0 / float(np.median(step[usable] / per[:-1][usable])), 3), "the Timestamps"
    if not (np.isfinite(fs) and fs > 0):
        raise RawFormatError(f"{src}: sample rate {fs:g} Hz from {origin} is not above 0; give the rate the "
                             "sensor logged at (sample_rate_hz)")
    return fs


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
