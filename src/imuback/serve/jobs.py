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
from typing import Any

from imuback.errors import ImubackError


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadOptions:
    """What the upload form says about files that carry no identity (CSV, phone exports, mobgap,
    Xsens...): the runner, and optionally the session id, start time, time zone, treadmill speed and
    mounting.
    """

    runner_id: str | None = None
    session_id: str | None = None
    start: str | None = None
    """Time of the first sample, ISO 8601 with its zone: ``Z`` (UTC) or the offset where it was
    recorded (files timed from their start)."""
    time_zone: str | None = None
    """Where the files were recorded (``Europe/Madrid``, ``UTC``, ``+01:00``): the reports' local days."""
    treadmill_speed_mps: float | None = None
    mounting: list[list[float]] | str | None = None
    """The nominal mounting R (``v_body = R @ v_sensor``) the form gave; None: not stated (the
    identity is assumed, as ``imuback process`` without ``--mounting``); ``"unknown"``: forget the one
    given before."""

    def identity(self) -> dict[str, Any]:
        """The identity keywords of :func:`imuback.formats.read_sessions` that were given."""
        return {k: v for k, v in (("runner_id", self.runner_id), ("session_id", self.session_id),
                                  ("start", self.start), ("mounting", self.mounting),
                                  ("time_zone", self.time_zone)) if v is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One uploaded file and what became of it."""

    job_id: str
    filename: str
    """The name the file was uploaded with (shown, escaped; never used as a path)."""
    status: str
    """``queued``, ``processing``, ``done`` or ``error``."""
    message: str = ""
    """What happened, in words: the step it is at, the sessions made, or why it failed."""
    sessions: tuple[tuple[str, str], ...] = ()
    """(runner id, session id) of every session the file made."""
    session_texts: tuple[str, ...] = ()
    """What each of ``sessions`` holds, in words (steps, status, pace), in the same order."""


Progress = Callable[[str], None]
"""Told what a job is doing now, in words."""
Processor = Callable[[Path, str, UploadOptions, Progress], tuple[list[tuple[str, str, str]], str]]
"""Processes one saved upload (its path, the name it was uploaded with, the form's options); returns
((runner id, session id, what it holds in words) of each session made, what else to say: sessions
of the file not processed, a note; may be empty) or raises ImubackError."""


class JobQueue:
    """Jobs in upload order; thread-safe."""

    def __init__(self, process: Processor) -> None:
        self._process = process
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imuback-upload")

    def submit(self, path: Path, filename: str, options: UploadOptions = UploadOptions()) -> Job:
        """Queue the saved upload ``path`` (uploaded as ``filename``) with the form's ``options``."""
        job = Job(job_id=uuid.uuid4().hex[:12], filename=filename, status="queued",
                  message="waiting for the files before it")
        with self._lock:
            self._jobs[job.job_id] = job
        self._pool.submit(self._run, job.job_id, path, filename, options)
        return job

    def reject(self, filename: str, message: str) -> Job:
        """Record an upload that is refused before processing (e.g. a file type imuback does not read)."""
        job = Job(job_id=uuid.uuid4().hex[:12], filename=filename, status="error", message=message)
        with self._lock:
            self._jobs[job.job_id] = job
        return job

    def _set(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, path: Path, filename: str, options: UploadOptions) -> None:
        self._set(job_id, status="processing", message="starting")
        try:
            made, summary = self._process(path, filename, options, lambda text: self._set(job_id, message=text))
        except ImubackError as exc:
            self._set(job_id, status="error", message=str(exc))
        except Exception as exc:
            self._set(job_id, status="error", message=f"unexpected {type(exc).__name__}: {exc}")
        else:
            self._set(job_id, status="done", message=summary, sessions=tuple((r, s) for r, s, _t in made),
                      session_texts=tuple(t for _r, _s, t in made))

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
