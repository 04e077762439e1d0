"""Typed journal events: what happened to the connection, written and read in this one module.

Each event is a frozen dataclass with the host monotonic time (ns) when it happened. On disk an
event is a JSON object whose ``"type"`` names the class (the names journals have always used, so
old journals read the same); :func:`event_to_json` and :func:`event_from_json` are the only
places that know the strings. An event whose type this version does not know is kept as an
:class:`UnknownEvent`, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from imuback.collect.sensor import StreamInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class Starting:
    """A connection attempt to ``address`` begins (frames before it belong to the last one)."""

    host_ns: int
    address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStarted:
    """The sensor agreed to stream with ``info`` over a link of ATT MTU ``mtu``."""

    host_ns: int
    info: StreamInfo
    address: str = ""
    mtu: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectFailed:
    """A connection attempt failed; ``error`` says why in words."""

    host_ns: int
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NotFound:
    """A scan did not find the sensor."""

    host_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected:
    """The link dropped without being asked to."""

    host_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GaveUp:
    """No connection for longer than ``give_up_after_s``: the recording ends."""

    host_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped:
    """The recording ended (Ctrl-C, SIGTERM, time up, or the sensor was given up)."""

    host_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """An event of a type this version does not know (kept as read)."""

    host_ns: int
    type: str
    data: dict[str, Any] = field(default_factory=dict)


JournalEvent = (Starting | StreamStarted | ConnectFailed | NotFound | Disconnected | GaveUp | Stopped
                | UnknownEvent)

_SIMPLE: dict[str, type[NotFound | Disconnected | GaveUp | Stopped]] = {
    "not_found": NotFound, "disconnected": Disconnected, "gave_up": GaveUp, "stopped": Stopped}
_SIMPLE_NAMES = {cls: name for name, cls in _SIMPLE.items()}


def event_to_json(ev: JournalEvent) -> dict[str, Any]:
    """The JSON object written to the journal."""
    if isinstance(ev, Starting):
        return {"type": "starting", "host_ns": ev.host_ns, "address": ev.address}
    if isinstance(ev, StreamStarted):
        return {"type": "stream", "host_ns": ev.host_ns, "address": ev.address, "mtu": ev.mtu,
                "info": ev.info.to_json()}
    if isinstance(ev, ConnectFailed):
        return {"type": "connect_failed", "host_ns": ev.host_ns, "error": ev.error}
    if isinstance(ev, UnknownEvent):
        return {**ev.data, "type": ev.type, "host_ns": ev.host_ns}
    return {"type": _SIMPLE_NAMES[type(ev)], "host_ns": ev.host_ns}


def event_from_json(d: dict[str, Any]) -> JournalEvent:
    """Inverse of :func:`event_to_json`; raises ``KeyError``/``TypeError``/``ValueError`` if malformed."""
    kind = str(d.get("type", ""))
    host = int(d.get("host_ns", 0))
    if kind == "starting":
        return Starting(host_ns=host, address=str(d.get("address", "")))
    if kind == "stream":
        return StreamStarted(host_ns=host, info=StreamInfo.from_json(d["info"]),
                             address=str(d.get("address", "")), mtu=int(d.get("mtu", 0) or 0))
    if kind == "connect_failed":
        return ConnectFailed(host_ns=host, error=str(d.get("error", "")))
    if kind in _SIMPLE:
        return _SIMPLE[kind](host_ns=host)
    return UnknownEvent(host_ns=host, type=kind, data={k: v for k, v in d.items() if k not in ("type", "host_ns")})
