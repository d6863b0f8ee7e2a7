"""A CSV file's bytes: loading, encodings, and cutting a big file at record boundaries.

:func:`load_bytes` and :func:`to_utf8` give :mod:`closecsv.files.csvio` the whole file as UTF-8.
:func:`split_records` lets a dry run read a big file a slice at a time (bounded memory): one
streaming pass hashes the file and finds cut points, each just after a line break with an
even number of quotes before it (so no quoted cell is cut).  It declines (``None``, read the
file whole) whenever the whole-file reader is the one to say what is wrong: a UTF-16/32 BOM,
a workbook or zip archive, NUL-dense bytes, or a quote that is never closed.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from closecsv.errors import InputError

BLOCK = 8 << 20  # bytes read at a time by the streaming pass
_UTF8_BOM = b"\xef\xbb\xbf"
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"))
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # a local file, an empty one, spanned
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other Office files)
_SAVE_AS_CSV = (
    "closecsv reads CSV and .xlsx files: open it in Excel and save it as an Excel Workbook "
    "(.xlsx), without a password, or as CSV UTF-8 (File > Save As)"
)


@dataclass(frozen=True)
class Slices:
    """Where a UTF-8 file is cut: slice ``k`` is the bytes ``bounds[k]:bounds[k + 1]``.

    Slice 0 starts after the BOM and holds the header; the others start on a record.
    """

    path: Path
    sha256: str
    bounds: tuple[int, ...]
    lines: int  # line breaks in the file, and one for a last line without one

    def read(self) -> Iterator[bytes]:
        """Each slice's bytes, in order, one at a time."""
        try:
            with self.path.open("rb") as fh:
                for start, end in zip(self.bounds, self.bounds[1:], strict=False):
                    fh.seek(start)
                    yield fh.read(end - start)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read ({exc.strerror})") from None


def split_records(path: Path, target: int, *, block: int = BLOCK) -> Slices | None:
    """Cut ``path`` into slices of about ``target`` bytes at record boundaries, or ``None``
    when it must be read whole (fewer than two slices, or see the module docstring)."""
    digest = hashlib.sha256()
    bounds = [0]
    cut = _Cutter(target)
    nuls = size = breaks = 0
    last = b""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(max(block, 4)):  # 4: a BOM is in the first read
                if size == 0:
                    if bom_encoding(chunk) is not None or _container(chunk, path):
                        return None
                    if chunk.startswith(_UTF8_BOM):
                        bounds[0] = len(_UTF8_BOM)
                digest.update(chunk)
                nuls += chunk.count(b"\x00")
                breaks += chunk.count(b"\n")
                last = chunk[-1:]
                bounds += cut.cuts(chunk, size)
                size += len(chunk)
    except OSError:
        return None  # the whole-file reader says why it cannot be read
    if cut.odd or _nul_dense(nuls, size) or len(bounds) < 2:
        return None
    if bounds[-1] == size:
        bounds.pop()  # the file ends with a line break: the last slice ends there too
    if len(bounds) < 2:
        return None
    lines = breaks + (last not in (b"\n", b""))
    return Slices(path, digest.hexdigest(), (*bounds, size), lines)


class _Cutter:
    """Cut points over consecutive blocks: after a LF, once ``target`` bytes have passed
    since the last cut, where the quotes so far are even."""

    def __init__(self, target: int) -> None:
        self.target = max(1, target)
        self.odd = False  # the parity of the quotes before the current block
        self.next = self.target

    def cuts(self, chunk: bytes, offset: int) -> list[int]:
        """The cut points in ``chunk``, which starts at byte ``offset`` of the file."""
        found: list[int] = []
        odd, seen = self.odd, 0
        search = max(self.next - offset, 0)
        while search < len(chunk):
            newline = chunk.find(b"\n", search)
            if newline < 0:
                break
            odd ^= chunk.count(b'"', seen, newline + 1) % 2 == 1
            seen = search = newline + 1
            if not odd:
                found.append(offset + newline + 1)
                self.next = offset + newline + 1 + self.target
                search = max(search, self.next - offset)
        self.odd = odd ^ (chunk.count(b'"', seen) % 2 == 1)
        return found


def load_bytes(path: Path) -> bytes:
    """The file's bytes, or an :class:`InputError` saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory", hint="give the path of a CSV file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def to_utf8(raw: bytes, encoding: str | None, path: Path, warnings: list[str]) -> bytes:
    """UTF-8 bytes without a BOM, decoding ``raw`` from ``encoding`` or a BOM's encoding.

    A workbook or an archive is refused, and so is an ``encoding`` that contradicts the
    file's BOM (a UTF-8 file with a BOM decoded as cp1252 would garble every accent)."""
    kind = _container(raw, path)
    if kind:
        hint = _SAVE_AS_CSV if "workbook" in kind else "unzip it and give the CSV file inside"
        raise InputError(f"{path} is {kind}, not a CSV or .xlsx file", hint=hint)
    if encoding is None:
        encoding = bom_encoding(raw)
    if encoding is None:
        if raw.startswith(_UTF8_BOM):
            raw = raw[len(_UTF8_BOM) :]
        _check_not_utf16(raw, path)
        return raw  # Polars checks it is UTF-8 as it reads; see _line_frame
    _check_bom_agrees(raw, encoding, path)
    text = _decode(raw, encoding, path).lstrip("\ufeff")
    if any("\x80" <= ch <= "\x9f" for ch in set(text)):
        warnings.append(
            f"{path}: decoded text contains C1 control characters (U+0080-U+009F); "
            f"if it came from Excel on Windows, --encoding cp1252 is likely the right one"
        )
    return text.encode("utf-8")


def _container(raw: bytes, path: Path) -> str:
    """What ``raw`` is if its first bytes say it is a workbook or an archive, else ''."""
    if raw.startswith(_OLE):  # a password-protected .xlsx is one of these too
        return (
            "an Excel 97-2003 workbook (.xls), a password-protected workbook or another "
            "Office document"
        )
    if not raw.startswith(_ZIP):
        return ""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xlsb") or b"xl/" in raw[:4096]:
        return "an Excel workbook closecsv cannot read (.xlsb, or not a whole .xlsx)"
    return "a zip archive"


def _check_bom_agrees(raw: bytes, encoding: str, path: Path) -> None:
    found = "utf-8" if raw.startswith(_UTF8_BOM) else bom_encoding(raw)
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return  # _decode names the unknown encoding
    if found is None or name.startswith(found):
        return
    size = {"utf-8": 3, "utf-16": 2}.get(found, 4)
    shown = " ".join(f"{b:02X}" for b in raw[:size])
    raise InputError(
        f"{path} starts with a {found.upper()} byte-order mark ({shown}), "
        f"but --encoding {encoding} was given",
        hint=f"the file is {found.upper()}: leave out --encoding (or pass --encoding {found})",
    )


def bom_encoding(raw: bytes) -> str | None:
    """The encoding a UTF-16 or UTF-32 byte-order mark at the start of ``raw`` selects."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    return "utf-16" if raw[:2] in _UTF16_BOMS else None


def _decode(raw: bytes, encoding: str, path: Path) -> str:
    try:
        return raw.decode(encoding)
    except LookupError:
        raise InputError(
            f"unknown encoding {encoding!r}", hint="use e.g. utf-8, cp1252, latin-1 or utf-16"
        ) from None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}: not valid {encoding} at byte {exc.start} (line {line})",
            hint="check the file's encoding and pass it with --encoding",
        ) from None


def _nul_dense(nuls: int, size: int) -> bool:
    """More than one byte in ten is NUL: UTF-16 or UTF-32 without a BOM, not UTF-8 text."""
    return nuls * 10 > size > 0


def _check_not_utf16(raw: bytes, path: Path) -> None:
    if b"\x00" in raw and _nul_dense(raw.count(b"\x00"), len(raw)):
        raise InputError(
            f"{path}: the file is full of NUL bytes, so it is probably UTF-16 or UTF-32",
            hint="pass --encoding utf-16 (Excel 'Unicode Text'), or re-save as CSV UTF-8",
        )


def check_utf8(raw: bytes, path: Path) -> None:
    """Raise naming the first byte that is not UTF-8 (called once Polars has refused it)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}: not valid UTF-8 at byte {exc.start} (line {line})",
            hint="if it was saved by Excel on Windows pass --encoding cp1252; "
            "for 'Unicode Text' files pass --encoding utf-16; or re-save it as CSV UTF-8",
        ) from None
