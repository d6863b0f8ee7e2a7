"""Applying one type's changes to its mirror file, and the change files.

A new version of a file is written next to it under a hidden temporary name (never the final
one) and only moved over the final name by :func:`replace_all`, once every type's new file
is complete.  Rows of the old file whose id was deleted or changed are dropped, the changed
instances' current rows are appended: applying the same changes twice gives the same file.
Row order: the old file's rows in their order, then the changed ones; an ``export`` writes its
rows in the order of its route, so compare a mirror with an export by id, not by position.

CSV is streamed with :mod:`csv` (the cells are kept as written, neutralised or not); Parquet
with polars' streaming engine (the old file is scanned, filtered and concatenated with the
new rows), so memory stays flat however large the file.

Change files (``--changes-dir``): per type, ``_op`` (``insert``, ``update``, ``delete``) then the
type's columns; a delete row has only ``_op``, the id and the type's name.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from closecsv.files.outputs import AtomicFile
from closecsv.files.writers import ROW_GROUP_ROWS, CsvSink

OP = "_op"


@dataclass
class TypeChanges:
    """One type's changes in one run, as rows of the export's shape."""

    upserts: list[Any] = field(default_factory=list)  # CSV rows or typed dicts
    upsert_ids: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)  # ids that may be in the file
    inserted: set[str] = field(default_factory=set)  # filled by apply
    updated: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    same: set[str] = field(default_factory=set)  # in the file already, with this very row

    def changed_rows(self) -> list[tuple[str, Any]]:
        """``(_op, row)`` of the inserts and updates (rows that were already so are left out)."""
        ops = [
            ("insert" if i in self.inserted else "update", row)
            for i, row in zip(self.upsert_ids, self.upserts, strict=True)
            if i not in self.same
        ]
        return ops

    @property
    def any(self) -> bool:
        return bool(self.inserted or self.updated or self.removed)


def apply_changes(
    old: Path, changes: TypeChanges, columns: list[str], id_column: str,
    schema: dict[str, pl.DataType] | None,
) -> tuple[int, Path]:  # fmt: skip
    """``old`` with ``changes`` applied, written to a hidden temporary file next to it: its
    row count and path (moved over ``old`` later by :func:`replace_all`)."""
    if schema is None:
        return _apply_csv(old, changes, columns, id_column)
    return _apply_parquet(old, changes, schema, id_column)


def _apply_csv(
    old: Path, changes: TypeChanges, columns: list[str], id_column: str
) -> tuple[int, Path]:
    drop = changes.deleted | set(changes.upsert_ids)
    new_rows = dict(zip(changes.upsert_ids, changes.upserts, strict=True))
    sink = CsvSink(old, columns)
    try:
        with old.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header != columns:
                raise ValueError(f"{old.name}: columns differ from the type's")
            at = header.index(id_column)
            for row in reader:
                if row[at] not in drop:
                    sink.write([row])
                else:
                    _seen(changes, row[at], row == new_rows.get(row[at]))
        sink.write(changes.upserts)
        return sink.rows, sink.target.finish()
    except BaseException:
        sink.discard()
        raise


def _seen(changes: TypeChanges, instance_id: str, same: bool) -> None:
    """``instance_id`` was in the old file: deleted, updated, or fetched again unchanged (an
    event of the overlap already applied by the last run)."""
    if instance_id in changes.deleted:
        changes.removed.add(instance_id)
    else:
        (changes.same if same else changes.updated).add(instance_id)


def _apply_parquet(
    old: Path, changes: TypeChanges, schema: dict[str, pl.DataType], id_column: str
) -> tuple[int, Path]:
    drop = sorted(changes.deleted | set(changes.upsert_ids))
    scan = pl.scan_parquet(old)
    if dict(scan.collect_schema()) != schema:
        raise ValueError(f"{old.name}: columns differ from the type's")
    present = scan.filter(pl.col(id_column).is_in(drop)).collect()
    rows = pl.DataFrame(changes.upserts, schema=schema, orient="row")
    new_hashes = dict(zip(rows.get_column(id_column).to_list(), rows.hash_rows(), strict=True))
    seen = zip(present.get_column(id_column).to_list(), present.hash_rows(), strict=True)
    for instance_id, digest in seen:
        _seen(changes, str(instance_id), new_hashes.get(instance_id) == digest)
    kept = scan.filter(~pl.col(id_column).is_in(drop))
    fresh = rows.lazy()
    target = AtomicFile(old)
    try:
        pl.concat([kept, fresh]).sink_parquet(
            target.binary, row_group_size=ROW_GROUP_ROWS, engine="streaming"
        )
        temp = target.finish()
    except BaseException:
        target.discard()
        raise
    return int(pl.scan_parquet(temp).select(pl.len()).collect().item()), temp


def classify(changes: TypeChanges) -> None:
    """After :func:`apply_changes`: upserts not seen in the old file are inserts."""
    changes.inserted = set(changes.upsert_ids) - changes.updated - changes.same


def replace_all(moves: Sequence[tuple[Path, Path]]) -> None:
    """Move each finished temporary file over its final name (each move is atomic)."""
    for temp, final in moves:
        os.replace(temp, final)


def write_change_file(
    path: Path, changes: TypeChanges, columns: list[str], id_column: str, type_column: str,
    type_name: str, schema: dict[str, pl.DataType] | None,
) -> int:  # fmt: skip
    """Write one type's change file (see the module docstring); its row count."""
    pairs = changes.changed_rows()
    ops, upserts = [op for op, _ in pairs], [row for _, row in pairs]
    deletes = sorted(changes.removed)
    if schema is None:
        return _changes_csv(path, upserts, ops, deletes, columns, id_column, type_column, type_name)
    full = {OP: pl.String(), **schema}
    rows: list[dict[str, Any]] = [{OP: op, **row} for op, row in pairs]
    rows += [{OP: "delete", id_column: i, type_column: type_name} for i in deletes]
    frame = pl.DataFrame(rows, schema=full, orient="row") if rows else pl.DataFrame(schema=full)
    target = AtomicFile(path)
    try:
        frame.write_parquet(target.binary)
        target.commit()
    except BaseException:
        target.discard()
        raise
    return frame.height


def _changes_csv(
    path: Path, upserts: Iterable[list[str]], ops: list[str], deletes: list[str],
    columns: list[str], id_column: str, type_column: str, type_name: str,
) -> int:  # fmt: skip
    sink = CsvSink(path, [OP, *columns])
    try:
        sink.write([op, *row] for op, row in zip(ops, upserts, strict=True))
        for instance_id in deletes:
            cells = {id_column: instance_id, type_column: type_name}
            sink.write([["delete", *(cells.get(c, "") for c in columns)]])
        sink.commit()
    except BaseException:
        sink.discard()
        raise
    return sink.rows
