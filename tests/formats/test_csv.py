"""CSV sessions (src/imuback/formats/csv.py): identity, time units, delimiters, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from imuback.core import RawSession
from imuback.errors import RawFormatError
from imuback.formats import read_session
from tests.signal.analytic import half_sine_run


@pytest.fixture
def raw() -> RawSession:
    return half_sine_run(minutes=0.5)[0]



def test_csv_import_with_epoch_seconds(tmp_path, raw):
    t = raw.time_ns / 1e9
    lines = ["time,acc_x,acc_y,acc_z"] + [f"{t[i]:.6f},{raw.acc_mps2[i,0]},{raw.acc_mps2[i,1]},{raw.acc_mps2[i,2]}"
                                          for i in range(500)]
    p = tmp_path / "run1.csv"
    p.write_text("\n".join(lines))
    back = read_session(p, runner_id="r9")
    start = np.datetime_as_string(np.datetime64(int(raw.time_ns[0]), "ns"), unit="s")
    assert back.session_id == "run1-" + start.replace("-", "").replace(":", "") + "Z"  # name + start time
    assert back.runner_id == "r9"
    assert back.gyr_dps is None
    assert back.sample_rate_hz == pytest.approx(200.0, rel=1e-3)
    assert np.abs(back.time_ns - raw.time_ns[:500]).max() < 2000  # µs precision of the text


def _csv(path, raw, *, times, sep=",", n=400):
    rows = [sep.join(["time", "acc_x", "acc_y", "acc_z"])]
    rows += [sep.join([str(times[i]), *(f"{v:.5f}" for v in raw.acc_mps2[i])]) for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("unit, scale", [("s", 1e-9), ("ms", 1e-6), ("us", 1e-3), ("ns", 1)])
def test_csv_epochs_in_s_ms_us_ns_are_told_apart(tmp_path, raw, unit, scale):
    t = raw.time_ns[:400]
    times = [f"{x * scale:.6f}" for x in t] if unit == "s" else [str(int(x * scale)) for x in t]
    back = read_session(_csv(tmp_path / f"{unit}.csv", raw, times=times), runner_id="r1")
    assert abs(int(back.time_ns[0]) - int(t[0])) < 2000
    assert back.sample_rate_hz == pytest.approx(200.0, rel=1e-3)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_delimiter_is_detected(tmp_path, raw, sep):
    back = read_session(_csv(tmp_path / "semi.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]], sep=sep),
                    runner_id="r1")
    assert back.n_samples == 400


def test_csv_relative_times_need_a_start(tmp_path, raw):
    rel = [f"{(x - raw.time_ns[0]) / 1e9:.6f}" for x in raw.time_ns[:400]]
    path = _csv(tmp_path / "rel.csv", raw, times=rel)
    with pytest.raises(RawFormatError, match=r"rel\.csv: column 'time' starts at 0: seconds since the start.*--start"):
        read_session(path, runner_id="r1")
    back = read_session(path, runner_id="r1", start="2024-03-04T07:00:00Z")
    assert str(np.datetime64(int(back.time_ns[0]), "ns")) == "2024-03-04T07:00:00.000000000"
    assert back.session_id == "rel-20240304T070000Z"


def test_csv_without_a_runner_is_refused(tmp_path, raw):
    path = _csv(tmp_path / "anon.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    with pytest.raises(RawFormatError, match=r"anon\.csv: no runner id.*--runner.*anon\.csv\.json"):
        read_session(path)


def test_csv_missing_column_lists_what_was_found(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("timestamp,ax,ay,az\n1,2,3,4\n")
    with pytest.raises(RawFormatError, match=r"missing column\(s\) \['time', 'acc_x', 'acc_y', 'acc_z'\]; "
                                             r"found \['timestamp', 'ax', 'ay', 'az'\]"):
        read_session(path, runner_id="r1")


@pytest.mark.parametrize("text, match", [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object")])
def test_a_bad_sidecar_is_named(tmp_path, raw, text, match):
    path = _csv(tmp_path / "side.csv", raw, times=[str(int(x)) for x in raw.time_ns[:400]])
    (tmp_path / "side.csv.json").write_text(text)
    with pytest.raises(RawFormatError, match=rf"side\.csv\.json: {match}"):
        read_session(path, runner_id="r1")


def test_the_command_line_never_overrides_what_the_sidecar_says(tmp_path, raw):
    path = _csv(tmp_path / "b.csv", raw, times=raw.time_ns / 1e9)
    (tmp_path / "b.csv.json").write_text('{"imuback.runner_id": "runner-B"}')
    assert read_session(path).runner_id == "runner-B"
    assert read_session(path, runner_id="runner-B").runner_id == "runner-B"
    with pytest.raises(RawFormatError, match=r"gives imuback\.runner_id = 'runner-B'"):
        read_session(path, runner_id="runner-A")


def test_start_is_refused_for_times_that_are_dates_already(tmp_path, raw):
    path = _csv(tmp_path / "e.csv", raw, times=raw.time_ns / 1e9)
    with pytest.raises(RawFormatError, match="already a date"):
        read_session(path, runner_id="r1", start="2024-03-04T07:00:00Z")


def test_process_applies_runner_and_start_to_csv_files_only(tmp_path, raw, capsys):
    from imuback.cli import main
    from imuback.store.raw import write_raw

    pq = write_raw(tmp_path / "own.parquet", raw)
    rel = _csv(tmp_path / "rel.csv", raw, times=(raw.time_ns - raw.time_ns[0]) / 1e9)
    code = main(["process", str(pq), str(rel), "--dataset", str(tmp_path / "ds"), "--runner", "r1",
                 "--start", "2024-03-04T07:00:00Z"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "own.parquet: session" in out.out and "rel.csv: session" in out.out
