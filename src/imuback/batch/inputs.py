"""Find the raw session files a batch should process: files, folders and glob patterns."""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from imuback.errors import BatchInputError, ImubackError
from imuback.store.schema import ACC_COLUMNS

RAW_SUFFIXES = (".parquet", ".csv", ".zip", ".mat", ".h5", ".txt", ".tsv", ".cwa", ".json")
"""Suffixes of raw session files searched for in folders (lower case): every format ``imuback
process`` reads (a zip is a phone export, .mat mobgap, .h5 APDM, .txt Xsens, .tsv BIDS-motion,
.json Movesense). Beyond .parquet/.csv/.zip a file found in a folder is taken only when its content
tells its format (a README.txt, a CSV's .json sidecar or a BIDS *_channels.tsv are not)."""
_TOLD_BY_CONTENT = frozenset(RAW_SUFFIXES) - {".parquet", ".csv", ".zip"}

_GLOB_CHARS = frozenset("*?[")


def discover_inputs(specs: Sequence[str | Path], *, exclude: Iterable[str | Path] = (),
                    not_raw: list[Path] | None = None) -> list[Path]:
    """Expand files, folders (searched recursively) and glob patterns into raw session files.

    Folders and globs contribute files ending in one of :data:`RAW_SUFFIXES` (any case) except:
    hidden files and folders (``.name``), anything under ``exclude`` (e.g. the output dataset),
    readable tables with none of the ``acc_x/y/z`` columns, which are not raw sessions (e.g. the
    simulator's ``truth/`` tables), and files of the other suffixes whose content no reader
    recognises; those are appended to ``not_raw`` if given. A file named
    explicitly is always taken, whatever it holds, so that a wrong file is reported rather than
    dropped; so is an unreadable one. Returns absolute paths, sorted, without duplicates.

    Raises
    ------
    BatchInputError
        If a spec matches nothing (names the spec).
    """
    excluded = [Path(e).resolve() for e in exclude]
    found: dict[Path, None] = {}
    for spec in specs:
        s = str(spec)
        if Path(s).is_file():
            matches = [Path(s)]
        elif Path(s).is_dir():
            matches = _scan_dir(Path(s))
        elif _GLOB_CHARS & set(s):
            matches = []
            for hit in sorted(glob.glob(s, recursive=True)):
                p = Path(hit)
                if p.is_dir():
                    matches += _scan_dir(p)
                elif p.is_file() and p.suffix.lower() in RAW_SUFFIXES:
                    matches.append(p)
        else:
            raise BatchInputError(f"{s}: no such file or folder")
        kept = [p.resolve() for p in matches]
        kept = [p for p in kept if not any(p.is_relative_to(e) for e in excluded)]
        if not Path(s).is_file():
            other = [p for p in kept if not _may_be_raw(p)]
            kept = [p for p in kept if p not in set(other)]
            if not_raw is not None:
                not_raw += other
        if not kept:
            raise BatchInputError(f"{s}: matches no raw session files ({' or '.join(RAW_SUFFIXES)})")
        found.update(dict.fromkeys(kept))
    return sorted(found)


def _may_be_raw(path: Path) -> bool:
    """False for a readable table without any acceleration column (a CSV's header split by the
    delimiter the CSV reader detects), a file of another suffix whose format its content does
    not tell, or a MATLAB file without the Mobilise-D ``data`` struct (mobgap's ``infoForAlgo.mat``
    beside each ``data.mat``); True otherwise (an empty CSV too: it is reported, not dropped).
    """
    if path.suffix.lower() in _TOLD_BY_CONTENT:
        from imuback.formats import detect_format
        from imuback.formats.mobgap import has_data_struct

        try:
            kind = detect_format(path)
        except ImubackError:
            return False
        return has_data_struct(path) if kind == "mobgap" else kind not in ("csv", "parquet")
    try:
        if path.suffix.lower() == ".csv":
            from imuback.formats.csv import header_names

            names = set(header_names(path)[1])
            if not names:  # empty: a failed copy, reported as an empty .parquet is
                return True
        else:
            names = set(pq.read_schema(path).names)
    except Exception:
        return True
    return bool(names & set(ACC_COLUMNS))


def _scan_dir(root: Path) -> list[Path]:
    """Raw files under ``root``; an unzipped phone export (a folder holding the app's
    Accelerometer.csv or TotalAcceleration.csv) is one input, not its CSV files.
    """
    from imuback.formats.phone import is_export_folder

    if is_export_folder(root):
        return [root]
    out: list[Path] = []
    exports: list[Path] = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") for part in rel) or any(p.is_relative_to(e) for e in exports):
            continue
        if p.is_dir() and is_export_folder(p):
            exports.append(p)
            out.append(p)
        elif p.suffix.lower() in RAW_SUFFIXES and p.is_file():
            out.append(p)
    return sorted(out)
