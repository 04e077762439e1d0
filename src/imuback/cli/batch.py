"""CLI commands of the batch area: ``imuback batch``, ``imuback query``, ``imuback export bids``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from imuback.cli import paths
from imuback.cli.numbers import positive_int
from imuback.cli.process import add_identity_arguments, add_replace_argument

_BATCH_EPILOG = """\
examples:
  imuback batch study/raw --dataset study/dataset
  imuback batch 'study/raw/**/*.parquet' extra.csv --dataset study/dataset --workers 8
  imuback batch study/raw --dataset /shared/dataset --scheduler tcp://10.0.0.5:8786

Re-running is safe: sessions already made from the same bytes by the same pipeline version and
parameters are skipped, an interrupted run is resumed, and failed files are listed in the
dataset's errors table. Exit status: 0 all inputs ok, 1 some inputs failed, 2 usage error,
130 interrupted (Ctrl-C or SIGTERM; run the same command again to resume).
"""

_QUERY_EPILOG = """\
tables: steps, strides, sessions, errors, warnings (columns: docs/data_contract.md, docs/batch.md)
examples:
  imuback query --dataset ds "SELECT runner_id, count(*) AS sessions, median(median_cadence_spm)
                              FROM sessions GROUP BY runner_id ORDER BY runner_id"
  imuback query --dataset ds "SELECT * FROM steps WHERE foot = 'L'" --out left_steps.parquet
  imuback query --dataset ds "SELECT source_path, error_type, message FROM errors"
"""


def _cmd_batch(args: argparse.Namespace) -> int:
    from imuback.batch.runner import BatchInterrupted, format_summary, run_batch

    try:
        summary = run_batch(args.inputs, dataset=args.dataset, workers=args.workers,
                            scheduler=args.scheduler, force=args.force, replace=args.replace,
                            progress=args.progress, stream=sys.stderr, runner_id=args.runner,
                            session_id=args.session, start=args.start, mounting=args.mounting,
                            time_zone=args.time_zone)
    except BatchInterrupted as exc:  # Ctrl-C or SIGTERM: workers stopped, lock released
        print(f"imuback batch: {exc}", file=sys.stderr)
        return 130
    print(format_summary(summary))
    return 0 if summary.ok else 1


def _cmd_query(args: argparse.Namespace) -> int:
    from imuback.batch.query import format_table, head, stream_query, write_result

    with stream_query(args.dataset, args.sql) as reader:
        if args.out:
            print(f"{write_result(reader, args.out)} rows -> {args.out}")
        else:
            table, more = head(reader, args.max_rows)
            print(format_table(table, max_rows=args.max_rows, max_width=args.max_width,
                               more_rows=more))
    return 0


def _cmd_export_bids(args: argparse.Namespace) -> int:
    from imuback.batch.bids import export_bids

    result = export_bids(args.inputs, out_dir=args.out, task=args.task, dataset=args.dataset,
                         runner_id=args.runner)
    for _path, message in result.failures:
        print(f"error: {message}", file=sys.stderr)
    print(f"{len(result.sessions)} sessions exported as BIDS-motion -> {result.out_dir}"
          + (f"; {len(result.failures)} files failed" if result.failures else ""))
    return 1 if result.failures else 0


def register(subparsers: Any) -> None:
    """Add ``batch``, ``query`` and ``export`` to the ``imuback`` command."""
    p = subparsers.add_parser(
        "batch", help="process many raw sessions in parallel (local processes or a Dask cluster)",
        description="Process every raw session named by INPUT into a dataset, in parallel: a\n"
                    "local process pool by default, or the workers of a running Dask cluster\n"
                    "with --scheduler. It reads every format 'imuback process' reads, told by\n"
                    "content (docs/formats.md): raw Parquet, CSV, Sensor Logger / phyphox\n"
                    "exports (.zip or folder), mobgap data.mat (every LowerBack trial), APDM\n"
                    ".h5, Xsens .txt, BIDS *_motion.tsv, Axivity AX6 .cwa, Movesense .json.\n"
                    "A file that fails is recorded in the dataset's errors table and the\n"
                    "batch goes on.",
        epilog=_BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="raw session files, folders (searched recursively for .parquet .csv .zip .mat .h5 "
                        ".txt .tsv .cwa .json files whose content is a raw session, and unzipped phone "
                        "exports) or glob patterns (quote them: '**/*.parquet')")
    add_identity_arguments(p, batch=True)
    p.add_argument("--dataset", required=True, metavar="DIR", type=paths.dataset_to_write,
                   help="output dataset (created if missing)")
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="local worker processes (default: one per CPU)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. tcp://host:8786 (needs "
                        "imuback[dask]; workers must see INPUT and DIR at the same paths)")
    p.add_argument("--force", action="store_true",
                   help="re-process sessions even when their rows are up to date")
    add_replace_argument(p)
    p.add_argument("--progress", choices=("auto", "bar", "log", "none"), default="auto",
                   help="bar on a terminal, one log line per session otherwise (default: auto)")
    p.set_defaults(func=_cmd_batch)

    p = subparsers.add_parser(
        "query", help="run DuckDB SQL over a dataset (steps, strides, sessions, errors, warnings)",
        description="Run one DuckDB SQL statement over the dataset's tables and print the\n"
                    "result as a table, or write it to CSV or Parquet with --out.",
        epilog=_QUERY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sql", metavar="SQL", help="the query, e.g. \"SELECT count(*) FROM steps\"")
    p.add_argument("--dataset", required=True, metavar="DIR", type=paths.dataset_to_read, help="dataset directory")
    p.add_argument("--out", metavar="FILE", type=paths.out_file, help="write the result to FILE.csv or FILE.parquet")
    p.add_argument("--max-rows", type=positive_int, default=40, metavar="N",
                   help="rows to print (default 40); the query stops after them")
    p.add_argument("--max-width", type=positive_int, metavar="N",
                   help="cut printed values longer than N characters (default: print them whole)")
    p.set_defaults(func=_cmd_query)

    p = subparsers.add_parser("export", help="export sessions for other tools (BIDS-motion)",
                              description="Export sessions in standard formats for other tools.")
    formats = p.add_subparsers(dest="format", required=True, metavar="FORMAT")
    b = formats.add_parser(
        "bids", help="raw sessions as a BIDS-motion dataset",
        description="Write raw sessions as BIDS-motion (BIDS 1.10): per session *_motion.tsv, "
                    "*_channels.tsv (units, frames), *_motion.json and *_channels.json, plus "
                    "participants and scans files. With --dataset, foot contacts from the "
                    "processed steps table are added as *_events.tsv.",
        epilog="A file that cannot be read or exported is listed on stderr and skipped (no "
               "part of its session is left behind); the others are exported. Exit status: 0 "
               "all exported, 1 some files skipped, 2 usage error (an INPUT that names no file, "
               "a bad --task; nothing written).")
    b.add_argument("inputs", nargs="+", metavar="INPUT", help="raw session files, folders or globs")
    b.add_argument("--out", required=True, metavar="DIR", type=paths.out_folder,
                   help="BIDS dataset folder (created if missing)")
    b.add_argument("--task", default="running", help="BIDS task label (default: running)")
    b.add_argument("--runner", metavar="ID",
                   help="runner id of the inputs that name none; one naming its own (raw Parquet, a CSV "
                        "sidecar, BIDS participants.tsv) keeps it and is refused with another, as in "
                        "'imuback process'; never defaulted")
    b.add_argument("--dataset", metavar="DIR", type=paths.dataset_to_read,
                   help="processed imuback dataset: add each session's foot contacts as events")
    b.set_defaults(func=_cmd_export_bids)
