"""APDM Opal ``.h5`` (src/imuback/formats/apdm.py), on files written to the layout that public
readers of APDM files use (scikit-digital-health's ``skdh.io.ReadApdmH5``: ``/Sensors/<id>/
{Accelerometer m/s², Gyroscope rad/s, Time µs UTC, Configuration["Label 0"]}``); no real APDM file
was at hand.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from imuback.errors import RawFormatError
from imuback.formats import detect_format, read_session
from tests.signal.analytic import half_sine_run

T0_US = 1_700_000_000_000_000


def _write(path: Path, labels: dict[str, str], *, fs: float = 128.0) -> tuple[Path, np.ndarray, np.ndarray]:
    raw = half_sine_run(fs=fs, minutes=0.25)[0]
    acc, gyr_rad = raw.acc_mps2.astype(np.float64), np.radians(raw.gyr_dps.astype(np.float64))
    n = acc.shape[0]
    with h5py.File(path, "w") as f:
        f.attrs["FileFormatVersion"] = 5
        for i, (sid, label) in enumerate(labels.items()):
            g = f.create_group(f"Sensors/{sid}")
            g.create_dataset("Accelerometer", data=acc + i)  # each sensor its own values
            g.create_dataset("Gyroscope", data=gyr_rad)
            g.create_dataset("Time", data=(T0_US + np.round(np.arange(n) * 1e6 / fs)).astype(np.uint64))
            conf = g.create_group("Configuration")
            conf.attrs["Label 0"] = np.bytes_(label)
            conf.attrs["Sample Rate"] = np.uint16(fs)
    return path, acc, gyr_rad


def test_the_lumbar_sensor_is_read(tmp_path):
    path, acc, gyr_rad = _write(tmp_path / "walk.h5", {"XI-001": "Left Foot", "XI-002": "Lumbar", "XI-003": "Sternum"})
    assert detect_format(path) == "apdm"
    raw = read_session(path, runner_id="r1")
    assert raw.sensor == "APDM Opal XI-002 (Lumbar)" and raw.sample_rate_hz == 128.0
    assert np.allclose(raw.acc_mps2, acc + 1, atol=1e-5)  # the second sensor's values
    assert np.allclose(raw.gyr_dps, np.degrees(gyr_rad), atol=1e-3)  # rad/s -> deg/s
    assert raw.time_ns[0] == T0_US * 1000
    assert raw.session_id == "walk-20231114T221320Z"


def test_a_one_sensor_file_needs_no_label(tmp_path):
    path, acc, _ = _write(tmp_path / "one.h5", {"XI-009": ""})
    assert np.allclose(read_session(path, runner_id="r1").acc_mps2, acc, atol=1e-5)


def test_bad_apdm_files_are_named(tmp_path):
    path = _write(tmp_path / "two.h5", {"A": "Lumbar", "B": "lumbar"})[0]
    with pytest.raises(RawFormatError, match=r"two\.h5: 2 lower-back sensors among \{'A': 'Lumbar', 'B': 'lumbar'\}"):
        read_session(path, runner_id="r1")
    with pytest.raises(RawFormatError, match=r"two\.h5: no runner id"):
        read_session(path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(RawFormatError, match=r"other\.h5: an HDF5 file without APDM's /Sensors/<id> groups"):
        read_session(other, runner_id="r1")
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[:600])
    with pytest.raises(RawFormatError, match=r"cut\.h5: not a readable HDF5 file"):
        read_session(cut, runner_id="r1")
