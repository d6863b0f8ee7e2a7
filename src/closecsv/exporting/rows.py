"""One API instance -> one export row: text cells for CSV, typed values for Parquet.

Columns (README, "export"): the kind's id and type columns, ``lead_id``, ``lead_name``, then for
activities ``user``, ``contact``, ``date_created``, ``activity_at``, ``status``, ``pinned``
(objects: ``name``), ``custom.<Field Name>`` for every field in the type's order, then the
read-only columns (``date_updated``, ``created_by``, ``updated_by``; objects also
``date_created``).  ``lead_email``/``lead_phone`` are import-only identifiers and are not
exported: ``lead_id`` identifies the lead exactly.

CSV cells: custom values through :func:`closecsv.exporting.export_cells.api_to_cell`
(users as emails, numbers
without a spurious ``.0``, multi-values joined by the separator); timestamps exactly as the API
gives them; booleans ``true``/``false``; then :func:`closecsv.files.cells.neutralise` on every cell
unless ``raw`` (a leading ``'`` before ``=``, ``+``, ``-``, ``@``, tab or CR; the importer
takes it off again).

Parquet types: ``number`` Float64 (always: a batch cannot know whether a later one holds
decimals, and one file must have one schema), ``date`` Date, ``datetime`` and the standard
timestamps Datetime(us, UTC), ``pinned`` Boolean, multi-value fields List(String), the rest
String.  Parquet cells are never neutralised: no spreadsheet evaluates them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from closecsv.close.kinds import Kind
from closecsv.close.schema import FieldInfo, TypeInfo
from closecsv.exporting.export_cells import api_to_cell
from closecsv.files.cells import neutralise
from closecsv.files.moments import parse_iso

Obj = Mapping[str, Any]
DATETIME = pl.Datetime("us", "UTC")
EXCLUDED = frozenset({"lead_email", "lead_phone"})
_TIMESTAMPS = frozenset({"date_created", "activity_at", "date_updated"})
_USERS = frozenset({"user", "created_by", "updated_by"})
_API_KEYS = {"user": "user_id", "contact": "contact_id"}


def export_columns(kind: Kind) -> list[str]:
    """The standard and read-only columns of ``kind``, in export order."""
    standard = [c for c in kind.standard_columns if c not in EXCLUDED]
    return [*standard, *(c for c in kind.readonly_columns if c not in standard)]


def api_fields(kind: Kind, types: Iterable[TypeInfo]) -> list[str]:
    """The instance keys the export's columns are read from (a search's ``_fields``)."""
    keys = []
    for column in export_columns(kind):
        if column == kind.id_column:
            keys.append("id")
        elif column == kind.type_column:
            keys.append(kind.type_id_key)
        elif column != "lead_name":
            keys.append(_API_KEYS.get(column, column))
    keys += [f.api_key for info in types for f in info.fields]
    return list(dict.fromkeys(keys))


def parse_timestamp(value: Any) -> datetime | None:
    """An API timestamp as an aware UTC datetime (None for a missing value)."""
    if not value:
        return None
    moment = parse_iso(str(value))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


class Flattener:
    """Turns instances of one type into rows; ``users`` maps user ids to emails."""

    def __init__(
        self, info: TypeInfo, users: Mapping[str, str], *, separator: str = ";", raw: bool = False
    ) -> None:
        self.info = info
        self.users = users
        self.separator = separator
        self.raw = raw
        self.standard = export_columns(info.kind)
        self.columns = [*self._head(), *(f.column for f in info.fields), *self._tail()]

    def _head(self) -> list[str]:
        return [c for c in self.standard if c not in self.info.kind.readonly_columns]

    def _tail(self) -> list[str]:
        return [c for c in self.standard if c in self.info.kind.readonly_columns]

    # -- standard columns ------------------------------------------------------------------
    def _standard(self, column: str, inst: Obj, lead_name: str) -> Any:
        kind = self.info.kind
        if column == kind.id_column:
            return inst.get("id")
        if column == kind.type_column:
            return self.info.name
        if column == "lead_name":
            return lead_name
        if column in _USERS:
            user_id = inst.get(_API_KEYS.get(column, column))
            return self.users.get(user_id, user_id) if user_id else None
        return inst.get(_API_KEYS.get(column, column))

    # -- CSV -------------------------------------------------------------------------------
    def csv_row(self, inst: Obj, lead_name: str) -> list[str]:
        cells = [self._standard_cell(c, inst, lead_name) for c in self._head()]
        cells += [self._field_cell(f, inst.get(f.api_key)) for f in self.info.fields]
        cells += [self._standard_cell(c, inst, lead_name) for c in self._tail()]
        return cells if self.raw else [neutralise(c) for c in cells]

    def _standard_cell(self, column: str, inst: Obj, lead_name: str) -> str:
        value = self._standard(column, inst, lead_name)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    def _field_cell(self, field: FieldInfo, value: Any) -> str:
        if value is None or value == []:
            return ""
        return api_to_cell(field, value, self.users, self.separator)

    # -- Parquet ---------------------------------------------------------------------------
    def schema(self) -> dict[str, pl.DataType]:
        types = {c: self._standard_type(c) for c in self.standard}
        fields = {f.column: field_dtype(f) for f in self.info.fields}
        return {c: types[c] if c in types else fields[c] for c in self.columns}

    @staticmethod
    def _standard_type(column: str) -> pl.DataType:
        if column in _TIMESTAMPS:
            return DATETIME
        return pl.Boolean() if column == "pinned" else pl.String()

    def typed_row(self, inst: Obj, lead_name: str) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for column in self.standard:
            value = self._standard(column, inst, lead_name)
            row[column] = parse_timestamp(value) if column in _TIMESTAMPS else value
        for f in self.info.fields:
            row[f.column] = self._typed(f, inst.get(f.api_key))
        return row

    def _typed(self, field: FieldInfo, value: Any) -> Any:
        if value is None or value == []:
            return None
        if field.multiple:
            values = value if isinstance(value, list) else [value]
            return [api_to_cell(field, [v], self.users, self.separator) for v in values]
        if field.type == "user":
            return self.users.get(value, value)
        convert: Callable[[Any], Any] = _CONVERTERS.get(field.type, _text)
        return convert(value)


def field_dtype(field: FieldInfo) -> pl.DataType:
    if field.multiple:
        return pl.List(pl.String())
    dtypes: dict[str, pl.DataType] = {
        "number": pl.Float64(), "date": pl.Date(), "datetime": DATETIME
    }  # fmt: skip
    return dtypes.get(field.type, pl.String())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _date(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def _float(value: Any) -> float:
    return float(value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "number": _float,
    "date": _date,
    "datetime": parse_timestamp,
}
