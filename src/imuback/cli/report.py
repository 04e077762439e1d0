"""``imuback report session|trends``: parse arguments, call one function, print the path."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from imuback.cli import paths
from imuback.errors import ImubackError
from imuback.report.analysis import ReportParams


def _params(args: argparse.Namespace) -> ReportParams:
    base = None
    if args.baseline_from or args.baseline_to:
        if not (args.baseline_from and args.baseline_to):
            raise ImubackError("give both --baseline-from and --baseline-to (YYYY-MM-DD), or neither")
        try:
            base = (pd.Timestamp(args.baseline_from, tz="UTC"), pd.Timestamp(args.baseline_to, tz="UTC"))
        except ValueError as exc:
            raise ImubackError(f"baseline dates must be YYYY-MM-DD: {exc}") from exc
    return ReportParams(baseline_range=base, cadence_band_spm=args.cadence_band)


def _finish(out: Path, args: argparse.Namespace) -> int:
    print(f"report: {out}")
    if args.pdf:
        from imuback.report.pdf import export_pdf

        print(f"pdf: {export_pdf(out, Path(args.pdf))}")
    return 0


def _cmd_session(args: argparse.Namespace) -> int:
    from imuback.report.session import write_session_report

    out = write_session_report(Path(args.dataset), args.session, Path(args.out), runner_id=args.runner,
                               params=_params(args))
    return _finish(out, args)


def _cmd_trends(args: argparse.Namespace) -> int:
    from imuback.report.trends import write_trends_report

    if args.weeks is not None and args.weeks < 1:
        raise ImubackError(f"--weeks must be at least 1, got {args.weeks}")
    out = write_trends_report(Path(args.dataset), args.runner, Path(args.out), weeks=args.weeks,
                              params=_params(args))
    return _finish(out, args)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, type=paths.dataset_to_read,
                   help="processed dataset directory (from `imuback process`)")
    p.add_argument("--out", required=True, type=paths.out_file,
                   help="HTML file to write (self-contained, opens offline)")
    p.add_argument("--pdf", metavar="FILE", type=paths.out_file,
                   help="also print the report to this PDF (needs Chromium)")
    p.add_argument("--baseline-from", metavar="DATE",
                   help="baseline start day YYYY-MM-DD, the runner's own calendar day: each session's day "
                        "in the time zone it was recorded in (sessions.utc_offset_min, from --time-zone or "
                        "the file), a UTC day for a session whose zone is unknown (a run at 18:00 on 3 March "
                        "in UTC-8 is on 3 March with its zone, 4 March without); the reports say which "
                        "(default: the runner's first 14 days)")
    p.add_argument("--baseline-to", metavar="DATE", help="baseline end day YYYY-MM-DD (inclusive), a day "
                   "as --baseline-from")
    p.add_argument("--cadence-band", type=float, default=ReportParams().cadence_band_spm,
                   metavar="SPM", help="sessions within ±SPM of the baseline cadence are compared "
                                       "(default %(default)s)")


def register(subparsers: Any) -> None:
    """Add ``report`` with ``session`` and ``trends`` to the ``imuback`` command."""
    report = subparsers.add_parser(
        "report", help="HTML reports for physical therapists (session, trends)",
        description="Self-contained HTML reports over the processed dataset: one session against "
                    "the runner's baseline, or a runner's weekly trends. Changes are reported only "
                    "beyond the smallest real change. Informational only, not a diagnosis.")
    sub = report.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    p = sub.add_parser("session", help="one session: metrics, left/right, drift, distributions",
                       description="Report one session: header (sensor, placement, data "
                                   "completeness), metrics against the runner's "
                                   "baseline, left/right asymmetry, within-run drift plots and "
                                   "per-step distributions.")
    p.add_argument("--session", required=True, help="session id (as in the dataset)")
    p.add_argument("--runner", metavar="ID", help="runner id, where several runners use this session id")
    _common(p)
    p.set_defaults(func=_cmd_session)
    p = sub.add_parser("trends", help="one runner over weeks: trends, asymmetry, fatigue, flags",
                       description="Report a runner's weekly trends at comparable pace against "
                                   "their baseline, with minimum-change bands and plain-language "
                                   "flags on what changed and since when.")
    p.add_argument("--runner", required=True, help="runner id (as in the dataset)")
    p.add_argument("--weeks", type=int, metavar="N", help="show only the last N weeks (default: all)")
    _common(p)
    p.set_defaults(func=_cmd_trends)
    register_note(subparsers)


def _cmd_note(args: argparse.Namespace) -> int:
    from imuback.store.notes import add_note

    path = add_note(Path(args.dataset), runner_id=args.runner, session_id=args.session, pain_0_10=args.pain,
                    pain_where=args.where, rpe_1_10=args.rpe, text=args.text)
    print(f"note stored: {path}")
    return 0


def register_note(sub: Any) -> None:
    """Add ``imuback note`` (the pain and effort log) to the subcommands ``sub``."""
    p = sub.add_parser("note", help="log pain and effort for a session (shown in the reports)",
                       description="Store a pain and effort note about a processed session in the "
                                   "dataset's notes table. Notes are never replaced; the reports "
                                   "show them and set pain beside the mechanics over the weeks.")
    p.add_argument("--dataset", required=True, type=paths.dataset_to_read, help="processed dataset directory")
    p.add_argument("--runner", required=True, help="runner id (as in the dataset)")
    p.add_argument("--session", required=True, help="session id (as in the dataset)")
    p.add_argument("--pain", type=int, metavar="0-10", help="pain during or after the run (0 none, 10 worst)")
    p.add_argument("--where", metavar="TEXT", help="where it hurt, e.g. 'right lower back'")
    p.add_argument("--rpe", type=int, metavar="1-10", help="how hard the run felt (perceived exertion)")
    p.add_argument("--text", metavar="TEXT", help="anything else worth noting")
    p.set_defaults(func=_cmd_note)
