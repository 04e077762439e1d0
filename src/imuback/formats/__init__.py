"""Readers of what people own -> :class:`~imuback.core.RawSession`: the raw Parquet contract
(:mod:`imuback.store.raw`) and CSV (:mod:`imuback.formats.csv`); phone exports and research
devices belong here too, one module each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imuback.core import RawSession
from imuback.errors import RawFormatError


def read_session(path: str | Path, **identity: Any) -> RawSession:
    """Read and validate one raw session file, by its suffix: ``.csv`` or the raw Parquet contract.

    ``identity`` (``runner_id``, ``start``...) applies to formats that carry none (CSV); a Parquet
    file carries its own, so giving identity for one is an error.
    """
    if Path(path).suffix.lower() == ".csv":
        from imuback.formats.csv import read_csv_session

        return read_csv_session(path, **identity)
    if identity:
        raise RawFormatError(f"{path}: {sorted(identity)} are for CSV files without ids; this file carries its own")
    from imuback.store.raw import read_raw

    return read_raw(path)
