"""BIDS-motion (src/imuback/formats/bids.py): what ``imuback export bids`` writes reads back the
same, and a BIDS-motion recording from another tool (BIDS 1.10 motion datatype: ``*_motion.tsv``
without a header, ``*_channels.tsv`` naming its columns, ``*_motion.json``) is read in its units.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from imuback.batch.bids import export_bids
from imuback.cli import main
from imuback.core import G_MPS2
from imuback.errors import RawFormatError
from imuback.formats import detect_format, read_session
from imuback.formats.mobgap import MOBILISED_LOWER_BACK_R
from imuback.store.raw import write_raw
from tests.signal.analytic import half_sine_run


def _export(tmp_path: Path, raw) -> Path:
    src = write_raw(tmp_path / "raw" / f"{raw.session_id}.parquet", raw)
    result = export_bids([src], out_dir=tmp_path / "bids")
    assert not result.failures
    (motion,) = result.sessions
    return Path(motion)


@pytest.mark.parametrize("gyro", [True, False])
def test_export_then_read_gives_the_same_session(tmp_path, gyro):
    raw = half_sine_run(minutes=0.5, gyro=gyro)[0]
    raw = dataclasses.replace(raw, runner_id="ann_01", session_id="2024-03-04.run", sensor="Polar Verity Sense",
                              mounting=MOBILISED_LOWER_BACK_R)
    motion = _export(tmp_path, raw)
    assert detect_format(motion) == "bids"
    back = read_session(motion)
    assert (back.runner_id, back.session_id, back.sensor) == ("ann_01", "2024-03-04.run", "Polar Verity Sense")
    assert back.sample_rate_hz == raw.sample_rate_hz
    # latency and acq_time are written to the microsecond
    assert np.abs(back.time_ns - raw.time_ns).max() < 1000
    assert np.array_equal(back.acc_mps2, raw.acc_mps2)  # float32 text round trip: the same numbers
    if gyro:
        assert np.array_equal(back.gyr_dps, raw.gyr_dps)
    else:
        assert back.gyr_dps is None
    assert np.array_equal(back.mounting, MOBILISED_LOWER_BACK_R)


def test_a_two_axis_session_exports_two_accel_channels_and_reads_back(tmp_path):
    raw = half_sine_run(minutes=0.5, gyro=False)[0]
    acc = raw.acc_mps2.copy()
    acc[:, 1] = 0.0  # a sacral accelerometer without a mediolateral channel
    raw = dataclasses.replace(raw, acc_mps2=acc, acc_absent=("acc_y",))
    motion = _export(tmp_path, raw)
    channels = motion.with_name(motion.name.replace("_motion.tsv", "_channels.tsv")).read_text()
    assert "acc_x\tx\tACCEL" in channels and "acc_y" not in channels
    sidecar = json.loads(motion.with_name(motion.name.replace(".tsv", ".json")).read_text())
    assert sidecar["ACCELChannelCount"] == 2
    back = read_session(motion)  # the file declares the two axes: no dead-axis refusal
    assert back.acc_absent == ("acc_y",)
    assert np.array_equal(back.acc_mps2, raw.acc_mps2)
    assert main(["process", str(motion), "--dataset", str(tmp_path / "ds")]) == 0


def test_missing_samples_stay_missing_rows(tmp_path):
    raw = half_sine_run(minutes=0.5)[0]
    keep = np.ones(raw.n_samples, bool)
    keep[1000:1040] = False  # a 0.2 s gap
    raw = dataclasses.replace(raw, time_ns=raw.time_ns[keep], acc_mps2=raw.acc_mps2[keep],
                              gyr_dps=raw.gyr_dps[keep])
    back = read_session(_export(tmp_path, raw))
    assert back.n_samples == raw.n_samples and np.abs(back.time_ns - raw.time_ns).max() < 1000


def _foreign(tmp_path: Path, *, acc_units: str = "g", gyr_units: str = "rad/s",
             acq_time: str = "2023-01-02T03:04:05.250000Z") -> tuple[Path, np.ndarray]:
    """One IMU from another tool: acc in g, gyro in rad/s, no latency channel, rate in motion.json."""
    raw = half_sine_run(fs=100.0, minutes=0.25)[0]
    d = tmp_path / "sub-p07" / "ses-lab1" / "motion"
    d.mkdir(parents=True)
    stem = "sub-p07_ses-lab1_task-walk_tracksys-imu1"
    data = np.column_stack([raw.acc_mps2 / G_MPS2, np.radians(raw.gyr_dps.astype(np.float64))])
    np.savetxt(d / f"{stem}_motion.tsv", data, delimiter="\t", fmt="%.8f")
    rows = ["name\tcomponent\ttype\ttracked_point\tunits"]
    rows += [f"acc_{a}\t{a}\tACCEL\tpelvis\t{acc_units}" for a in "xyz"]
    rows += [f"gyr_{a}\t{a}\tGYRO\tpelvis\t{gyr_units}" for a in "xyz"]
    (d / f"{stem}_channels.tsv").write_text("\n".join(rows) + "\n")
    (d / f"{stem}_motion.json").write_text(json.dumps({"SamplingFrequency": 100, "TaskName": "walk"}))
    (d.parent / "sub-p07_ses-lab1_scans.tsv").write_text(
        f"filename\tacq_time\nmotion/{stem}_motion.tsv\t{acq_time}\n")
    return d / f"{stem}_motion.tsv", raw


def test_a_recording_from_another_tool_is_read_in_its_units(tmp_path):
    path, raw = _foreign(tmp_path)
    back = read_session(path)
    assert (back.runner_id, back.session_id) == ("p07", "lab1")  # the sub-/ses- labels
    assert str(np.datetime64(int(back.time_ns[0]), "ns")) == "2023-01-02T03:04:05.250000000"
    assert np.array_equal(np.diff(back.time_ns), np.full(back.n_samples - 1, 10_000_000))
    assert np.allclose(back.acc_mps2, raw.acc_mps2, atol=1e-5)  # g -> m/s²
    assert np.allclose(back.gyr_dps, raw.gyr_dps, atol=1e-4)  # rad/s -> deg/s
    assert read_session(path, runner_id="r9").runner_id == "r9"


def test_a_runner_participants_tsv_states_is_kept_and_another_given_refused(tmp_path, capsys):
    """``imuback_runner_id`` in participants.tsv is the file's own runner, kept as every format keeps
    the one it states: the same given is accepted, another refused naming both (a given one used to
    win silently); a participants.tsv without that column (or n/a) takes the runner given."""
    import imuback

    raw = dataclasses.replace(half_sine_run(minutes=0.5)[0], runner_id="ann_01")
    motion = _export(tmp_path, raw)
    sub = motion.name.split("_ses-")[0]
    assert read_session(motion, runner_id="ann_01").runner_id == "ann_01"
    refusal = (f"{motion}: participants.tsv gives {sub} imuback_runner_id = 'ann_01', not the 'bob' given; drop "
               "{} or correct participants.tsv")
    with pytest.raises(RawFormatError) as err:
        read_session(motion, runner_id="bob")
    assert str(err.value) == refusal.format("--runner (runner_id= in Python)")
    with pytest.raises(RawFormatError) as err:
        imuback.read(motion, runner_id="bob")
    assert str(err.value) == refusal.format("runner_id=")
    assert main(["process", str(motion), "--dataset", str(tmp_path / "ds"), "--runner", "bob"]) == 1
    assert capsys.readouterr().err.strip() == "error: " + refusal.format("--runner (runner_id= in Python)")
    path, _ = _foreign(tmp_path / "other")
    for participants in ("participant_id\tage\nsub-p07\t31\n", "participant_id\timuback_runner_id\nsub-p07\tn/a\n"):
        (tmp_path / "other" / "participants.tsv").write_text(participants)
        assert read_session(path).runner_id == "p07"  # the sub- label
        assert read_session(path, runner_id="r9").runner_id == "r9"


def test_a_lower_case_z_is_utc_in_acq_time_and_start(tmp_path):
    """RFC 3339 allows ``z`` for ``Z``: UTC in a *_scans.tsv acq_time and in a given start."""
    from imuback.formats.identity import start_ns

    path, _ = _foreign(tmp_path, acq_time="2023-01-02T03:04:05.250000z")
    assert str(np.datetime64(int(read_session(path).time_ns[0]), "ns")) == "2023-01-02T03:04:05.250000000"
    assert start_ns("2024-03-04T07:00:00z", src="x") == start_ns("2024-03-04T07:00:00Z", src="x")


def test_an_acq_time_without_z_has_no_zone_and_needs_start(tmp_path, capsys):
    """BIDS: without Z, acq_time is "the local time of the dataset viewer": no single moment."""
    path, _ = _foreign(tmp_path, acq_time="2023-01-02T03:04:05.250000")
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: acq_time '2023-01-02T03:04:05.250000' in the "
                                             r"\*_scans\.tsv has no Z.*--start 2023-01-02T03:04:05.250000\+01:00"):
        read_session(path)
    back = read_session(path, start="2023-01-02T03:04:05.25+01:00")  # the moment, with its zone
    assert str(np.datetime64(int(back.time_ns[0]), "ns")) == "2023-01-02T02:04:05.250000000"
    with pytest.raises(RawFormatError, match=r"--start '2023-01-02T03:04:05' has no time zone"):
        read_session(path, start="2023-01-02T03:04:05")
    assert main(["process", str(path), "--dataset", str(tmp_path / "ds")]) == 1
    assert "has no Z" in capsys.readouterr().err


def test_an_export_from_an_older_imuback_without_z_is_utc(tmp_path):
    """imuback wrote its UTC acq_time without the Z before 0.15: its own datasets still read."""
    raw = half_sine_run(minutes=0.1)[0]
    motion = _export(tmp_path, raw)
    scans = next(motion.parent.parent.glob("*_scans.tsv"))
    scans.write_text(scans.read_text().replace("Z\n", "\n"))
    assert "Z" not in scans.read_text().splitlines()[1]
    assert read_session(motion).time_ns[0] == raw.time_ns[0]


def test_bad_bids_channels_are_named(tmp_path):
    path, _ = _foreign(tmp_path, gyr_units="rad/min")
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: GYRO units 'rad/min' not understood"):
        read_session(path)
    channels = path.with_name(path.name.replace("_motion.tsv", "_channels.tsv"))
    channels.write_text("\n".join(channels.read_text().splitlines()[:-1]) + "\n")  # a GYRO channel fewer
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: 2 GYRO channels; imuback reads one tracked point"):
        read_session(path)
    rows = channels.read_text().splitlines()
    channels.write_text("\n".join([rows[0], rows[1], rows[1], rows[3], *rows[4:]]) + "\n")  # acc_x twice
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: ACCEL channels have components \['x', 'z'\]"):
        read_session(path)


def test_a_motion_file_without_its_channels_file_is_named(tmp_path):
    motion = _export(tmp_path, half_sine_run(minutes=0.1)[0])
    channels = motion.with_name(motion.name.replace("_motion.tsv", "_channels.tsv"))
    channels.unlink()
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: a BIDS \*_motion\.tsv without its .*_channels\.tsv "
                                             r"beside it"):
        read_session(motion)


def test_a_changed_sidecar_is_a_changed_recording(tmp_path, capsys):
    """The sidecars make the session as much as the samples do: editing only the sampling rate in
    ``*_motion.json`` or a unit in ``*_channels.tsv`` is another recording under the same ids, handled as
    a changed file is (refused without --replace, re-written with it), never skipped as already stored.
    """
    from imuback.cli.main import main
    from imuback.formats import file_sha256
    from imuback.store.dataset import read_table

    path, _ = _foreign(tmp_path / "bids")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds)]) == 0
    first = read_table(ds, "sessions").to_pylist()[0]
    assert main(["process", str(path), "--dataset", str(ds)]) == 0  # the same bytes: a no-op
    assert read_table(ds, "sessions").to_pylist()[0]["processed_at"] == first["processed_at"]

    motion_json = path.with_name(path.name.replace("_motion.tsv", "_motion.json"))
    motion_json.write_text(json.dumps({"SamplingFrequency": 50, "TaskName": "walk"}))  # only the sidecar
    assert file_sha256(path) != first["source_sha256"]
    capsys.readouterr()
    assert main(["process", str(path), "--dataset", str(ds)]) == 1  # not silently kept, not silently replaced
    assert "made from other bytes" in capsys.readouterr().err
    assert read_table(ds, "sessions").to_pylist()[0]["duration_s"] == first["duration_s"]
    assert main(["process", str(path), "--dataset", str(ds), "--replace"]) == 0
    second = read_table(ds, "sessions").to_pylist()[0]
    assert second["duration_s"] == pytest.approx(2 * first["duration_s"], rel=0.01)  # read at 50 Hz
    assert second["source_sha256"] == file_sha256(path)

    channels = path.with_name(path.name.replace("_motion.tsv", "_channels.tsv"))
    channels.write_text(channels.read_text().replace("rad/s", "deg/s"))  # a channel unit
    assert main(["process", str(path), "--dataset", str(ds)]) == 1
    channels_json = path.with_name(path.name.replace("_motion.tsv", "_channels.json"))
    before = file_sha256(path)
    channels_json.write_text(json.dumps({"reference_frame": {"Levels": {"sensor": {
        "NominalMountingRotation": [[0, 0, -1], [0, 1, 0], [1, 0, 0]]}}}}))
    assert file_sha256(path) != before


def test_a_session_hashed_before_its_sidecars_counted_names_the_upgrade(tmp_path, capsys, monkeypatch):
    """A BIDS session stored before schema 1.6 carries the hash of its ``*_motion.tsv`` alone: read again,
    it is refused (its sidecars may have changed unseen) with the reason and the one way on, not as a
    recording "made from other bytes"; ``--replace`` re-reads it and stores the full hash."""
    import hashlib

    import imuback.formats as formats
    from imuback.cli.main import main
    from imuback.store.dataset import read_table

    path, _ = _foreign(tmp_path / "bids")
    ds = tmp_path / "ds"
    with monkeypatch.context() as m:  # the hash before 1.6: the .tsv's bytes alone
        m.setattr(formats, "file_sha256", lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest())
        assert main(["process", str(path), "--dataset", str(ds)]) == 0
    capsys.readouterr()
    assert main(["process", str(path), "--dataset", str(ds)]) == 1
    err = capsys.readouterr().err
    assert "did not yet cover its BIDS sidecars" in err and "--replace" in err and "other bytes" not in err
    assert main(["process", str(path), "--dataset", str(ds), "--replace"]) == 0
    assert read_table(ds, "sessions").to_pylist()[0]["source_sha256"] == formats.file_sha256(path)
    path.write_text(path.read_text() + path.read_text().splitlines()[-1] + "\n")  # now the bytes differ
    assert main(["process", str(path), "--dataset", str(ds)]) == 1
    assert "other bytes" in capsys.readouterr().err


def test_a_batch_over_a_session_hashed_before_its_sidecars_says_to_replace_it_once(tmp_path, monkeypatch):
    """The batch's note on a failed file's stored session says the truth for this refusal: the file
    is not broken, ``--replace`` once re-reads it (not "an earlier version ... until the file is fixed")."""
    import hashlib

    import imuback.formats as formats
    from imuback.batch.runner import run_batch
    from imuback.store.errors_table import read_errors

    path, _ = _foreign(tmp_path / "bids")
    ds = tmp_path / "ds"
    with monkeypatch.context() as m:  # the hash before 1.6: the .tsv's bytes alone
        m.setattr(formats, "file_sha256", lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest())
        assert main(["process", str(path), "--dataset", str(ds)]) == 0
    assert run_batch([path], dataset=ds, workers=1, progress="none").counts["failed"] == 1
    (err,) = read_errors(ds).to_pylist()
    assert err["error_type"] == "SidecarsUnhashedError" and "did not yet cover its BIDS sidecars" in err["message"]
    assert "earlier version" not in err["message"] and "until the file is fixed" not in err["message"]
    assert err["message"].endswith("until a batch with --replace reads it again, once"), err["message"]
    assert (err["session_id"], err["runner_id"]) == ("lab1", "p07")
    assert run_batch([path], dataset=ds, workers=1, progress="none", replace=True).counts["processed"] == 1


def test_a_given_mounting_is_refused_when_it_differs_from_the_files_and_kept_when_equal(tmp_path):
    """As a CSV sidecar's: the NominalMountingRotation the file states is kept, never overridden."""
    import imuback
    from imuback.formats import read_sessions
    from imuback.formats.identity import RECOMMENDED_MOUNTING

    raw = dataclasses.replace(half_sine_run(minutes=0.1)[0], mounting=MOBILISED_LOWER_BACK_R)
    motion = _export(tmp_path, raw)
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: .*_channels\.json gives NominalMountingRotation "
                                             r"\[\[0\.0, 0\.0, 1\.0\].*, not the \[\[0\.0, 0\.0, -1\.0\], \[-1\.0, "
                                             r"0\.0, 0\.0\], \[0\.0, 1\.0, 0\.0\]\] given; drop --mounting "
                                             r"\(mounting= in Python\) or correct .*_channels\.json"):
        read_sessions(motion, runner_id="r1", mounting=RECOMMENDED_MOUNTING)
    with pytest.raises(RawFormatError, match=r"given; drop mounting= or correct") as py:
        imuback.read_sessions(motion, runner_id="r1", mounting=RECOMMENDED_MOUNTING)
    assert "--" not in str(py.value)
    (same,) = read_sessions(motion, runner_id="r1", mounting=np.asarray(MOBILISED_LOWER_BACK_R).tolist())
    assert same.mounting_source == "file" and np.array_equal(same.mounting, MOBILISED_LOWER_BACK_R)


def test_a_start_beside_an_acq_time_must_be_its_moment_and_only_then_gives_the_zone(tmp_path, capsys):
    """acq_time with Z gives the start: a --start at the same instant is accepted and its offset is
    where it was recorded; another instant is refused naming both, never silently ignored (with its
    offset stored as the session's zone)."""
    path, _ = _foreign(tmp_path)  # acq_time 2023-01-02T03:04:05.250000Z
    same = read_session(path, start="2023-01-02T04:04:05.25+01:00")
    assert str(np.datetime64(int(same.time_ns[0]), "ns")) == "2023-01-02T03:04:05.250000000"
    assert same.utc_offset_min == 60
    with pytest.raises(RawFormatError, match=r"_motion\.tsv: acq_time in sub-p07_ses-lab1_scans\.tsv is "
                                             r"2023-01-02T03:04:05\.25Z, not the 2024-03-04T07:00:00\+05:00 "
                                             r"given; drop --start \(start= in Python\) or correct the acq_time"):
        read_session(path, start="2024-03-04T07:00:00+05:00")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--start", "2024-03-04T07:00:00+05:00"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not the 2024-03-04T07:00:00+05:00 given" in err
    assert not (ds / "sessions").exists()
