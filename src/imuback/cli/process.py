"""``imuback process``: raw session files -> the Parquet dataset."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from imuback.cli import paths
from imuback.errors import ImubackError


def _cmd_process(args: argparse.Namespace) -> int:
    from imuback.pipeline import process_file

    csv_meta = {k: v for k, v in (("runner_id", args.runner), ("session_id", args.session),
                                  ("start", args.start)) if v is not None}
    if args.session is not None and len(args.raw) > 1:
        print(f"error: --session names one session but {len(args.raw)} inputs were given; process them one "
              "at a time (or leave --session out: each gets its file name plus its start time)", file=sys.stderr)
        return 2
    failed = 0
    for path in args.raw:
        try:
            res = process_file(path, dataset=args.dataset, replace=args.replace, csv_meta=csv_meta)
        except ImubackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        s = res.summary
        print(f"{path}: session {res.session_id} ({s['status']}): {res.steps.num_rows} steps, "
              f"{res.strides.num_rows} strides -> {args.dataset}")
    return 1 if failed else 0


def register(subparsers: Any) -> None:
    """Add ``process`` to the ``imuback`` command."""
    p = subparsers.add_parser("process", help="process raw session files into a Parquet dataset",
                              description="Process raw sessions (Parquet or CSV, raw contract, or phone exports) "
                                          "into the steps/strides/sessions dataset. Re-processing a file replaces its "
                                          "rows; another recording under the same ids is refused unless --replace.")
    p.add_argument("raw", nargs="+", help="raw session files (.parquet or .csv) or phone exports (a Sensor "
                                          "Logger or phyphox zip, or its unzipped folder)")
    p.add_argument("--dataset", required=True, type=paths.dataset_to_write,
                   help="dataset directory (created if missing)")
    p.add_argument("--runner", metavar="ID",
                   help="runner id of CSV files and phone exports, which carry none (their session id is "
                        "made from the file name and start time unless --session is given)")
    p.add_argument("--session", metavar="ID",
                   help="session id of a CSV file or phone export (default: its name plus its UTC start time)")
    p.add_argument("--start", metavar="ISO8601",
                   help="start time of CSV files (or phyphox exports without meta/time.csv) timed in seconds "
                        "since the start, e.g. 2024-03-04T07:00:00Z")
    add_replace_argument(p)
    p.set_defaults(func=_cmd_process)


def add_replace_argument(p: argparse.ArgumentParser) -> None:
    """``--replace``, the same for ``process`` and ``batch``."""
    p.add_argument("--replace", action="store_true",
                   help="replace stored sessions that were made from other bytes (another file, or a "
                        "changed file, under the same runner and session id); without it they are refused")
