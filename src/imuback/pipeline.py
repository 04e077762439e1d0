"""One session: raw file -> signal stages -> dataset rows. The function batch maps.

``process_raw`` is pure (arrays in, Arrow tables out); ``process_file`` adds reading the raw
file, provenance (path, SHA-256) and, if a dataset is given, writing the rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from imuback import PIPELINE_VERSION
from imuback.core import RawSession
from imuback.errors import (
    DatasetError,
    ImubackError,
    RawFormatError,
    RedatedError,
    RefiledError,
    SidecarsUnhashedError,
    SignalError,
)
from imuback.formats import SEVERAL_SESSIONS, read_session, read_sessions
from imuback.formats.bids import MOTION_SUFFIX
from imuback.signal.activity import RUN, STILL, WALK
from imuback.signal.clipping import CENSORED_METRICS, censored, censored_median
from imuback.signal.dsp import interp_at
from imuback.signal.events import LEFT, RIGHT
from imuback.signal.metrics import step_lengths, stride_lengths
from imuback.signal.params import PipelineParams
from imuback.signal.session import SessionAnalysis, analyse_session
from imuback.signal.summary import drift
from imuback.store.dataset import (
    delete_session,
    partition_of,
    refiled_under,
    sessions_from_bytes,
    stored_source,
    stored_treadmill_speed,
    table_files,
    write_session,
)
from imuback.store.lock import ONE_SESSION_WAIT_S, PROCESS_COMMAND, DatasetLock, session_locks
from imuback.store.notes import move_notes
from imuback.store.schema import (
    DRIFT_METRICS,
    MEDIAN_METRICS,
    RATE_SENSITIVE_STRIDES,
    SCHEMA_VERSION,
    SESSIONS_SCHEMA,
    SIDE_METRICS,
    SPEED_MEDIANS,
    STEPS_SCHEMA,
    STRIDES_SCHEMA,
    rate_left_out,
)
from imuback.store.warnings_table import write_warnings

if TYPE_CHECKING:
    from imuback.formats.csv import ColumnMapping

F64 = npt.NDArray[np.float64]
log = logging.getLogger("imuback")


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionTables:
    """The processed rows of one session (Arrow tables in the documented schemas)."""

    session_id: str
    runner_id: str
    steps: pa.Table
    strides: pa.Table
    sessions: pa.Table
    moved_from: tuple[tuple[str, int], ...] = ()
    """(runner_id, notes moved) of each runner this session was moved from (``replace``: the same
    recording was stored under another runner's id)."""
    up_to_date: bool = False
    """The dataset already held these rows (same bytes, pipeline version, parameters, schema,
    mounting, start, zone and treadmill speed: :func:`_already_stored`), so nothing was written;
    the word ``imuback batch`` uses for a file it skips."""
    same_as: str = ""
    """Where the dataset holds this same recording under another session id, in words ("" when it
    does not): a copy of the file under another name (:func:`_stored_as`); with ``up_to_date``:
    nothing written."""

    def tables(self) -> dict[str, pa.Table]:
        """Table name -> table, as written to the dataset."""
        return {"steps": self.steps, "strides": self.strides, "sessions": self.sessions}

    @property
    def summary(self) -> dict[str, Any]:
        """The single ``sessions`` row as a dict."""
        return {k: v[0] for k, v in self.sessions.to_pydict().items()}

    @property
    def moved_text(self) -> str:
        """What was moved to this session's runner, in words ("" when nothing was)."""
        return "; ".join(f"session {self.session_id} moved from runner {old!r} to {self.runner_id!r} with "
                         f"{n} note{'' if n == 1 else 's'}" for old, n in self.moved_from)


def raw_sha256(raw: RawSession) -> str:
    """SHA-256 of a session built in memory: its sample times and values (the bytes a file would
    hold), so that a dataset can tell this recording from another under the same ids.
    """
    h = hashlib.sha256()
    for a in (raw.time_ns, raw.acc_mps2, raw.gyr_dps):
        if a is not None:
            h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def provenance(raw: RawSession) -> tuple[str, str, bool]:
    """(``source_path``, ``source_sha256``, dated by the start given) stored with ``raw``: those of the
    file it was read from (``RawSession.file``), so that a session read and then processed is stored as
    its file processed is; for a session built in memory, its ``source`` name and :func:`raw_sha256`.
    """
    if raw.file is not None:
        return raw.file.path, raw.file.sha256, raw.start_source == "given"
    return raw.source, raw_sha256(raw), False


def process_raw(raw: RawSession, *, params: PipelineParams = PipelineParams(),
                source_path: str = "", source_sha256: str = "",
                treadmill_speed_mps: float | None = None) -> SessionTables:
    """Process one raw session in memory; no I/O.

    ``treadmill_speed_mps``: the belt speed of a treadmill run (m/s), the session's speed source
    for step length and pace (:func:`check_treadmill_speed`); None: the GPS speed, if any.
    A :class:`~imuback.errors.SignalError` from the pure signal code (which knows no file names)
    comes out naming the session and its source.
    """
    if raw.n_samples == 0:
        raise RawFormatError(f"{raw.source}: session {raw.session_id!r} of runner {raw.runner_id!r} holds no "
                             "samples: there is nothing to process")
    check_treadmill_speed(treadmill_speed_mps, source=raw.source)
    try:
        analysis = analyse_session(raw, params=params)
    except SignalError as exc:
        raise SignalError(f"{raw.source}: session {raw.session_id!r} of runner {raw.runner_id!r}: {exc}") from exc
    steps, strides, sessions = session_tables(raw, analysis, params=params,
                                              source_path=source_path, source_sha256=source_sha256,
                                              treadmill_speed_mps=treadmill_speed_mps)
    return SessionTables(session_id=raw.session_id, runner_id=raw.runner_id,
                         steps=steps, strides=strides, sessions=sessions)


def process_file(path: str | Path, *, dataset: str | Path | None = None,
                 params: PipelineParams = PipelineParams(), replace: bool = False,
                 lock_held: bool = False, csv_meta: dict[str, Any] | None = None,
                 mapping: ColumnMapping | None = None, treadmill_speed_mps: float | None = None) -> SessionTables:
    """Read, validate and process one raw session file; write its rows if ``dataset`` is given.

    Writing takes the dataset's lock (:class:`~imuback.store.lock.DatasetLock`) unless
    ``lock_held`` (a batch worker: its driver holds it). A session already in the dataset from
    other bytes (another file, or the file changed) is refused with
    :class:`~imuback.errors.DatasetError` unless ``replace``; from the same bytes it is replaced.
    The same recording stored under another runner's id is refused with
    :class:`~imuback.errors.RefiledError` unless ``replace``, which moves it (rows and notes) to
    this runner (``SessionTables.moved_from`` says what moved).
    ``csv_meta``: identity of a file without one (``runner_id``, ``start``...; see
    :func:`~imuback.formats.read_session`); ``mapping``: a CSV's column names and units. A file
    holding several sessions is refused unless ``csv_meta`` picks one by ``session_id`` (see
    :func:`process_file_sessions`). ``treadmill_speed_mps``: see :func:`store_session`. Raises
    :class:`imuback.errors.ImubackError` subclasses with the file named in the message.
    """
    return store_session(read_session(path, mapping=mapping, **(csv_meta or {})), dataset=dataset, params=params,
                         replace=replace, lock_held=lock_held, treadmill_speed_mps=treadmill_speed_mps,
                         forget=forgotten(csv_meta))


def process_file_sessions(path: str | Path, *, dataset: str | Path | None = None,
                          params: PipelineParams = PipelineParams(), replace: bool = False,
                          identity: dict[str, Any] | None = None,
                          mapping: ColumnMapping | None = None,
                          treadmill_speed_mps: float | None = None,
                          lock_held: bool = False, force: bool = False) -> list[SessionTables | ImubackError]:
    """Every session of one file (several for a mobgap ``data.mat``), processed as
    :func:`process_file` does one; each session's result, or the error that stopped that session
    alone. Reading the file is all or nothing (an unreadable file raises). ``lock_held``: the
    caller holds the dataset's lock (a batch worker); ``force``: see :func:`store_session`.
    """
    out: list[SessionTables | ImubackError] = []
    with collected_warnings() as said:
        raws = read_sessions(path, mapping=mapping, **(identity or {}))
        source, sha, _ = provenance(raws[0])  # every session of one file carries that file
        forget = forgotten(identity)
        # batch workers share the driver's dataset lock: the session locks keep two files with the same ids apart
        ids = [(raw.runner_id, raw.session_id) for raw in raws]
        with session_locks(dataset, ids, source_sha256=sha) if lock_held and dataset is not None else nullcontext():
            for raw in raws:
                try:
                    out.append(store_session(raw, dataset=dataset, params=params, replace=replace,
                                             lock_held=lock_held, treadmill_speed_mps=treadmill_speed_mps,
                                             force=force, forget=forget))
                except ImubackError as exc:
                    out.append(exc)
    written = [r for r in out if isinstance(r, SessionTables) and not r.up_to_date]
    if dataset is not None and not lock_held and written:  # a batch's driver keeps its workers' (batch/runner.py)
        write_warnings(dataset, source_path=source, messages=said, source_sha256=sha,
                       session_id=", ".join(r.session_id for r in written), runner_id=written[0].runner_id,
                       pipeline_version=PIPELINE_VERSION)
    return out


@contextmanager
def collected_warnings() -> Iterator[list[str]]:
    """The ``imuback`` log warnings said meanwhile by this thread (a zone given over a file's own, a
    reader's notice), as a list filled while the block runs: a batch's record and the clinic page show
    them. Another thread's (a Dask worker runs several tasks at once) are not this block's.
    """
    said: list[str] = []
    opener = threading.get_ident()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:  # runs in the logging thread
            if threading.get_ident() == opener:  # not record.thread: None under logging.logThreads = False
                said.append(record.getMessage())

    handler = _Collect(logging.WARNING)
    log.addHandler(handler)
    try:
        yield said
    finally:
        log.removeHandler(handler)


def forgotten(identity: dict[str, Any] | None) -> frozenset[str]:
    """The identity keys given as ``"unknown"`` (:data:`imuback.formats.zone.FORGET`: ``--mounting
    unknown``, ``--time-zone unknown``): what was told before is forgotten, not kept (:func:`_keep_given`).
    """
    from imuback.formats.zone import FORGET

    return frozenset(k for k in ("mounting", "time_zone")
                     if isinstance((identity or {}).get(k), str) and (identity or {})[k] == FORGET)


def store_session(raw: RawSession, *, dataset: str | Path | None, params: PipelineParams = PipelineParams(),
                  replace: bool = False, lock_held: bool = False, treadmill_speed_mps: float | None = None,
                  force: bool = False, forget: frozenset[str] = frozenset()) -> SessionTables:
    """Process ``raw`` and, if ``dataset`` is given, write its rows there (see :func:`process_file`),
    with its file's path and hash (:func:`provenance`; a session built in memory: its samples' hash).

    ``treadmill_speed_mps``: the belt speed of a treadmill run. Without it (None), a speed given
    when the same recording (same bytes) was stored before is kept: re-processing, ``replace``
    included, never drops it. :data:`CLEAR_TREADMILL_SPEED_MPS` (0) clears a stored speed: the
    session is stored without one (GPS speed, if any, else none). So are a mounting and a time zone
    given before (:func:`_keep_given`), unless ``forget`` names them (``"mounting"``, ``"time_zone"``:
    :func:`forgotten`). Rows the dataset holds already (:func:`_already_stored`) are not written
    again (``SessionTables.up_to_date``) unless ``force`` (``imuback batch --force``). A recording is
    one session: the same bytes and start stored under another session id (:func:`_stored_as`: a
    copy of the file under another name, another ``--session``) are that session, and
    ``SessionTables.same_as`` says so -- this runner's: up to date (nothing written) as that session
    would be, else (``force``, a new belt speed, mounting or zone given, another pipeline version)
    that session written again; another runner's: refused as a move (``replace`` moves it, under
    its stored id). A file's session dated by the start given to it (``RawSession.start_source``
    ``given``) is that stored session whatever its start: stored under another start, it is refused
    (:class:`~imuback.errors.RedatedError`, "--replace to re-date it") unless ``replace``, which
    re-dates it under its stored session id.
    """
    source_path, source_sha256, start_given = provenance(raw)
    clear = treadmill_speed_mps == CLEAR_TREADMILL_SPEED_MPS
    given = None if clear else treadmill_speed_mps
    if dataset is None:
        return process_raw(raw, params=params, source_path=source_path, source_sha256=source_sha256,
                           treadmill_speed_mps=given)
    with nullcontext() if lock_held else DatasetLock(dataset, command=PROCESS_COMMAND, wait_s=ONE_SESSION_WAIT_S):
        same = _stored_as(dataset, raw, source_sha256=source_sha256, any_start=start_given)
        if (same is not None and same.get("start_ns") is not None and not replace
                and not same_start(same["start_ns"], int(raw.time_ns[0]))):  # a start given again, another one
            err = RedatedError(_redated_text(raw, same))
            err.runner_id, err.session_id = same["runner_id"], same["session_id"]
            raise err
        if same is not None:  # one recording is one session: the stored one, whatever this file is called
            raw = dataclasses.replace(raw, session_id=same["session_id"])
        before = _stored_before(dataset, raw, source_sha256=source_sha256)
        raw, kept = _keep_given(raw, before, forget=forget)
        check_identity(dataset, raw, source_sha256=source_sha256, replace=replace, source_path=source_path)
        stored_speed = stored_treadmill_speed(dataset, runner_id=before[0] if before else raw.runner_id,
                                              session_id=raw.session_id, source_sha256=source_sha256)
        speed = given if given is not None or clear else stored_speed
        result = process_raw(raw, params=params, source_path=source_path, source_sha256=source_sha256,
                             treadmill_speed_mps=speed)
        others = refiled_under(dataset, runner_id=raw.runner_id, session_id=raw.session_id, sessions=result.sessions)
        if same is not None and same["runner_id"] != raw.runner_id and same["runner_id"] not in others:
            others.append(same["runner_id"])  # the same bytes and start: that recording, whatever its length now
        if others and not replace:
            raise _refiled_error(dataset, raw, others, stored_from=same["source_path"] if same else "")
        if kept:  # said once it is filed, not before a refusal
            log.warning("%s", kept)
        if same is not None and not others:  # a copy: up to date as the stored session is, never a second one
            result = dataclasses.replace(result, same_as=_same_as_text(same))
        if not force and speed == stored_speed and _already_stored(dataset, raw, source_sha256=source_sha256,
                                                                   params=params):
            result = dataclasses.replace(result, up_to_date=not others)
        else:
            write_session(dataset, runner_id=raw.runner_id, session_id=raw.session_id, tables=result.tables())
        if others:  # written under the new runner first: an interrupted move loses nothing
            moved = []
            for other in others:
                n = move_notes(dataset, session_id=raw.session_id, from_runner=other, to_runner=raw.runner_id)
                delete_session(dataset, runner_id=other, session_id=raw.session_id, sessions_last=True)
                moved.append((other, n))
            result = dataclasses.replace(result, moved_from=tuple(moved))
    return result


def _stored_as(dataset: str | Path, raw: RawSession, *, source_sha256: str,
               any_start: bool = False) -> dict[str, Any] | None:
    """The stored session (:func:`~imuback.store.dataset.sessions_from_bytes` row) made from this
    same recording -- the same bytes (``source_sha256``) and the same first sample -- under another
    session id: a copy of the file under another name (``run.zip``, ``run (1).zip``), or another
    ``--session`` given. This runner's first, else another runner's; None when the dataset holds it
    under ``raw``'s own session id (this runner's: re-processing; another's: a move,
    :func:`refiled_under`) or not at all. Several files' sessions with the same bytes (one mobgap
    ``data.mat``) are told apart by their first sample; ``any_start``: a file of one session dated by
    the start given to it, whose bytes are that session whatever start it was given.
    """
    if not source_sha256 or not raw.n_samples:
        return None
    first = int(raw.time_ns[0])
    found = [r for r in sessions_from_bytes(dataset, source_sha256=source_sha256)
             if any_start or same_start(r["start_ns"], first)]
    if not found or any(r["session_id"] == raw.session_id for r in found):
        return None
    mine = [r for r in found if r["runner_id"] == raw.runner_id]
    return (mine or found)[0]


def _redated_text(raw: RawSession, same: dict[str, Any]) -> str:
    """The refusal of a file of one session given another start than the one it is stored with."""
    def utc(ns: int) -> str:
        return f"{dt.datetime.fromtimestamp(ns // 10**9, tz=dt.UTC):%Y-%m-%dT%H:%M:%SZ}"

    return (f"{raw.source}: this recording is already stored as session {same['session_id']} of runner "
            f"{same['runner_id']!r} starting {utc(int(same['start_ns']))}; the start given now is "
            f"{utc(int(raw.time_ns[0]))}: --replace to re-date it (its session id stays)")


def _same_as_text(same: dict[str, Any]) -> str:
    """``SessionTables.same_as``: where the same recording is stored, with its earlier file name."""
    path = str(same.get("source_path") or "")
    earlier = f" (from {Path(path).name})" if path and not path.startswith("<") else ""
    return f"the same recording is already stored as session {same['session_id']}{earlier}"


def _stored_before(dataset: str | Path, raw: RawSession, *, source_sha256: str) -> tuple[str, dict[str, Any]] | None:
    """(runner id, :func:`~imuback.store.dataset.stored_source` row) of this recording (same bytes)
    stored before under this session id: under this runner, else under another (a move).
    """
    if not source_sha256:
        return None
    runners = [raw.runner_id, *sorted({partition_of(p)[0] for p in table_files(dataset, "sessions",
                                                                              session_id=raw.session_id)}
                                      - {raw.runner_id})]
    for runner in runners:
        stored = stored_source(dataset, runner_id=runner, session_id=raw.session_id)
        if stored is not None and stored["source_sha256"] == source_sha256:
            return runner, stored
    return None


def _keep_given(raw: RawSession, before: tuple[str, dict[str, Any]] | None, *,
                forget: frozenset[str] = frozenset()) -> tuple[RawSession, str]:
    """``raw`` with the mounting and time zone given when the same recording (same bytes) was stored
    before (``before``: :func:`_stored_before`), where none is given now (read without ``--mounting`` /
    ``--time-zone``): re-processing (a new pipeline version, ``batch`` again, a move to another runner)
    never drops what the user told. A mounting where the file states none; a zone stored as
    ``given`` (schema 1.9) over the file's own too; one stored before 1.9 (no source) where the file
    states none, or over the file's own when it differs from it (the same bytes and start state the
    same offset: another one can only have been given); the zone only for the same start (an offset
    is the zone's at the first sample). ``forget`` (``"mounting"``, ``"time_zone"``: given as
    ``unknown``) keeps neither: what the file states, else assumed / no zone. Also the warning to log
    once the session is filed ("" for none): a zone kept over the file's different own.
    """
    if before is None:
        return raw, ""
    stored = before[1]
    keep: dict[str, Any] = {}
    said = ""
    told = stored["utc_offset_source"] == "given" or (
        stored["utc_offset_source"] is None and stored["utc_offset_min"] != raw.utc_offset_min)
    if ("time_zone" not in forget and told and raw.utc_offset_source != "given"
            and stored["utc_offset_min"] is not None and raw.n_samples
            and same_start(stored["start_ns"], int(raw.time_ns[0]))):
        keep.update(utc_offset_min=int(stored["utc_offset_min"]), utc_offset_source="given")
        if raw.utc_offset_min is not None and raw.utc_offset_min != keep["utc_offset_min"]:
            from imuback.formats.zone import overridden_text

            said = overridden_text(raw.source, "", keep["utc_offset_min"], raw.utc_offset_min, before=True,
                                   computer=raw.utc_offset_source == "computer")
    if ("mounting" not in forget and raw.mounting_source == "assumed" and stored["mounting_source"] == "given"
            and stored["mounting_nominal"]):
        keep.update(mounting=np.asarray(json.loads(stored["mounting_nominal"]), dtype=np.float64),
                    mounting_source="given")
    return (dataclasses.replace(raw, **keep) if keep else raw), said


def _refiled_error(dataset: str | Path, raw: RawSession, others: list[str], *, stored_from: str = "") -> RefiledError:
    """The refusal to file a stored recording again under another runner's id (``stored_from``: the
    file it was stored from, when that has another name: :func:`_stored_as`).
    """
    names = " and ".join(repr(o) for o in others)
    earlier = (f" (stored from {Path(stored_from).name})"
               if stored_from and not stored_from.startswith("<") and Path(stored_from).name != Path(raw.source).name
               else "")
    return RefiledError(
        f"{raw.source}: session {raw.session_id!r} is already in {dataset} under runner {names}, made from "
        f"this same recording{earlier}; it was not filed again under runner {raw.runner_id!r}. If {raw.runner_id!r} "
        "is the right runner, pass --replace (replace=True in Python) to move the session there with its "
        f"notes; else it stays under runner {names} and nothing needs doing")


def _already_stored(dataset: str | Path, raw: RawSession, *, source_sha256: str, params: PipelineParams) -> bool:
    """The dataset holds this session made from the same bytes by this pipeline version and
    parameters at this schema version, read with the same mounting, start time and UTC offset: writing it
    again would change nothing (a no-op, ``processed_at`` included).
    """
    stored = stored_source(dataset, runner_id=raw.runner_id, session_id=raw.session_id)
    return (stored is not None and bool(source_sha256) and stored["source_sha256"] == source_sha256
            and stored["pipeline_version"] == PIPELINE_VERSION and stored["params_json"] == params.to_json()
            and stored["schema_version"] == SCHEMA_VERSION and stored["mounting_source"] == raw.mounting_source
            and stored["mounting_nominal"] == mounting_json(raw.mounting)
            and stored["utc_offset_min"] == raw.utc_offset_min  # a --time-zone given: stored again
            and stored["utc_offset_source"] == raw.utc_offset_source
            and same_start(stored["start_ns"], int(raw.time_ns[0])))  # a file timed by --start: the same start


def start_time(first_ns: int) -> dt.datetime:
    """``sessions.start_time`` of a session whose first sample is at ``first_ns`` (UTC ns): to the
    microsecond (a Python datetime), as it has always been stored. Through float seconds, so not an
    exact rounding (a first sample about -600 to +650 ns around the stored microsecond is the same
    start): keep it so, or rows already stored stop matching (:func:`same_start`).
    """
    return dt.datetime.fromtimestamp(first_ns / 1e9, tz=dt.UTC)


def same_start(stored_ns: int | None, first_ns: int) -> bool:
    """A stored ``sessions.start_time`` (UTC ns, :func:`~imuback.store.dataset.stored_source`'s
    ``start_ns``) is that of a first sample at ``first_ns`` (UTC ns), compared at the stored precision
    (:func:`start_time`): a first sample between whole microseconds is the same start.
    """
    if stored_ns is None:
        return False
    stored = start_time(first_ns) - _EPOCH
    return stored_ns == (stored // dt.timedelta(microseconds=1)) * 1000


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def mounting_json(mounting: npt.NDArray[np.float64]) -> str:
    """The nominal mounting as ``sessions.mounting_nominal`` stores it (JSON 3x3, row-major)."""
    return json.dumps(np.asarray(mounting, dtype=np.float64).tolist())


def check_identity(dataset: str | Path, raw: RawSession, *, source_sha256: str, replace: bool,
                   source_path: str = "") -> None:
    """Refuse to put ``raw`` where the dataset holds another recording of the same (runner, session).
    One stored with the hash of these very samples is this recording: ``imuback.process(read(file))``
    stored that before a ``RawSession`` carried its file (:func:`provenance`), and it is now written
    again with the file's.
    """
    stored = stored_source(dataset, runner_id=raw.runner_id, session_id=raw.session_id)
    if stored is None or replace or stored["source_sha256"] in (source_sha256, "", None):
        return
    if raw.file is not None and stored["source_sha256"] == raw_sha256(raw):
        return
    if _sidecars_unhashed(source_path, stored):
        raise SidecarsUnhashedError(
            f"{raw.source}: session {raw.session_id!r} of runner {raw.runner_id!r} is already in {dataset}, "
            f"stored at schema {stored['schema_version'] or 'before 1.6'} from this same recording file, whose "
            "hash did not yet cover its BIDS sidecars (_channels.tsv, _channels.json, _motion.json), so a "
            "changed sidecar cannot be told apart; pass --replace (replace=True in Python) once to read it "
            "again with its sidecars")
    named = raw.file is not None and raw.file.format in SEVERAL_SESSIONS  # --session picks one, names none
    raise DatasetError(
        f"{raw.source}: session {raw.session_id!r} of runner {raw.runner_id!r} is already in {dataset}, made "
        f"from other bytes ({stored['source_path']}, SHA-256 {str(stored['source_sha256'])[:12]}...); "
        + ("a mobgap data.mat names its sessions after its trials, so another participant's file under the same "
           "runner id holds the same ones: give each participant their own runner id (--runner ID; in a batch, one "
           "run per participant's folder)" if named else "give this recording another session id")
        + ", or pass --replace (replace=True in Python) to replace the stored session with it")


def _sidecars_unhashed(source_path: str, stored: dict[str, Any]) -> bool:
    """The stored session came from this very BIDS ``*_motion.tsv`` by its bytes alone: hashed before
    schema 1.6, whose ``source_sha256`` left the sidecars out.
    """
    if not source_path.endswith(MOTION_SUFFIX) or not Path(source_path).is_file():
        return False
    h = hashlib.sha256()
    with open(source_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return bool(h.hexdigest() == stored["source_sha256"])


def check_treadmill_speed(speed_mps: float | None, *, source: str) -> None:
    """Refuse a treadmill speed that is not a running or walking speed (0-15 m/s, exclusive)."""
    if speed_mps is not None and not (np.isfinite(speed_mps) and 0.0 < speed_mps < MAX_TREADMILL_SPEED_MPS):
        raise RawFormatError(f"{source}: treadmill speed {speed_mps!r} m/s is not a belt speed (give metres per "
                             f"second, above 0 and below {MAX_TREADMILL_SPEED_MPS:g}; e.g. 12 km/h is 3.33 m/s)")


MAX_TREADMILL_SPEED_MPS = 15.0
"""Fastest treadmill speed accepted (m/s; sprint treadmills reach ~12)."""
CLEAR_TREADMILL_SPEED_MPS = 0.0
"""The treadmill speed that clears a stored one (``imuback process --speed-mps 0``)."""


def _f(x: F64) -> pa.Array:
    """float64 array with NaN as null."""
    x = np.asarray(x, dtype=np.float64)
    return pa.array(x, type=pa.float64(), mask=~np.isfinite(x))


def _ts(ns: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_]) -> pa.Array:
    return pa.array(ns, type=pa.int64(), mask=~valid).cast(pa.timestamp("ns", tz="UTC"))


FOOT_LABELS = pa.array([None, "L", "R"], pa.string())
ACTIVITY_LABELS = pa.array(["run", "walk"], pa.string())


def _labels(codes: npt.NDArray[np.int8], labels: pa.Array) -> pa.Array:
    """String column ``labels[codes]`` built in Arrow (no Python objects per row)."""
    return labels.take(pa.array(codes, pa.int8()))


def _nanmedian(x: F64) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def _asym(left: float, right: float) -> float:
    m = (left + right) / 2.0
    return 100.0 * (left - right) / m if np.isfinite(m) and m != 0 else float("nan")


def step_speed_mps(raw: RawSession, ic_ns: npt.NDArray[np.int64], step_time_s: F64,
                   to_ns: npt.NDArray[np.int64]) -> F64:
    """Mean GPS speed (m/s) of ``raw``'s samples in each step; NaN without GPS, a valid fix or an IC.

    A step runs from its IC to the next IC (``step_time_s`` later; where that is unknown, at a
    bout end, to its toe-off ``to_ns``). Cumulative sums over the valid samples, no loop.
    Times are UTC ns; an unknown time is int64 min (:meth:`SessionAnalysis.times_ns`).
    """
    n = ic_ns.shape[0]
    if raw.speed_mps is None or n == 0:
        return np.full(n, np.nan)
    unknown = np.iinfo(np.int64).min
    has_next = np.isfinite(step_time_s)
    end = np.where(has_next, ic_ns + np.round(np.where(has_next, step_time_s, 0.0) * 1e9).astype(np.int64), to_ns)
    ok = np.isfinite(raw.speed_mps)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, raw.speed_mps, 0.0), dtype=np.float64)])
    ccount = np.concatenate([[0], np.cumsum(ok)])
    i0 = np.searchsorted(raw.time_ns, ic_ns, side="left")
    i1 = np.searchsorted(raw.time_ns, end, side="left")
    count = ccount[i1] - ccount[i0]
    valid = (ic_ns != unknown) & (end != unknown) & (count > 0)
    out: F64 = np.full(n, np.nan)
    out[valid] = (csum[i1] - csum[i0])[valid] / count[valid]
    return out


def summarised_steps(a: SessionAnalysis) -> npt.NDArray[np.bool_]:
    """(S,) the steps a session's medians summarise: running steps, or all steps of a session
    without running (walking only).
    """
    run = a.steps.activity == RUN
    return run if run.any() else np.ones(a.steps.n, dtype=bool)


def session_speed(raw: RawSession, a: SessionAnalysis, gps_mps: F64,
                  treadmill_speed_mps: float | None) -> tuple[str, F64]:
    """(speed source, (S,) speed of each step in m/s): the treadmill speed given, on the summarised
    steps (:func:`summarised_steps`: warm-up walking on the belt has another speed); else the
    steps' GPS speed ``gps_mps``; else none (NaN).
    """
    if treadmill_speed_mps is not None:
        return "treadmill", np.where(summarised_steps(a), treadmill_speed_mps, np.nan)
    if raw.speed_mps is not None:
        return "gps", gps_mps
    return "none", np.full(a.steps.n, np.nan)


def session_tables(raw: RawSession, a: SessionAnalysis, *, params: PipelineParams,
                   source_path: str = "", source_sha256: str = "",
                   treadmill_speed_mps: float | None = None) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Build the three tables for one session (schemas from :mod:`imuback.store.schema`)."""
    a = rate_nulled(a, rate_left_out(raw.sample_rate_hz))
    st, sm, km = a.steps, a.step, a.stride
    n = st.n
    ic_ns, to_ns = a.times_ns(st.ic_pos), a.times_ns(st.to_pos)  # once each: reading them is not free
    gps = step_speed_mps(raw, ic_ns, sm.step_time_s, to_ns)
    source, speed = session_speed(raw, a, gps, treadmill_speed_mps)
    step_len, ratio = step_lengths(speed, sm.step_time_s, sm.vertical_oscillation_cm)
    stride_len = stride_lengths(step_len, km.first_step)
    foot = st.foot.astype(np.int8) + 1  # UNKNOWN=-1, LEFT=0, RIGHT=1 -> index into FOOT_LABELS
    steps = pa.Table.from_arrays([
        pa.repeat(raw.session_id, n), pa.repeat(raw.runner_id, n),
        pa.array(np.arange(n, dtype=np.int32)),
        _labels(foot, FOOT_LABELS), _labels((st.activity != RUN).astype(np.int8), ACTIVITY_LABELS),
        _ts(ic_ns, np.isfinite(st.ic_pos)),
        _ts(to_ns, np.isfinite(st.to_pos)),
        _f(sm.step_time_s), _f(sm.contact_time_s), _f(sm.flight_time_s), _f(sm.cadence_spm),
        _f(sm.impact_peak_g), _f(sm.grf_peak_bw), _f(sm.loading_rate_g_per_s),
        _f(sm.vertical_oscillation_cm), _f(sm.braking_peak_g), _f(sm.braking_impulse_mps),
        _f(sm.pelvic_drop_deg), _f(st.quality),
        _f(gps), _f(step_len), _f(ratio),
        pa.array(np.zeros(n, dtype=bool) if a.clipped_steps is None else a.clipped_steps, type=pa.bool_(),
                 mask=st.activity != RUN),  # only running contacts are checked: null for the rest
    ], schema=STEPS_SCHEMA)

    k = km.first_step
    m = k.size
    strides = pa.Table.from_arrays([
        pa.repeat(raw.session_id, m), pa.repeat(raw.runner_id, m),
        pa.array(np.arange(m, dtype=np.int32)),
        _labels(foot[k], FOOT_LABELS),
        _ts(ic_ns[k], np.ones(m, dtype=bool)),
        _f(km.stride_time_s), _f(km.pelvis_rotation_deg), _f(km.pelvis_obliquity_deg),
        _f(km.pelvis_tilt_deg), _f(km.ml_excursion_cm), _f(km.ml_acc_rms_g),
        _f(km.impact_asymmetry_pct), _f(km.contact_asymmetry_pct), _f(stride_len),
    ], schema=STRIDES_SCHEMA)

    row = _session_row(raw, a, params, source_path, source_sha256)
    row.update(_speed_row(a, source=source, treadmill_speed_mps=treadmill_speed_mps,
                          per_step={"speed_mps": speed, "step_length_m": step_len, "vertical_ratio_pct": ratio},
                          stride_length_m=stride_len))
    sessions = pa.Table.from_pylist([row], schema=SESSIONS_SCHEMA)
    return steps, strides, sessions


def rate_nulled(a: SessionAnalysis, metrics: tuple[str, ...]) -> SessionAnalysis:
    """``a`` with the step ``metrics`` a sample rate this slow leaves out
    (:func:`~imuback.store.schema.rate_left_out`) NaN, and the stride columns made of them
    (:data:`~imuback.store.schema.RATE_SENSITIVE_STRIDES`): stored as null, as the reports leave
    them out. The clipped flags stay (what the sensor did), but no longer censor them (:func:`_session_row`).
    """
    if not metrics:
        return a
    nan_steps = np.full(a.steps.n, np.nan)
    nan_strides = np.full(a.stride.first_step.size, np.nan)
    stride_cols = {c: nan_strides for m in metrics for c in RATE_SENSITIVE_STRIDES.get(m, ())}
    return dataclasses.replace(a, step=dataclasses.replace(a.step, **dict.fromkeys(metrics, nan_steps)),
                               stride=dataclasses.replace(a.stride, **stride_cols))


def _speed_row(a: SessionAnalysis, *, source: str, treadmill_speed_mps: float | None,
               per_step: dict[str, F64], stride_length_m: F64) -> dict[str, Any]:
    """The sessions columns of speed, pace and step/stride length (None where not defined)."""
    sel = summarised_steps(a)
    k = a.stride.first_step
    ksel = sel[k] if k.size else np.zeros(0, dtype=bool)
    speed = per_step["speed_mps"][sel]
    row: dict[str, Any] = {
        "speed_source": source,
        "treadmill_speed_mps": treadmill_speed_mps,
        "speed_coverage_pct": 100.0 * float(np.mean(np.isfinite(speed))) if speed.size else None,
    }
    for name, _unit in SPEED_MEDIANS:
        vals = stride_length_m[ksel] if name == "stride_length_m" else per_step[name][sel]
        row[f"median_{name}"] = _nanmedian(vals)
    v = row["median_speed_mps"]
    row["median_pace_s_per_km"] = 1000.0 / v if np.isfinite(v) and v > 0 else float("nan")
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}


def _session_row(raw: RawSession, a: SessionAnalysis, params: PipelineParams,
                 source_path: str, source_sha256: str) -> dict[str, Any]:
    st, sm, km = a.steps, a.step, a.stride
    fs = a.body.fs_hz
    run = st.activity == RUN
    sel = run if run.any() else np.ones(st.n, dtype=bool)  # walking-only: summarise walking
    ksel = sel[km.first_step] if km.first_step.size else np.zeros(0, dtype=bool)
    # a clipped contact's impact peak and loading rate: unknown but larger than any unclipped one
    # (+inf), so the medians below stay exact while fewer than half the steps are clipped
    # (a metric left out at this sample rate, rate_nulled, stays NaN: the clipped steps too)
    left_out = rate_left_out(raw.sample_rate_hz)
    per_step: dict[str, F64] = {name: censored(getattr(sm, name), a.clipped_steps)
                                if name in CENSORED_METRICS and name not in left_out
                                else getattr(sm, name) for name in sm.__dataclass_fields__}
    per_stride: dict[str, F64] = {name: getattr(km, name) for name in km.__dataclass_fields__ if name != "first_step"}
    row: dict[str, Any] = {
        "session_id": raw.session_id,
        "runner_id": raw.runner_id,
        "start_time": start_time(int(raw.time_ns[0])),
        "duration_s": a.gaps.duration_s,
        "sensor": raw.sensor,
        "sample_rate_hz": float(raw.sample_rate_hz),
        "has_gyro": raw.gyr_dps is not None,
        "misalignment_deg": a.misalignment_deg,
        "mounting_source": raw.mounting_source,
        "mounting_nominal": mounting_json(raw.mounting),
        "utc_offset_min": raw.utc_offset_min,
        "utc_offset_source": raw.utc_offset_source,
        "completeness_pct": a.gaps.completeness_pct,
        "n_gaps": a.gaps.n_gaps,
        "gap_total_s": a.gaps.gap_total_s,
        "n_run_steps": int(run.sum()),
        "n_walk_steps": int((st.activity == WALK).sum()),
        "run_time_s": a.bouts.duration_s(RUN, fs),
        "walk_time_s": a.bouts.duration_s(WALK, fs),
        "still_time_s": a.bouts.duration_s(STILL, fs),
    }
    for name, _unit in MEDIAN_METRICS:
        vals = per_step[name][sel] if name in per_step else per_stride[name][ksel]
        row[f"median_{name}"] = censored_median(vals)
    for name, _unit, short in SIDE_METRICS:
        left = censored_median(per_step[name][sel & (st.foot == LEFT)])
        right = censored_median(per_step[name][sel & (st.foot == RIGHT)])
        row[f"left_{name}"], row[f"right_{name}"] = left, right
        row[f"asymmetry_{short}_pct"] = _asym(left, right)
    row["step_regularity"] = a.step_regularity
    row["stride_regularity"] = a.stride_regularity
    sym = a.step_regularity / a.stride_regularity if a.stride_regularity > 0 else float("nan")
    row["step_symmetry"] = min(sym, 1.0) if np.isfinite(sym) else float("nan")
    # drift clock: minutes since the first running step (warm-up walking and standing excluded)
    t_step_min = (interp_at(a.body.t_s, st.ic_pos) / 60.0) if st.n else np.zeros(0)
    if run.any():
        t_step_min = t_step_min - t_step_min[np.argmax(run)]
    t_stride_min = t_step_min[km.first_step] if km.first_step.size else np.zeros(0)
    base = (params.metrics.baseline_start_min, params.metrics.baseline_end_min)
    late = params.metrics.drift_late_min
    for name in DRIFT_METRICS:
        if name in per_step:
            slope, pct, ci = drift(t_step_min[run], per_step[name][run], baseline=base, late_min=late)
        else:
            krun = run[km.first_step] if km.first_step.size else np.zeros(0, dtype=bool)
            slope, pct, ci = drift(t_stride_min[krun], per_stride[name][krun], baseline=base,
                                   late_min=late)
        row[f"drift_{name}_per_10min"], row[f"drift_{name}_pct"] = slope, pct
        row[f"drift_{name}_ci95_pct"] = ci
    status = "ok" if run.any() and not a.notes else ("empty" if st.n == 0 else "partial")
    row.update({
        "status": status,
        "status_reason": "; ".join(a.notes),
        "non_gait_reason": "; ".join(a.non_gait) or None,
        "low_quality_step_pct": a.low_quality_pct,
        "source_path": source_path,
        "source_sha256": source_sha256,
        "pipeline_version": PIPELINE_VERSION,
        "params_json": params.to_json(),
        "processed_at": dt.datetime.now(tz=dt.UTC),
        "low_quality_reason": a.low_quality_reason,
        "n_mounting_shifts": a.mounting_shifts.n,
        "mounting_shift_max_deg": float(a.mounting_shifts.angle_deg.max()) if a.mounting_shifts.n else None,
        "first_mounting_shift_s": float(a.mounting_shifts.t_s[0]) if a.mounting_shifts.n else None,
    })
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
