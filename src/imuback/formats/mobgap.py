"""Mobilise-D / mobgap ``data.mat`` files: one session per test and trial with a LowerBack sensor.

Layout (MATLAB v5, the Mobilise-D data standard as mobgap reads it)::

    data.<TimeMeasure>.<Test>.<Trial>.SU.LowerBack.{Acc (N, 3) g, Gyr (N, 3) deg/s,
                                                    Fs.{Acc, Gyr} Hz, Timestamp (N,) Unix s}
    data.<TimeMeasure>.<Test>.<Trial>.{StartDateTime, TimeZone, Standards...}

Each trial becomes one :class:`~imuback.core.RawSession` with session id
``<TimeMeasure>_<Test>_<Trial>`` (e.g. ``TimeMeasure1_Test5_Trial1``); trials without a
``SU.LowerBack`` sensor are not sessions for imuback and are left out. The file names no runner:
the caller gives one (``--runner``). Sensor frame of the Mobilise-D lower-back unit worn as
specified: x up, y to the right, z forward, so the nominal mounting is
:data:`MOBILISED_LOWER_BACK_R` (``v_body = R @ v_sensor``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from imuback.core import G_MPS2, RawSession, check_id
from imuback.errors import RawFormatError
from imuback.formats.identity import check_keys, check_stated, runner_id, start_ns

MAT5_MAGIC = b"MATLAB 5.0 MAT-file"
"""First bytes of a MATLAB v5 file (its 116-byte text header)."""
MOBILISED_LOWER_BACK_R = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]], dtype=np.float64)
"""Mobilise-D lower-back sensor (x up, y right, z forward) -> body frame (x forward, y left, z up)."""
SENSOR = "Mobilise-D LowerBack SU"
_KEYS = frozenset({"runner_id", "session_id", "sensor", "mounting"})


def is_mobgap_mat(head: bytes) -> bool:
    """Whether a file's first bytes are a MATLAB v5 header (the only MAT files imuback reads)."""
    return head.startswith(MAT5_MAGIC)


def has_data_struct(path: str | Path) -> bool:
    """Whether a MATLAB v5 file holds a struct named ``data`` (the Mobilise-D data standard's), told from
    its variable list without loading it (``scipy.io.whosmat``): not so a mobgap ``infoForAlgo.mat``.
    """
    import scipy.io as sio

    try:
        return any(name == "data" and kind == "struct" for name, _shape, kind in sio.whosmat(path))
    except (ValueError, TypeError, OSError, NotImplementedError):
        return True  # unreadable: taken, so that reading it says why


@dataclass(frozen=True, slots=True, kw_only=True)
class MobgapTrial:
    """One trial of a ``data.mat`` with a LowerBack sensor: its session id and MATLAB struct
    (``SU``, ``Standards``, ``StartDateTime``..., as ``scipy.io.loadmat(simplify_cells=True)`` gives it).
    """

    session_id: str
    struct: dict[str, Any]


def load_mobgap(path: str | Path) -> list[MobgapTrial]:
    """Every trial with a LowerBack sensor in a Mobilise-D ``data.mat``, in file order."""
    import scipy.io as sio

    src = str(path)
    try:
        mat = sio.loadmat(path, simplify_cells=True)
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise RawFormatError(f"{src}: not a readable MATLAB v5 file ({str(exc)[:120]}); a MATLAB v7.3 "
                             "file must be re-saved with save(..., '-v7')") from None
    data = mat.get("data")
    if not isinstance(data, dict):
        raise RawFormatError(f"{src}: a MATLAB file without the Mobilise-D 'data' struct (variables: "
                             f"{sorted(k for k in mat if not k.startswith('__'))[:10]}); not a mobgap data.mat")
    out = []
    for session, tests in data.items():
        for test, trials in (tests.items() if isinstance(tests, dict) else ()):
            for trial, x in (trials.items() if isinstance(trials, dict) else ()):
                su = x.get("SU") if isinstance(x, dict) else None
                if isinstance(su, dict) and isinstance(su.get("LowerBack"), dict):
                    out.append(MobgapTrial(session_id=f"{session}_{test}_{trial}", struct=x))
    if not out:
        raise RawFormatError(f"{src}: no trial with a SU.LowerBack sensor under data.<session>.<test>.<trial>; "
                             "imuback reads the lower-back unit only")
    return out


def _zone(name: Any, *, src: str) -> dt.tzinfo | None:
    """The trial's ``TimeZone`` (an IANA name such as ``Europe/London``), None when it has none."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise RawFormatError(f"{src}: TimeZone {name!r} is not a time zone name (e.g. Europe/London)") from None


def _rate(fs: Any, key: str, *, src: str) -> float:
    value = fs.get(key) if isinstance(fs, dict) else fs
    try:
        return float(value)  # type: ignore[arg-type]  # anything MATLAB holds: refused below if not a number
    except (TypeError, ValueError):
        raise RawFormatError(f"{src}: LowerBack.Fs.{key} is {value!r}, not a sample rate in Hz") from None


def mobgap_raw(trial: MobgapTrial, *, runner: str, source: str, sensor: str = SENSOR,
               mounting: Any = None) -> RawSession:
    """One trial's LowerBack recording as a raw session: acc g -> m/s², gyro deg/s, sensor frame.

    Sample times are the file's ``Timestamp`` (Unix seconds, UTC), kept to the microsecond; a
    trial without one is timed from ``StartDateTime`` at the accelerometer's rate.
    """
    src = f"{source} ({trial.session_id})"
    check_stated("mounting", MOBILISED_LOWER_BACK_R, mounting, src=src,  # the standard's frame is kept
                 states="a Mobilise-D data.mat states the standard's lower-back mounting")
    lb = trial.struct["SU"]["LowerBack"]
    try:
        acc = np.asarray(lb["Acc"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise RawFormatError(f"{src}: LowerBack has no numeric 'Acc' (N, 3) array in g") from None
    if acc.ndim != 2 or acc.shape[1] != 3 or acc.shape[0] < 2:
        raise RawFormatError(f"{src}: LowerBack.Acc must be (N, 3) with N >= 2, got {acc.shape}")
    fs = _rate(lb.get("Fs"), "Acc", src=src)
    gyr = None
    if "Gyr" in lb and np.size(lb["Gyr"]):
        gyr = np.asarray(lb["Gyr"], dtype=np.float64)
        if gyr.shape != acc.shape:
            raise RawFormatError(f"{src}: LowerBack.Gyr is {gyr.shape} but Acc is {acc.shape}; they must match")
        if _rate(lb.get("Fs"), "Gyr", src=src) != fs:
            raise RawFormatError(f"{src}: Acc and Gyr have different rates; imuback needs one sample clock")
    ts = np.asarray(lb.get("Timestamp", []), dtype=np.float64).ravel()
    if ts.size == acc.shape[0]:
        time_ns = np.round(ts * 1e6).astype(np.int64) * 1000  # float64 Unix s holds ~0.2 µs
    elif "StartDateTime" in trial.struct:
        t0 = start_ns(str(trial.struct["StartDateTime"]), src=src, what="StartDateTime",
                      zone=_zone(trial.struct.get("TimeZone"), src=src))
        time_ns = t0 + np.round(np.arange(acc.shape[0]) * (1e9 / fs)).astype(np.int64)
    else:
        raise RawFormatError(f"{src}: LowerBack.Timestamp has {ts.size} values for {acc.shape[0]} samples and "
                             "the trial has no StartDateTime: no sample times")
    return RawSession(session_id=check_id(trial.session_id, what="session id", source=src), runner_id=runner,
                      sensor=sensor, sample_rate_hz=fs, time_ns=time_ns, acc_mps2=(acc * G_MPS2).astype(np.float32),
                      gyr_dps=None if gyr is None else gyr.astype(np.float32),
                      mounting=MOBILISED_LOWER_BACK_R, mounting_source="file", source=src,
                      utc_offset_min=_offset_min(trial.struct.get("TimeZone"), time_ns, src=src))


def _offset_min(name: Any, time_ns: npt.NDArray[np.int64], *, src: str) -> int | None:
    """The trial's ``TimeZone`` offset (minutes) at its first sample: where it was recorded; None without one."""
    from imuback.formats.zone import offset_min_at

    zone = _zone(name, src=src)
    return None if zone is None or not time_ns.size else offset_min_at(zone, int(time_ns[0]))


def read_mobgap(path: str | Path, **identity: Any) -> list[RawSession]:
    """Every LowerBack trial of a ``data.mat`` as a raw session; ``runner_id`` is required.

    ``session_id`` picks one trial (``<TimeMeasure>_<Test>_<Trial>``) instead of all;
    ``sensor`` overrides the default; ``mounting``, the standard's (:data:`MOBILISED_LOWER_BACK_R`),
    is refused when it differs.
    """
    src = str(path)
    check_keys(identity, _KEYS, src=src, fmt="mobgap data.mat")
    runner = runner_id(identity, src=src)
    trials = load_mobgap(path)
    want = identity.get("session_id")
    if want is not None:
        trials = [t for t in trials if t.session_id == want]
        if not trials:
            raise RawFormatError(f"{src}: no trial {want!r}; it holds {[t.session_id for t in load_mobgap(path)]}")
    return [mobgap_raw(t, runner=runner, source=src, sensor=str(identity.get("sensor") or SENSOR),
                       mounting=identity.get("mounting")) for t in trials]
