"""Where a session was recorded, as its local clock's offset from UTC (``RawSession.utc_offset_min``).

Sample times are always UTC; the offset only tells the reports which local day and week a session
belongs to (a run at 18:00 on 3 March in Los Angeles is on 3 March, not on 4 March UTC). In order:
a zone given (``--time-zone``, ``time_zone=``), else one the file states, else the machine's zone
for a live recording (``imuback record``), else unknown (None: UTC days); ``utc_offset_source`` says
which (``given``, ``file``, ``computer``); ``unknown`` given (:data:`FORGET`) forgets a zone given
before. A zone is an IANA name (``Europe/Madrid``, which follows its summer time: the offset at the
session's first sample is kept), ``UTC``, or a fixed offset (``+01:00``). docs/data_contract.md, "Times and time zones".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo
from pathlib import Path

from imuback.core import RawSession
from imuback.errors import RawFormatError

_OFFSET = re.compile(r"([+-])([01]\d|2[0-3]):?([0-5]\d)")
"""A fixed UTC offset, ``+01:00`` or ``-0800``."""

FORGET = "unknown"
"""What ``--time-zone`` and ``--mounting`` (``time_zone=``, ``mounting=``) take to forget what was told
before: the session goes back to what the file states (else no zone, an assumed mounting)."""

MAX_ZONE_LEN = 64
"""The longest zone text read (the clinic form's maxlength): IANA names are at most ~30 characters."""


def parse_zone(text: str, *, src: str, what: str = "--time-zone") -> dt.tzinfo:
    """An IANA zone name, ``UTC``/``Z`` or a fixed offset (``+01:00``) -> tzinfo; a bad one is refused
    in one line naming it.
    """
    name = str(text).strip()
    if name in ("Z", "z", "UTC", "utc"):
        return dt.UTC
    fixed = _OFFSET.fullmatch(name)
    if fixed:
        minutes = int(fixed[2]) * 60 + int(fixed[3])
        return dt.timezone(dt.timedelta(minutes=minutes if fixed[1] == "+" else -minutes))
    try:
        if not name or len(name) > MAX_ZONE_LEN or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):  # OSError: a region folder (America)
        shown = repr(name) if len(name) <= MAX_ZONE_LEN else f"{name[:MAX_ZONE_LEN]!r}... ({len(name)} characters)"
        raise RawFormatError(f"{src}: {what} {shown} is not a time zone: give a place's IANA name "
                             "(Europe/Madrid, America/Los_Angeles), UTC, or an offset like +01:00") from None


_GMT_OFFSET = re.compile(r"(?:GMT|UTC)([+-])(\d{1,2})(?::?([0-5]\d))?", re.IGNORECASE)
"""An offset as apps write it, ``GMT+05:30``, ``UTC+1``, ``GMT-0800``: the sign is east of Greenwich
(unlike POSIX/IANA ``Etc/GMT+5``, which is UTC-05:00 and is read as the IANA name it is)."""


def stated_zone(text: str) -> dt.tzinfo | None:
    """A zone a file states in its own words -> tzinfo, or None when it is none imuback can read
    (the zone is then unknown: the samples are still read, never refused for it). Read: what
    :func:`parse_zone` reads, then ``GMT+05:30``/``UTC+1``-style offsets up to 14 hours.
    """
    name = str(text).strip()
    gmt = _GMT_OFFSET.fullmatch(name)
    minutes = int(gmt[2]) * 60 + int(gmt[3] or 0) if gmt else None
    if gmt and minutes is not None and minutes <= 14 * 60:  # the widest offset in use is +14:00
        return dt.timezone(dt.timedelta(minutes=minutes if gmt[1] == "+" else -minutes))
    try:
        return parse_zone(name, src="")
    except RawFormatError:
        return None


def offset_min_at(zone: dt.tzinfo, t_ns: int) -> int:
    """The zone's UTC offset (whole minutes, +60 = UTC+01:00) at the UTC instant ``t_ns``: in a zone
    with summer time, the one in force then.
    """
    when = dt.datetime.fromtimestamp(t_ns // 10**9, tz=dt.UTC).astimezone(zone)
    offset = when.utcoffset()
    return 0 if offset is None else round(offset.total_seconds() / 60)


def text_offset_min(text: str) -> int | None:
    """The explicit UTC offset an ISO 8601 time is written with (``...T07:00:00+05:00`` -> 300), or
    None: none, or ``Z``, which says the time is in UTC, not where it was recorded.
    """
    fixed = re.search(r"[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?" + _OFFSET.pattern + "$", str(text).strip())
    if not fixed:
        return None
    minutes = int(fixed[2]) * 60 + int(fixed[3])
    return minutes if fixed[1] == "+" else -minutes


def offset_text(offset_min: int) -> str:
    """UTC offset minutes as ``+05:30`` / ``-08:00``."""
    sign = "+" if offset_min >= 0 else "-"
    return f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"


def with_zone(raw: RawSession, zone: str | dt.tzinfo, *, what: str = "--time-zone",
              source: str = "given") -> RawSession:
    """``raw`` with the offset of ``zone`` at its first sample (a zone given wins over the file's),
    its ``utc_offset_source`` ``source`` (``file`` for a zone the file states).
    """
    tz = parse_zone(zone, src=raw.source, what=what) if isinstance(zone, str) else zone
    if raw.n_samples == 0:
        return raw
    return dataclasses.replace(raw, utc_offset_min=offset_min_at(tz, int(raw.time_ns[0])), utc_offset_source=source)


def overridden_text(src: str, zone_text: str, given_min: int, stated_min: int, *, before: bool = False,
                    computer: bool = False) -> str:
    """The one line saying a zone given (now, or ``before`` and kept) was used over the file's own
    different offset (``computer``: the recording computer's zone, ``record`` without ``--time-zone``).
    """
    stated = offset_text(stated_min) + (" (the recording computer's zone)" if computer else "")
    if before:
        return (f"{src}: the time zone given before ({offset_text(given_min)}) kept, not the file's own "
                f"{stated}; --time-zone unknown (time_zone='unknown') goes back to the file's")
    return f"{src}: --time-zone {zone_text} ({offset_text(given_min)}) used, not the file's own {stated}"


def local_offset_min(t_ns: int) -> int:
    """The machine's UTC offset (minutes) at ``t_ns``: a live recording's zone (``imuback record``)."""
    offset = dt.datetime.fromtimestamp(t_ns // 10**9, tz=dt.UTC).astimezone().utcoffset()
    return 0 if offset is None else round(offset.total_seconds() / 60)


def stamp_recorded_zone(path: str | Path, zone: str | None = None) -> RawSession:
    """Write into a just-recorded raw file where it was recorded (``imuback record``): the offset of
    ``zone`` (``--time-zone``, source ``given``) at its first sample, else this machine's zone's
    (``computer``: a guess, which a zone given later replaces); the file is rewritten atomically with
    ``imuback.utc_offset_min`` and ``imuback.utc_offset_source`` and returned as read back.
    """
    from imuback.store.raw import read_raw, write_raw

    raw = read_raw(path)
    t0 = int(raw.time_ns[0])
    offset = offset_min_at(parse_zone(zone, src=str(path)), t0) if zone is not None else local_offset_min(t0)
    write_raw(path, dataclasses.replace(raw, utc_offset_min=offset,
                                        utc_offset_source="computer" if zone is None else "given"))
    return read_raw(path)
