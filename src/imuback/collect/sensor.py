"""The one small interface every sensor family implements, and the arrays that cross it.

A sensor family (imuback's own firmware, Polar PMD, later Movesense or WitMotion) is one module
with one class that satisfies :class:`SensorFamily`: how to recognise it in a scan, how to start
and stop its stream with bleak, and a :class:`FrameDecoder` that turns received notification
bytes into samples in physical units. Everything else (journal, reconnect, gaps, time base,
Parquet) is shared and knows nothing about any family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
from bleak import BleakClient

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


VOLATILE_PARAMS = frozenset({"mtu", "boot_id"})
"""StreamInfo params that may differ between connections of one stream (not decoder identity)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSettings:
    """What the collector asks a sensor for; the sensor answers with a :class:`StreamInfo`.

    Attributes
    ----------
    rate_hz : wanted output data rate, or None for the family's default.
    acc_range_g : wanted accelerometer full scale (g). Running impacts reach 8-12 g at the sacrum.
    gyr_range_dps : wanted gyroscope full scale (deg/s).
    gyro : stream the gyroscope too.
    """

    rate_hz: float | None = None
    acc_range_g: int = 16
    gyr_range_dps: int = 2000
    gyro: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamInfo:
    """What the sensor agreed to stream (journaled as JSON; enough to decode the frames).

    Attributes
    ----------
    family : sensor family name (``"imuback"``, ``"polar"``).
    rate_hz : nominal output data rate (Hz) of every stream.
    acc_range_g, gyr_range_dps : full scales in force (gyr None without gyro).
    gyro : gyroscope streamed.
    params : family-specific decoding parameters (scale factors, frame types), JSON-able.
    """

    family: str
    rate_hz: float
    acc_range_g: float
    gyr_range_dps: float | None
    gyro: bool
    params: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """What decides whether frames need a new decoder: everything but per-connection values.

        The ATT MTU (frame size) and the firmware boot id change on a reconnect without changing
        how frames decode; a reboot is handled by the decoder's :meth:`FrameDecoder.stream_event`.
        """
        d = self.to_json()
        d["params"] = {k: v for k, v in self.params.items() if k not in VOLATILE_PARAMS}
        return d

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for the journal)."""
        return {"family": self.family, "rate_hz": self.rate_hz, "acc_range_g": self.acc_range_g,
                "gyr_range_dps": self.gyr_range_dps, "gyro": self.gyro, "params": self.params}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StreamInfo:
        """Inverse of :meth:`to_json`."""
        return cls(family=str(d["family"]), rate_hz=float(d["rate_hz"]),
                   acc_range_g=float(d["acc_range_g"]),
                   gyr_range_dps=None if d.get("gyr_range_dps") is None else float(d["gyr_range_dps"]),
                   gyro=bool(d["gyro"]), params=dict(d.get("params", {})))


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameBatch:
    """Notification payloads in arrival order, concatenated, with their host receive times.

    Attributes
    ----------
    host_ns : (F,) int64, host monotonic clock (ns) when each notification arrived.
    lengths : (F,) int64 byte length of each notification.
    payload : (sum(lengths),) uint8, all notifications back to back.
    """

    host_ns: I64
    lengths: I64
    payload: U8

    @classmethod
    def from_frames(cls, frames: Sequence[bytes], host_ns: Sequence[int] | I64) -> FrameBatch:
        """Build a batch from individual notifications."""
        return cls(host_ns=np.asarray(host_ns, dtype=np.int64).reshape(-1),
                   lengths=np.fromiter((len(f) for f in frames), dtype=np.int64, count=len(frames)),
                   payload=np.frombuffer(b"".join(frames), dtype=np.uint8))

    @classmethod
    def concat(cls, batches: Sequence[FrameBatch]) -> FrameBatch:
        """Join batches in order."""
        if not batches:
            return cls.empty()
        return cls(host_ns=np.concatenate([b.host_ns for b in batches]),
                   lengths=np.concatenate([b.lengths for b in batches]),
                   payload=np.concatenate([b.payload for b in batches]))

    @classmethod
    def empty(cls) -> FrameBatch:
        """No frames."""
        return cls(host_ns=np.zeros(0, np.int64), lengths=np.zeros(0, np.int64),
                   payload=np.zeros(0, np.uint8))

    @property
    def n(self) -> int:
        """Number of frames."""
        return int(self.lengths.shape[0])

    @property
    def offsets(self) -> I64:
        """(F,) start of each frame in ``payload``."""
        out = np.zeros(self.n, dtype=np.int64)
        np.cumsum(self.lengths[:-1], out=out[1:])
        return out

    def frame(self, i: int) -> bytes:
        """Bytes of frame ``i`` (for the rare per-frame path and for tests)."""
        o = int(self.offsets[i])
        return self.payload[o:o + int(self.lengths[i])].tobytes()


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleStream:
    """Decoded samples of one sensor stream (``imu`` = acc+gyr, or ``acc``, ``gyr``).

    Attributes
    ----------
    sample_idx : (M,) int64 sensor sample counter; +1 per sample, jumps where samples were lost.
    t_sensor_ns : (M,) int64 sample time on the SENSOR clock (ns, arbitrary origin).
    values : (M, C) float32 in physical units: acc m/s², gyr deg/s, sensor frame; ``imu`` has
        columns acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z.
    frame_host_ns : (F,) int64 host receive time of each accepted frame.
    frame_t_last_ns : (F,) int64 sensor time of the last sample of each accepted frame.
    frame_idx : (M,) int64 index into the frame arrays of the frame each sample came in.
    """

    sample_idx: I64
    t_sensor_ns: I64
    values: F32
    frame_host_ns: I64
    frame_t_last_ns: I64
    frame_idx: I64

    @classmethod
    def empty(cls, channels: int) -> SampleStream:
        """A typed empty stream."""
        z = np.zeros(0, np.int64)
        return cls(sample_idx=z, t_sensor_ns=z, values=np.zeros((0, channels), np.float32),
                   frame_host_ns=z, frame_t_last_ns=z, frame_idx=z)

    def select(self, keep: npt.NDArray[np.bool_]) -> SampleStream:
        """The samples where ``keep`` (M,) is true; the frame arrays stay as they are."""
        return SampleStream(sample_idx=self.sample_idx[keep], t_sensor_ns=self.t_sensor_ns[keep],
                            values=self.values[keep], frame_host_ns=self.frame_host_ns,
                            frame_t_last_ns=self.frame_t_last_ns, frame_idx=self.frame_idx[keep])

    def in_sample_order(self) -> SampleStream:
        """The samples sorted by ``sample_idx`` (stable); the frame arrays stay as they are."""
        if self.n < 2 or bool(np.all(np.diff(self.sample_idx) > 0)):
            return self
        o = np.argsort(self.sample_idx, kind="stable")
        return SampleStream(sample_idx=self.sample_idx[o], t_sensor_ns=self.t_sensor_ns[o],
                            values=self.values[o], frame_host_ns=self.frame_host_ns,
                            frame_t_last_ns=self.frame_t_last_ns, frame_idx=self.frame_idx[o])

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.sample_idx.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[SampleStream], channels: int) -> SampleStream:
        """Join streams in order."""
        parts = [p for p in parts if p.n or p.frame_host_ns.size]
        if not parts:
            return cls.empty(channels)
        frame_base = np.cumsum([0] + [p.frame_host_ns.size for p in parts[:-1]])
        return cls(sample_idx=np.concatenate([p.sample_idx for p in parts]),
                   t_sensor_ns=np.concatenate([p.t_sensor_ns for p in parts]),
                   values=np.concatenate([p.values for p in parts]),
                   frame_host_ns=np.concatenate([p.frame_host_ns for p in parts]),
                   frame_t_last_ns=np.concatenate([p.frame_t_last_ns for p in parts]),
                   frame_idx=np.concatenate([p.frame_idx + int(b) for p, b in zip(parts, frame_base,
                                                                                   strict=True)]))


@dataclass(frozen=True, slots=True, kw_only=True)
class BadFrames:
    """Frames that were rejected: counted and logged, never fatal.

    Attributes
    ----------
    host_ns : (B,) int64 host receive times.
    lengths : (B,) int64 byte lengths.
    reasons : (B,) reason strings (``"length"``, ``"kind"``, ``"index went backwards"``...).
    sample_idx : (B,) int64 decoder sample index where a frame's samples belong when the decoder
        knows it (a frame that came too late to be placed), else -1; None: unknown for all.
    n_samples : (B,) int64 samples in those frames (0 where ``sample_idx`` is -1); None with it.
    """

    host_ns: I64
    lengths: I64
    reasons: tuple[str, ...]
    sample_idx: I64 | None = None
    n_samples: I64 | None = None

    def positions(self) -> tuple[I64, I64]:
        """(B,) ``sample_idx`` (-1: unknown) and (B,) ``n_samples`` of every bad frame."""
        if self.sample_idx is None or self.n_samples is None:
            return np.full(self.n, -1, np.int64), np.zeros(self.n, np.int64)
        return self.sample_idx, self.n_samples

    @classmethod
    def none(cls) -> BadFrames:
        """No bad frames."""
        return cls(host_ns=np.zeros(0, np.int64), lengths=np.zeros(0, np.int64), reasons=())

    @property
    def n(self) -> int:
        """Number of bad frames."""
        return len(self.reasons)

    @classmethod
    def concat(cls, parts: Sequence[BadFrames]) -> BadFrames:
        """Join in order."""
        parts = [p for p in parts if p.n]
        if not parts:
            return cls.none()
        pos = [p.positions() for p in parts]
        return cls(host_ns=np.concatenate([p.host_ns for p in parts]),
                   lengths=np.concatenate([p.lengths for p in parts]),
                   reasons=tuple(r for p in parts for r in p.reasons),
                   sample_idx=np.concatenate([a for a, _ in pos]), n_samples=np.concatenate([b for _, b in pos]))


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterBreak:
    """The sensor counter restarted (reboot) or jumped beyond belief; a new segment begins.

    Attributes
    ----------
    stream : stream name (``imu``).
    sample_idx : decoder sample index given to the first sample of the new segment (placed by
        host receive time, so the gap before it is an estimate, not a count).
    host_ns : host receive time of the first frame of the new segment.
    reason : in words, for the gap log.
    """

    stream: str
    sample_idx: int
    host_ns: int
    reason: str


ALREADY_RECEIVED: Final = "samples already received"
"""In a bad frame's reason: the frame was a re-send, every sample in it is already kept (not damage)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """What a decoder made of one :class:`FrameBatch`."""

    streams: dict[str, SampleStream]
    bad: BadFrames
    breaks: tuple[CounterBreak, ...] = ()
    late_frames: int = 0
    """Frames that arrived after later ones (reordering firmware) and were kept in their place."""


class FrameDecoder(Protocol):
    """Turns notification bytes into samples. Stateful across calls (frames arrive in order).

    Must never raise on any byte string: a frame it cannot use goes to ``Decoded.bad``.
    """

    stream_channels: dict[str, int]
    """Stream name -> number of value columns, e.g. ``{"imu": 6}`` or ``{"acc": 3, "gyr": 3}``."""

    def decode(self, batch: FrameBatch) -> Decoded:
        """Decode the next frames in arrival order."""
        ...

    def stream_event(self, info: StreamInfo, host_ns: int) -> None:
        """The stream was (re)started on a new connection with ``info`` (same identity)."""
        ...


class SensorFamily(Protocol):
    """One sensor family: discovery, stream control over bleak, and its decoder."""

    name: str
    """Family name written to the raw file's ``imuback.sensor`` (with the model if known)."""
    service_uuid: str
    data_uuid: str
    """The characteristic whose notifications carry the samples."""

    def advertises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """True when an advertisement looks like this family."""
        ...

    async def start(self, client: BleakClient, *, settings: StreamSettings, resume: bool) -> StreamInfo:
        """Configure and start streaming (``resume``: continue the session after a reconnect)."""
        ...

    async def stop(self, client: BleakClient) -> None:
        """Stop streaming (best effort)."""
        ...

    async def battery_pct(self, client: BleakClient) -> int | None:
        """Battery level (%) if the sensor reports one."""
        ...

    def decoder(self, info: StreamInfo, *, clock_speedup: float = 1.0) -> FrameDecoder:
        """A fresh decoder for a stream started with ``info``."""
        ...
