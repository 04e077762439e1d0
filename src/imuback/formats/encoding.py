"""Text encodings of the files imuback reads: UTF-8 (with or without a byte order mark) is the rule.

A UTF-16 or UTF-32 file (Excel's "Unicode Text", a PowerShell ``>`` redirect) is told by its
byte order mark, or without one by the zero bytes between ASCII characters; a JSON log is read
in it (JSON may be UTF-16/32, RFC 7159 §8.1), every other text format is refused with the
encoding found and what to do. Single-byte encodings (Latin-1, Windows-1252) cannot be told
from UTF-8 by their bytes: they are named where their bytes are found (a header, a cell).
"""

from __future__ import annotations

from pathlib import Path

from imuback.errors import RawFormatError

_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
"""(byte order mark, Python codec), the 4-byte marks before the 2-byte ones they start with."""
_TEXT = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
"""Bytes of printable ASCII text, tab and line ends."""


def wide_encoding(head: bytes) -> str | None:
    """The UTF-16/32 codec of a file's first bytes (``"utf-16-le"``...), None for UTF-8 or single-byte text."""
    bom = next((codec for mark, codec in _BOMS if head.startswith(mark)), None)
    if bom is not None:
        return None if bom == "utf-8-sig" else bom
    first = head[:64]
    for width in (4, 2):  # ASCII text in 4 or 2 bytes per character: one text byte, the others zero
        n = len(first) // width * width
        if n < 4 * width:
            continue
        units = [first[i:i + width] for i in range(0, n, width)]
        for order, pos in (("le", 0), ("be", width - 1)):
            if all(u[pos] in _TEXT and u.count(0) == width - 1 for u in units):
                return f"utf-{8 * width}-{order}"
    return None


def decoded_head(head: bytes) -> bytes:
    """A file's first bytes as UTF-8 without a byte order mark (wide text transcoded), for format detection."""
    codec = wide_encoding(head)
    if codec is None:
        return head.removeprefix(b"\xef\xbb\xbf")
    cut = len(head) - len(head) % (4 if codec.startswith("utf-32") else 2)
    return head[:cut].decode(codec, errors="replace").lstrip("\ufeff").encode("utf-8")


def refuse_wide(path: Path, codec: str) -> RawFormatError:
    """The error for a text file in UTF-16/32 that imuback reads as UTF-8 only."""
    name = codec.upper().replace("-LE", " little-endian").replace("-BE", " big-endian")
    return RawFormatError(f"{path}: the file is {name} text; imuback reads this format as UTF-8: save it as "
                          "UTF-8 (Excel: 'CSV UTF-8'; a text editor: save with encoding UTF-8)")
