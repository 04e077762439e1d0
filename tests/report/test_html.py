"""Report HTML: self-contained, escaped, footer, never 'cleared to run'."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from imuback.report.html import CSP, FOOTER, Markup, esc, table, tag
from imuback.report.session import build_session_report, write_session_report
from imuback.report.trends import build_trends_report, write_trends_report

Fabricate = Callable[..., tuple[Path, list[str]]]
EVIL = "<script>alert('x')</script>&\"quotes\""


def test_escaping_is_the_default() -> None:
    assert esc(EVIL) == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;quotes&quot;"
    assert esc(Markup("<b>ok</b>")) == "<b>ok</b>"
    assert tag("td", EVIL, title=EVIL).count("<script>") == 0
    assert "<script>" not in table([EVIL], [[EVIL, Markup("<i>m</i>")]])


def test_footer_wording() -> None:
    assert "not a diagnosis" in FOOTER
    assert "one to two weeks" in FOOTER
    assert "urgent care" in FOOTER and "saddle" in FOOTER and "bladder" in FOOTER
    assert "cleared" not in FOOTER.lower()


@pytest.fixture
def reports(demo_dataset: tuple[Path, list[str]]) -> list[str]:
    dataset, ids = demo_dataset
    return [build_session_report(dataset, ids[-1]), build_session_report(dataset, ids[0]),
            build_trends_report(dataset, "r1"), build_trends_report(dataset, "r1", weeks=2)]


def test_reports_are_self_contained(reports: list[str]) -> None:
    for html in reports:
        assert html.startswith("<!DOCTYPE html>")
        assert f'http-equiv="Content-Security-Policy" content="{esc(CSP)}"' in html
        assert "default-src 'none'" in CSP
        assert "<script" not in html
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", html)
        assert "@import" not in html and "url(http" not in html
        assert f'<footer><p class="disclaimer">{esc(FOOTER)}</p>' in html
        assert "cleared" not in html.lower()


def test_user_strings_are_escaped_everywhere(fabricate: Fabricate) -> None:
    dataset, ids = fabricate(runner_id="r<i>&", weeks=2, sensor=EVIL, status_reason=EVIL)
    for html in (build_session_report(dataset, ids[-1]), build_trends_report(dataset, "r<i>&")):
        assert "<script>alert" not in html and "<i>&" not in html
        assert esc(EVIL) in html
        assert "r&lt;i&gt;&amp;" in html


@pytest.mark.parametrize("which", ["session", "trends"])
def test_reports_replace_the_old_file_atomically(demo_dataset: tuple[Path, list[str]], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    dataset, ids = demo_dataset
    out = tmp_path / "reports" / f"{which}.html"

    def write() -> Path:
        if which == "session":
            return write_session_report(dataset, ids[-1], out)
        return write_trends_report(dataset, "r1", out)

    replaced: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        replaced.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    assert write() == out
    assert len(replaced) == 1 and replaced[0][1] == out and replaced[0][0].parent == out.parent
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode

    # a failure while writing leaves the old report whole and no temporary file behind
    out.write_text("old report", encoding="utf-8")

    def fail(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write()
    assert out.read_text(encoding="utf-8") == "old report"
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_a_sessions_findings_are_counted_by_level_not_added_up():
    """The clinic's list of sessions: a NOTE is not a WATCH, so the counts stay apart (fixes25b's note:
    the 'Flags' column added NOTEs to the count)."""
    from imuback.report.analysis import Flag
    from imuback.report.html import flags_text

    def f(level: str) -> Flag:
        return Flag(level=level, title="t", detail="d")

    assert flags_text([]) == "none"
    assert flags_text([f("info")]) == "1 info"  # not "1 note": the pain log beside it holds notes
    assert flags_text([f("info"), f("watch"), f("info"), f("notable")]) == "1 notable, 1 watch, 2 info"
