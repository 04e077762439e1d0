"""Journal -> raw session: re-sends, settings changes, early frames, Polar matching, clock fit."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np

from imuback.collect.assemble import _match_acc_gyr, finalize_journal, fit_clock
from imuback.collect.events import Disconnected, Starting, StreamStarted
from imuback.collect.imuback_protocol import TOO_LATE
from imuback.collect.journal import JournalWriter
from imuback.collect.polar_pmd import PolarDecoder
from imuback.collect.polar_wire import delta_encode
from imuback.collect.sensor import FrameBatch, StreamInfo
from imuback.store.raw import read_raw

ACC_S = 16 * 9.80665 / 32768
RATE = 208.0


def _fr(seq: int, first: int, k: int) -> bytes:
    c = np.zeros((k, 6), np.int16)
    c[:, 1] = round(9.80665 / ACC_S)
    c[:, 0] = np.arange(first, first + k) % 1000  # the sample index, to check rows
    return struct.pack("<BBHI", 0xA6, k, seq & 0xFFFF, first) + c.tobytes()


def _info(**params: object) -> StreamInfo:
    return StreamInfo(family="imuback", rate_hz=RATE, acc_range_g=16, gyr_range_dps=2000, gyro=True,
                      params={"acc_scale": ACC_S, "gyr_scale": 2000 / 32768, **params})


def _writer(path: Path) -> JournalWriter:
    return JournalWriter(path, {"session_id": path.stem, "runner_id": "r", "family": "imuback",
                                "utc_ns": time.time_ns(), "mono_ns": 0})


def _host(first: int, k: int) -> int:
    return int((first + k) / RATE * 1e9) + 5_000_000


def test_reconnect_with_another_mtu_and_a_resend_never_fails_the_finalize(tmp_path: Path) -> None:
    w = _writer(tmp_path / "s.journal")
    w.append_event(StreamStarted(host_ns=0, info=_info(mtu=247)))
    w.append_frames([_host(i * 19, 19) for i in range(100)], [_fr(i, i * 19, 19) for i in range(100)])
    w.append_event(Disconnected(host_ns=_host(1900, 0)))
    w.append_event(StreamStarted(host_ns=_host(2000, 0), info=_info(mtu=23)))
    # the firmware re-sends the last 100 samples the host already has, then goes on live
    w.append_frames([_host(1800 + i, 1) + 10**9 for i in range(600)], [_fr(100 + i, 1800 + i, 1) for i in range(600)])
    w.close()
    path, rep = finalize_journal(tmp_path / "s.journal")
    raw = read_raw(path)
    assert raw.n_samples == 2400 and raw.gaps == () and rep.bad_frames == 100
    np.testing.assert_allclose(raw.acc_mps2[:, 0] / ACC_S, np.arange(2400) % 1000, atol=1e-3)


def test_non_increasing_rows_are_dropped_with_a_running_maximum(tmp_path: Path) -> None:
    w = _writer(tmp_path / "s.journal")
    w.append_event(StreamStarted(host_ns=0, info=_info()))
    w.append_frames([_host(i * 19, 19) for i in range(100)], [_fr(i, i * 19, 19) for i in range(100)])
    # other settings after the reconnect -> a new decoder, which takes the re-sent frames as new
    w.append_event(StreamStarted(host_ns=_host(2000, 0), info=_info(acc_scale_note=1)))
    w.append_frames([_host(1800 + 19 * i, 19) + 10**9 for i in range(20)],
                    [_fr(i, 1800 + 19 * i, 19) for i in range(20)])
    w.close()
    path, rep = finalize_journal(tmp_path / "s.journal")
    raw = read_raw(path)
    assert np.all(np.diff(raw.time_ns) > 0) and rep.rows_dropped == 100
    assert raw.n_samples == 1800 + 20 * 19 and raw.gaps == ()


def test_frames_before_the_stream_event_are_kept(tmp_path: Path) -> None:
    w = _writer(tmp_path / "s.journal")
    w.append_event(Starting(host_ns=0))
    w.append_frames([_host(i * 19, 19) for i in range(10)], [_fr(i, i * 19, 19) for i in range(10)])
    w.append_event(StreamStarted(host_ns=_host(190, 0), info=_info()))
    w.append_frames([_host(i * 19, 19) for i in range(10, 100)], [_fr(i, i * 19, 19) for i in range(10, 100)])
    w.close()
    _, rep = finalize_journal(tmp_path / "s.journal")
    assert rep.n_samples == 1900 and rep.samples_lost == 0


def test_sensor_reboot_at_a_reconnect_keeps_the_rest_and_logs_the_gap(tmp_path: Path) -> None:
    w = _writer(tmp_path / "s.journal")
    w.append_event(StreamStarted(host_ns=0, info=_info(boot_id=3)))
    w.append_frames([_host(i * 19, 19) for i in range(200)], [_fr(i, 5000 + i * 19, 19) for i in range(200)])
    w.append_event(Disconnected(host_ns=_host(3800, 0)))
    outage = 30 * 10**9
    w.append_event(StreamStarted(host_ns=_host(3800, 0) + outage, info=_info(boot_id=4)))
    w.append_frames([_host(i * 19, 19) + _host(3800, 0) + outage for i in range(300)],
                    [_fr(i, i * 19, 19) for i in range(300)])
    w.close()
    path, _ = finalize_journal(tmp_path / "s.journal")
    raw = read_raw(path)
    assert raw.n_samples == 500 * 19 and len(raw.gaps) == 1
    g = raw.gaps[0]
    assert "disconnected" in g["reason"] and "rebooted" in g["reason"]
    assert abs(g["samples_lost"] - 30 * RATE) <= 2


def test_polar_gyro_gap_loses_exactly_its_samples() -> None:
    rate, n, e = 416.0, 38, 789_000_000_000_000_000
    period = 1e9 / rate
    vals = np.cumsum(np.random.default_rng(0).integers(-50, 50, (n * 10, 6)), axis=0)
    frames = []
    for f in range(10):
        ts = e + round((f * n + n - 1) * period)
        chunk = vals[f * n:(f + 1) * n]
        frames.append(bytes([2]) + ts.to_bytes(8, "little") + bytes([0x81]) + delta_encode(chunk[:, :3]))
        if f != 1:  # the GYRO frame of chunk 1 is lost
            frames.append(bytes([5]) + ts.to_bytes(8, "little") + bytes([0x80]) + delta_encode(chunk[:, 3:]))
    out = PolarDecoder(rate_hz=rate).decode(FrameBatch.from_frames(frames, np.arange(len(frames))))
    rows = _match_acc_gyr(out.streams["acc"], out.streams["gyr"], rate)
    assert rows.n == 9 * n  # one frame of gyro lost = n rows lost, not n + 1
    np.testing.assert_array_equal(rows.sample_idx, np.r_[0:n, 2 * n:10 * n])


def test_polar_sample_times_are_exact_int64_on_the_ns_epoch() -> None:
    rate, n = 416.0, 20
    ts = 789_000_000_000_000_000 + 12_345_677  # not a multiple of float64's 128 ns spacing here
    frames = [bytes([2]) + (ts + i * round(n * 1e9 / rate)).to_bytes(8, "little") + bytes([0x81])
              + delta_encode(np.zeros((n, 3), np.int64)) for i in range(3)]
    a = PolarDecoder(rate_hz=rate).decode(FrameBatch.from_frames(frames, [1, 2, 3])).streams["acc"]
    np.testing.assert_array_equal(a.t_sensor_ns[n - 1::n], a.frame_t_last_ns)
    np.testing.assert_array_equal(a.frame_t_last_ns[a.frame_idx], np.repeat(a.frame_t_last_ns, n))


def test_clock_fit_ignores_the_backlog_after_a_reconnect() -> None:
    rng = np.random.default_rng(1)
    fp = 19 / 208  # s per frame
    for minutes, out_at in ((2, 60), (10, 300), (60, 3590)):
        t = np.arange(0, minutes * 60, fp)
        host = t + 0.010 + rng.exponential(0.01, t.size)
        lost = (t >= out_at) & (t < out_at + 2)            # 10 s outage, 8 s ring buffer
        back = (t >= out_at + 2) & (t < out_at + 10)       # the backlog, sent after the reconnect
        host[back] = out_at + 10 + 0.3 + np.arange(back.sum()) * 0.005
        f = fit_clock((t[~lost] * 1e9).astype(np.int64), (host[~lost] * 1e9).astype(np.int64), t0_ns=0)
        assert abs(f.drift) < 5e-6, (minutes, f.note)
        assert abs(f.host0_ns - 0.010e9) < 2e6


def test_a_real_sensor_delayed_by_load_keeps_its_timeline() -> None:
    """Speedup 1: the host, loaded for 40 s, receives everything 0.12 s late; no drift is invented."""
    rng = np.random.default_rng(5)
    t = np.arange(0, 255.8, 12 / 200)  # sensor s, a frame of 12 samples at 200 Hz
    host = 50.0 + t + 0.010 + rng.exponential(0.005, t.size)
    host[(t >= 150) & (t < 190)] += 0.12
    f = fit_clock((t * 1e9).astype(np.int64), (host * 1e9).astype(np.int64), t0_ns=0)
    assert abs(f.drift) < 5e-6, f.note
    assert abs(f.host0_ns - 50.010e9) < 2e6


def test_a_late_frame_after_a_reconnect_is_written_in_its_place_and_counted_once(tmp_path: Path) -> None:
    """Review 24 finding 10: frame 7 comes after the reconnect, in the next decode call; it fills its
    hole (a smaller sample_idx than the rows before it): kept in its place, counted late, no gap.
    """
    w = _writer(tmp_path / "s.journal")
    w.append_event(StreamStarted(host_ns=0, info=_info()))
    first = [i for i in range(10) if i != 7]
    w.append_frames([_host(i * 19, 19) for i in first], [_fr(i, i * 19, 19) for i in first])
    w.append_event(Disconnected(host_ns=_host(190, 0)))
    w.append_event(StreamStarted(host_ns=_host(200, 0), info=_info()))
    then = [7, *range(10, 20)]
    w.append_frames([_host(i * 19, 19) + 50_000_000 for i in then], [_fr(i, i * 19, 19) for i in then])
    w.close()
    path, rep = finalize_journal(tmp_path / "s.journal")
    raw = read_raw(path)
    assert rep.late_frames == 1 and rep.rows_dropped == 0 and rep.bad_frames == 0
    assert raw.n_samples + rep.samples_lost == 20 * 19 and raw.gaps == ()  # kept + reported lost = sent
    np.testing.assert_allclose(raw.acc_mps2[:, 0] / ACC_S, np.arange(20 * 19) % 1000, atol=1e-3)
    assert np.all(np.diff(raw.time_ns) > 0)


def test_a_frame_too_late_to_place_is_a_loss_under_its_own_reason_and_one_late_by_ten_is_kept(tmp_path: Path) -> None:
    """A frame 10 frames late fits its remembered hole: kept in its place, counted late. One 100 frames
    late (beyond MAX_LATE_FRAMES) is not placed: its 19 samples are a gap whose reason says so in the
    report's lost_by_reason (on int it was 'lost notifications or sensor buffer overflow', and when it
    came last in a drain the frame was counted as a harmless re-send).
    """
    for late, name in ((10, "ten"), (100, "hundred")):
        w = _writer(tmp_path / f"{name}.journal")
        w.append_event(StreamStarted(host_ns=0, info=_info()))
        order = [0, *range(2, 2 + late), 1, *range(2 + late, 130)]
        hosts = [_host(i * 19, 19) for i in range(130)]  # arrival times in arrival order
        w.append_frames(hosts[: late + 1], [_fr(i, i * 19, 19) for i in order[: late + 1]])
        w.append_frames(hosts[late + 1:], [_fr(i, i * 19, 19) for i in order[late + 1:]])  # frame 1 first here
        w.close()
        path, rep = finalize_journal(tmp_path / f"{name}.journal")
        raw = read_raw(path)
        assert raw.n_samples + rep.samples_lost == 130 * 19 and rep.rows_dropped == 0
        if late == 10:
            assert rep.late_frames == 1 and rep.samples_lost == 0 and rep.bad_frames == 0 and raw.gaps == ()
        else:
            assert rep.late_frames == 0 and rep.resent_frames == 0 and rep.bad_frames == 1
            assert rep.lost_by_reason == {f"bad frames ({TOO_LATE})": 19}, rep.lost_by_reason
            assert [g["samples_lost"] for g in raw.gaps] == [19]


def test_a_journal_whose_mounting_nobody_gave_makes_a_raw_file_that_says_so(tmp_path: Path) -> None:
    """A Polar sensor recorded without --mounting: the identity the file holds is a placeholder
    (``imuback.mounting_assumed``, schema 1.7), so processing may give the real one; a mounting the
    recorder was given is the file's own."""
    for name, extra, source in (("s_assumed", {"mounting": np.eye(3).tolist(), "mounting_assumed": True}, "assumed"),
                                ("s_given", {"mounting": [[0, 0, 1], [0, 1, 0], [-1, 0, 0]],
                                             "mounting_assumed": False}, "file")):
        w = JournalWriter(tmp_path / f"{name}.journal", {"session_id": name, "runner_id": "r", "family": "imuback",
                                                         "utc_ns": time.time_ns(), "mono_ns": 0, **extra})
        w.append_event(StreamStarted(host_ns=0, info=_info(mtu=247)))
        w.append_frames([_host(i * 19, 19) for i in range(20)], [_fr(i, i * 19, 19) for i in range(20)])
        w.close()
        path, _ = finalize_journal(tmp_path / f"{name}.journal")
        raw = read_raw(path)
        assert raw.mounting_source == source, name
        assert np.allclose(raw.mounting, extra["mounting"])


def test_a_backlog_frame_after_a_reconnect_that_fills_a_hole_is_kept_not_called_already_received(
        tmp_path: Path) -> None:
    """Frames 40 and 41 were lost on the link before a disconnect; after the reconnect the firmware
    replays its backlog from frame 38 on, framed afresh (new seq numbers, as our simulated firmware
    does), then goes on live. 38, 39, 42-49 are re-sends (already received); 40 and 41 fill their hole
    and are kept in place. Before: all twelve were dropped as 'samples already received' and the
    38 samples they held were counted lost under the hole's reason."""
    w = _writer(tmp_path / "s.journal")
    w.append_event(StreamStarted(host_ns=0, info=_info(boot_id=3)))
    sent = [i for i in range(50) if i not in (40, 41)]
    w.append_frames([_host(i * 19, 19) for i in sent], [_fr(i, i * 19, 19) for i in sent])
    w.append_event(Disconnected(host_ns=_host(950, 0)))
    w.append_event(StreamStarted(host_ns=_host(950, 0) + 10**9, info=_info(boot_id=3)))
    replay = list(range(38, 100))
    w.append_frames([_host(i * 19, 19) + 10**9 for i in replay],
                    [_fr(50 + n, i * 19, 19) for n, i in enumerate(replay)])
    w.close()
    path, rep = finalize_journal(tmp_path / "s.journal")
    raw = read_raw(path)
    assert raw.n_samples == 100 * 19 and raw.gaps == () and rep.samples_lost == 0, (raw.gaps, rep.lost_by_reason)
    assert rep.resent_frames == 10 and rep.bad_frames == 10
    np.testing.assert_allclose(raw.acc_mps2[:, 0] / ACC_S, np.arange(1900) % 1000, atol=1e-3)
