"""Custom activity and custom object types and their fields, loaded from the API.

A type's ``fields[]`` in ``GET /custom_activity/`` lacks ``choices`` and shared fields
(docs/CLOSE_API.md, Custom fields and values), so every type's full field list comes from
``GET /custom_field_schema/<kind>/<type id>/``, which lists regular and shared fields in the
type's own order.  Field lists are fetched lazily, once per type.  Both answers are checked
as they come in (``shapes.TypeList``, ``shapes.FieldSchema``): a type without an ``id`` or a
field without an ``id`` or ``name`` is an ``ApiError`` (exit 3) naming the endpoint and field.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.shapes import FieldDef, FieldSchema, TypeEntry, TypeList, require
from closecsv.errors import InputError

FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "datetime",
    "choices",
    "user",
    "contact",
    "custom_object",
    "hidden",
)
CUSTOM_PREFIX = "custom."


class Getter(Protocol):
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FieldInfo:
    id: str
    name: str
    type: str
    multiple: bool = False
    required: bool = False
    choices: tuple[str, ...] | None = None
    referenced_type_id: str | None = None
    is_shared: bool = False
    description: str | None = None

    @property
    def column(self) -> str:
        """The CSV header that addresses this field by name."""
        return f"{CUSTOM_PREFIX}{self.name}"

    @property
    def api_key(self) -> str:
        """The flat key Close uses for the value on an instance."""
        return f"{CUSTOM_PREFIX}{self.id}"

    @classmethod
    def from_api(cls, raw: FieldDef) -> FieldInfo:
        choices = raw.choices
        return cls(
            id=raw.id,
            name=raw.name,
            type=raw.type,
            multiple=bool(raw.accepts_multiple_values),
            required=bool(raw.required),
            choices=tuple(str(c) for c in choices) if choices is not None else None,
            referenced_type_id=raw.referenced_custom_type_id,
            is_shared=bool(raw.is_shared),
            description=raw.description,
        )


@dataclass(frozen=True)
class TypeInfo:
    kind: Kind
    id: str
    name: str
    fields: tuple[FieldInfo, ...]
    description: str | None = None
    is_archived: bool = False

    def field_for_column(self, column: str) -> FieldInfo | None:
        """``custom.<Field Name>`` (exact, case-sensitive) or ``custom.<field id>``."""
        if not column.startswith(CUSTOM_PREFIX):
            return None
        ref = column[len(CUSTOM_PREFIX) :]
        for f in self.fields:
            if f.name == ref or f.id == ref:
                return f
        return None

    def field_by_id(self, field_id: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass
class Schema:
    """Types of both kinds.  ``fields_of`` loads a type's field list on first use."""

    client: Getter
    _raw_types: dict[str, list[TypeEntry]] = field(default_factory=dict)
    _types: dict[tuple[str, str], TypeInfo] = field(default_factory=dict)

    def raw_types(self, kind: Kind) -> list[TypeEntry]:
        if kind.name not in self._raw_types:
            body = self.client.get(kind.type_list_path)
            page = require(TypeList, body, f"GET {kind.type_list_path}")
            self._raw_types[kind.name] = list(page.data)
        return self._raw_types[kind.name]

    def prime(self, kind: Kind, body: Mapping[str, Any]) -> None:
        """Take an answer of ``GET <type list>`` read elsewhere, so it is not asked again."""
        page = require(TypeList, body, f"GET {kind.type_list_path}")
        self._raw_types[kind.name] = list(page.data)

    def type_info(self, kind: Kind, raw: TypeEntry) -> TypeInfo:
        key = (kind.name, raw.id)
        if key not in self._types:
            path = f"{kind.field_schema_path}{raw.id}/"
            answer = require(FieldSchema, self.client.get(path), f"GET {path}")
            self._types[key] = TypeInfo(
                kind=kind,
                id=raw.id,
                name=raw.name if raw.name is not None else raw.id,
                fields=tuple(FieldInfo.from_api(f) for f in answer.fields),
                description=raw.description,
                is_archived=bool(raw.is_archived),
            )
        return self._types[key]

    def types(self, kind: Kind, *, include_archived: bool = True) -> list[TypeInfo]:
        return [
            self.type_info(kind, raw)
            for raw in self.raw_types(kind)
            if include_archived or not raw.is_archived
        ]

    def find(self, kind: Kind, ref: str) -> TypeInfo:
        """A type by exact name or id; an :class:`InputError` with suggestions otherwise."""
        raws = self.raw_types(kind)
        by_id = [r for r in raws if r.id == ref]
        by_name = [r for r in raws if r.name == ref]
        if by_id or len(by_name) == 1:
            return self.type_info(kind, (by_id or by_name)[0])
        if by_name:
            ids = ", ".join(r.id for r in by_name)
            raise InputError(
                f"{len(by_name)} {kind.noun} types are named {ref!r} ({ids})",
                hint="give the type by its id instead of its name",
            )
        names = [r.name if r.name is not None else r.id for r in raws]
        raise InputError(
            f"unknown {kind.noun} type {ref!r}",
            hint=suggest(ref, names) or f"known types: {', '.join(names) or 'none'}",
        )


def suggest(value: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest candidate, case differences first."""
    pool = list(candidates)
    folded = [c for c in pool if c.casefold() == value.casefold()]
    close = folded or difflib.get_close_matches(value, pool, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def kind_types(schema: Schema, include_archived: bool = True) -> dict[str, list[TypeInfo]]:
    """Every type of both kinds, for ``closecsv schema``."""
    return {
        k.name: schema.types(k, include_archived=include_archived) for k in (ACTIVITIES, OBJECTS)
    }


def template_columns(info: TypeInfo) -> list[str]:
    """The header of a CSV for one type: standard columns, then every field by name."""
    return [*info.kind.standard_columns, *(f.column for f in info.fields)]


def schema_as_json(types: Mapping[str, list[TypeInfo]]) -> dict[str, Any]:
    return {
        kind: [
            {
                "id": t.id,
                "name": t.name,
                "description": t.description,
                "is_archived": t.is_archived,
                "fields": [
                    {
                        "id": f.id,
                        "name": f.name,
                        "column": f.column,
                        "type": f.type,
                        "required": f.required,
                        "multiple": f.multiple,
                        "choices": list(f.choices) if f.choices is not None else None,
                        "shared": f.is_shared,
                        "referenced_type_id": f.referenced_type_id,
                    }
                    for f in t.fields
                ],
            }
            for t in ts
        ]
        for kind, ts in types.items()
    }
