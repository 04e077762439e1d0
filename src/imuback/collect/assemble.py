"""Journal -> raw session: decode, fit the sensor clock to UTC, log gaps, write Parquet.

The same code runs when a recording stops normally and when ``imuback recover`` rescues the
journal of a crashed recorder, so both give identical files.

1. Decode every frame in order with the family's decoder (one decoder per stream settings).
2. Build rows: one per sensor sample (``imu``), or acc matched to gyro by time (Polar).
3. Fit the sensor clock to the host clock: ``host ≈ offset + t_sensor · (1 + drift)`` on the lower
   envelope of receive times (notifications arrive after their samples, never before), then map
   to UTC with the host's monotonic->UTC offset taken when the journal was opened.
4. Gaps: where the sensor counter jumps, the missing samples are missing rows and the gap log
   (``imuback.gaps``) says when, how many, and why (disconnect, bad frames, lost notifications).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from imuback.collect.events import Disconnected, JournalEvent, Starting, Stopped, StreamStarted
from imuback.collect.journal import CORRUPT_SUFFIX, SUFFIX, Journal, locked, read_journal
from imuback.collect.sensor import (
    ALREADY_RECEIVED,
    I64,
    BadFrames,
    CounterBreak,
    FrameBatch,
    FrameDecoder,
    SampleStream,
    SensorFamily,
    StreamInfo,
)
from imuback.core import MAX_ID_LEN, RawSession, check_id
from imuback.errors import CollectError
from imuback.store.raw import raw_file_matches, read_raw, write_raw

F64 = npt.NDArray[np.float64]
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockFit:
    """Sensor clock -> host clock: ``host_ns = host0_ns + (t - t0_ns)·(1 + drift) / speedup``.

    Attributes
    ----------
    t0_ns : sensor time (ns) of the first sample.
    host0_ns : host monotonic time (ns) of the first sample (latency removed).
    drift : relative rate error of the sensor clock (1e-6 = 1 ppm); 0 if it could not be fitted.
    note : how the fit went, in words.
    """

    t0_ns: int
    host0_ns: int
    drift: float
    note: str


def fit_clock(t_last_ns: I64, host_ns: I64, *, t0_ns: int, speedup: float = 1.0,
              max_drift: float = 0.05, window_s: float = 5.0) -> ClockFit:
    """Fit the sensor->host clock map on the lower envelope of (sensor time, receive time).

    Parameters
    ----------
    t_last_ns : (F,) sensor time of the last sample of each frame (ns).
    host_ns : (F,) host monotonic receive time of each frame (ns).
    t0_ns : sensor time of the first sample (the origin of the map).
    speedup : simulated sensors stream ``speedup`` times faster than real time; the map is fitted
        in the sensor's own time scale and the written times are in sensor seconds.
    max_drift : larger fitted rate errors are not believed (fall back to the nominal rate).
    window_s : the minimum receive latency is taken per window of this many sensor seconds.
    """
    if t_last_ns.size == 0:
        raise CollectError("no frames to fit the sensor clock on")
    x = (t_last_ns - t0_ns).astype(np.float64)
    y = (host_ns - host_ns[0]).astype(np.float64) * speedup - x  # offset + drift·x + latency
    w = np.floor((x - x[0]) / (window_s * 1e9)).astype(np.int64)
    order = np.lexsort((y, w))  # per window, the minimum latency comes first
    w_sorted = w[order]
    at_min = order[np.r_[True, w_sorted[1:] != w_sorted[:-1]]]
    xm, ymin = x[at_min], y[at_min]
    drift, note = 0.0, "offset only (fewer than 3 windows of data)"
    intercept = float(ymin.min())
    if xm.size >= 3:
        slope, icpt, used = _robust_line(xm, ymin, floor=ROBUST_FLOOR_S * 1e9 * speedup,
                                         cap=ROBUST_CAP_S * 1e9 * speedup)
        late = xm.size - int(used.sum())
        late_note = f", {late} late windows (backlog, stalls) left out" if late else ""
        if abs(slope) <= max_drift:
            drift, intercept = float(slope), float(icpt)
            note = f"drift {drift * 1e6:+.1f} ppm over {int(used.sum())} windows{late_note}"
        else:
            intercept = float(np.min(ymin))
            note = (f"fitted drift {slope * 1e6:+.0f} ppm is beyond max_clock_drift "
                    f"({max_drift * 1e6:.0f} ppm); nominal rate kept{late_note}")
    host0 = int(host_ns[0] + round(intercept / speedup))
    return ClockFit(t0_ns=int(t0_ns), host0_ns=host0, drift=drift, note=note)


ROBUST_CAP_S = 0.050
"""A window whose minimum latency lies more than this above the fitted line is left out."""
ROBUST_FLOOR_S = 0.002
"""... and one within this is always kept (the k·MAD threshold never goes below it)."""


def _robust_line(x: F64, y: F64, *, floor: float, cap: float, k: float = 4.0,
                 max_iter: int = 20) -> tuple[float, float, npt.NDArray[np.bool_]]:
    """Least-squares line through the lower envelope, refitted without windows far above it.

    Notifications are never early, only late: a window whose minimum receive latency is far
    above the line (the firmware's backlog sent after a reconnect, a stall) carries no clock
    information. Threshold: ``k`` times the MAD-estimated spread of the kept residuals, at least
    ``floor``, at most ``cap`` (same units as ``y``). Iterates until the kept set is stable.
    """
    used = np.ones(x.size, dtype=bool)
    slope, icpt = (float(v) for v in np.polyfit(x, y, 1))
    for _ in range(max_iter):
        resid = y - (icpt + slope * x)
        r = resid[used]
        spread = 1.4826 * float(np.median(np.abs(r - np.median(r))))
        new = resid <= min(cap, max(floor, k * spread))
        if int(new.sum()) < 3 or np.array_equal(new, used):
            break
        used = new
        slope, icpt = (float(v) for v in np.polyfit(x[used], y[used], 1))
    return slope, icpt, used


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectReport:
    """What went into a raw file: counts for the status line, the CLI and the tests."""

    n_samples: int
    samples_lost: int
    n_gaps: int
    bad_frames: int
    """Frames rejected: damaged ones and re-sends (``resent_frames``)."""
    bad_reasons: dict[str, int]
    reconnects: int
    clock: ClockFit
    torn_bytes: int
    rows_dropped: int = 0
    """Rows dropped because their time did not increase (samples received twice, re-sent)."""
    corrupt_bytes: int = 0
    """Journal bytes that failed their checksum between valid blocks (their samples are lost)."""
    rate_hz: float = 0.0
    """The sensor's sample rate (Hz)."""
    late_frames: int = 0
    """Frames that arrived after later ones (reordering firmware): kept, written in their place."""
    resent_frames: int = 0
    """Rejected frames that were re-sends: every sample in them is kept from the first copy."""
    lost_by_reason: dict[str, int] = field(default_factory=dict)
    """Samples missing per gap reason (the gap log's reasons; they sum to ``samples_lost``)."""
    kept_journal: Path | None = None
    """Where the journal was kept because not all of it could be read (None: removed or kept on request)."""
    duration_s: float = 0.0
    """The recording's length: its first row to one period after its last (sensor seconds, gaps included)."""
    already_there: bool = False
    """The file held exactly these bytes already (the journal was recovered before): nothing written."""
    in_place_of: Path | None = None
    """The journal's own ``<session>.parquet``, which holds another recording: this one was written
    under a new session id instead (``new_session``)."""


def _decode_all(journal: Journal, make_decoder: Callable[[StreamInfo], FrameDecoder]
                ) -> tuple[StreamInfo, dict[str, SampleStream], BadFrames, tuple[CounterBreak, ...], int]:
    """Decode every frame of the journal in order.

    Frames are decoded per run between connection events (so a decoder sees the next frames when
    it judges an odd one). Frames journaled before their ``stream`` event (they arrive between
    START and the status read) wait for it; a ``starting`` or ``disconnected`` event closes the
    previous connection's run. A reconnect with the same decoder identity (the MTU may change)
    keeps the decoder and tells it, so a sensor reboot becomes a new counter segment. A decoder's
    samples are put in ``sample_idx`` order: a late frame that fills its hole in a later decode call
    (after a reconnect) goes back into its place instead of being dropped as time not increasing.
    """
    info: StreamInfo | None = None
    decoder: FrameDecoder | None = None
    parts: dict[str, list[SampleStream]] = {}
    done: list[dict[str, SampleStream]] = []  # one per earlier decoder, in sample_idx order
    bads: list[BadFrames] = []
    breaks: list[CounterBreak] = []
    pending: list[FrameBatch] = []
    late = [0]

    def flush() -> None:
        if decoder is None or not pending:
            return  # frames before the first stream event wait for it
        out = decoder.decode(FrameBatch.concat(pending))
        pending.clear()
        for name, s in out.streams.items():
            parts.setdefault(name, []).append(s)
        bads.append(out.bad)
        breaks.extend(out.breaks)
        late[0] += out.late_frames

    def close_decoder() -> None:
        if decoder is not None:
            ch = decoder.stream_channels
            done.append({name: SampleStream.concat(p, ch[name]).in_sample_order() for name, p in parts.items()})
        parts.clear()

    for item in journal.items:
        ev = item.event
        if item.frames is not None:
            pending.append(item.frames)
        elif isinstance(ev, Starting | Disconnected | Stopped):
            flush()
        elif isinstance(ev, StreamStarted):
            new = ev.info
            if decoder is not None and info is not None and new.identity() == info.identity():
                decoder.stream_event(new, ev.host_ns)
            else:
                if info is not None:
                    flush()  # other settings: what came before belongs to the old decoder
                close_decoder()
                decoder = make_decoder(new)
                decoder.stream_event(new, ev.host_ns)
            info = new
    flush()
    if info is None or decoder is None:
        if pending:
            n = sum(b.n for b in pending)
            raise CollectError(f"{journal.path}: the journal holds {n} frames but no stream start, so the "
                               "sensor's settings are unknown and they cannot be decoded; it is kept as it is")
        raise CollectError(f"{journal.path}: the journal holds no samples (the recorder stopped before the "
                           "sensor streamed); nothing to recover: it can be deleted")
    close_decoder()
    ch = decoder.stream_channels
    streams = {name: SampleStream.concat([d[name] for d in done if name in d], ch[name]) for name in ch}
    return info, streams, BadFrames.concat(bads), tuple(breaks), late[0]


def _match_acc_gyr(acc: SampleStream, gyr: SampleStream, rate_hz: float) -> SampleStream:
    """Rows where an acc sample has a gyro sample within half a period (Polar: separate streams)."""
    if acc.n == 0 or gyr.n == 0:
        return SampleStream.empty(6)
    half = 0.5e9 / rate_hz
    j = np.clip(np.searchsorted(gyr.t_sensor_ns, acc.t_sensor_ns), 1, gyr.n - 1)
    j = np.where(np.abs(gyr.t_sensor_ns[j - 1] - acc.t_sensor_ns)
                 <= np.abs(gyr.t_sensor_ns[j] - acc.t_sensor_ns), j - 1, j)
    if gyr.n == 1:
        j = np.zeros(acc.n, dtype=np.int64)
    ok = np.abs(gyr.t_sensor_ns[j] - acc.t_sensor_ns) < half
    valid = np.flatnonzero(ok)
    jv = j[valid]
    ok[valid[1:][jv[1:] == jv[:-1]]] = False  # one gyro sample per row, among the valid rows
    return SampleStream(sample_idx=acc.sample_idx[ok], t_sensor_ns=acc.t_sensor_ns[ok],
                        values=np.hstack([acc.values[ok], gyr.values[j[ok]]]),
                        frame_host_ns=acc.frame_host_ns, frame_t_last_ns=acc.frame_t_last_ns,
                        frame_idx=acc.frame_idx[ok])


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).isoformat()


def _gap_reasons(host_before: I64, host_after: I64, idx_before: I64, idx_after: I64,
                 events: list[JournalEvent], bad: BadFrames, breaks: tuple[CounterBreak, ...]) -> list[str]:
    """Why each gap: a disconnect, a counter break, bad frames received while it was open, or bad
    frames whose samples the decoder knows belong in it (a frame too late to be placed).
    """
    disc = np.array(sorted(e.host_ns for e in events if isinstance(e, Disconnected)),
                    dtype=np.int64)
    brk = {b.sample_idx: b.reason for b in breaks}
    bad_at, bad_n = bad.positions()
    out = []
    for a, b, i0, i in zip(host_before.tolist(), host_after.tolist(), idx_before.tolist(), idx_after.tolist(),
                           strict=True):
        reasons = []
        if disc.size and np.any((disc >= a) & (disc <= b)):
            reasons.append("disconnected")
        if i in brk:
            reasons.append(brk[i])
        inside = (((bad.host_ns > a) & (bad.host_ns <= b))
                  | ((bad_at >= 0) & (bad_at < i) & (bad_at + bad_n > i0 + 1)))
        if inside.any():
            kinds = sorted({bad.reasons[i] for i in np.flatnonzero(inside)})
            reasons.append("bad frames (" + "; ".join(kinds) + ")")
        out.append(", ".join(reasons) or "lost notifications or sensor buffer overflow")
    return out


def session_from_journal(journal: Journal, family: SensorFamily) -> tuple[RawSession, CollectReport]:
    """Build the raw session (raw contract) from a journal; see the module docstring."""
    h = journal.header
    for key in ("session_id", "runner_id"):  # before any path is built from them
        check_id(str(h.get(key, "")), what=key, source=f"{journal.path} (journal header)")
    try:
        speedup = float(h.get("clock_speedup", 1.0))
        max_drift = float(h.get("max_clock_drift", 0.05))
        utc_minus_mono = int(h["utc_ns"]) - int(h["mono_ns"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CollectError(f"{journal.path}: journal header lacks a valid clock field ({exc!r}); "
                           "this is not a journal imuback wrote") from exc
    info, streams, bad, breaks, late = _decode_all(journal, lambda i: family.decoder(i, clock_speedup=speedup))
    if "imu" in streams:
        rows = streams["imu"]
    else:
        rows = _match_acc_gyr(streams["acc"], streams["gyr"], info.rate_hz) if info.gyro else streams["acc"]
    if rows.n == 0:
        raise CollectError(f"{journal.path}: the journal holds no samples "
                           f"({bad.n} bad frames); nothing to write")
    # 3. clock
    clock = fit_clock(rows.frame_t_last_ns, rows.frame_host_ns, t0_ns=int(rows.t_sensor_ns[0]),
                      speedup=speedup, max_drift=max_drift)
    utc0 = clock.host0_ns + utc_minus_mono
    time_ns = utc0 + np.round((rows.t_sensor_ns - clock.t0_ns) * (1.0 + clock.drift)).astype(np.int64)
    # strictly increasing: drop every row not later than all before it (a re-send, a new
    # decoder after a settings change); they are counted and logged, never fatal
    keep = np.r_[True, time_ns[1:] > np.maximum.accumulate(time_ns)[:-1]]
    rows_dropped = int(keep.size - np.count_nonzero(keep))
    if rows_dropped:
        _log.warning("%s: %d rows dropped whose time did not increase (samples received twice?)",
                     journal.path, rows_dropped)
        rows = rows.select(keep)
        time_ns = time_ns[keep]
    # 4. gaps from the sample counter
    d = np.diff(rows.sample_idx)
    gi = np.flatnonzero(d > 1)
    period_ns = 1e9 / info.rate_hz
    # host receive time bracketing each gap: frame of the sample before / after
    host_b = rows.frame_host_ns[rows.frame_idx[gi]]
    host_a = rows.frame_host_ns[rows.frame_idx[gi + 1]]
    reasons = _gap_reasons(host_b, host_a, rows.sample_idx[gi], rows.sample_idx[gi + 1], journal.events, bad,
                           breaks)
    gaps = tuple({"start": _iso(int(time_ns[i]) + int(period_ns)), "end": _iso(int(time_ns[i + 1])),
                  "samples_lost": int(d[i] - 1), "reason": r} for i, r in zip(gi.tolist(), reasons, strict=True))
    c = rows.values
    raw = RawSession(
        session_id=str(h["session_id"]), runner_id=str(h["runner_id"]),
        sensor=str(h.get("sensor_label") or info.family), sample_rate_hz=info.rate_hz,
        time_ns=time_ns, acc_mps2=np.ascontiguousarray(c[:, :3], dtype=np.float32),
        gyr_dps=np.ascontiguousarray(c[:, 3:6], dtype=np.float32) if c.shape[1] >= 6 else None,
        mounting=np.asarray(h.get("mounting", np.eye(3).tolist()), dtype=np.float64),
        mounting_source="assumed" if h.get("mounting_assumed") or "mounting" not in h else "file",
        gaps=gaps, acc_range_g=info.acc_range_g, gyr_range_dps=info.gyr_range_dps,
        source=str(journal.path),
    )
    reasons_count: dict[str, int] = {}
    for r in bad.reasons:
        reasons_count[r] = reasons_count.get(r, 0) + 1
    lost_by_reason: dict[str, int] = {}
    for r, n in zip(reasons, (d[gi] - 1).tolist(), strict=True):
        lost_by_reason[r] = lost_by_reason.get(r, 0) + int(n)
    report = CollectReport(
        n_samples=rows.n, samples_lost=int(np.sum(d[gi] - 1)), n_gaps=int(gi.size),
        bad_frames=bad.n, bad_reasons=reasons_count,
        reconnects=max(0, sum(1 for e in journal.events if isinstance(e, StreamStarted)) - 1),
        clock=clock, torn_bytes=journal.torn_bytes, rows_dropped=rows_dropped,
        corrupt_bytes=journal.corrupt_bytes, rate_hz=info.rate_hz, late_frames=late,
        resent_frames=sum(n for r, n in reasons_count.items() if ALREADY_RECEIVED in r),
        lost_by_reason=lost_by_reason, duration_s=float(time_ns[-1] - time_ns[0]) / 1e9 + 1.0 / info.rate_hz)
    return raw, report


RECOVERED = "-recovered"
"""What a recovered session's id gets when its own file holds another recording."""


def _new_ids(session_id: str) -> Iterator[str]:
    """``<session>-recovered``, ``<session>-recovered-2``, ... (each at most ``MAX_ID_LEN`` characters)."""
    for n in range(1, 1000):
        tail = RECOVERED + ("" if n == 1 else f"-{n}")
        yield session_id[:MAX_ID_LEN - len(tail)] + tail


def _place(raw: RawSession, out: Path, journal: Path, *, new_session: bool) -> tuple[Path, bool, Path | None]:
    """Write ``out/<session>.parquet``, never over another recording.

    Returns the file, whether it held these bytes already (nothing written: the journal was
    recovered before), and the journal's own file when that holds another recording. That is
    refused (the journal stays), or with ``new_session`` the recording goes under the first new
    session id (:func:`_new_ids`) with neither a file nor a journal, unless one holds it already.
    """
    target = out / f"{raw.session_id}.parquet"
    if not target.exists():
        return write_raw(target, raw), False, None
    if raw_file_matches(target, raw):
        return target, True, None
    if not new_session:
        free = next(sid for sid in _new_ids(raw.session_id)
                    if not (out / f"{sid}.parquet").exists() and not (out / f"{sid}{SUFFIX}").exists())
        where = "" if out.resolve() == journal.parent.resolve() else f" --out {out}"
        raise CollectError(f"{target} already exists and holds another recording; nothing was written and "
                           f"the journal {journal} is kept: `imuback recover {journal}{where} --new-session` "
                           f"writes it as session {free}, or give --out another folder")
    for sid in _new_ids(raw.session_id):
        path, mine = out / f"{sid}.parquet", replace(raw, session_id=sid)
        if not path.exists() and not (out / f"{sid}{SUFFIX}").exists():
            return write_raw(path, mine), False, target
        if path.exists() and raw_file_matches(path, mine):
            return path, True, target
    raise CollectError(f"{target} and {RECOVERED} files up to {sid}.parquet already exist; the journal "
                       f"{journal} is kept: recover it into another folder (--out)")


def finalize_journal(journal_path: str | Path, *, out_dir: str | Path | None = None,
                     remove_journal: bool = True, lock: bool = True,
                     new_session: bool = False) -> tuple[Path, CollectReport]:
    """Turn a journal into ``<out_dir>/<session_id>.parquet`` (validated); remove the journal.

    ``out_dir`` defaults to the journal's folder. An existing file is never replaced: one with the
    same bytes is the journal recovered before (``CollectReport.already_there``); one holding
    another recording is refused with :class:`~imuback.errors.CollectError` and the journal kept,
    or with ``new_session`` the recording is written as session ``<session_id>-recovered``
    (``-recovered-2``, ...; ``CollectReport.in_place_of``). A journal with corrupted blocks is never
    removed: it is renamed ``<name>.journal.corrupt`` (``CollectReport.kept_journal``) so that
    automatic recovery does not take it again. Used on a normal stop and by ``imuback recover``.
    ``lock``: take the journal's lock first (:class:`~imuback.errors.JournalBusy` if a
    running recorder holds it); the recorder itself, which holds the lock, passes False.
    """
    if lock:
        with locked(journal_path):
            return finalize_journal(journal_path, out_dir=out_dir, remove_journal=remove_journal,
                                    lock=False, new_session=new_session)
    from imuback.collect.families import family_by_name

    journal = read_journal(journal_path)
    family = family_by_name(str(journal.header.get("family", "imuback")))
    raw, report = session_from_journal(journal, family)
    out = Path(out_dir) if out_dir is not None else journal.path.parent
    path, already, in_place_of = _place(raw, out, journal.path, new_session=new_session)
    report = replace(report, already_there=already, in_place_of=in_place_of)
    read_raw(path)  # the file must pass the raw contract before the journal goes
    if report.corrupt_bytes:  # not everything was read: the journal stays, out of recovery's way
        kept = journal.path.with_name(journal.path.name + CORRUPT_SUFFIX)
        journal.path.replace(kept)
        _log.warning("%s: %d corrupted bytes skipped; journal kept as %s", journal.path,
                     report.corrupt_bytes, kept)
        return path, replace(report, kept_journal=kept)
    if remove_journal:
        journal.path.unlink()
    return path, report
