"""Writing the results and errors CSVs of an import (:class:`ReportWriter`).

The reports are written as the input was read, **in its encoding and with its delimiter**,
so that an errors file, fixed and imported with the same command line, imports exactly its
rows with exactly their values.  Data cells were decoded from that encoding, so they are
written back exactly; a character of closecsv's own text (an ``_error`` message, which may
quote the API) that the encoding cannot hold is written as a ``\\uXXXX`` escape instead of
failing the write (``_`` columns are never imported, so nothing is lost).

Columns: the file's own (under its own names), then ``_row``, ``_status``, ``_id``,
``_lead_id``, ``_error``, ``_changes`` (results) or ``_row``, ``_error`` (errors).  An input
that already carries report columns (a re-imported errors file) has them replaced, not
repeated, except its ``_row``: that is the row of the file it came from, carried as
``_source_row``; an input ``_source_row`` is carried as it is, so the first origin survives
any number of re-imports.

A create row that this job already created and that was edited in the file since fails
(sending it would make a second instance) with that instance's id in ``_id``.  When the file
has no id column (``activity_id`` / ``custom_object_id``), the errors file then gets one,
first, holding that id on those rows: imported again, such a row is an update of the
instance it made, never a second create.

The errors file is written only when a row failed.  When none did, an errors file of an
earlier run of the same job (the same name in the report dir, a regular file, not a symlink)
is removed, so no stale errors file lingers as if current (:attr:`ReportWriter.removed`).
An errors file that is there and differs from the one being written (cells the user fixed
before running the first command line again) is kept as ``<stem>.errors.before-<UTC>.csv``
(:attr:`ReportWriter.kept`), never overwritten.

Files are written under a temporary name (created new: ``O_EXCL``, no symlink followed,
mode 0600: the rows are customer data) and renamed when complete; a failed write is a
:class:`FatalError` that says the journal is intact.  Cells are written by Polars in
slices (minimal quoting, CRLF, empty and missing cells both empty: what :mod:`csv` writes).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, cast

import polars as pl

from closecsv.errors import FatalError, InputError

REPORT_COLUMNS = ("_row", "_status", "_id", "_lead_id", "_error", "_changes")
ERROR_COLUMNS = ("_row", "_error")
SOURCE_ROW = "_source_row"
KEY_COLUMN = "_key"  # several API keys: which one sent the row (1 = the first given)


class Targets(Protocol):
    """Where the two reports go (a :class:`~closecsv.importing.report.ReportPaths`)."""

    @property
    def results(self) -> Path: ...

    @property
    def errors(self) -> Path: ...

    @property
    def kept(self) -> list[Path]: ...  # earlier errors files kept under a new name


class Rows(Protocol):
    """Outcomes of rows as a frame in the report's columns (an
    :class:`~closecsv.importing.report.Outcomes`)."""

    frame: pl.DataFrame


@dataclass(frozen=True)
class Dialect:
    """How the input was read, and so how its reports are written."""

    encoding: str = "utf-8"
    delimiter: str = ","


class ReportWriter:
    """The results and errors CSVs, written a part at a time (:meth:`add`, in row order) to
    temporary files that :meth:`commit` (the end of a ``with`` block without an error)
    renames into place; anything else removes them."""

    def __init__(
        self,
        paths: Targets,
        columns: Sequence[str],
        dialect: Dialect | None = None,
        id_column: str | None = None,
        keys: Mapping[int, int] | None = None,
    ) -> None:
        self.keys = keys  # row -> position of the API key that sent it (several keys only)
        self.carried = [c for c in _carried(columns) if keys is None or c[1] != KEY_COLUMN]
        self.id_column = id_column if id_column not in columns else None
        self.with_id: bool | None = None  # the errors file has the id column (first part)
        self.own = [name for _, name in self.carried]
        self.dialect = dialect or Dialect()
        self.targets = (paths.results, paths.errors)
        self.temps = [
            p.with_name(f".{p.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp") for p in self.targets
        ]
        self.files: dict[int, IO[bytes]] = {}
        self.sinks: dict[int, IO[bytes]] = {}
        self.removed: Path | None = None  # a stale errors file removed by :meth:`commit`
        self.kept = paths.kept  # earlier errors files that differed, kept under a new name

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def add(self, cells: pl.DataFrame, outcomes: Rows) -> None:
        """Append the rows of ``outcomes`` with their ``cells``: ``row`` (Int64, the name of
        its first column) and the file's columns as read; every outcome has its record."""
        records = cells.select(
            pl.col(cells.columns[0]).alias("_row"),
            *(pl.col(column).alias(name) for column, name in self.carried),
        )
        frame = outcomes.frame
        if records["_row"].equals(frame["_row"]):
            table = pl.concat([records.drop("_row"), frame], how="horizontal")
        else:
            table = frame.join(records, on="_row", how="left", maintain_order="left")
        failed = table.filter(pl.col("_status") == "failed")
        extra = []
        if self.keys is not None:
            sent = pl.col("_row").replace_strict(self.keys, default=None, return_dtype=pl.Int64)
            extra = [sent.alias(KEY_COLUMN)]
        self._write(0, table.select(*self.own, *REPORT_COLUMNS, *extra))
        if failed.height:
            self._write(1, self._errors(failed))

    def _errors(self, failed: pl.DataFrame) -> pl.DataFrame:
        """The errors file's part: with the kind's id column first when the file has none and
        a failed row carries the id of the instance it made (decided by the first part)."""
        if self.with_id is None:
            self.with_id = self.id_column is not None and failed["_id"].null_count() < len(failed)
        columns = (*self.own, *ERROR_COLUMNS)
        if self.with_id and self.id_column is not None:
            return failed.select(pl.col("_id").alias(self.id_column), *columns)
        return failed.select(*columns)

    def _write(self, n: int, part: pl.DataFrame) -> None:
        with self._guard(n):
            first = n not in self.files
            if first:
                self.targets[n].parent.mkdir(parents=True, exist_ok=True)
                self.files[n] = create_new_file(self.temps[n])
                self.sinks[n] = _sink(self.files[n], self.dialect.encoding)
            # one streaming pass: Polars renders and writes the rows in batches
            _text(part).sink_csv(
                self.sinks[n],
                include_header=first,
                separator=self.dialect.delimiter,
                line_terminator="\r\n",
            )

    def commit(self) -> None:
        """Make the files durable and rename them into place (see the module docstring for
        an errors file that is not written)."""
        for n, fh in self.files.items():
            with self._guard(n):
                sink = self.sinks[n]
                if isinstance(sink, _Encoded):
                    sink.finish()
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
        for n in self.files:
            with self._guard(n):
                if n == 1:
                    self._keep_if_changed()
                os.replace(self.temps[n], self.targets[n])
        if 1 not in self.files:
            with self._guard(1):
                self.removed = _remove_stale(self.targets[1])

    def _keep_if_changed(self) -> None:
        """An errors file already there that differs from this run's (the user fixed cells in
        it, then ran the first command line again) is kept under a name of its own first."""
        target, temp = self.targets[1], self.temps[1]
        try:
            if not stat.S_ISREG(target.lstat().st_mode):
                return
        except FileNotFoundError:
            return
        if _same_bytes(target, temp):
            return
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        backup = target.with_name(f"{target.name.removesuffix('.csv')}.before-{stamp}.csv")
        with target.open("rb") as src, create_new_file(backup) as dst:  # never over a file
            shutil.copyfileobj(src, dst)
        self.kept.append(backup)

    def abort(self) -> None:
        """Close and remove the temporary files."""
        for fh in self.files.values():
            with contextlib.suppress(OSError):
                fh.close()
        for temp in self.temps:
            temp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _guard(self, n: int) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            self.abort()
            raise FatalError(
                f"cannot write {self.targets[n]}: {exc.strerror or exc}",
                hint="free disk space or fix the folder's permissions, then run the same "
                "command again: the journal keeps every row, so the reports are rewritten and "
                "nothing is sent twice",
            ) from None


def _carried(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(file column, report column) for the file's columns the reports carry."""
    source = "_row" if "_row" in columns and SOURCE_ROW not in columns else SOURCE_ROW
    return [
        (c, SOURCE_ROW if c == source else c)
        for c in columns
        if c == source or c not in REPORT_COLUMNS
    ]


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while chunk := fa.read(1 << 20):
            if chunk != fb.read(len(chunk)):
                return False
    return True


def _remove_stale(path: Path) -> Path | None:
    """Remove ``path`` if it is a regular file (never a symlink); the path if it was."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
    except FileNotFoundError:
        return None
    path.unlink()
    return path


def create_new_file(path: Path) -> IO[bytes]:
    """A new file for writing: never an existing one, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def _sink(fh: IO[bytes], encoding: str) -> IO[bytes]:
    """Where Polars writes the file's UTF-8: ``fh`` itself, or a re-encoding front of it."""
    if codecs.lookup(encoding).name == "utf-8":
        return fh
    return cast("IO[bytes]", _Encoded(fh, encoding))  # Polars calls write and flush only


class _Encoded:
    """A binary file that takes UTF-8 (what Polars writes) and stores it in ``encoding``;
    a character the encoding cannot hold becomes a ``\\uXXXX`` escape."""

    def __init__(self, raw: IO[bytes], encoding: str) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.encoder = codecs.getincrementalencoder(encoding)(errors="backslashreplace")

    def write(self, data: bytes) -> int:
        self.raw.write(self.encoder.encode(self.decoder.decode(bytes(data))))
        return len(data)

    def flush(self) -> None:
        self.raw.flush()

    def finish(self) -> None:
        self.raw.write(self.encoder.encode(self.decoder.decode(b"", final=True), final=True))


def _text(table: pl.DataFrame) -> pl.LazyFrame:
    """Empty text as missing: Polars quotes ``""``, :mod:`csv` writes nothing for both.
    (Only the columns holding one are rewritten: a scan is much cheaper than a rewrite.)"""
    texts = [c for c, t in table.schema.items() if t == pl.String]
    empty = table.select((pl.col(texts) == "").any())
    return table.lazy().with_columns(pl.col(c).replace("", None) for c in texts if empty[c][0])


def write_new_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a new file, as the results and errors files are created:
    never over an existing file, never through a symlink (dangling or not); nothing is left
    behind when the write fails.  Problems are :class:`InputError` (exit 2)."""
    if path.is_symlink():
        raise InputError(
            f"{path} is a symbolic link; refusing to write through it",
            hint="remove the link or choose another name",
        )
    try:
        fh = create_new_file(path)
    except FileExistsError:
        raise InputError(f"{path} exists", hint="choose another name or remove the file") from None
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="choose a folder that exists and that you can write to",
        ) from None
    try:
        with fh:
            fh.write(text.encode("utf-8"))
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_report_dir(folder: Path, given: bool) -> None:
    """Check, before anything is read or sent, that the reports and journal can be written
    in ``folder`` (or created there, by the run, when it does not exist yet): its nearest
    existing ancestor must be a writable folder.  Nothing is created here.  :class:`InputError`
    (exit 2) otherwise."""
    what = f"--report-dir {folder}" if given else f"the folder of FILE ({folder})"
    hint = "pass --report-dir with a folder you can write to"
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"cannot use {what}: {existing} is not a folder; nothing was sent", hint=hint
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot use {what}: {existing} is not writable; nothing was sent", hint=hint
        )


def check_report_files(*paths: Path) -> None:
    """Check, before anything is read or sent, that no folder holds the name of a report or
    the journal: the run could not write it at its end.  :class:`InputError` (exit 2)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            raise InputError(
                f"cannot write {path}: a folder of that name is in the way; nothing was sent",
                hint="move or rename that folder, or pass --report-dir with another folder",
            )
