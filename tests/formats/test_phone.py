"""Phone exports (src/imuback/formats/sensorlogger.py, phyphox.py, phone.py).

The example exports below are written by hand to the apps' published specifications:

- Sensor Logger: github.com/tszheichoi/awesome-sensor-logger — README.md ("Understanding
  Timestamps": ``time`` ns since epoch; "Accessing Recording Metadata": Metadata.csv's version,
  device name, recording time, platform), UNITS.md (m/s², gyroscope rad/s, Accelerometer.csv is
  without gravity, TotalAcceleration.csv Android only), COORDINATES.md and CROSSPLATFORM.md
  (iOS acceleration and gravity have the opposite sign of Android's: flat on a table gravity reads
  -z on iOS, +z on Android; gyroscope the same on both).
- phyphox: the CSV export's layout (``"Time (s)","Acceleration x (m/s^2)"...``, ``meta/time.csv``
  with START/PAUSE rows mapping experiment time to system time), as written by phyphox's export
  code (see the module docstring of imuback.formats.phyphox).
"""

from __future__ import annotations

import dataclasses
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from imuback import api
from imuback.cli.main import main
from imuback.core import G_MPS2
from imuback.errors import RawFormatError
from imuback.formats import read_session
from imuback.formats.phyphox import write_phyphox
from imuback.formats.sensorlogger import write_sensorlogger
from imuback.pipeline import process_raw
from imuback.simulate.runner import RunnerParams, SimulatedSession, simulate_session

T0_NS = 1_714_980_600_000_000_000  # 2024-05-06T07:30:00Z
N = 40  # 0.8 s at 50 Hz: small, below the units check's 2 s


def _motion(values: tuple[float, float, float], *, offset_ns: int = 0, dt_ns: int = 20_000_000) -> str:
    """One Sensor Logger motion file: ``time,seconds_elapsed,z,y,x``, a phone at rest."""
    x, y, z = values
    rows = ["time,seconds_elapsed,z,y,x"]
    rows += [f"{T0_NS + offset_ns + i * dt_ns},{(offset_ns + i * dt_ns) / 1e9},{z},{y},{x}" for i in range(N)]
    return "\n".join(rows) + "\n"


def _meta(platform: str) -> str:
    return f"version,device name,recording time,platform\n3,Test phone,2024-05-06_07-30-00,{platform}\n"


def _write_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def _flat(platform: str) -> dict[str, str]:
    """A phone flat on a table, screen up, turning about z at 1 rad/s (Accelerometer = 0)."""
    g = -G_MPS2 if platform == "iOS" else G_MPS2
    return {"Accelerometer.csv": _motion((0.0, 0.0, 0.0)), "Gravity.csv": _motion((0.0, 0.0, g)),
            "Gyroscope.csv": _motion((0.0, 0.0, 1.0), offset_ns=4_000_000), "Metadata.csv": _meta(platform)}


def test_sensorlogger_recording_timezone_is_where_it_was_recorded(tmp_path: Path) -> None:
    """Newer exports' ``recording timezone`` (an IANA name) gives the session's UTC offset at its
    start (schema 1.8); a zone given wins; an export without one, or with one not read, has none."""
    files = _flat("Android")
    assert read_session(_write_zip(tmp_path / "a.zip", files), runner_id="ann").utc_offset_min is None
    files["Metadata.csv"] = ("version,device name,recording time,recording timezone,platform\n"
                             "3,Test phone,2024-05-06_07-30-00,Europe/Madrid,Android\n")
    path = _write_zip(tmp_path / "b.zip", files)
    stated = read_session(path, runner_id="ann")
    assert (stated.utc_offset_min, stated.utc_offset_source) == (120, "file")  # May: Madrid's summer time
    given = read_session(path, runner_id="ann", time_zone="America/New_York")
    assert (given.utc_offset_min, given.utc_offset_source) == (-240, "given")  # schema 1.9


@pytest.mark.parametrize("zone, offset_min", [("GMT+05:30", 330), ("UTC+1", 60), ("utc-3", -180), ("GMT-0800", -480),
                                              ("GMT+5:45", 345), ("Etc/GMT+5", -300), ("Europe/Atlantis", None),
                                              ("GMT+25", None), ("America", None), ("x" * 300, None)])
def test_sensorlogger_recording_timezone_in_other_words_or_unknown(tmp_path: Path, zone: str,
                                                                   offset_min: int | None) -> None:
    """``GMT+05:30``/``UTC+1`` offsets (east positive) are read; a zone that is none imuback reads
    leaves the zone unknown and the samples are read all the same (0.15.0 refused the export)."""
    files = _flat("Android")
    plain = read_session(_write_zip(tmp_path / "plain.zip", files), runner_id="ann")
    files["Metadata.csv"] = ("version,device name,recording time,recording timezone,platform\n"
                             f"3,Test phone,2024-05-06_07-30-00,{zone},Android\n")
    raw = read_session(_write_zip(tmp_path / "z.zip", files), runner_id="ann")
    assert raw.utc_offset_min == offset_min
    np.testing.assert_array_equal(raw.time_ns, plain.time_ns)
    np.testing.assert_array_equal(raw.acc_mps2, plain.acc_mps2)


@pytest.mark.parametrize("platform", ["iOS", "Android"])
def test_sensorlogger_signs_units_and_times(tmp_path: Path, platform: str) -> None:
    """Lying flat, both platforms give +g along +z (the raw contract's specific force), rad/s
    becomes deg/s, times are the accelerometer's own ns stamps, the gyro is interpolated onto them."""
    raw = read_session(_write_zip(tmp_path / "Run.zip", _flat(platform)), runner_id="ann")
    assert raw.runner_id == "ann"
    assert raw.session_id == "Run-20240506T073000Z"
    assert raw.sensor == f"Sensor Logger {platform} (Test phone)"
    assert np.allclose(raw.acc_mps2, [0.0, 0.0, G_MPS2], atol=1e-5)
    assert raw.gyr_dps is not None and np.allclose(raw.gyr_dps, [0.0, 0.0, np.degrees(1.0)], atol=1e-4)
    # the first accelerometer sample comes before the first gyroscope one: left out and logged
    assert raw.n_samples == N - 1 and raw.time_ns[0] == T0_NS + 20_000_000
    assert [g["samples_lost"] for g in raw.gaps] == [1] and "Gyroscope" in raw.gaps[0]["reason"]
    assert raw.sample_rate_hz == pytest.approx(50.0)
    assert np.allclose(raw.mounting, np.eye(3))


def test_sensorlogger_android_total_acceleration_folder_and_nested_zip(tmp_path: Path) -> None:
    """Android's TotalAcceleration.csv is the reading with gravity: used as it is; an unzipped
    folder and a zip of that folder read the same."""
    files = {"TotalAcceleration.csv": _motion((1.0, 2.0, 9.0)), "Accelerometer.csv": _motion((0.0, 0.0, 0.0)),
             "Gravity.csv": _motion((5.0, 5.0, 5.0)), "Gyroscope.csv": _motion((0.1, 0.0, 0.0)),
             "Metadata.csv": _meta("Android")}
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    a = read_session(folder, runner_id="r", session_id="s1")
    b = read_session(_write_zip(tmp_path / "n.zip", {f"export/{k}": v for k, v in files.items()}), runner_id="r")
    assert a.session_id == "s1"
    assert np.allclose(a.acc_mps2, [1.0, 2.0, 9.0]) and np.array_equal(a.acc_mps2, b.acc_mps2)
    assert a.gaps == () and a.n_samples == N


def test_sensorlogger_late_and_repeated_samples(tmp_path: Path) -> None:
    """A buffered sample delivered late is put back in order, an exact repeat is dropped; two
    different readings under one time are refused."""
    files = _flat("Android")
    lines = files["Accelerometer.csv"].splitlines()
    files["Accelerometer.csv"] = "\n".join([lines[0], lines[2], lines[1], lines[3], lines[3], *lines[4:]]) + "\n"
    raw = read_session(_write_zip(tmp_path / "a.zip", files), runner_id="r")
    assert np.all(np.diff(raw.time_ns) > 0) and raw.n_samples == N - 1
    bad = lines[3].rsplit(",", 1)[0] + ",0.5"
    files["Accelerometer.csv"] = "\n".join([*lines[:4], bad, *lines[4:]]) + "\n"
    with pytest.raises(RawFormatError, match=r"Accelerometer.csv: 1 timestamps carry two different readings"):
        read_session(_write_zip(tmp_path / "b.zip", files), runner_id="r")


def test_sensorlogger_without_gyroscope_is_accelerometer_only(tmp_path: Path) -> None:
    files = _flat("iOS")
    del files["Gyroscope.csv"]
    raw = read_session(_write_zip(tmp_path / "a.zip", files), runner_id="r")
    assert raw.gyr_dps is None and raw.n_samples == N and raw.gaps == ()


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.pop("Metadata.csv"), r"unknown platform '\(no Metadata.csv\)'"),
    (lambda f: f.update({"Metadata.csv": _meta("Symbian")}), "unknown platform 'symbian'"),
    (lambda f: f.pop("Gravity.csv"), "Accelerometer.csv without Gravity.csv"),
    (lambda f: (f.pop("Accelerometer.csv"), f.pop("Gravity.csv")), "without Accelerometer.csv"),
    (lambda f: f.update({"Gyroscope.csv": "time,seconds_elapsed,z,y,x\n1,0.0,a,b,c\n"}),
     "Gyroscope.csv: column 'x' must hold numbers"),
])
def test_sensorlogger_bad_exports_say_what_is_wrong(tmp_path: Path, change, message: str) -> None:
    files = _flat("iOS")
    change(files)
    zpath = _write_zip(tmp_path / "x.zip", files)
    with pytest.raises(RawFormatError, match=message) as exc:
        read_session(zpath, runner_id="r")
    assert str(zpath) in str(exc.value)


def test_phone_export_needs_a_runner_and_a_real_zip(tmp_path: Path) -> None:
    zpath = _write_zip(tmp_path / "a.zip", _flat("iOS"))
    with pytest.raises(RawFormatError, match="names no runner; give --runner"):
        read_session(zpath)
    with pytest.raises(RawFormatError, match="drop --start"):
        read_session(zpath, runner_id="r", start="2024-01-01T00:00:00Z")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(zpath.read_bytes()[:200])
    with pytest.raises(RawFormatError, match=r"broken\.zip: not a readable zip file"):
        read_session(broken, runner_id="r")
    other = _write_zip(tmp_path / "other.zip", {"notes.csv": "a,b\n1,2\n"})
    with pytest.raises(RawFormatError, match=r"other.zip: not a phone export imuback reads.*notes.csv"):
        read_session(other, runner_id="r")


def _phyphox(tmp_path: Path, *, time_csv: bool = True, acc_name: str = "Acceleration") -> Path:
    """Acceleration with g and gyroscope at 50 Hz; paused from experiment time 0.4 s for 10 s."""
    t = np.arange(N) * 0.02
    acc = [f'"Time (s)","{acc_name} x (m/s^2)","{acc_name} y (m/s^2)","{acc_name} z (m/s^2)"']
    acc += [f"{v:.3f},0.0,{G_MPS2},0.0" for v in t]  # upright, top up: +g along +y
    gyr = ['"Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"']
    gyr += [f"{v:.3f},0.5,0.0,0.0" for v in t]
    files = {"Accelerometer.csv": "\n".join(acc) + "\n", "Gyroscope.csv": "\n".join(gyr) + "\n",
             "meta/device.csv": '"property","value"\n"deviceModel","Pixel"\n'}
    if time_csv:
        files["meta/time.csv"] = ('"event","experiment time","system time","system time text"\n'
                                  '"START",0.000000000,1714980600.000,"2024-05-06 07:30:00.000 UTC+00:00"\n'
                                  '"PAUSE",0.400000000,1714980600.400,"2024-05-06 07:30:00.400 UTC+00:00"\n'
                                  '"START",0.400000000,1714980610.400,"2024-05-06 07:30:10.400 UTC+00:00"\n')
    return _write_zip(tmp_path / "Acceleration with g 2024-05-06.zip", files)


def test_phyphox_times_across_a_pause_units_and_signs(tmp_path: Path) -> None:
    raw = read_session(_phyphox(tmp_path), runner_id="r")
    assert raw.sensor == "phyphox" and raw.session_id == "Acceleration-with-g-2024-05-06-20240506T073000Z"
    rel_s = (raw.time_ns - T0_NS) / 1e9
    assert np.allclose(rel_s[:20], np.arange(20) * 0.02)  # before the pause
    assert np.allclose(rel_s[20:], 10.0 + np.arange(20, N) * 0.02)  # after it: 10 s later in UTC
    assert np.allclose(raw.acc_mps2, [0.0, G_MPS2, 0.0], atol=1e-5)
    assert raw.gyr_dps is not None and np.allclose(raw.gyr_dps, [np.degrees(0.5), 0.0, 0.0], atol=1e-4)
    assert raw.gaps == ()  # the pause is not a hole in the gyroscope: both streams have a sample there


def test_phyphox_bad_exports(tmp_path: Path) -> None:
    with pytest.raises(RawFormatError, match=r"no meta/time\.csv, so the start time is unknown"):
        read_session(_phyphox(tmp_path, time_csv=False), runner_id="r")
    raw = read_session(_phyphox(tmp_path, time_csv=False), runner_id="r", start="2024-05-06T07:30:00Z")
    assert raw.time_ns[0] == T0_NS
    with pytest.raises(RawFormatError, match="'Linear Acceleration' export"):
        read_session(_phyphox(tmp_path, acc_name="Linear Acceleration"), runner_id="r")


def test_api_read_names_the_format(tmp_path: Path) -> None:
    zpath = _write_zip(tmp_path / "a.zip", _flat("Android"))
    assert api.read(zpath, format="sensorlogger", runner_id="r").sensor.startswith("Sensor Logger")
    with pytest.raises(RawFormatError, match=r"not a phyphox export"):
        api.read(zpath, format="phyphox", runner_id="r")
    with pytest.raises(RawFormatError, match="unknown format 'garmin'"):
        api.read(zpath, format="garmin", runner_id="r")  # type: ignore[arg-type]


# --- a simulated phone in a loose belt, exported and read back ---------------------------------

PHONE = RunnerParams(run_minutes=1.0, stand_start_s=5.0, stand_end_s=5.0, walk_start_s=10.0, walk_end_s=10.0,
                     sample_rate_hz=100.0, timestamp_jitter_us=2000.0, mounting_random=True, belt_bounce_hz=8.0,
                     belt_shifts_per_10min=2.0, gaps_per_hour=0.0)
"""benchmarks/sim_accuracy.py's phone scenario, shortened: any orientation, bouncing, re-seated, jittered."""


@pytest.fixture(scope="module")
def phone_run() -> SimulatedSession:
    return simulate_session(PHONE, seed=3, session_id="belt", runner_id="r",
                            start_time=datetime(2024, 5, 6, 7, 30, tzinfo=UTC))


@pytest.mark.parametrize("fmt", ["sensorlogger-ios", "sensorlogger-android", "phyphox"])
def test_simulated_phone_export_gives_the_same_steps(tmp_path: Path, phone_run: SimulatedSession, fmt: str) -> None:
    """Exported and read back, the session has the same specific force and the same steps,
    feet and cadence as the simulated recording itself (the gyroscope, stamped 3 ms off on
    Sensor Logger, is interpolated back onto the accelerometer's times)."""
    raw0 = phone_run.raw
    if fmt == "phyphox":
        path = write_phyphox(raw0, tmp_path / "p.zip")
    else:
        path = write_sensorlogger(raw0, tmp_path / "s.zip", platform=fmt.split("-")[1])
    back = read_session(path, runner_id="r")
    lost = raw0.n_samples - back.n_samples
    assert lost <= 1  # Sensor Logger's first sample precedes the gyroscope's
    assert np.allclose(back.acc_mps2, raw0.acc_mps2[lost:], atol=1e-4)
    a, b = process_raw(raw0), process_raw(dataclasses.replace(back, session_id="belt"))
    for key in ("n_run_steps", "n_walk_steps"):
        assert b.summary[key] == a.summary[key]
    assert b.summary["median_cadence_spm"] == pytest.approx(a.summary["median_cadence_spm"], rel=2e-3)
    feet_a, feet_b = a.steps.column("foot").to_pylist(), b.steps.column("foot").to_pylist()
    assert np.mean(np.array(feet_a) == np.array(feet_b)) > 0.98


def test_process_a_phone_export_from_the_command_line(tmp_path: Path, phone_run: SimulatedSession, capsys) -> None:
    zpath = write_sensorlogger(phone_run.raw, tmp_path / "Morning run.zip")
    ds = tmp_path / "ds"
    assert main(["process", str(zpath), "--dataset", str(ds)]) == 1
    assert "names no runner; give --runner" in capsys.readouterr().err
    assert main(["process", str(zpath), "--dataset", str(ds), "--runner", "ann", "--session", "tue"]) == 0
    assert "session tue (" in capsys.readouterr().out
    assert (ds / "steps" / "runner=ann" / "session=tue").is_dir()
    assert main(["process", str(zpath), str(zpath), "--dataset", str(ds), "--runner", "ann", "--session", "x"]) == 2


def test_byte_order_mark_and_a_folder_that_is_no_export(tmp_path: Path) -> None:
    """A UTF-8 byte order mark (spreadsheet round trips add one) is read past; a folder of other
    files given with a runner says it is a folder, not that it carries ids."""
    files = _flat("Android")
    files["Accelerometer.csv"] = "\ufeff" + files["Accelerometer.csv"]
    raw = read_session(_write_zip(tmp_path / "bom.zip", files), runner_id="r")
    assert raw.n_samples == N - 1
    other = tmp_path / "notes"
    other.mkdir()
    (other / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(RawFormatError, match="is a folder, not a raw session file"):
        read_session(other, runner_id="r")


def _with_location(zpath: Path, t_ns: np.ndarray, speed: np.ndarray) -> Path:
    """Add a Location.csv (UNITS.md: ``speed`` in m/s, negative = invalid) to a Sensor Logger zip."""
    rows = ["time,seconds_elapsed,bearingAccuracy,speedAccuracy,verticalAccuracy,horizontalAccuracy,speed,"
            "bearing,altitude,longitude,latitude"]
    rows += [f"{t},{(t - t_ns[0]) / 1e9},5,0.5,3,4,{v},90,50,8.5,47.3" for t, v in zip(t_ns, speed, strict=True)]
    with zipfile.ZipFile(zpath, "a") as zf:
        zf.writestr("Location.csv", "\n".join(rows) + "\n")
    return zpath


def test_gps_speed_is_kept_per_sample_and_per_step(tmp_path: Path, phone_run: SimulatedSession) -> None:
    """Location.csv's speed (1 Hz fixes) goes onto the samples (NaN before the first fix, in a hole
    of more than 3 fixes and where a fix is invalid) and into steps.speed_mps as the mean over
    each step; it survives the raw Parquet file; without GPS the column is null."""
    from imuback.store.raw import read_raw, write_raw

    raw0 = phone_run.raw
    t0 = int(raw0.time_ns[0])
    fix_ns = t0 + np.arange(20, 120) * 1_000_000_000  # fixes from 20 s to 119 s, one a second
    speed = 2.0 + 0.01 * np.arange(fix_ns.size)  # 2.00 .. 2.99 m/s
    speed[40:50] = -1.0  # invalid fixes (UNITS.md): a hole of 10 s from 60 s to 69 s
    zpath = _with_location(write_sensorlogger(raw0, tmp_path / "gps.zip", platform="android"), fix_ns, speed)
    raw = read_session(zpath, runner_id="r")
    assert raw.speed_mps is not None
    rel_s = (raw.time_ns - t0) / 1e9
    assert np.isnan(raw.speed_mps[rel_s < 19.9]).all() and np.isnan(raw.speed_mps[(rel_s > 60) & (rel_s < 69)]).all()
    inside = (rel_s > 21) & (rel_s < 59)
    assert np.allclose(raw.speed_mps[inside], 2.0 + 0.01 * (rel_s[inside] - 20), atol=1e-4)
    back = read_raw(write_raw(tmp_path / "gps.parquet", raw))
    assert np.array_equal(np.isnan(back.speed_mps), np.isnan(raw.speed_mps))  # type: ignore[arg-type]
    steps = process_raw(back).steps.to_pandas()
    ic_s = (steps["ic_time"].astype("int64") - t0) / 1e9
    got = steps["speed_mps"]
    mid = ic_s + steps["step_time_s"] / 2
    ok = (ic_s > 21) & (ic_s < 58) & steps["step_time_s"].notna()
    assert ok.sum() > 50 and np.allclose(got[ok], 2.0 + 0.01 * (mid[ok] - 20), atol=2e-3)
    assert got[(ic_s < 19) | ((ic_s > 61) & (ic_s < 68))].isna().all()
    assert process_raw(raw0).steps.column("speed_mps").null_count == process_raw(raw0).steps.num_rows


@pytest.mark.parametrize("content", ["", "time,seconds_elapsed,speed,latitude,longitude\n"],
                         ids=["zero-byte", "header-only"])
def test_a_location_file_without_a_fix_reads_as_no_gps(tmp_path: Path, phone_run: SimulatedSession,
                                                       content: str) -> None:
    """The app's location on but no fix (indoors, a treadmill): Location.csv holds no row; the run
    is read with no GPS speed, as without the file, not refused."""
    zpath = write_sensorlogger(phone_run.raw, tmp_path / "indoor.zip", platform="ios")
    plain = read_session(zpath, runner_id="r")
    with zipfile.ZipFile(zpath, "a") as zf:
        zf.writestr("Location.csv", content)
    raw = read_session(zpath, runner_id="r")
    assert raw.speed_mps is not None and np.isnan(raw.speed_mps).all()
    assert np.array_equal(raw.time_ns, plain.time_ns) and np.array_equal(raw.acc_mps2, plain.acc_mps2)


def test_a_speed_that_is_not_a_ground_speed_is_refused() -> None:
    from imuback.core import RawSession

    t = np.arange(10, dtype=np.int64) * 10_000_000
    acc = np.tile(np.float32([0, 0, G_MPS2]), (10, 1))
    with pytest.raises(RawFormatError, match="speed_mps has 1 values that are not a ground speed"):
        RawSession(session_id="s", runner_id="r", sensor="x", sample_rate_hz=100.0, time_ns=t, acc_mps2=acc,
                   gyr_dps=None, speed_mps=np.float32([1, 2, -3, 4, 5, 6, 7, 8, 9, np.nan]))


def test_phyphox_start_beside_meta_time_must_be_its_first_start(tmp_path: Path) -> None:
    """meta/time.csv times the export: a start at its first START is accepted (its offset is where
    it was recorded), another is refused naming both, never silently ignored."""
    path = _phyphox(tmp_path)
    raw = read_session(path, runner_id="r", start="2024-05-06T09:30:00+02:00")
    assert raw.time_ns[0] == T0_NS and raw.utc_offset_min == 120
    with pytest.raises(RawFormatError, match=r"meta/time\.csv's first START is at 2024-05-06T07:30:00Z, not the "
                                             r"2024-05-06T08:00:00Z given; drop --start"):
        read_session(path, runner_id="r", start="2024-05-06T08:00:00Z")
