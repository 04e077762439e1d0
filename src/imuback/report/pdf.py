"""PDF export of a report through headless Chromium's print-to-PDF (no Python dependency).

The HTML reports carry print CSS (A4, no page breaks inside plots or tables), so Chromium's
printer gives a clean PDF. Chromium is looked up on PATH (Debian ``chromium``); without it the
HTML file is still complete and the browser's own "Print to PDF" does the same.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from imuback.errors import PdfExportError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def export_pdf(html: Path, pdf: Path, *, chromium: str | None = None, timeout_s: float = 120.0) -> Path:
    """Print the report ``html`` to ``pdf`` with headless Chromium; return ``pdf``."""
    exe = chromium or find_chromium()
    if exe is None:
        raise PdfExportError(f"cannot write {pdf}: no Chromium found on PATH (tried "
                             f"{', '.join(CHROMIUM_NAMES)}); open {html} in a browser and print it "
                             "to PDF instead")
    pdf = Path(pdf).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(html).resolve().as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PdfExportError(f"Chromium took longer than {timeout_s:g} s to print {html}") from exc
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise PdfExportError(f"Chromium could not print {html} to {pdf} (exit {done.returncode}): "
                             + " | ".join(tail))
    return pdf
