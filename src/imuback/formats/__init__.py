"""Readers of what people own -> :class:`~imuback.core.RawSession`: the raw Parquet contract
(:mod:`imuback.store.raw`), CSV (:mod:`imuback.formats.csv`), phone exports (Sensor Logger:
:mod:`imuback.formats.sensorlogger`, phyphox: :mod:`imuback.formats.phyphox`); research devices
belong here too, one module each. docs/formats.md says what each expects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imuback.core import RawSession
from imuback.errors import RawFormatError


def read_session(path: str | Path, **identity: Any) -> RawSession:
    """Read and validate one raw session, by its content: a phone export (a zip or folder from
    Sensor Logger or phyphox), a ``.csv`` file, or the raw Parquet contract.

    ``identity`` (``runner_id``, ``session_id``, ``start``...) applies to formats that carry none
    (CSV, phone exports); a Parquet file carries its own, so giving identity for one is an error.
    """
    path = Path(path)
    phone = read_phone_export(path, **identity)
    if phone is not None:
        return phone
    if path.is_dir():
        from imuback.store.raw import check_raw_path

        check_raw_path(path)  # a folder that is not a phone export: says what to give instead
    if path.suffix.lower() == ".csv":
        from imuback.formats.csv import read_csv_session

        return read_csv_session(path, **identity)
    if identity:
        raise RawFormatError(f"{path}: {sorted(identity)} are for files without ids (CSV, phone exports); "
                             "this file carries its own")
    from imuback.store.raw import read_raw

    return read_raw(path)


def read_phone_export(path: Path, **identity: Any) -> RawSession | None:
    """The session of a phone app's export at ``path`` (zip or folder), or None if it is not one
    (:func:`imuback.formats.phone.phone_format` tells, :func:`~imuback.formats.phone.read_phone` reads).
    """
    from imuback.formats.phone import phone_format, read_phone

    kind = phone_format(path)
    return None if kind is None else read_phone(path, kind, **identity)
