"""`imuback demo` end to end at a small size: history, a BLE recording, the dataset and both reports."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from imuback.cli.demo import _prepare_out_dir, format_summary, run_demo
from imuback.errors import DemoError
from imuback.store.raw import RawSession, read_raw
from imuback.store.schema import SESSIONS_SCHEMA


def test_demo_records_processes_and_reports(tmp_path, capsys):
    assert run_demo(out_dir=tmp_path, minutes=2.0, seed=3, weeks=2, speedup=100.0, sessions_per_week=2,
                    history_minutes=2.0) == 0
    out = capsys.readouterr().out
    for words in ("recording today's run", "steps", "cadence", "contact time", "impact", "pelvis", "braking",
                  "pelvic drop",
                  "side-to-side", "asymmetry", "drift", "session report", "trends report"):
        assert words in out, words
    recorded = list((tmp_path / "recorded").glob("*.parquet"))
    assert len(recorded) == 1
    n, runners, sensors = duckdb.connect().execute(
        "SELECT count(*), count(DISTINCT runner_id), list(DISTINCT sensor) FROM "
        f"read_parquet('{tmp_path}/dataset/sessions/**/*.parquet', hive_partitioning=true)").fetchone()
    assert (n, runners) == (2 * 2 + 1, 1)
    assert sensors == ["imuback (simulated)"]  # one simulated sensor, one name (history and today's)
    # one set-up, no change of sensor or rate to mark (review 32: the line lists each with its days)
    assert "Sensors</dt><dd>imuback (simulated), 200 Hz</dd>" in (tmp_path / "report_trends.html").read_text()
    # today's run came over the BLE link whole, however slow or loaded the machine: the demo's
    # sensor buffers the whole run, so load only slows it (sped up 100x, a sensor's 60 s buffer is
    # 0.6 s of wall time, which a loaded CI machine once overran: 93.7 % kept). So every sample the
    # sensor had is in the file, to its last, and the books balance: kept + reported lost = the
    # sensor's count (its only loss is the simulated radio dropout in the truth, reported as such);
    # a collector that loses or miscounts samples for any reason fails here (a sensor that
    # throttled to its link once lost a fifth of the run; one that stopped with notifications
    # still queued in its stack lost the end of the run unseen)
    complete, run_steps = duckdb.connect().execute(
        f"SELECT completeness_pct, n_run_steps FROM read_parquet('{tmp_path}/dataset/sessions/**/*.parquet', "
        "hive_partitioning=true) WHERE source_path LIKE '%recorded%'").fetchone()
    sent = read_raw(tmp_path / "truth-of-today" / recorded[0].name)
    got = read_raw(recorded[0])

    def lost(raw: RawSession) -> int:
        return sum(int(g["samples_lost"]) for g in raw.gaps)

    assert got.n_samples + lost(got) == sent.n_samples + lost(sent), (got.n_samples, lost(got), sent.n_samples,
                                                                      lost(sent), got.gaps)
    assert got.n_samples == sent.n_samples and lost(got) == lost(sent), (got.n_samples, sent.n_samples, got.gaps)
    assert (got.time_ns[-1] - got.time_ns[0]) / 1e9 == pytest.approx((sent.time_ns[-1] - sent.time_ns[0]) / 1e9,
                                                                      abs=0.01)
    expected_pct = 100.0 * sent.n_samples / (sent.n_samples + lost(sent))
    assert complete == pytest.approx(expected_pct, abs=0.1) and run_steps > 100, (complete, expected_pct, run_steps)
    for name in ("report_session.html", "report_trends.html"):
        html = (tmp_path / name).read_text()
        assert "not a diagnosis" in html.lower() or "informational" in html.lower()


def _summary(**values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(SESSIONS_SCHEMA.names)
    row.update(session_id="s", sensor="x", sample_rate_hz=200.0, duration_s=600.0, completeness_pct=100.0,
               misalignment_deg=3.0, n_run_steps=100, n_walk_steps=0, run_time_s=600.0, status_reason="")
    row.update(values)
    return row


def test_summary_pairs_each_sides_values_with_their_own_asymmetry() -> None:
    text = format_summary(_summary(left_impact_peak_g=2.57, right_impact_peak_g=2.72, asymmetry_impact_peak_pct=-5.7,
                                   left_grf_peak_bw=2.40, right_grf_peak_bw=2.31, asymmetry_grf_peak_pct=3.8))
    impact = next(line for line in text.splitlines() if line.strip().startswith("impact"))
    force = next(line for line in text.splitlines() if line.strip().startswith("peak force"))
    assert "L 2.57 / R 2.72 g" in impact and "-5.7 %" in impact and "3.8" not in impact
    assert "L 2.40 / R 2.31 BW" in force and "+3.8 %" in force and "5.7" not in force


def test_summary_says_why_drift_is_missing_and_judges_it_on_the_runs_noise() -> None:
    text = format_summary(_summary(run_time_s=300.0, drift_contact_time_s_pct=None,
                                   drift_impact_peak_g_pct=4.0, drift_impact_peak_g_ci95_pct=1.0,
                                   drift_pelvis_rotation_deg_pct=4.0, drift_pelvis_rotation_deg_ci95_pct=6.0))
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("    ")}
    assert "too short" in lines["contact"]
    assert "rises late" in lines["impact"]
    assert "steady" in lines["rotation"]


def test_a_second_of_running_without_a_running_step_is_no_running_in_the_summary() -> None:
    """Review 35, 2: an older walk's row stored run_time_s 1 and no running step; the summary said
    '(1 s running)' and each drift '1 s of running is too short', where the report says 'no running'."""
    text = format_summary(_summary(n_run_steps=0, n_walk_steps=180, run_time_s=1.0))
    assert "0 running, 180 walking (no running)" in text and "s running)" not in text
    drift = [line for line in text.splitlines() if line.startswith("    ")]
    assert len(drift) == 5 and all("(no running steps for this metric in the run)" in line for line in drift), drift
    assert "(10 min running)" in format_summary(_summary())  # a run keeps its running time


def test_a_second_demo_into_the_same_folder_replaces_the_first(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    (out / "dataset" / "sessions").mkdir(parents=True)
    (out / "report_session.html").write_text("old")
    _prepare_out_dir(out)
    assert out.is_dir() and list(out.iterdir()) == []


def test_the_demo_never_clears_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    (tmp_path / "dataset").mkdir()
    with pytest.raises(DemoError, match=r"thesis\.docx"):
        _prepare_out_dir(tmp_path)
    assert (tmp_path / "thesis.docx").read_text() == "precious" and (tmp_path / "dataset").is_dir()


DEMO_FILES = ("raw/demo-runner-20260105-00.parquet", "raw/truth/demo-runner-20260105-00.json",
              "raw/truth/demo-runner-20260105-00.steps.parquet", "raw/truth/demo-runner-20260105-00.strides.parquet",
              "raw/.demo-runner-20260108-01.parquet.tmp", "recorded/demo-runner-today.parquet",
              "recorded/demo-runner-today.journal", "truth-of-today/phone-truth.parquet",
              "truth-of-today/truth/demo-runner-today.json", "phone/phone-run.zip",
              "dataset/sessions/runner=demo-runner/session=s/part-0.parquet")
"""Files as run_demo and run_phone_demo name them (an interrupted run's temp file and journal too)."""


def _demo_folder(root: Path, *extra: str) -> None:
    for rel in (*DEMO_FILES, *extra):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")


@pytest.mark.parametrize("theirs", ["raw/my_own_run.parquet", "recorded/ann-2026.parquet", "phone/my-run.zip",
                                    "truth-of-today/truth/notes.txt", "raw/mine/demo-runner-today.parquet"])
def test_the_demo_never_clears_a_file_of_ones_own_in_the_folders_it_writes(tmp_path: Path, theirs: str) -> None:
    """Review 23: `my_own_run.parquet` put into demo1/raw/ was deleted by the next demo."""
    _demo_folder(tmp_path, theirs)
    with pytest.raises(DemoError, match=re.escape(theirs.split("/")[-1] if "mine" not in theirs else "raw/mine")):
        _prepare_out_dir(tmp_path)
    assert (tmp_path / theirs).read_text() == "x" and all((tmp_path / f).exists() for f in DEMO_FILES)


def test_a_file_browsers_own_files_neither_block_nor_go_alone(tmp_path: Path) -> None:
    """Finder's .DS_Store (Explorer's Thumbs.db, desktop.ini) in a demo folder it showed: the demo
    runs again; those at the top stay, those inside the demo's folders go with them."""
    inside = ("dataset/steps/.DS_Store", "dataset/Thumbs.db", "raw/.DS_Store", "raw/truth/desktop.ini")
    _demo_folder(tmp_path, *inside, ".DS_Store", "desktop.ini")
    _prepare_out_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".DS_Store", "desktop.ini"]
    assert _prepare_out_dir(tmp_path) is None  # and again


@pytest.mark.parametrize("theirs", ["dataset/notes/runner=demo-runner/session=demo-runner-today/note.parquet",
                                    "dataset/uploads/a1/run.zip",
                                    "dataset/sessions/runner=ann/session=s1/part-0.parquet"])
def test_the_demo_never_clears_a_pain_log_or_uploads_made_in_its_dataset(tmp_path: Path, theirs: str) -> None:
    """README: `imuback demo`, then the clinic page or `imuback note` over imuback-demo/dataset,
    then `imuback demo --phone` into the same folder: the notes and uploads are not the demo's."""
    (tmp_path / "dataset" / "sessions" / "runner=demo-runner").mkdir(parents=True)
    (tmp_path / "report_session.html").write_text("old")
    mine = tmp_path / theirs
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text("precious")
    with pytest.raises(DemoError, match=theirs.split("/")[1]):
        _prepare_out_dir(tmp_path)
    assert mine.read_text() == "precious" and (tmp_path / "report_session.html").exists()


def test_phone_demo_exports_sensor_logger_and_processes_it(tmp_path, capsys):
    """``imuback demo --phone``: a simulated phone in a loose belt, exported as a Sensor Logger zip
    with its GPS, processed from that zip; the running steps found match the simulated truth, and
    pace and stride length come from the GPS, close to the simulated runner's true speed."""
    import re

    import numpy as np

    from imuback.cli.demo import phone_params, true_run_speed_mps
    from imuback.cli.main import main
    from imuback.formats import read_session
    from imuback.simulate.runner import simulate_session

    assert main(["demo", "--phone", "--out", str(tmp_path), "--minutes", "3", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    exports = list((tmp_path / "phone").glob("*.zip"))
    assert len(exports) == 1
    raw = read_session(exports[0], runner_id="x")
    assert raw.sensor.startswith("Sensor Logger iOS") and raw.speed_mps is not None
    found = int(re.search(r"steps\s+(\d+) running", out).group(1))  # type: ignore[union-attr]
    truth = int(re.search(r"simulated truth (\d+) running steps", out).group(1))  # type: ignore[union-attr]
    assert abs(found - truth) <= max(2, 0.01 * truth)
    assert "no speed source" not in out and "speed from the phone's GPS" in out
    assert (tmp_path / "report_session.html").stat().st_size > 1000
    n, pace, stride = duckdb.connect().execute(
        f"SELECT count(*), any_value(median_pace_s_per_km), any_value(median_stride_length_m) FROM "
        f"read_parquet('{tmp_path}/dataset/sessions/**/*.parquet', hive_partitioning=true) "
        "WHERE sensor LIKE 'Sensor Logger%' AND speed_source = 'gps'").fetchone()
    assert n == 1
    # the same run simulated again (the seed fixes it; the start time does not change the motion)
    sim = simulate_session(phone_params(3.0), seed=3, session_id="again", runner_id="r", start_time=0)
    v = true_run_speed_mps(sim)
    # GPS speed error: SD 0.25 m/s, correlated over 3 s: its mean over 3 minutes of running errs
    # by ~0.05 m/s (1.4 %) at one SD; 4 % is ~3 SD
    assert abs(pace / (1000.0 / v) - 1.0) < 0.04, (pace, 1000.0 / v)
    st = sim.truth_strides.to_pandas()
    true_stride = float(np.median(v * st.loc[st["activity"] == "run", "stride_time_s"]))
    assert abs(stride / true_stride - 1.0) < 0.04, (stride, true_stride)


def test_summary_gives_pace_and_lengths_with_their_source_or_says_there_is_no_speed() -> None:
    text = format_summary(_summary(speed_source="treadmill", treadmill_speed_mps=3.2, median_pace_s_per_km=312.5,
                                   median_step_length_m=1.13, median_stride_length_m=2.26,
                                   median_vertical_ratio_pct=6.6))
    line = next(line for line in text.splitlines() if line.strip().startswith("pace, length"))
    assert "5:12 min/km, step 1.13 m, stride 2.26 m, vertical ratio 6.6 %" in line
    assert "treadmill belt speed given: 3.20 m/s" in line
    none = next(line for line in format_summary(_summary(speed_source="none")).splitlines() if "pace" in line)
    assert "n/a" in none and "no speed source" in none


def test_the_demos_trends_tell_its_story_when_today_is_a_monday(tmp_path: Path) -> None:
    """The demo's history and today's run (its plan; the file the sensor streams, not the BLE link),
    today a Monday: its week holds one run, so the latest week's median alone never made a WATCH. On
    the latest 3 runs the right side's rising load and its asymmetry warn again; within-run drift is
    told as before (notes: smaller than a real change between sessions)."""
    from datetime import UTC, datetime

    from imuback.cli.demo import RUNNER_ID, demo_plan
    from imuback.pipeline import process_file
    from imuback.report import queries
    from imuback.report.analysis import COLUMNS, ReportParams, rate_limits, runner_context, trend_flags, weekly_changes
    from imuback.simulate.runner import write_simulated
    from imuback.simulate.study import simulate_planned

    history, today = demo_plan(now=datetime(2026, 12, 7, 7, 30, tzinfo=UTC), weeks=6, sessions_per_week=2,
                               history_minutes=10.0, minutes=12.0, seed=7)
    dataset = tmp_path / "dataset"
    for planned in [*history, today]:
        process_file(write_simulated(simulate_planned(planned, runner_id=RUNNER_ID), tmp_path / "raw"),
                     dataset=dataset)
    sessions = queries.runner_sessions(dataset, RUNNER_ID)

    def flags(params: ReportParams) -> dict[str, tuple[str, str, str]]:
        ctx = runner_context(sessions, runner_id=RUNNER_ID, params=params)
        weekly = queries.weekly_medians(dataset, RUNNER_ID, ctx.comparable_ids, list(COLUMNS),
                                        min_rate_hz=rate_limits())
        return {f.metric or f.title: (f.level, f.title, f.detail)
                for f in trend_flags(ctx, weekly_changes(ctx, weekly))}

    found = flags(ReportParams())
    text = "\n".join(f"{v[0]}: {v[1]} | {v[2]}" for v in found.values())
    level, title, detail = found["right_loading_rate_g_per_s"]
    assert level == "watch" and re.fullmatch(r"Right-side loading rate \(index\) up \d+ % over the last 2 weeks",
                                             title), text
    assert "in the latest 3 sessions (30 Nov – 07 Dec 2026; their median)" in detail
    level, title, detail = found["asymmetry_loading_rate_pct"]
    assert level == "watch" and "higher on the right side" in title, text
    assert "Based on" not in detail
    assert {"drift_pelvis_obliquity_deg", "drift_pelvis_rotation_deg"} <= set(found), text
    # the latest week alone (today's one run): no WATCH at all, as before
    calendar = flags(ReportParams(latest_days=0.0))
    assert not [v for v in calendar.values() if v[0] in ("watch", "notable")], calendar
