"""Plan, second part: column values as Polars expressions, then one :class:`PlannedRow` per row.

:func:`convert_columns` adds a value and an error column per output (an API key fed by a file
column; a ``custom.`` column that names different fields in different types has one output
per field).  :func:`assemble` walks the rows once to build payloads: the only per-row Python,
plus the per-lead look-ups of ``contact`` and ``custom_object`` values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from closecsv.csvio import READ_ERROR, ROW
from closecsv.headers import Columns
from closecsv.kinds import ACTIVITIES, Kind
from closecsv.resolve import LEAD_ERROR, LEAD_ID, Resolver
from closecsv.schema import FieldInfo, TypeInfo
from closecsv.values import (
    Converted,
    ValueOptions,
    datetime_,
    field_converter,
    lookup,
    pinned,
    text,
)
from closecsv.values import status as status_conv

if TYPE_CHECKING:
    from closecsv.plan import ImportOptions

TYPE_ID, TYPE_ERROR, ACTION = "__closecsv_type_id", "__closecsv_type_error", "__closecsv_action"
Maker = Callable[[pl.Expr, ValueOptions, Mapping[str, str]], Converted]
STANDARD: dict[str, tuple[str, Maker]] = {
    "user": ("user_id", lambda c, o, u: lookup(c, u, "user")),
    "contact": ("contact_id", lambda c, o, u: text(c.str.strip_chars())),
    "date_created": ("date_created", lambda c, o, u: datetime_(c, o)),
    "activity_at": ("activity_at", lambda c, o, u: datetime_(c, o)),
    "status": ("status", lambda c, o, u: status_conv(c)),
    "pinned": ("pinned", lambda c, o, u: pinned(c)),
    "name": ("name", lambda c, o, u: text(c)),
}


def cell_column(index: int) -> str:
    """The frame column holding file column ``index`` exactly as read (before un-escaping)."""
    return f"__closecsv_cell{index}"


@dataclass(frozen=True)
class Output:
    """One API key of the payload, fed by ``column`` (for ``type_ids``; None: every type)."""

    column: str
    key: str
    value: str
    error: str
    type_ids: frozenset[str] | None = None
    scoped: str | None = None  # "contact" | "custom_object": looked up on the row's lead
    referenced_type: str | None = None
    custom: bool = False
    first: bool = True  # the first output of its column (reports a type mismatch once)


@dataclass
class PlannedRow:
    """One data row, planned (docs/ARCHITECTURE.md, Import pipeline contract)."""

    row: int
    cells: dict[str, str]
    action: Literal["create", "update", "failed"]
    type_id: str | None
    instance_id: str | None
    lead_id: str | None
    payload: dict[str, Any]
    clear: frozenset[str] = frozenset()
    error: str | None = None


def convert_columns(
    frame: pl.DataFrame,
    cols: Columns,
    kind: Kind,
    types: Sequence[TypeInfo],
    options: ImportOptions,
    resolver: Resolver,
) -> tuple[pl.DataFrame, list[Output]]:
    """Add the value/error columns of every output; return the outputs."""
    opts = options.value_options()
    users = resolver.users().by_key if kind is ACTIVITIES or _has_user_fields(cols) else {}
    outputs: list[Output] = []
    exprs: list[pl.Expr] = []

    def add(conv: Converted, **kw: Any) -> None:
        n = len(outputs)
        outputs.append(Output(value=f"__v{n}", error=f"__e{n}", **kw))
        exprs.extend([conv.value.alias(f"__v{n}"), conv.error.alias(f"__e{n}")])

    for name, column in cols.standard.items():
        if name in STANDARD:
            key, make = STANDARD[name]
            add(
                make(pl.col(column), opts, users),
                column=column,
                key=key,
                scoped="contact" if name == "contact" else None,
            )
    if "date_created" in cols.standard and "activity_at" not in cols.standard:
        add(
            datetime_(pl.col(cols.standard["date_created"]), opts),
            column=cols.standard["date_created"],
            key="activity_at",
            first=False,
        )
    for column, by_type in cols.custom.items():
        for i, (fld, type_ids) in enumerate(_group_fields(by_type).values()):
            scoped = fld.type if fld.type in ("contact", "custom_object") else None
            add(
                field_converter(fld, pl.col(column), opts, users),
                column=column,
                key=fld.api_key,
                type_ids=type_ids,
                scoped=scoped,
                referenced_type=fld.referenced_type_id,
                custom=True,
                first=i == 0,
            )
    return frame.with_columns(exprs), outputs


def _has_user_fields(cols: Columns) -> bool:
    return any(f.type == "user" for by_type in cols.custom.values() for f in by_type.values())


def _group_fields(by_type: Mapping[str, FieldInfo]) -> dict[str, tuple[FieldInfo, frozenset[str]]]:
    groups: dict[str, tuple[FieldInfo, frozenset[str]]] = {}
    for type_id, fld in by_type.items():
        known = groups.get(fld.id, (fld, frozenset()))
        groups[fld.id] = (known[0], known[1] | {type_id})
    return groups


def assemble(
    frame: pl.DataFrame,
    columns: list[str],
    cols: Columns,
    kind: Kind,
    types: Sequence[TypeInfo],
    outputs: list[Output],
    options: ImportOptions,
    resolver: Resolver,
) -> list[PlannedRow]:
    """One :class:`PlannedRow` per row of ``frame``, in file order."""
    builder = _Builder(frame, columns, cols, kind, types, outputs, options, resolver)
    return [builder.build(rec) for rec in frame.iter_rows()]


class _Builder:
    def __init__(
        self,
        frame: pl.DataFrame,
        columns: list[str],
        cols: Columns,
        kind: Kind,
        types: Sequence[TypeInfo],
        outputs: list[Output],
        options: ImportOptions,
        resolver: Resolver,
    ) -> None:
        self.at = {name: i for i, name in enumerate(frame.columns)}
        self.columns, self.cols, self.kind, self.options = columns, cols, kind, options
        self.outputs = outputs
        self.types = {t.id: t for t in types}
        self.per_column = {o.column: sum(p.column == o.column for p in outputs) for o in outputs}
        self.contacts = (
            resolver.contact_table() if any(o.scoped == "contact" for o in outputs) else {}
        )
        self.objects = resolver.object_table(_object_needs(frame, outputs))
        self.me = resolver.users().me if kind is ACTIVITIES else None

    def build(self, rec: tuple[Any, ...]) -> PlannedRow:
        at = self.at

        def get(name: str) -> Any:
            return rec[at[name]]

        cells = {c: get(cell_column(i)) or "" for i, c in enumerate(self.columns)}
        action, type_id, lead_id = get(ACTION), get(TYPE_ID), get(LEAD_ID)
        id_col = self.cols.standard.get(self.kind.id_column)
        instance_id = get(id_col).strip() if id_col and get(id_col) else None
        errors = [get(READ_ERROR)] if get(READ_ERROR) else []
        payload: dict[str, Any] = {}
        clear: set[str] = set()
        if not errors:
            errors += [get(TYPE_ERROR)] if get(TYPE_ERROR) else []
            if action == "create":
                errors += self._create_needs(type_id, lead_id, get(LEAD_ERROR), cells)
            for out in self.outputs:
                self._apply(out, get, type_id, lead_id, action, payload, clear, errors)
            if action == "create" and not errors:
                errors += self._complete_create(payload, type_id or "", lead_id or "")
        row = int(get(ROW))
        if errors:
            message = f"row {row}: " + "; ".join(errors)
            return PlannedRow(
                row, cells, "failed", type_id, instance_id, lead_id, {}, frozenset(), message
            )
        return PlannedRow(
            row, cells, action, type_id, instance_id, lead_id, payload, frozenset(clear)
        )

    def _create_needs(
        self,
        type_id: str | None,
        lead_id: str | None,
        lead_error: str | None,
        cells: dict[str, str],
    ) -> list[str]:
        needs = []
        if type_id is None and not cells.get(self.cols.standard.get(self.kind.type_column, ""), ""):
            needs.append(
                f"a create row needs a type: fill {self.kind.type_column!r} or pass --type"
            )
        if lead_id is None:
            needs.append(
                lead_error
                or "a create row needs a lead: fill lead_id, lead_email, lead_phone or lead_name"
            )
        name_col = self.cols.standard.get("name")
        if self.kind is not ACTIVITIES and not (name_col and cells.get(name_col, "").strip()):
            needs.append("a create row needs a name: fill the 'name' column")
        return needs

    def _apply(
        self,
        out: Output,
        get: Callable[[str], Any],
        type_id: str | None,
        lead_id: str | None,
        action: str,
        payload: dict[str, Any],
        clear: set[str],
        errors: list[str],
    ) -> None:
        cell = get(out.column)
        if not self._serves(out, type_id, cell is not None, errors):
            return
        if cell is None:
            if out.custom and action == "update" and self.options.clear_empty:
                clear.add(out.key)
            return
        if get(out.error):
            errors.append(f"column {out.column!r}: {get(out.error)}")
            return
        value = _plain(get(out.value))
        if out.scoped:
            value = self._scoped(out, value, lead_id, errors)
        if value is not None:
            payload[out.key] = value

    def _serves(self, out: Output, type_id: str | None, given: bool, errors: list[str]) -> bool:
        """Whether ``out`` feeds this row's type (reporting a cell given to the wrong type)."""
        if out.type_ids is None or (type_id is not None and type_id in out.type_ids):
            return True
        if type_id is None:
            if self.per_column[out.column] == 1:
                return True
            if given and out.first:
                errors.append(
                    f"column {out.column!r} names different fields on several types: "
                    f"fill {self.kind.type_column!r} or pass --type"
                )
            return False
        if (
            given
            and out.first
            and not any(
                o.column == out.column and o.type_ids and type_id in o.type_ids
                for o in self.outputs
            )
        ):
            name = self.types[type_id].name if type_id in self.types else type_id
            errors.append(
                f"column {out.column!r} is not a field of the type {name!r}; leave it empty"
            )
        return False

    def _scoped(self, out: Output, value: Any, lead_id: str | None, errors: list[str]) -> Any:
        items = value if isinstance(value, list) else [value]
        found = [self._find(out, str(v).strip(), lead_id, errors) for v in items]
        if any(f is None for f in found):
            return None
        return found if isinstance(value, list) else found[0]

    def _find(self, out: Output, item: str, lead_id: str | None, errors: list[str]) -> str | None:
        noun = "contact" if out.scoped == "contact" else "custom object"
        if lead_id is None:
            if item.startswith(("cont_", "custobj_", "co_")) or out.scoped != "contact":
                return item
            errors.append(
                f"column {out.column!r}: {noun} {item!r} can only be found by id "
                "without the row's lead: fill lead_id"
            )
            return None
        if out.scoped == "contact":
            hit = self.contacts.get((lead_id, item)) or self.contacts.get((lead_id, item.lower()))
        else:
            hit = self.objects.get((lead_id, out.referenced_type or "", item))
        if not hit:
            errors.append(f"column {out.column!r}: no single {noun} {item!r} on lead {lead_id}")
        return hit or None

    def _complete_create(self, payload: dict[str, Any], type_id: str, lead_id: str) -> list[str]:
        payload[self.kind.type_id_key] = type_id
        payload["lead_id"] = lead_id
        if self.kind is ACTIVITIES:
            payload.setdefault("user_id", self.me)
            payload.setdefault("status", self.options.status)
            if payload["status"] == "draft":
                return []
        info = self.types.get(type_id)
        missing = (
            [f for f in info.fields if f.required and f.api_key not in payload] if info else []
        )
        draft = ", or import the row as a draft (status)" if self.kind is ACTIVITIES else ""
        return [f"required field {f.column!r} is empty: fill it{draft}" for f in missing]


def _plain(value: Any) -> Any:
    """Polars values as JSON values: integral floats as ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _object_needs(frame: pl.DataFrame, outputs: list[Output]) -> set[tuple[str, str]]:
    needs: set[tuple[str, str]] = set()
    for out in outputs:
        if out.scoped == "custom_object" and out.referenced_type:
            given = frame.filter(pl.col(out.column).is_not_null() & pl.col(LEAD_ID).is_not_null())
            needs.update((str(lead), out.referenced_type) for lead in given[LEAD_ID].unique())
    return needs
