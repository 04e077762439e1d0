"""Keeping the dataset whole: one writer at a time (the lock, taken by ``process``, ``batch``,
``demo`` and ``delete`` alike) and repair of interrupted writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from imuback.errors import DatasetError
from imuback.store.dataset import PART_FILE, WRITE_ORDER, session_dir

LOCK_FILE = ".imuback.lock"
SESSION_LOCK_DIR = ".imuback.locks"
"""Folder of the per-session locks (:class:`SessionLocks`) in the dataset."""
SESSION_LOCK_WAIT_S = 600.0
"""How long a batch worker waits for another worker that holds a session's lock."""
PROCESS_COMMAND = "imuback process"
"""The lock holder's command when one session is written (``process``, the Python API)."""
DELETE_COMMAND = "imuback delete"
"""The lock holder's command when one session is deleted (``delete``, the Python API)."""
ONE_SESSION_COMMANDS = (PROCESS_COMMAND, DELETE_COMMAND)
"""Holders that write one session, in seconds: another writer waits for them (up to its ``wait_s``)."""
ONE_SESSION_WAIT_S = 60.0
"""How long one session's write or deletion waits for another one-session writer of the same dataset."""


class DatasetLock:
    """``<dataset>/.imuback.lock``: one writer at a time per dataset (a batch, or ``imuback process``);
    a dead holder's lock is taken over.

    The file is created (exclusively) and then filled with the holder's host, pid and command, so
    another writer can see it for a moment while it is still empty. An empty or half-written lock is
    therefore someone taking it right now: wait up to ``fill_wait_s`` for its content, and if it
    never comes (the taker died in between), refuse rather than guess.
    """

    fill_wait_s = 2.0
    """How long a lock file may stay empty or unreadable before it is reported."""

    def __init__(self, dataset: str | Path, *, command: str = "imuback batch", wait_s: float = 0.0) -> None:
        """``wait_s``: how long to wait while another ``imuback process`` or ``imuback delete`` (one
        session: seconds) holds the lock; a batch holding it is reported at once.
        """
        self.path = Path(dataset) / LOCK_FILE
        self.dataset = Path(dataset)
        self.wait_s = wait_s
        self.me = {"host": socket.gethostname(), "pid": os.getpid(),
                   "started": datetime.now(UTC).isoformat(), "command": command}

    def __enter__(self) -> DatasetLock:
        ensure_dataset_dir(self.dataset)
        self.path.parent.mkdir(exist_ok=True)
        deadline = time.monotonic() + self.wait_s
        takeovers = 0
        while takeovers < 2:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._wait_for_holder()
                if holder is not None and not self._stale(holder):
                    if self._worth_waiting(holder) and time.monotonic() < deadline:
                        time.sleep(0.05)  # another single session: its write takes seconds
                        continue
                    raise DatasetError(
                        f"{self.dataset}: {holder.get('command', 'another imuback')} (pid "
                        f"{holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}) "
                        f"is writing {self._what}; wait for it, or delete {self.path} if it is gone") from None
                if holder is not None:
                    self._take_over(holder)
                takeovers += 1
                continue
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(self.me, f)
            except BaseException:  # e.g. Ctrl-C right now: leave no empty lock behind
                self.path.unlink(missing_ok=True)
                raise
            return self
        raise DatasetError(f"{self.path}: cannot take the dataset lock")  # pragma: no cover

    _what = "this dataset"

    @staticmethod
    def _worth_waiting(holder: dict[str, object]) -> bool:
        """Wait for a live ``holder`` (until ``wait_s``) rather than refuse at once."""
        return holder.get("command") in ONE_SESSION_COMMANDS

    def _take_over(self, stale: dict[str, object]) -> None:
        """Remove the lock of the dead ``stale`` holder, atomically: the file is renamed away first
        and only dropped if it still names that holder. Another writer may have taken the lock over
        in between: its fresh lock, renamed away by mistake, is put back.
        """
        moved = self.path.with_name(f"{LOCK_FILE}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(self.path, moved)
        except FileNotFoundError:
            return  # someone else removed it: try to take it again
        try:
            value = json.loads(moved.read_text())
        except (OSError, ValueError):
            value = None
        if value != stale:
            with contextlib.suppress(FileExistsError):
                os.link(moved, self.path)
        moved.unlink(missing_ok=True)

    def _wait_for_holder(self) -> dict[str, object] | None:
        """The holder named in the existing lock file; None if the file is gone meanwhile."""
        deadline = time.monotonic() + self.fill_wait_s
        while True:
            holder = self._holder()
            if holder is not None or not self.path.exists():
                return holder
            if time.monotonic() >= deadline:
                raise DatasetError(
                    f"{self.path}: the lock names no holder (empty or unreadable for "
                    f"{self.fill_wait_s:g} s); if no other batch is writing {self.dataset}, "
                    "delete the lock file and start again") from None
            time.sleep(0.02)

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


class SessionLock(DatasetLock):
    """``<dataset>/.imuback.locks/<hash of the ids>.lock``: one (runner, session) at a time among
    the workers of a batch, which all write under their driver's :class:`DatasetLock`.

    Held from the identity check (:func:`imuback.pipeline.check_identity`) to the write, it makes
    check-then-write atomic: a second file with the same ids waits, then finds the first one's rows
    and is refused, exactly as one worker would refuse it. Works across processes and hosts sharing
    the dataset folder (Dask). A dead holder's lock is taken over; the batch removes leftovers
    (:func:`repair_dataset`) before it starts.
    """

    def __init__(self, dataset: str | Path, *, runner_id: str, session_id: str,
                 wait_s: float = SESSION_LOCK_WAIT_S) -> None:
        super().__init__(dataset, command=f"imuback batch worker on session {session_id!r} of runner "
                                          f"{runner_id!r}", wait_s=wait_s)
        key = hashlib.sha256(f"{runner_id}\0{session_id}".encode()).hexdigest()[:32]
        self.path = self.dataset / SESSION_LOCK_DIR / f"{key}.lock"
        self._what = f"session {session_id!r} of runner {runner_id!r}"

    @staticmethod
    def _worth_waiting(holder: dict[str, object]) -> bool:
        return True  # another worker of this batch: it finishes the session in seconds


class RecordingLock(SessionLock):
    """``<dataset>/.imuback.locks/<hash of the bytes' hash>.lock``: one recording (its bytes) at a
    time among the workers of a batch. Two copies of one file under other names (``run.zip``,
    ``run (1).zip``) in one batch are two sets of session ids: without it both could be stored; with
    it the second waits, then finds the first's session (:func:`imuback.pipeline._stored_as`).
    """

    def __init__(self, dataset: str | Path, *, source_sha256: str, wait_s: float = SESSION_LOCK_WAIT_S) -> None:
        DatasetLock.__init__(self, dataset, command=f"imuback batch worker on the recording with SHA-256 "
                                                    f"{source_sha256[:12]}...", wait_s=wait_s)
        key = hashlib.sha256(f"recording\0{source_sha256}".encode()).hexdigest()[:32]
        self.path = self.dataset / SESSION_LOCK_DIR / f"{key}.lock"
        self._what = f"the recording with SHA-256 {source_sha256[:12]}..."


@contextlib.contextmanager
def session_locks(dataset: str | Path, ids: list[tuple[str, str]], *, source_sha256: str = "") -> Iterator[None]:
    """Hold the :class:`SessionLock` of every (runner, session) in ``ids`` (one file's sessions),
    taken in sorted order so that two workers never wait for each other. All of a file's sessions
    are held together, so two files with the same ids never split them: one file is stored whole
    and the other refused. ``source_sha256``: the file's :class:`RecordingLock` first (every worker
    takes its one recording lock before any session lock: no two wait for each other).
    """
    with contextlib.ExitStack() as stack:
        if source_sha256:
            stack.enter_context(RecordingLock(dataset, source_sha256=source_sha256))
        for runner_id, session_id in sorted(set(ids)):
            stack.enter_context(SessionLock(dataset, runner_id=runner_id, session_id=session_id))
        yield


def ensure_dataset_dir(dataset: Path) -> None:
    """Create the dataset folder if missing; a clear error when the path is something else."""
    if dataset.exists() and not dataset.is_dir():
        raise DatasetError(f"{dataset}: is a file, not a dataset folder; give a folder (it is created "
                           "if missing)")
    try:
        dataset.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{dataset}: cannot create the dataset folder ({exc.strerror})") from None


def repair_dataset(dataset: str | Path) -> list[str]:
    """Remove what an interrupted write left behind; return what was done, in words.

    :func:`imuback.store.dataset.write_session` stages a session and then moves its tables into
    place, ``sessions`` last. A run killed in between can leave staged files, ``.old-`` copies, or
    a session whose tables come from two different runs. Such a session is removed from steps,
    strides and sessions, so that the next batch processes it again; complete sessions are kept.
    Call only while no other process writes the dataset (:class:`DatasetLock` ensures that).
    """
    ds = Path(dataset)
    done: list[str] = []
    shutil.rmtree(ds / SESSION_LOCK_DIR, ignore_errors=True)  # no worker runs yet: leftovers of a killed one
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
    for table in (*WRITE_ORDER, "errors", "warnings"):
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
