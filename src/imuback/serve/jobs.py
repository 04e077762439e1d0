"""Uploaded raw files processed one at a time in the background, with their progress and errors.

One worker thread: the pipeline is fast and a clinic uploads a few files at once; one writer at a
time also keeps the dataset's writes in order.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from imuback.errors import ImubackError


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One uploaded file and what became of it."""

    job_id: str
    filename: str
    """The name the file was uploaded with (shown, escaped; never used as a path)."""
    status: str
    """``queued``, ``processing``, ``done`` or ``error``."""
    message: str = ""
    """What happened, in words: the session made, or the reason it failed."""
    runner_id: str | None = None
    session_id: str | None = None


Processor = Callable[[Path], tuple[str, str, str]]
"""Processes one saved upload; returns (runner id, session id, summary) or raises ImubackError."""


class JobQueue:
    """Jobs in upload order; thread-safe."""

    def __init__(self, process: Processor) -> None:
        self._process = process
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imuback-upload")

    def submit(self, path: Path, filename: str) -> Job:
        """Queue the saved upload ``path`` (uploaded as ``filename``)."""
        job = Job(job_id=uuid.uuid4().hex[:12], filename=filename, status="queued")
        with self._lock:
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job.job_id, path)
        return job

    def reject(self, filename: str, message: str) -> Job:
        """Record an upload that is refused before processing (e.g. a file type imuback does not read)."""
        job = Job(job_id=uuid.uuid4().hex[:12], filename=filename, status="error", message=message)
        with self._lock:
            self._jobs[job.job_id] = job
        return job

    def _set(self, job_id: str, **changes: str | None) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]

    def _run(self, job_id: str, path: Path) -> None:
        self._set(job_id, status="processing")
        try:
            runner, session, summary = self._process(path)
        except ImubackError as exc:
            self._set(job_id, status="error", message=str(exc))
        except Exception as exc:
            self._set(job_id, status="error", message=f"unexpected {type(exc).__name__}: {exc}")
        else:
            self._set(job_id, status="done", message=summary, runner_id=runner, session_id=session)

    def all(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    @property
    def busy(self) -> bool:
        """Some job is still queued or processing."""
        return any(j.status in ("queued", "processing") for j in self.all())

    def shutdown(self) -> None:
        """Finish queued jobs, then stop the worker."""
        self._pool.shutdown(wait=True)
