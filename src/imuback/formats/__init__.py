"""Readers of what people own -> :class:`~imuback.core.RawSession`, the format told by content.

- the raw Parquet contract (:mod:`imuback.store.raw`) and CSV (:mod:`imuback.formats.csv`, with an
  optional column mapping);
- research devices, one module each: Mobilise-D / mobgap ``data.mat`` (:mod:`.mobgap`, several
  sessions per file), Xsens MTw/DOT text exports (:mod:`.xsens`), BIDS-motion (:mod:`.bids`),
  APDM Opal ``.h5`` (:mod:`.apdm`, with the optional h5py), Axivity AX6 ``.cwa`` (:mod:`.cwa`),
  Movesense DataLogger logs in JSON (:mod:`.movesense`).

:func:`read_sessions` returns every session a file holds; :func:`read_session` exactly one (a
file with several needs ``session_id`` to pick one). See docs/formats.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from imuback.core import RawSession, SourceFile
from imuback.errors import RawFormatError
from imuback.formats.encoding import decoded_head, refuse_wide, wide_encoding

if TYPE_CHECKING:
    from imuback.formats.csv import ColumnMapping

log = logging.getLogger("imuback")

Format = Literal["parquet", "csv", "mobgap", "xsens", "bids", "apdm", "sensorlogger", "phyphox", "cwa", "movesense"]
FORMATS: tuple[Format, ...] = ("parquet", "csv", "mobgap", "xsens", "bids", "apdm", "sensorlogger", "phyphox", "cwa",
                               "movesense")
_HEAD_BYTES = 4096
SEVERAL_SESSIONS: frozenset[Format] = frozenset({"mobgap"})
"""Formats whose file holds several sessions, named by the file (a mobgap ``data.mat``: one per trial)."""
_SELF_DATED: frozenset[Format] = frozenset({"parquet", "mobgap", "apdm", "sensorlogger", "cwa"})
"""Formats whose files always date their samples: a batch's ``--start`` (an ``UndatedStart``) is not theirs."""


def detect_format(path: str | Path) -> Format:
    """The format of a raw session file, told by its first bytes (then its name)."""
    from imuback.formats.apdm import is_hdf5
    from imuback.formats.bids import is_bids_motion
    from imuback.formats.cwa import is_cwa
    from imuback.formats.mobgap import is_mobgap_mat
    from imuback.formats.movesense import is_movesense_json
    from imuback.formats.phone import phone_format
    from imuback.formats.xsens import is_xsens_text
    from imuback.store.raw import check_raw_path

    p = Path(path)
    kind = phone_format(p)  # a zip or a folder: before the check that refuses folders
    if kind is not None:
        return kind
    check_raw_path(p)
    with open(p, "rb") as f:
        raw_head = f.read(_HEAD_BYTES)
    if raw_head.startswith(b"PAR1"):
        return "parquet"
    if is_mobgap_mat(raw_head):
        return "mobgap"
    if is_hdf5(raw_head):
        return "apdm"
    if is_cwa(raw_head):
        return "cwa"
    head = decoded_head(raw_head)  # the text formats: told apart as UTF-8
    if is_movesense_json(head):
        return "movesense"  # JSON is read in UTF-16/32 too
    wide = wide_encoding(raw_head)
    if wide is not None:
        raise refuse_wide(p, wide)
    if is_bids_motion(p):
        return "bids"
    if is_xsens_text(head):
        return "xsens"
    if p.suffix.lower() == ".csv":
        return "csv"
    if p.suffix.lower() == ".parquet":
        return "parquet"  # its reader says what is wrong with it
    if p.name.endswith("_motion.tsv"):
        raise RawFormatError(f"{p}: a BIDS *_motion.tsv without its "
                             f"{p.name[:-len('_motion.tsv')]}_channels.tsv beside it, which names the columns "
                             "and their units; copy the channels file along with it")
    raise RawFormatError(f"{p}: not a format imuback reads (raw Parquet, CSV, mobgap data.mat, Xsens text export, "
                         "BIDS *_motion.tsv, APDM .h5, Axivity .cwa, Movesense .json, Sensor Logger or phyphox "
                         "export); see docs/formats.md")


def recording_files(path: str | Path) -> list[Path]:
    """Every file whose bytes make the session(s) of the raw input ``path``, in a fixed order: the
    file, then a CSV's JSON sidecar (``<file>.csv.json``) or a BIDS ``*_motion.tsv``'s
    ``*_channels.tsv``, ``*_channels.json`` and ``*_motion.json``, where present; a folder (an
    unzipped phone export): all its files, in name order. What ``process`` and ``batch`` hash to
    tell a changed recording from the one stored (:func:`file_sha256`).
    """
    from imuback.formats.bids import MOTION_SUFFIX, sidecar_files

    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.rglob("*") if f.is_file())
    csv_sidecar = p.with_name(p.name + ".json")
    if p.suffix.lower() == ".csv" and csv_sidecar.is_file():
        return [p, csv_sidecar]
    if p.name.endswith(MOTION_SUFFIX):
        return [p, *sidecar_files(p)]
    return [p]


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a raw input: the bytes of every file that makes its session
    (:func:`recording_files`: the file, then a CSV's or a BIDS recording's sidecars), one after the
    other; for a folder (an unzipped phone export) the names and bytes of all its files. A changed
    sidecar is a changed recording.
    """
    from imuback.formats.bids import MOTION_SUFFIX

    h = hashlib.sha256()
    path = Path(path)
    # recording_files' BIDS branch (a CSV, whatever the case of its name, cannot end so): its sidecars
    # are hashed with their suffixes; a CSV's sidecar plainly after the file, as before schema 1.6
    bids = not path.is_dir() and path.name.endswith(MOTION_SUFFIX)
    for i, part in enumerate(recording_files(path)):
        if path.is_dir():
            h.update(part.relative_to(path).as_posix().encode() + b"\0")
        elif i and bids:
            h.update(b"\0" + part.name[len(path.name) - len(MOTION_SUFFIX):].encode() + b"\0")
        with open(part, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def read_sessions(path: str | Path, *, format: Format | None = None, mapping: ColumnMapping | None = None,
                  **identity: Any) -> list[RawSession]:
    """Read and validate every session in one file (one for all formats but mobgap ``data.mat``).

    Parameters
    ----------
    path : the file.
    format : one of :data:`FORMATS`; None tells it by content (:func:`detect_format`).
    mapping : CSV only: the file's column names and units (:class:`~imuback.formats.csv.ColumnMapping`).
    **identity : ``runner_id``, ``session_id``, ``start`` (ISO 8601 text or a ``datetime``, with its
        zone), ``sensor``, ``sample_rate_hz``,
        ``mounting`` for formats that carry none; a raw Parquet file carries its own runner, session,
        start and mounting: the same given is accepted, another refused naming both, as for every
        format that states one (:func:`check_raw_identity`); ``sensor`` and ``sample_rate_hz`` are
        refused for it. In a multi-session file ``session_id`` picks one session.
        ``time_zone`` (every format): where the sessions were recorded, an IANA name
        (``Europe/Madrid``), ``UTC`` or ``+01:00``; its offset at each session's start is kept
        (``utc_offset_min``) over the one the file states (:mod:`imuback.formats.zone`), except in raw
        Parquet, whose own offset is kept: a zone with the same offset at its start is accepted,
        another refused naming both (:func:`check_raw_zone`), but for a computer's guess (``record``
        without ``--time-zone``), which the zone given replaces. A zone given over a file's different
        one is said in one ``imuback`` log warning. ``mounting`` and ``time_zone`` ``"unknown"``
        (:data:`imuback.formats.zone.FORGET`): none given (what the file states).

    Each session carries its file (``RawSession.file``: absolute path, :func:`file_sha256`, format), so
    that processing it stores what processing the file does.
    """
    kind: Format = format or detect_format(path)
    if kind not in FORMATS:
        raise RawFormatError(f"{path}: unknown format {kind!r}; give one of {list(FORMATS)}")
    from imuback.formats.zone import FORGET, parse_zone, text_offset_min

    if "mounting" in identity:  # a name, as --mounting takes it; another word refused
        from imuback.formats.identity import python_mounting

        identity["mounting"] = python_mounting(identity["mounting"], src=str(path))
    identity = {k: (None if isinstance(v, str) and v == FORGET else v) for k, v in identity.items()}
    from imuback.formats.identity import UndatedStart, start_text

    if identity.get("start") is not None:  # a datetime from Python: ISO 8601 text with its zone
        identity["start"] = start_text(identity["start"], src=str(path))
    undated = identity.get("start") if isinstance(identity.get("start"), UndatedStart) else None
    if undated is not None and kind in _SELF_DATED:
        identity.pop("start")
    zone_text = identity.pop("time_zone", None)
    zone = None if zone_text is None else parse_zone(str(zone_text), src=str(path))
    sessions = _read_sessions(path, kind, mapping, identity)
    if undated is not None:
        _say_own_start(sessions, undated, src=str(path))
    start_offset = text_offset_min(identity["start"]) if isinstance(identity.get("start"), str) else None
    if zone is not None:  # a zone given wins over the file's (docs/data_contract.md, "Times and time zones")
        zoned = check_raw_zone if kind == "parquet" else given_zone  # raw Parquet keeps its own: another refused
        sessions = [zoned(s, zone, str(zone_text)) for s in sessions]
    elif start_offset is not None:  # --start written with its offset says where the recording was made
        sessions = [s if s.utc_offset_min is not None or (undated is not None and s.start_source == "file")
                    else dataclasses.replace(s, utc_offset_min=start_offset, utc_offset_source="given")
                    for s in sessions]
    file = SourceFile(path=str(Path(path).resolve()), sha256=file_sha256(path), format=kind)
    return [dataclasses.replace(s, file=file) for s in sessions]


def _say_own_start(sessions: list[RawSession], start: str, *, src: str) -> None:
    """One ``imuback`` log warning for a file that dates its samples itself, read with a batch's
    ``--start`` (:class:`~imuback.formats.identity.UndatedStart`), which it then does not take.
    """
    from imuback.formats.identity import START_RESOLUTION_NS, start_ns, utc_text

    own = [int(s.time_ns[0]) for s in sessions if s.start_source == "file" and s.n_samples]
    if own and abs(min(own) - start_ns(start, src=src)) >= START_RESOLUTION_NS:
        log.warning("%s: dates its samples itself (first sample at %s); --start %s applies only to files that "
                    "state no start", src, utc_text(min(own)), start)


def _read_sessions(path: str | Path, kind: Format, mapping: ColumnMapping | None,
                   identity: dict[str, Any]) -> list[RawSession]:
    """:func:`read_sessions` of one format, without the zone given."""
    if mapping is not None and kind != "csv" and (kind != "xsens" or mapping.columns or mapping.time_unit != "auto"):
        raise RawFormatError(f"{path}: a column mapping (--columns, --time-unit) is for CSV files; this is a {kind} "
                             "file (Xsens exports take --acc-unit/--gyr-unit only)")
    if kind == "csv":
        from imuback.formats.csv import read_csv_session

        return [read_csv_session(path, mapping=mapping, **identity)]
    if kind == "mobgap":
        from imuback.formats.mobgap import read_mobgap

        return read_mobgap(path, **identity)
    if kind == "xsens":
        from imuback.formats.xsens import read_xsens

        return [read_xsens(path, mapping=mapping, **identity)]
    if kind == "bids":
        from imuback.formats.bids import read_bids

        return [read_bids(path, **identity)]
    if kind == "apdm":
        from imuback.formats.apdm import read_apdm

        return [read_apdm(path, **identity)]
    if kind == "cwa":
        from imuback.formats.cwa import read_cwa

        return [read_cwa(path, **identity)]
    if kind == "movesense":
        from imuback.formats.movesense import read_movesense

        return [read_movesense(path, **identity)]
    if kind in ("sensorlogger", "phyphox"):
        from imuback.formats.phone import read_phone

        return [read_phone(Path(path), kind, **identity)]
    from imuback.store.raw import read_raw

    return [check_raw_identity(read_raw(path), identity)]


_RAW_STATES = {"runner_id": "the file's imuback.runner_id is", "session_id": "the file's imuback.session_id is",
               "start": "the file's first sample is at", "mounting": "the file's imuback.mounting is"}
"""Where a raw Parquet file states each identity value it carries (docs/data_contract.md)."""


def check_raw_identity(raw: RawSession, identity: dict[str, Any]) -> RawSession:
    """A raw Parquet file states its runner, session, start and mounting: each one given is checked
    against the file's (:func:`imuback.formats.identity.check_stated`: the same is accepted, another
    refused naming both) and the file's kept; ``sensor``, ``sample_rate_hz`` are refused. A file
    whose mounting is a placeholder (``imuback.mounting_assumed``: nobody said how it was worn) takes
    the one given.
    """
    import numpy as np

    from imuback.formats.identity import check_stated

    extra = sorted(k for k, v in identity.items() if k not in _RAW_STATES and v is not None)
    if extra:
        raise RawFormatError(f"{raw.source}: {extra} are for files without them; this file carries its own")
    given = identity.get("mounting")
    if raw.mounting_source == "assumed" and given is not None:
        raw = dataclasses.replace(raw, mounting=np.asarray(given, dtype=np.float64), mounting_source="given")
    stated = {"runner_id": raw.runner_id, "session_id": raw.session_id, "start": int(raw.time_ns[0]),
              "mounting": raw.mounting}
    for key, states in _RAW_STATES.items():
        check_stated(key, stated[key], identity.get(key), src=raw.source, states=states,
                     fix="rewrite the file's imuback.mounting if it is wrong" if key == "mounting" else "")
    return raw


def given_zone(raw: RawSession, zone: str | dt.tzinfo, zone_text: str) -> RawSession:
    """``raw`` with a zone given (``--time-zone``, ``time_zone=``; ``zone`` a tzinfo or its text).

    Its offset at the first sample, ``utc_offset_source`` ``given``, over the one ``raw`` states, which is
    said in one ``imuback`` log warning when it differs (a raw Parquet file's own is kept: :func:`check_raw_zone`).
    """
    from imuback.formats.zone import overridden_text, with_zone

    zoned = with_zone(raw, zone)
    if None not in (raw.utc_offset_min, zoned.utc_offset_min) and raw.utc_offset_min != zoned.utc_offset_min:
        log.warning("%s", overridden_text(raw.source, zone_text, int(zoned.utc_offset_min or 0),
                                          int(raw.utc_offset_min or 0)))
    return zoned


def check_raw_zone(raw: RawSession, zone: dt.tzinfo, zone_text: str) -> RawSession:
    """A raw Parquet file that states its zone (``imuback.utc_offset_min``) keeps it: a zone given
    whose offset at the first sample is the same is accepted, another refused naming both
    (:func:`imuback.formats.identity.refuse_stated`); a file without one, or whose offset is the
    recording computer's guess (``imuback.utc_offset_source`` ``computer``), takes the zone given.
    """
    from imuback.formats.identity import refuse_stated
    from imuback.formats.zone import offset_text, overridden_text, with_zone

    if raw.n_samples == 0:
        return raw
    zoned = with_zone(raw, zone)
    if raw.utc_offset_min is None or zoned.utc_offset_min in (None, raw.utc_offset_min):
        return zoned
    if raw.utc_offset_source == "computer":
        log.warning("%s", overridden_text(raw.source, zone_text, int(zoned.utc_offset_min), raw.utc_offset_min,
                                          computer=True))
        return zoned
    given = f"{zone_text!r} (UTC{offset_text(zoned.utc_offset_min)} at its first sample)"
    said = "given to imuback record --time-zone" if raw.utc_offset_source == "given" else "where it was recorded"
    raise refuse_stated(raw.source, key="time_zone", given=given,
                        states=f"the file's imuback.utc_offset_min is {raw.utc_offset_min} "
                               f"(UTC{offset_text(raw.utc_offset_min)}, {said})")


def read_session(path: str | Path, *, format: Format | None = None, mapping: ColumnMapping | None = None,
                 **identity: Any) -> RawSession:
    """Read and validate one raw session file (see :func:`read_sessions`); a file holding several
    sessions needs ``session_id`` (``--session``) to pick one.
    """
    sessions = read_sessions(path, format=format, mapping=mapping, **identity)
    if len(sessions) != 1:
        ids = [s.session_id for s in sessions]
        shown = ", ".join(ids[:6]) + (", ..." if len(ids) > 6 else "")
        raise RawFormatError(f"{path}: holds {len(ids)} sessions ({shown}); "
                             "process them all with 'imuback process' (imuback.read_sessions in Python) or pick "
                             "one with --session ID")
    return sessions[0]
