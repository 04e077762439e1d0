"""The public Python API: :func:`read`, :func:`process`, :func:`open_dataset`, :func:`delete_session`,
:func:`simulate`.

Re-exported (lazily) by :mod:`imuback`; see docs/python_api.md. Everything else in the package
is private by convention and may change between releases.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from imuback.core import RawSession
from imuback.errors import ImubackError, RawFormatError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from imuback.formats import Format
    from imuback.formats.csv import ColumnMapping
    from imuback.pipeline import SessionTables
    from imuback.signal.params import PipelineParams
    from imuback.store.delete import DeletedSession

log = logging.getLogger("imuback")

_IDENTITY = frozenset({"session_id", "runner_id", "sensor", "sample_rate_hz", "mounting", "start", "time_zone"})

_O = r"(?<![\w/-])"  # an option word starts here: not inside a name or a path (study--replaced/)
_E = r"(?![\w/-])"  # and ends here (--start, not --start/ or --started)

_PYTHON_WORDS = (  # the command line's advice in the readers' errors, as this API's keywords (most specific first)
    (re.compile(r"'imuback process' \(imuback\.read_sessions in Python\)"), "imuback.read_sessions"),
    (re.compile(_O + r"--[\w-]+ \((\w+=) in Python\)"), r"\1"),  # drop --mounting (mounting= in Python)
    (re.compile(_O + r"--runner(?: ID)?(?: \(runner_id= in Python\))?(?: and --session)?" + _E),
     lambda m: "runner_id=" + (" and session_id=" if m.group(0).endswith("--session") else "")),
    (re.compile(_O + r"--session(?: ID)?" + _E), "session_id="),
    (re.compile(_O + r"drop --start" + _E), "drop start="),
    (re.compile(_O + r"--start (\d{4}-\d\d-\d\dT[\d:]+Z)"), r'start="\1"'),
    (re.compile(_O + r"--start (?=['\"])"), "start="),
    (re.compile(_O + r"--start" + _E), "start="),
    (re.compile(_O + r"--time-zone unknown \(time_zone='unknown'\)"), "time_zone='unknown'"),
    (re.compile(_O + r"--time-zone (?=['\"])"), "time_zone="),  # a zone refused: time_zone='Mars/Olympus'
    (re.compile(_O + r"--time-zone (\S+) \("), r"time_zone='\1' ("),  # a zone given over the file's own (a warning)
    (re.compile(_O + r"pass --replace \(replace=True in Python\)"), "pass replace=True"),
    (re.compile(_O + r"--[\w-]+ \((\w+=True) in Python\)"), r"\1"),  # pass --with-notes (with_notes=True in Python)
    (re.compile(_O + r"--replace" + _E), "replace=True"),  # --replace to re-date it
    (re.compile(_O + r"--(acc|gyr)-unit (\S+) \(ColumnMapping \w+= in Python\)"),
     r'mapping=ColumnMapping(\1_unit="\2")'),
    (re.compile(_O + r"name yours with --columns (\S+)"), r'name yours with mapping=ColumnMapping.parse("\1")'),
    (re.compile(_O + r"--columns, --time-unit" + _E + "|" + _O + r"--columns(?= names)"), "mapping="),
    (re.compile(_O + r"--acc-unit/--gyr-unit" + _E), "ColumnMapping acc_unit=/gyr_unit="),
)
"""How the readers' and the pipeline's errors and log warnings, written for ``imuback process``, read
in Python."""


def _python_words(text: str) -> str:
    """``text`` (an error or a log warning) with the command line's advice as this API's keywords; the
    file or folder it starts with (``<path>: ...``, one that exists) as it is, whatever its name.
    """
    head, sep, rest = text.partition(": ")
    if sep and os.path.exists(head):
        return head + sep + _python_words(rest)
    for pattern, words in _PYTHON_WORDS:
        text = pattern.sub(words, text)
    return text


class _PythonWarnings(logging.Filter):
    """Rewords the ``imuback`` log warnings (the readers' and the pipeline's logger) said by the
    thread that made it, as :func:`_python_words`; another thread's (a batch's workers) as they are.
    """

    def __init__(self) -> None:
        super().__init__()
        self._thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        if threading.get_ident() == self._thread:
            text = record.getMessage()
            words = _python_words(text)
            if words != text:
                record.msg, record.args = words, ()
        return True


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _python_advice(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Re-raise the errors of ``func`` (the same exception), and log its ``imuback`` warnings, with
    the command line's advice given as this API's keywords: ``session_id=`` rather than ``--session
    ID``, ``time_zone='Europe/Madrid' (+01:00) used`` rather than ``--time-zone Europe/Madrid``.
    """
    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        warnings = _PythonWarnings()
        log.addFilter(warnings)
        try:
            return func(*args, **kwargs)
        except ImubackError as exc:
            text = _python_words(str(exc))
            if text != str(exc):
                exc.args = (text, *exc.args[1:])
            raise
        finally:
            log.removeFilter(warnings)
    return wrapper


def _check_identity_keys(identity: dict[str, Any], *, source: str) -> None:
    unknown = sorted(set(identity) - _IDENTITY)
    if unknown:
        raise RawFormatError(f"{source}: unknown identity keys {unknown}; known: {sorted(_IDENTITY)}")


@_python_advice
def read(path: str | Path, format: Format | None = None, *, mapping: ColumnMapping | None = None,
         **identity: Any) -> RawSession:
    """Read and validate one raw session file, in any format imuback reads (docs/formats.md).

    Parameters
    ----------
    path : a raw session file: raw Parquet or CSV (docs/data_contract.md), a Sensor Logger or
        phyphox export (zip or folder), a Mobilise-D / mobgap ``data.mat``, an Xsens MTw/DOT text
        export, a BIDS-motion ``*_motion.tsv``, an APDM Opal ``.h5``, an Axivity AX6 ``.cwa`` or a
        Movesense DataLogger ``.json`` (docs/formats.md).
    format : one of :data:`imuback.formats.FORMATS` (``"parquet"``, ``"csv"``, ``"mobgap"``,
        ``"xsens"``, ``"bids"``, ``"apdm"``, ``"sensorlogger"``, ``"phyphox"``, ``"cwa"``,
        ``"movesense"``); None tells it by the file's content.
    mapping : a CSV's own column names and units (:class:`imuback.formats.csv.ColumnMapping`).
    **identity : ``session_id``, ``runner_id``, ``start`` (ISO 8601, or a datetime with its zone), ``sensor``,
        ``sample_rate_hz``, ``mounting``: what the file does not give; ``time_zone`` (``Europe/Madrid``,
        ``UTC``, ``+01:00``): where it was recorded, over the zone the file states (``sessions.utc_offset_source``
        ``given``); ``"unknown"``: none given (the file's own). A value other than the one
        a file states is refused naming both (raw Parquet's runner, session, start and mounting; a
        CSV sidecar's; BIDS's and mobgap's mounting), the same one is accepted; to file a raw
        Parquet recording under another id, ``dataclasses.replace`` the :class:`RawSession`. In a
        file holding several sessions (mobgap), ``session_id`` picks one.

    Returns
    -------
    RawSession
        Sample times (ns, UTC), acceleration (m/s²) and angular velocity (deg/s) in the sensor
        frame, validated (units, time order, mounting, rate).

    Examples
    --------
    >>> raw = imuback.read("data/example-20240304-00.parquet")  # doctest: +SKIP
    >>> raw.sample_rate_hz, raw.n_samples  # doctest: +SKIP
    (200.0, 156000)
    >>> imuback.read("HA/001/data.mat", runner_id="ha001", session_id="TimeMeasure1_Test5_Trial1")  # doctest: +SKIP
    """
    from imuback.formats import FORMATS, read_session

    src = str(path)
    _check_identity_keys(identity, source=src)
    if format is not None and format not in FORMATS:
        raise RawFormatError(f"{src}: unknown format {format!r}; give one of {list(FORMATS)}")
    return read_session(path, format=format, mapping=mapping, **identity)


@_python_advice
def read_sessions(path: str | Path, format: Format | None = None, *, mapping: ColumnMapping | None = None,
                  **identity: Any) -> list[RawSession]:
    """Every session one file holds: several for a mobgap ``data.mat`` (one per test and trial
    with a LowerBack sensor, ids ``<TimeMeasure>_<Test>_<Trial>``), one for the other formats.

    Parameters as for :func:`read`.

    Examples
    --------
    >>> [r.session_id for r in imuback.read_sessions("HA/001/data.mat", runner_id="ha001")]  # doctest: +SKIP
    ['TimeMeasure1_Test5_Trial1', 'TimeMeasure1_Test5_Trial2', 'TimeMeasure1_Test11_Trial1']
    """
    from imuback.formats import read_sessions as read_all

    _check_identity_keys(identity, source=str(path))
    return read_all(path, format=format, mapping=mapping, **identity)


@dataclass(frozen=True, slots=True)
class SessionResult:
    """One processed session: ``steps``, ``strides`` and its ``session`` row as pandas DataFrames.

    Columns and units: docs/data_contract.md. :meth:`tables` gives the same rows as Arrow tables,
    exactly as they are written to a dataset.
    """

    _tables: SessionTables

    @property
    def session_id(self) -> str:
        """The session's id."""
        return self._tables.session_id

    @property
    def runner_id(self) -> str:
        """The runner's id."""
        return self._tables.runner_id

    @property
    def moved(self) -> str:
        """What ``replace=True`` moved to this runner from another, in words ("" when nothing): the
        same recording stored under another runner id, with its notes.
        """
        return self._tables.moved_text

    @property
    def up_to_date(self) -> bool:
        """The dataset given already held these rows (same bytes, pipeline, parameters, mounting,
        start, zone and speed), so nothing was written; False without a dataset.
        """
        return self._tables.up_to_date

    @property
    def same_as(self) -> str:
        """Where the dataset given holds this same recording (same bytes and start) under another
        session id, in words ("" when it does not): a copy of a stored file under another name. Then
        ``session_id`` is the stored session's and nothing was written (``up_to_date``).
        """
        return self._tables.same_as

    @property
    def steps(self) -> pd.DataFrame:
        """One row per step (foot contact to the next contact)."""
        return self._tables.steps.to_pandas()

    @property
    def strides(self) -> pd.DataFrame:
        """One row per stride (contact to the next contact of the same foot)."""
        return self._tables.strides.to_pandas()

    @property
    def session(self) -> pd.DataFrame:
        """The one-row session summary (medians, asymmetry, drift, status and provenance)."""
        return self._tables.sessions.to_pandas()

    def tables(self) -> dict[str, pa.Table]:
        """``{"steps", "strides", "sessions"}`` as Arrow tables in the dataset schemas."""
        return self._tables.tables()


@_python_advice
def process(path_or_raw: str | Path | RawSession, *, dataset: str | Path | None = None,
            params: PipelineParams | None = None, replace: bool = False,
            treadmill_speed_mps: float | None = None, **identity: Any) -> SessionResult:
    """Find every step in one session and compute its running metrics.

    Parameters
    ----------
    path_or_raw : a raw session file, or a :class:`RawSession` (e.g. from :func:`read` or
        :func:`simulate`, or built from your own arrays). One read from a file (:func:`read`,
        :func:`read_sessions`) is stored as processing that file stores it (its absolute path and the
        SHA-256 of its bytes: ``RawSession.file``), so either route finds the other's rows up to date;
        one built in memory is stored with the SHA-256 of its samples.
    dataset : if given, the rows are also written into this dataset folder (created if missing),
        under its lock; a different recording stored under the same ids is refused unless
        ``replace``.
    params : pipeline parameters (:class:`imuback.signal.params.PipelineParams`); None: defaults.
    treadmill_speed_mps : the belt speed of a treadmill run, m/s (12 km/h is 3.33 m/s; above 0
        and below 15). It is the session's speed source (``speed_source`` "treadmill") for the
        steps its medians summarise (its running steps; all steps of a walk): step and stride
        length (speed x step time), vertical ratio and pace; it takes the place of a phone
        export's GPS speed (``steps.speed_mps`` stays the GPS's own).
        None: the GPS speed if the recording has one, else no speed (those columns null, never
        guessed). With ``dataset``, a speed given before for the same recording is kept; 0 clears
        it (the session is stored again without one).
    **identity : as for :func:`read` with a path; with a :class:`RawSession` only ``time_zone`` (its
        offset at the first sample, ``utc_offset_source`` ``given``, as :func:`read` sets it). With
        ``dataset``, a mounting and a time zone given before for the same recording are kept;
        ``mounting="unknown"`` / ``time_zone="unknown"`` forget them (the file's own again, else
        assumed / none). A zone given over the file's own different one is said as an ``imuback``
        log warning.

    Raises
    ------
    imuback.ImubackError
        A file that cannot be read, a treadmill speed that is not a belt speed, a clash in the dataset.

    Examples
    --------
    >>> res = imuback.process(imuback.simulate(minutes=2, seed=1))  # doctest: +SKIP
    >>> res.session["median_cadence_spm"].iloc[0]  # doctest: +SKIP
    >>> belt = imuback.process("treadmill-run.parquet", treadmill_speed_mps=3.33)  # doctest: +SKIP
    >>> belt.session[["speed_source", "median_pace_s_per_km", "median_stride_length_m"]]  # doctest: +SKIP
    """
    from imuback.pipeline import forgotten, store_session
    from imuback.signal.params import PipelineParams

    raw = (_given_zone(path_or_raw, identity) if isinstance(path_or_raw, RawSession)
           else read(path_or_raw, **identity))  # a RawSession read from a file is stored as that file
    return SessionResult(store_session(raw, dataset=dataset, params=params if params is not None else PipelineParams(),
                                       replace=replace, treadmill_speed_mps=treadmill_speed_mps,
                                       forget=forgotten(identity)))


def _given_zone(raw: RawSession, identity: dict[str, Any]) -> RawSession:
    """A :class:`RawSession` given to :func:`process` with ``time_zone=`` (the only identity keyword it
    takes): the zone's offset at its first sample, source ``given``, as :func:`read` sets it
    (``"unknown"``: its own offset kept, a zone given before forgotten); another keyword is refused
    naming the ``dataclasses.replace`` call that does it.
    """
    from imuback.formats import given_zone
    from imuback.formats.zone import FORGET

    others = sorted(set(identity) - {"time_zone"})
    if others:
        key = others[0]
        fix = ("mounting=..., mounting_source='given'" if key == "mounting"
               else "time_ns=raw.time_ns + shift_ns" if key == "start" else f"{key}=...")
        verb = "is" if len(others) == 1 else "are"
        raise RawFormatError(f"{raw.source}: {', '.join(k + '=' for k in others)} {verb} for files; on a "
                             f"RawSession use dataclasses.replace(raw, {fix}) (time_zone= is taken)")
    zone = identity.get("time_zone")
    if zone is None or (isinstance(zone, str) and zone == FORGET):
        return raw
    return given_zone(raw, str(zone), str(zone))


@dataclass(frozen=True, slots=True)
class Dataset:
    """A processed dataset folder: its tables as pandas DataFrames, and SQL over them.

    Tables: ``steps``, ``strides``, ``sessions`` (and ``errors`` and ``warnings`` from batch runs); columns in
    docs/data_contract.md and docs/batch.md.
    """

    path: Path

    def _table(self, name: str) -> pd.DataFrame:
        from imuback.store.dataset import read_table

        return read_table(self.path, name).to_pandas()

    @property
    def steps(self) -> pd.DataFrame:
        """Every step of every session."""
        return self._table("steps")

    @property
    def strides(self) -> pd.DataFrame:
        """Every stride of every session."""
        return self._table("strides")

    @property
    def sessions(self) -> pd.DataFrame:
        """One row per session."""
        return self._table("sessions")

    def query(self, sql: str) -> pd.DataFrame:
        """Run one read-only DuckDB SQL statement over the tables (confined to the dataset).

        Examples
        --------
        >>> ds.query("SELECT runner_id, count(*) AS n FROM sessions GROUP BY runner_id")  # doctest: +SKIP
        """
        from imuback.batch.query import run_query

        return run_query(self.path, sql).to_pandas()


def open_dataset(path: str | Path) -> Dataset:
    """Open a processed dataset folder (made by :func:`process` with ``dataset=``, or the CLI).

    Examples
    --------
    >>> ds = imuback.open_dataset("imuback-demo/dataset")  # doctest: +SKIP
    >>> ds.sessions[["session_id", "median_cadence_spm"]]  # doctest: +SKIP
    """
    from imuback.errors import DatasetError

    p = Path(path)
    if not p.is_dir():
        raise DatasetError(f"{p}: no dataset folder there" + (" (it is a file)" if p.exists() else ""))
    return Dataset(p)


@_python_advice
def delete_session(dataset: str | Path, *, runner_id: str, session_id: str, with_notes: bool = False,
                   dry_run: bool = False) -> DeletedSession:
    """Delete one stored session from a dataset: its ``steps``, ``strides`` and ``sessions`` rows, and the
    ``warnings`` rows of its input file when they speak of no other stored session, under the dataset's
    lock (docs/data_contract.md, "Deleting a session"). The raw recording files are never touched.

    Parameters
    ----------
    dataset : a processed dataset folder.
    runner_id, session_id : the session, as stored.
    with_notes : delete its notes (pain, effort: the runner's own words) too; without it a session with
        notes is refused and nothing is deleted.
    dry_run : say what would be deleted and change nothing.

    Returns
    -------
    DeletedSession
        What was deleted: ``n_steps``, ``n_strides``, ``n_notes``, ``n_warnings``, the ``tables`` that
        held it and its raw file (``source_path``, left as it is).

    Raises
    ------
    imuback.errors.UnknownSessionError
        No such runner or session (the message names the runner's sessions, or the runners).
    imuback.errors.SessionHasNotesError
        It has notes and ``with_notes`` is False.
    imuback.errors.DatasetError
        Another writer holds the dataset (a batch; a one-session write is waited for up to a minute).

    Examples
    --------
    >>> done = imuback.delete_session("ds", runner_id="ann", session_id="run--1--20231114T221320Z")  # doctest: +SKIP
    >>> done.n_steps, done.n_strides, done.source_path  # doctest: +SKIP
    (500, 498, '/home/ann/runs/run (1).csv')
    """
    from imuback.store.delete import delete_stored_session

    return delete_stored_session(dataset, runner_id=runner_id, session_id=session_id, with_notes=with_notes,
                                 dry_run=dry_run)


def simulate(*, minutes: float = 12.0, seed: int = 7, runner_id: str = "runner-01",
             session_id: str | None = None, start_time: datetime | None = None,
             sample_rate_hz: float = 200.0) -> RawSession:
    """A simulated running session from the physics-based runner simulator (docs/simulator.md).

    Parameters
    ----------
    minutes : minutes of running (plus a short stand and walk before and after, as in
        ``imuback simulate --minutes``).
    seed : the same seed gives the same session, bit for bit.
    runner_id, session_id : identifiers (letters, digits, ``._-``); the session id defaults to
        ``<runner_id>-sim<seed>``.
    start_time : UTC time of the first sample (default 2024-03-04 07:00 UTC).
    sample_rate_hz : the sensor's rate.

    Examples
    --------
    >>> raw = imuback.simulate(minutes=2, seed=3)  # doctest: +SKIP
    """
    from imuback.simulate.runner import RunnerParams, simulate_session

    params = RunnerParams(run_minutes=minutes, sample_rate_hz=sample_rate_hz)
    start = start_time or datetime(2024, 3, 4, 7, 0, tzinfo=UTC)
    return simulate_session(params, seed=seed, session_id=session_id or f"{runner_id}-sim{seed}",
                            runner_id=runner_id, start_time=start).raw
