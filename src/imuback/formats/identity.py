"""Identity and start time of files that carry none (shared by the readers in :mod:`imuback.formats`).

A runner id is never defaulted (no shared default runner); a session id defaults to the file's
stem plus its UTC start time; a start time given as ISO 8601 text with its zone becomes UTC ns
(without a zone it is refused: docs/data_contract.md, "Times and time zones").
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from imuback.core import MAX_ID_LEN, NOT_3X3, check_id, rotation_problem
from imuback.errors import RawFormatError


def upper_z(text: str) -> str:
    """``text`` with a trailing lower-case ``z`` (UTC; RFC 3339 allows it, ISO 8601 writes ``Z``) as ``Z``."""
    return text[:-1] + "Z" if text.endswith("z") else text


def parse_start(start: str, *, src: str, what: str = "--start", zone: dt.tzinfo | None = None) -> dt.datetime:
    """ISO 8601 start time with its zone (``Z`` or ``+01:00``) -> naive UTC datetime.

    A time without a zone names no instant (07:00 in Madrid is not 07:00 in London, nor UTC): it
    is taken in ``zone`` when the file states one (a Mobilise-D trial's ``TimeZone``), else refused,
    never guessed (the machine's zone would change with the computer that processes the file).
    ``what`` names the value in the message (``--start``, ``acq_time``...).
    """
    try:
        when = dt.datetime.fromisoformat(upper_z(start).replace("Z", "+00:00"))
    except ValueError:
        raise RawFormatError(f"{src}: {what} {start!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        if zone is None:
            raise RawFormatError(f"{src}: {what} {start!r} has no time zone, so it names no single moment; "
                                 f"write Z if it is UTC ({start}Z) or the UTC offset where it was recorded "
                                 f"(e.g. {start}+01:00)")
        when = when.replace(tzinfo=zone)
    return when.astimezone(dt.UTC).replace(tzinfo=None)


def start_text(start: Any, *, src: str) -> Any:
    """A start given in Python as a ``datetime``, as ISO 8601 text with its zone (anything else as it
    is); one without a zone is refused naming ``start=`` (imuback 0.14 took it as UTC).
    """
    if not isinstance(start, dt.datetime):
        return start
    if start.utcoffset() is None:
        raise RawFormatError(f"{src}: start={start!r} has no time zone, so it names no single moment; give it "
                             "one: tzinfo=datetime.timezone.utc if it is UTC, or the offset where it was recorded "
                             "(tzinfo=datetime.timezone(datetime.timedelta(hours=1)))")
    return start.isoformat()


class UndatedStart(str):
    """A start given to many files at once (``imuback batch --start``): the first sample's time of each
    file that states none (timed from its start: CSV seconds since the start, Xsens without UTC columns,
    Movesense...). A file that states its own start keeps it (:func:`check_stated` does not refuse it;
    :func:`imuback.formats.read_sessions` says so in a log warning), as ``batch --runner`` is the runner
    of the files naming none.
    """

    __slots__ = ()


def start_ns(start: str, *, src: str, what: str = "--start", zone: dt.tzinfo | None = None) -> int:
    """ISO 8601 start time with its zone -> UTC ns since the epoch (see :func:`parse_start`)."""
    return int(np.datetime64(parse_start(start, src=src, what=what, zone=zone), "ns").astype(np.int64))


def default_session_id(path: Path, t0_ns: int) -> str:
    """``<file stem>-<UTC start, YYYYMMDDTHHMMSSZ>``: the session id of a file that names none."""
    stamp = np.datetime_as_string(np.datetime64(int(t0_ns), "ns"), unit="s").replace("-", "").replace(":", "")
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in path.stem).lstrip(".") or "session"
    return f"{stem[:MAX_ID_LEN - 17]}-{stamp}Z"


def runner_id(identity: dict[str, Any], *, src: str) -> str:
    """The caller's runner id (checked), or a clear error: the file names no runner."""
    value = identity.get("runner_id")
    if value is None:
        raise RawFormatError(f"{src}: no runner id: this file names none, and imuback keeps runners apart; "
                             "give --runner ID (runner_id= in Python)")
    return check_id(str(value), what="runner_id", source=src)


def check_keys(identity: dict[str, Any], known: frozenset[str], *, src: str, fmt: str) -> None:
    """Refuse identity keys this format cannot use (a typo must not be silently ignored)."""
    unknown = sorted(k for k, v in identity.items() if k not in known and v is not None)
    if unknown:
        raise RawFormatError(f"{src}: {unknown} do not apply to a {fmt} file; it takes {sorted(known)}")


RECOMMENDED_MOUNTING = [[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
"""The imuback sensor worn as firmware_notes/mounting.md recommends: chip +y up, +z backwards."""

NAMED_MOUNTINGS = {"identity": np.eye(3).tolist(), "recommended": RECOMMENDED_MOUNTING}
"""Mountings given by name: the chip's axes are the body's, and the imuback sensor's recommended one."""


def parse_mounting(text: str) -> list[list[float]]:
    """A nominal mounting R (``v_body = R @ v_sensor``; rows = body x forward, y left, z up in
    sensor axes) given as a name of :data:`NAMED_MOUNTINGS` or JSON 3x3, checked to be a proper
    rotation; :class:`ValueError` saying what is wrong. What ``--mounting`` and the clinic page's
    upload form read (docs/frames.md).
    """
    if text in NAMED_MOUNTINGS:
        return NAMED_MOUNTINGS[text]
    try:
        r = np.asarray(json.loads(text), dtype=np.float64)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"not a JSON 3x3 matrix nor one of {sorted(NAMED_MOUNTINGS)} ({exc})") from None
    problem = rotation_problem(r)
    if problem is not None:
        raise ValueError(problem)
    return [[float(v) for v in row] for row in r]


def python_mounting(value: Any, *, src: str) -> Any:
    """``mounting=`` in Python (:func:`imuback.read`, :func:`imuback.process`, ``run_batch``): a name
    of :data:`NAMED_MOUNTINGS` as its matrix, ``"unknown"`` (forget one given before) and None as they
    are, a 3x3 rotation matrix (a numpy array or nested lists) as nested lists of floats; anything else
    (a reflection too) refused in one line (:class:`~imuback.errors.RawFormatError`).
    """
    from imuback.formats.zone import FORGET

    if value is None or (isinstance(value, str) and value == FORGET):
        return value
    if isinstance(value, str) and value in NAMED_MOUNTINGS:
        return NAMED_MOUNTINGS[value]
    refused = RawFormatError(f"{src}: mounting= must be a 3x3 rotation (a numpy array or nested lists), a named "
                             f"mounting ({', '.join(NAMED_MOUNTINGS)}) or {FORGET!r}, not {str(value)[:80]!r}")
    if isinstance(value, str | bytes):
        raise refused
    try:
        matrix = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise refused from None
    problem = rotation_problem(matrix)
    if problem == NOT_3X3:
        raise refused
    if problem is not None:
        raise RawFormatError(f"{src}: mounting= {problem}")
    return matrix.tolist()


_OPTIONS = {"runner_id": "--runner", "session_id": "--session", "start": "--start", "mounting": "--mounting",
            "time_zone": "--time-zone"}
"""The command line's option for an identity key (the others are Python keywords only)."""


def refuse_stated(src: str, *, key: str, states: str, given: str, fix: str = "") -> RawFormatError:
    """The error for a given identity ``key`` that differs from what the file states (what the file
    says is kept; a conflict is refused, never silently settled). ``states``: where the file says it
    and what (``x.csv.json gives imuback.runner_id = 'ann'``); ``fix``: how to correct the file. Worded
    for the command line with the Python keyword beside the option: :mod:`imuback.api` and the clinic
    page (serve/app.py) reword it for theirs.
    """
    option = _OPTIONS.get(key)
    drop = f"drop {option} ({key}= in Python)" if option else f"drop {key}="
    return RawFormatError(f"{src}: {states}, not the {given} given; {drop}" + (f" or {fix}" if fix else ""))


def matrix_text(mounting: Any) -> str:
    """A mounting as JSON 3x3 for a message (rounded to 6 decimals)."""
    return json.dumps(np.round(np.asarray(mounting, dtype=np.float64), 6).tolist())


def same_matrix(a: Any, b: Any) -> bool:
    """Whether two mountings (nested lists, arrays or their JSON text) are the same 3x3 matrix."""
    try:
        ma, mb = (np.asarray(json.loads(m) if isinstance(m, str) else m, dtype=np.float64) for m in (a, b))
    except (ValueError, TypeError, RecursionError):
        return False
    return ma.shape == mb.shape == (3, 3) and bool(np.allclose(ma, mb, rtol=0.0, atol=1e-6))


START_RESOLUTION_NS = 1000
"""A given start is read to the microsecond (Python's datetime): a file's first sample at ns is the
same start when they agree to within it (its own time, as the refusal prints it, is accepted)."""


def utc_text(t_ns: int) -> str:
    """UTC ns since the epoch as ISO 8601 with ``Z``, the fraction of a second only as long as needed."""
    text = np.datetime_as_string(np.datetime64(int(t_ns), "ns"), unit="ns")
    return text.rstrip("0").rstrip(".") + "Z"


def check_stated(key: str, stated: Any, given: Any, *, src: str, states: str, fix: str = "") -> None:
    """The one rule for an identity value a file states and the caller gives as well (``--runner``,
    ``--session``, ``--start``, ``--mounting``; ``runner_id=``... in Python): none given, or the same
    one, is accepted and the file's is kept; another is refused naming the file, both values and what
    to do instead (:func:`refuse_stated`), never silently settled either way.

    ``key``: ``mounting`` (``stated``: a 3x3 or its JSON text; the same within 1e-6), ``start``
    (``stated``: the file's first sample, UTC ns; the same instant in any zone, to the microsecond,
    is the same; an :class:`UndatedStart` is no start for a file that states one: never refused), any
    other (``runner_id``, ``session_id``...: the same text). ``states``: where the file says it, the
    stated value follows (``the file's imuback.mounting is``, ``x.csv.json gives imuback.runner_id =``).
    """
    if given is None or isinstance(given, UndatedStart):
        return
    if key == "mounting":
        if same_matrix(stated, given):
            return
        shown, given_text = matrix_text(json.loads(stated) if isinstance(stated, str) else stated), matrix_text(given)
    elif key == "start":
        given_text = str(start_text(given, src=src))
        if abs(start_ns(given_text, src=src) - int(stated)) < START_RESOLUTION_NS:
            return
        shown = utc_text(int(stated))
    else:
        if str(given) == str(stated):
            return
        shown, given_text = repr(str(stated)), repr(str(given))
    raise refuse_stated(src, key=key, states=f"{states} {shown}", given=given_text, fix=fix)


def mounting_given(identity: dict[str, Any]) -> dict[str, Any]:
    """``RawSession`` keywords of a format that states no mounting: the one given, else the
    identity marked as assumed (the report then says the file did not tell how the sensor was worn).
    """
    if identity.get("mounting") is None:
        return {"mounting_source": "assumed"}
    return {"mounting": identity["mounting"], "mounting_source": "given"}
