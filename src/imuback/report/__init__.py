"""DuckDB queries over the dataset, trends, flags and HTML rendering.

Public entry points (what ``imuback report`` and ``imuback demo`` call)::

    from imuback.report import write_session_report, write_trends_report
    write_session_report(dataset, session_id, out) -> Path
    write_trends_report(dataset, runner_id, out, *, weeks=None) -> Path

Imported lazily, so ``imuback --help`` does not pay for pandas and DuckDB.
"""

from __future__ import annotations

from typing import Any

__all__ = ["write_session_report", "write_trends_report"]


def __getattr__(name: str) -> Any:
    if name == "write_session_report":
        from imuback.report.session import write_session_report

        return write_session_report
    if name == "write_trends_report":
        from imuback.report.trends import write_trends_report

        return write_trends_report
    raise AttributeError(f"module 'imuback.report' has no attribute {name!r}")
