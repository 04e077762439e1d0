import csv
import json
from pathlib import Path

import numpy as np
import pytest

from imuback.batch.bids import bids_label, export_bids
from imuback.batch.runner import run_batch
from imuback.cli import main
from imuback.store.dataset import read_table
from imuback.store.raw import read_raw, write_raw
from tests.batch.data import Study, running_session


def _tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_labels() -> None:
    assert bids_label("runner01") == "runner01"
    assert bids_label("r-1") != bids_label("r_1")  # distinct ids stay distinct
    assert bids_label("r-1").isalnum() and bids_label("---").isalnum()


def test_raw_sessions_as_bids_motion(study: Study, tmp_path: Path) -> None:
    out = tmp_path / "bids"
    result = export_bids([study.root], out_dir=out)
    assert len(result.sessions) == 6
    assert sorted(Path(p).name for p, _ in result.failures) == [
        "in_g.parquet", "nocol.csv", "truncated.parquet"]

    desc = json.loads((out / "dataset_description.json").read_text())
    assert desc["BIDSVersion"].startswith("1.") and desc["DatasetType"] == "raw"
    assert [r["participant_id"] for r in _tsv(out / "participants.tsv")] == ["sub-runner0",
                                                                            "sub-runner1"]
    src = study.good[0]
    raw = read_raw(src)
    motion = out / "sub-runner0" / "ses-r0s0" / "motion"
    stem = "sub-runner0_ses-r0s0_task-running_tracksys-imu"
    channels = _tsv(motion / f"{stem}_channels.tsv")
    assert [c["name"] for c in channels] == ["latency", "acc_x", "acc_y", "acc_z",
                                             "gyr_x", "gyr_y", "gyr_z"]
    assert [c["type"] for c in channels] == ["LATENCY"] + ["ACCEL"] * 3 + ["GYRO"] * 3
    assert [c["units"] for c in channels] == ["s"] + ["m/s^2"] * 3 + ["deg/s"] * 3
    assert [c["component"] for c in channels] == ["n/a", "x", "y", "z", "x", "y", "z"]
    assert {c["reference_frame"] for c in channels[1:]} == {"sensor"}

    data = np.loadtxt(motion / f"{stem}_motion.tsv", delimiter="\t")  # no header row
    assert data.shape == (raw.n_samples, len(channels))
    np.testing.assert_allclose(data[:, 0], (raw.time_ns - raw.time_ns[0]) / 1e9, atol=1e-6)
    np.testing.assert_allclose(data[:, 1:4], raw.acc_mps2, rtol=1e-6)
    np.testing.assert_allclose(data[:, 4:7], raw.gyr_dps, rtol=1e-6)

    sidecar = json.loads((motion / f"{stem}_motion.json").read_text())
    assert sidecar["SamplingFrequency"] == 200.0 and sidecar["TaskName"] == "running"
    assert sidecar["MotionChannelCount"] == 7 and sidecar["ACCELChannelCount"] == 3
    assert sidecar["RecordingDuration"] == pytest.approx(60.0, abs=0.01)
    assert "TrackingSystemName" in sidecar
    frames = json.loads((motion / f"{stem}_channels.json").read_text())
    level = frames["reference_frame"]["Levels"]["sensor"]
    assert level["NominalMountingRotation"] == np.eye(3).tolist()
    scans = _tsv(out / "sub-runner0" / "ses-r0s0" / "sub-runner0_ses-r0s0_scans.tsv")
    assert scans == [{"filename": f"motion/{stem}_motion.tsv",
                      "acq_time": "2023-11-14T22:13:20.000000Z"}]  # Z: UTC (BIDS)
    sessions = _tsv(out / "sub-runner0" / "sub-runner0_sessions.tsv")
    assert [s["imuback_session_id"] for s in sessions] == ["r0s0", "r0s1", "r0s2"]


def test_events_from_the_processed_steps(tmp_path: Path) -> None:
    src = write_raw(tmp_path / "raw" / "a-1.parquet", running_session("a-1", "r_1"))
    ds = tmp_path / "ds"
    run_batch([src], dataset=ds, workers=1, progress="none")
    out = tmp_path / "bids"
    export_bids([src], out_dir=out, dataset=ds)
    sub, ses = f"sub-{bids_label('r_1')}", f"ses-{bids_label('a-1')}"
    events = _tsv(out / sub / ses / "motion" / f"{sub}_{ses}_task-running_events.tsv")
    steps = read_table(ds, "steps")
    assert len(events) == steps.num_rows > 100
    assert {e["foot"] for e in events} == {"L", "R"}
    t0 = read_raw(src).time_ns[0]
    ic = steps["ic_time"].cast("int64").to_numpy()
    np.testing.assert_allclose([float(e["onset"]) for e in events], (ic - t0) / 1e9, atol=1e-6)
    assert (out / sub / ses / "motion" / f"{sub}_{ses}_task-running_events.json").exists()
    assert [r["imuback_runner_id"] for r in _tsv(out / "participants.tsv")] == ["r_1"]
    # every TSV's header as written, not as csv.DictReader gives it back (it strips quotes): plain names
    first = {p.name: p.read_text().split("\n", 1)[0] for p in out.rglob("*.tsv") if not p.name.endswith("_motion.tsv")}
    assert first[f"{sub}_{ses}_task-running_events.tsv"] == "onset\tduration\ttrial_type\tfoot\tactivity"
    assert len(first) == 5 and not [line for line in first.values() if '"' in line], first  # review 34 #5
    assert '"' not in next(out.rglob("*_motion.tsv")).read_text()  # samples: no header, nothing quoted


def test_cli(study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = [str(p) for p in study.good[:2]]
    assert main(["export", "bids", *good, "--out", str(tmp_path / "b")]) == 0
    assert "2 sessions exported as BIDS-motion" in capsys.readouterr().out
    assert main(["export", "bids", str(study.root), "--out", str(tmp_path / "b")]) == 1
    assert "3 files failed" in capsys.readouterr().out


def test_unreadable_and_unwritable_files_are_listed_and_skipped(
        study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow.parquet as pq

    odd = tmp_path / "odd"
    odd.mkdir()
    table = pq.read_table(study.good[0])
    meta = dict(table.schema.metadata or {})
    # Metadata that is not UTF-8: the reader cannot even decode the file's header.
    pq.write_table(table.replace_schema_metadata({**meta, b"imuback.sensor": b"\xff\xfe"}),
                   odd / "not_utf8.parquet")
    # A 300-character session id: its BIDS file names are longer than the file system allows.
    pq.write_table(table.replace_schema_metadata({**meta, b"imuback.session_id": b"s" * 300}),
                   odd / "long_id.parquet")
    out = tmp_path / "bids"
    inputs = [str(p) for p in study.good[:2]] + [str(odd / "not_utf8.parquet"), str(odd / "long_id.parquet")]
    assert main(["export", "bids", *inputs, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "2 sessions exported as BIDS-motion" in captured.out and "2 files failed" in captured.out
    assert "not_utf8.parquet" in captured.err and "long_id.parquet" in captured.err
    assert "Traceback" not in captured.err
    motion = sorted(out.glob("sub-*/ses-*/motion/*_motion.tsv"))
    assert len(motion) == 2
    assert len(_tsv(out / "participants.tsv")) >= 1
    # Nothing of the failed sessions is left behind: every session folder is complete.
    for ses_dir in out.glob("sub-*/ses-*"):
        assert len(list((ses_dir / "motion").glob("*_motion.tsv"))) == 1


def test_a_session_failing_halfway_leaves_no_files(study: Study, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from imuback.batch import bids

    real = bids._write_json
    failing = read_raw(study.good[1]).session_id

    def fails_for_one_session(path: Path, value: object) -> None:
        if path.name.endswith("_motion.json") and bids.bids_label(failing) in path.name:
            raise OSError(28, "No space left on device")
        real(path, value)

    monkeypatch.setattr(bids, "_write_json", fails_for_one_session)
    out = tmp_path / "bids"
    result = export_bids([str(p) for p in study.good[:3]], out_dir=out)
    assert len(result.sessions) == 2
    assert [f for f, _ in result.failures] == [str(study.good[1].resolve())]
    assert "No space left on device" in result.failures[0][1]
    assert not list(out.rglob(f"*ses-{bids.bids_label(failing)}*"))


def test_inputs_without_a_runner_id_take_the_runner_given(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A CSV names no runner: the error says to give --runner, and export bids takes one (as batch
    does); a raw Parquet names its own: another given is refused for it alone, as in a batch."""
    import pyarrow.csv as pacsv

    from imuback.store.raw import raw_to_table

    plain = tmp_path / "in" / "plain.csv"
    plain.parent.mkdir()
    pacsv.write_csv(raw_to_table(running_session("x", "ignored", minutes=0.5)), plain)
    own = write_raw(tmp_path / "in" / "own.parquet", running_session("s1", "bob", minutes=0.5))
    out = tmp_path / "b"
    assert main(["export", "bids", str(plain), "--out", str(out)]) == 1
    assert "no runner id" in capsys.readouterr().err
    assert main(["export", "bids", str(plain), str(own), "--out", str(out), "--runner", "ann"]) == 1
    printed = capsys.readouterr()
    assert "1 sessions exported" in printed.out
    assert "the file's imuback.runner_id is 'bob', not the 'ann' given" in printed.out + printed.err
    assert main(["export", "bids", str(own), "--out", str(out)]) == 0
    runners = {r["imuback_runner_id"] for r in _tsv(out / "participants.tsv")}
    assert runners == {"ann", "bob"}


def test_the_runner_given_follows_process_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As ``process --runner``: a raw Parquet file's own runner given again is exported, and so is a
    BIDS recording's (participants.tsv), another is refused naming both; an empty one is refused as
    an id, not taken for none given. ``batch --runner`` keeps the BIDS recording's own, as a raw
    Parquet file's."""
    import pyarrow.csv as pacsv

    from imuback.store.raw import raw_to_table

    own = write_raw(tmp_path / "in" / "own.parquet", running_session("s1", "bob", minutes=0.5))
    first = tmp_path / "first"
    assert main(["export", "bids", str(own), "--out", str(first), "--runner", "bob"]) == 0
    (motion,) = first.rglob("*_motion.tsv")
    again = tmp_path / "again"
    assert main(["export", "bids", str(motion), "--out", str(again), "--runner", "ann"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {motion}: participants.tsv gives sub-bob imuback_runner_id = 'bob', not the 'ann' given; drop "
        "--runner (runner_id= in Python) or correct participants.tsv")
    assert main(["export", "bids", str(motion), "--out", str(again), "--runner", "bob"]) == 0
    assert [r["imuback_runner_id"] for r in _tsv(again / "participants.tsv")] == ["bob"]
    plain = tmp_path / "in" / "plain.csv"
    pacsv.write_csv(raw_to_table(running_session("x", "ignored", minutes=0.5)), plain)
    capsys.readouterr()
    assert main(["export", "bids", str(plain), "--out", str(tmp_path / "b"), "--runner", ""]) == 1
    assert "runner_id '' must be non-empty" in capsys.readouterr().err
    ds = tmp_path / "ds"  # batch --runner is for files naming none: the BIDS recording keeps its own, said so
    assert main(["batch", str(motion), str(plain), "--dataset", str(ds), "--runner", "ann", "--progress", "none",
                 "--workers", "1"]) == 0
    note = f"{motion}: names runner 'bob'; --runner 'ann' applies only to files naming none"
    assert capsys.readouterr().out.count(note) == 1
    assert sorted(read_table(ds, "sessions")["runner_id"].to_pylist()) == ["ann", "bob"]


def test_every_session_of_a_multi_session_file_is_exported(tmp_path: Path) -> None:
    """docs/batch.md: a mobgap data.mat holding several trials gives one BIDS session per trial."""
    from tests.formats.test_mobgap import T0_S, _lower_back, _write

    mat = _write(tmp_path / "data.mat", {"TM1": {"Test1": {
        "Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S)}},
        "Trial2": {"SU": {"LowerBack": _lower_back(6, T0_S + 9, seed=1)}}}}})
    out = tmp_path / "bids"
    result = export_bids([mat], out_dir=out, runner_id="ha001")
    assert result.failures == ()
    assert [p.parent.parent.name for p in result.sessions] == [f"ses-{bids_label('TM1_Test1_Trial1')}",
                                                               f"ses-{bids_label('TM1_Test1_Trial2')}"]
    sessions = _tsv(out / "sub-ha001" / "sub-ha001_sessions.tsv")
    assert sorted(s["imuback_session_id"] for s in sessions) == ["TM1_Test1_Trial1", "TM1_Test1_Trial2"]
    assert [np.loadtxt(p, delimiter="\t").shape[0] for p in result.sessions] == [500, 600]


def test_an_assumed_mounting_is_not_exported_as_a_nominal_one(tmp_path: Path) -> None:
    """A raw file whose mounting is a placeholder (``imuback.mounting_assumed``) exports no
    NominalMountingRotation, so read back it is still assumed and takes a mounting given."""
    import dataclasses

    import imuback
    from imuback.formats import read_session

    raw = dataclasses.replace(imuback.simulate(minutes=0.3, seed=5, runner_id="r1"), mounting=np.eye(3),
                              mounting_source="assumed")
    for name, r in (("assumed", raw), ("stated", dataclasses.replace(raw, session_id="s2", mounting_source="file"))):
        src = write_raw(tmp_path / "in" / f"{name}.parquet", r)
        export_bids([src], out_dir=tmp_path / f"bids_{name}")
        (channels,) = (tmp_path / f"bids_{name}").rglob("*_channels.json")
        frame = json.loads(channels.read_text())["reference_frame"]["Levels"]["sensor"]
        assert ("NominalMountingRotation" in frame) == (name == "stated")
        (tsv,) = (tmp_path / f"bids_{name}").rglob("*_motion.tsv")
        back = read_session(tsv, runner_id="r1")
        assert back.mounting_source == ("assumed" if name == "assumed" else "file")


def test_the_time_zone_comes_back_from_an_export(tmp_path: Path) -> None:
    """Where a session was recorded survives the BIDS round trip (review 34 #6: ``utc_offset_min 0
    (computer)`` came back null): ``acq_time`` stays UTC with its ``Z``, and the offset and its source
    travel in the imuback columns of ``*_sessions.tsv`` (described in ``*_sessions.json``); processed, the
    exported file gives the original's zone columns; a session without a zone comes back without one."""
    import dataclasses

    import imuback
    from imuback.formats import read_session

    base = imuback.simulate(minutes=0.5, seed=6, runner_id="ann")
    zones = {"guess": (0, "computer"), "madrid": (60, "given"), "none": (None, None)}
    srcs = {name: write_raw(tmp_path / "in" / f"{name}.parquet", dataclasses.replace(
        base, session_id=name, utc_offset_min=off, utc_offset_source=source)) for name, (off, source) in zones.items()}
    out = tmp_path / "bids"
    assert export_bids(list(srcs.values()), out_dir=out).failures == ()
    rows = {r["imuback_session_id"]: r for r in _tsv(out / "sub-ann" / "sub-ann_sessions.tsv")}
    assert [(rows[n]["imuback_utc_offset_min"], rows[n]["imuback_utc_offset_source"]) for n in zones] == [
        ("0", "computer"), ("60", "given"), ("n/a", "n/a")]
    assert all(r["acq_time"].endswith("Z") for r in rows.values())  # BIDS's UTC acq_time, unchanged
    described = json.loads((out / "sub-ann" / "sub-ann_sessions.json").read_text())
    assert described["imuback_utc_offset_min"]["Units"] == "min"
    for name, (off, source) in zones.items():
        (motion,) = out.rglob(f"*ses-{name}_*_motion.tsv")
        back = read_session(motion)
        assert (back.utc_offset_min, back.utc_offset_source) == (off, source)
        stored = [imuback.process(p).session.iloc[0] for p in (srcs[name], motion)]
        assert [tuple(None if s[c] is None or s[c] != s[c] else s[c] for c in ("utc_offset_min", "utc_offset_source"))
                for s in stored] == [(off, source)] * 2  # (NaN != NaN: a null in pandas)
