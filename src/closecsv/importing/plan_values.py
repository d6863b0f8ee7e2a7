"""Plan, second part: column values as Polars expressions, then the planned rows' frame.

:func:`convert_columns` adds a value and an error column per output (an API key fed by a file
column; a ``custom.`` column that names different fields in different types has one output
per field).  :func:`assemble` adds each row's payload columns and error as expressions and
hands them to :class:`~closecsv.importing.plan_rows.PlannedRows`, which builds Python rows only for
updates and for rows with ``contact``/``custom_object`` values (looked up per lead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from closecsv.close.kinds import ACTIVITIES, Kind
from closecsv.close.schema import FieldInfo, TypeInfo
from closecsv.files.csvio import READ_ERROR, ROW
from closecsv.importing.headers import Columns
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan_rows import (
    ACTION,
    ERROR,
    HEAD,
    INSTANCE,
    TYPE_ERROR,
    TYPE_ID,
    Layout,
    PlannedRows,
)
from closecsv.importing.resolve import LEAD_ERROR, LEAD_ID, SOURCES, Resolver
from closecsv.importing.values import (
    Converted,
    ValueOptions,
    datetime_,
    field_converter,
    lookup,
    pinned,
    text,
)
from closecsv.importing.values import status as status_conv

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
    number: bool = False
    echo: bool = False  # repeats another output's column (date_created as activity_at)


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
    layers: list[dict[str, pl.Expr]] = []

    def add(conv: Converted, **kw: Any) -> None:
        n = len(outputs)
        outputs.append(Output(value=f"__v{n}", error=f"__e{n}", **kw))
        exprs.extend([conv.value.alias(f"__v{n}"), conv.error.alias(f"__e{n}")])
        for depth, layer in enumerate(conv.stage):
            if depth == len(layers):
                layers.append({})
            layers[depth].update((e.meta.output_name(), e) for e in layer)

    for name, column in cols.standard.items():
        if name in STANDARD:
            key, make = STANDARD[name]
            add(
                make(pl.col(column), opts, users),
                column=column,
                key=key,
                scoped="contact" if name == "contact" else None,
            )
    echoes = _echo_date_created(cols, outputs)
    for column, by_type in cols.custom.items():
        for fld, type_ids in _group_fields(by_type).values():
            scoped = fld.type if fld.type in ("contact", "custom_object") else None
            add(
                field_converter(fld, pl.col(column), opts, users),
                column=column,
                key=fld.api_key,
                type_ids=type_ids,
                scoped=scoped,
                referenced_type=fld.referenced_type_id,
                custom=True,
                number=fld.type == "number",
            )
    staged = frame
    for layer in layers:  # the columns of all converters' first layers at once, and so on
        staged = staged.with_columns(layer.values())
    converted = staged.with_columns(exprs).drop(name for layer in layers for name in layer)
    return (converted.with_columns(echoes) if echoes else converted), outputs


def _echo_date_created(cols: Columns, outputs: list[Output]) -> list[pl.Expr]:
    """``date_created`` is also sent as ``activity_at`` unless that column is given: add that
    output to ``outputs`` and return its columns, a copy of date_created's value (not a second
    conversion) and an error that is never shown."""
    if "date_created" not in cols.standard or "activity_at" in cols.standard:
        return []
    source = next(o.value for o in outputs if o.key == "date_created")
    n = len(outputs)
    column = cols.standard["date_created"]
    outputs.append(
        Output(column=column, key="activity_at", value=f"__v{n}", error=f"__e{n}", echo=True)
    )
    return [pl.col(source).alias(f"__v{n}"), pl.lit(None, pl.String).alias(f"__e{n}")]


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
    cols: Columns,
    kind: Kind,
    types: Sequence[TypeInfo],
    outputs: list[Output],
    options: ImportOptions,
    resolver: Resolver,
) -> PlannedRows:
    """The planned rows of ``frame``, kept as a frame (:mod:`closecsv.importing.plan_rows`).

    Which outputs serve a row, its error message and its create defaults are Polars
    expressions; only update rows and rows with a value looked up on their lead are built
    as Python objects here.
    """
    rules = _Rules(cols, kind, types, outputs, options, resolver)
    final = frame.with_columns(rules.payload_columns()).with_columns(rules.error())
    scoped = _Scoped(resolver, final, outputs, cols)
    keys = [*rules.default_keys, *(o.key for o in outputs)]  # given values override defaults
    values = [f"__d{i}" for i in range(len(rules.default_keys))]
    values += [f"__p{i}" for i in range(len(outputs))]
    clears = [f"__c{i}" for i, o in enumerate(outputs) if o.custom and options.clear_empty]
    body = final.select(*HEAD, *values, *clears)
    layout = Layout(keys, frozenset(o.key for o in outputs if o.number), len(clears))
    looked_up = {o.key for o in outputs if o.scoped}
    given = [pl.col(f"__p{i}").is_not_null() for i, o in enumerate(outputs) if o.key in looked_up]
    per_row = (pl.col(ACTION) == "update") | pl.any_horizontal(pl.lit(False), *given)
    return PlannedRows(body, layout, per_row, scoped.apply)


class _Rules:
    """The per-row rules of a plan, as Polars expressions over the converted frame."""

    def __init__(
        self,
        cols: Columns,
        kind: Kind,
        types: Sequence[TypeInfo],
        outputs: list[Output],
        options: ImportOptions,
        resolver: Resolver,
    ) -> None:
        self.cols, self.kind, self.outputs, self.options = cols, kind, outputs, options
        self.types = {t.id: t for t in types}
        self.per_column: dict[str, list[Output]] = {}
        for out in outputs:
            self.per_column.setdefault(out.column, []).append(out)
        self.me = resolver.default_user_id() if kind is ACTIVITIES else None
        self.create = pl.col(ACTION) == "create"
        self.default_keys = [kind.type_id_key, "lead_id"] + (
            ["user_id", "status"] if self.me else []
        )

    def serves(self, out: Output) -> pl.Expr:
        if out.type_ids is None:
            return pl.lit(True)
        in_type = pl.col(TYPE_ID).is_in(list(out.type_ids)).fill_null(False)
        alone = len(self.per_column[out.column]) == 1
        return in_type | pl.col(TYPE_ID).is_null() if alone else in_type

    def payload_columns(self) -> list[pl.Expr]:
        exprs: list[pl.Expr] = []
        for i, out in enumerate(self.outputs):
            exprs.append(pl.when(self.serves(out)).then(pl.col(out.value)).alias(f"__p{i}"))
            empty = pl.col(out.column).is_null() & (pl.col(ACTION) == "update")
            cleared = pl.when(self.serves(out) & empty).then(pl.lit(out.key))
            exprs.append(cleared.alias(f"__c{i}"))
        defaults = [pl.col(TYPE_ID), pl.col(LEAD_ID)]
        if self.me:
            defaults += [pl.lit(self.me), pl.lit(self.options.status)]
        exprs += [pl.when(self.create).then(d).alias(f"__d{i}") for i, d in enumerate(defaults)]
        id_col = self.cols.standard.get(self.kind.id_column)
        instance = pl.col(id_col).str.strip_chars() if id_col else pl.lit(None, pl.String)
        return [*exprs, pl.when(~self.create).then(instance).alias(INSTANCE)]

    def error(self) -> pl.Expr:
        parts = [pl.col(TYPE_ERROR), *self._create_needs()]
        for column, outs in self.per_column.items():
            parts += [self._conversion(o) for o in outs if not o.echo]
            parts += self._misplaced(column, outs)
        parts += self._required()
        joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
        message = pl.coalesce(pl.col(READ_ERROR), pl.when(joined != "").then(joined))
        return (
            pl.when(message.is_not_null())
            .then(pl.format("row {}: {}", pl.col(ROW), message))
            .alias(ERROR)
        )

    def _label(self, column: str) -> str:
        """``column`` as messages name it (the file's name, and its --map target)."""
        return self.cols.label(column)

    def _conversion(self, out: Output) -> pl.Expr:
        failed = self.serves(out) & pl.col(out.error).is_not_null()
        label = _braces(self._label(out.column))
        return pl.when(failed).then(pl.format(f"column {label}: {{}}", pl.col(out.error)))

    def _misplaced(self, column: str, outs: list[Output]) -> list[pl.Expr]:
        given, type_id = pl.col(column).is_not_null(), pl.col(TYPE_ID)
        if any(o.type_ids is None for o in outs):
            return []
        served = sorted({t for o in outs for t in o.type_ids or ()})
        names = {t: self.types[t].name for t in self.types}
        wrong = given & type_id.is_not_null() & ~type_id.is_in(served)
        name = type_id.replace_strict(names, default=type_id, return_dtype=pl.String)
        text = pl.format(
            f"column {_braces(self._label(column))} is not a field of the type '{{}}'; "
            "leave it empty",
            name,
        )
        found: list[pl.Expr] = [pl.when(wrong).then(text)]
        if len(outs) > 1:
            several = f"column {self._label(column)} names different fields on several types: "
            hint = f"fill {self._type_label()} or pass --type"
            found.append(pl.when(given & type_id.is_null()).then(pl.lit(several + hint)))
        return found

    def _create_needs(self) -> list[pl.Expr]:
        kind, create = self.kind, self.create
        typeless = create & pl.col(TYPE_ID).is_null() & pl.col(TYPE_ERROR).is_null()
        lead_hint = "a create row needs a lead: fill lead_id, lead_email, lead_phone or lead_name"
        needs: list[pl.Expr] = [
            pl.when(typeless).then(
                pl.lit(f"a create row needs a type: fill {self._type_label()} or pass --type")
            ),
            pl.when(create & pl.col(LEAD_ID).is_null()).then(
                pl.coalesce(self._lead_error(), pl.lit(lead_hint))
            ),
        ]
        if kind is not ACTIVITIES:
            name = self.cols.standard.get("name")
            blank = pl.col(name).str.strip_chars().fill_null("") == "" if name else pl.lit(True)
            needs.append(
                pl.when(create & blank).then(
                    pl.lit("a create row needs a name: fill the 'name' column")
                )
            )
        return needs

    def _type_label(self) -> str:
        column = self.cols.standard.get(self.kind.type_column)
        return self._label(column) if column else repr(self.kind.type_column)

    def _lead_error(self) -> pl.Expr:
        """The lead look-up's error; it names the column it came from when --map renamed it."""
        given = [(s, self.cols.standard[s]) for s in SOURCES if s in self.cols.standard]
        if not any(column in self.cols.renamed for _, column in given):
            return pl.col(LEAD_ERROR)
        label = pl.coalesce(  # the column the look-up used: the first given, in precedence
            *(pl.when(pl.col(c).is_not_null()).then(pl.lit(self._label(c))) for _, c in given)
        )
        return pl.format("column {}: {}", label, pl.col(LEAD_ERROR))

    def _required(self) -> list[pl.Expr]:
        given: dict[str, list[pl.Expr]] = {}
        where: dict[str, str] = {o.key: o.column for o in self.outputs if o.custom}
        for i, out in enumerate(self.outputs):
            # a value given but not valid is reported by its conversion error, not as empty
            invalid = self.serves(out) & pl.col(out.error).is_not_null()
            given.setdefault(out.key, []).append(pl.col(f"__p{i}").is_not_null() | invalid)
        status_at = next((i for i, o in enumerate(self.outputs) if o.key == "status"), None)
        status = pl.col(f"__p{status_at}") if status_at is not None else pl.lit(None, pl.String)
        published = pl.coalesce(status, pl.lit(self.options.status)) == "published"
        enforce = self.create & (published if self.kind is ACTIVITIES else pl.lit(True))
        draft = ", or import the row as a draft (status)" if self.kind is ACTIVITIES else ""
        found: list[pl.Expr] = []
        for type_id, info in self.types.items():
            for f in (f for f in info.fields if f.required):
                present = pl.any_horizontal(given.get(f.api_key, [pl.lit(False)]))
                missing = enforce & (pl.col(TYPE_ID) == type_id) & ~present
                name = self._label(where[f.api_key]) if f.api_key in where else repr(f.column)
                found.append(
                    pl.when(missing).then(pl.lit(f"required field {name} is empty: fill it{draft}"))
                )
        return found


def _braces(text: str) -> str:
    """``text`` inside a ``pl.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


class _Scoped:
    """``contact`` and ``custom_object`` values, looked up on the row's lead."""

    def __init__(
        self, resolver: Resolver, frame: pl.DataFrame, outputs: list[Output], cols: Columns
    ) -> None:
        self.outputs = [o for o in outputs if o.scoped]
        self.label = cols.label
        contact_outs = [o for o in self.outputs if o.scoped == "contact"]
        if contact_outs:  # update rows' leads were not looked up yet: fetch them in batches
            leads = _leads_with(frame, contact_outs) - resolver.leads.keys()
            resolver.find_leads(("lead_id", lead) for lead in sorted(leads))
        self.contacts = resolver.contact_table() if contact_outs else {}
        self.objects = resolver.object_table(_object_needs(frame, self.outputs))

    def apply(self, payload: dict[str, Any], lead_id: str | None, row: int) -> str | None:
        """Replace scoped values in ``payload`` by ids; an error message if one is not found."""
        errors: list[str] = []
        for out in self.outputs:
            if out.key in payload:
                payload[out.key] = self._ids(out, payload[out.key], lead_id, errors)
        return f"row {row}: " + "; ".join(errors) if errors else None

    def _ids(self, out: Output, value: Any, lead_id: str | None, errors: list[str]) -> Any:
        items = value if isinstance(value, list) else [value]
        found = [self._find(out, str(v).strip(), lead_id, errors) for v in items]
        return found if isinstance(value, list) else found[0]

    def _find(self, out: Output, item: str, lead_id: str | None, errors: list[str]) -> str | None:
        noun = "contact" if out.scoped == "contact" else "custom object"
        if lead_id is None:
            if out.scoped != "contact" or item.startswith("cont_"):
                return item
            errors.append(
                f"column {self.label(out.column)}: {noun} {item!r} can only be found by id "
                "without the row's lead: fill lead_id"
            )
            return None
        if out.scoped == "contact":
            hit = self.contacts.get((lead_id, item)) or self.contacts.get((lead_id, item.lower()))
        else:
            hit = self.objects.get((lead_id, out.referenced_type or "", item))
        if not hit:
            errors.append(
                f"column {self.label(out.column)}: no single {noun} {item!r} on lead {lead_id}"
            )
        return hit or None


def _leads_with(frame: pl.DataFrame, outputs: list[Output]) -> set[str]:
    """Lead ids of the rows that give a value to one of ``outputs``."""
    given = pl.any_horizontal(pl.col(o.column).is_not_null() for o in outputs)
    return set(frame.filter(given & pl.col(LEAD_ID).is_not_null())[LEAD_ID].unique().to_list())


def _object_needs(frame: pl.DataFrame, outputs: list[Output]) -> set[tuple[str, str]]:
    needs: set[tuple[str, str]] = set()
    for out in outputs:
        if out.scoped == "custom_object" and out.referenced_type:
            given = frame.filter(pl.col(out.column).is_not_null() & pl.col(LEAD_ID).is_not_null())
            needs.update((str(lead), out.referenced_type) for lead in given[LEAD_ID].unique())
    return needs
