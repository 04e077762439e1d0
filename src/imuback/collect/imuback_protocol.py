"""imuback's own BLE protocol for DIY firmware (nRF52840 / ESP32 + a 6-axis IMU).

The firmware author's reference is ``firmware_notes/protocol.md``; this module is the host side.

Data frame (one notification on ``DATA_UUID``), little-endian::

    offset size  field
    0      1     kind: 0xA6 = acc+gyro (6 channels), 0xA3 = acc only (3 channels)
    1      1     k = samples in this frame (1..255)
    2      2     seq: frame counter, +1 per frame, wraps at 65536
    4      4     first_idx: sensor sample counter of the first sample (continues across reconnects)
    8      2*C*k samples, int16 counts: ax ay az [gx gy gz], sample after sample

At ATT MTU 247 a frame holds k = 19 six-axis samples (236 bytes); at MTU 23 it holds one
(20 bytes). Counts become physical units with the scale factors read from ``STATUS_UUID``
(m/s² and deg/s per count), once, here.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from bleak import BleakClient

from imuback.collect.sensor import (
    ALREADY_RECEIVED,
    I64,
    BadFrames,
    CounterBreak,
    Decoded,
    FrameBatch,
    SampleStream,
    StreamInfo,
    StreamSettings,
)
from imuback.errors import ProtocolError

SERVICE_UUID: Final = "f0e10001-7c1a-4d8b-9a52-1b2c3d4e5f60"
CONTROL_UUID: Final = "f0e10002-7c1a-4d8b-9a52-1b2c3d4e5f60"
DATA_UUID: Final = "f0e10003-7c1a-4d8b-9a52-1b2c3d4e5f60"
STATUS_UUID: Final = "f0e10004-7c1a-4d8b-9a52-1b2c3d4e5f60"
NAME_PREFIX: Final = "imuback"

KIND_IMU6: Final = 0xA6
KIND_ACC3: Final = 0xA3
HEADER_BYTES: Final = 8
OP_START: Final = 0x01
OP_STOP: Final = 0x02
FLAG_GYRO: Final = 0x01
FLAG_RESUME: Final = 0x02
RATE_RANGE_HZ: Final = (52.0, 1600.0)
"""The rates START may ask for (firmware_notes/protocol.md, control point)."""
SUPPORTED_RATES_HZ: Final = (52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
"""The IMU's own rates: the sensor picks the nearest to the one asked for and reports it in Status."""


def picked_rate_hz(requested_hz: float) -> float:
    """The rate an imuback sensor streams at when ``requested_hz`` (within :data:`RATE_RANGE_HZ`) is asked
    for: the nearest of :data:`SUPPORTED_RATES_HZ` (protocol.md).
    """
    return min(SUPPORTED_RATES_HZ, key=lambda r: abs(r - requested_hz))


STATUS_STRUCT: Final = struct.Struct("<BBBBfffBBH")
"""version, state, battery %, flags, rate_hz, acc scale (m/s²/count), gyr scale (deg/s/count),
acc range (g), boot id (0 = not reported), gyr range (deg/s): 20 bytes."""
STATE_NAMES: Final = {0: "idle", 1: "streaming", 2: "buffering"}

MAX_JUMP_SLACK_S: Final = 15.0
"""A frame may start at most this much sensor time (+ host time elapsed) after the previous one:
bounds the firmware's backlog buffer (the spec allows up to 10 s) and rejects garbled indices."""


LOOKAHEAD: Final = 4
"""Frames after a jump that are asked whether they continue the jump or what came before it."""

REORDER_FRAMES: Final = 4
"""A frame that arrives up to this many frames late (firmware that reorders its TX queue; BLE itself
delivers one link's notifications in order) is kept in its place whatever else arrives out of order
around it, when its counter and ``seq`` fit exactly into the place it left in the final order."""
MAX_LATE_FRAMES: Final = 64
"""A hole is remembered until a frame this many frames after it arrived: a frame later than
:data:`REORDER_FRAMES` but within this that fits its hole exactly is still placed; a later one
is a bad frame (:data:`TOO_LATE`) and its samples a gap under that reason."""
MAX_HOLES: Final = 32
"""Holes remembered for late frames (bounded state; the oldest is forgotten first)."""
RECENT: Final = 2 * REORDER_FRAMES + 2
"""Frames kept last that are remembered (start, k, seq): one of them again is a re-send."""
TOO_LATE: Final = f"frame fits no hole (over {MAX_LATE_FRAMES} frames late, or a damaged header)"
"""Reason of a frame from before the last one kept (an earlier ``seq``, samples before it) that fits
no remembered hole and whose samples were not all kept already: its samples are not kept, and the
gap they leave carries this reason."""
_RESENT: Final = f"sample counter went backwards ({ALREADY_RECEIVED})"
"""Reason of a re-sent frame (a backlog replay, or the last frame sent twice): nothing lost."""
NOT_RECEIVED_BACK: Final = ("sample counter went backwards to samples never received that fit no remembered "
                             "hole (a damaged header, or a hole forgotten)")
"""Reason of a frame from the past that is neither a re-send (not all its samples were kept) nor a
late or backlog frame in a remembered hole: its place cannot be trusted, so its samples are not kept."""
UNCONFIRMED_JUMP: Final = "sample counter jumped and no frame after it confirms the jump"
"""Reason of a frame whose counter jumps away from the frames before it, with no reboot to explain it
(none without a reconnect, since a reboot drops the link, nor after one when Status gives the same boot
id) and no next frame continuing it: a damaged header, its place unknown, its samples a named loss."""


def samples_per_frame(mtu: int, *, channels: int = 6) -> int:
    """K for a given ATT MTU: the most samples a notification (MTU - 3 bytes) can carry."""
    return max(0, min(255, (mtu - 3 - HEADER_BYTES) // (2 * channels)))


def encode_start(*, rate_hz: int, acc_range_g: int, gyr_range_dps: int, gyro: bool, resume: bool) -> bytes:
    """The 7-byte START command."""
    flags = (FLAG_GYRO if gyro else 0) | (FLAG_RESUME if resume else 0)
    return struct.pack("<BHBHB", OP_START, rate_hz, acc_range_g, gyr_range_dps, flags)


def encode_stop() -> bytes:
    """The 1-byte STOP command."""
    return bytes([OP_STOP])


def parse_status(data: bytes) -> dict[str, float | int | str]:
    """Decode the 20-byte status characteristic; raise :class:`ProtocolError` if malformed."""
    if len(data) < STATUS_STRUCT.size:
        raise ProtocolError(f"imuback status: {len(data)} bytes, expected {STATUS_STRUCT.size} "
                            "(see firmware_notes/protocol.md, Status characteristic)")
    ver, state, batt, flags, rate, acc_s, gyr_s, acc_r, boot, gyr_r = STATUS_STRUCT.unpack_from(data)
    if ver != 1:
        raise ProtocolError(f"imuback status: protocol version {ver} is not supported (expected 1)")
    return {"version": ver, "state": STATE_NAMES.get(state, f"unknown({state})"), "battery_pct": batt,
            "gyro": int(bool(flags & FLAG_GYRO)), "rate_hz": float(rate), "acc_scale": float(acc_s),
            "gyr_scale": float(gyr_s), "acc_range_g": acc_r, "gyr_range_dps": gyr_r, "boot_id": boot}


class ImubackFamily:
    """imuback's own firmware protocol (see module docstring and firmware_notes/)."""

    name = "imuback"
    service_uuid = SERVICE_UUID
    data_uuid = DATA_UUID

    def advertises(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """Advertises our service UUID (or, as a fallback, a name starting with ``imuback``)."""
        return SERVICE_UUID in [u.lower() for u in service_uuids] or (
            local_name is not None and local_name.lower().startswith(NAME_PREFIX))

    async def start(self, client: BleakClient, *, settings: StreamSettings, resume: bool) -> StreamInfo:
        """Write START (resume keeps the sample counter and sends the backlog first), read status."""
        rate = round(settings.rate_hz) if settings.rate_hz else 208
        await client.write_gatt_char(CONTROL_UUID, encode_start(
            rate_hz=rate, acc_range_g=settings.acc_range_g, gyr_range_dps=settings.gyr_range_dps,
            gyro=settings.gyro, resume=resume), response=True)
        st = parse_status(bytes(await client.read_gatt_char(STATUS_UUID)))
        gyro = bool(st["gyro"]) and settings.gyro
        return StreamInfo(family=self.name, rate_hz=float(st["rate_hz"]),
                          acc_range_g=float(st["acc_range_g"]),
                          gyr_range_dps=float(st["gyr_range_dps"]) if gyro else None, gyro=gyro,
                          params={"acc_scale": st["acc_scale"], "gyr_scale": st["gyr_scale"],
                                  "mtu": client.mtu_size, "boot_id": st["boot_id"]})

    async def stop(self, client: BleakClient) -> None:
        """Write STOP."""
        await client.write_gatt_char(CONTROL_UUID, encode_stop(), response=True)

    async def battery_pct(self, client: BleakClient) -> int | None:
        """Battery from the status characteristic."""
        return int(parse_status(bytes(await client.read_gatt_char(STATUS_UUID)))["battery_pct"])

    def decoder(self, info: StreamInfo, *, clock_speedup: float = 1.0) -> ImubackDecoder:
        """A decoder for frames streamed with ``info``."""
        return ImubackDecoder(rate_hz=info.rate_hz, gyro=info.gyro,
                              acc_scale=float(info.params["acc_scale"]),
                              gyr_scale=float(info.params.get("gyr_scale", 0.0)),
                              clock_speedup=clock_speedup)


class ImubackDecoder:
    """Vectorised decoder of imuback data frames (``np.frombuffer`` over many frames at once).

    The u32 ``first_idx`` is unwrapped into an int64 decoder index (``first_idx`` + a segment
    offset), so a counter wrap is just the next frame. State across calls: the end of the last
    accepted frame (decoder index), its ``seq`` and its host receive time.

    Frames that do not continue the last accepted one (counter backwards, or further ahead than
    the host time elapsed allows, or a ``seq`` that contradicts the counter) are checked against
    their neighbours, frames not samples (rare path):

    1. a lone outlier (the next frame continues the last accepted one) is a bad frame: a bit
       error in its header must not throw away what follows;
    2. a backwards jump confirmed by the next frame and no further back than the firmware's
       backlog is a re-send of samples already received: those frames are dropped as duplicates;
    3. any other confirmed jump (a sensor reboot restarts ``first_idx`` at 0; a new boot id in
       Status says so for certain) starts a new counter segment placed by host receive time;
       it is reported as a :class:`CounterBreak` and the gap before it is an estimate. Only a
       possible reboot (a reconnect without the same boot id) or a next frame that continues the
       jump confirms it; else it is a bad frame (:data:`UNCONFIRMED_JUMP`). With no reboot possible,
       a confirmed forward jump the host time allows is a gap at the counter.

    Before these checks, frames that arrived late are put where they land in the final order
    (:func:`_in_order`); a late frame whose place was in an earlier decode call fills the hole
    it left (remembered up to :data:`MAX_LATE_FRAMES` frames; a one-frame hole also by counter alone,
    for a garbled ``seq``, unless its ``seq`` is one just after the last kept frame's: then the counter
    is the garbled field); one whose samples were all kept already is a re-send; any other from the
    past is a :data:`TOO_LATE` bad frame whose samples' place ``BadFrames.sample_idx`` gives. The
    decoder's first frame's ``seq`` counts only once a frame after it agrees.

    A frame is "exactly in place" when its counter is where the frames before it and those its ``seq``
    says are missing (lost or late, each of its size) put it (:func:`_in_place`), so a frame missing
    does not make a garbled counter look right, nor a right one wrong. The decoder's first frame is
    confirmed only by the frames after it: one that overlaps them is a bad frame, and so are both
    frames of a first call of two that overlap (nothing says which is wrong). Limit: one placed a few
    samples early leaves what is exactly a sensor-side drop before the next frame, and is kept.
    """

    def __init__(self, *, rate_hz: float, gyro: bool, acc_scale: float, gyr_scale: float,
                 clock_speedup: float = 1.0) -> None:
        self.channels = 6 if gyro else 3
        self.kind = KIND_IMU6 if gyro else KIND_ACC3
        self.rate_hz = float(rate_hz)
        self.scale = np.array([acc_scale] * 3 + ([gyr_scale] * 3 if gyro else []), dtype=np.float32)
        self.samples_per_host_s = self.rate_hz * clock_speedup
        self.stream_channels = {"imu": self.channels}
        self.replay_window = int(MAX_JUMP_SLACK_S * self.rate_hz) + 256
        self._last_end: int | None = None
        self._last_host: int = 0
        self._last_seq: int = 0
        self._offset: int = 0
        self._restarted = False
        self._seq_unsure = False  # the last kept frame was the decoder's first, its seq not confirmed
        self._rebooted = False
        self._same_boot = False  # reconnected, and Status gave the same boot id: not a reboot
        self._boot_id: int = 0
        self._skipped = 0  # frames rejected by the sequence checks since the last accepted one
        self._skipped_k = 0  # ... and the samples they held
        self._replaying = False  # the last rejected frames were a re-send of received samples
        # holes a late frame may still fill: (start, end) decoder index, seq of the frames around
        self._holes: list[tuple[int, int, int, int]] = []
        self._filled: list[int] = []  # frames of this decode call that filled a remembered hole
        self._placed_bad: dict[int, tuple[int, int]] = {}  # TOO_LATE frames: where their samples belong
        self._recent: deque[tuple[int, int, int]] = deque(maxlen=RECENT)  # frames kept last: (start, k, seq)
        self._kept: list[tuple[int, int]] = []  # decoder-index ranges kept, merged, within replay_window

    def stream_event(self, info: StreamInfo, host_ns: int) -> None:
        """A (re)connect started the stream again: a counter jump here may be a reboot."""
        boot = int(info.params.get("boot_id", 0) or 0)
        self._restarted = self._last_end is not None
        self._rebooted = self._restarted and boot != 0 and self._boot_id != 0 and boot != self._boot_id
        self._same_boot = self._restarted and boot != 0 and boot == self._boot_id  # a reboot ruled out
        self._boot_id = boot or self._boot_id

    def decode(self, batch: FrameBatch) -> Decoded:
        """Decode frames in arrival order; never raises on bad bytes."""
        c = self.channels
        n = batch.n
        if n == 0:
            return Decoded(streams={"imu": SampleStream.empty(c)}, bad=BadFrames.none())
        lengths = batch.lengths
        offsets = batch.offsets
        pay = batch.payload
        # 1. header fields of every frame (frames shorter than a header read as zeros)
        head_ok = lengths >= HEADER_BYTES
        hidx = offsets[head_ok][:, None] + np.arange(HEADER_BYTES)
        head = np.zeros((n, HEADER_BYTES), dtype=np.uint8)
        head[head_ok] = pay[hidx]
        kind = head[:, 0]
        k = head[:, 1].astype(np.int64)
        seq = head[:, 2:4].copy().view("<u2").reshape(n).astype(np.int64)
        first = head[:, 4:8].copy().view("<u4").reshape(n).astype(np.int64)
        # 2. shape checks
        reason = np.full(n, "", dtype=object)
        reason[~head_ok] = "shorter than the 8-byte header"
        reason[(reason == "") & (kind != self.kind)] = "unknown frame kind"
        reason[(reason == "") & ((k == 0) | (lengths != HEADER_BYTES + 2 * c * k))] = "length does not match k"
        # 3. sequence checks -> decoder index of the first sample of every accepted frame
        cand = np.flatnonzero(reason == "")
        cand, moved, resent = _in_order(cand, first[cand], k[cand], seq[cand])
        reason[resent] = _RESENT
        self._filled = []
        self._placed_bad = {}
        accepted, first_v, breaks = self._sequence(cand, first[cand], k[cand], seq[cand],
                                                   batch.host_ns[cand], reason)
        # late: moved back in this batch or into a hole left by an earlier one, and kept
        late = int(np.count_nonzero(np.isin(accepted, np.r_[moved, np.asarray(self._filled, np.int64)])))
        # 4. samples of accepted frames in counter order, grouped by length (one group usually)
        if first_v.size > 1 and np.any(np.diff(first_v) < 0):  # a late frame kept across calls
            o = np.argsort(first_v, kind="stable")
            accepted, first_v = accepted[o], first_v[o]
        streams = {"imu": self._samples(batch, accepted, first_v, k, offsets)}
        bad_i = np.flatnonzero(reason != "")
        at = np.array([self._placed_bad.get(i, (-1, 0)) for i in bad_i.tolist()], np.int64).reshape(-1, 2)
        bad = BadFrames(host_ns=batch.host_ns[bad_i], lengths=lengths[bad_i],
                        reasons=tuple(str(r) for r in reason[bad_i]), sample_idx=at[:, 0], n_samples=at[:, 1])
        return Decoded(streams=streams, bad=bad, breaks=breaks, late_frames=late)

    def _allowance(self, dt_host_ns: I64) -> I64:
        return ((np.maximum(dt_host_ns, 0) / 1e9 * 1.5 + MAX_JUMP_SLACK_S)
                * self.samples_per_host_s).astype(np.int64) + 256

    def _sequence(self, cand: I64, first: I64, k: I64, seq: I64, host: I64, reason: npt.NDArray[np.object_]
                  ) -> tuple[I64, I64, tuple[CounterBreak, ...]]:
        """Accepted frames (indices into the batch), their first decoder index, counter breaks."""
        if cand.size == 0:
            return cand, cand, ()
        # fast path: every frame continues the previous one (wrap-aware), seq agrees
        d = np.empty(cand.size, dtype=np.int64)
        d[1:] = _s32(first[1:] - first[:-1] - k[:-1])
        dseq = np.empty(cand.size, dtype=np.int64)
        dseq[1:] = (seq[1:] - seq[:-1]) % 65536
        if self._last_end is None:
            d[0], dseq[0], base = 0, 1, int(first[0])
        else:
            d[0] = _s32(first[:1] + self._offset - self._last_end)[0]
            dseq[0] = 1 if self._restarted or self._seq_unsure else (int(seq[0]) - self._last_seq) % 65536
            base = self._last_end + int(d[0])
        prev_host = np.empty_like(host)
        prev_host[0] = self._last_host if self._last_end is not None else host[0]
        prev_host[1:] = host[:-1]
        d_seq = d.copy()
        d_seq[0] += self._skipped
        ok = (d >= 0) & (d <= self._allowance(host - prev_host)) & _seq_agrees(dseq, d_seq)
        # frames missing by seq (lost, or late) and a gap that frames of this size do not fill exactly:
        # a garbled counter or a sensor-side drop, judged frame by frame
        ok &= (dseq <= 1) | (d == (dseq - 1) * k) | ((np.arange(k.size) == 0) & (self._skipped > 0))
        if ok.all() and not self._rebooted:
            first_v = np.empty(k.size, dtype=np.int64)
            first_v[0] = 0
            np.cumsum(k[:-1] + d[1:], out=first_v[1:])
            first_v += base
            if self._last_end is None:
                self._hole_before(base, int(seq[0]))
            for i in np.flatnonzero(d > 0).tolist():  # frames after a gap (rare): remember the hole
                self._holes.append((int(first_v[i] - d[i]), int(first_v[i]),
                                    int(seq[i - 1]) if i else self._hole_seq(int(d[0]), int(seq[0])),
                                    int(seq[i])))
            runs = np.r_[0, np.flatnonzero(d[1:] > 0) + 1]  # runs of frames without a gap between them
            ends = np.r_[runs[1:] - 1, k.size - 1]
            for a, b in zip(first_v[runs].tolist(), (first_v[ends] + k[ends]).tolist(), strict=True):
                self._keep(a, b)
            self._offset = base - int(first[0])
            self._recent.extend(zip(first_v[-RECENT:].tolist(), k[-RECENT:].tolist(), seq[-RECENT:].tolist(),
                                    strict=True))
            self._seq_unsure = self._last_end is None and k.size == 1
            self._last_end = int(first_v[-1] + k[-1])
            self._last_host, self._last_seq = int(host[-1]), int(seq[-1])
            self._restarted = self._replaying = False
            self._skipped = self._skipped_k = 0  # both: a stale count would shift the seq a hole remembers
            self._forget_holes()
            return cand, first_v, ()
        return self._sequence_slow(cand, first, k, seq, host, reason)

    def _sequence_slow(self, cand: I64, first: I64, k: I64, seq: I64, host: I64,
                       reason: npt.NDArray[np.object_]) -> tuple[I64, I64, tuple[CounterBreak, ...]]:
        """Frame by frame (a garbled header, a re-send, a reboot): see the class docstring."""
        m = cand.size
        allow = self._allowance

        def follows(end: int, end_host: int, end_seq: int, j: int, *, check_seq: bool = True,
                    skipped: int = 0) -> bool:
            """Frame j continues a frame ending at ``end`` (``skipped`` frames in between)."""
            dj = int(_s32(np.array([int(first[j]) + self._offset - end]))[0])
            ds = (int(seq[j]) - end_seq) % 65536
            return (0 <= dj <= int(allow(np.array([host[j] - end_host]))[0])
                    and (not check_seq or bool(_seq_agrees(np.array([ds]), np.array([dj + skipped]))[0])))

        def old_chain_wins(j: int, end: int, eh: int, es: int, new_end: int) -> bool:
            """True when the frames after jumping frame j (up to LOOKAHEAD) continue what came before.

            Frames that continue exactly vote first: from frame j (j is right), or from the last
            accepted frame with the frames in between counted (j was garbled), or all but j (j does not
            belong here: a frame from the past with a damaged header); "exactly" also counts the frames
            the ``seq`` step says are missing (lost, or late), of frame j's size. On a tie,
            a frame that follows only one of the two chains votes for it. Two adjacent garbled headers
            then cost only their own samples.
            """
            kj = int(k[j])
            between = self._skipped_k  # samples of the frames rejected since the last accepted one
            old_seq = not (self._restarted or self._seq_unsure)  # the last kept seq can be asked

            def dseq(x: int, s: int | None) -> int:
                return 0 if s is None else (int(seq[x]) - s) % 65536  # 0: by counter alone

            es_old = es if old_seq else None
            if _in_place(int(_s32(np.array([new_end - kj - end]))[0]), between, self._skipped, dseq(j, es_old), kj):
                return False  # j is exactly where the frames rejected before it (or missing) put it
            old_votes = new_votes = exact_old = exact_new = 0
            after_j = 0  # samples of the frames between j and x
            for x in range(j + 1, min(m, j + 1 + LOOKAHEAD)):
                between += int(k[x - 1])
                if x > j + 1:
                    after_j += int(k[x - 1])
                at = int(first[x]) + self._offset
                gap_new, gap_old = (int(_s32(np.array([at - e]))[0]) for e in (new_end, end))
                exact_new += int(_in_place(gap_new, after_j, x - j - 1, dseq(x, int(seq[j])), kj) or at == new_end)
                exact_old += int(any(_in_place(gap_old, between - out, self._skipped + x - j - (out > 0),
                                               dseq(x, es_old), kj) for out in (0, kj)))
                new = follows(new_end, int(host[j]), int(seq[j]), x, skipped=x - j - 1)
                old = follows(end, eh, es, x, skipped=self._skipped + x - j)
                new_votes += int(new and not old)
                old_votes += int(old and not new)
            if exact_old != exact_new:
                return exact_old > exact_new
            return old_votes > new_votes

        keep: list[int] = []
        first_v: list[int] = []
        breaks: list[CounterBreak] = []
        for j in range(m):
            nxt, seq_sure = j + 1 < m, False
            fj, kj, hj, sj = int(first[j]), int(k[j]), int(host[j]), int(seq[j])
            if self._last_end is None:  # the decoder's first frame: no history, ask the next ones
                look = range(j + 1, min(m, j + 1 + LOOKAHEAD))  # frames after it (late ones may be among them)
                # per later frame: samples after its end, of the frames in between, and the seq step
                gaps = [(int(_s32(np.array([int(first[x]) - fj - kj]))[0]), int(k[j + 1:x].sum()),
                         (int(seq[x]) - sj) % 65536) for x in look]
                # confirmed by a later frame exactly where it and the frames in between (and those the seq
                # says are missing) put it; else contradicted when none follows it with room for the frames
                # in between and missing (they would overlap it: a sound stream never does that). Then it is
                # a bad frame if two of the frames after it continue each other; and if one frame after it
                # is all this call holds, nothing says which of the two is wrong: both are bad frames
                if (nxt and not any(_in_place(gap, bk, x - j - 1, ds, kj)
                                    for x, (gap, bk, ds) in zip(look, gaps, strict=True))
                        and not any(follows(fj + kj + bk + max(0, ds - 1 - (x - j - 1)) * kj, hj, sj, x,
                                            skipped=x - j - 1)
                                    for x, (_, bk, ds) in zip(look, gaps, strict=True))
                        and (j + 2 == m or any(self._pair(x, first, k, seq, host) for x in look[:-1]))):
                    reason[cand[j]] = "sample counter inconsistent with the frames after it"
                    self._skipped += 1
                    self._skipped_k += kj
                    if j + 2 == m:
                        reason[cand[j + 1]] = "sample counter inconsistent with the neighbouring frames"
                        break
                    continue
                self._offset = 0
                v = fj
                if (j + 2 < m and (int(first[j + 1]) - fj - kj) % 2**32 == 0 and (int(seq[j + 1]) - sj) % 65536 != 1
                        and (int(first[j + 2]) - int(first[j + 1]) - int(k[j + 1])) % 2**32 == 0
                        and (int(seq[j + 2]) - int(seq[j + 1])) % 65536 == 1):
                    sj = (int(seq[j + 1]) - 1) % 65536  # its seq is garbled: the two frames after it agree
                # its seq counts once a later frame is exactly where it and the frames in between put it
                seq_sure = any(_in_place(gap, bk, x - j - 1, (int(seq[x]) - sj) % 65536, kj, seq_too=True)
                               for x, (gap, bk, _) in zip(look, gaps, strict=True))
                self._hole_before(v, sj)
            else:
                end, eh, es = self._last_end, self._last_host, self._last_seq
                v = end + int(_s32(np.array([fj + self._offset - end]))[0])
                # a seq just after the last kept frame's is no late frame's with a garbled seq
                by_counter = self._seq_unsure or not 0 < (sj - es) % 65536 <= 2 * REORDER_FRAMES
                if not self._rebooted and v + kj <= end and self._fill_hole(v, kj, sj, any_seq=self._restarted,
                                                                            by_counter=by_counter):
                    self._filled.append(int(cand[j]))
                    self._recent.append((v, kj, sj))
                    self._keep(v, v + kj)
                    keep.append(j)  # a late frame, exactly in the hole it left: kept in its place
                    first_v.append(v)
                    continue
                if not self._rebooted and v + kj <= end and (v, kj, sj) in self._recent:
                    reason[cand[j]] = _RESENT  # a frame kept a moment ago again (same counter and seq)
                    continue
                if (not self._rebooted and v + kj <= end and 0 < (self._last_seq - sj) % 65536 < 32768
                        and self._was_kept(v, kj)):
                    reason[cand[j]] = _RESENT  # every sample of it already kept: a re-send, nothing lost
                    continue
                if (not self._rebooted and not self._restarted and v + kj <= end
                        and 0 < (self._last_seq - sj) % 65536 < 32768
                        and not (nxt and (int(first[j + 1]) - fj - kj) % 2**32 == 0
                                 and (int(seq[j + 1]) - sj) % 65536 == 1)):
                    # from the past and its hole forgotten (not a reboot: the next frame does not continue it)
                    reason[cand[j]] = TOO_LATE
                    self._placed_bad[int(cand[j])] = (v, kj)
                    continue
                in_place = not self._rebooted and v == end + self._skipped_k  # where the frames before put it
                want = (es + self._skipped + 1) % 65536  # the seq that place calls for
                if (in_place and sj != want and not self._restarted and nxt and int(first[j + 1]) == fj
                        and int(seq[j + 1]) == want):
                    # the next frame claims the same place with the seq it calls for: that one is right
                    reason[cand[j]] = "sample counter inconsistent with the neighbouring frames"
                    self._skipped += 1
                    self._skipped_k += kj
                    continue
                if in_place and (self._restarted or self._seq_unsure or sj == want or not nxt
                                 or (int(first[j + 1]) - fj - kj) % 2**32 == 0):
                    pass  # exactly where the frames before it put it, and its seq or the next frame agrees
                elif not self._rebooted and follows(end, eh, es, j, check_seq=not (self._restarted or self._seq_unsure),
                                                    skipped=self._skipped):
                    if v != end and nxt and old_chain_wins(j, end, eh, es, v + kj):
                        reason[cand[j]] = "sample counter inconsistent with the neighbouring frames"
                        self._skipped += 1
                        self._skipped_k += kj
                        continue
                elif self._replaying and v < end:
                    reason[cand[j]] = _RESENT if self._was_kept(v, kj) else NOT_RECEIVED_BACK
                    self._skipped += 1
                    self._skipped_k += kj
                    continue
                elif not self._rebooted and nxt and follows(end, eh, es, j + 1, skipped=self._skipped + 1,
                                                            check_seq=not (self._restarted or self._seq_unsure)):
                    reason[cand[j]] = "sample counter inconsistent with the neighbouring frames"
                    self._skipped += 1
                    self._skipped_k += kj
                    continue
                elif not self._rebooted and nxt and not follows(v + kj, hj, sj, j + 1):
                    reason[cand[j]] = "sample counter inconsistent with the neighbouring frames"
                    self._skipped += 1
                    self._skipped_k += kj
                    continue
                elif not self._rebooted and v < end and end - v <= self.replay_window:
                    reason[cand[j]] = _RESENT if self._was_kept(v, kj) else NOT_RECEIVED_BACK
                    self._skipped += 1
                    self._skipped_k += kj
                    self._replaying = True
                    continue
                elif not self._rebooted and nxt and old_chain_wins(j, end, eh, es, v + kj):
                    reason[cand[j]] = "sample counter inconsistent with the frames after it"
                    self._skipped += 1
                    self._skipped_k += kj
                    continue
                elif not self._rebooted and not nxt and v > end and follows(end, eh, es, j, check_seq=False):
                    # the call's last frame, a short counter jump and a seq that contradicts it, nothing
                    # after it to ask: its counter is trusted, its seq is the one the jump implies
                    sj = (es + self._skipped + 1 + -(-(v - end - self._skipped_k) // kj)) % 65536
                elif not (self._rebooted or (self._restarted and not self._same_boot)
                          or (nxt and _continues(j, first, k, seq))):
                    # a jump no reboot explains and no frame after it confirms: where its samples
                    # belong is unknown, so they are a named loss, never placed by a guess
                    reason[cand[j]] = UNCONFIRMED_JUMP
                    self._skipped += 1
                    self._skipped_k += kj
                    continue
                elif (not self._rebooted and (not self._restarted or self._same_boot) and v >= end
                      and v - end <= int(allow(np.array([hj - eh]))[0])):
                    pass  # no reboot: the counter, confirmed by the next frame, is a gap
                else:  # confirmed discontinuity: a new counter segment placed by host time
                    placed = end + max(0, round((hj - eh) / 1e9 * self.samples_per_host_s) - kj)
                    why = ("sensor rebooted (new boot id)" if self._rebooted
                           else f"sensor counter went back {end - v} samples (reboot?)" if v < end
                           else f"sensor counter jumped {v - end} samples")
                    breaks.append(CounterBreak(stream="imu", sample_idx=placed, host_ns=hj,
                                               reason=why + "; samples lost estimated from host receive time"))
                    self._offset += placed - v
                    v = placed
            keep.append(j)
            first_v.append(v)
            was_first = self._last_end is None
            if (self._last_end is not None and v == self._last_end + self._skipped_k
                    and not (self._seq_unsure and (not nxt or follows(v + kj, hj, sj, j + 1)))):
                # exactly where the rejected frames before it put it: its counter is right, and
                # the seq that the next frames are checked against is the one it should carry
                sj = (self._last_seq + self._skipped + 1) % 65536
            if self._last_end is not None and v > self._last_end:
                self._holes.append((self._last_end, v, self._hole_seq(v - self._last_end, sj), sj))
            self._recent.append((v, kj, int(seq[j])))
            self._keep(v, v + kj)
            self._last_end, self._last_host, self._last_seq = v + kj, hj, sj
            self._forget_holes()
            self._seq_unsure = was_first and not seq_sure
            self._restarted = self._rebooted = self._replaying = False
            self._skipped = 0
            self._skipped_k = 0
        ki = np.asarray(keep, dtype=np.int64)
        return cand[ki], np.asarray(first_v, dtype=np.int64), tuple(breaks)

    def _fill_hole(self, v: int, k: int, seq: int, *, any_seq: bool = False, by_counter: bool = True) -> bool:
        """Take the part of a remembered hole that frame ``[v, v + k)`` fills (True), else False.

        The frame must lie inside the hole and its ``seq`` between those of the frames around it, or
        (``by_counter``) fill a one-frame hole exactly (its counter fits both neighbours: a garbled ``seq`` only), or,
        with ``any_seq`` (just after a reconnect: the firmware's backlog, which it may frame afresh with
        new ``seq`` numbers), lie inside the hole whatever its ``seq``.
        """
        for h, (a, b, s0, s1) in enumerate(self._holes):
            exact = by_counter and a == v and v + k == b and (s1 - s0) % 65536 == 2
            between = 0 < (seq - s0) % 65536 < (s1 - s0) % 65536
            if a <= v and v + k <= b and (exact or between or any_seq):
                sa, sb = (seq, seq) if between else (s0, s1)  # a seq from elsewhere bounds nothing
                parts = [(lo, hi, x, y) for lo, hi, x, y in ((a, v, s0, sa), (v + k, b, sb, s1)) if hi > lo]
                self._holes[h:h + 1] = parts
                return True
        return False

    def _hole_seq(self, gap: int, seq_after: int) -> int:
        """``seq`` of the frame before a hole of ``gap`` samples: the last kept one's, or, when that was
        the decoder's first frame and its ``seq`` unconfirmed, the earliest the frame after allows.
        """
        return (seq_after - 1 - gap) % 65536 if self._seq_unsure else self._last_seq

    def _keep(self, a: int, b: int) -> None:
        """Samples ``[a, b)`` were kept: merge into the kept ranges, forget those a re-send cannot reach."""
        kept = self._kept
        if kept and kept[-1][0] <= a <= kept[-1][1]:
            kept[-1] = (kept[-1][0], max(kept[-1][1], b))
        else:
            kept.append((a, b))
            kept.sort()
            merged: list[tuple[int, int]] = []
            for lo, hi in kept:
                if merged and lo <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
                else:
                    merged.append((lo, hi))
            kept[:] = merged
        horizon = kept[-1][1] - self.replay_window
        self._kept = [r for r in kept if r[1] > horizon][-4 * MAX_HOLES:]

    def _was_kept(self, v: int, k: int) -> bool:
        """Every sample of ``[v, v + k)`` was kept already (a re-send)."""
        return any(lo <= v and v + k <= hi for lo, hi in self._kept)

    def _hole_before(self, v: int, seq: int) -> None:
        """The decoder's first frame starts at ``v``: frames sent before it may still arrive late."""
        self._holes.append((v - (REORDER_FRAMES + 1) * 255, v, (seq - REORDER_FRAMES - 1) % 65536, seq))

    def _forget_holes(self) -> None:
        """Keep the holes a frame at most ``MAX_LATE_FRAMES`` late could still fill."""
        last = self._last_seq
        self._holes = [h for h in self._holes if (last - h[3]) % 65536 < MAX_LATE_FRAMES][-MAX_HOLES:]

    def _pair(self, a: int, first: I64, k: I64, seq: I64, host: I64) -> bool:
        """Frame ``b = a + 1`` continues frame ``a`` (used before any frame was accepted)."""
        b = a + 1
        d = int(_s32(np.array([int(first[b]) - int(first[a]) - int(k[a])]))[0])
        ds = (int(seq[b]) - int(seq[a])) % 65536
        return (0 <= d <= int(self._allowance(np.array([host[b] - host[a]]))[0])
                and bool(_seq_agrees(np.array([ds]), np.array([d]))[0]))

    def _samples(self, batch: FrameBatch, acc: I64, first_v: I64, k: I64, offsets: I64) -> SampleStream:
        c = self.channels
        if acc.size == 0:
            return SampleStream.empty(c)
        ka = k[acc]
        out_start = np.zeros(acc.size, dtype=np.int64)
        np.cumsum(ka[:-1], out=out_start[1:])
        m = int(ka.sum())
        counts = np.empty((m, c), dtype=np.int16)
        lengths = batch.lengths[acc]
        if acc.size == batch.n and np.all(lengths == lengths[0]):
            # fast path: every frame accepted and equally long -> one zero-copy reshape
            rows = batch.payload.reshape(batch.n, int(lengths[0]))
            if np.any(np.diff(acc) < 0):  # a late frame moved back into its place
                rows = rows[acc]
            counts[:] = rows[:, HEADER_BYTES:].copy().view("<i2").reshape(m, c)
        else:
            for length in np.unique(lengths):
                g = np.flatnonzero(lengths == length)
                kk = int(ka[g[0]])
                rows = batch.payload[offsets[acc[g]][:, None] + np.arange(HEADER_BYTES, int(length))]
                dest = (out_start[g][:, None] + np.arange(kk)).reshape(-1)
                counts[dest] = rows.view("<i2").reshape(g.size * kk, c)
        frame_idx = np.repeat(np.arange(acc.size, dtype=np.int64), ka)
        idx = np.repeat(first_v - out_start, ka) + np.arange(m, dtype=np.int64)
        t_ns = np.round(idx * (1e9 / self.rate_hz)).astype(np.int64)
        last_idx = first_v + ka - 1
        return SampleStream(sample_idx=idx, t_sensor_ns=t_ns,
                            values=counts.astype(np.float32) * self.scale,
                            frame_host_ns=batch.host_ns[acc],
                            frame_t_last_ns=np.round(last_idx * (1e9 / self.rate_hz)).astype(np.int64),
                            frame_idx=frame_idx)


def _in_order(cand: I64, first: I64, k: I64, seq: I64) -> tuple[I64, I64, I64]:
    """``cand`` in its final order, the late frames moved back, and the exact re-sends taken out.

    Returns (frames in final order, the moved ones, the re-sends). A frame is a candidate when it
    arrives shortly after a frame with a ``seq`` at most ``2 * REORDER_FRAMES`` ahead of its own (or
    the same). It is moved back over at most :data:`REORDER_FRAMES` frames to where it lands in the
    final order: its ``seq`` just after its new first neighbour's and just before the second's *in the
    final order built so far* (so a late frame after a late frame, or two late at once, is placed by
    where the others already went), and its samples after the first neighbour's, before the
    second's. A frame with the ``seq``, counter and length of the one it would follow is a re-send.
    Anything else (a garbled header, a frame later than the window) stays where it came, for
    :meth:`ImubackDecoder._sequence` to judge. Every comparison is between nearby frames (wrap-aware
    differences), so one garbled ``seq`` or counter moves nothing else. Vectorised test; the
    per-frame work runs only for frames that arrived behind another.
    """
    none = np.zeros(0, dtype=np.int64)
    m = cand.size
    near = 2 * REORDER_FRAMES
    behind = np.zeros(m, dtype=bool)
    for lag in range(1, min(m, near + 1)):
        ahead = (seq[:-lag] - seq[lag:]) % 65536  # frame i - lag's seq ahead of frame i's
        behind[lag:] |= ahead <= near
    if not behind.any():
        return cand, none, none
    order = list(range(m))  # final order (arrival positions); order[at:] is still arange(i, m)
    moved: list[int] = []
    resent: list[int] = []
    fi: list[int] = first.tolist()
    ki: list[int] = k.tolist()
    si: list[int] = seq.tolist()

    def seq_after(a: int, b: int) -> int:
        """How far frame a's seq is after frame b's (wrap-aware, signed)."""
        return (si[a] - si[b] + 32768) % 65536 - 32768

    def room(a: int, b: int) -> bool:
        """Frame a's samples end before frame b's start (wrap-aware)."""
        return 0 <= (fi[b] - fi[a]) % 2**32 - ki[a] < 2**31
    for i in np.flatnonzero(behind).tolist():
        at = i - len(resent)  # where frame i is now: every frame before it is placed, re-sends out
        for q in range(at - 1, max(0, at - REORDER_FRAMES) - 1, -1):  # insert frame i before order[q]?
            nxt, prv = order[q], order[q - 1] if q > 0 else -1
            if not -near <= seq_after(i, nxt) < 0:
                break
            d_prv = seq_after(i, prv) if prv >= 0 else 1
            if d_prv == 0 and fi[prv] == fi[i] and ki[prv] == ki[i]:
                del order[at]
                resent.append(i)
                break
            if -near <= d_prv < 0:
                continue
            if 0 < d_prv <= near and room(i, nxt) and (prv < 0 or room(prv, i)):
                del order[at]
                order.insert(q, i)
                moved.append(i)
            break
    o = np.asarray(order, dtype=np.int64)
    return cand[o], cand[np.asarray(moved, dtype=np.int64)], cand[np.asarray(resent, dtype=np.int64)]


def _continues(j: int, first: I64, k: I64, seq: I64) -> bool:
    """Frame ``j + 1`` starts exactly where frame ``j`` ends, its ``seq`` one on (wrap-aware)."""
    return (int(first[j + 1]) - int(first[j]) - int(k[j])) % 2**32 == 0 and (int(seq[j + 1]) - int(seq[j])) % 65536 == 1


def _in_place(gap: int, between_k: int, n_between: int, dseq: int, k_missing: int, *, seq_too: bool = False
              ) -> bool:
    """A frame ``gap`` samples after the end of an earlier one is exactly where the ``n_between`` frames
    in between (``between_k`` samples) and the frames its ``seq`` step ``dseq`` says are missing put it
    (``dseq - 1 - n_between`` of them, ``k_missing`` samples each: lost, or late). A step that a few
    missing frames do not explain (too small, or far too large) is a garbled ``seq``: then the frames
    in between alone decide, unless ``seq_too``.
    """
    missing = dseq - 1 - n_between
    if missing >= 0 and gap == between_k + missing * k_missing:
        return True
    return not seq_too and gap == between_k and not 0 < missing <= 2 * REORDER_FRAMES


def _s32(x: I64) -> I64:
    """Wrap-aware difference of u32 counters: ``x`` mod 2**32 as a signed 32-bit number."""
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32) - 2**31


def _seq_agrees(dseq: I64, jump: I64) -> npt.NDArray[np.bool_]:
    """``seq`` advanced (mod 2**16) by 1 plus at most one frame per missing sample."""
    return (dseq >= 1) & ((dseq <= jump + 1) | (jump >= 65535))
