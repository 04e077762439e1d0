"""Movesense DataLogger/Logbook JSON logs (src/imuback/formats/movesense.py), on files written to
the Movesense device API (movesense-device-lib ``meas/imu.yaml``, ``acc.yaml``, ``gyro.yaml``:
notifications ``{"Timestamp": ms, "ArrayAcc": [{x, y, z}], "ArrayGyro": [...]}``, m/s² and deg/s)
under ``Meas``; no real Movesense log was at hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imuback.cli.main import main
from imuback.errors import RawFormatError
from imuback.formats import detect_format, read_session
from tests.signal.analytic import half_sine_run

START = "2024-03-04T07:00:00Z"
START_NS = int(np.datetime64("2024-03-04T07:00:00", "ns").astype(np.int64))


def _notifications(values: np.ndarray, key: str, *, fs: float, per: int, t0_ms: int, skip: int | None = None,
                   ) -> list[dict]:
    out = []
    for k, first in enumerate(range(0, len(values), per)):
        if k == skip:
            continue  # a notification lost
        out.append({"Timestamp": t0_ms + round(first * 1000 / fs),
                    key: [{"x": x, "y": y, "z": z} for x, y, z in values[first:first + per].tolist()]})
    return out


def _write(path: Path, *, layout: str = "IMU6", fs: float = 104.0, minutes: float = 0.25, skip: int | None = None,
           ) -> tuple[Path, np.ndarray, np.ndarray]:
    raw = half_sine_run(fs=fs, minutes=minutes)[0]
    acc, gyr = raw.acc_mps2.astype(np.float64), raw.gyr_dps.astype(np.float64)
    acc_n = _notifications(acc, "ArrayAcc", fs=fs, per=8, t0_ms=51234, skip=skip)
    gyr_n = _notifications(gyr, "ArrayGyro", fs=fs, per=8, t0_ms=51234, skip=skip)
    if layout == "IMU6":
        meas = {f"IMU6/{fs:g}": [dict(a, ArrayGyro=g["ArrayGyro"]) for a, g in zip(acc_n, gyr_n, strict=True)]}
    elif layout == "Body":
        meas = {"IMU6": [{"Body": dict(a, ArrayGyro=g["ArrayGyro"])} for a, g in zip(acc_n, gyr_n, strict=True)]}
    elif layout == "AccGyro":
        meas = {"Acc": acc_n, "Gyro": gyr_n}
    else:
        meas = {"Acc": acc_n}
    path.write_text(json.dumps({"Meas": meas}))
    return path, acc, gyr


@pytest.mark.parametrize("layout", ["IMU6", "Body", "AccGyro"])
def test_a_movesense_log_is_read_to_the_api(tmp_path, layout):
    path, acc, gyr = _write(tmp_path / "ms log.json", layout=layout)
    assert detect_format(path) == "movesense"
    raw = read_session(path, runner_id="r1", start=START)
    assert raw.n_samples == acc.shape[0] and raw.sensor == "Movesense"
    assert raw.sample_rate_hz == pytest.approx(104.0, rel=0.01)
    assert np.allclose(raw.acc_mps2, acc, atol=1e-4) and np.allclose(raw.gyr_dps, gyr, atol=1e-3)
    truth = START_NS + np.round(np.arange(acc.shape[0]) * 1e9 / 104.0).astype(np.int64)
    assert np.abs(raw.time_ns - truth).max() <= 600_000  # the notification Timestamp is whole ms
    assert raw.session_id == "ms-log-20240304T070000Z"


def test_a_lost_notification_stays_a_gap_in_time(tmp_path):
    path, acc, _ = _write(tmp_path / "lost.json", skip=10)
    raw = read_session(path, runner_id="r1", start=START)
    assert raw.n_samples == acc.shape[0] - 8
    step = np.diff(raw.time_ns)
    assert int(np.argmax(step)) == 79 and step.max() == pytest.approx(9 * 1e9 / 104, rel=0.01)


def test_bad_movesense_logs_are_named(tmp_path):
    acc_only = _write(tmp_path / "acc.json", layout="Acc")[0]
    with pytest.raises(RawFormatError, match=r"acc\.json: an accelerometer-only log .*needs a gyroscope"):
        read_session(acc_only, runner_id="r1", start=START)
    good = _write(tmp_path / "nostart.json")[0]
    with pytest.raises(RawFormatError, match=r"nostart\.json: a Movesense log is timed by the sensor's clock"):
        read_session(good, runner_id="r1")
    cut = tmp_path / "cut.json"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(RawFormatError, match=r"cut\.json: not valid JSON"):
        read_session(cut, runner_id="r1", start=START)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"Meas": {"Temp": [{"Timestamp": 1, "Measurement": 300}]}}))
    with pytest.raises(RawFormatError, match=r"other\.json: Meas holds \['Temp'\]"):
        read_session(other, runner_id="r1", start=START)


def test_process_reads_a_movesense_log_end_to_end(tmp_path, capsys):
    path = _write(tmp_path / "ms.json", minutes=1.0)[0]
    argv = ["process", str(path), "--runner", "ann", "--start", START, "--dataset", str(tmp_path / "ds")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    steps = int(out.split(": ")[2].split(" steps")[0])
    assert "session ms-20240304T070000Z" in out and abs(steps - 60 / 0.36) <= 3, out


def _imu6(path: Path, stamps: list[int], per: list[int], key: str = "IMU6") -> Path:
    sample = {"x": 0.1, "y": 0.2, "z": 9.8}
    meas = {key: [{"Timestamp": t, "ArrayAcc": [sample] * n, "ArrayGyro": [sample] * n}
                  for t, n in zip(stamps, per, strict=True)]}
    path.write_text(json.dumps({"Meas": meas}))
    return path


@pytest.mark.parametrize(("stamps", "per", "key", "given", "says"), [
    ([1000, 1000, 1000], [8, 8, 8], "IMU6", None, "0 and 1 of Meas/IMU6 .* both have Timestamp 1000 ms"),  # one for all
    ([1000, 1077], [8, 8], "IMU6", 0, "not above 0"),  # a rate of 0 given
    ([1000, 1077], [8, 8], "IMU6/0", None, "'IMU6/0'"),  # the stream name says 0 Hz
    ([4294967200, 0, 77], [8, 8, 8], "IMU6", None, "goes back at notification 1"),  # uint32 ms clock wrap
])
def test_a_log_without_a_usable_rate_is_one_named_error(tmp_path, stamps, per, key, given, says):
    path = _imu6(tmp_path / "odd.json", stamps, per, key)
    extra = {} if given is None else {"sample_rate_hz": given}
    with pytest.raises(RawFormatError, match=says) as err:
        read_session(path, runner_id="r1", start=START, **extra)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_an_empty_first_notification_does_not_spoil_the_rate(tmp_path):
    # 0 samples at 1000 ms, then 8 samples every 77 ms (8 / 0.077 s = 103.896 Hz)
    path = _imu6(tmp_path / "empty first.json", [1000, 1000, 1077, 1154], [0, 8, 8, 8])
    raw = read_session(path, runner_id="r1", start=START)
    assert raw.n_samples == 24 and raw.sample_rate_hz == pytest.approx(8 / 0.077, rel=1e-4)


def test_the_cli_names_the_file_on_a_zero_rate(tmp_path, capsys):
    path = _imu6(tmp_path / "zero.json", [1000, 1077], [8, 8], "IMU6/0")
    code = main(["process", str(path), "--dataset", str(tmp_path / "ds"), "--runner", "r1", "--start", START])
    err = capsys.readouterr().err
    assert code != 0 and "zero.json" in err and "Traceback" not in err


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_log_saved_in_another_unicode_encoding_is_read(tmp_path, encoding):
    """JSON may be UTF-16/32 (RFC 7159 §8.1); PowerShell 5's '>' writes UTF-16 with a byte order mark."""
    path, acc, _ = _write(tmp_path / "ms.json")
    path.write_bytes(path.read_text().encode(encoding))
    assert detect_format(path) == "movesense"
    raw = read_session(path, runner_id="r1", start=START)
    assert np.allclose(raw.acc_mps2, acc, atol=1e-4)


@pytest.mark.parametrize("same_samples, match", [
    (True, r"notifications 4 and 5 of Meas/IMU6/104 \(counted from 0\) both have Timestamp \d+ ms, with the same "
           r"samples: one notification was stored twice; delete one"),
    (False, r"notifications 4 and 5 of Meas/IMU6/104 \(counted from 0\) both have Timestamp \d+ ms, with different "
            r"samples, which would overlap in time: the log joins two recordings")])
def test_two_notifications_with_one_timestamp_are_named(tmp_path, same_samples, match):
    path = _write(tmp_path / "ms.json")[0]
    doc = json.loads(path.read_text())
    notes = doc["Meas"]["IMU6/104"]
    notes[5] = dict(notes[4]) if same_samples else dict(notes[5], Timestamp=notes[4]["Timestamp"])
    path.write_text(json.dumps(doc))
    with pytest.raises(RawFormatError, match=r"ms\.json: " + match):
        read_session(path, runner_id="r1", start=START)
