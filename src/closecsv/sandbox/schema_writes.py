"""Schema changes: custom fields of activity and object types, and the types themselves.

As Close documents them (docs/CLOSE_API.md, Custom fields):

- ``POST /custom_field/activity/`` (200) and ``POST /custom_field/custom_object_type/`` (201):
  the owner type id, ``name`` and ``type`` are required; optional ``description`` (at most 280
  characters), ``required``, ``accepts_multiple_values`` (only for ``choices``, ``user``,
  ``contact``, ``custom_object``), ``choices`` (a list of strings, needed by ``choices``
  fields), ``editable_with_roles``, ``referenced_custom_type_id`` (needed by
  ``custom_object`` fields).  ``textarea`` is for activity fields only.  The field is added at
  the end of its type.
- ``PUT …/{id}/``: rename, ``description``, ``required``, ``accepts_multiple_values``,
  ``choices``, ``editable_with_roles``; the type id and ``type`` cannot be changed (400).
- ``DELETE …/{id}/`` (activity 200 ``{}``, object 204): the field disappears and its values are
  removed from every instance of the type.
- ``POST /custom_activity/`` and ``/custom_object_type/`` (201; object types also need
  ``name_plural``), ``PUT …/{id}/`` (``name``, ``description``, ``api_create_only``,
  ``editable_with_roles``, ``is_archived``, object types ``name_plural``), ``DELETE …/{id}/``
  (204): the type, its own fields and its instances go.  The sandbox refuses to delete an
  object type that a ``custom_object`` field still references (Close does not say).

Events (``object_type`` ``custom_activity_type``, ``custom_object_type``,
``custom_fields.activity``) are logged for these writes, with ``lead_id`` null; removing a
field's values or a type's instances logs no instance events.
"""

from __future__ import annotations

from typing import Any

from closecsv.sandbox.errors import REQUIRED, field_error, not_found, validation
from closecsv.sandbox.events import record
from closecsv.sandbox.listing import Request, select_fields
from closecsv.sandbox.seed_types import field_definition
from closecsv.sandbox.values import CONVERTERS

Obj = dict[str, Any]
MULTI_TYPES = ("choices", "user", "contact", "custom_object")
_FIELD_EDITS = ("description", "required", "accepts_multiple_values", "choices")


class Kind:
    """One family: activity types and their fields, or object types and theirs."""

    def __init__(self, types: str, owner: str, instances: str, event: str | None) -> None:
        self.types, self.owner, self.instances, self.field_event = types, owner, instances, event

    @property
    def type_event(self) -> str:
        return "custom_activity_type" if self.types == "activity_types" else "custom_object_type"


ACTIVITY = Kind(
    "activity_types", "custom_activity_type_id", "custom_activities", "custom_fields.activity"
)
OBJECT = Kind("object_types", "custom_object_type_id", "custom_objects", None)


def body_of(req: Request) -> Obj:
    if not isinstance(req.body, dict):
        raise validation({}, ["The request body must be a JSON object."])
    return req.body


def text(body: Obj, key: str, *, required: bool = False, limit: int | None = None) -> Any:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise field_error(key, REQUIRED)
        return None
    if not isinstance(value, str):
        raise field_error(key, "Enter a valid text value.")
    if limit is not None and len(value) > limit:
        raise field_error(key, f"Ensure this value has at most {limit} characters.")
    return value


def flag(body: Obj, key: str) -> bool:
    if not isinstance(body[key], bool):
        raise field_error(key, "Must be a boolean.")
    return bool(body[key])


def roles(body: Obj) -> list[str]:
    roles = body["editable_with_roles"]
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise field_error("editable_with_roles", "Must be a list of role ids.")
    return list(roles)


def _field_options(field: Obj, body: Obj) -> None:
    """Set the editable options given in ``body`` on ``field``, then check they fit together."""
    if "description" in body:
        field["description"] = text(body, "description", limit=280)
    for key in ("required", "accepts_multiple_values"):
        if key in body:
            field[key] = flag(body, key)
    if "editable_with_roles" in body:
        field["editable_with_roles"] = roles(body)
    if "choices" in body:
        choices = body["choices"]
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise field_error("choices", "Must be a list of strings.")
        field["choices"] = list(choices)
    if field["accepts_multiple_values"] and field["type"] not in MULTI_TYPES:
        raise field_error("accepts_multiple_values", f"A {field['type']} field has one value.")
    if field["type"] == "choices" and not field.get("choices"):
        raise field_error("choices", "A choices field needs its choices.")


def _field_type(req: Request, kind: Kind, body: Obj) -> tuple[str, Obj]:
    ftype = text(body, "type", required=True)
    allowed = [t for t in CONVERTERS if kind is ACTIVITY or t != "textarea"]
    if ftype not in allowed:
        raise field_error("type", f"Must be one of: {', '.join(allowed)}.")
    extra: Obj = {}
    if ftype == "custom_object":
        ref = body.get("referenced_custom_type_id")
        if not isinstance(ref, str) or ref not in req.state.object_types:
            raise field_error("referenced_custom_type_id", "Give an existing custom object type.")
        extra["referenced_custom_type_id"] = ref
    return str(ftype), extra


def _owned_field(req: Request, kind: Kind, fid: str) -> Obj:
    field = req.state.fields.get(fid)
    if field is None or field.get("is_shared") or kind.owner not in field:
        raise not_found(f"Custom field {fid} not found.")
    return field


def _log_field(
    req: Request, kind: Kind, fid: str, action: str, data: Obj | None, **kw: Any
) -> None:
    if kind.field_event is not None:
        record(req, kind.field_event, fid, action, lead_id=None, data=data, **kw)


def create_field(req: Request, kind: Kind) -> Obj:
    body, state = body_of(req), req.state
    tid = body.get(kind.owner)
    typ = state.collections[kind.types].get(tid) if isinstance(tid, str) else None
    if typ is None:
        raise field_error(kind.owner, REQUIRED if not tid else f"Type {tid} does not exist.")
    name = text(body, "name", required=True)
    ftype, extra = _field_type(req, kind, body)
    stamp = req.stamp()
    org = state.org["id"]
    extra[kind.owner] = tid
    field = field_definition("", name, ftype, user=req.user_id, stamp=stamp, org_id=org, **extra)
    _field_options(field, body)
    field["id"] = state.new_id("cf")
    state.put("fields", field)
    state.put(kind.types, {**typ, "field_ids": [*typ["field_ids"], field["id"]]})
    _log_field(req, kind, field["id"], "created", dict(field))
    return field


def get_field(req: Request, kind: Kind, fid: str) -> Obj:
    return select_fields(_owned_field(req, kind, fid), req.query.get("_fields"))


def update_field(req: Request, kind: Kind, fid: str) -> Obj:
    body, old = body_of(req), _owned_field(req, kind, fid)
    for key in (kind.owner, "type"):
        if key in body and body[key] != old[key]:
            raise field_error(key, "This field cannot be changed.")
    field = dict(old)
    if "name" in body:
        field["name"] = text(body, "name", required=True)
    _field_options(field, body)
    field["date_updated"], field["updated_by"] = req.stamp(), req.user_id
    req.state.put("fields", field)
    _log_field(req, kind, fid, "updated", dict(field), before=old)
    return field


def delete_field(req: Request, kind: Kind, fid: str) -> Obj | None:
    state, field = req.state, _owned_field(req, kind, fid)
    typ = state.collections[kind.types][field[kind.owner]]
    state.put(kind.types, {**typ, "field_ids": [f for f in typ["field_ids"] if f != fid]})
    key = f"custom.{fid}"
    for obj in list(state.collections[kind.instances].values()):
        if key in obj:
            state.put(kind.instances, {k: v for k, v in obj.items() if k != key})
    state.delete("fields", fid)
    _log_field(req, kind, fid, "deleted", None)
    return {} if kind is ACTIVITY else None
