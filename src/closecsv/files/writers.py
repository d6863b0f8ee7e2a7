"""Streaming writers: rows go to disk as they arrive, under a temporary name until complete.

:class:`CsvSink` writes text cells with :mod:`csv` (RFC 4180 quoting, ``\\r\\n`` line ends,
UTF-8 without BOM).  :class:`ParquetSink` collects typed rows in batches of ``batch_rows``,
spills each batch to an Arrow IPC part file in a hidden spool directory next to the target,
and on :meth:`~ParquetSink.commit` streams the parts into one Parquet file with
``LazyFrame.sink_parquet`` (streaming engine, row groups of :data:`ROW_GROUP_ROWS`), so
memory holds a batch per type and one small row group, however many rows there are.  Both sinks
write through :class:`~closecsv.files.outputs.AtomicFile`: nothing appears under the final
name until :meth:`commit`; :meth:`discard` removes every trace.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from closecsv.files.outputs import AtomicFile

DEFAULT_BATCH_ROWS = 1000
ROW_GROUP_ROWS = 1000
"""Spill every 1,000 rows and write row groups of 1,000 rows.  ``sink_parquet`` buffers a whole
row group per file, so its memory grew with the rows until the group was full: with groups of
10,000 an export's peak RSS grew 1.14x-1.32x from 10k to 100k rows (2k and 20k rows per type),
with groups of 1,000 it is flat (measured by bench/export_bench.py; bigger spills or unbounded
row groups hold more still).  Reading IPC parts one by one, compressing them or limiting the
streaming chunk size changed nothing measurable: the row group is what grows."""


class Sink(Protocol):
    """Where one type's rows go."""

    rows: int

    def write(self, rows: Iterable[Any]) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class CsvSink:
    """A CSV file of text cells; the header is written on open."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.target = AtomicFile(path)
        self.rows = 0
        self._writer = csv.writer(self.target.text(), lineterminator="\r\n")
        self._writer.writerow(columns)

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        for row in rows:
            self._writer.writerow(row)
            self.rows += 1

    def commit(self) -> None:
        self.target.commit()

    def discard(self) -> None:
        self.target.discard()


class ParquetSink:
    """A Parquet file of typed columns, written batch by batch (see the module docstring)."""

    def __init__(
        self, path: Path, schema: Mapping[str, pl.DataType], *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> None:
        self.path = path
        self.schema = pl.Schema(schema)
        self.batch_rows = batch_rows
        self.rows = 0
        self._buffer: list[Mapping[str, Any]] = []
        self._spool = Path(
            tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".spool", dir=path.parent)
        )
        self._parts: list[Path] = []

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self._buffer.append(row)
            self.rows += 1
            if len(self._buffer) >= self.batch_rows:
                self._spill()

    def _spill(self) -> None:
        if not self._buffer:
            return
        frame = pl.DataFrame(self._buffer, schema=self.schema, orient="row")
        part = self._spool / f"{len(self._parts):08d}.arrow"
        frame.write_ipc(part)
        self._parts.append(part)
        self._buffer = []

    def commit(self) -> None:
        self._spill()
        target = AtomicFile(self.path)
        try:
            self._frame().sink_parquet(
                target.binary, row_group_size=ROW_GROUP_ROWS, engine="streaming"
            )
            target.commit()
        except BaseException:
            target.discard()
            raise
        finally:
            shutil.rmtree(self._spool, ignore_errors=True)

    def _frame(self) -> pl.LazyFrame:
        if not self._parts:
            return pl.LazyFrame(schema=self.schema)
        return pl.scan_ipc(self._parts)

    def discard(self) -> None:
        self._buffer = []
        shutil.rmtree(self._spool, ignore_errors=True)
