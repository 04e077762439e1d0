"""Run many sessions: a local process pool by default, a Dask cluster when asked.

Both back ends map the same function, :func:`imuback.batch.work.process_session`, over the same
tasks; only the way tasks reach a process differs. The driver (this module) finds the inputs,
guards the dataset with a lock, repairs what an interrupted run left behind, hands out tasks,
records failures in the ``errors`` table and reports progress.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import socket
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pyarrow.parquet as pq

from imuback.batch.inputs import BatchInputError, discover_inputs
from imuback.batch.progress import Progress, ProgressMode
from imuback.batch.records import clear_error, write_error
from imuback.batch.work import SessionOutcome, SessionTask, peek_identity, process_session
from imuback.store.dataset import PART_FILE, WRITE_ORDER, session_dir

if TYPE_CHECKING:
    from imuback.signal.params import PipelineParams

LOCK_FILE = ".batch.lock"


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


def run_batch(inputs: Sequence[str | Path], *, dataset: str | Path, workers: int | None = None,
              scheduler: str | None = None, force: bool = False,
              params: PipelineParams | None = None, progress: ProgressMode = "auto",
              stream: TextIO | None = None) -> BatchSummary:
    """Process every raw session named by ``inputs`` into ``dataset``.

    Parameters
    ----------
    inputs : files, folders (searched recursively for ``.parquet``/``.csv``) or glob patterns.
    dataset : output dataset directory (created if missing).
    workers : local worker processes; default: the CPUs this process may use.
    scheduler : address of a running Dask scheduler (``tcp://host:8786``); then the work runs on
        that cluster's workers, which must see ``inputs`` and ``dataset`` at the same paths.
    force : re-process sessions even when their rows are up to date.
    params : pipeline parameters (default: the pipeline's defaults).
    progress, stream : how and where to report progress (default: a bar on a terminal, else
        log lines; standard error).

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
    ds.mkdir(parents=True, exist_ok=True)
    with _DatasetLock(ds):
        repaired = tuple(repair_dataset(ds))
        report = Progress(len(files), stream=stream, mode=progress)
        for line in repaired:
            report.log(f"repair: {line}")
        if not_raw:
            report.log(f"ignored {len(not_raw)} tables in the input folders that are not raw "
                       f"sessions (no acc_x/y/z columns), e.g. {not_raw[0]}")
        tasks, early = _plan(files, ds, force=force, params=params, version=PIPELINE_VERSION)
        if scheduler:
            backend = f"dask {scheduler}"
            stream_of_outcomes = _dask_outcomes(tasks, scheduler)
        else:
            n = max(1, min(workers or available_cpus(), len(tasks) or 1))
            backend = f"local[{n}]"
            stream_of_outcomes = _local_outcomes(tasks, n)
        report.log(f"batch: {len(files)} input files -> {ds} on {backend} "
                   f"(pipeline {PIPELINE_VERSION}{', forced' if force else ''})")
        outcomes: list[SessionOutcome] = []

        def record(outcome: SessionOutcome) -> None:
            if outcome.status == "failed":
                write_error(ds, source_path=outcome.path, source_sha256=outcome.source_sha256,
                            session_id=outcome.session_id, runner_id=outcome.runner_id,
                            error_type=outcome.error_type or "Error", message=outcome.message or "",
                            pipeline_version=PIPELINE_VERSION, worker=outcome.worker or None)
            else:
                clear_error(ds, source_path=outcome.path)
            outcomes.append(outcome)
            report.update(outcome)

        for outcome in early:
            record(outcome)
        for outcome in stream_of_outcomes:
            record(outcome)
        report.close()
    order = {str(p): i for i, p in enumerate(files)}
    outcomes.sort(key=lambda o: order.get(o.path, len(order)))
    return BatchSummary(dataset=str(ds), backend=backend, outcomes=tuple(outcomes),
                        elapsed_s=time.perf_counter() - t0, repaired=repaired)


def available_cpus() -> int:
    """CPUs this process may run on (affinity-aware where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _plan(files: list[Path], ds: Path, *, force: bool, params: PipelineParams | None,
          version: str) -> tuple[list[SessionTask], list[SessionOutcome]]:
    """Tasks to hand out, and outcomes decided up front (two files claiming one session)."""
    tasks: list[SessionTask] = []
    early: list[SessionOutcome] = []
    owner: dict[tuple[str, str], Path] = {}
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
                                 params=params, force=force))
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


def _local_outcomes(tasks: Sequence[SessionTask], workers: int) -> Iterator[SessionOutcome]:
    """Run tasks on a local process pool; yield outcomes as they finish.

    At most ``2 * workers`` tasks are in flight, so that when a worker dies (and the pool with
    it) only those few are suspects: each is retried alone in a fresh process, the others go on
    in a fresh pool. A file that kills its worker twice is reported as failed.
    """
    with _worker_thread_env():
        yield from _local_pool(tasks, workers, _mp_context())


def _local_pool(tasks: Sequence[SessionTask], workers: int,
                ctx: multiprocessing.context.BaseContext) -> Iterator[SessionOutcome]:
    pending = deque(tasks)
    suspects: list[SessionTask] = []
    while pending:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
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
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(task)
    for task in suspects:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            try:
                yield pool.submit(process_session, task).result()
            except BrokenProcessPool as exc:
                yield _crashed(task, exc, "retried alone")


def _dask_outcomes(tasks: Sequence[SessionTask], address: str) -> Iterator[SessionOutcome]:
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


# --- keeping the dataset whole ------------------------------------------------------------------


class _DatasetLock:
    """``<dataset>/.batch.lock``: one batch at a time per dataset; a dead holder's lock is taken over."""

    def __init__(self, dataset: Path) -> None:
        self.path = dataset / LOCK_FILE
        self.me = {"host": socket.gethostname(), "pid": os.getpid(),
                   "started": datetime.now(UTC).isoformat()}

    def __enter__(self) -> _DatasetLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and not self._stale(holder):
                    raise BatchInputError(
                        f"{self.path.parent}: another batch (pid {holder.get('pid')} on "
                        f"{holder.get('host')}, started {holder.get('started')}) is writing this "
                        f"dataset; wait for it, or delete {self.path} if it is gone") from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(self.me, f)
            return self
        raise BatchInputError(f"{self.path}: cannot take the batch lock")  # pragma: no cover

    def __exit__(self, *exc: object) -> None:
        holder = self._holder()
        if holder == self.me:
            self.path.unlink(missing_ok=True)

    def _holder(self) -> dict[str, object] | None:
        try:
            value = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    @staticmethod
    def _stale(holder: dict[str, object]) -> bool:
        if holder.get("host") != socket.gethostname():
            return False  # cannot tell from here: be safe
        pid = holder.get("pid")
        if not isinstance(pid, int):
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def repair_dataset(dataset: str | Path) -> list[str]:
    """Remove what an interrupted write left behind; return what was done, in words.

    :func:`imuback.store.dataset.write_session` stages a session and then moves its tables into
    place, ``sessions`` last. A run killed in between can leave staged files, ``.old-`` copies, or
    a session whose tables come from two different runs. Such a session is removed from steps,
    strides and sessions, so that the next batch processes it again; complete sessions are kept.
    Call only while no other process writes the dataset (the batch lock ensures that).
    """
    ds = Path(dataset)
    done: list[str] = []
    damaged: set[tuple[str, str]] = set()
    staging = ds / ".staging"
    if staging.exists():
        stages = [p for p in staging.iterdir() if p.is_dir()]
        for stage in stages:
            staged_sessions = stage / "sessions" / PART_FILE
            if staged_sessions.exists():
                try:
                    t = pq.read_table(staged_sessions, columns=["runner_id", "session_id"])
                    damaged.update(zip(t["runner_id"].to_pylist(), t["session_id"].to_pylist(),
                                       strict=True))
                except Exception:
                    pass
        shutil.rmtree(staging, ignore_errors=True)
        if stages:
            done.append(f"removed {len(stages)} unfinished staged write(s)")
    present: dict[str, set[tuple[str, str]]] = {}
    for table in (*WRITE_ORDER, "errors"):
        present[table] = set()
        for runner_dir in sorted((ds / table).glob("runner=*")):
            rid = runner_dir.name.removeprefix("runner=")
            for d in sorted(runner_dir.iterdir()):
                if d.name.startswith(".session=") and ".old-" in d.name:
                    shutil.rmtree(d, ignore_errors=True)
                    done.append(f"removed a replaced copy left in {d.parent.name}/{d.name}")
                elif d.name.startswith("session=") and (d / PART_FILE).exists():
                    present[table].add((rid, d.name.removeprefix("session=")))
    tables = [present[t] for t in WRITE_ORDER]
    damaged |= (tables[0] | tables[1] | tables[2]) - (tables[0] & tables[1] & tables[2])
    for rid, sid in sorted(damaged):
        for table in WRITE_ORDER:
            shutil.rmtree(session_dir(ds, table, rid, sid), ignore_errors=True)
        done.append(f"removed session {sid!r} of runner {rid!r}: it was half written by an "
                    "interrupted run and is processed again when its file is among the inputs")
    return done


def format_summary(summary: BatchSummary, *, max_listed: int = 10) -> str:
    """A few lines for people: counts, rate, failures grouped by error type."""
    c = summary.counts
    n = len(summary.outcomes)
    rate = n / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    lines = [f"{n} input files in {summary.elapsed_s:.1f} s ({rate:.2f}/s) on {summary.backend}: "
             f"{c['processed']} processed, {c['skipped']} skipped (up to date), {c['failed']} failed"]
    statuses = Counter(o.session_status for o in summary.outcomes if o.status == "processed")
    if statuses:
        lines.append("processed sessions by status: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items(), key=str)))
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
