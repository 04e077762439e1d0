"""What a running recording shows: the status line and the live counts behind it."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from imuback.collect.sensor import ALREADY_RECEIVED, FrameBatch, FrameDecoder, SensorFamily, StreamInfo


@dataclass(slots=True, kw_only=True)
class RecordStatus:
    """Live numbers for the status line (sensor samples, not radio packets)."""

    elapsed_s: float = 0.0
    samples: int = 0
    rate_hz: float | None = None
    """The sensor's sample rate (what it agreed to stream)."""
    receiving: bool = False
    """Samples arrived in the last few seconds."""
    packets: int = 0
    packets_lost: int = 0
    samples_lost: int = 0
    bad_frames: int = 0
    """Damaged frames (re-sends are ``resent_frames``)."""
    resent_frames: int = 0
    battery_pct: int | None = None
    connected: bool = False
    stopped: bool = False
    reconnects: int = 0

    def line(self) -> str:
        """One status line in a runner's words: time, state, sensor rate, samples, missing, battery."""
        m, s = minutes_seconds(self.elapsed_s)
        batt = "?" if self.battery_pct is None else f"{self.battery_pct}%"
        state = ("stopped" if self.stopped else "recording" if self.connected and self.receiving
                 else "waiting for data" if self.connected else "connecting")
        rate = "" if self.rate_hz is None else f" at {self.rate_hz:g} Hz"
        return (f"{m:02d}:{s:02d}  {state}{rate}  {self.samples} samples, "
                f"{self.samples_lost} missing ({self.packets_lost} gaps), {self.bad_frames} damaged packets, "
                + (f"{self.resent_frames} re-sent packets (samples already kept), " if self.resent_frames else "")
                + f"battery {batt}, reconnects {self.reconnects}")


def minutes_seconds(seconds: float) -> tuple[int, int]:
    """Whole minutes and seconds (rounded) of a length: the status line's clock and the summaries'."""
    return divmod(round(seconds), 60)


class LiveStats:
    """Decodes each drained batch (vectorised) only to count samples and losses for the status."""

    def __init__(self) -> None:
        self.decoder: FrameDecoder | None = None
        self.info: StreamInfo | None = None
        self.first_idx: int | None = None
        self.last_idx: int | None = None  # the highest sample index received
        self.first_host_ns: int | None = None
        """Host monotonic receive time of the first frame: where the recording's clock starts."""
        # recent holes in the sample counter: [lo, hi) and samples still missing (late frames fill them)
        self._hole_lo = np.zeros(0, np.int64)
        self._hole_hi = np.zeros(0, np.int64)
        self._hole_left = np.zeros(0, np.int64)
        self._old_gaps = 0  # holes forgotten while still open
        self._base = (0, 0, 0)  # samples, lost, gaps counted under earlier decoders
        self.status = RecordStatus()
        self._window: deque[tuple[float, int]] = deque([(time.monotonic(), 0)])

    def set_stream(self, family: SensorFamily, info: StreamInfo, speedup: float, host_ns: int) -> None:
        """A stream (re)started with ``info``: keep the decoder unless its identity changed."""
        if self.decoder is None or self.info is None or info.identity() != self.info.identity():
            self.decoder = family.decoder(info, clock_speedup=speedup)
            self._new_counter()
        self.info = info
        self.status.rate_hz = info.rate_hz
        self.decoder.stream_event(info, host_ns)

    def _new_counter(self) -> None:
        """A new decoder numbers samples afresh: what was counted so far is kept as a base."""
        self._base = (self.status.samples, self.status.samples_lost, self.status.packets_lost)
        self.first_idx = self.last_idx = None
        self._hole_lo, self._hole_hi, self._hole_left = (np.zeros(0, np.int64) for _ in range(3))
        self._old_gaps = 0

    def feed(self, host_ns: list[int], frames: list[bytes]) -> None:
        """Count the samples and the gaps in frames just journaled."""
        st = self.status
        st.packets += len(frames)
        if self.first_host_ns is None and host_ns:
            self.first_host_ns = host_ns[0]
        if self.decoder is None or not frames:
            return
        out = self.decoder.decode(FrameBatch.from_frames(frames, host_ns))
        resent = sum(ALREADY_RECEIVED in r for r in out.bad.reasons)
        st.resent_frames += resent
        st.bad_frames += out.bad.n - resent
        name = "imu" if "imu" in out.streams else "acc"
        idx = out.streams[name].sample_idx
        if idx.size:
            if self.first_idx is None or self.last_idx is None:
                self.first_idx = self.last_idx = int(idx[0]) - 1
            prev = self.last_idx
            late, new = idx[idx <= prev], idx[idx > prev]
            if late.size:  # a late frame (kept in its place by the decoder) fills part of a hole
                late = np.sort(late)
                self._hole_left -= (np.searchsorted(late, self._hole_hi)
                                    - np.searchsorted(late, self._hole_lo))
            d = np.diff(np.r_[prev, new])
            g = np.flatnonzero(d > 1)
            hi = new[g]
            self._hole_lo = np.r_[self._hole_lo, hi - d[g] + 1]
            self._hole_hi = np.r_[self._hole_hi, hi]
            self._hole_left = np.r_[self._hole_left, d[g] - 1]
            if self._hole_lo.size > 64:  # bounded: the oldest holes are counted, no longer filled
                self._old_gaps += int(np.count_nonzero(self._hole_left[:-64] > 0))
                self._hole_lo, self._hole_hi, self._hole_left = (
                    a[-64:] for a in (self._hole_lo, self._hole_hi, self._hole_left))
            self.last_idx = max(prev, int(idx.max()))
            st.samples += int(idx.size)
            n0, lost0, gaps0 = self._base
            st.samples_lost = lost0 + self.last_idx - self.first_idx - (st.samples - n0)
            st.packets_lost = gaps0 + self._old_gaps + int(np.count_nonzero(self._hole_left > 0))

    def tick(self, now: float, elapsed_s: float) -> RecordStatus:
        """The status now; ``receiving`` if samples arrived in the last 3 s."""
        st = self.status
        st.elapsed_s = elapsed_s
        self._window.append((now, st.samples))
        while len(self._window) > 2 and now - self._window[0][0] > 3.0:
            self._window.popleft()
        st.receiving = st.samples > self._window[0][1]
        return st
