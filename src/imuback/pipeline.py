"""One session: raw file -> signal stages -> dataset rows. The function batch maps.

``process_raw`` is pure (arrays in, Arrow tables out); ``process_file`` adds reading the raw
file, provenance (path, SHA-256) and, if a dataset is given, writing the rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from imuback.signal.params import PipelineParams
from imuback.signal.session import analyse_session
from imuback.store.dataset import write_session
from imuback.store.raw import RawSession, read_raw
from imuback.store.tables import session_tables


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """The processed rows of one session (Arrow tables in the documented schemas)."""

    session_id: str
    runner_id: str
    steps: pa.Table
    strides: pa.Table
    sessions: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        """Table name -> table, as written to the dataset."""
        return {"steps": self.steps, "strides": self.strides, "sessions": self.sessions}

    @property
    def summary(self) -> dict[str, object]:
        """The single ``sessions`` row as a dict."""
        return {k: v[0] for k, v in self.sessions.to_pydict().items()}


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def process_raw(raw: RawSession, *, params: PipelineParams = PipelineParams(),
                source_path: str = "", source_sha256: str = "") -> SessionResult:
    """Process one raw session in memory; no I/O."""
    analysis = analyse_session(raw, params=params)
    steps, strides, sessions = session_tables(raw, analysis, params=params,
                                              source_path=source_path, source_sha256=source_sha256)
    return SessionResult(session_id=raw.session_id, runner_id=raw.runner_id,
                         steps=steps, strides=strides, sessions=sessions)


def process_file(path: str | Path, *, dataset: str | Path | None = None,
                 params: PipelineParams = PipelineParams()) -> SessionResult:
    """Read, validate and process one raw session file; write its rows if ``dataset`` is given.

    Raises :class:`imuback.errors.ImubackError` subclasses with the file named in the message.
    """
    raw = read_raw(path)
    result = process_raw(raw, params=params, source_path=str(Path(path).resolve()),
                         source_sha256=file_sha256(path))
    if dataset is not None:
        write_session(dataset, runner_id=raw.runner_id, session_id=raw.session_id,
                      tables=result.tables())
    return result
