"""APDM Opal ``.h5`` recordings (the HDF5 files of APDM's Mobility Lab / Motion Studio), read with
h5py (the optional extra ``imuback[apdm]``).

Layout read: the fields that public readers of these files use (scikit-digital-health's
``skdh.io.ReadApdmH5``; Matlab loaders that read ``/Sensors/<id>/Time`` in µs and
``Configuration`` "Label 0"); APDM's own format document was not at hand to check it against::

    /Sensors/<sensor id>/Accelerometer   (N, 3) m/s², sensor frame, incl. gravity
    /Sensors/<sensor id>/Gyroscope       (N, 3) rad/s
    /Sensors/<sensor id>/Time            (N,)   µs since the Unix epoch, UTC
    /Sensors/<sensor id>/Configuration   attributes: "Label 0" (placement, e.g. "Lumbar"),
                                         "Sample Rate" (Hz, optional here)

One file holds one recording of several sensors: imuback reads the one at the lower back (label
"Lumbar", "Lower Back", "Sacrum", "Pelvis" or "L5", any case), or the only sensor of a one-sensor
file. The file names no runner: ``--runner``; the session id defaults to the file stem + start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imuback.core import RawSession, check_id
from imuback.errors import RawFormatError
from imuback.formats.identity import check_keys, default_session_id, mounting_given, runner_id

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
LOWER_BACK_LABELS = ("lumbar", "lower back", "lowerback", "sacrum", "pelvis", "l5")
_KEYS = frozenset({"runner_id", "session_id", "sensor", "mounting"})


def is_hdf5(head: bytes) -> bool:
    """Whether a file's first bytes are the HDF5 signature."""
    return head.startswith(HDF5_MAGIC)


def _label(group: Any) -> str:
    conf = group.get("Configuration")
    value = None if conf is None else conf.attrs.get("Label 0")
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").strip("\x00 ")
    return "" if value is None else str(value).strip("\x00 ")


def read_apdm(path: str | Path, **identity: Any) -> RawSession:
    """Read the lower-back sensor of an APDM Opal ``.h5`` file as a raw session (sensor frame).

    ``identity``: ``runner_id`` (required), ``session_id``, ``sensor``, ``mounting``.
    """
    try:
        import h5py
    except ImportError:
        raise RawFormatError(f"{path}: an HDF5 (APDM Opal) file; reading it needs h5py: "
                             "pip install 'imuback[apdm]'") from None
    path = Path(path)
    src = str(path)
    check_keys(identity, _KEYS, src=src, fmt="APDM .h5")
    runner = runner_id(identity, src=src)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise RawFormatError(f"{src}: not a readable HDF5 file ({str(exc)[:120]})") from None
    with f:
        sensors = f.get("Sensors")
        if not isinstance(sensors, h5py.Group) or not len(sensors):
            raise RawFormatError(f"{src}: an HDF5 file without APDM's /Sensors/<id> groups; not an APDM Opal file "
                                 f"(top level: {sorted(f.keys())[:10]})")
        labels = {sid: _label(sensors[sid]) for sid in sensors}
        back = [sid for sid, lab in labels.items() if lab.lower() in LOWER_BACK_LABELS]
        if len(back) != 1 and len(labels) != 1:
            raise RawFormatError(f"{src}: {len(back)} lower-back sensors among {labels}; imuback reads one sensor "
                                 f"labelled one of {list(LOWER_BACK_LABELS)}")
        sid = back[0] if back else next(iter(labels))
        g = sensors[sid]
        missing = [k for k in ("Accelerometer", "Time") if k not in g]
        if missing:
            raise RawFormatError(f"{src}: sensor {sid} ({labels[sid] or 'no label'}) has no {missing}")
        acc = np.asarray(g["Accelerometer"][()], dtype=np.float64)
        time_us = np.asarray(g["Time"][()]).astype(np.int64)
        gyr = np.degrees(np.asarray(g["Gyroscope"][()], dtype=np.float64)) if "Gyroscope" in g else None
        conf = g.get("Configuration")
        rate = None if conf is None else conf.attrs.get("Sample Rate")
    if acc.ndim != 2 or acc.shape[1] != 3 or time_us.shape != (acc.shape[0],) or acc.shape[0] < 2:
        raise RawFormatError(f"{src}: sensor {sid}: Accelerometer {acc.shape} and Time {time_us.shape} must be "
                             "(N, 3) and (N,) with N >= 2")
    if gyr is not None and gyr.shape != acc.shape:
        raise RawFormatError(f"{src}: sensor {sid}: Gyroscope {gyr.shape} does not match Accelerometer {acc.shape}")
    time_ns = time_us * 1000
    fs = float(rate) if rate is not None else 1e9 / float(np.median(np.diff(time_ns)))
    sid_text = identity.get("session_id") or default_session_id(path, int(time_ns[0]))
    return RawSession(session_id=check_id(str(sid_text), what="session id", source=src), runner_id=runner,
                      sensor=str(identity.get("sensor") or f"APDM Opal {sid} ({labels[sid] or 'no label'})"),
                      sample_rate_hz=fs, time_ns=time_ns, acc_mps2=acc.astype(np.float32),
                      gyr_dps=None if gyr is None else gyr.astype(np.float32),
                      **mounting_given(identity), source=src)
