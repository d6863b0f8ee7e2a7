"""Creating, updating and deleting custom activity types and custom object types
(schema_writes.py describes the rules), and the routes of both modules."""

from __future__ import annotations

from typing import Any

from closecsv.sandbox.errors import field_error, not_found
from closecsv.sandbox.events import record
from closecsv.sandbox.listing import Request
from closecsv.sandbox.resources import render_object_type, render_type
from closecsv.sandbox.schema_writes import (
    ACTIVITY,
    OBJECT,
    Kind,
    body_of,
    create_field,
    delete_field,
    flag,
    get_field,
    roles,
    text,
    update_field,
)

Obj = dict[str, Any]
Handler = Any


def _render(req: Request, kind: Kind, typ: Obj) -> Obj:
    return (render_type if kind is ACTIVITY else render_object_type)(req.state, typ)


def _type_options(kind: Kind, typ: Obj, body: Obj) -> None:
    if "name" in body:
        typ["name"] = text(body, "name", required=True)
    if kind is OBJECT and "name_plural" in body:
        typ["name_plural"] = text(body, "name_plural", required=True)
    if "description" in body:
        typ["description"] = text(body, "description")
    for key in ("api_create_only", "is_archived"):
        if key in body:
            typ[key] = flag(body, key)
    if "editable_with_roles" in body:
        typ["editable_with_roles"] = roles(body)


def _find(req: Request, kind: Kind, tid: str) -> Obj:
    typ = req.state.collections[kind.types].get(tid)
    if typ is None:
        raise not_found(f"Type {tid} not found.")
    return typ


def create_type(req: Request, kind: Kind) -> Obj:
    body, state = body_of(req), req.state
    stamp = req.stamp()
    typ: Obj = {
        "id": "",
        "name": text(body, "name", required=True),
        "description": None,
        "api_create_only": False,
        "editable_with_roles": [],
        "is_archived": False,
        "organization_id": state.org["id"],
        "created_by": req.user_id,
        "updated_by": req.user_id,
        "date_created": stamp,
        "date_updated": stamp,
        "field_ids": [],
    }
    if kind is OBJECT:
        typ["name_plural"] = text(body, "name_plural", required=True)
    _type_options(kind, typ, body)
    typ["id"] = state.new_id("actitype" if kind is ACTIVITY else "cotype")
    state.put(kind.types, typ)
    shown = _render(req, kind, typ)
    record(req, kind.type_event, typ["id"], "created", lead_id=None, data=shown)
    return shown


def update_type(req: Request, kind: Kind, tid: str) -> Obj:
    body, old = body_of(req), _find(req, kind, tid)
    before = _render(req, kind, old)
    typ = dict(old)
    _type_options(kind, typ, body)
    typ["date_updated"], typ["updated_by"] = req.stamp(), req.user_id
    req.state.put(kind.types, typ)
    shown = _render(req, kind, typ)
    record(req, kind.type_event, tid, "updated", lead_id=None, data=shown, before=before)
    return shown


def delete_type(req: Request, kind: Kind, tid: str) -> None:
    state, typ = req.state, _find(req, kind, tid)
    users = [f["name"] for f in state.fields.values() if f.get("referenced_custom_type_id") == tid]
    if users:
        raise field_error(
            "id",
            f"Fields still reference this type ({', '.join(sorted(users))}): delete them first.",
        )
    for oid in [
        o["id"] for o in state.collections[kind.instances].values() if o[kind.owner] == tid
    ]:
        state.delete(kind.instances, oid)
    for fid in typ["field_ids"]:
        field = state.fields[fid]
        if field.get("is_shared"):
            assoc = [a for a in field.get("associations", []) if a.get(kind.owner) != tid]
            state.put("fields", {**field, "associations": assoc})
        else:
            state.delete("fields", fid)
    state.delete(kind.types, tid)
    record(req, kind.type_event, tid, "deleted", lead_id=None, data=None)


def _bind(fn: Any, kind: Kind) -> Handler:
    def handler(req: Request, *args: str) -> Any:
        return fn(req, kind, *args)

    return handler


def schema_routes(id_pattern: str) -> list[tuple[str, dict[str, Handler]]]:
    """The write routes (added to the read ones of the same paths in routes.py)."""
    table: list[tuple[str, dict[str, Handler]]] = []
    for kind, fields, types in (
        (ACTIVITY, "custom_field/activity/", "custom_activity/"),
        (OBJECT, "custom_field/custom_object_type/", "custom_object_type/"),
    ):
        table.append((fields, {"POST": _bind(create_field, kind)}))
        table.append(
            (
                f"{fields}{id_pattern}/",
                {
                    "GET": _bind(get_field, kind),
                    "PUT": _bind(update_field, kind),
                    "DELETE": _bind(delete_field, kind),
                },
            )
        )
        table.append((types, {"POST": _bind(create_type, kind)}))
        table.append(
            (
                f"{types}{id_pattern}/",
                {"PUT": _bind(update_type, kind), "DELETE": _bind(delete_type, kind)},
            )
        )
    return table
