"""The one function a batch maps over its inputs, on a local process pool or on Dask workers.

:func:`process_session` takes a small picklable :class:`SessionTask` and returns a small
:class:`SessionOutcome`; it never raises for a bad file. It skips a session whose rows already come
from the same input bytes, pipeline version and parameters, else runs
:func:`imuback.pipeline.process_file`, which writes the session atomically into the dataset (or
finds, once it has read the file, that the dataset holds these rows already: skipped too). The
worker writes (the tables never travel back to the driver); the driver only records outcomes.

Workers of the local pool are set up by :func:`init_local_worker`: they leave Ctrl-C to the driver
(which stops them), and they stop by themselves when the driver is gone (killed with ``kill -9``,
say), so that no worker writes into a dataset whose batch lock nobody holds any more.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import traceback
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow.parquet as pq

from imuback.errors import DriverGoneError, ImubackError, RedatedError, VersionMismatchError
from imuback.runtime import tune_allocator
from imuback.store import schema as S
from imuback.store.dataset import stored_source
from imuback.store.errors_table import has_error

if TYPE_CHECKING:
    from imuback.pipeline import SessionTables
    from imuback.signal.params import PipelineParams

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover
    resource = None  # type: ignore[assignment]

Status = Literal["processed", "skipped", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionTask:
    """One input file to process into ``dataset``.

    ``pipeline_version`` and ``schema_version`` are the driver's; a worker with another imuback
    refuses the task rather than mixing versions in one dataset. ``params=None`` means the
    pipeline defaults.
    """

    path: str
    dataset: str
    pipeline_version: str
    schema_version: str | None = S.SCHEMA_VERSION
    """Dataset schema the driver writes (set when the task is made, on the driver)."""
    params: PipelineParams | None = None
    force: bool = False
    replace: bool = False
    """Replace a stored session made from other bytes (else the file fails with DatasetError)."""
    runner_id: str | None = None
    """Runner of inputs that name none; a file naming its own (raw Parquet, a CSV sidecar, BIDS's
    participants.tsv) keeps it (:func:`own_runner_kept`, said in the batch's warnings)."""
    session_id: str | None = None
    """Session id of an input that names none (a batch of one file); in a multi-session file, the one to process."""
    start: str | None = None
    """ISO 8601 time, with its zone, of the first sample of an input timed from its start; a file that
    dates its samples itself keeps its own (:func:`given_identity`)."""
    mounting: tuple[tuple[float, ...], ...] | str | None = None
    """Nominal mounting (3x3) of inputs that state none; one that states its own (raw Parquet
    included) refuses another; ``"unknown"``: forget one given before."""
    time_zone: str | None = None
    """Where the input was recorded (``--time-zone``): stored over the zone a file states, but a raw
    Parquet file keeps its own (another is refused)."""
    made_from: tuple[tuple[str, str], ...] = ()
    """(runner_id, session_id) of the sessions the dataset holds made from this file
    (``sessions.source_path``), looked up by the driver: for a file whose ids cannot be read
    before processing it, the sessions to check before skipping it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOutcome:
    """What happened to one input file (small: travels back from the worker)."""

    path: str
    status: Status
    session_id: str | None = None
    runner_id: str | None = None
    source_sha256: str | None = None
    session_status: str | None = None
    """The session's own ``status`` column ('ok', 'partial', 'empty') when processed (a file of several
    sessions: their statuses, ``ok/partial``)."""
    sessions: tuple[tuple[str, str], ...] = ()
    """(session_id, status) of each session this file wrote (a mobgap ``data.mat``: one per trial; the
    written ones of a file that failed in part), what the summary counts by status."""
    n_steps: int = 0
    n_strides: int = 0
    error_type: str | None = None
    message: str | None = None
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    """CPU time of the worker process on this file (less than elapsed_s when it had to wait)."""
    worker: str = ""
    peak_rss_mb: float = 0.0
    """Peak resident memory of the worker process so far (MB)."""
    warnings: tuple[str, ...] = ()
    """What reading the file said without failing (a zone given over the file's own), one line each."""
    same_as: str = ""
    """Processed (``--force``...): the stored session this file is a copy of, in words
    (:attr:`imuback.pipeline.SessionTables.same_as`): that session was written again from this file,
    not a second one ("" when it is no copy)."""


DRIVER_GONE_EXIT = 75
"""Exit status of a local worker that stopped because its batch driver is gone."""

_driver_link: Connection[Any, Any] | None = None
"""Local pool workers: the read end of a pipe whose write end only the batch driver holds. The
driver never writes to it; it reads as end-of-file once the driver has exited, however it died."""


def init_local_worker(driver_link: Connection[Any, Any]) -> None:
    """Set up a worker process of the local pool (``ProcessPoolExecutor(initializer=...)``).

    1. Ignore SIGINT: Ctrl-C reaches the whole process group, but the driver decides what
       happens (it cancels the queued tasks and terminates the workers, then releases the lock).
    2. Remember ``driver_link``: :func:`driver_gone` checks it before each task.
    3. Start a daemon thread that ends the process as soon as the driver is gone, so that an
       orphaned worker neither finishes its session nor waits forever for more tasks.

    Why a pipe and not ``os.getppid()``: a worker's parent is the fork server, not the driver, and
    the fork server lives on while any worker does; only the pipe's end tells that the driver died.
    """
    global _driver_link
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _driver_link = driver_link
    threading.Thread(target=_exit_when_driver_gone, args=(driver_link,),
                     name="imuback-driver-watch", daemon=True).start()


def _exit_when_driver_gone(link: Connection[Any, Any]) -> None:
    wait([link])  # readable only at end-of-file: the driver never writes
    os._exit(DRIVER_GONE_EXIT)


def driver_gone() -> bool:
    """True in a local pool worker whose batch driver has exited; False elsewhere (Dask, tests)."""
    if _driver_link is None:
        return False
    try:
        return _driver_link.poll(0)
    except (EOFError, OSError):
        return True


def process_session(task: SessionTask) -> SessionOutcome:
    """Process one input file into the dataset; skip it if already done; never raise for bad input."""
    t0 = (time.perf_counter(), time.process_time())
    if driver_gone():
        # Nobody holds the dataset's batch lock any more (another batch may have taken it over):
        # touch nothing. The driver is gone, so nobody receives this outcome either.
        return _outcome(task, "failed", t0, error_type=DriverGoneError.__name__,
                        message=(f"{task.path}: not processed: the batch that handed out this "
                                 "task has ended (its driver was killed); run the batch again"))
    tune_allocator()  # once per worker process (local pool or Dask): see imuback.runtime
    task, kept = own_runner_kept(task)
    identity = peek_identity(task.path)
    sid, rid = identity if identity else (None, None)
    sha: str | None = None
    try:
        from imuback import PIPELINE_VERSION

        if PIPELINE_VERSION != task.pipeline_version or S.SCHEMA_VERSION != task.schema_version:
            raise VersionMismatchError(
                f"{task.path}: this worker runs imuback pipeline {PIPELINE_VERSION} (schema "
                f"{S.SCHEMA_VERSION}) but the batch was started with {task.pipeline_version} (schema "
                f"{task.schema_version}); install the same imuback on every worker"
            )
        from imuback import pipeline

        if identity and not task.force:
            sha = already_processed(task, session_id=identity[0], runner_id=identity[1])
            if sha is not None:
                return _outcome(task, "skipped", t0, session_id=sid, runner_id=rid, source_sha256=sha, warnings=kept)
        elif task.made_from and not task.force:
            sha = file_already_processed(task)
            if sha is not None:
                ids = made_by(task)
                return _outcome(task, "skipped", t0, source_sha256=sha, runner_id=ids[0][0],
                                session_id=", ".join(s for _r, s in ids), warnings=kept)
        # the driver holds the dataset's lock for its workers; a file may hold several sessions
        from imuback.signal.params import PipelineParams

        with pipeline.collected_warnings() as said:  # a zone given over the file's own: the record says so
            results = pipeline.process_file_sessions(task.path, dataset=task.dataset, replace=task.replace,
                                                     params=task.params or PipelineParams(),
                                                     identity=task_identity(task), lock_held=True,
                                                     force=task.force)
        if len(results) == 1 and isinstance(results[0], ImubackError):
            raise results[0]  # one session: its error, with the ids peeked above
        return _file_outcome(task, t0, results, said=[*kept, *said])
    except ImubackError as exc:
        if isinstance(exc, RedatedError):  # the stored session this file is, under another start
            sid, rid = exc.session_id, exc.runner_id
        return _outcome(task, "failed", t0, session_id=sid, runner_id=rid,
                        source_sha256=sha or _sha256_or_none(task.path),
                        error_type=type(exc).__name__, message=str(exc), warnings=kept)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return _outcome(task, "failed", t0, session_id=sid, runner_id=rid,
                        source_sha256=sha or _sha256_or_none(task.path),
                        error_type=type(exc).__name__,
                        message=(f"{task.path}: unexpected {type(exc).__name__}: {exc} (at "
                                 f"{Path(where.filename).name}:{where.lineno}); this is a bug in "
                                 "imuback, please report it with the file"))


def task_identity(task: SessionTask) -> dict[str, Any]:
    """The identity a task gives its file (:func:`given_identity`)."""
    return given_identity(task.path, runner_id=task.runner_id, session_id=task.session_id, start=task.start,
                          mounting=task.mounting, time_zone=task.time_zone)


def given_identity(path: str | Path, *, runner_id: str | None = None, session_id: str | None = None,
                   start: str | None = None, mounting: Any = None, time_zone: str | None = None) -> dict[str, Any]:
    """The identity a batch (or ``export bids``) gives an input file: the ``--runner``/``--session``/
    ``--start``/``--mounting``/``--time-zone`` that were given; a file that states one of them keeps its
    own and refuses another (raw Parquet's ids, mounting and zone: :func:`imuback.formats.check_raw_identity`,
    :func:`imuback.formats.check_raw_zone`), but its start: ``--start`` dates the files that state none
    (:class:`~imuback.formats.identity.UndatedStart`); a zone given wins over one another format states.
    """
    from imuback.formats.identity import UndatedStart

    given = (("runner_id", runner_id), ("session_id", session_id),
             ("start", None if start is None else UndatedStart(start)),
             ("mounting", mounting if mounting is None or isinstance(mounting, str) else [list(r) for r in mounting]),
             ("time_zone", time_zone))  # "unknown" as it is: forget what was given before
    return {k: v for k, v in given if v is not None}


def _file_outcome(task: SessionTask, t0: tuple[float, float],
                  results: list[SessionTables | ImubackError], said: list[str] | None = None) -> SessionOutcome:
    """One outcome for a file's sessions: skipped ("up to date", as when :func:`already_processed`
    skips it unread) when every session's rows were in the dataset already and nothing was written
    (:attr:`~imuback.pipeline.SessionTables.up_to_date`); processed when all were (``session_id``
    lists them); else failed naming each failure (and the sessions of the file that were written).
    ``said``: the warnings of reading it (:func:`imuback.pipeline.collected_warnings`), in the message.
    """
    done = [r for r in results if not isinstance(r, ImubackError)]
    failed = [r for r in results if isinstance(r, ImubackError)]
    ids = ", ".join(r.session_id for r in done)
    fields: dict[str, Any] = {
        "runner_id": done[0].runner_id if done else task.runner_id,
        "n_steps": sum(r.steps.num_rows for r in done), "n_strides": sum(r.strides.num_rows for r in done),
        "sessions": tuple((r.session_id, str(r.summary.get("status"))) for r in done if not r.up_to_date)}
    if failed:
        note = f" ({len(done)} other sessions of the file were processed: {ids})" if done else ""
        return _outcome(task, "failed", t0, source_sha256=_sha256_or_none(task.path),
                        error_type=type(failed[0]).__name__, message="; ".join(str(e) for e in failed) + note,
                        warnings=tuple(said or ()), **fields)
    row = done[0].summary
    if all(r.up_to_date for r in done):  # read again (ids or --start given, a BIDS file...), rows unchanged
        copies = "; ".join(r.same_as for r in done if r.same_as)  # a copy of a stored file: why it is skipped
        return _outcome(task, "skipped", t0, session_id=ids, source_sha256=str(row.get("source_sha256")),
                        message=copies or None, warnings=tuple(said or ()), **fields)
    statuses = sorted({str(r.summary.get("status")) for r in done})
    moved = "; ".join(r.moved_text for r in done if r.moved_from)
    copies = "; ".join(r.same_as for r in done if r.same_as)  # --force over a copy: that session, written again
    return _outcome(task, "processed", t0, session_id=ids, source_sha256=str(row.get("source_sha256")),
                    session_status="/".join(statuses), message=moved or None, warnings=tuple(said or ()),
                    same_as=copies, **fields)


def peek_identity(path: str | Path) -> tuple[str, str] | None:
    """(session_id, runner_id) of a raw file without reading its samples; None if unreadable.

    Parquet: the schema metadata in the footer. CSV: the ``<file>.json`` sidecar (without a
    runner id there it has no identity yet: None, and reading it says why).
    """
    sid, rid = _stated_ids(path)
    if sid is None or rid is None:
        return None
    from imuback.core import check_id

    try:
        return check_id(sid, what="session_id", source=str(path)), check_id(rid, what="runner_id",
                                                                             source=str(path))
    except ImubackError:
        return None


def _stated_ids(path: str | Path) -> tuple[str | None, str | None]:
    """(session_id, runner_id) a raw Parquet file's metadata or a CSV's sidecar states (a BIDS
    recording: its runner in ``participants.tsv``), unchecked; None for one it does not state (or an
    unreadable file).
    """
    from imuback.formats.bids import MOTION_SUFFIX, stated_runner

    path = Path(path)
    try:
        if path.name.endswith(MOTION_SUFFIX):
            return None, stated_runner(path)
        if path.suffix.lower() == ".csv":
            from imuback.formats.csv import csv_sidecar

            meta = csv_sidecar(path)
            return meta.get(S.META_SESSION_ID), meta.get(S.META_RUNNER_ID)
        raw_meta = pq.read_schema(path).metadata or {}
    except Exception:
        return None, None
    sid, rid = (raw_meta.get(k.encode()) for k in (S.META_SESSION_ID, S.META_RUNNER_ID))
    return (None if sid is None else sid.decode(errors="replace"),
            None if rid is None else rid.decode(errors="replace"))


def own_runner_kept(task: SessionTask) -> tuple[SessionTask, tuple[str, ...]]:
    """``task`` as it applies to its file: a batch's ``--runner`` is the runner of the files naming none.

    A file naming its own (raw Parquet's ``imuback.runner_id``, a CSV sidecar's, BIDS's
    ``participants.tsv``) keeps it: ``task`` without the runner given, and the one line saying so for
    the batch's warnings (``process FILE --runner`` refuses instead).
    """
    if task.runner_id is None:
        return task, ()
    own = _stated_ids(task.path)[1]
    if own is None or own == task.runner_id:
        return task, ()
    note = f"{task.path}: names runner {own!r}; --runner {task.runner_id!r} applies only to files naming none"
    return replace(task, runner_id=None), (note,)


def already_processed(task: SessionTask, *, session_id: str, runner_id: str) -> str | None:
    """SHA-256 of the input if the dataset holds this session made from it already, else None.

    "Made from it": the same input bytes (sidecars included), pipeline version and parameters,
    written at the task's schema version (a session stored at an older schema is processed again),
    read with the same mounting (:func:`same_mounting`) and zone (:func:`same_zone`). Ids or a start
    given that may differ from the file's own are never skipped: reading checks them.
    """
    if (task.runner_id not in (None, runner_id) or task.session_id not in (None, session_id)
            or task.start is not None):
        return None  # reading it checks the ids and start given against the file's own (and refuses)
    row = [stored_source(task.dataset, runner_id=runner_id, session_id=session_id)]
    if (row[0] is None or row[0]["pipeline_version"] != task.pipeline_version
            or row[0]["schema_version"] != task.schema_version or not same_zone(row[0], task)):
        return None
    if not same_params(row[0]["params_json"], task.params) or not same_mounting(row[0], task):
        return None
    from imuback.formats import file_sha256

    sha = file_sha256(task.path)
    return sha if sha == row[0]["source_sha256"] else None


def file_already_processed(task: SessionTask) -> str | None:
    """SHA-256 of an input whose ids are only known once it is read (Xsens, mobgap, phone
    exports...) if every session the dataset holds made from it (``task.made_from``) is up to
    date, else None: processing it again would write the same rows.

    Up to date, for each session, as :func:`already_processed`: stored from this path, from the
    same bytes (hashed last, once), by this pipeline version and parameters, at this schema, and
    read with the same ``--mounting`` (or none), of the ``--runner`` and ``--session`` given (at
    least one session, :func:`made_by`); with ``--start``, whose first sample is at that time.
    Never skipped: a file whose last run failed (its error row), a BIDS ``*_motion.tsv`` (its ids and
    start come from the dataset's participants, sessions and scans tables, which are not hashed).
    """
    path = str(Path(task.path).resolve())
    if path.endswith("_motion.tsv") or has_error(task.dataset, source_path=task.path) \
            or has_error(task.dataset, source_path=path):
        return None
    from imuback.formats import file_sha256
    from imuback.pipeline import same_start

    mine = made_by(task)
    if not mine:  # made under another --runner or --session only: this run makes new sessions
        return None
    start = None if task.start is None else _start_ns(task.start, src=task.path)
    rows = []
    for runner_id, session_id in mine:
        row = stored_source(task.dataset, runner_id=runner_id, session_id=session_id)
        if row is None or (task.start is not None and (start is None or not same_start(row["start_ns"], start))):
            return None
        if not (same_mounting(row, task) and same_zone(row, task) and row["source_path"] == path
                and row["pipeline_version"] == task.pipeline_version
                and row["schema_version"] == task.schema_version and same_params(row["params_json"], task.params)):
            return None
        rows.append(row)
    sha = file_sha256(task.path)
    return sha if all(row["source_sha256"] == sha for row in rows) else None


def same_zone(row: dict[str, Any], task: SessionTask) -> bool:
    """Reading the file again stores the same zone: none given (the stored one is kept), the stored
    offset given as this zone's at the session's start, or ``unknown`` given over a zone that was not
    given (the file's own, the computer's, or none).
    """
    if task.time_zone is None:
        return True
    from imuback.formats.zone import FORGET, offset_min_at, parse_zone

    if task.time_zone == FORGET:
        return row["utc_offset_min"] is None or row["utc_offset_source"] in ("file", "computer")

    try:
        zone = parse_zone(task.time_zone, src=task.path)
    except ImubackError:
        return False  # reading says why
    return bool(row["utc_offset_source"] == "given"
                and row["utc_offset_min"] == offset_min_at(zone, int(row["start_ns"])))


def same_mounting(row: dict[str, Any], task: SessionTask) -> bool:
    """Reading the task's file again gives the stored session's nominal mounting (``row``: its
    :func:`~imuback.store.dataset.stored_source`). One the file states (raw Parquet's, a CSV
    sidecar's, BIDS, mobgap) is kept when none or the same is given, and a different one given is
    refused on reading, so such a task is not skipped (it fails, saying so); else the one given, or
    none (the one given before is kept; else the identity, assumed); ``unknown``: what the file
    states, or assumed (not one given before).
    """
    from imuback.formats.zone import FORGET

    if isinstance(task.mounting, str):
        return task.mounting == FORGET and row["mounting_source"] in ("file", "assumed")
    from imuback.formats.identity import same_matrix
    from imuback.pipeline import mounting_json

    if row["mounting_source"] == "file":
        return task.mounting is None or same_matrix(task.mounting, row["mounting_nominal"])
    if task.mounting is None:  # one given before is kept (pipeline._keep_given); null: stored before 1.5
        return row["mounting_source"] in ("assumed", "given", None)
    given = mounting_json(np.asarray(task.mounting, dtype=np.float64))
    return bool(row["mounting_source"] == "given" and row["mounting_nominal"] == given)


def made_by(task: SessionTask) -> list[tuple[str, str]]:
    """The sessions of ``task.made_from`` this task would make again: of its ``--runner`` and
    ``--session`` when given.
    """
    return [(r, s) for r, s in task.made_from
            if (task.runner_id is None or r == task.runner_id) and (task.session_id is None or s == task.session_id)]


def _start_ns(start: str, *, src: str) -> int | None:
    """``--start`` as UTC ns, None when it is not a time (processing then says so)."""
    from imuback.formats.identity import start_ns

    try:
        return start_ns(start, src=src)
    except ImubackError:
        return None


def params_json(params: PipelineParams | None) -> str:
    """The parameters as the pipeline records them in ``sessions.params_json``."""
    from imuback.signal.params import PipelineParams

    return (params if params is not None else PipelineParams()).to_json()


def same_params(recorded: str | None, params: PipelineParams | None) -> bool:
    """Whether a recorded ``params_json`` equals ``params`` (compared as JSON values)."""
    if recorded is None:
        return False
    try:
        return bool(json.loads(recorded) == json.loads(params_json(params)))
    except ValueError:
        return False


def _sha256_or_none(path: str) -> str | None:
    try:
        from imuback.formats import file_sha256

        return file_sha256(path)
    except Exception:
        return None


def _outcome(task: SessionTask, status: Status, t0: tuple[float, float],
             **fields: object) -> SessionOutcome:
    rss_mb = 0.0
    if resource is not None:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss_mb = rss / 1024 if os.uname().sysname != "Darwin" else rss / 2**20
    return SessionOutcome(path=task.path, status=status, elapsed_s=time.perf_counter() - t0[0],
                          cpu_s=time.process_time() - t0[1],
                          worker=f"{socket.gethostname()}:{os.getpid()}", peak_rss_mb=rss_mb,
                          **fields)  # type: ignore[arg-type]
