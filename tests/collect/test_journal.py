"""Journal: append-only blocks, torn tails after a crash, and recovery into a raw file."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from imuback.collect.assemble import finalize_journal, fit_clock
from imuback.collect.events import StreamStarted
from imuback.collect.journal import JournalWriter, read_journal
from imuback.collect.recorder import recover_pending
from imuback.collect.sensor import StreamInfo
from imuback.errors import CollectError, ImubackError, JournalBusy
from imuback.store.raw import read_raw

ACC_S = 16 * 9.80665 / 32768


def _frames(n: int, k: int = 19, start: int = 0) -> list[bytes]:
    c = np.zeros((k, 6), np.int16)
    c[:, 2] = round(9.80665 / ACC_S)
    return [struct.pack("<BBHI", 0xA6, k, i, start + i * k) + c.tobytes() for i in range(n)]


def _journal(path: Path, frames: list[bytes], rate: float = 100.0, session_id: str = "j1") -> None:
    w = JournalWriter(path, {"session_id": session_id, "runner_id": "r", "family": "imuback",
                             "utc_ns": time.time_ns(), "mono_ns": time.monotonic_ns()})
    info = StreamInfo(family="imuback", rate_hz=rate, acc_range_g=16, gyr_range_dps=2000, gyro=True,
                      params={"acc_scale": ACC_S, "gyr_scale": 2000 / 32768})
    w.append_event(StreamStarted(host_ns=0, info=info))
    host = (np.arange(len(frames)) * 19 / rate * 1e9).astype(np.int64) + 5_000_000
    for lo in range(0, len(frames), 10):
        w.append_frames(host[lo:lo + 10].tolist(), frames[lo:lo + 10])
    w.close()


def test_torn_tail_keeps_every_complete_block(tmp_path: Path) -> None:
    p = tmp_path / "j1.journal"
    _journal(p, _frames(100))
    data = p.read_bytes()
    p.write_bytes(data[:-100])  # a kill -9 in the middle of the last block
    j = read_journal(p)
    assert j.torn_bytes > 0 and sum(it.frames.n for it in j.items if it.frames is not None) == 90
    path, rep = finalize_journal(p)
    assert rep.n_samples == 90 * 19 and read_raw(path).n_samples == 90 * 19 and not p.exists()


def test_existing_journal_is_never_overwritten(tmp_path: Path) -> None:
    p = tmp_path / "j1.journal"
    _journal(p, _frames(3))
    size = p.stat().st_size
    with pytest.raises(CollectError, match=r"journal of an interrupted recording .* is in the way"):
        JournalWriter(p, {})
    assert p.stat().st_size == size


def test_recover_pending_turns_leftover_journals_into_files(tmp_path: Path) -> None:
    _journal(tmp_path / "j1.journal", _frames(20))
    (tmp_path / "empty.journal").write_bytes(b"junk")
    assert recover_pending(tmp_path).recovered == (tmp_path / "j1.parquet",)


def test_clock_fit_recovers_drift_under_latency_jitter() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(0, 600e9, 0.1e9).astype(np.int64)  # 10 min of frames, sensor time
    drift = 80e-6
    host = (1e12 + t * (1 + drift) + rng.exponential(8e6, t.size)).astype(np.int64)
    fit = fit_clock(t, host, t0_ns=0)
    assert abs(fit.drift - drift) < 5e-6 and abs(fit.host0_ns - 1e12) < 2e6
    assert fit_clock(t[:2], host[:2], t0_ns=0).drift == 0.0


def test_recovery_skips_a_journal_a_live_recorder_still_holds(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "live.journal", {"session_id": "live", "runner_id": "r", "family": "imuback",
                                                   "utc_ns": time.time_ns(), "mono_ns": time.monotonic_ns()})
    info = StreamInfo(family="imuback", rate_hz=100, acc_range_g=16, gyr_range_dps=2000, gyro=True,
                      params={"acc_scale": ACC_S, "gyr_scale": 2000 / 32768})
    w.append_event(StreamStarted(host_ns=0, info=info))
    w.append_frames([int(i * 0.19e9) for i in range(20)], _frames(20))
    w.flush()
    _journal(tmp_path / "j1.journal", _frames(20))  # a crashed recorder's journal: not locked
    assert recover_pending(tmp_path).recovered == (tmp_path / "j1.parquet",)  # a second `record` starts here
    assert (tmp_path / "live.journal").exists()
    with pytest.raises(CollectError, match="still writing"):  # JournalBusy
        finalize_journal(tmp_path / "live.journal")
    w.append_frames([int(20 * 0.19e9)], _frames(1, start=380))
    w.close()  # the recorder stopped (or died: the kernel drops the lock)
    path, rep = finalize_journal(tmp_path / "live.journal")
    assert rep.n_samples == 21 * 19 and read_raw(path).n_samples == 21 * 19


# --- issue 17: corrupted and crafted journals (items 2, 4, 6) --------------------------------
def test_a_flipped_byte_costs_only_its_block_and_the_journal_is_kept(tmp_path: Path) -> None:
    p = tmp_path / "j1.journal"
    _journal(p, _frames(300))
    data = bytearray(p.read_bytes())
    data[len(data) // 10] ^= 0x10  # one flipped bit 10 % into the journal
    p.write_bytes(bytes(data))
    j = read_journal(p)
    assert j.corrupt_bytes > 0 and j.torn_bytes == 0
    assert sum(it.frames.n for it in j.items if it.frames is not None) == 290  # one block of 10 frames
    path, rep = finalize_journal(p)
    assert rep.n_samples == 290 * 19 and rep.samples_lost == 10 * 19 and rep.corrupt_bytes == j.corrupt_bytes
    assert not p.exists() and rep.kept_journal == tmp_path / "j1.journal.corrupt" and rep.kept_journal.exists()
    assert read_raw(path).n_samples == 290 * 19


def test_a_corrupted_last_block_is_corruption_not_a_torn_tail(tmp_path: Path) -> None:
    p = tmp_path / "j1.journal"
    _journal(p, _frames(100))
    data = bytearray(p.read_bytes())
    data[-5] ^= 0xFF
    p.write_bytes(bytes(data))
    j = read_journal(p)
    assert j.torn_bytes == 0 and j.corrupt_bytes > 0
    _, rep = finalize_journal(p)
    assert rep.kept_journal is not None and rep.kept_journal.exists()


def test_a_crafted_session_id_never_builds_a_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _journal(out / "x.journal", _frames(20), session_id="../x")
    with pytest.raises(ImubackError, match="session_id"):
        finalize_journal(out / "x.journal")
    assert not (tmp_path / "x.parquet").exists() and (out / "x.journal").exists()


def test_one_unrecoverable_journal_never_blocks_the_others(tmp_path: Path) -> None:
    _journal(tmp_path / "j1.journal", _frames(20))
    w = JournalWriter(tmp_path / "bad.journal", {"session_id": "bad", "runner_id": "r", "family": "imuback"})
    w.close()  # a header without clocks: not a journal imuback wrote
    rec = recover_pending(tmp_path)
    assert rec.recovered == (tmp_path / "j1.parquet",)
    assert [j for j, _ in rec.failed] == [tmp_path / "bad.journal"] and (tmp_path / "bad.journal").exists()


def test_a_polar_timestamp_of_2_63_does_not_stop_recovery(tmp_path: Path) -> None:
    from imuback.collect.polar_wire import delta_encode

    p = tmp_path / "p.journal"
    w = JournalWriter(p, {"session_id": "p", "runner_id": "r", "family": "polar",
                          "utc_ns": time.time_ns(), "mono_ns": 0})
    info = StreamInfo(family="polar", rate_hz=52, acc_range_g=16, gyr_range_dps=None, gyro=False)
    w.append_event(StreamStarted(host_ns=0, info=info))
    acc = delta_encode(np.tile([[0, 0, 1000]], (10, 1)))
    ts = [10**15 + round((i * 10 + 9) * 1e9 / 52) for i in range(60)]
    host = [t - 10**15 + 10**9 for t in ts]
    ts[30] = 2**64 - 5
    w.append_frames(host,
                    [bytes([2]) + t.to_bytes(8, "little") + bytes([0x81]) + acc for t in ts])
    w.close()
    rec = recover_pending(tmp_path)
    assert rec.recovered == (tmp_path / "p.parquet",) and rec.failed == ()
    assert read_raw(tmp_path / "p.parquet").n_samples == 590


def test_a_journal_without_a_stream_says_whether_it_holds_anything(tmp_path: Path) -> None:
    """Killed before the sensor streamed: the warning says it holds no samples and can go; frames
    with no stream start (their settings unknown) are kept and counted (review of branch durable)."""
    header = {"session_id": "e1", "runner_id": "r", "family": "imuback", "utc_ns": time.time_ns(),
              "mono_ns": time.monotonic_ns()}
    JournalWriter(tmp_path / "e1.journal", header).close()
    w = JournalWriter(tmp_path / "f1.journal", {**header, "session_id": "f1"})
    w.append_frames([5_000_000, 6_000_000], _frames(2))
    w.close()
    failed = dict(recover_pending(tmp_path).failed)
    assert "holds no samples" in failed[tmp_path / "e1.journal"] and "can be deleted" in failed[tmp_path / "e1.journal"]
    assert "holds 2 frames but no stream start" in failed[tmp_path / "f1.journal"]
    assert (tmp_path / "e1.journal").exists() and (tmp_path / "f1.journal").exists()


def test_an_interrupted_journal_in_the_way_is_named_with_the_command_that_recovers_it(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "s.journal", {"session_id": "s"})
    w.close()  # a crashed recorder's journal: no lock held
    with pytest.raises(CollectError, match="interrupted recording of session 's'") as exc:
        JournalWriter(tmp_path / "s.journal", {"session_id": "s"})
    assert f"imuback recover {tmp_path / 's.journal'}" in str(exc.value)
    assert not isinstance(exc.value, JournalBusy)


def test_a_live_journal_in_the_way_names_its_recorder_and_never_advises_recover(tmp_path: Path) -> None:
    live = JournalWriter(tmp_path / "s.journal", {"session_id": "s", "pid": 4242, "host": "lab-pc"})
    try:
        with pytest.raises(JournalBusy, match="session 's' is being recorded now by process 4242 on lab-pc") as exc:
            JournalWriter(tmp_path / "s.journal", {"session_id": "s"})
        assert "recover" not in str(exc.value)
    finally:
        live.close()
