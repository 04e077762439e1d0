"""The CLI end to end into tmp_path: scan, record --simulate, recover."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imuback.cli import build_parser, main
from imuback.cli.collect import _sim_raw
from imuback.formats.zone import local_offset_min
from imuback.store.raw import read_raw


def test_help_for_every_collect_command(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("scan", "record", "recover"):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([cmd, "--help"])
        assert exc.value.code == 0
        assert "usage: imuback " + cmd in capsys.readouterr().out


def test_scan_simulate_lists_the_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--simulate", "--timeout", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "imuback" in out and "F0:F0:F0:F0:F0:F0" in out


def test_record_simulate_then_recover_pending(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--simulate", "--minutes", "0.3", "--rate", "208", "--speedup", "12",
                 "--out", str(tmp_path), "--runner", "ann", "--session", "s1", "--quiet"]) == 0
    assert "0 samples missing" in capsys.readouterr().out
    raw = read_raw(tmp_path / "s1.parquet")
    sent = _sim_raw(0.3, 208.0, 7, "ann", "s1")  # the simulated run the sensor streamed (seed 7)
    assert raw.runner_id == "ann" and raw.n_samples == sent.n_samples
    np.testing.assert_allclose(raw.acc_mps2, sent.acc_mps2, atol=16 * 9.80665 / 32768)  # int16 counts
    assert raw.utc_offset_min == local_offset_min(int(raw.time_ns[0]))  # recorded here: this computer's zone


def test_record_writes_the_zone_given_and_refuses_a_bad_one(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--simulate", "--minutes", "0.2", "--speedup", "12", "--out", str(tmp_path),
                 "--session", "kol", "--quiet", "--time-zone", "+05:30"]) == 0
    assert read_raw(tmp_path / "kol.parquet").utc_offset_min == 330
    capsys.readouterr()
    assert main(["record", "--simulate", "--minutes", "0.2", "--out", str(tmp_path), "--session", "bad",
                 "--quiet", "--time-zone", "Mars/Olympus"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'Mars/Olympus' is not a time zone" in err
    assert not (tmp_path / "bad.parquet").exists()  # refused before recording


def test_record_without_address_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--out", str(tmp_path), "--runner", "ann"]) == 2
    assert "--address" in capsys.readouterr().err


def test_a_real_sensor_is_never_recorded_under_a_default_runner(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--address", "AA:BB:CC:DD:EE:FF", "--out", str(tmp_path / "rec")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--runner" in err
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


def test_recover_rejects_a_non_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "x.journal"
    p.write_bytes(b"not a journal")
    assert main(["recover", str(p)]) == 2
    assert "not an imuback journal" in capsys.readouterr().err


def test_record_writes_the_nominal_mounting_of_the_chosen_sensor() -> None:
    from imuback.cli.collect import RECOMMENDED_MOUNTING, _mounting

    r = np.asarray(RECOMMENDED_MOUNTING)
    assert np.allclose(r @ r.T, np.eye(3)) and np.linalg.det(r) > 0
    assert np.allclose(r @ [0.0, 9.81, 0.0], [0.0, 0.0, 9.81])  # chip +y up reads gravity on body z
    assert _mounting(None, "imuback") == RECOMMENDED_MOUNTING
    assert _mounting(None, "polar") is None  # not known: the raw file says its identity is a placeholder
    assert _mounting("[[0,1,0],[-1,0,0],[0,0,1]]", "polar") == [[0, 1, 0], [-1, 0, 0], [0, 0, 1]]
    with pytest.raises(Exception, match="rotation"):
        _mounting("[[1,0,0],[0,1,0],[0,0,-1]]", "imuback")


def test_record_takes_mounting_unknown_and_refuses_a_bad_one_before_recording(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from imuback.cli.collect import _mounting

    assert _mounting("unknown", "imuback") is None  # not known: the file says so
    with pytest.raises(SystemExit):
        main(["record", "--help"])
    assert "'unknown'" in capsys.readouterr().out
    assert main(["record", "--simulate", "--minutes", "0.2", "--out", str(tmp_path / "rec"),
                 "--mounting", "bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: --mounting: not a JSON 3x3 matrix nor one of ['identity', 'recommended'] (Expecting "
                   "value: line 1 column 1 (char 0)); or 'unknown' when it is not known")
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


YAW_90 = [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""Sensor turned 90° about the vertical: its +x points to the runner's left (v_body = R @ v_sensor)."""


def test_record_simulate_straps_the_sensor_on_as_the_mounting_says(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``record --simulate --mounting R``: the file states R and its samples are in that sensor's frame
    (R @ sample = the default recording's sample), so processing it gives the same steps, cadence and
    body-frame metrics, and the same small misalignment (turned the wrong way, R.T, it would be 90°+)."""
    import json

    import pyarrow.compute as pc

    from imuback.cli.collect import RECOMMENDED_MOUNTING
    from imuback.store.dataset import read_table

    base = ["record", "--simulate", "--minutes", "0.3", "--speedup", "12", "--out", str(tmp_path), "--runner", "ann",
            "--quiet"]
    mountings = {"default": None, "yaw": YAW_90, "recommended": RECOMMENDED_MOUNTING}
    for name, r in mountings.items():
        given = [] if r is None else ["--mounting", "recommended" if name == "recommended" else json.dumps(r)]
        assert main([*base, "--session", name, *given]) == 0
    assert main([*base, "--session", "unknown", "--mounting", "unknown"]) == 0
    capsys.readouterr()
    default = read_raw(tmp_path / "default.parquet")
    assert np.allclose(default.mounting, np.eye(3))  # the simulator's own, as before
    assert read_raw(tmp_path / "unknown.parquet").mounting_source == "assumed"  # not told: the file says so
    sessions = {}
    for name, r in mountings.items():
        raw = read_raw(tmp_path / f"{name}.parquet")
        if r is not None:
            assert raw.mounting_source == "file" and np.allclose(raw.mounting, r)
            assert raw.n_samples == default.n_samples
            lsb = 16 * 9.80665 / 32768
            np.testing.assert_allclose(raw.acc_mps2 @ np.asarray(r).T, default.acc_mps2, atol=2 * lsb)
            assert raw.gyr_dps is not None and default.gyr_dps is not None
            np.testing.assert_allclose(raw.gyr_dps @ np.asarray(r).T, default.gyr_dps, atol=0.2)
        assert main(["process", str(tmp_path / f"{name}.parquet"), "--dataset", str(tmp_path / "ds")]) == 0
    for row in read_table(tmp_path / "ds", "sessions").to_pylist():
        sessions[row["session_id"]] = row
    ref = sessions["default"]
    assert ref["n_run_steps"] > 40 and ref["n_walk_steps"] > 40 and ref["misalignment_deg"] < 30  # the simulated tilt
    steps = read_table(tmp_path / "ds", "steps")

    def ic_s(name: str) -> np.ndarray:  # initial contacts, s since the file's first sample
        ic = steps.filter(pc.equal(steps["session_id"], name))["ic_time"].to_numpy().astype("datetime64[ns]")
        return (ic.astype(np.int64) - int(read_raw(tmp_path / f"{name}.parquet").time_ns[0])) / 1e9

    ref_ic = ic_s("default")
    for name in ("yaw", "recommended"):
        row = sessions[name]
        assert row["mounting_source"] == "file" and np.allclose(json.loads(row["mounting_nominal"]), mountings[name])
        assert (row["n_run_steps"], row["n_walk_steps"]) == (ref["n_run_steps"], ref["n_walk_steps"])
        assert abs(row["misalignment_deg"] - ref["misalignment_deg"]) < 1.0
        for col in ("median_cadence_spm", "median_contact_time_s", "median_pelvis_tilt_deg",
                    "median_pelvis_obliquity_deg", "median_pelvis_rotation_deg", "median_braking_peak_g",
                    "median_ml_excursion_cm"):
            assert row[col] == pytest.approx(ref[col], rel=0.02, abs=0.05), col
        ic = ic_s(name)
        assert ic.shape == ref_ic.shape and np.max(np.abs(ic - ref_ic)) <= 0.01


def test_record_simulate_streams_at_the_rate_a_real_sensor_picks_and_names_sessions_by_utc_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review 32, 9: ``--rate`` outside the family's range is refused in one line before anything is
    written; inside it the simulated imuback sensor streams at the nearest rate it supports (100 -> 104 Hz,
    firmware_notes/protocol.md); the default session id is ``<runner>-<UTC time>`` (a second recording
    into the same folder is another file); a session that exists is refused before recording."""
    import re

    out = tmp_path / "rec"
    base = ["record", "--simulate", "--minutes", "0.2", "--speedup", "40", "--runner", "dee", "--quiet",
            "--out", str(out)]
    assert main([*base, "--rate", "25", "--sensor", "imuback"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --rate 25: the imuback sensor streams at 52-1600 Hz; give a rate in that range", err
    assert not out.exists() or not any(out.iterdir())
    assert main([*base, "--rate", "500", "--sensor", "polar"]) == 2
    assert "the polar sensor streams at 26-416 Hz" in capsys.readouterr().err
    assert main([*base, "--rate", "100"]) == 0
    assert main(base) == 0
    capsys.readouterr()
    files = sorted(out.glob("*.parquet"))
    assert len(files) == 2 and all(re.fullmatch(r"dee-\d{8}T\d{6}Z", f.stem) for f in files), files
    assert sorted(read_raw(f).sample_rate_hz for f in files) == [104.0, 208.0]
    taken = files[0].stem
    assert main([*base, "--session", taken, "--rate", "25"]) == 2  # every argument checked first
    assert "--rate 25" in capsys.readouterr().err
    assert main([*base, "--session", taken]) == 2
    assert capsys.readouterr().err.strip() == f"error: {out / taken}.parquet already exists; choose another --session"
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in files)  # no journal left behind


def test_the_status_lines_clock_is_the_recordings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review 34, 2: with --simulate the status line's clock ran from the start, scanning and connecting
    included (x speedup): it stopped at 02:05 for 1 min 51 s recorded. Its clock is now the recording's,
    and its last line and the summary give the file's length."""
    import re

    assert main(["record", "--simulate", "--sensor", "polar", "--minutes", "0.2", "--speedup", "20",
                 "--out", str(tmp_path), "--session", "p"]) == 0
    cap = capsys.readouterr()
    raw = read_raw(tmp_path / "p.parquet")
    m, s = divmod(round((raw.time_ns[-1] - raw.time_ns[0]) / 1e9 + 1 / raw.sample_rate_hz), 60)
    assert re.search(rf": {m} min {s:02d} s recorded from .* \({raw.n_samples} samples\)", cap.out), cap.out
    lines = cap.err.strip().splitlines()  # not a terminal: plain lines, the last when it stopped
    last = f"{m:02d}:{s:02d}  stopped at {raw.sample_rate_hz:g} Hz  {raw.n_samples} samples"
    assert lines[-1].startswith(last), lines
