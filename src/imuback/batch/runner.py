"""Run many sessions: a local process pool by default, a Dask cluster when asked.

Both back ends map the same function, :func:`imuback.batch.work.process_session`, over the same
tasks; only the way tasks reach a process differs. The driver (this module) finds the inputs,
guards the dataset with a lock, repairs what an interrupted run left behind, hands out tasks,
records failures in the ``errors`` table and reports progress.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

import pyarrow.parquet as pq

from imuback.batch.inputs import discover_inputs
from imuback.batch.progress import Progress, ProgressMode
from imuback.batch.work import (
    SessionOutcome,
    SessionTask,
    init_local_worker,
    peek_identity,
    process_session,
)
from imuback.errors import BatchInputError, SidecarsUnhashedError
from imuback.store.dataset import sessions_by_source, table_files
from imuback.store.errors_table import clear_error, write_error
from imuback.store.lock import DatasetLock, ensure_dataset_dir, repair_dataset
from imuback.store.warnings_table import WARNINGS_TABLE, clear_warnings, write_warnings

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from imuback.signal.params import PipelineParams



class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by Ctrl-C or SIGTERM, after its workers were stopped and its lock released.

    A ``KeyboardInterrupt``, so that code which does not know it still stops. What was finished
    is in the dataset; running the same batch again resumes it.
    """

    def __init__(self, *, dataset: str, done: int, total: int) -> None:
        self.dataset = dataset
        self.done = done
        self.total = total
        super().__init__(
            f"batch interrupted after {done} of {total} input files; the workers were stopped "
            f"and {dataset} was left resumable: run the same command again to go on (finished "
            "sessions are skipped, half-written ones are repaired and processed again)")


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSummary:
    """The result of one batch run: one outcome per input file."""

    dataset: str
    backend: str
    """``local[N]`` (process pool with N workers) or ``dask <scheduler address>``."""
    outcomes: tuple[SessionOutcome, ...]
    elapsed_s: float
    repaired: tuple[str, ...] = ()
    """What was cleaned up after an earlier interrupted run, in words."""
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        c = Counter(o.status for o in self.outcomes)
        object.__setattr__(self, "counts", {k: c.get(k, 0) for k in ("processed", "skipped", "failed")})

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return self.counts["failed"] == 0

    @property
    def failures(self) -> tuple[SessionOutcome, ...]:
        """The failed outcomes, in input order."""
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def warnings(self) -> tuple[tuple[str, str], ...]:
        """Every warning of every input file, ``(file, warning)``, in input order: all of them (the
        printed summary lists the first few; the dataset's ``warnings`` table keeps them too).
        """
        return tuple((o.path, w) for o in self.outcomes for w in o.warnings)


def run_batch(inputs: Sequence[str | Path], *, dataset: str | Path, workers: int | None = None,
              scheduler: str | None = None, force: bool = False, replace: bool = False,
              params: PipelineParams | None = None, progress: ProgressMode = "auto",
              stream: TextIO | None = None, runner_id: str | None = None, session_id: str | None = None,
              start: str | None = None, mounting: Sequence[Sequence[float]] | str | None = None,
              time_zone: str | None = None) -> BatchSummary:
    """Process every raw session named by ``inputs`` into ``dataset``.

    Parameters
    ----------
    inputs : files, folders (searched recursively for every format ``imuback process`` reads:
        :data:`~imuback.batch.inputs.RAW_SUFFIXES`, told by content, and unzipped phone exports) or
        glob patterns.
    dataset : output dataset directory (created if missing).
    workers : local worker processes; default: the CPUs this process may use.
    scheduler : address of a running Dask scheduler (``tcp://host:8786``); then the work runs on
        that cluster's workers, which must see ``inputs`` and ``dataset`` at the same paths.
    force : re-process sessions even when their rows are up to date.
    replace : replace stored sessions made from other bytes (else such a file fails, in ``errors``).
    params : pipeline parameters (default: the pipeline's defaults).
    runner_id : runner of the inputs that name none; a file naming its own (raw Parquet, a CSV
        sidecar, BIDS's participants.tsv) keeps it, said in :attr:`BatchSummary.warnings`
        (``imuback.batch.work.own_runner_kept``).
    session_id : session id of an input that names none; it names one recording, so it needs
        ``inputs`` to find exactly one file.
    start : ISO 8601 time (with its zone) of the first sample of each input that states none (timed
        from its start: a CSV of seconds since the start, Xsens without UTC columns, Movesense, BIDS
        without ``acq_time``); a file that dates its samples itself keeps its own, said in
        :attr:`BatchSummary.warnings` (:class:`imuback.formats.identity.UndatedStart`).
    mounting : nominal mounting R (3x3, ``v_body = R @ v_sensor``) of the inputs that state none
        (not applied to raw Parquet files, which carry their own), or its name (``"identity"``,
        ``"recommended"``, as ``--mounting``); ``"unknown"`` forgets one given before.
    time_zone : where the inputs were recorded (``Europe/Madrid``, ``UTC``, ``+01:00``): its offset at
        each session's start is stored (``utc_offset_min``) over the one a file states; a bad zone is
        refused before anything is read; ``"unknown"`` forgets one given before (the file's own again).
    progress, stream : how and where to report progress (``auto``: a bar when ``stream`` is a
        terminal, else log lines); without a ``stream`` nothing is written.

    Returns
    -------
    BatchSummary, one outcome per input file. Failures never raise; they are in the summary and in
    the dataset's ``errors`` table.
    """
    from imuback import PIPELINE_VERSION

    t0 = time.perf_counter()
    ds = Path(dataset).resolve()
    not_raw: list[Path] = []
    files = discover_inputs(inputs, exclude=[ds], not_raw=not_raw)
    if session_id is not None and len(files) != 1:
        raise BatchInputError(f"--session {session_id} names one recording, but the inputs name {len(files)} files "
                              f"(e.g. {files[0]}); give it with one file, or process the files one by one")
    from imuback.formats.zone import FORGET, parse_zone

    if time_zone is not None and time_zone != FORGET:
        parse_zone(time_zone, src="imuback batch")
    from imuback.formats.identity import python_mounting

    mounting = python_mounting(mounting, src="imuback batch")  # a name as its matrix (up to date as one)
    ensure_dataset_dir(ds)
    outcomes: list[SessionOutcome] = []
    interrupted = False
    with _sigterm_as_interrupt(), DatasetLock(ds):
        repaired = tuple(repair_dataset(ds))
        report = Progress(len(files), stream=stream, mode=progress)
        for line in repaired:
            report.log(f"repair: {line}")
        if not_raw:
            report.log(f"ignored {len(not_raw)} files in the input folders that are not raw sessions (tables "
                       f"without acc_x/y/z columns, files no reader recognises), e.g. {not_raw[0]}")
        tasks, early = _plan(files, ds, force=force, replace=replace, params=params, version=PIPELINE_VERSION,
                             identity={"runner_id": runner_id, "session_id": session_id, "start": start,
                                       "time_zone": time_zone},
                             mounting=None if mounting is None else
                             mounting if isinstance(mounting, str) else tuple(tuple(map(float, r)) for r in mounting))
        if scheduler:
            backend = f"dask {scheduler}"
            stream_of_outcomes = _dask_outcomes(tasks, scheduler)
        else:
            n = max(1, min(workers or available_cpus(), len(tasks) or 1))
            backend = f"local[{n}]"
            stream_of_outcomes = _local_outcomes(tasks, n)
        report.log(f"batch: {len(files)} input files -> {ds} on {backend} "
                   f"(pipeline {PIPELINE_VERSION}{', forced' if force else ''})")
        earlier = _EarlierSessions(ds)

        def record(outcome: SessionOutcome) -> None:
            if outcome.status == "failed":
                outcome = earlier.annotate(outcome)
                write_error(ds, source_path=outcome.path, source_sha256=outcome.source_sha256,
                            session_id=outcome.session_id, runner_id=outcome.runner_id,
                            error_type=outcome.error_type or "Error", message=outcome.message or "",
                            pipeline_version=PIPELINE_VERSION, worker=outcome.worker or None)
            else:
                clear_error(ds, source_path=outcome.path)
            if outcome.status == "skipped" and outcome.message:  # a copy of a stored file: nothing written
                clear_warnings(ds, source_path=outcome.path)
            elif outcome.warnings or outcome.status == "processed":  # else: the rows of the run that made it
                write_warnings(ds, source_path=outcome.path, messages=outcome.warnings,
                               source_sha256=outcome.source_sha256, session_id=outcome.session_id,
                               runner_id=outcome.runner_id, pipeline_version=PIPELINE_VERSION,
                               worker=outcome.worker or None)
            outcomes.append(outcome)
            report.update(outcome)

        try:
            for outcome in early:
                record(outcome)
            for outcome in stream_of_outcomes:
                record(outcome)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (see _sigterm_as_interrupt)
            interrupted = True
        finally:
            # Stop the workers (local: cancel queued tasks, terminate the processes) *before* the
            # lock is released, so that nothing writes the dataset once another batch may own it.
            with _signals_ignored():
                stream_of_outcomes.close()
        if interrupted:
            report.log(f"interrupted after {len(outcomes)} of {len(files)} input files; workers "
                       "stopped")
        report.close()
    if interrupted:
        raise BatchInterrupted(dataset=str(ds), done=len(outcomes), total=len(files))
    order = {str(p): i for i, p in enumerate(files)}
    outcomes.sort(key=lambda o: order.get(o.path, len(order)))
    return BatchSummary(dataset=str(ds), backend=backend, outcomes=tuple(outcomes),
                        elapsed_s=time.perf_counter() - t0, repaired=repaired)


class _EarlierSessions:
    """Sessions already in the dataset, by the input file (``sessions.source_path``) they came from.

    Read once, and only when a failed file could not name its session itself: then the error row
    still says which stored session is the last good version of that file.
    """

    def __init__(self, dataset: Path) -> None:
        self.dataset = dataset
        self._by_source: dict[str, dict[str, Any]] | None = None

    def by_source(self) -> dict[str, dict[str, Any]]:
        """``source_path`` -> the newest ``sessions`` row made from it (session/runner id, time)."""
        if self._by_source is None:
            found: dict[str, dict[str, Any]] = {}
            parts = table_files(self.dataset, "sessions")
            for part in parts:
                try:
                    rows = pq.read_table(part, columns=["source_path", "session_id", "runner_id",
                                                        "processed_at"]).to_pylist()
                except Exception:
                    continue  # unreadable: repair's business, not this lookup's
                for row in rows:
                    seen = found.get(row["source_path"])
                    if seen is None or _later(row["processed_at"], seen["processed_at"]):
                        found[row["source_path"]] = row
            self._by_source = found
        return self._by_source

    def annotate(self, outcome: SessionOutcome) -> SessionOutcome:
        """A failed outcome without ids gets those of the session made earlier from its file."""
        if outcome.session_id is not None or outcome.runner_id is not None:
            return outcome
        row = self.by_source().get(outcome.path)
        if row is None:
            return outcome
        when = row["processed_at"]
        processed = f" (processed {when:%Y-%m-%d %H:%M} UTC)" if isinstance(when, datetime) else ""
        if outcome.error_type == SidecarsUnhashedError.__name__:  # this very file, stored before 1.6
            note = (f"; the dataset keeps session {row['session_id']!r} of runner {row['runner_id']!r} as "
                    f"stored from this file{processed} until a batch with --replace reads it again, once")
        else:
            note = (f"; the dataset still holds session {row['session_id']!r} of runner "
                    f"{row['runner_id']!r} made from an earlier version of this file{processed}"
                    ": it stays until the file is fixed or that session is deleted")
        return replace(outcome, session_id=row["session_id"], runner_id=row["runner_id"],
                       message=(outcome.message or "") + note)


def _later(a: object, b: object) -> bool:
    if not isinstance(a, datetime):
        return False
    return not isinstance(b, datetime) or a > b


def available_cpus() -> int:
    """CPUs this process may run on (affinity-aware where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _plan(files: list[Path], ds: Path, *, force: bool, replace: bool, params: PipelineParams | None,
          version: str, identity: dict[str, str | None] | None = None,
          mounting: tuple[tuple[float, ...], ...] | str | None = None,
          ) -> tuple[list[SessionTask], list[SessionOutcome]]:
    """Tasks to hand out, and outcomes decided up front (two files claiming one session)."""
    tasks: list[SessionTask] = []
    early: list[SessionOutcome] = []
    owner: dict[tuple[str, str], Path] = {}
    made_from = sessions_by_source(ds) if not force else {}  # for files whose ids need reading
    for f in files:
        ident = peek_identity(f)
        if ident is not None and ident in owner:
            sid, rid = ident
            early.append(SessionOutcome(
                path=str(f), status="failed", session_id=sid, runner_id=rid,
                error_type="DuplicateSessionError",
                message=(f"{f}: session {sid!r} of runner {rid!r} is also in {owner[ident]}, which "
                         "this batch processes instead; give each recording its own session_id "
                         "(file metadata imuback.session_id, or the CSV file name)"),
            ))
            continue
        if ident is not None:
            owner[ident] = f
        tasks.append(SessionTask(path=str(f), dataset=str(ds), pipeline_version=version,
                                 params=params, force=force, replace=replace, mounting=mounting,
                                 made_from=() if ident is not None else made_from.get(str(f.resolve()), ()),
                                 **(identity or {})))
    return tasks, early


# --- back ends: both map process_session over the tasks ----------------------------------------


WORKER_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
"""One math-library thread per worker process (values the user set win). Workers are one per CPU
already; BLAS threads on top only fight over the same cores (measured: 2 workers ran slower than
1 without this). Dask's nanny sets the same variables for its workers."""


@contextmanager
def _worker_thread_env() -> Iterator[None]:
    added = {k: v for k, v in WORKER_THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _mp_context() -> multiprocessing.context.BaseContext:
    # Never fork a process that may hold threads (pyarrow, duckdb, dask): forkserver where it
    # exists, spawn elsewhere. The fork server imports the pipeline once for every worker, and
    # its environment (see WORKER_THREAD_ENV) is the one every worker inherits.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["imuback.batch.work", "imuback.pipeline"])
        from multiprocessing import forkserver

        forkserver.ensure_running()
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover


def _crashed(task: SessionTask, exc: BaseException, how: str) -> SessionOutcome:
    return SessionOutcome(
        path=task.path, status="failed", error_type="WorkerCrashedError",
        message=(f"{task.path}: the worker process died while processing this file ({how}: "
                 f"{type(exc).__name__}: {exc}); out of memory or a crash in a native library; "
                 "try it alone with `imuback process`"),
    )


def _local_outcomes(tasks: Sequence[SessionTask], workers: int) -> Generator[SessionOutcome]:
    """Run tasks on a local process pool; yield outcomes as they finish.

    At most ``2 * workers`` tasks are in flight, so that when a worker dies (and the pool with
    it) only those few are suspects: each is retried alone in a fresh process, the others go on
    in a fresh pool. A file that kills its worker twice is reported as failed.

    Closing the generator (or an exception inside it, such as KeyboardInterrupt) cancels the
    queued tasks and terminates the workers; it returns once they are gone. Every worker also
    holds the read end of a pipe whose write end only this process has: if this process dies
    without cleaning up (``kill -9``), the workers see the pipe end and exit without writing.
    """
    with _worker_thread_env():
        ctx = _mp_context()
        driver_link, keep_open = ctx.Pipe(duplex=False)
        try:
            yield from _local_pool(tasks, workers, ctx, driver_link)
        finally:
            # The workers are gone by now; closing the write end tells any straggler to exit.
            keep_open.close()
            driver_link.close()


def _new_pool(workers: int, ctx: multiprocessing.context.BaseContext,
              driver_link: Connection[Any, Any]) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_local_worker,
                               initargs=(driver_link,))


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued tasks, terminate the worker processes and wait until they are gone."""
    with _signals_ignored():
        processes = list((pool._processes or {}).values())  # no public way before Python 3.14
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover - SIGTERM is not caught by workers
                proc.kill()
                proc.join()


def _local_pool(tasks: Sequence[SessionTask], workers: int,
                ctx: multiprocessing.context.BaseContext,
                driver_link: Connection[Any, Any]) -> Iterator[SessionOutcome]:
    pending = deque(tasks)
    suspects: list[SessionTask] = []
    while pending:
        pool = _new_pool(workers, ctx, driver_link)
        try:
            inflight: dict[Future[SessionOutcome], SessionTask] = {}
            broken = False
            while (pending and not broken) or inflight:
                while pending and not broken and len(inflight) < 2 * workers:
                    task = pending.popleft()
                    try:
                        inflight[pool.submit(process_session, task)] = task
                    except BrokenProcessPool:
                        pending.appendleft(task)
                        broken = True
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(task)
                        continue
                    yield outcome
            pool.shutdown(wait=True)
        except BaseException:  # KeyboardInterrupt, or GeneratorExit at the yield: stop everything
            _stop_pool(pool)
            raise
    for task in suspects:
        pool = _new_pool(1, ctx, driver_link)
        try:
            try:
                outcome = pool.submit(process_session, task).result()
            except BrokenProcessPool as exc:
                outcome = _crashed(task, exc, "retried alone")
            pool.shutdown(wait=True)
        except BaseException:
            _stop_pool(pool)
            raise
        yield outcome


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a batch runs, SIGTERM (``kill``, a job scheduler) stops it the way Ctrl-C does.

    Only in the main thread (the only one that may set handlers), and only where SIGTERM still has
    its default action: an application that handles SIGTERM itself keeps its handler.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM meanwhile: a second Ctrl-C must not cut the cleanup short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _dask_outcomes(tasks: Sequence[SessionTask], address: str) -> Generator[SessionOutcome]:
    """Run tasks on the Dask cluster at ``address``; yield outcomes as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise BatchInputError("--scheduler needs Dask: pip install 'imuback[dask]'") from exc
    try:
        client = Client(address, timeout="20s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise BatchInputError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        futures = client.map(process_session, list(tasks), pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        try:
            for fut in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
                try:
                    yield fut.result()
                except Exception as exc:
                    yield _crashed(by_key[fut.key], exc, "on the Dask cluster")
                fut.release()
        finally:
            client.cancel([f for f in futures if not f.done()])  # type: ignore[no-untyped-call]


def format_summary(summary: BatchSummary, *, max_listed: int = 10) -> str:
    """A few lines for people: counts, rate, failures grouped by error type."""
    c = summary.counts
    n = len(summary.outcomes)
    rate = n / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    lines = [f"{n} input files in {summary.elapsed_s:.1f} s ({rate:.2f}/s) on {summary.backend}: "
             f"{c['processed']} processed, {c['skipped']} skipped (up to date), {c['failed']} failed"]
    written = {(o.runner_id, sid): status for o in summary.outcomes for sid, status in o.sessions}
    statuses = Counter(written.values())  # each session of a data.mat; one written again from a copy once
    if statuses:
        lines.append("processed sessions by status: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items(), key=str)))
    said = [w for _path, w in summary.warnings]
    if said:  # a zone given over a file's own...: one line each, all of them in the warnings table
        lines.append("warnings:")
        lines.extend(f"  {w}" for w in said[:max_listed])
        if len(said) > max_listed:
            lines.append(f"  ... and {len(said) - max_listed} more: see {Path(summary.dataset) / WARNINGS_TABLE}, "
                         f"or imuback query --dataset {summary.dataset} \"SELECT source_path, message FROM "
                         f"{WARNINGS_TABLE}\"")
    copies = [o for o in summary.outcomes if o.status == "skipped" and o.message]
    if copies:  # a copy of a stored file under another name: nothing written
        lines.append("skipped, already stored from another file:")
        lines.extend(f"  {o.path}: {o.message}" for o in copies[:max_listed])
        if len(copies) > max_listed:
            lines.append(f"  ... and {len(copies) - max_listed} more")
    again = [o for o in summary.outcomes if o.status == "processed" and o.same_as]
    if again:  # --force over copies of one recording: one session, written once per file
        lines.append("written again from another file (a copy: the same session, not another; its source_path "
                     "is the file written last):")
        lines.extend(f"  {o.path}: {o.same_as}" for o in again[:max_listed])
        if len(again) > max_listed:
            lines.append(f"  ... and {len(again) - max_listed} more")
    moved = [o for o in summary.outcomes if o.status == "processed" and o.message]
    if moved:  # a recording re-filed under the runner now given (--replace)
        lines.append("moved to another runner:")
        lines.extend(f"  {o.path}: {o.message}" for o in moved[:max_listed])
        if len(moved) > max_listed:
            lines.append(f"  ... and {len(moved) - max_listed} more")
    if summary.failures:
        by_type: dict[str, list[SessionOutcome]] = {}
        for o in summary.failures:
            by_type.setdefault(o.error_type or "Error", []).append(o)
        lines.append("failures:")
        for etype, items in sorted(by_type.items(), key=lambda kv: -len(kv[1])):
            lines.append(f"  {etype} x{len(items)}")
            for o in items[:max_listed]:
                lines.append(f"    {o.message}")
            if len(items) > max_listed:
                lines.append(f"    ... and {len(items) - max_listed} more")
        lines.append(f"all failures: imuback query --dataset {summary.dataset} "
                     "\"SELECT source_path, error_type, message FROM errors\"")
    lines.append(f"dataset: {summary.dataset}")
    return "\n".join(lines)
