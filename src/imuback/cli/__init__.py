"""The ``imuback`` command: the only place that parses arguments or prints. Nothing imports this."""

from imuback.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
