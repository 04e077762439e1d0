"""Changes of recording set-up and gaps without sessions in the trends (review 32, finding 2: a runner's
strapped sensor at 200 Hz, seven empty weeks, then a phone at 100 Hz, read as one steady line)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pandas as pd

from imuback.report.setup import gaps, setup_changes
from imuback.report.trends import build_trends_report

Fabricate = Callable[..., tuple[Path, list[str]]]

_FLAG = re.compile(r'<li class="flag flag-(\w+)"(?: data-metric="([^"]*)")?>(.*?)</li>', re.S)
_FIGURE = re.compile(r'<figure class="plot" id="(trend-[^"]+)".*?</figure>', re.S)


def _rows(**cols: list[object]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    start = pd.date_range("2026-09-07", periods=n, freq="3D", tz="UTC")
    return pd.DataFrame({"session_id": [f"s{i}" for i in range(n)], "local_start": start, **cols})


def test_a_change_of_sensor_rate_or_stated_mounting_is_found_where_it_happens() -> None:
    rows = _rows(sensor=["clip", "clip", "phone", "phone", None],
                 sample_rate_hz=[200.0, 200.0, 100.0, 99.99, 100.0],  # a phone's jitter is its 100 Hz
                 mounting_source=["file", "given", "given", "assumed", "assumed"])  # file/given: stated
    changes = setup_changes(rows)
    assert [c.session_id for c in changes] == ["s2", "s3"]
    assert changes[0].what == (("sensor", "clip", "phone"), ("sample rate", "200 Hz", "100 Hz"))
    assert changes[0].kinds == "sensor and sample rate"
    assert changes[1].what == (("mounting", "stated", "not stated"),)
    assert changes[0].moves_numbers and not changes[1].moves_numbers  # a stated mounting moves no metric
    assert changes[0].week == pd.Timestamp("2026-09-07", tz="UTC")  # Sun 13 Sep: its Monday
    assert setup_changes(rows.iloc[:2]) == [] and setup_changes(rows.iloc[:1]) == []


def test_more_than_two_weeks_without_a_session_is_a_gap() -> None:
    starts = pd.to_datetime(["2026-09-07 09:00", "2026-09-21 08:00", "2026-10-06 07:00", "2026-10-07 07:00"],
                            utc=True)
    (gap,) = gaps(pd.DataFrame({"local_start": starts}))  # 14 days apart is not a gap, 15 is
    assert (gap.first_day, gap.last_day) == (pd.Timestamp("2026-09-22", tz="UTC"), pd.Timestamp("2026-10-05", tz="UTC"))
    assert gap.text == "no sessions from 22 Sep to 05 Oct 2026 (14 days, 2 weeks)"


def _report(fabricate: Fabricate, **fields: object) -> str:
    dataset, _ = fabricate(weeks=8, skip_weeks=(3, 4, 5), right_impact_rise_pct=12, left_impact_rise_pct=12,
                           rise_weeks=2, **fields)
    return build_trends_report(dataset, "r1")


def test_a_rise_across_a_sensor_change_and_a_gap_says_so_and_is_a_note(fabricate: Fabricate) -> None:
    html = _report(fabricate, late_sensor=(6, "phone in a belt", 100.0))
    flags = {(m or title_of(body)): (level, text_of(body)) for level, m, body in _FLAG.findall(html)}
    level, text = flags["median_impact_peak_g"]
    assert level == "info"  # across the change: a note, not a warning (the control below is a WATCH)
    assert "The sensor and sample rate changed in the week of 15 Apr 2024" in text
    assert "part of this change may be the recording's, not the runner's" in text
    assert "--baseline-from 2024-04-15" in text
    assert "There were no sessions from 24 Mar to 14 Apr 2024 (22 days, 3 weeks)" in text
    assert "since the week of 15 Apr 2024, after 3 weeks without sessions" in text
    assert "worth discussing" not in text  # a WATCH's advice, dropped with the WATCH (review 33b)
    data = [text_of(b) for lv, _, b in _FLAG.findall(html) if lv == "quality"]
    assert any(t.startswith("Data The sensor and sample rate changed in the week of 15 Apr 2024 Sensor simulated "
                            "DIY IMU → phone in a belt and sample rate 200 Hz → 100 Hz") for t in data), data
    assert any(t.startswith("Data No sessions from 24 Mar to 14 Apr 2024") for t in data), data
    assert ("simulated DIY IMU, 200 Hz, 04 Mar 2024 to 23 Mar 2024; phone in a belt, 100 Hz, 15 Apr 2024 to "
            "27 Apr 2024") in text_of(html)  # the Sensors fact, in order, with the days
    charts = dict((m.group(1), m.group(0)) for m in _FIGURE.finditer(html))
    impact = charts["trend-impact_peak_g"]
    assert impact.count('class="vline"') == 1 and "sensor and sample rate changed" in impact
    assert impact.count("<polyline") == 4  # left and right weekly medians, each broken at the gap
    assert "no sessions" in impact and 'fill="#888888"' in impact  # the gap, shaded


def test_the_same_rise_with_one_sensor_stays_a_warning(fabricate: Fabricate) -> None:
    html = _report(fabricate)
    flags = {m: (level, text_of(body)) for level, m, body in _FLAG.findall(html) if m}
    level, text = flags["median_impact_peak_g"]
    assert level == "watch" and "changed in the week" not in text
    assert "No sessions from 24 Mar" in text_of(html)  # the gap is still named
    impact = dict((m.group(1), m.group(0)) for m in _FIGURE.finditer(html))["trend-impact_peak_g"]
    assert 'class="vline"' not in impact and impact.count("<polyline") == 4


def test_a_gap_is_named_in_the_title_only_where_the_trend_starts_with_it(fabricate: Fabricate) -> None:
    """Review 33b: a rise that starts a week after sessions resumed is not "after 3 weeks without
    sessions"; one that started before the gap is "across" it."""
    def title(weeks: int, rise_weeks: int, pct: int) -> str:
        dataset, _ = fabricate(weeks=weeks, skip_weeks=(3, 4, 5), right_impact_rise_pct=pct,
                               left_impact_rise_pct=pct, rise_weeks=rise_weeks)
        html = build_trends_report(dataset, "r1")
        (body,) = [b for _, m, b in _FLAG.findall(html) if m == "median_impact_peak_g"]
        return title_of(body)

    assert title(9, 2, 12).endswith("up 12 % over the last 2 weeks")  # resumed 15 Apr, rise from 22 Apr
    assert title(8, 6, 20).endswith("up 20 % since the week of 18 Mar 2024, across 3 weeks without sessions")


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".").strip())


def title_of(body: str) -> str:
    return text_of(re.search(r"<strong>(.*?)</strong>", body, re.S).group(1))  # type: ignore[union-attr]
