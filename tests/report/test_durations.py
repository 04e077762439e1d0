"""One way to say how long something lasted (report/metrics.duration_text), used by every report,
the clinic page and the demo: a 30 s trial reads "30 s", never "0 min"."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from imuback.cli import main
from imuback.report.metrics import duration_text


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0, "0 s"), (4.4, "4 s"), (29.6, "30 s"), (59.6, "1 min"), (90.0, "1 min 30 s"), (125.2, "2 min 5 s"),
    (599.7, "10 min"), (754.0, "13 min"), (3599.0, "1 h"), (3725.0, "1 h 2 min"), (7200.0, "2 h"),
    (None, "n/a"), (math.nan, "n/a"), (-1.0, "n/a"),
])
def test_durations_read_sensibly_at_every_length(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


def test_a_30_s_trial_reads_30_s_in_every_report_and_page(tmp_path: Path) -> None:
    """A 30 s walk: no "0 min" / "0.5 min" anywhere a PT reads its length."""
    from imuback.serve.app import create_app
    from imuback.store.raw import write_raw
    from tests.signal.analytic import half_sine_run

    raw = half_sine_run(minutes=0.5)[0]
    src = write_raw(tmp_path / "short.parquet", raw)
    ds = tmp_path / "ds"
    assert main(["process", str(src), "--dataset", str(ds)]) == 0
    rid, sid = raw.runner_id, raw.session_id
    session, trends = tmp_path / "s.html", tmp_path / "t.html"
    assert main(["report", "session", "--session", sid, "--dataset", str(ds), "--out", str(session)]) == 0
    assert main(["report", "trends", "--runner", rid, "--dataset", str(ds), "--out", str(trends)]) == 0
    client = create_app(ds, read_only=True).test_client()
    page = client.get(f"/runner/{rid}").get_data(as_text=True)
    for html in (session.read_text(encoding="utf-8"), trends.read_text(encoding="utf-8"), page):
        assert ">0 min<" not in html and "0.5 min" not in html and "0.0 min" not in html
    assert ">30 s<" in page and ">30 s<" in trends.read_text(encoding="utf-8")
    assert "30 s" in session.read_text(encoding="utf-8").split("Duration")[1].split("</dd>")[0]


@pytest.mark.parametrize(("hz", "text"), [(100.0, "100 Hz"), (99.993, "100 Hz"), (101.441, "101.4 Hz"),
                                          (99.2, "100 Hz"), (98.9, "98.9 Hz"), (208.0, "208 Hz"),
                                          (25.0, "25 Hz"), (12.5, "12.5 Hz"), (None, "n/a"),
                                          (float("nan"), "n/a")])
def test_a_sample_rate_is_shown_rounded(hz: float | None, text: str) -> None:
    """Review 25: a jittered phone's median interval gave "99.993 Hz": whole hertz within 1 %, else
    one decimal."""
    from imuback.report.metrics import rate_text

    assert rate_text(hz) == text
