"""Download the public real recordings that validate.py and the tests use, checked by SHA-256.

    python benchmarks/get_real_data.py [--dest ../shared/data] [--mirror URL]

Every file in ``benchmarks/real_data.json`` (its path under the data folder, its public URL, its
SHA-256 and size) is fetched from its source, hashed while it streams to a temporary file next to
its destination, and moved into place only when the hash matches: a file is either absent, or
whole and verified, never half-written. Files already in place with the right hash are kept
(nothing is downloaded twice); a file in place with another hash is reported, never replaced.

The data folder is the one the tests and ``benchmarks/validate.py`` read: ``../shared/data``
relative to the project root. ``--mirror URL`` fetches every file from URL + the path of its
public URL (the same layout on another server, e.g. a lab's cache).

A few files are *derived* (e.g. a subset of another group's trials, reformatted): the manifest
names their source, but they cannot be re-made by a download; where such a file is missing the
script says so and the checks that need it skip.

Maintainers: ``--write-manifest DIR`` recomputes the hashes and sizes of the files in DIR (a
complete data folder) into the manifest, keeping its sources.

Exit status: 0 every file in place and verified, 1 some file could not be fetched or verified
(each listed with the reason), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEST = ROOT.parent / "shared" / "data"
"""Where validate.py (DEFAULT_DATA) and tests/signal/test_real_recordings.py look."""
MANIFEST = Path(__file__).resolve().with_name("real_data.json")
COMMAND = "python benchmarks/get_real_data.py"
"""The command that fetches the real recordings (named by the tests' skip messages)."""
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0


class DataFetchError(Exception):
    """One file could not be fetched or verified (the message names it and the reason)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One file of the manifest."""

    path: str
    """Path under the data folder, e.g. ``real/mobgap_lab/HA/001/data.mat``."""
    url: str
    """The public source (for a derived file: what it was derived from)."""
    sha256: str
    bytes: int
    derived: str | None = None
    """None for a verbatim copy of ``url``; else how the file was derived from it."""


def read_manifest(path: Path = MANIFEST) -> list[Entry]:
    """The file entries of a manifest."""
    doc = json.loads(path.read_text())
    return [Entry(path=f["path"], url=f["url"], sha256=f["sha256"], bytes=int(f["bytes"]),
                  derived=f.get("derived")) for f in doc["files"]]


def sha256_of(path: Path) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def source_url(entry: Entry, mirror: str | None) -> str:
    """The URL to fetch ``entry`` from: its own, or the mirror plus its URL's path."""
    if mirror is None:
        return entry.url
    return mirror.rstrip("/") + urllib.parse.urlsplit(entry.url).path


def fetch(entry: Entry, dest: Path, *, mirror: str | None = None) -> str:
    """Put ``entry`` under ``dest``, verified; return what was done ("present", "downloaded").

    Raises
    ------
    DataFetchError
        The download failed, its SHA-256 or size is not the manifest's (nothing is left behind),
        a different file is already in place (it is kept), or a derived file is missing.
    """
    target = dest / entry.path
    if target.exists():
        got = sha256_of(target)
        if got == entry.sha256:
            return "present"
        raise DataFetchError(f"{target}: already there with SHA-256 {got}, expected {entry.sha256} "
                             "(kept as it is: move it away and run again to fetch the published file)")
    if entry.derived is not None:
        raise DataFetchError(f"{target}: missing; it is derived from {entry.url} ({entry.derived}) and "
                             "cannot be re-made by a download: copy it from the project's shared data")
    url = source_url(entry, mirror)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same folder, so that the final rename is atomic; an unpredictable name, so runs never collide.
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    h = hashlib.sha256()
    n_bytes = 0
    try:
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp, open(tmp, "wb") as out:
                while chunk := resp.read(CHUNK_BYTES):
                    h.update(chunk)
                    out.write(chunk)
                    n_bytes += len(chunk)
        except (urllib.error.URLError, OSError) as exc:
            raise DataFetchError(f"{entry.path}: download from {url} failed ({exc}); nothing written") from exc
        if h.hexdigest() != entry.sha256 or n_bytes != entry.bytes:
            raise DataFetchError(
                f"{entry.path}: {url} sent {n_bytes} bytes with SHA-256 {h.hexdigest()}, expected "
                f"{entry.bytes} bytes with {entry.sha256} (the source changed or the download was "
                "damaged); nothing written")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return "downloaded"


def write_manifest(data: Path, manifest: Path = MANIFEST) -> int:
    """Recompute sizes and hashes of the manifest's files from a complete data folder."""
    doc = json.loads(manifest.read_text())
    for f in doc["files"]:
        p = data / f["path"]
        f["sha256"], f["bytes"] = sha256_of(p), p.stat().st_size
    manifest.write_text(json.dumps(doc, indent=1) + "\n")
    return len(doc["files"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"data folder (default {DEFAULT_DEST})")
    ap.add_argument("--mirror", metavar="URL", help="fetch from URL + each source URL's path instead")
    ap.add_argument("--manifest", type=Path, default=MANIFEST, help="the list of files (default: %(default)s)")
    ap.add_argument("--write-manifest", type=Path, metavar="DIR",
                    help="maintainers: recompute the manifest's hashes from the files in DIR")
    args = ap.parse_args(argv)
    try:
        if args.write_manifest is not None:
            print(f"{write_manifest(args.write_manifest, args.manifest)} files hashed -> {args.manifest}")
            return 0
        entries = read_manifest(args.manifest)
    except (OSError, ValueError, KeyError) as exc:
        print(f"get_real_data: cannot use the manifest {args.manifest}: {exc}", file=sys.stderr)
        return 2
    counts = {"present": 0, "downloaded": 0}
    failures: list[str] = []
    for entry in entries:
        try:
            counts[fetch(entry, args.dest, mirror=args.mirror)] += 1
        except DataFetchError as exc:
            failures.append(str(exc))
            print(f"error: {exc}", file=sys.stderr)
    print(f"{counts['downloaded']} downloaded, {counts['present']} already in place, "
          f"{len(failures)} failed -> {args.dest}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
