"""The ``imuback`` command: parse arguments, call one function, print. Nothing imports this."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

from imuback import __version__
from imuback.cli import batch, collect, delete, demo, process, report, serve, simulate
from imuback.errors import ImubackError
from imuback.runtime import tune_allocator

COMMAND_GROUPS = (process.register, demo.register, simulate.register, collect.register,
                  report.register, batch.register, delete.register, serve.register)
"""Each adds its subcommands with ``set_defaults(func=...)``. Imported directly: a command group
that cannot be imported fails the ``imuback`` command loudly instead of vanishing from it."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="imuback",
        description="Running biomechanics for low back pain from one lower-back IMU.",
    )
    parser.add_argument("--version", action="version", version=f"imuback {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMAND_GROUPS:
        register(sub)
    _one_default_style(parser)
    return parser


_DEFAULT_TEXT = re.compile(r"\s*\(default:?\s*([^)]*)\)")


def _one_default_style(parser: argparse.ArgumentParser) -> None:
    """Every option's help ends in ``(default: X)`` when it has a default, whichever way its
    group wrote it: the value, or the words the group gave (``(default: one per CPU)``).
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _one_default_style(child)
            continue
        if not action.help or action.help == argparse.SUPPRESS or not action.option_strings:
            continue
        help_text = action.help.replace("%(default)s", str(action.default))
        found = _DEFAULT_TEXT.search(help_text)
        base = _DEFAULT_TEXT.sub("", help_text).rstrip()
        if found:
            text = found.group(1).strip()
        elif action.default is not None and action.default is not False and action.default != argparse.SUPPRESS:
            text = str(action.default)
        else:
            action.help = help_text.replace("%", "%%")
            continue
        action.help = f"{base} (default: {text})".replace("%", "%%")


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
