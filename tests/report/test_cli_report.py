"""``imuback report session|trends`` end to end into tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from imuback.cli import main
from imuback.errors import PdfExportError
from imuback.report.pdf import export_pdf, find_chromium

Fabricate = Callable[..., tuple[Path, list[str]]]


def test_help_for_every_report_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["report", "--help"], ["report", "session", "--help"], ["report", "trends", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--session" in out and "--runner" in out and "--weeks" in out and "--pdf" in out
    # days are the sessions' own (local where the zone is known), UTC only without one
    assert "the runner's own calendar day" in " ".join(out.split()) and "a UTC day" in " ".join(out.split())


def test_session_and_trends_commands(fabricate: Fabricate, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    dataset, ids = fabricate(weeks=3, right_impact_rise_pct=12.0)
    out = tmp_path / "out" / "s.html"
    assert main(["report", "session", "--dataset", str(dataset), "--session", ids[-1],
                 "--out", str(out)]) == 0
    assert f"report: {out}" in capsys.readouterr().out
    assert "Running session report" in out.read_text(encoding="utf-8")
    trends = tmp_path / "t.html"
    assert main(["report", "trends", "--dataset", str(dataset), "--runner", "r1", "--weeks", "2",
                 "--baseline-from", "2024-03-04", "--baseline-to", "2024-03-10",
                 "--out", str(trends)]) == 0
    html = trends.read_text(encoding="utf-8")
    assert "showing the last 2 weeks" in html and "; dates are UTC days, weeks start Monday 00:00 UTC)" in html
    assert "sessions from 04 Mar 2024 to 10 Mar 2024, chosen (UTC days)" in html
    assert "Right-side impact (sacrum peak) up" in html


def test_errors_exit_2_with_a_message(fabricate: Fabricate, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    dataset, _ = fabricate(weeks=1)
    out = str(tmp_path / "x.html")
    assert main(["report", "session", "--dataset", str(dataset), "--session", "nope", "--out", out]) == 2
    assert "session 'nope' is not in dataset" in capsys.readouterr().err
    assert main(["report", "trends", "--dataset", str(dataset), "--runner", "r1", "--out", out,
                 "--baseline-from", "2024-03-04"]) == 2
    assert "--baseline-to" in capsys.readouterr().err
    assert main(["report", "trends", "--dataset", str(dataset), "--runner", "r1", "--out", out,
                 "--weeks", "0"]) == 2
    assert not Path(out).exists()


def test_pdf_export(fabricate: Fabricate, tmp_path: Path) -> None:
    if find_chromium() is None:
        with pytest.raises(PdfExportError, match="no Chromium found"):
            export_pdf(tmp_path / "x.html", tmp_path / "x.pdf")
        pytest.skip("no Chromium on PATH: PDF export not exercised")
    dataset, ids = fabricate(weeks=1)
    html, pdf = tmp_path / "s.html", tmp_path / "pdf" / "s.pdf"
    assert main(["report", "session", "--dataset", str(dataset), "--session", ids[0],
                 "--out", str(html), "--pdf", str(pdf)]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_pdf_without_chromium_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PdfExportError, match="print it to PDF instead"):
        export_pdf(tmp_path / "x.html", tmp_path / "x.pdf")
