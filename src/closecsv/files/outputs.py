"""Where an export writes: safe file names from type names, and files that appear only whole.

Type names come from the API, so they are untrusted: a name such as ``../x``, ``/etc/x`` or
``CON`` must not choose where a file lands.  A file name is

1. the type name, NFKD-folded to ASCII, every character outside ``[A-Za-z0-9_-]`` replaced by
   ``_``, runs of ``_`` collapsed, leading/trailing ``_``/``-`` stripped, cut to
   :data:`MAX_STEM` characters;
2. the type id (sanitised the same way) when nothing is left;
3. prefixed with ``_`` when it is a Windows device name (``CON``, ``NUL``, ``COM1`` …);
4. suffixed with ``-<type id>`` for every type whose stem collides with another's, compared
   case-insensitively (case-insensitive file systems), so the outcome does not depend on order.

No name contains a separator, a dot other than the extension's (and a ``--state`` run's
stamp's), or ``..``; every final path is
checked to be directly inside the out dir.  Files are written to a hidden temporary name
opened with ``O_EXCL | O_NOFOLLOW`` and moved over the final name with :func:`os.replace`
when complete: a crash leaves at most a ``.*.part`` file, never a half file under a final
name.  An existing final name is an error unless ``force``; a symlink is always refused.

A ``--state`` run adds its start (UTC, to the second) to every name, ``Call.20261129T041500Z.csv``
and ``manifest.20261129T041500Z.json`` (:func:`stamped`), so scheduled runs into one out dir
never collide with, or overwrite, an earlier batch.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from closecsv.errors import InputError

MAX_STEM = 80
MANIFEST = "manifest.json"
TEMP_SUFFIX = ".part"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]]
)


def slug(text: str, limit: int = MAX_STEM) -> str:
    """``text`` reduced to ``[A-Za-z0-9_-]``; may be empty."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", folded)
    cleaned = re.sub(r"_+", "_", cleaned).strip("_-")
    return cleaned[:limit].rstrip("_-")


def safe_stem(name: str, type_id: str) -> str:
    """The file stem for one type, before collisions are resolved."""
    stem = slug(name) or slug(type_id) or "type"
    return f"_{stem}" if stem.upper() in _RESERVED else stem


def file_names(types: Iterable[tuple[str, str]], extension: str) -> dict[str, str]:
    """``{type id: file name}`` for ``(type id, type name)`` pairs; unique ignoring case."""
    pairs = list(types)
    stems = {type_id: safe_stem(name, type_id) for type_id, name in pairs}
    counts = Counter(s.casefold() for s in stems.values())
    for type_id, stem in stems.items():
        if counts[stem.casefold()] > 1 or stem.casefold() == "manifest":
            keep = MAX_STEM - len(slug(type_id)) - 1
            stems[type_id] = f"{stem[:keep]}-{slug(type_id)}"
    return _dedupe(stems, extension)


def _dedupe(stems: dict[str, str], extension: str) -> dict[str, str]:
    """Last resort for ids that sanitise alike: a counter, in id order."""
    seen: set[str] = set()
    names: dict[str, str] = {}
    for type_id in sorted(stems):
        stem, n = stems[type_id], 1
        while stem.casefold() in seen:
            n += 1
            stem = f"{stems[type_id]}-{n}"
        seen.add(stem.casefold())
        names[type_id] = f"{stem}.{extension}"
    return names


def run_stamp(moment: datetime) -> str:
    """The tag of a ``--state`` run's names: its start in UTC, ``20261129T041500Z``."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def stamped(name: str, stamp: str | None) -> str:
    """``Call.csv`` as a ``--state`` run names it (``Call.<stamp>.csv``); as is without a stamp."""
    if stamp is None:
        return name
    stem, _dot, extension = name.rpartition(".")
    return f"{stem}.{stamp}.{extension}"


def prepare_out_dir(
    out_dir: Path, names: Iterable[str], *, force: bool, taken_hint: str | None = None
) -> Path:
    """Create ``out_dir`` and check each final name before anything is fetched.

    Raises :class:`InputError` (exit 2) for an out dir that cannot be created, and for a name
    that exists (unless ``force``; ``taken_hint`` then says what to do), that is a symlink or
    a directory, or that would land outside ``out_dir``.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        root = out_dir.resolve(strict=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the out dir {out_dir}: {_in_the_way(out_dir, exc)}",
            hint="choose another --out-dir, or move what is in the way",
        ) from None
    for name in names:
        final_path(root, name, force=force, taken_hint=taken_hint)
    return root


def _in_the_way(out_dir: Path, exc: OSError) -> str:
    """Why ``out_dir`` cannot be made: the file among it and its parents, or the OS's reason."""
    for candidate in (out_dir, *out_dir.parents):
        if candidate.exists() and not candidate.is_dir():
            return f"{candidate} is a file, not a folder"
    return exc.strerror or str(exc)


def final_path(root: Path, name: str, *, force: bool, taken_hint: str | None = None) -> Path:
    path = root / name
    if path.parent != root or name in ("", ".", "..") or os.sep in name or "/" in name:
        raise InputError(f"refusing to write {name!r}: not a plain file name inside {root}")
    refuse_symlink(path, hint="remove the link or choose another --out-dir")
    if path.is_dir():  # --force replaces files, never a folder
        raise InputError(
            f"{path} already exists (a directory)",
            hint="move or rename that folder (--force replaces files only), "
            "or choose another --out-dir",
        )
    if path.exists() and not force:
        raise InputError(
            f"{path} already exists (a file)",
            hint=taken_hint or "pass --force to overwrite files, or choose another --out-dir",
        )
    return path


def refuse_symlink(path: Path, *, hint: str) -> None:
    """Raise :class:`InputError` (exit 2) if ``path`` is a symlink, even a dangling one."""
    if path.is_symlink():
        raise InputError(f"{path} is a symlink; refusing to write through it", hint=hint)


class AtomicFile:
    """A file written under a hidden temporary name and renamed over ``path`` on commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.temp = path.with_name(f".{path.name}.{token}{TEMP_SUFFIX}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self.binary: BinaryIO = os.fdopen(os.open(self.temp, flags, 0o666), "wb")
        self._text: io.TextIOWrapper | None = None

    def text(self) -> io.TextIOWrapper:
        """The file as UTF-8 text with no newline translation (for :mod:`csv`)."""
        if self._text is None:
            self._text = io.TextIOWrapper(self.binary, encoding="utf-8", newline="")
        return self._text

    def finish(self) -> Path:
        """Flush, sync and close, leaving the whole file under its temporary name (returned),
        for a caller that moves several files into place only once all are complete."""
        self._release_text()
        self.binary.flush()
        os.fsync(self.binary.fileno())
        self.binary.close()
        return self.temp

    def commit(self) -> None:
        """Flush, sync and move into place; the final name then holds the whole file."""
        self.finish()
        if self.path.is_symlink():
            self.discard()
            raise InputError(f"{self.path} became a symlink during the export; not replaced")
        os.replace(self.temp, self.path)
        _sync_dir(self.path.parent)

    def discard(self) -> None:
        """Close and remove the temporary file (after an error)."""
        if not self.binary.closed:
            with contextlib.suppress(OSError, ValueError):
                self._release_text()
            with contextlib.suppress(OSError):  # a full disk fails the final flush: still closed
                self.binary.close()
        self.temp.unlink(missing_ok=True)

    def _release_text(self) -> None:
        """Flush the text layer and detach it, so closing it later cannot touch the file."""
        if self._text is not None:
            self._text.flush()
            self._text.detach()
            self._text = None


def write_atomic_text(path: Path, text: str) -> None:
    """Write a small text file (manifest, state) whole or not at all."""
    target = AtomicFile(path)
    try:
        target.binary.write(text.encode("utf-8"))
        target.commit()
    except BaseException:
        target.discard()
        raise


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
