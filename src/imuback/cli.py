"""The ``imuback`` command: parse arguments, call one function, print. Nothing imports this."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from imuback import __version__
from imuback.errors import ImubackError
from imuback.runtime import tune_allocator

AREA_COMMANDS = (
    "imuback.simulate.commands",
    "imuback.collect.commands",
    "imuback.report.commands",
    "imuback.batch.commands",
    "imuback.serve.commands",
)
"""Modules with ``register(subparsers)``; each adds its subcommands with ``set_defaults(func=...)``."""


def _cmd_process(args: argparse.Namespace) -> int:
    from imuback.pipeline import process_file

    failed = 0
    for path in args.raw:
        try:
            res = process_file(path, dataset=args.dataset)
        except ImubackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        s = res.summary
        print(f"{path}: session {res.session_id} ({s['status']}): {res.steps.num_rows} steps, "
              f"{res.strides.num_rows} strides -> {args.dataset}")
    return 1 if failed else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from imuback.demo import run_demo

    return run_demo(out_dir=Path(args.out), minutes=args.minutes, seed=args.seed,
                    weeks=args.weeks, speedup=args.speedup)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="imuback",
        description="Running biomechanics for low back pain from one lower-back IMU.",
    )
    parser.add_argument("--version", action="version", version=f"imuback {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("process", help="process raw session files into a Parquet dataset",
                       description="Process raw sessions (Parquet or CSV, raw contract) into the "
                                   "steps/strides/sessions dataset. Re-processing replaces rows.")
    p.add_argument("raw", nargs="+", help="raw session files (.parquet or .csv)")
    p.add_argument("--dataset", required=True, help="dataset directory (created if missing)")
    p.set_defaults(func=_cmd_process)

    p = sub.add_parser("demo", help="simulate a runner, record over a simulated BLE link, process, report",
                       description="Run the whole product on a simulated sensor: no hardware needed.")
    p.add_argument("--out", default="imuback-demo", help="output folder (default: ./imuback-demo)")
    p.add_argument("--minutes", type=float, default=12.0, help="length of the recorded run (default 12)")
    p.add_argument("--weeks", type=int, default=6, help="weeks of history for the trends report")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--speedup", type=float, default=60.0,
                   help="how much faster than real time the simulated sensor streams (default 60)")
    p.set_defaults(func=_cmd_demo)

    for name in AREA_COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``imuback`` console script."""
    args = build_parser().parse_args(argv)
    tune_allocator()
    # bumble's own warnings (a packet for a link that just closed, in its virtual controller)
    # are chatter on the simulated link, not something a runner can act on
    logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        return int(args.func(args))
    except ImubackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
