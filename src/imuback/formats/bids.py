"""BIDS-motion recordings (``*_motion.tsv`` with its ``*_channels.tsv``), as ``imuback export bids``
writes them (:mod:`imuback.batch.bids`) or as other tools do, for one IMU.

The samples have no header: ``*_channels.tsv`` names each column (``type`` ACCEL, GYRO, LATENCY;
``component`` x/y/z; ``units``); two ACCEL channels are a two-axis accelerometer (``acc_absent``).
Time: the LATENCY channel (s since the first sample) or, without one, ``SamplingFrequency`` from
``*_motion.json``; the first sample's time is ``acq_time`` (with ``Z``, or an offset such as
``+01:00``, which also says where it was recorded) in the session's ``*_scans.tsv`` (else
``--start``). Ids: the runner's ``imuback_runner_id`` in ``participants.tsv`` where imuback wrote it
(a runner given must be that one), else the one given; the session given, else its
``imuback_session_id`` in ``*_sessions.tsv``; else the ``sub-``/``ses-`` labels of the file name.
Zone: ``acq_time``'s offset, else ``imuback_utc_offset_min`` / ``imuback_utc_offset_source`` in
``*_sessions.tsv`` (imuback's export: its ``acq_time`` is UTC).
Mounting: ``NominalMountingRotation`` of the ``sensor`` frame in ``*_channels.json`` (else the
identity). BIDS 1.10, motion datatype.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from imuback.core import G_MPS2, RawSession, check_id
from imuback.errors import RawFormatError
from imuback.formats.identity import (
    check_keys,
    check_stated,
    start_ns,
    upper_z,
)

MOTION_SUFFIX = "_motion.tsv"
ACC_SCALE = {"m/s^2": 1.0, "m/s2": 1.0, "m s-2": 1.0, "g": G_MPS2}
GYR_SCALE = {"deg/s": 1.0, "rad/s": float(np.degrees(1.0))}
_KEYS = frozenset({"runner_id", "session_id", "start", "sensor", "mounting"})


def is_bids_motion(path: Path) -> bool:
    """Whether ``path`` is a BIDS ``*_motion.tsv`` with its ``*_channels.tsv`` beside it."""
    return path.name.endswith(MOTION_SUFFIX) and _sibling(path, "_channels.tsv").is_file()


SIDECAR_SUFFIXES = ("_channels.tsv", "_channels.json", "_motion.json")
"""The files beside a ``*_motion.tsv`` that make its session with it: channel names and units, the
mounting, the sampling rate and sensor name. (The ids and start time come from the dataset's
``participants.tsv``, ``*_sessions.tsv`` and ``*_scans.tsv``, shared by many recordings.)"""


def sidecar_files(path: str | Path) -> list[Path]:
    """The sidecars (:data:`SIDECAR_SUFFIXES`) of the ``*_motion.tsv`` ``path`` that exist, in that order."""
    path = Path(path)
    return [p for p in (_sibling(path, s) for s in SIDECAR_SUFFIXES) if p.is_file()]


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name[: -len(MOTION_SUFFIX)] + suffix)


def _tsv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _entities(name: str) -> dict[str, str]:
    return dict(re.findall(r"([a-z]+)-([A-Za-z0-9]+)", name))


def _channel_columns(channels: list[dict[str, str]], kind: str, scales: dict[str, float], *, src: str,
                     two_axis: bool = False) -> tuple[list[int | None], float] | None:
    """(column index of x, y, z, None for an axis without a channel; factor to imuback's unit) of the
    ``kind`` channels, or None without any. ``two_axis``: two channels are a sensor with only those axes
    (a two-axis accelerometer, declared by the file itself).
    """
    idx = [i for i, c in enumerate(channels) if c.get("type", "").upper() == kind]
    if not idx:
        return None
    if not (2 if two_axis else 3) <= len(idx) <= 3:
        raise RawFormatError(f"{src}: {len(idx)} {kind} channels; imuback reads one tracked point (x, y, z"
                             + (", or two of them for a two-axis accelerometer)" if two_axis else ")"))
    by_axis = {channels[i].get("component", "").lower(): i for i in idx}
    if len(by_axis) != len(idx) or not set(by_axis) <= {"x", "y", "z"}:
        raise RawFormatError(f"{src}: {kind} channels have components {sorted(by_axis)}, not x, y, z")
    unit = channels[idx[0]].get("units", "")
    if unit not in scales:
        raise RawFormatError(f"{src}: {kind} units {unit!r} not understood; expected one of {sorted(scales)}")
    return [by_axis.get(a) for a in "xyz"], scales[unit]


def _xyz(data: npt.NDArray[np.float64], cols: tuple[list[int | None], float]) -> npt.NDArray[np.float32]:
    """(N, 3) float32 of the x, y, z channels ``cols`` in imuback's unit; 0 for an axis without a channel."""
    out = np.zeros((data.shape[0], 3), dtype=np.float32)
    for i, col in enumerate(cols[0]):
        if col is not None:
            out[:, i] = data[:, col] * cols[1]
    return out


def _mounting(path: Path, given: Any, *, src: str) -> tuple[Any, str]:
    """(nominal mounting or None, ``mounting_source``): the ``sensor`` frame's ``NominalMountingRotation``
    in ``*_channels.json`` (a given one that differs is refused, as a CSV sidecar's), else the one
    given, else none (the identity, assumed).
    """
    channels_json = _sibling(path, "_channels.json")
    stated = None
    if channels_json.is_file():
        levels = json.loads(channels_json.read_text(encoding="utf-8")).get("reference_frame", {}).get("Levels", {})
        stated = levels.get("sensor", {}).get("NominalMountingRotation")
    if stated is not None:
        check_stated("mounting", stated, given, src=src, states=f"{channels_json.name} gives NominalMountingRotation",
                     fix=f"correct {channels_json.name}")
        return stated, "file"
    return given, "assumed" if given is None else "given"


def _bids_root(path: Path) -> tuple[Path, Path]:
    """(session folder, dataset root) of the ``*_motion.tsv`` ``path`` (``sub-*/[ses-*/]motion/``)."""
    ses_dir = path.parent.parent if path.parent.name == "motion" else path.parent
    return ses_dir, ses_dir.parent.parent if ses_dir.name.startswith("ses-") else ses_dir.parent


def stated_runner(path: str | Path) -> str | None:
    """The runner the BIDS recording ``path`` states: ``imuback_runner_id`` of its ``sub-`` in the
    dataset's ``participants.tsv`` (None without that column, or ``n/a``), unchecked.
    """
    path = Path(path)
    participant = f"sub-{_entities(path.name).get('sub')}"
    return next((r["imuback_runner_id"] for r in _tsv(_bids_root(path)[1] / "participants.tsv")
                 if r.get("participant_id") == participant and r.get("imuback_runner_id") not in (None, "n/a")),
                None)


def _made_by_imuback(bids_root: Path) -> bool:
    """Whether the dataset's ``dataset_description.json`` names imuback in ``GeneratedBy``."""
    try:
        generated = json.loads((bids_root / "dataset_description.json").read_text(encoding="utf-8")).get("GeneratedBy")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(generated, list) and any(isinstance(g, dict) and g.get("Name") == "imuback" for g in generated)


def read_bids(path: str | Path, **identity: Any) -> RawSession:
    """Read one BIDS-motion recording of one IMU as a raw session (sensor frame)."""
    path = Path(path)
    src = str(path)
    check_keys(identity, _KEYS, src=src, fmt="BIDS-motion")
    channels = _tsv(_sibling(path, "_channels.tsv"))
    acc_cols = _channel_columns(channels, "ACCEL", ACC_SCALE, src=src, two_axis=True)
    if acc_cols is None:
        raise RawFormatError(f"{src}: no ACCEL channels in {_sibling(path, '_channels.tsv').name}")
    gyr_cols = _channel_columns(channels, "GYRO", GYR_SCALE, src=src)
    lat = [i for i, c in enumerate(channels) if c.get("type", "").upper() == "LATENCY"]
    try:
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(autogenerate_column_names=True),
                               parse_options=pacsv.ParseOptions(delimiter="\t"),
                               convert_options=pacsv.ConvertOptions(null_values=["n/a"],
                                                                    column_types={f"f{i}": pa.float64() for i in
                                                                                  range(len(channels))}))
    except (pa.ArrowInvalid, OSError) as exc:
        raise RawFormatError(f"{src}: not a readable motion TSV ({str(exc)[:200]})") from None
    if table.num_columns != len(channels):
        raise RawFormatError(f"{src}: {table.num_columns} columns but {len(channels)} channels in channels.tsv")
    data = np.column_stack([np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float64) for c in table.columns])
    motion_json = _sibling(path, "_motion.json")
    meta = json.loads(motion_json.read_text(encoding="utf-8")) if motion_json.is_file() else {}
    first_acc = next(i for i in acc_cols[0] if i is not None)
    fs = float(meta.get("SamplingFrequency") or channels[first_acc].get("sampling_frequency") or "nan")
    ent = _entities(path.name)
    ses_dir, bids_root = _bids_root(path)
    scans_at = [(s.name, r) for s in sorted(ses_dir.glob("*_scans.tsv")) for r in _tsv(s)
                if r.get("filename", "").endswith(path.name)]
    scans = [r for _, r in scans_at]
    scans_name = scans_at[0][0] if scans_at else "the *_scans.tsv"
    acq_time = upper_z(scans[0].get("acq_time", "n/a")) if scans else "n/a"
    from imuback.formats.zone import text_offset_min

    offset = text_offset_min(acq_time) if acq_time != "n/a" else None
    if acq_time != "n/a" and not acq_time.endswith("Z") and offset is None and _made_by_imuback(bids_root):
        acq_time += "Z"  # imuback's exports before 0.15 wrote their UTC acq_time without the Z
    if acq_time != "n/a" and (acq_time.endswith("Z") or offset is not None or identity.get("start") is None):
        # BIDS: "YYYY-MM-DDThh:mm:ss[.000000][Z]"; without Z the zone is "the local time of the
        # dataset viewer", i.e. unknown: --start with its zone then gives the moment. One written
        # with its offset (+01:00, beyond BIDS) names the moment and where it was recorded
        if not acq_time.endswith("Z") and offset is None:
            raise RawFormatError(f"{src}: acq_time {acq_time!r} in the *_scans.tsv has no Z, and BIDS then leaves "
                                 "its time zone to the reader; add Z to it if it is UTC, or give the first "
                                 f"sample's time with its zone (--start {acq_time}+01:00, ISO 8601)")
        t0, start_source = start_ns(acq_time, src=src, what="acq_time"), "file"
        check_stated("start", t0, identity.get("start"), src=src,  # the file's start: another --start refused
                     states=f"acq_time in {scans_name} is", fix="correct the acq_time")
    elif identity.get("start") is not None:
        offset = None  # --start's own offset is kept by formats.read_sessions
        t0, start_source = start_ns(str(identity["start"]), src=src), "given"
    else:
        raise RawFormatError(f"{src}: no acq_time in a *_scans.tsv for this file; give --start (ISO 8601)")
    if lat:
        time_ns = t0 + np.round(data[:, lat[0]] * 1e9).astype(np.int64)
    else:
        time_ns = t0 + np.round(np.arange(data.shape[0]) * (1e9 / fs)).astype(np.int64)
    runner = stated_runner(path)
    if runner is None:
        runner = ent.get("sub") if identity.get("runner_id") is None else identity["runner_id"]
    else:  # the file's own, kept: another given is refused, as every format refuses what it states
        check_stated("runner_id", runner, identity.get("runner_id"), src=src,
                     states=f"participants.tsv gives sub-{ent.get('sub')} imuback_runner_id =",
                     fix="correct participants.tsv")
    ses_row = next((r for r in _tsv(bids_root / f"sub-{ent.get('sub')}" / f"sub-{ent.get('sub')}_sessions.tsv")
                    if r.get("session_id") == f"ses-{ent.get('ses')}"), {})
    session = (identity.get("session_id") or _value(ses_row, "imuback_session_id")
               or ent.get("ses") or ent.get("task"))
    offset_source = None
    if offset is None and _value(ses_row, "imuback_utc_offset_min") is not None:  # imuback's export: acq_time is UTC
        offset, offset_source = _offset(ses_row, src=src)
    if runner is None or session is None:
        raise RawFormatError(f"{src}: no sub-/ses- labels in the file name; give --runner and --session")
    mounting, source = _mounting(path, identity.get("mounting"), src=src)
    acc_absent = tuple(f"acc_{a}" for a, col in zip("xyz", acc_cols[0], strict=True) if col is None)
    return RawSession(session_id=check_id(str(session), what="session id", source=src),
                      runner_id=check_id(str(runner), what="runner id", source=src),
                      sensor=str(identity.get("sensor") or meta.get("ManufacturersModelName") or "BIDS-motion IMU"),
                      sample_rate_hz=fs, time_ns=time_ns, acc_mps2=_xyz(data, acc_cols), acc_absent=acc_absent,
                      gyr_dps=None if gyr_cols is None else _xyz(data, gyr_cols),
                      **({} if mounting is None else {"mounting": mounting}), mounting_source=source, source=src,
                      utc_offset_min=offset, utc_offset_source=offset_source, start_source=start_source)


def _value(row: dict[str, str], column: str) -> str | None:
    """A ``*.tsv`` row's value, None for ``n/a`` or no such column."""
    value = row.get(column)
    return None if value in (None, "", "n/a") else value


def _offset(row: dict[str, str], *, src: str) -> tuple[int, str]:
    """(``utc_offset_min``, ``utc_offset_source``) of a ``*_sessions.tsv`` row written by imuback's export."""
    from imuback.core import ZONE_SOURCES

    text, source = _value(row, "imuback_utc_offset_min"), _value(row, "imuback_utc_offset_source") or "file"
    try:
        minutes = int(str(text))
    except ValueError:
        raise RawFormatError(f"{src}: imuback_utc_offset_min {text!r} in the *_sessions.tsv is not whole minutes "
                             "(60 for UTC+01:00); correct it or write n/a") from None
    if source not in ZONE_SOURCES:
        raise RawFormatError(f"{src}: imuback_utc_offset_source {source!r} in the *_sessions.tsv is not one of "
                             f"{list(ZONE_SOURCES)}; correct it or write n/a")
    return minutes, source
