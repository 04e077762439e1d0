"""Xsens MTw / DOT text exports (src/imuback/formats/xsens.py): sample clock, units, identity.

The written files follow the real MTw export of voisard_l5_walk (a rate line, a tab-separated
header row, ``PacketCounter`` then ``Acc_*`` m/s² and ``Gyr_*`` rad/s), which is also read here
from ../shared/data/real when present.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imuback.cli import main
from imuback.errors import RawFormatError, UnitsError
from imuback.formats import detect_format, read_session
from imuback.formats.csv import ColumnMapping
from tests.signal.analytic import half_sine_run

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "voisard_l5_walk" / "GaitData"
COMMAND = "python benchmarks/get_real_data.py"
START = "2024-03-04T07:00:00Z"


def _export(path: Path, counter: np.ndarray, *, preamble: str = "// Update Rate: 100.00Hz\n", sep: str = "\t",
            extra: dict[str, list[str]] | None = None) -> tuple[Path, np.ndarray, np.ndarray]:
    raw = half_sine_run(fs=100.0, minutes=counter.size / 6000, seed=2)[0]
    acc, gyr_rad = raw.acc_mps2.astype(np.float64), np.radians(raw.gyr_dps.astype(np.float64))
    names = ["PacketCounter", *(extra or {}), "Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z", "Mag_X"]
    rows = [sep.join(names)]
    for i, c in enumerate(counter):
        cells = [f"{c:g}", *(v[i] for v in (extra or {}).values()), *(f"{x:.6f}" for x in (*acc[i], *gyr_rad[i])),
                 "0.1"]
        rows.append(sep.join(cells))
    path.write_text(preamble + "\n".join(rows) + "\n")
    return path, acc, gyr_rad


def test_packet_counter_times_keep_dropped_packets_missing_and_unwrap(tmp_path):
    counter = np.r_[np.arange(65400, 65530), np.arange(65533, 65536), np.arange(0, 300)]  # 3 lost, then a wrap
    path, acc, gyr_rad = _export(tmp_path / "lb.txt", counter)
    raw = read_session(path, runner_id="r1", start=START)
    k = (raw.time_ns - raw.time_ns[0]) / 1e7  # samples at 100 Hz
    assert np.array_equal(k, np.r_[np.arange(130), np.arange(133, 136), np.arange(136, 436)])
    assert str(np.datetime64(int(raw.time_ns[0]), "ns")) == "2024-03-04T07:00:00.000000000"
    assert raw.sample_rate_hz == 100.0 and raw.sensor == "Xsens MTw"
    assert np.allclose(raw.acc_mps2, acc, atol=1e-5)
    assert np.allclose(raw.gyr_dps, np.degrees(gyr_rad), atol=1e-3)  # rad/s -> deg/s
    assert raw.session_id == "lb-20240304T070000Z"
    assert detect_format(path) == "xsens"


def _utc_columns(n: int) -> dict[str, list[str]]:
    """An Xsens DOT export's UTC_* columns dating every sample 2023-05-06T07:08:09.5Z."""
    return {"UTC_Nano": ["500000000"] * n, "UTC_Year": ["2023"] * n, "UTC_Month": ["5"] * n, "UTC_Day": ["6"] * n,
            "UTC_Hour": ["7"] * n, "UTC_Minute": ["8"] * n, "UTC_Second": ["9"] * n}


def test_utc_columns_date_the_export_and_units_can_be_given(tmp_path):
    n = 300
    utc = _utc_columns(n)
    path, _acc, gyr_rad = _export(tmp_path / "dot.csv", np.arange(n), sep=",", extra=utc,
                                  preamble="Acquisition frequency: 100 Hz\n")
    raw = read_session(path, runner_id="r1", session_id="s1")
    assert str(np.datetime64(int(raw.time_ns[0]), "ns")) == "2023-05-06T07:08:09.500000000"
    assert raw.session_id == "s1"
    assert np.allclose(raw.gyr_dps, np.degrees(gyr_rad), atol=1e-3)
    # a wrong unit flag is caught by the raw contract's unit check, not silently taken
    with pytest.raises(UnitsError, match=r"dot\.csv: the gyroscope barely turns.*rad/s"):
        read_session(path, runner_id="r1", mapping=ColumnMapping(gyr_unit="deg/s"))


@pytest.mark.parametrize("kw, match", [
    ({"runner_id": "r1"}, r"the export has no UTC_\* columns, so no date: give the start time.*--start"),
    ({"start": START}, r"no runner id.*--runner"),
])
def test_identity_that_the_file_lacks_is_asked_for(tmp_path, kw, match):
    path = _export(tmp_path / "a.txt", np.arange(300))[0]
    with pytest.raises(RawFormatError, match=rf"a\.txt: {match}"):
        read_session(path, **kw)


def test_bad_exports_are_named(tmp_path):
    dup = _export(tmp_path / "dup.txt", np.r_[np.arange(100), np.arange(99, 300)])[0]
    with pytest.raises(RawFormatError, match=r"dup\.txt: PacketCounter 99 repeats at data row 101"):
        read_session(dup, runner_id="r1", start=START)
    norate = _export(tmp_path / "norate.txt", np.arange(300), preamble="")[0]
    with pytest.raises(RawFormatError, match=r"norate\.txt: the export states no update rate"):
        read_session(norate, runner_id="r1", start=START)
    assert read_session(norate, runner_id="r1", start=START, sample_rate_hz=100.0).n_samples == 300
    # the counter goes back (the sensor restarted): not a wrap, which would put the rest ~10 min later
    back = _export(tmp_path / "back.txt", np.r_[np.arange(200, 400), np.arange(0, 100)])[0]
    with pytest.raises(RawFormatError, match=r"back\.txt: PacketCounter goes back from 399 to 0 at data row 201 "
                                             r"\(line 203\)"):
        read_session(back, runner_id="r1", start=START)
    glitch = _export(tmp_path / "glitch.txt", np.r_[np.arange(0, 150), 5, np.arange(151, 300)])[0]
    with pytest.raises(RawFormatError, match=r"glitch\.txt: PacketCounter goes back from 149 to 5"):
        read_session(glitch, runner_id="r1", start=START)
    cut = tmp_path / "cut.txt"
    cut.write_text("// Update Rate: 100Hz\nPacketCounter\tAcc_X\tAcc_Y\tAcc_Z\n0\t1\t2\t9.8\n1\t1\t\t9.8\n")
    with pytest.raises(RawFormatError, match=r"cut\.txt: \['Acc_X', 'Acc_Y', 'Acc_Z'\] empty or not a number in "
                                             r"data row 2 \(line 4\)"):
        read_session(cut, runner_id="r1", start=START)


@pytest.mark.skipif(not REAL.exists(), reason=f"../shared/data/real/voisard_l5_walk absent: run {COMMAND}")
def test_real_mtw_export():
    path = REAL / "1-1_lb.txt"
    raw = read_session(path, runner_id="v1", start=START)
    d = np.loadtxt(path, skiprows=2, delimiter="\t", usecols=range(7))
    assert raw.n_samples == d.shape[0] == 2913
    assert np.array_equal((raw.time_ns - raw.time_ns[0]) // 10_000_000, (d[:, 0] - d[0, 0]).astype(np.int64))
    assert np.allclose(raw.acc_mps2, d[:, 1:4], atol=1e-5)
    assert np.allclose(raw.gyr_dps, np.degrees(d[:, 4:7]), atol=1e-3)


def test_an_export_with_a_latin1_preamble_is_read_and_a_utf16_one_is_named(tmp_path, capsys):
    """MT Manager's preamble may hold a scenario or device name in the PC's code page: only its
    rate line is read. A UTF-16 file is refused with its encoding and what to do."""
    path, acc, _ = _export(tmp_path / "lb.txt", np.arange(300),
                           preamble="// Update Rate: 100.00Hz\n// Scenario: Lendenwirbelsäule (µ)\n")
    path.write_bytes(path.read_text().encode("cp1252"))
    raw = read_session(path, runner_id="r1", start=START)
    assert raw.sample_rate_hz == 100.0 and np.allclose(raw.acc_mps2, acc, atol=1e-5)
    wide = tmp_path / "lb16.txt"
    wide.write_bytes(path.read_bytes().decode("cp1252").encode("utf-16"))
    with pytest.raises(RawFormatError, match=r"lb16\.txt: the file is UTF-16 little-endian text; imuback reads "
                                             r"this format as UTF-8: save it as UTF-8"):
        read_session(wide, runner_id="r1", start=START)
    assert main(["process", str(wide), "--runner", "r1", "--start", START, "--dataset", str(tmp_path / "ds")]) == 1
    err = capsys.readouterr().err
    assert "lb16.txt: the file is UTF-16" in err and "Traceback" not in err


def test_a_start_beside_utc_columns_must_be_their_moment(tmp_path):
    """The UTC_* columns date the export: the same instant given is accepted (its offset is where it
    was recorded), another is refused naming both, never silently ignored."""
    n = 300
    utc = _utc_columns(n)
    path, _acc, _gyr = _export(tmp_path / "dot.csv", np.arange(n), sep=",", extra=utc,
                               preamble="Acquisition frequency: 100 Hz\n")
    raw = read_session(path, runner_id="r1", start="2023-05-06T09:08:09.5+02:00")
    assert str(np.datetime64(int(raw.time_ns[0]), "ns")) == "2023-05-06T07:08:09.500000000"
    assert raw.utc_offset_min == 120
    with pytest.raises(RawFormatError, match=r"dot\.csv: the export's UTC_\* columns put the first sample at "
                                             r"2023-05-06T07:08:09\.5Z, not the 2023-05-06T07:08:09Z given; "
                                             r"drop --start"):
        read_session(path, runner_id="r1", start="2023-05-06T07:08:09Z")
