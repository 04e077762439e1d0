"""Export raw sessions as a BIDS-motion dataset, the standard layout for sharing motion data.

Layout (BIDS 1.10, motion datatype; one tracking system ``tracksys-imu`` per session)::

    <out>/dataset_description.json, README, participants.tsv, participants.json
    <out>/sub-<runner>/sub-<runner>_sessions.tsv
    <out>/sub-<runner>/ses-<session>/sub-<runner>_ses-<session>_scans.tsv
    <out>/sub-<runner>/ses-<session>/motion/sub-<runner>_ses-<session>_task-<task>_tracksys-imu_
        motion.tsv      samples, no header: latency (s), acc x/y/z (m/s^2), gyr x/y/z (deg/s)
        motion.json     sampling frequency, channel counts, duration, device
        channels.tsv    one row per motion.tsv column: name, component, type, units, frame
        channels.json   the reference frames: the sensor frame and its nominal mounting
        events.tsv      (with ``dataset=``) one row per detected foot contact from ``steps``

Values are the raw contract's, unchanged: specific force in m/s² and angular velocity in deg/s in
the SENSOR frame. Missing samples stay missing rows; the LATENCY channel (seconds since the first
sample, whose UTC time is ``acq_time`` in the scans file) shows where the gaps are. BIDS labels
allow only letters and digits: runner and session ids are mapped to labels, and the mapping is
kept in ``participants.tsv`` and ``*_sessions.tsv`` (columns ``imuback_runner_id`` and
``imuback_session_id``), as is the session's time zone (``imuback_utc_offset_min`` and
``imuback_utc_offset_source`` in ``*_sessions.tsv``: ``acq_time`` is UTC).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from imuback import __version__
from imuback.batch.inputs import discover_inputs
from imuback.batch.work import given_identity
from imuback.core import RawSession
from imuback.errors import ImubackError
from imuback.formats import read_sessions
from imuback.store.dataset import part_path

BIDS_VERSION = "1.10.0"
TRACKSYS = "imu"
TRACKED_POINT = "LowerBack"
"""BIDS ``tracked_point`` of the sacral sensor."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BidsExport:
    """What an export wrote and what it could not."""

    out_dir: Path
    sessions: tuple[Path, ...]
    """The ``*_motion.tsv`` files written."""
    failures: tuple[tuple[str, str], ...]
    """(input file, error message) for inputs that could not be exported."""


def bids_label(value: str) -> str:
    """A BIDS label (letters and digits only) for an imuback id; stable for the same id."""
    label = re.sub(r"[^A-Za-z0-9]", "", value)
    if label != value or not label:
        # Keep labels distinct when ids differ only in dropped characters.
        label = (label or "x") + hashlib.sha256(value.encode()).hexdigest()[:6]
    return label


def export_bids(inputs: Sequence[str | Path], *, out_dir: str | Path, task: str = "running",
                dataset: str | Path | None = None, runner_id: str | None = None,
                name: str = "imuback lower-back IMU running sessions") -> BidsExport:
    """Write the raw sessions named by ``inputs`` (files, folders, globs) as BIDS-motion.

    ``dataset`` (optional): a processed imuback dataset; its ``steps`` rows of each session are
    written as ``*_events.tsv`` (foot contacts). ``runner_id``: the runner of the inputs that name
    none; an input naming its own (raw Parquet, a CSV sidecar, a BIDS ``participants.tsv``) keeps it,
    and another given is refused for it, as ``imuback process --runner``; every session of a file
    holding several (mobgap ``data.mat``) is written. An input file that cannot be read or written
    as BIDS, for whatever reason, is skipped and reported in :attr:`BidsExport.failures` (the
    files its session had begun to write are removed); everything else is written.

    Raises
    ------
    ImubackError
        Before anything is written: a task label that is not letters and digits, or an input
        that names no file (``BatchInputError``).
    """
    out = Path(out_dir)
    if not re.fullmatch(r"[A-Za-z0-9]+", task):
        raise ImubackError(f"task label {task!r}: BIDS labels use only letters and digits")
    files = discover_inputs(inputs, exclude=[out])
    out.mkdir(parents=True, exist_ok=True)
    participants = _read_tsv(out / "participants.tsv")
    written: list[Path] = []
    failures: list[tuple[str, str]] = []
    for f in files:
        given: dict[str, Any] = given_identity(f, runner_id=runner_id)
        try:
            raws = read_sessions(f, **given)
        except Exception as exc:  # any unreadable input is listed and skipped, never fatal
            failures.append((str(f), _input_error(f, exc)))
            continue
        for raw in raws:
            try:
                written.append(_write_session_whole(out, raw, task=task, dataset=dataset))
            except Exception as exc:
                failures.append((str(f), _input_error(f, exc)))
                continue
            sub = f"sub-{bids_label(raw.runner_id)}"
            participants[sub] = {"participant_id": sub, "imuback_runner_id": raw.runner_id}
    _write_tsv(out / "participants.tsv", ["participant_id", "imuback_runner_id"],
               [participants[k] for k in sorted(participants)])
    _write_json(out / "participants.json", {
        "participant_id": {"Description": "BIDS label of the runner"},
        "imuback_runner_id": {"Description": "runner_id in imuback's raw files and dataset"},
    })
    _write_json(out / "dataset_description.json", {
        "Name": name, "BIDSVersion": BIDS_VERSION, "DatasetType": "raw",
        "GeneratedBy": [{"Name": "imuback", "Version": __version__,
                         "Description": "imuback export bids"}],
    })
    readme = out / "README"
    if not readme.exists():
        readme.write_text(
            f"{name}\n\nRunning sessions recorded by one IMU at the lower back (sacrum), exported "
            "by imuback. Accelerometer (m/s^2, incl. gravity) and gyroscope (deg/s) in the sensor "
            "frame; see each *_channels.json for the frame and the nominal mounting rotation. "
            "Missing samples are missing rows: use the LATENCY channel for time.\n")
    return BidsExport(out_dir=out, sessions=tuple(written), failures=tuple(failures))


def _input_error(path: Path, exc: Exception) -> str:
    """The message for a skipped input: imuback's own errors as they are, others named."""
    if isinstance(exc, ImubackError):
        return str(exc)
    return f"{path}: cannot be exported ({type(exc).__name__}: {exc}); the file was skipped"


def _session_dir(out: Path, raw: RawSession) -> Path:
    return out / f"sub-{bids_label(raw.runner_id)}" / f"ses-{bids_label(raw.session_id)}"


def _write_session_whole(out: Path, raw: RawSession, *, task: str,
                         dataset: str | Path | None) -> Path:
    """:func:`_write_session`, or on failure no new file or folder of the session left behind."""
    ses_dir = _session_dir(out, raw)
    existed = ses_dir.is_dir()
    before = set(ses_dir.rglob("*")) if existed else set()
    try:
        return _write_session(out, raw, task=task, dataset=dataset)
    except BaseException:
        new = set(ses_dir.rglob("*")) - before if ses_dir.is_dir() else set()
        if not existed:
            new |= {ses_dir, ses_dir.parent}  # the parent only if empty (rmdir refuses otherwise)
        for p in sorted(new, key=lambda q: len(q.parts), reverse=True):  # contents before folders
            with contextlib.suppress(OSError):
                p.rmdir() if p.is_dir() else p.unlink()
        raise


def _write_session(out: Path, raw: RawSession, *, task: str, dataset: str | Path | None) -> Path:
    sub, ses = bids_label(raw.runner_id), bids_label(raw.session_id)
    ses_dir = _session_dir(out, raw)
    motion_dir = ses_dir / "motion"
    motion_dir.mkdir(parents=True, exist_ok=True)
    stem = f"sub-{sub}_ses-{ses}_task-{task}_tracksys-{TRACKSYS}"
    t0_ns = int(raw.time_ns[0])
    latency_s = (raw.time_ns - t0_ns) / 1e9
    cols: dict[str, pa.Array] = {
        "latency": pc.cast(pc.round(pa.array(latency_s), 6), pa.decimal128(18, 6), safe=False),
    }
    channels = [{"name": "latency", "component": "n/a", "type": "LATENCY",
                 "tracked_point": TRACKED_POINT, "units": "s", "reference_frame": "n/a",
                 "description": "time since the first sample (acq_time in the scans file)"}]
    blocks = [("acc", "ACCEL", "m/s^2", raw.acc_mps2, "specific force incl. gravity")]
    if raw.gyr_dps is not None:
        blocks.append(("gyr", "GYRO", "deg/s", raw.gyr_dps, "angular velocity"))
    for prefix, kind, unit, values, what in blocks:
        for i, axis in enumerate("xyz"):
            if f"{prefix}_{axis}" in raw.acc_absent:  # a two-axis accelerometer: no channel for the axis it lacks
                continue
            cols[f"{prefix}_{axis}"] = pa.array(np.ascontiguousarray(values[:, i]), type=pa.float32())
            channels.append({"name": f"{prefix}_{axis}", "component": axis, "type": kind,
                             "tracked_point": TRACKED_POINT, "units": unit,
                             "reference_frame": "sensor", "description": f"{what}, sensor {axis}"})
    motion_tsv = motion_dir / f"{stem}_motion.tsv"
    _write_table_tsv(motion_tsv, pa.table(cols), header=False)
    for ch in channels:
        ch["sampling_frequency"] = f"{raw.sample_rate_hz:g}"
    _write_tsv(motion_dir / f"{stem}_channels.tsv",
               ["name", "component", "type", "tracked_point", "units", "sampling_frequency",
                "reference_frame", "description"], channels)
    assumed = raw.mounting_source == "assumed"  # a placeholder is no nominal mounting: read back, still assumed
    sensor_frame: dict[str, object] = {
        "Description": (
            "The sensor's own axes (as printed on the chip), right-handed. The nominal "
            "mounting rotation R maps them to imuback's body frame (x anterior, y left, "
            "z superior; SpatialAxes ALS): v_body = R @ v_sensor. The sensor may be worn "
            "up to ~30 deg off its nominal mounting."
            + (" How this sensor was worn was not recorded." if assumed else "")),
        "RotationRule": "right-hand",
    }
    if not assumed:
        sensor_frame["NominalMountingRotation"] = np.asarray(raw.mounting, dtype=float).round(6).tolist()
    _write_json(motion_dir / f"{stem}_channels.json", {
        "reference_frame": {
            "LongName": "reference frame of the channel",
            "Levels": {"sensor": sensor_frame},
        },
    })
    duration_s = float(latency_s[-1]) if latency_s.size else 0.0
    dt = np.diff(raw.time_ns)
    effective = 1e9 / float(np.median(dt)) if dt.size else raw.sample_rate_hz
    n_gyr = 3 if raw.gyr_dps is not None else 0
    _write_json(motion_dir / f"{stem}_motion.json", {
        "TaskName": task,
        "TaskDescription": "running (with any standing and walking recorded in the session)",
        "TrackingSystemName": f"imuback lower-back IMU ({raw.sensor})",
        "ManufacturersModelName": raw.sensor,
        "SoftwareVersions": f"imuback {__version__}",
        "SamplingFrequency": raw.sample_rate_hz,
        "SamplingFrequencyEffective": round(effective, 6),
        "RecordingDuration": round(duration_s, 6),
        "MotionChannelCount": len(channels),
        "ACCELChannelCount": 3 - len(raw.acc_absent),
        "GYROChannelCount": n_gyr,
        "LATENCYChannelCount": 1,
        "TrackedPointsCount": 1,
        "MissingValues": "none: missing samples are missing rows (see the latency channel)",
        "SubjectArtefactDescription": "n/a",
    })
    if dataset is not None:
        _write_events(motion_dir / f"{stem.replace(f'_tracksys-{TRACKSYS}', '')}_events.tsv",
                      Path(dataset), raw, t0_ns)
    acq_time = datetime.fromtimestamp(t0_ns / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # Z: UTC (BIDS)
    _write_tsv(ses_dir / f"sub-{sub}_ses-{ses}_scans.tsv", ["filename", "acq_time"],
               [{"filename": f"motion/{motion_tsv.name}", "acq_time": acq_time}])
    sessions_tsv = out / f"sub-{sub}" / f"sub-{sub}_sessions.tsv"
    rows = _read_tsv(sessions_tsv)
    rows[f"ses-{ses}"] = {"session_id": f"ses-{ses}", "acq_time": acq_time, "imuback_session_id": raw.session_id,
                          "imuback_utc_offset_min": "" if raw.utc_offset_min is None else str(raw.utc_offset_min),
                          "imuback_utc_offset_source": raw.utc_offset_source or ""}
    _write_tsv(sessions_tsv, list(SESSIONS_COLUMNS), [rows[k] for k in sorted(rows)])
    _write_json(sessions_tsv.with_suffix(".json"), SESSIONS_COLUMNS)
    return motion_tsv


SESSIONS_COLUMNS = {
    "session_id": {"Description": "BIDS label of the session"},
    "acq_time": {"Description": "UTC time of the session's first motion sample"},
    "imuback_session_id": {"Description": "session_id in imuback's raw files and dataset"},
    "imuback_utc_offset_min": {"Description": "where the session was recorded: the local clock's offset from UTC at "
                                              "its first sample (RawSession.utc_offset_min)", "Units": "min"},
    "imuback_utc_offset_source": {"Description": "where that offset came from",
                                  "Levels": {"given": "given by the user", "file": "stated by the recording",
                                             "computer": "the recording computer's zone (a guess)"}},
}
"""The columns of ``sub-*_sessions.tsv``, as its ``sub-*_sessions.json`` describes them: the imuback ids
and time zone of each session, which BIDS's ``acq_time`` (UTC, ``Z``) does not carry."""


def _write_events(path: Path, dataset: Path, raw: RawSession, t0_ns: int) -> None:
    part = part_path(dataset, "steps", raw.runner_id, raw.session_id)
    if not part.exists():
        return
    steps = pq.read_table(part, columns=["ic_time", "foot", "activity", "contact_time_s"])
    ic_ns = steps["ic_time"].cast(pa.int64())
    onset_s = pc.divide(pc.cast(pc.subtract(ic_ns, t0_ns), pa.float64()), 1e9)

    def text(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
        return pc.fill_null(pc.cast(col, pa.string()), "n/a")

    def seconds(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
        return text(pc.cast(pc.round(col, 6), pa.decimal128(18, 6), safe=False))

    events = pa.table({
        "onset": seconds(onset_s), "duration": seconds(steps["contact_time_s"]),
        "trial_type": pa.array(["foot_contact"] * steps.num_rows, pa.string()),
        "foot": text(steps["foot"]), "activity": text(steps["activity"]),
    })
    _write_table_tsv(path, events, header=True)
    _write_json(path.with_suffix(".json"), {
        "onset": {"Description": "initial contact, seconds since the first motion sample",
                  "Units": "s"},
        "duration": {"Description": "contact time (initial contact to toe-off)", "Units": "s"},
        "trial_type": {"Levels": {"foot_contact": "one foot contact (step) found by imuback"}},
        "foot": {"Levels": {"L": "left foot", "R": "right foot"}},
        "activity": {"Levels": {"run": "running bout", "walk": "walking bout"}},
        "GeneratedBy": f"imuback {__version__} (steps table)",
    })


def _write_table_tsv(path: Path, table: pa.Table, *, header: bool) -> None:
    """An Arrow table as a BIDS TSV: tab-separated, no value quoted (pyarrow refuses one that would need
    it), and its header, if any, plain as BIDS expects: pyarrow quotes header names whatever the
    quoting style (only recent releases have ``quoting_header``), so the header is written here.
    """
    with open(path, "wb") as f:
        if header:
            f.write(("\t".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(include_header=False, delimiter="\t",
                                                                   quoting_style="none"))


def _write_tsv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, delimiter="\t", lineterminator="\n",
                           extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("n/a" if r.get(k) in (None, "") else r[k]) for k in columns})


def _read_tsv(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    key = next(iter(rows[0])) if rows else ""
    return {r[key]: r for r in rows}


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")
