"""Batch progress: a one-line bar on a terminal, plain timestamped log lines otherwise."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Literal, TextIO

from imuback.batch.work import SessionOutcome

ProgressMode = Literal["auto", "bar", "log", "none"]


def _hms(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Report sessions done, rate and ETA.

    ``mode="auto"`` draws a bar when ``stream`` is a terminal and writes one log line per session
    otherwise (batch jobs, CI, ``| tee``). Failures are always written on their own line.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, mode: ProgressMode = "auto",
                 width: int = 28) -> None:
        self.total = total
        if stream is None:  # the library prints nothing unasked: the CLI passes sys.stderr
            stream, mode = io.StringIO(), "none"
        self.stream = stream
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "log"
        self.mode = mode
        self.width = width
        self.done = 0
        self.counts = {"processed": 0, "skipped": 0, "failed": 0}
        self._t0 = time.perf_counter()
        self._last_draw = 0.0

    def log(self, message: str) -> None:
        """Write one message line (clears and redraws the bar around it)."""
        if self.mode == "none":
            return
        if self.mode == "bar":
            self.stream.write("\r\x1b[2K" + message + "\n")
            self._draw(force=True)
        else:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.stream.write(f"{stamp} {message}\n")
        self.stream.flush()

    def rate_and_eta(self) -> tuple[float, float | None]:
        """Sessions per second so far and the estimated seconds left (None before the first)."""
        elapsed = time.perf_counter() - self._t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        return rate, eta

    def update(self, outcome: SessionOutcome) -> None:
        """Count one finished input."""
        self.done += 1
        self.counts[outcome.status] += 1
        if self.mode == "none":
            return
        rate, eta = self.rate_and_eta()
        head = f"[{self.done}/{self.total} {rate:.2f}/s ETA {_hms(eta) if eta is not None else '?'}]"
        if outcome.status == "failed":
            self.log(f"{head} FAILED {outcome.error_type}: {outcome.message}")
        elif self.mode == "log":
            what = f"session {outcome.session_id} (runner {outcome.runner_id})"
            detail = (f"{outcome.n_steps} steps, {outcome.session_status}, {outcome.elapsed_s:.2f} s"
                      if outcome.status == "processed" else outcome.message or "already in the dataset")
            self.log(f"{head} {outcome.status} {what}: {detail}")
        else:
            self._draw()

    def _draw(self, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < 0.1 and self.done < self.total:
            return
        self._last_draw = now
        frac = self.done / self.total if self.total else 1.0
        filled = round(frac * self.width)
        rate, eta = self.rate_and_eta()
        failed = f"  {self.counts['failed']} failed" if self.counts["failed"] else ""
        self.stream.write(
            f"\r[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} sessions  "
            f"{rate:.2f}/s  ETA {_hms(eta) if eta is not None else '?'}{failed}\x1b[K"
        )
        self.stream.flush()

    def close(self) -> None:
        """Finish the bar line."""
        if self.mode == "bar":
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
