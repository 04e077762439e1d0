"""``imuback process``: raw session files -> the Parquet dataset."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from imuback.cli import paths
from imuback.cli.mounting import MOUNTING_HELP, mounting_matrix
from imuback.errors import ImubackError

if TYPE_CHECKING:
    from imuback.formats.csv import ColumnMapping


@contextmanager
def readers_warnings_on_stderr() -> Iterator[None]:
    """Print the readers' warnings (``imuback`` logger: bad sectors, missing gyroscope...) as
    ``warning: ...`` lines on stderr while a command reads files; the library itself only logs.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("imuback")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _cmd_process(args: argparse.Namespace) -> int:
    with readers_warnings_on_stderr():
        return _process(args)


def _process(args: argparse.Namespace) -> int:
    from imuback.pipeline import process_file_sessions

    identity = {k: v for k, v in (("runner_id", args.runner), ("session_id", args.session), ("start", args.start),
                                  ("mounting", args.mounting), ("time_zone", args.time_zone)) if v is not None}
    if args.session is not None and len(args.raw) > 1:
        print(f"error: --session {args.session} names one session; give it with one file "
              f"(got {len(args.raw)})", file=sys.stderr)
        return 2
    takers = [p for p in args.raw if _format_or_none(p) != "parquet"] if args.start is not None else []
    if len(takers) > 1:  # as in a batch: several files are not one recording (raw Parquet checks it is its own)
        print(f"error: --start {args.start} is the time of one recording's first sample; give it with one file "
              f"(got {len(takers)} that are not raw Parquet, e.g. {takers[0]} and {takers[1]}: those timed from "
              "their start would all be dated from it, those with dates of their own are refused), or use "
              "'imuback batch', whose --start dates every file that states no start", file=sys.stderr)
        return 2
    failed = 0
    try:
        mapping = column_mapping(args)
        check_time_zone(args.time_zone, command="imuback process")
    except ImubackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in args.raw:
        try:
            # what a file states itself (raw Parquet's ids and start, a mounting...) is checked against the one
            # given, as in a batch and the clinic page: formats/identity.py check_stated
            results = process_file_sessions(path, dataset=args.dataset, replace=args.replace, identity=identity,
                                            mapping=mapping, treadmill_speed_mps=args.speed_mps)
        except ImubackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        for res in results:
            if isinstance(res, ImubackError):
                print(f"error: {res}", file=sys.stderr)
                failed += 1
                continue
            if res.same_as and res.up_to_date:  # a copy under another name: one recording, one session
                print(f"{path}: {res.same_as}; nothing written")
                continue
            s = res.summary
            where = (f"; up to date in {args.dataset} (nothing written)" if res.up_to_date  # as batch says
                     else f" -> {args.dataset}")
            print(f"{path}: session {res.session_id} ({s['status']}): {res.steps.num_rows} steps, "
                  f"{res.strides.num_rows} strides{where}")
            if res.same_as:  # a copy, with something new given (a belt speed...): that session written again
                print(f"{path}: {res.same_as}: that session was written again, not a second one")
            if res.moved_from:
                print(f"{path}: {res.moved_text}")
    return 1 if failed else 0


def check_time_zone(zone: str | None, *, command: str) -> None:
    """Refuse a bad ``--time-zone`` once, before any file is read (:func:`imuback.formats.zone.parse_zone`;
    ``unknown`` forgets one given before).
    """
    from imuback.errors import RawFormatError
    from imuback.formats.zone import FORGET, parse_zone

    if zone is not None and zone != FORGET:
        try:
            parse_zone(zone, src=command)
        except RawFormatError as exc:
            raise RawFormatError(f"{exc}; or {FORGET!r} to forget one given before") from None


def column_mapping(args: argparse.Namespace) -> ColumnMapping | None:
    """The ``--columns/--acc-unit/--gyr-unit/--time-unit`` options as a mapping (None: none given)."""
    from imuback.formats.csv import ColumnMapping

    if args.columns is None and args.acc_unit is None and args.gyr_unit is None and args.time_unit is None:
        return None
    return ColumnMapping.parse(args.columns or "", acc_unit=args.acc_unit, gyr_unit=args.gyr_unit,
                               time_unit=args.time_unit or "auto")


def register(subparsers: Any) -> None:
    """Add ``process`` to the ``imuback`` command."""
    p = subparsers.add_parser("process", help="process raw session files into a Parquet dataset",
                              description="Process raw sessions into the steps/strides/sessions dataset: raw "
                                          "Parquet or CSV (raw contract, or CSV with --columns), Sensor Logger and "
                                          "phyphox phone exports (.zip or folder), Mobilise-D/mobgap data.mat (every "
                                          "LowerBack trial), Xsens MTw/DOT text exports, BIDS-motion *_motion.tsv, "
                                          "APDM Opal .h5, Axivity AX6 .cwa, Movesense DataLogger .json; the format is "
                                          "told by content "
                                          "(docs/formats.md). The same file again changes nothing (a new pipeline "
                                          "version or parameters replace its rows); another recording under the "
                                          "same ids, or this recording under another runner id, is refused unless "
                                          "--replace.")
    p.add_argument("raw", nargs="+", help="raw session files")
    p.add_argument("--dataset", required=True, type=paths.dataset_to_write,
                   help="dataset directory (created if missing)")
    add_identity_arguments(p)
    p.add_argument("--columns", metavar="MAP",
                   help="CSV column names: contract column = file column, e.g. time=ts,acc_x=ax,acc_y=ay,acc_z=az")
    p.add_argument("--acc-unit", choices=("m/s2", "g"), help="acceleration unit of a CSV or Xsens file (CSV "
                   "default m/s2)")
    p.add_argument("--gyr-unit", choices=("deg/s", "rad/s"), help="gyroscope unit of a CSV or Xsens file (CSV "
                   "default deg/s, Xsens rad/s)")
    p.add_argument("--time-unit", choices=("auto", "s", "ms", "us", "ns"),
                   help="unit of a CSV's numeric time (default auto: dates, or epoch s/ms/us/ns by size); with "
                        "--start, time since the start")
    p.add_argument("--speed-mps", type=float, metavar="M_PER_S",
                   help="treadmill belt speed of the running (m/s, e.g. 3.33 for 12 km/h): gives step and stride "
                        "length, pace and vertical ratio; stored with the session (sessions.speed_source = "
                        "treadmill) and kept when it is re-processed, --replace included; 0 clears a stored speed. "
                        "Without one, a phone export's GPS speed is used")
    add_replace_argument(p)
    p.set_defaults(func=_cmd_process)


def _format_or_none(path: str) -> str | None:
    """The file's format, None when it cannot be told (processing then says why)."""
    from imuback.formats import detect_format

    try:
        return detect_format(path)
    except ImubackError:
        return None


def add_identity_arguments(p: argparse.ArgumentParser, *, batch: bool = False) -> None:
    """``--runner``, ``--session``, ``--start``, ``--time-zone``, ``--mounting``, the same for ``process`` and ``batch``
    (``--session`` describes one recording: it refuses several files, as ``process``'s ``--start`` several that
    are not raw Parquet; ``batch``'s ``--runner`` and ``--start`` are those of the files stating none: one
    stating its own keeps it).
    """
    p.add_argument("--runner", metavar="ID",
                   help=("runner id of files that carry none; a file naming its own (raw Parquet, a CSV sidecar, "
                         "BIDS participants.tsv) keeps it, said under warnings; never defaulted") if batch else
                        ("runner id of files that carry none; a file naming its own (raw Parquet, a CSV sidecar, "
                         "BIDS participants.tsv) keeps it, and it must be that one if given; never defaulted"))
    p.add_argument("--session", metavar="ID",
                   help="session id of a file that carries none (default: file name + start time; raw "
                        "Parquet's own, which it must be if given); in a mobgap data.mat, the one trial to "
                        "process (e.g. TimeMeasure1_Test5_Trial1); refused with several files")
    p.add_argument("--start", metavar="ISO8601",
                   help="time of the first sample of files timed from their start (CSV of time since the start, "
                        "Xsens without UTC columns, Movesense, BIDS without acq_time), with its zone: "
                        "2024-03-04T07:00:00Z (UTC) or 2024-03-04T08:00:00+01:00; a time without a zone is "
                        "refused. " + ("Every such input is dated from it (each keeps its own session id: file "
                                       "name + start); a file that dates its samples itself keeps its own, said "
                                       "under warnings" if batch else
                                       "For raw Parquet, which carries its own, the same instant or refused; "
                                       "refused with several files that are not raw Parquet ('imuback batch "
                                       "--start' dates each that states none)"))
    p.add_argument("--time-zone", metavar="ZONE",
                   help="where the recordings were made: a place's IANA name (Europe/Madrid, "
                        "America/Los_Angeles; its offset at each session's start, summer time included), UTC, "
                        "or an offset (+01:00); stored with each session (utc_offset_min) over the zone a file "
                        "states (a raw Parquet file keeps its own: another is refused), so the reports cut its "
                        "day and week in local time. Without it: the file's "
                        "(CSV dates with an offset, the CSV sidecar's imuback.time_zone, a phone export's, "
                        "BIDS acq_time with an offset, --start's offset), else the one given before for the same "
                        "recording, else unknown (UTC days). 'unknown' forgets a zone given before for the same "
                        "recording: the file's own again, else none (with --replace where a stored session would "
                        "refuse)")
    p.add_argument("--mounting", type=mounting_matrix, metavar="R",
                   help=MOUNTING_HELP + ". For files that do not say how the sensor was worn; one that "
                        "does keeps its own and refuses another, naming both (raw Parquet's imuback.mounting, "
                        "a CSV sidecar's, BIDS with NominalMountingRotation, mobgap); "
                        "without it the one given before for the same recording is kept, else the identity is "
                        "assumed and the reports say the file did not tell the mounting ('unknown' forgets the "
                        "one given before). The body frame is found "
                        "from the data either way")


def add_replace_argument(p: argparse.ArgumentParser) -> None:
    """``--replace``, the same for ``process`` and ``batch``."""
    p.add_argument("--replace", action="store_true",
                   help="replace stored sessions that were made from other bytes (another file, or a "
                        "changed file, under the same runner and session id), and move a recording stored "
                        "under another runner's id to the runner now given, with its notes; without it "
                        "both are refused")
