"""Planned rows kept as a frame: Python objects only for the rows that are sent or compared.

:class:`PlannedRows` holds one line per data row (row number, action, type, instance, lead,
error and the payload columns) and the :class:`PlannedRow` objects that planning had to build
anyway: update rows, and rows with a ``contact``/``custom_object`` value (looked up per row on
its lead, which may fail the row).  Everything else stays columnar until asked for:

* :meth:`PlannedRows.settled` is the outcome frame of the rows settled without a request (the
  failed rows; in a dry run also the creates that would be sent), in the report's columns;
* :meth:`PlannedRows.pending` builds the rows the executor handles one by one (updates always,
  creates only when they are really sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from closecsv.files.csvio import ROW
from closecsv.importing.report import OUTCOME_SCHEMA
from closecsv.importing.resolve import LEAD_ID

TYPE_ID, TYPE_ERROR, ACTION = "__closecsv_type_id", "__closecsv_type_error", "__closecsv_action"
INSTANCE, ERROR = "__closecsv_instance", "__closecsv_error"
HEAD = [ROW, ACTION, TYPE_ID, INSTANCE, LEAD_ID, ERROR]
Finisher = Callable[[dict[str, Any], str | None, int], str | None]


@dataclass
class PlannedRow:
    """One data row, planned (docs/ARCHITECTURE.md, Import pipeline contract)."""

    row: int
    action: Literal["create", "update", "failed"]
    type_id: str | None
    instance_id: str | None
    lead_id: str | None
    payload: dict[str, Any]
    clear: frozenset[str] = frozenset()
    error: str | None = None


@dataclass(frozen=True)
class Layout:
    """Where a payload lives in a body record: ``keys`` zip the columns after ``HEAD``."""

    keys: list[str]
    numbers: frozenset[str]
    clears: int  # trailing ``--clear-empty`` columns (the API key, or null)


class PlannedRows:
    """Every planned row: a frame (``HEAD`` then the payload columns) plus the built rows."""

    def __init__(
        self, body: pl.DataFrame, layout: Layout, per_row: pl.Expr, finish: Finisher
    ) -> None:
        """``per_row`` picks the rows built now (and passed through ``finish``, which may fill
        ids in the payload and returns an error); the others are built only if sent."""
        self.layout = layout
        ok = pl.col(ERROR).is_null()
        built = [_row_of(rec, layout, finish) for rec in body.filter(ok & per_row).iter_rows()]
        self.built = {r.row: r for r in built}
        self.failed_late = [r for r in built if r.action == "failed"]
        self.body = body.filter(~(ok & per_row))  # failed, and creates not built yet
        self.height = body.height

    def pending(self, dry_run: bool) -> list[PlannedRow]:
        """The rows the executor handles per row, in file order (failed rows never)."""
        rows = [r for r in self.built.values() if r.action != "failed"]
        if not dry_run:
            creates = self.body.filter(pl.col(ERROR).is_null()).iter_rows()
            rows += [_row_of(rec, self.layout, None) for rec in creates]
        return sorted(rows, key=lambda r: r.row)

    def settled(self, dry_run: bool) -> pl.DataFrame:
        """The outcomes (report columns) of the rows settled without a request."""
        failed = pl.col(ERROR).is_not_null()
        status = pl.when(failed).then(pl.lit("failed")).otherwise(pl.lit("would_create"))
        frame = self.body.lazy().filter(failed if not dry_run else pl.lit(True))
        early = frame.select(
            pl.col(ROW).alias("_row"),
            status.alias("_status"),
            pl.col(INSTANCE).alias("_id"),
            pl.col(LEAD_ID).alias("_lead_id"),
            pl.col(ERROR).alias("_error"),
            pl.lit(None, pl.String).alias("_changes"),
            pl.lit(0, pl.Int64).alias("_changed"),
        ).collect()
        late = _outcomes(self.failed_late)
        return pl.concat([early.cast(OUTCOME_SCHEMA), late]) if late.height else early

    def every_row(self) -> list[PlannedRow]:
        """Every row as a :class:`PlannedRow`, in file order (inspection: one object a row)."""
        rows = [_row_of(rec, self.layout, None) for rec in self.body.iter_rows()]
        return sorted([*rows, *self.built.values()], key=lambda r: r.row)


def _row_of(rec: Sequence[Any], layout: Layout, finish: Finisher | None) -> PlannedRow:
    row, action, type_id, instance_id, lead_id, error = rec[:6]
    if error:
        return PlannedRow(row, "failed", type_id, instance_id, lead_id, {}, error=error)
    values = rec[6 : 6 + len(layout.keys)]
    payload = {k: v for k, v in zip(layout.keys, values, strict=True) if v is not None}
    for key in layout.numbers & payload.keys():
        payload[key] = _plain(payload[key])
    error = finish(payload, lead_id, row) if finish is not None else None
    if error:
        return PlannedRow(row, "failed", type_id, instance_id, lead_id, {}, error=error)
    clear = frozenset(c for c in rec[6 + len(layout.keys) :] if c)
    return PlannedRow(row, action, type_id, instance_id, lead_id, payload, clear)


def _outcomes(rows: Iterable[PlannedRow]) -> pl.DataFrame:
    lines = [(r.row, "failed", r.instance_id, r.lead_id, r.error, None, 0) for r in rows]
    return pl.DataFrame(lines, schema=OUTCOME_SCHEMA, orient="row")


def _plain(value: Any) -> Any:
    """Polars values as JSON values: integral floats as ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value
