"""Reports in the runner's own days (schema 1.8 ``sessions.utc_offset_min``), end to end: where the
zone comes from (CSV dates, ``--time-zone``), how the trends report cuts days, old datasets, bad zones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from imuback.cli import main
from imuback.core import RawSession
from imuback.report.analysis import COLUMNS, ReportParams, runner_context, weekly_changes
from imuback.report.notes import weekly_pain
from imuback.report.queries import runner_sessions, weekly_medians
from imuback.store.dataset import part_path
from imuback.store.notes import add_note, read_notes
from tests.signal.analytic import half_sine_run


@pytest.fixture(scope="module")
def raw() -> RawSession:
    return half_sine_run(minutes=0.5)[0]


def _csv(path: Path, raw: RawSession, *, start_local: str, offset: str) -> Path:
    """The run as a CSV of ISO dates written in local time with ``offset`` (``+05:00``)."""
    t0 = np.datetime64(start_local)
    rel = (raw.time_ns - raw.time_ns[0]).astype("timedelta64[ns]")
    rows = ["time,acc_x,acc_y,acc_z"]
    rows += [f"{np.datetime_as_string(t0 + rel[i], unit='us')}{offset},"
             + ",".join(f"{v:.5f}" for v in raw.acc_mps2[i]) for i in range(raw.n_samples)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _trends(dataset: Path, tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "t.html"
    assert main(["report", "trends", "--dataset", str(dataset), "--runner", "r1", "--out", str(out), *extra]) == 0
    return out.read_text(encoding="utf-8")


def test_csv_dates_with_an_offset_land_on_the_local_day(tmp_path, raw, capsys):
    # 02:00 on Monday 4 March at UTC+05:00 is 21:00 on Sunday 3 March UTC
    path = _csv(tmp_path / "run.csv", raw, start_local="2024-03-04T02:00:00", offset="+05:00")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "r1"]) == 0
    row = runner_sessions(ds, "r1").iloc[0]
    assert row["utc_offset_min"] == 300
    assert f"{row['start_time']:%Y-%m-%d %H:%M}" == "2024-03-03 21:00"  # stored: UTC, as always
    html = _trends(ds, tmp_path)
    assert "Mon 04 Mar 2024 02:00" in html and "03 Mar 2024" not in html
    assert "dates are local days (where each session was recorded), weeks start Monday 00:00 local time" in html
    # --baseline-from/--to are those same days: 4 March holds it, 3 March (its UTC day) does not
    assert "2024, chosen (local days)" in _trends(ds, tmp_path, "--baseline-from", "2024-03-04",
                                             "--baseline-to", "2024-03-04")
    capsys.readouterr()


def test_time_zone_keeps_the_date_of_an_evening_run(tmp_path, raw, capsys):
    # 18:00 on 3 March in Los Angeles (PST, UTC-8) is 02:00 on 4 March UTC
    path = _csv(tmp_path / "la.csv", raw, start_local="2024-03-04T02:00:00", offset="Z")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "r1"]) == 0
    assert pd.isna(runner_sessions(ds, "r1").iloc[0]["utc_offset_min"])  # Z: UTC, not where it was
    html = _trends(ds, tmp_path)
    assert "Mon 04 Mar 2024 02:00" in html and "dates are UTC days, weeks start Monday 00:00 UTC" in html
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "r1",
                 "--time-zone", "America/Los_Angeles"]) == 0  # the same bytes with a zone: stored again
    assert runner_sessions(ds, "r1").iloc[0]["utc_offset_min"] == -480
    html = _trends(ds, tmp_path)
    assert "Sun 03 Mar 2024 18:00" in html and "04 Mar 2024" not in html
    capsys.readouterr()


def test_a_dataset_written_before_schema_1_8_still_reports(tmp_path, raw, capsys):
    path = _csv(tmp_path / "old.csv", raw, start_local="2024-03-04T02:00:00", offset="+05:00")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "r1"]) == 0
    part = part_path(ds, "sessions", "r1", runner_sessions(ds, "r1").iloc[0]["session_id"])
    table = pq.read_table(part)
    old = table.drop_columns(["utc_offset_min"])
    meta = dict(table.schema.metadata)
    meta[b"imuback.schema_version"] = b"1.7"
    pq.write_table(old.replace_schema_metadata(meta), part)
    assert "utc_offset_min" not in pq.read_schema(part).names
    assert pd.isna(runner_sessions(ds, "r1").iloc[0]["utc_offset_min"])  # read as null
    html = _trends(ds, tmp_path)
    assert "Sun 03 Mar 2024 21:00" in html and "dates are UTC days, weeks start Monday 00:00 UTC" in html
    capsys.readouterr()


def test_a_bad_zone_is_refused_in_one_line(tmp_path, raw, capsys):
    path = _csv(tmp_path / "bad.csv", raw, start_local="2024-03-04T02:00:00", offset="Z")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "r1", "--time-zone", "Mars/Olympus"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'Mars/Olympus' is not a time zone" in err
    assert not (ds / "sessions").exists()
    (tmp_path / "side.csv").write_text(path.read_text().replace("Z,", ","))
    (tmp_path / "side.csv.json").write_text('{"imuback.time_zone": "Europe/Nowhere"}')
    assert main(["process", str(tmp_path / "side.csv"), "--dataset", str(ds), "--runner", "r1"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Europe/Nowhere" in err



def test_weekly_medians_group_by_the_local_week(tmp_path, raw, capsys):
    """01:00 on Monday 4 March at UTC+05:00 is Sunday 3 March 20:00 UTC: its week is the one of
    4 March, not of 26 February."""
    path = _csv(tmp_path / "mon.csv", raw, start_local="2024-03-04T01:00:00", offset="+05:00")
    ds = tmp_path / "ds"
    assert main(["process", str(path), "--dataset", str(ds), "--runner", "r1"]) == 0
    ids = list(runner_sessions(ds, "r1")["session_id"])
    weekly = weekly_medians(ds, "r1", ids, ["median_cadence_spm"])
    assert [f"{w:%Y-%m-%d}" for w in pd.to_datetime(weekly["week"])] == ["2024-03-04"]
    capsys.readouterr()


# --- a runner at UTC-8: every fabricated 07:00Z run is 23:00 the day before on the runner's clock ----


def test_the_week_after_a_chosen_baseline_is_after_it_in_local_weeks(fabricate):
    """The baseline's last run is Sunday 10 March 23:00 at UTC-8 (Monday 11 March 07:00Z): its week
    is the local one of 4 March, so the week of 11 March comes after the baseline and is compared."""
    dataset, ids = fabricate(weeks=2, utc_offset_min=-480)
    days = (pd.Timestamp("2024-03-03", tz="UTC"), pd.Timestamp("2024-03-10", tz="UTC"))
    ctx = runner_context(runner_sessions(dataset, "r1"), runner_id="r1", params=ReportParams(baseline_range=days))
    assert list(ctx.baseline["session_id"]) == ids[:4]
    assert f"{ctx.baseline['start_time'].max():%a %d %b %H:%M}" == "Mon 11 Mar 07:00"  # UTC: the next week
    weekly = weekly_medians(dataset, "r1", ctx.comparable_ids, list(COLUMNS))
    changes = weekly_changes(ctx, weekly)
    assert changes, "the week of 11 March is after the baseline"
    ch = changes["median_cadence_spm"]
    assert f"{ch.latest_week:%Y-%m-%d}" == "2024-03-11" and ch.latest_n == 2
    # a baseline that reaches into the week of 11 March (Tuesday 12 March local): nothing after it yet
    days = (days[0], pd.Timestamp("2024-03-12", tz="UTC"))
    ctx = runner_context(runner_sessions(dataset, "r1"), runner_id="r1", params=ReportParams(baseline_range=days))
    assert weekly_changes(ctx, weekly_medians(dataset, "r1", ctx.comparable_ids, list(COLUMNS))) == {}


def test_pain_on_a_sunday_night_run_is_in_that_local_week(fabricate):
    """A note about the run of Sunday 3 March 23:00 at UTC-8 (Monday 4 March 07:00Z) is in the week of
    26 February, the week whose weekly medians hold that run, not in the UTC week of 4 March."""
    dataset, ids = fabricate(weeks=2, utc_offset_min=-480)
    add_note(dataset, runner_id="r1", session_id=ids[0], pain_0_10=6, rpe_1_10=4)
    ctx = runner_context(runner_sessions(dataset, "r1"), runner_id="r1")
    pain = weekly_pain(read_notes(dataset, runner_id="r1"), ctx.sessions)
    assert [f"{w:%Y-%m-%d}" for w in pain["week"]] == ["2024-02-26"]
    assert list(pain["worst_pain"]) == [6]
    weekly = weekly_medians(dataset, "r1", [ids[0]], ["median_cadence_spm"])
    assert list(pd.to_datetime(weekly["week"], utc=True)) == list(pain["week"])  # side by side in the report
