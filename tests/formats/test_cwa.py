"""Axivity ``.cwa`` (src/imuback/formats/cwa.py) on files written to OpenMovement's published
specification (``Docs/ax3/cwa.h``, github.com/openmovementproject/openmovement) by
tests/formats/cwa_spec.py; no real .cwa file ships with a package we could use.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pytest

from imuback.cli.main import main
from imuback.errors import RawFormatError
from imuback.formats import detect_format, read_session
from imuback.formats.cwa import packed_time_ns, rate_hz
from tests.formats.cwa_spec import pack_time, write_cwa
from tests.signal.analytic import half_sine_run

START = dt.datetime(2024, 3, 4, 7, 0, 0)
START_NS = int(np.datetime64(START, "ns").astype(np.int64))


def _run(fs: float = 100.0, minutes: float = 0.25, gyro: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    raw = half_sine_run(fs=fs, minutes=minutes)[0]
    return raw.acc_mps2.astype(np.float64), raw.gyr_dps.astype(np.float64) if gyro else None


@pytest.mark.parametrize("fractional", [True, False])
def test_an_ax6_file_is_read_to_the_spec(tmp_path, fractional):
    acc, gyr = _run()
    path = write_cwa(tmp_path / "lab run.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START,
                     fractional=fractional, device_id=70001)
    assert detect_format(path) == "cwa"
    raw = read_session(path, runner_id="r1")
    n = acc.shape[0]
    assert raw.n_samples == n and raw.sample_rate_hz == 100.0
    assert raw.sensor == "Axivity AX6 70001" and raw.acc_range_g == 8.0 and raw.gyr_range_dps == 2000.0
    assert np.abs(raw.acc_mps2 - acc).max() <= 9.80665 / 4096  # one count at ±8 g
    assert np.abs(raw.gyr_dps - gyr).max() <= 2000 / 32768  # one count at 2000 dps
    truth_ns = START_NS + np.round(np.arange(n) * 1e7).astype(np.int64)
    assert np.abs(raw.time_ns - truth_ns).max() < 50_000  # the 15-bit fraction: 31 µs
    assert raw.session_id == "lab-run-20240304T070000Z" and raw.gaps == ()


def test_packed_times_and_rate_codes_follow_cwa_h():
    when = [dt.datetime(2000, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 58), dt.datetime(2063, 12, 31, 1, 2, 3)]
    got = packed_time_ns(np.array([pack_time(w) for w in when], dtype=np.uint32))
    assert got.tolist() == [int(np.datetime64(w, "ns").astype(np.int64)) for w in when]
    assert rate_hz(np.array([0x4A, 0x0B, 0x8C])).tolist() == [100.0, 200.0, 400.0]


def test_a_sector_with_a_bad_checksum_is_a_reported_gap(tmp_path, caplog):
    acc, gyr = _run()
    path = write_cwa(tmp_path / "bad.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    data = bytearray(path.read_bytes())
    data[1024 + 5 * 512 + 100] ^= 0x01  # one bit in the samples of the sixth sector
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="imuback"):
        raw = read_session(path, runner_id="r1")
    assert raw.n_samples == acc.shape[0] - 40  # the 40 samples of that sector are missing rows
    assert np.allclose(raw.acc_mps2[200:], acc[240:], atol=0.003)  # the others are where they were
    assert raw.time_ns[200] - raw.time_ns[199] == pytest.approx(41e7, abs=5e4)
    (gap,) = raw.gaps
    assert gap["samples_lost"] == 40 and gap["reason"] == "1 sectors failed their checksum"
    for key, want in (("start", "2024-03-04T07:00:02.000"), ("end", "2024-03-04T07:00:02.400")):  # ±1 ms: fraction
        assert abs(np.datetime64(gap[key].rstrip("Z")) - np.datetime64(want)) <= np.timedelta64(1, "ms")
    assert "1 sectors failed their checksum" in caplog.text and "bad.cwa" in caplog.text


def test_bad_cwa_files_are_named(tmp_path):
    acc, gyr = _run(minutes=0.1)
    ax3 = write_cwa(tmp_path / "ax3.cwa", acc_mps2=acc, gyr_dps=None, fs=100.0, start=START, sensor_config=0x00)
    with pytest.raises(RawFormatError, match=r"ax3\.cwa: an accelerometer-only recording .*needs a gyroscope"):
        read_session(ax3, runner_id="r1")
    three = write_cwa(tmp_path / "three.cwa", acc_mps2=acc, gyr_dps=None, fs=100.0, start=START)
    with pytest.raises(RawFormatError, match=r"three\.cwa: an accelerometer-only recording \(3 axes"):
        read_session(three, runner_id="r1")
    good = write_cwa(tmp_path / "cut.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    good.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(RawFormatError, match=r"cut\.cwa: truncated: 412 bytes after the last whole 512-byte sector"):
        read_session(good, runner_id="r1")
    stub = tmp_path / "stub.cwa"
    stub.write_bytes(good.read_bytes()[:600])
    assert detect_format(stub) == "cwa"
    with pytest.raises(RawFormatError, match=r"stub\.cwa: 600 bytes, shorter than a CWA header block"):
        read_session(stub, runner_id="r1")
    with pytest.raises(RawFormatError, match=r"cut\.cwa: no runner id"):
        read_session(good)


def test_process_reads_a_cwa_file_end_to_end(tmp_path, capsys):
    acc, gyr = _run(minutes=1.0)
    path = write_cwa(tmp_path / "ax6.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    assert main(["process", str(path), "--runner", "ann", "--dataset", str(tmp_path / "ds")]) == 0
    out = capsys.readouterr().out
    steps = int(out.split(": ")[2].split(" steps")[0])
    assert "session ax6-20240304T070000Z" in out and abs(steps - 60 / 0.36) <= 3, out


def test_a_file_named_cwa_without_the_header_is_not_taken_for_one(tmp_path: Path):
    path = tmp_path / "x.cwa"
    path.write_bytes(b"AX" + bytes(2000))
    with pytest.raises(RawFormatError, match=r"x\.cwa: not a format imuback reads"):
        detect_format(path)


def test_sectors_missing_from_the_file_leave_their_time(tmp_path):
    acc, gyr = _run()
    path = write_cwa(tmp_path / "hole.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    data = path.read_bytes()
    path.write_bytes(data[:1024 + 3 * 512] + data[1024 + 5 * 512:])  # sectors 3 and 4 never written
    raw = read_session(path, runner_id="r1")
    assert raw.n_samples == acc.shape[0] - 80
    truth_ns = START_NS + np.round(np.r_[0:120, 200:acc.shape[0]] * 1e7).astype(np.int64)
    assert np.abs(raw.time_ns - truth_ns).max() < 50_000
    (gap,) = raw.gaps
    assert gap["samples_lost"] == 80 and gap["reason"] == "sectors missing from the recording (sequence numbers skip)"


def test_process_reports_bad_sectors_and_the_dataset_counts_their_gap(tmp_path, capsys):
    import duckdb

    acc, gyr = _run(minutes=1.0)
    path = write_cwa(tmp_path / "flip.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    data = bytearray(path.read_bytes())
    data[1024 + 50 * 512 + 300] ^= 0x10
    path.write_bytes(bytes(data))
    assert main(["process", str(path), "--runner", "ann", "--dataset", str(tmp_path / "ds")]) == 0
    assert f"warning: {path}: 1 sectors failed their checksum" in capsys.readouterr().err
    n_gaps, gap_s = duckdb.connect().execute(
        f"SELECT n_gaps, gap_total_s FROM read_parquet('{tmp_path}/ds/sessions/**/*.parquet')").fetchone()
    assert n_gaps == 1 and gap_s == pytest.approx(0.4, abs=0.02)


def test_bad_sectors_before_the_first_and_after_the_last_good_one_are_gaps(tmp_path):
    acc, gyr = _run()  # 15 s at 100 Hz: 38 sectors of 40 samples (the last holds 20)
    path = write_cwa(tmp_path / "ends.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    data = bytearray(path.read_bytes())
    n_sectors = (len(data) - 1024) // 512
    for k in (0, 1, n_sectors - 1):  # two sectors at the start and the last one fail their checksum
        data[1024 + k * 512 + 100] ^= 0x01
    path.write_bytes(bytes(data))
    raw = read_session(path, runner_id="r1")
    assert raw.n_samples == acc.shape[0] - 80 - 20
    first, last = raw.gaps
    assert first["samples_lost"] == 80 and first["reason"].startswith("2 sectors failed their checksum (before")
    assert last["samples_lost"] == 40 and last["reason"].startswith("1 sectors failed their checksum (after")
    assert np.datetime64(first["end"].rstrip("Z")) == np.datetime64(int(raw.time_ns[0]), "ns").astype("datetime64[ms]")
    assert abs(np.datetime64(first["start"].rstrip("Z")) - np.datetime64(START)) <= np.timedelta64(1, "ms")


def test_gyro_scale_comes_from_the_header_when_the_sector_does_not_say(tmp_path):
    acc, gyr = _run()
    gyr = np.clip(gyr, -400.0, 400.0)  # within a 500 dps range
    path = write_cwa(tmp_path / "g500.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START,
                     gyr_scale=4, sensor_config=0x04, sector_gyr_code=0)  # 500 dps; lightScale G bits 0
    raw = read_session(path, runner_id="r1")
    assert raw.gyr_range_dps == 500.0
    assert np.allclose(raw.gyr_dps, gyr, atol=500 / 32768)


def test_a_repeated_or_rewound_sector_says_which_and_what_to_do(tmp_path):
    acc, gyr = _run()
    path = write_cwa(tmp_path / "a.cwa", acc_mps2=acc, gyr_dps=gyr, fs=100.0, start=START)
    buf = path.read_bytes()
    head, sectors = buf[:1024], [buf[i:i + 512] for i in range(1024, len(buf), 512)]
    twice = tmp_path / "twice.cwa"
    twice.write_bytes(head + b"".join([*sectors[:4], sectors[3], *sectors[4:]]))  # sector 3 stored again
    with pytest.raises(RawFormatError, match=r"twice\.cwa: sector 4 repeats sector 3's sequence number 3, byte for "
                                             r"byte: the sector was stored twice.*copy the file from the device"):
        read_session(twice, runner_id="r1")
    joined = tmp_path / "joined.cwa"
    joined.write_bytes(head + b"".join(sectors[:6] + sectors[2:]))  # a second recording's sectors 2... appended
    with pytest.raises(RawFormatError, match=r"joined\.cwa: the sector sequence numbers go back at sector 6 "
                                             r"\(5 -> 2\): the file joins two recordings; split it with OmGui"):
        read_session(joined, runner_id="r1")
