"""Argument types for paths: a folder where a folder is needed, a file where a file is, checked
while parsing, so a wrong path is a one-line usage error naming it and the fix (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def out_folder(text: str) -> str:
    """A folder to write into (created if missing): not an existing file."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a file; give a folder (it is created if missing)")
    return text


def out_file(text: str) -> str:
    """A file to write: not an existing folder, and its folder is not a file."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a folder; give the name of a file to write (in it or elsewhere)")
    if path.parent.exists() and not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {path.parent} is a file, not a folder")
    return text


def dataset_to_write(text: str) -> str:
    """A dataset folder to write (created if missing)."""
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a dataset folder; give a folder "
                                         "(it is created if missing)")
    return text


def dataset_to_read(text: str) -> str:
    """An existing dataset folder."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such dataset folder; make one with 'imuback process' "
                                         "or 'imuback batch'")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a dataset folder")
    return text
