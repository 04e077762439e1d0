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


def test_a_rate_that_cannot_move_the_numbers_is_no_change() -> None:
    """Review 33b: a phone at its "fastest" setting (397-419 Hz) changed at 5 of 6 sessions when the rates
    were compared as said; every rate from 200 Hz up reads the metrics within 1 % (RATE_SAME_PCT)."""
    assert setup_changes(_rows(sample_rate_hz=[416.2, 411.7, 418.9, 414.5, 408.0, 402.3, 397.6])) == []
    drift = setup_changes(_rows(sample_rate_hz=[100.0, 104.0, 100.3, 112.0, 120.0, 128.0]))
    assert [(c.session_id, c.what) for c in drift] == [("s5", (("sample rate", "100 Hz", "128 Hz"),))]  # anchored
    (c,) = setup_changes(_rows(sample_rate_hz=[52.0, 52.0, 100.0]))  # loading rate -15.9 vs -2.5 %
    assert c.what == (("sample rate", "52 Hz", "100 Hz"),) and not c.alternates


def test_two_sensors_in_turn_are_one_change_that_alternates() -> None:
    """Review 33b: 8 sessions alternating a Polar at 52 Hz and an iPhone at 100 Hz were 7 changes."""
    rows = _rows(sensor=["clip"] * 3 + ["Polar H10", "iPhone"] * 4 + ["clip"],
                 sample_rate_hz=[200.0] * 3 + [52.0, 100.0] * 4 + [200.0])
    first, alt, last = setup_changes(rows)
    assert first.what == (("sensor", "clip", "Polar H10"), ("sample rate", "200 Hz", "52 Hz"))
    assert (alt.session_id, alt.flips, alt.counts, alt.verb) == ("s4", 7, (4, 4), "alternates")
    assert alt.text == ("alternates 7 times between sensor Polar H10, sample rate 52 Hz (4 sessions) and sensor "
                        "iPhone, sample rate 100 Hz (4 sessions)")
    assert last.what == (("sensor", "iPhone", "clip"), ("sample rate", "100 Hz", "200 Hz")) and last.flips == 1


def test_an_alternating_rate_is_one_data_flag_and_one_line(fabricate: Fabricate) -> None:
    high = tuple((i, 400.0 + (7.0 * i) % 19) for i in range(18))  # a phone's "fastest": no change
    turns = tuple((i, 100.0 if i % 2 else 200.0) for i in range(18, 24))
    dataset, _ = fabricate(weeks=8, sample_rates_hz=high + turns)
    html = build_trends_report(dataset, "r1")
    data = [text_of(b) for lv, _, b in _FLAG.findall(html) if lv == "quality" and "sample rate" in text_of(b)]
    assert len(data) == 1, data
    assert data[0].startswith("Data The sample rate alternates from the week of 15 Apr 2024 Alternates 5 times "
                              "between sample rate 400 Hz"), data
    impact = dict((m.group(1), m.group(0)) for m in _FIGURE.finditer(html))["trend-impact_peak_g"]
    assert impact.count('class="vline"') == 1 and "sample rate alternates" in impact


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
