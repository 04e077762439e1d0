"""Mobilise-D / mobgap ``data.mat`` (src/imuback/formats/mobgap.py): one session per LowerBack trial.

The tiny files are written with ``scipy.io.savemat`` to the structure of the Mobilise-D data
standard as mobgap's example data holds it (``data.<TimeMeasure>.<Test>.<Trial>.SU.LowerBack.
{Acc g, Gyr deg/s, Fs, Timestamp Unix s}``; github.com/mobilise-d/mobgap, example_data/data/lab,
Apache-2.0); the real example files are read from ../shared/data/real/mobgap_lab when present.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

from imuback.cli import main
from imuback.core import G_MPS2
from imuback.errors import RawFormatError
from imuback.formats import detect_format, read_session, read_sessions
from imuback.formats.mobgap import MOBILISED_LOWER_BACK_R
from tests.signal.analytic import half_sine_run

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "mobgap_lab"
COMMAND = "python benchmarks/get_real_data.py"
T0_S = 1_607_605_064.733


def _lower_back(seconds: float, t0_s: float, *, seed: int = 0) -> dict:
    raw = half_sine_run(fs=100.0, minutes=seconds / 60, seed=seed)[0]
    # the analytic run is in imuback's body frame (identity mounting): put it in the Mobilise-D sensor frame
    acc_g = raw.acc_mps2.astype(np.float64) @ MOBILISED_LOWER_BACK_R / G_MPS2  # v_sensor = R^T v_body
    gyr = raw.gyr_dps.astype(np.float64) @ MOBILISED_LOWER_BACK_R
    n = acc_g.shape[0]
    return {"Acc": acc_g, "Gyr": gyr, "Fs": {"Acc": 100, "Gyr": 100}, "Timestamp": t0_s + np.arange(n) / 100.0}


def _write(path: Path, data: dict) -> Path:
    sio.savemat(path, {"data": data})
    return path


@pytest.fixture
def mat(tmp_path) -> Path:
    return _write(tmp_path / "data.mat", {"TimeMeasure1": {
        "Test5": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S)},
                             "StartDateTime": "2020-12-10T13:57:44.733+01:00"},
                  "Trial2": {"SU": {"LeftFoot": _lower_back(5, T0_S + 60)}}},  # no LowerBack: not a session
        "Test11": {"Trial1": {"SU": {"LowerBack": _lower_back(8, T0_S + 600, seed=1)}}},
    }})


def test_every_lower_back_trial_is_one_session(mat):
    sessions = read_sessions(mat, runner_id="ha001")
    assert [s.session_id for s in sessions] == ["TimeMeasure1_Test5_Trial1", "TimeMeasure1_Test11_Trial1"]
    first = sessions[0]
    assert first.runner_id == "ha001" and first.sample_rate_hz == 100.0 and first.n_samples == 500
    assert str(np.datetime64(int(first.time_ns[0]), "ns")) == "2020-12-10T12:57:44.733000000"  # Timestamp, UTC
    assert np.array_equal(np.diff(first.time_ns), np.full(499, 10_000_000))
    back = sio.loadmat(mat, simplify_cells=True)["data"]["TimeMeasure1"]["Test5"]["Trial1"]["SU"]["LowerBack"]
    assert np.allclose(first.acc_mps2, back["Acc"] * G_MPS2, rtol=1e-6, atol=1e-5)  # g -> m/s²
    assert np.allclose(first.gyr_dps, back["Gyr"], rtol=1e-6, atol=1e-5)  # deg/s as stored
    assert np.array_equal(first.mounting, MOBILISED_LOWER_BACK_R)
    assert detect_format(mat) == "mobgap"


def test_one_session_of_several_must_be_picked(mat):
    with pytest.raises(RawFormatError, match=r"data\.mat: holds 2 sessions \(TimeMeasure1_Test5_Trial1, "
                                             r"TimeMeasure1_Test11_Trial1\).*--session"):
        read_session(mat, runner_id="ha001")
    one = read_session(mat, runner_id="ha001", session_id="TimeMeasure1_Test11_Trial1")
    assert one.n_samples == 800
    with pytest.raises(RawFormatError, match=r"no trial 'Test5_Trial1'; it holds \['TimeMeasure1_Test5_Trial1'"):
        read_session(mat, runner_id="ha001", session_id="Test5_Trial1")


def test_a_mobgap_file_needs_a_runner(mat):
    with pytest.raises(RawFormatError, match=r"data\.mat: no runner id.*--runner"):
        read_sessions(mat)


@pytest.mark.parametrize("content, match", [
    ({"other": np.eye(3)}, r"without the Mobilise-D 'data' struct \(variables: \['other'\]\)"),
    ({"data": {"TimeMeasure1": {"Test5": {"Trial1": {"SU": {"LeftFoot": {"Acc": np.eye(3)}}}}}}},
     r"no trial with a SU\.LowerBack sensor"),
    ({"data": {"T": {"Test5": {"Trial1": {"SU": {"LowerBack": {"Acc": np.ones((5, 2)), "Fs": {"Acc": 100}}}}}}}},
     r"\(T_Test5_Trial1\): LowerBack\.Acc must be \(N, 3\)"),
])
def test_wrong_mat_files_are_named(tmp_path, content, match):
    path = tmp_path / "x.mat"
    sio.savemat(path, content)
    with pytest.raises(RawFormatError, match=match):
        read_sessions(path, runner_id="r1")


def test_a_truncated_mat_file_is_a_clear_error(mat, tmp_path):
    cut = tmp_path / "cut.mat"
    cut.write_bytes(mat.read_bytes()[:2000])
    with pytest.raises(RawFormatError, match=r"cut\.mat: not a readable MATLAB v5 file"):
        read_sessions(cut, runner_id="r1")


def test_process_writes_every_session_of_the_file(mat, tmp_path, capsys):
    ds = tmp_path / "ds"
    assert main(["process", str(mat), "--runner", "ha001", "--dataset", str(ds)]) == 0
    out = capsys.readouterr().out
    assert "session TimeMeasure1_Test5_Trial1" in out and "session TimeMeasure1_Test11_Trial1" in out
    stored = sorted(p.name for p in (ds / "sessions" / "runner=ha001").iterdir())
    assert stored == ["session=TimeMeasure1_Test11_Trial1", "session=TimeMeasure1_Test5_Trial1"]
    ds2 = tmp_path / "ds2"
    assert main(["process", str(mat), "--runner", "ha001", "--session", "TimeMeasure1_Test5_Trial1",
                 "--dataset", str(ds2)]) == 0
    assert [p.name for p in (ds2 / "sessions" / "runner=ha001").iterdir()] == ["session=TimeMeasure1_Test5_Trial1"]


@pytest.mark.skipif(not REAL.exists(), reason=f"../shared/data/real/mobgap_lab absent: run {COMMAND}")
def test_real_mobgap_example_files():
    ha = read_sessions(REAL / "HA" / "001" / "data.mat", runner_id="ha001")
    assert [(s.session_id, s.n_samples) for s in ha] == [
        ("TimeMeasure1_Test5_Trial1", 1246), ("TimeMeasure1_Test5_Trial2", 1075), ("TimeMeasure1_Test11_Trial1", 13759)]
    # StartDateTime 2020-12-10T13:57:44.733+01:00 is the first Timestamp, in UTC
    assert str(np.datetime64(int(ha[0].time_ns[0]), "ns")) == "2020-12-10T12:57:44.733000000"
    for s in ha:
        assert s.sample_rate_hz == 100.0 and s.gyr_dps is not None
        assert 9.0 < float(np.median(np.linalg.norm(s.acc_mps2, axis=1))) < 10.6  # g -> m/s²
        up = MOBILISED_LOWER_BACK_R @ s.acc_mps2[:50].mean(axis=0)  # standing still at the start: gravity up
        assert up[2] > 0.9 * np.linalg.norm(up)
    ms = read_sessions(REAL / "MS" / "001" / "data.mat", runner_id="ms001")
    assert [s.n_samples for s in ms] == [1450, 1115, 22728]


def test_a_column_mapping_is_for_csv_only(mat):
    from imuback.formats.csv import ColumnMapping

    with pytest.raises(RawFormatError, match=r"data\.mat: a column mapping \(--columns, --time-unit\) is for CSV "
                                             r"files; this is a mobgap file"):
        read_sessions(mat, runner_id="r1", mapping=ColumnMapping.parse("time=ts"))


def test_an_unknown_file_is_named(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(RawFormatError, match=r"notes\.txt: not a format imuback reads"):
        read_sessions(path, runner_id="r1")


def test_batch_reports_a_mobgap_file_as_a_failure_naming_it(mat, tmp_path):
    import io

    from imuback.batch.runner import run_batch

    summary = run_batch([mat], dataset=tmp_path / "ds", workers=1, progress="log", stream=io.StringIO())
    (outcome,) = summary.outcomes
    assert outcome.status == "failed" and outcome.error_type == "RawFormatError"
    assert outcome.message is not None and outcome.message.startswith(f"{mat}: no runner id")


def test_process_gives_the_identity_options_to_files_without_ids_only(mat, tmp_path, capsys):
    from imuback.store.raw import write_raw

    pq = write_raw(tmp_path / "own.parquet", half_sine_run(minutes=0.5)[0])
    assert main(["process", str(pq), str(mat), "--runner", "ha001", "--dataset", str(tmp_path / "ds")]) == 1
    out = capsys.readouterr()  # the raw Parquet file names its own runner (r1): refused, the mobgap file goes on
    assert "session TimeMeasure1_Test11_Trial1" in out.out and "own.parquet: session" not in out.out
    assert "own.parquet: the file's imuback.runner_id is 'r1', not the 'ha001' given" in out.err


def test_batch_with_a_runner_processes_every_trial_of_a_mobgap_file(mat, tmp_path):
    import io

    from imuback.batch.runner import run_batch

    summary = run_batch([mat], dataset=tmp_path / "ds", workers=1, progress="log", stream=io.StringIO(),
                        runner_id="ha001")
    (outcome,) = summary.outcomes
    assert outcome.status == "processed", outcome.message
    assert outcome.session_id == "TimeMeasure1_Test5_Trial1, TimeMeasure1_Test11_Trial1"
    assert outcome.runner_id == "ha001" and outcome.n_steps > 0
    one = run_batch([mat], dataset=tmp_path / "ds1", workers=1, runner_id="ha001",
                    session_id="TimeMeasure1_Test11_Trial1")
    assert [o.session_id for o in one.outcomes] == ["TimeMeasure1_Test11_Trial1"]


def test_the_batch_summary_counts_each_session_of_a_data_mat(mat, tmp_path):
    """"processed sessions by status" counts sessions, not files (review 34 #4: a data.mat of several
    trials counted once); the written trials of a file that failed in part count too."""
    from imuback.batch.runner import format_summary, run_batch

    ds = tmp_path / "ds"
    summary = run_batch([mat], dataset=ds, workers=1, runner_id="ha001")
    (outcome,) = summary.outcomes
    assert [sid for sid, _status in outcome.sessions] == ["TimeMeasure1_Test5_Trial1", "TimeMeasure1_Test11_Trial1"]
    line = next(x for x in format_summary(summary).splitlines() if x.startswith("processed sessions by status: "))
    assert sum(int(n) for n in re.findall(r" (\d+)(?:,|$)", line)) == 2, line
    assert "processed sessions by status" not in format_summary(run_batch([mat], dataset=ds, workers=1,
                                                                          runner_id="ha001"))  # skipped: none
    (tmp_path / "other").mkdir()  # a trial clashing with a stored one from other bytes, and a new one
    other = _write(tmp_path / "other" / "data.mat", {
        "TimeMeasure1": {"Test5": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S, seed=7)}}},
                         "Test6": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S + 900, seed=8)}}}}})
    part = run_batch([other], dataset=ds, workers=1, runner_id="ha001")
    assert part.counts["failed"] == 1 and [sid for sid, _ in part.outcomes[0].sessions] == ["TimeMeasure1_Test6_Trial1"]
    line = next(x for x in format_summary(part).splitlines() if x.startswith("processed sessions by status: "))
    assert sum(int(n) for n in re.findall(r" (\d+)(?:,|$)", line)) == 1, line


def test_batch_names_the_one_trial_of_a_file_that_fails_and_keeps_the_others(mat, tmp_path):
    from imuback.batch.runner import run_batch

    ds = tmp_path / "ds"
    assert run_batch([mat], dataset=ds, workers=1, runner_id="ha001").ok
    # another recording: a new trial, and a trial under ids the dataset holds from other bytes
    (tmp_path / "other").mkdir()
    other = _write(tmp_path / "other" / "data.mat", {
        "TimeMeasure1": {"Test5": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S, seed=7)}}},
                         "Test6": {"Trial1": {"SU": {"LowerBack": _lower_back(5, T0_S + 900, seed=8)},
                                              "TimeZone": "Europe/Berlin"}}}})
    (outcome,) = run_batch([other], dataset=ds, workers=1, runner_id="ha001", time_zone="+02:00").outcomes
    assert outcome.status == "failed" and outcome.error_type == "DatasetError"
    assert outcome.message is not None and "session 'TimeMeasure1_Test5_Trial1' of runner 'ha001' is already in" in \
        outcome.message
    assert outcome.message.endswith("(1 other sessions of the file were processed: TimeMeasure1_Test6_Trial1)")
    assert outcome.runner_id == "ha001" and outcome.session_id is None and outcome.n_steps > 0
    # the written trial's notice is kept with the failure
    assert outcome.warnings == (f"{other} (TimeMeasure1_Test6_Trial1): --time-zone +02:00 (+02:00) used, "
                                "not the file's own +01:00",)  # Berlin in December


@pytest.mark.parametrize("start, zone, expect", [
    ("2020-12-10T13:57:44.733+01:00", None, "2020-12-10T12:57:44.733"),  # its offset
    ("2020-12-10T13:57:44.733", "Europe/Berlin", "2020-12-10T12:57:44.733"),  # in the trial's TimeZone
    ("2020-07-10T13:57:44.733", "Europe/Berlin", "2020-07-10T11:57:44.733"),  # summer time there
    ("2020-12-10T13:57:44.733", None, r"StartDateTime '2020-12-10T13:57:44.733' has no time zone")])
def test_a_trial_without_timestamps_is_timed_from_its_start_in_its_zone(tmp_path, start, zone, expect):
    lb = _lower_back(5, T0_S)
    del lb["Timestamp"]
    trial = {"SU": {"LowerBack": lb}, "StartDateTime": start, **({"TimeZone": zone} if zone else {})}
    mat = _write(tmp_path / "data.mat", {"TimeMeasure1": {"Test5": {"Trial1": trial}}})
    if "zone" in expect:
        with pytest.raises(RawFormatError, match=rf"data\.mat \(TimeMeasure1_Test5_Trial1\): {expect}"):
            read_session(mat, runner_id="ha001")
        return
    t0_ns = int(read_session(mat, runner_id="ha001").time_ns[0])
    assert str(np.datetime64(t0_ns, "ns").astype("datetime64[ms]")) == expect


def test_a_mounting_other_than_the_standards_is_refused_naming_both(mat):
    from imuback.formats.identity import RECOMMENDED_MOUNTING

    with pytest.raises(RawFormatError, match=r"data\.mat \(TimeMeasure1_Test5_Trial1\): a Mobilise-D data\.mat "
                                             r"states the standard's lower-back mounting \[\[0\.0, 0\.0, 1\.0\].*, "
                                             r"not the \[\[0\.0, 0\.0, -1\.0\].* given; drop --mounting"):
        read_sessions(mat, runner_id="r1", mounting=RECOMMENDED_MOUNTING)
    same = read_sessions(mat, runner_id="r1", mounting=MOBILISED_LOWER_BACK_R.tolist())
    assert {r.mounting_source for r in same} == {"file"}


def test_a_batch_over_a_mobgap_folder_leaves_its_info_for_algo_mat_alone(mat, tmp_path, capsys):
    """mobgap keeps an ``infoForAlgo.mat`` beside every ``data.mat``: a MATLAB file without the ``data``
    struct, which a batch's folder scan ignores (told from its variable list, not loaded: review 34 #3,
    where each one failed the batch); named explicitly it is still refused, naming what it holds."""
    import io

    from imuback.batch.inputs import discover_inputs
    from imuback.batch.runner import run_batch

    info = tmp_path / "infoForAlgo.mat"
    sio.savemat(info, {"infoForAlgo": {"TimeMeasure1": {"Test5": {"Trial1": {"SensorHeight": 95}}}}})
    ignored: list[Path] = []
    assert discover_inputs([tmp_path], not_raw=ignored) == [mat.resolve()] and ignored == [info.resolve()]
    log = io.StringIO()
    summary = run_batch([tmp_path], dataset=tmp_path / "ds", workers=1, progress="log", stream=log, runner_id="ha001")
    assert summary.ok and [Path(o.path).name for o in summary.outcomes] == ["data.mat"]
    assert f"ignored 1 files in the input folders that are not raw sessions (tables without acc_x/y/z columns, " \
           f"files no reader recognises), e.g. {info.resolve()}" in log.getvalue()
    assert discover_inputs([info]) == [info.resolve()]  # named: taken, to be reported
    assert main(["process", str(info), "--runner", "ha001", "--dataset", str(tmp_path / "ds")]) == 1
    assert f"{info}: a MATLAB file without the Mobilise-D 'data' struct (variables: ['infoForAlgo'])" \
        in capsys.readouterr().err
