"""The append-only journal: every notification on disk within a second, readable after a crash.

File layout (little-endian)::

    magic   16 bytes  b"IMUBACK-JOURNAL1"
    u32     header length, then the header as UTF-8 JSON (session identity, mounting, clocks)
    blocks  each: u32 body length | u32 CRC-32 of body | u8 kind | body
            kind 1 (frames): u32 n | int64[n] host receive ns | uint16[n] lengths | payloads
            kind 2 (event):  UTF-8 JSON, e.g. {"type": "stream", "host_ns": ..., "info": {...}}

Blocks are only appended. A ``kill -9`` can tear at most the block being written: an incomplete last
block is a torn tail. A block that fails its CRC in the middle (a flipped bit on disk) is
corruption: the reader resynchronises on the next block whose CRC holds and counts the bytes
skipped, and such a journal is never deleted after recovery.

A journal being written is held with an exclusive ``fcntl.flock`` (released by the kernel when
the writer's process dies, even by ``kill -9``): recovery skips a locked journal, so a second
recorder into the same folder never finalizes another one's live session.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np

from imuback.collect.events import JournalEvent, UnknownEvent, event_from_json, event_to_json
from imuback.collect.sensor import FrameBatch
from imuback.errors import CollectError, JournalBusy

if sys.platform == "win32":  # pragma: no cover - msvcrt locks a byte range instead
    import msvcrt

    def _try_lock(fileno: int) -> None:
        """Take an exclusive lock now or raise BlockingIOError."""
        try:
            msvcrt.locking(fileno, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            raise BlockingIOError(str(exc)) from exc
else:  # POSIX: advisory locks that the kernel releases when the process dies
    import fcntl

    def _try_lock(fileno: int) -> None:
        """Take an exclusive lock now or raise BlockingIOError."""
        fcntl.flock(fileno, fcntl.LOCK_EX | fcntl.LOCK_NB)


MAGIC: Final = b"IMUBACK-JOURNAL1"
SUFFIX: Final = ".journal"
CORRUPT_SUFFIX: Final = ".corrupt"
"""Appended to a journal kept after recovery because some of its blocks were corrupted."""
KIND_FRAMES: Final = 1
KIND_EVENT: Final = 2
_BLOCK = struct.Struct("<IIB")


class JournalWriter:
    """Appends frame batches and events; :meth:`flush` makes them durable (``os.fsync``)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._f: BinaryIO = open(self.path, "xb")
        except FileExistsError as exc:
            raise _exists_error(self.path, header) from exc
        _try_lock(self._f.fileno())  # a new file: never contended
        head = json.dumps(header).encode()
        self._f.write(MAGIC + struct.pack("<I", len(head)) + head)
        self.flush()

    def _block(self, kind: int, body: bytes) -> None:
        self._f.write(_BLOCK.pack(len(body), zlib.crc32(body), kind))
        self._f.write(body)

    def append_frames(self, host_ns: Sequence[int], frames: Sequence[bytes]) -> None:
        """Append notifications (in arrival order) as one block."""
        n = len(frames)
        if n == 0:
            return
        body = b"".join([struct.pack("<I", n), np.asarray(host_ns, dtype="<i8").tobytes(),
                         np.fromiter(map(len, frames), dtype="<u2", count=n).tobytes(), *frames])
        self._block(KIND_FRAMES, body)

    def append_event(self, event: JournalEvent) -> None:
        """Append one event (connection, stream info, disconnect, stop...)."""
        self._block(KIND_EVENT, json.dumps(event_to_json(event)).encode())

    def flush(self, *, fsync: bool = True) -> None:
        """Push buffered blocks to the OS and (by default) to the disk."""
        self._f.flush()
        if fsync:
            os.fsync(self._f.fileno())

    def check_on_disk(self) -> None:
        """Raise ``FileNotFoundError`` if the journal (or its folder) was removed while open.

        Writes to a removed file still succeed on POSIX but reach nothing anyone can read.
        """
        if os.fstat(self._f.fileno()).st_nlink == 0:
            raise FileNotFoundError(errno.ENOENT, "the journal was removed while recording", str(self.path))

    def close(self) -> None:
        """Flush, fsync and close (which releases the lock)."""
        if not self._f.closed:
            try:
                self.flush()
            finally:
                self._f.close()


def _exists_error(path: Path, header: dict[str, Any]) -> CollectError:
    """Why a journal cannot be opened at ``path``: a live recording holds it, or one was interrupted."""
    sid = header.get("session_id", path.stem)
    try:
        with locked(path):
            pass
    except JournalBusy:
        who = read_header(path)
        by = (f" by process {who['pid']} on {who.get('host', '?')}" if isinstance(who, dict) and who.get("pid")
              else "")
        return JournalBusy(f"{path}: session {sid!r} is being recorded now{by}; choose another session id "
                           "(--session), or wait until that recording ends (it finalizes its journal itself)")
    except CollectError:
        pass  # unreadable: say what we know below
    return CollectError(f"{path}: the journal of an interrupted recording of session {sid!r} is in the way; "
                        f"turn it into a raw file with `imuback recover {path}` (it says why if it cannot), "
                        "or choose another session id")


def read_header(path: str | Path) -> dict[str, Any] | None:
    """The header of the journal at ``path`` (None if it cannot be read), without its blocks."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or head[:len(MAGIC)] != MAGIC:
                return None
            (hlen,) = struct.unpack_from("<I", head, len(MAGIC))
            d = json.loads(f.read(hlen))
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold the journal's exclusive lock; :class:`JournalBusy` if a live recorder holds it."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise CollectError(f"{path}: cannot open the journal ({exc})") from exc
    try:
        try:
            _try_lock(f.fileno())
        except BlockingIOError as exc:
            raise JournalBusy(f"{path}: a running recorder is still writing this journal; "
                              "stop that recording first (it finalizes the journal itself)") from exc
        yield
    finally:
        f.close()


@dataclass(frozen=True, slots=True)
class JournalItem:
    """One block: an event dict or a frame batch."""

    event: JournalEvent | None
    frames: FrameBatch | None


@dataclass(frozen=True, slots=True)
class Journal:
    """A journal as read back: header, blocks in order, a torn tail and corrupted bytes."""

    path: Path
    header: dict[str, Any]
    items: tuple[JournalItem, ...]
    torn_bytes: int
    """Bytes of an incomplete last block (a write cut off by a crash): never held a sample."""
    corrupt_bytes: int = 0
    """Bytes that failed their checksum with valid blocks around them: data that was lost."""

    @property
    def events(self) -> list[JournalEvent]:
        """All events in order."""
        return [it.event for it in self.items if it.event is not None]


def _iter_blocks(data: memoryview, start: int) -> Iterator[tuple[int, int, int, memoryview]]:
    """Every block whose CRC holds, in order: (skipped bytes before it, end, kind, body).

    After a block that fails its CRC the reader resynchronises on the next position where a
    whole block with a valid CRC starts (candidates found vectorised: a known kind byte and a
    length that fits), so one flipped byte costs only the block it hit.
    """
    pos, skipped = start, 0
    arr = np.frombuffer(data, dtype=np.uint8)
    while pos + _BLOCK.size <= len(data):
        length, crc, kind = _BLOCK.unpack_from(data, pos)
        body = data[pos + _BLOCK.size: pos + _BLOCK.size + length]
        if kind in (KIND_FRAMES, KIND_EVENT) and len(body) == length and zlib.crc32(body) == crc:
            pos += _BLOCK.size + length
            yield skipped, pos, kind, body
            skipped = 0
            continue
        nxt = _next_block(arr, data, pos + 1)
        if nxt is None:
            return
        skipped += nxt - pos
        pos = nxt


def _next_block(arr: np.ndarray[Any, np.dtype[np.uint8]], data: memoryview, start: int) -> int | None:
    """The first position at or after ``start`` where a block with a valid CRC begins."""
    n = arr.size - _BLOCK.size
    if n < start:
        return None
    cand = start + np.flatnonzero(np.isin(arr[start + 8:n + 8], (KIND_FRAMES, KIND_EVENT)))
    if cand.size == 0:
        return None
    lengths = (arr[cand[:, None] + np.arange(4)].astype(np.int64) << (8 * np.arange(4))).sum(axis=1)
    for p in cand[cand + _BLOCK.size + lengths <= arr.size].tolist():
        length, crc, _ = _BLOCK.unpack_from(data, p)
        if zlib.crc32(data[p + _BLOCK.size: p + _BLOCK.size + length]) == crc:
            return int(p)
    return None


def _event(body: bytes) -> JournalEvent:
    """A journaled event; one with a valid checksum but unreadable content is kept as unknown."""
    try:
        d = json.loads(body)
        return event_from_json(d if isinstance(d, dict) else {"type": "malformed", "value": d})
    except (KeyError, TypeError, ValueError) as exc:
        return UnknownEvent(host_ns=0, type="malformed", data={"error": str(exc)})


def read_journal(path: str | Path) -> Journal:
    """Read a journal, keeping every complete block; raise :class:`CollectError` if it is not one."""
    path = Path(path)
    try:
        data = memoryview(path.read_bytes())
    except OSError as exc:
        raise CollectError(f"{path}: cannot read the journal ({exc})") from exc
    if bytes(data[:len(MAGIC)]) != MAGIC or len(data) < len(MAGIC) + 4:
        raise CollectError(f"{path}: not an imuback journal (bad magic)")
    (hlen,) = struct.unpack_from("<I", data, len(MAGIC))
    hstart = len(MAGIC) + 4
    try:
        header = json.loads(bytes(data[hstart:hstart + hlen]))
    except ValueError as exc:
        raise CollectError(f"{path}: journal header is not JSON ({exc})") from exc
    items: list[JournalItem] = []
    end = hstart + hlen
    corrupt = 0
    for skipped, end, kind, body in _iter_blocks(data, hstart + hlen):  # noqa: B007 - end is used after
        corrupt += skipped
        if kind == KIND_EVENT:
            items.append(JournalItem(_event(bytes(body)), None))
        elif kind == KIND_FRAMES and len(body) >= 4:
            (n,) = struct.unpack_from("<I", body, 0)
            if 4 + 10 * n > len(body):
                continue
            host = np.frombuffer(body, dtype="<i8", count=n, offset=4).astype(np.int64)
            lengths = np.frombuffer(body, dtype="<u2", count=n, offset=4 + 8 * n).astype(np.int64)
            payload = np.frombuffer(body, dtype=np.uint8, offset=4 + 10 * n)
            if int(lengths.sum()) != payload.size:
                continue
            items.append(JournalItem(None, FrameBatch(host_ns=host, lengths=lengths, payload=payload)))
    tail = len(data) - end
    if tail >= _BLOCK.size:  # a last block whose header says it is complete but fails its CRC
        length, _, kind = _BLOCK.unpack_from(data, end)
        if kind in (KIND_FRAMES, KIND_EVENT) and end + _BLOCK.size + length == len(data):
            corrupt, tail = corrupt + tail, 0
    return Journal(path=path, header=header, items=tuple(items), torn_bytes=tail, corrupt_bytes=corrupt)
