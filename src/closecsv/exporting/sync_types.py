"""Which types a sync run reads, and which of them changed shape, at the cost of two requests.

A type's full field list (``GET custom_field_schema/…/<type id>/``) costs one request per type.
A sync run reads instead the type list (one request, which it hands to the
:class:`~closecsv.close.schema.Schema` so nobody asks again) and the shared fields
(``GET custom_field/shared/``, one request), and compares, per type, a *listing signature*:
the fields of the type list's entry (id, name, type, multiple, in order) and the shared fields
associated with the type.  When it equals the one the last run saved, the type's fields are
taken from the state (id, name, type, multiple: all a row needs) and its schema is not read.
Otherwise (and for every type exported in full) the full field list is read.

Blind spot: the type list's entry may leave shared fields out (Close's does), so a shared field
moved to another place in a type's order, with nothing else changed, is not seen until the next
full export of that type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from closecsv.close.api import SearchApi
from closecsv.close.kinds import Kind
from closecsv.close.schema import FieldInfo, Schema, TypeInfo
from closecsv.close.shapes import TypeEntry
from closecsv.exporting.sync_state import FieldSig, TypeState

SHARED_PATH = "custom_field/shared/"

Listings = dict[str, list[FieldSig]]


def read_types(api: SearchApi, schema: Schema, kind: Kind) -> tuple[list[TypeEntry], Listings]:
    """Every type of ``kind`` (from one request) and each one's listing signature."""
    body = api.get(kind.type_list_path)
    schema.prime(kind, body)
    shared = api.get(SHARED_PATH).get("data")
    shared_fields = [f for f in shared if isinstance(f, dict)] if isinstance(shared, list) else []
    raws = [r for r in body.get("data") or [] if isinstance(r, dict)]
    listings = {str(r.get("id")): _listing(r, shared_fields, kind) for r in raws}
    return schema.raw_types(kind), listings


def _sig(field: Mapping[str, Any]) -> FieldSig:
    multiple = bool(field.get("accepts_multiple_values"))
    return (str(field.get("id")), str(field.get("name")), str(field.get("type")), multiple)


def _listing(raw: Mapping[str, Any], shared: list[dict[str, Any]], kind: Kind) -> list[FieldSig]:
    fields = raw.get("fields")
    own = [_sig(f) for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []
    type_id = raw.get("id")
    mine = sorted(
        _sig(f)
        for f in shared
        if any(
            isinstance(a, dict) and a.get(kind.type_id_key) == type_id
            for a in f.get("associations") or []
        )
    )
    return own + mine


def select_entries(
    schema: Schema, kind: Kind, entries: list[TypeEntry], refs: Iterable[str], archived: bool
) -> list[TypeEntry]:
    """The types named by ``--type`` (exact name or id; anything else is asked of the schema,
    which raises the usual error), or every type (archived ones on request)."""
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return [e for e in entries if archived or not e.is_archived]
    chosen: dict[str, TypeEntry] = {}
    for ref in wanted:
        by_id = [e for e in entries if e.id == ref]
        by_name = [e for e in entries if e.name == ref]
        found = by_id or (by_name if len(by_name) == 1 else [])
        if not found:  # the schema raises the unknown / ambiguous type error
            known = schema.find(kind, ref).id
            found = [e for e in entries if e.id == known]
        chosen.setdefault(found[0].id, found[0])
    return list(chosen.values())


def saved_info(kind: Kind, entry: TypeEntry, saved: TypeState) -> TypeInfo:
    """A type's fields as the last run saved them (what flattening a row needs)."""
    fields = tuple(FieldInfo(id=i, name=n, type=t, multiple=m) for i, n, t, m in saved.fields)
    name = entry.name if entry.name is not None else entry.id
    archived = bool(entry.is_archived)
    return TypeInfo(kind=kind, id=entry.id, name=name, fields=fields, is_archived=archived)
