"""A walking-only session's report (report/session.py, report/metrics.py): titled by its activity,
each metric's accuracy note for walking steps (docs/validation.md), never running's."""

from __future__ import annotations

from pathlib import Path

import pytest

from imuback.cli import main
from imuback.report.metrics import METRICS, REAL_RUNNING, REAL_WALKING, RUNNING_ONLY, SPEED_METRICS

VOISARD = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "voisard_l5_walk" / "GaitData"


def test_walking_accuracy_notes_never_borrow_running_references():
    walking = {m.key: m.checked_on_for("walk") for m in (*METRICS, *SPEED_METRICS)}
    assert walking["cadence_spm"] == REAL_WALKING  # voisard and mobgap_lab bout cadence
    for key in ("contact_time_s", "flight_time_s", "grf_peak_bw", "impact_peak_g"):
        assert walking[key] == RUNNING_ONLY  # null in walking: no walking toe-off
    assert not any("running" in text and text != RUNNING_ONLY for text in walking.values())
    assert {m.key: m.checked_on_for("run") for m in METRICS}["cadence_spm"] == REAL_RUNNING


@pytest.mark.skipif(not VOISARD.exists(), reason="../shared/data/real/voisard_l5_walk absent: run "
                    "python benchmarks/get_real_data.py")
def test_a_walking_trial_gets_a_walking_report(tmp_path: Path) -> None:
    ds, out = tmp_path / "ds", tmp_path / "r.html"
    assert main(["process", str(VOISARD / "1-4_lb.txt"), "--dataset", str(ds), "--runner", "v1",
                 "--start", "2024-05-01T10:00:00Z"]) == 0
    assert main(["report", "session", "--session", "1-4_lb-20240501T100000Z", "--dataset", str(ds),
                 "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Walking session report" in html and "Running session report" not in html
    assert "how this walk (no running in it) looked" in html
    assert REAL_WALKING in html and REAL_RUNNING not in html
    assert "the file did not say how the sensor was worn" in html  # finding C: no --mounting given
    assert "from its nominal mounting" not in html


@pytest.fixture(scope="module")
def walker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runner with two walking-only voisard trials, a week apart (the audit's reproduction)."""
    if not VOISARD.exists():
        pytest.skip("../shared/data/real/voisard_l5_walk absent: run python benchmarks/get_real_data.py")
    ds = tmp_path_factory.mktemp("walker") / "ds"
    for trial, start in (("1-4", "2024-05-01T10:00:00Z"), ("1-5", "2024-05-08T10:00:00Z")):
        assert main(["process", str(VOISARD / f"{trial}_lb.txt"), "--dataset", str(ds), "--runner", "v1",
                     "--start", start]) == 0
    return ds


def _report(ds: Path, out: Path, *args: str) -> str:
    assert main(["report", *args, "--dataset", str(ds), "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_a_walker_gets_a_walking_trends_report(walker: Path, tmp_path: Path) -> None:
    html = _report(walker, tmp_path / "t.html", "trends", "--runner", "v1")
    assert "Walking trends report" in html and "Running trends report" not in html


def test_no_baseline_cadence_is_said_plainly(walker: Path, tmp_path: Path) -> None:
    trends = _report(walker, tmp_path / "t.html", "trends", "--runner", "v1")
    session = _report(walker, tmp_path / "s.html", "session", "--session", "1-4_lb-20240501T100000Z")
    for html in (trends, session):
        assert "of n/a steps/min" not in html and "baseline&#39;s n/a" not in html
        assert "baseline's n/a" not in html
    assert "no baseline cadence yet" in trends and "no baseline cadence yet" in session


def test_a_relative_smallest_change_without_baseline_is_not_zero(walker: Path, tmp_path: Path) -> None:
    html = _report(walker, tmp_path / "s.html", "session", "--session", "1-4_lb-20240501T100000Z")
    assert " 0 g/s" not in html
    row = html.split("Loading rate (index)")[1].split("</tr>")[0]
    assert row.count("n/a") >= 1 and row.count("—") == 3  # session; a walk: no baseline, change, smallest


def test_walking_session_drift_says_it_is_computed_on_running_only(walker: Path, tmp_path: Path) -> None:
    html = _report(walker, tmp_path / "s.html", "session", "--session", "1-4_lb-20240501T100000Z")
    drift = html.split('id="drift"')[1].split("</section>")[0]
    assert "computed on running steps only" in drift
    assert "Minutes since the first running step" not in drift and "<svg" not in drift
    assert "Within the run (fatigue drift)" not in html  # not titled for a run


def test_a_walkers_trends_report_explains_what_it_holds_not_running_drift(walker: Path, tmp_path: Path) -> None:
    html = _report(walker, tmp_path / "t.html", "trends", "--runner", "v1")
    methods = html.split('id="methods"')[1].split("</section>")[0]
    assert "Within-run drift compares" not in methods and "0.28 BW" not in methods
    assert "walking only" in methods and "computed on running" in methods
    sub = html.split('class="sub"')[1].split("</p>")[0]
    assert "against the runner&#39;s own baseline" not in sub and "walking sessions only" in sub
    trends = html.split('id="trends"')[1].split("</section>")[0]
    assert "No comparable sessions" not in trends and "computed on running" in trends


def test_a_runners_trends_report_still_explains_running_drift(tmp_path: Path) -> None:
    from imuback.store.raw import write_raw
    from tests.signal.analytic import half_sine_run

    raw = half_sine_run(minutes=2.0)[0]
    ds = tmp_path / "ds"
    assert main(["process", str(write_raw(tmp_path / "r.parquet", raw)), "--dataset", str(ds)]) == 0
    html = _report(ds, tmp_path / "t.html", "trends", "--runner", raw.runner_id)
    methods = html.split('id="methods"')[1].split("</section>")[0]
    assert "Within-run drift compares" in methods and "0.28 BW" in methods and "walking only" not in methods


def test_a_walk_is_never_compared_with_a_running_baseline(fabricate, tmp_path: Path) -> None:
    """Review 25: a walking-only session of a runner showed "Cadence 111 | Baseline 168 | Change
    -57 steps/min": the baseline is running, so a walk gets no Baseline, Change or Reading."""
    import re

    from imuback.report.session import build_session_report

    if not VOISARD.exists():
        pytest.skip("../shared/data/real/voisard_l5_walk absent: run python benchmarks/get_real_data.py")
    ds, _ = fabricate(weeks=3)
    assert main(["process", str(VOISARD / "1-4_lb.txt"), "--dataset", str(ds), "--runner", "r1",
                 "--start", "2024-03-25T10:00:00Z"]) == 0
    html = build_session_report(ds, "1-4_lb-20240325T100000Z", runner_id="r1")
    table = html[html.index('class="metrics"'):]
    table = table[:table.index("</table>")]
    rows = {r[0]: r[1:] for r in (re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", table))
            if r}
    this, base, change, smallest = rows["Cadence"][:4]
    assert this.endswith("steps/min") and "n/a" not in this
    assert (base, change, smallest) == ("—", "—", "—"), rows["Cadence"]
    assert "walking; the baseline is running" in html


@pytest.mark.skipif(not VOISARD.exists(), reason="../shared/data/real/voisard_l5_walk absent: run "
                    "python benchmarks/get_real_data.py")
def test_a_second_of_running_without_a_running_step_is_no_running(tmp_path: Path) -> None:
    """Review 34, 8: a mobgap walking trial stored run_time_s 1 and no running step; its report said
    '(1 s running)' beside '0 running' steps."""
    import pyarrow.parquet as pq

    ds, out = tmp_path / "ds", tmp_path / "r.html"
    assert main(["process", str(VOISARD / "1-4_lb.txt"), "--dataset", str(ds), "--runner", "v1",
                 "--start", "2024-05-01T10:00:00Z"]) == 0
    (part,) = (ds / "sessions").rglob("*.parquet")
    table = pq.read_table(part)
    assert table["n_run_steps"][0].as_py() == 0
    pq.write_table(table.set_column(table.schema.get_field_index("run_time_s"), "run_time_s",
                                    [[1.0]]).cast(table.schema), part)
    html = _report(ds, out, "session", "--session", "1-4_lb-20240501T100000Z")
    assert "(no running)" in html and "s running)" not in html
