"""Custom activity instances (``/activity/custom/``, ``/activity/``) and custom objects.

As Close documents it (docs/CLOSE_API.md, Writes): create answers 200 for activities, 201 for
objects; a ``PUT`` is a patch and ``null`` clears a field; required fields are checked only when the
activity's status is ``published`` (the default), and always for custom objects; filtering
activities by type, user, contact or ``_type`` needs ``lead_id``; listing objects needs
``lead_id``.  ``date_created`` and ``activity_at`` given on create are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from closecsv.sandbox.errors import REQUIRED, field_error, not_found, validation
from closecsv.sandbox.events import ACTIVITY, OBJECT, record
from closecsv.sandbox.listing import (
    Request,
    date_filters,
    in_range,
    listing,
    newest_first,
    seek_listing,
    select_fields,
    sort_newest,
)
from closecsv.sandbox.resources import full_name
from closecsv.sandbox.state import State
from closecsv.sandbox.values import apply_custom, check_required, require_datetime, required_ids

Obj = dict[str, Any]
ACTS = "custom_activities"
OBJS = "custom_objects"
_LEAD_ONLY = (
    "custom_activity_type_id",
    "custom_activity_type_id__in",
    "user_id",
    "contact_id",
    "user_id__in",
    "contact_id__in",
    "_type",
    "_type__in",
)


def render_activity(state: State, act: Obj) -> Obj:
    out = dict(act)
    out["user_name"] = full_name(state, act["user_id"])
    out["created_by_name"] = full_name(state, act["created_by"])
    out["updated_by_name"] = full_name(state, act["updated_by"])
    return out


def _body(req: Request) -> Obj:
    if not isinstance(req.body, dict):
        raise validation({}, ["The request body must be a JSON object."])
    return req.body


def _id(body: Obj, key: str) -> str | None:
    """``body[key]`` when it is an id (a string) or absent/null; any other JSON value is a 400."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise field_error(key, "Input should be a valid string")
    return value


# -- activities ------------------------------------------------------------------------------
def _lead(state: State, body: Obj) -> str:
    lead_id = _id(body, "lead_id")
    if not lead_id:
        raise field_error("lead_id", REQUIRED)
    if lead_id not in state.leads:
        raise field_error("lead_id", f"Lead {lead_id} does not exist.")
    return str(lead_id)


def _set_common(req: Request, act: Obj, body: Obj) -> None:
    state = req.state
    if "contact_id" in body:
        cid = _id(body, "contact_id")
        if cid is not None and state.contacts.get(cid, {}).get("lead_id") != act["lead_id"]:
            raise field_error("contact_id", f"Contact {cid} does not exist on this lead.")
        act["contact_id"] = cid
    if _id(body, "user_id") is not None:
        if body["user_id"] not in state.users:
            raise field_error("user_id", f"User {body['user_id']} does not exist.")
        act["user_id"] = body["user_id"]
    if "status" in body:
        if body["status"] not in ("draft", "published"):
            raise field_error("status", "Must be one of: draft, published.")
        act["status"] = body["status"]
    if "pinned" in body:
        if not isinstance(body["pinned"], bool):
            raise field_error("pinned", "Must be a boolean.")
        act["pinned"] = body["pinned"]
    act["activity_at"] = require_datetime(body, "activity_at") or act["activity_at"]


def create_activity(req: Request) -> Obj:
    body, state = _body(req), req.state
    tid = _id(body, "custom_activity_type_id")
    typ = state.activity_types.get(tid or "")
    if typ is None:
        raise field_error(
            "custom_activity_type_id",
            REQUIRED if not tid else f"Custom activity type {tid} does not exist.",
        )
    lead_id = _lead(state, body)
    created = require_datetime(body, "date_created") or req.stamp()
    act: Obj = {
        "id": "",
        "_type": "CustomActivity",
        "custom_activity_type_id": tid,
        "lead_id": lead_id,
        "contact_id": None,
        "user_id": req.user_id,
        "status": "published",
        "pinned": False,
        "organization_id": state.org["id"],
        "created_by": req.user_id,
        "updated_by": req.user_id,
        "date_created": created,
        "date_updated": created,
        "activity_at": created,
        "users": [],
    }
    _set_common(req, act, body)
    apply_custom(act, body, state, lead_id, typ)
    if act["status"] == "published":
        check_required(act, required_ids(state, typ))
    act["id"] = state.new_id("acti")
    state.put(ACTS, act)
    shown = render_activity(state, act)
    record(req, ACTIVITY, act["id"], "created", lead_id=lead_id, data=shown)
    return shown


def _find(state: State, coll: str, oid: str) -> Obj:
    obj = state.collections[coll].get(oid)
    if obj is None:
        raise not_found(f"Object {oid} not found.")
    return obj


def _immutable(body: Obj, current: Obj, keys: Iterable[str]) -> None:
    for key in keys:
        if key in body and body[key] != current[key]:
            raise field_error(key, "This field cannot be changed.")


def update_activity(req: Request, aid: str) -> Obj:
    body, state = _body(req), req.state
    act = dict(_find(state, ACTS, aid))
    _immutable(body, act, ("custom_activity_type_id", "lead_id"))
    typ = state.activity_types[act["custom_activity_type_id"]]
    _set_common(req, act, body)
    apply_custom(act, body, state, act["lead_id"], typ)
    if act["status"] == "published":
        check_required(act, required_ids(state, typ))
    act["date_updated"], act["updated_by"] = req.stamp(), req.user_id
    before = render_activity(state, state.custom_activities[aid])
    state.put(ACTS, act)
    shown = render_activity(state, act)
    record(req, ACTIVITY, aid, "updated", lead_id=act["lead_id"], data=shown, before=before)
    return shown


def get_activity(req: Request, aid: str) -> Obj:
    act = render_activity(req.state, _find(req.state, ACTS, aid))
    return select_fields(act, req.query.get("_fields"))


def delete_activity(req: Request, aid: str) -> Obj:
    lead_id = _find(req.state, ACTS, aid)["lead_id"]
    req.state.delete(ACTS, aid)
    record(req, ACTIVITY, aid, "deleted", lead_id=lead_id, data=None)
    return {}


def _lead_activities(req: Request, lead_ids: list[str]) -> Iterator[Obj]:
    created = date_filters(req, "date_created")
    ids = [a for lid in lead_ids for a in req.state.children(ACTS, lid)]
    acts = (req.state.custom_activities[a] for a in ids)
    return iter(sort_newest(a for a in acts if in_range(a["date_created"], created)))


def _needs_lead(req: Request, keys: Iterable[str]) -> None:
    if req.query.get("lead_id") or req.query.get("lead_id__in"):
        return
    for key in keys:
        if key in req.query:
            raise validation(
                {key: "This filter can only be used together with lead_id."},
                [f"Filtering by {key} requires the lead_id parameter."],
            )


def _matcher(req: Request) -> Callable[[Obj], bool] | None:
    """The filters other than ``lead_id`` and ``date_created``, or None when there are none."""
    types = req.ids("custom_activity_type_id") or req.ids("custom_activity_type_id__in")
    kinds = req.ids("_type") or req.ids("_type__in")
    if kinds is not None and "Custom" not in kinds:
        types = (types or []) + [k for k in kinds if k.startswith("actitype_")]
    users = req.ids("user_id") or req.ids("user_id__in")
    contacts = req.ids("contact_id") or req.ids("contact_id__in")
    id_in = req.ids("id__in")
    at = date_filters(req, "activity_at")
    if types is None and users is None and contacts is None and id_in is None and not at:
        return None

    def match(act: Obj) -> bool:
        return (
            (types is None or act["custom_activity_type_id"] in types)
            and (users is None or act["user_id"] in users)
            and (contacts is None or act["contact_id"] in contacts)
            and (id_in is None or act["id"] in id_in)
            and in_range(act.get("activity_at"), at)
        )

    return match


def list_activities(req: Request) -> Obj:
    """Newest first; without filters the page is cut from the sorted index, so a deep
    ``_skip`` costs a bisection, not a walk over the skipped activities."""
    _needs_lead(req, _LEAD_ONLY[:6])
    state, match = req.state, _matcher(req)
    lead_ids = req.ids("lead_id") or req.ids("lead_id__in")

    def render(act: Obj) -> Obj:
        return render_activity(state, act)

    id_in = req.ids("id__in")
    if lead_ids is not None:
        source = _lead_activities(req, lead_ids)
    elif id_in is not None:  # looked up by id, not found by a walk over every activity
        created = date_filters(req, "date_created")
        acts = (state.custom_activities.get(a) for a in set(id_in))
        source = iter(sort_newest(a for a in acts if a and in_range(a["date_created"], created)))
    else:
        created = date_filters(req, "date_created")
        if match is None:
            return seek_listing(
                req, lambda skip: newest_first(state, ACTS, created, skip), "activity", render
            )
        source = newest_first(state, ACTS, created)
    chosen = source if match is None else filter(match, source)
    return listing(req, chosen, cap="activity", render=render)


def list_all_activities(req: Request) -> Obj:
    """``GET /activity/``: the sandbox holds only custom activities, so only they are listed."""
    _needs_lead(req, _LEAD_ONLY)
    kinds = req.ids("_type") or req.ids("_type__in")
    if kinds is not None and not any(k == "Custom" or k.startswith("actitype_") for k in kinds):
        return {"data": [], "has_more": False}
    return list_activities(req)


# -- custom objects ----------------------------------------------------------------------------
def list_objects(req: Request) -> Obj:
    lead_ids = req.ids("lead_id")
    if not lead_ids:
        raise validation({"lead_id": "The lead_id parameter is required."})
    types = req.ids("custom_object_type_id")
    objs = (req.state.custom_objects[o] for lid in lead_ids for o in req.state.children(OBJS, lid))
    chosen = sort_newest(o for o in objs if types is None or o["custom_object_type_id"] in types)
    return listing(req, chosen)


def create_object(req: Request) -> Obj:
    body, state = _body(req), req.state
    missing = {k: REQUIRED for k in ("custom_object_type_id", "lead_id", "name") if not body.get(k)}
    if missing:
        raise validation(missing)
    typ = state.object_types.get(_id(body, "custom_object_type_id") or "")
    if typ is None:
        raise field_error("custom_object_type_id", "Custom object type does not exist.")
    lead_id = _lead(state, body)
    now = req.stamp()
    obj: Obj = {
        "id": "",
        "custom_object_type_id": typ["id"],
        "lead_id": lead_id,
        "name": _name(body),
        "organization_id": state.org["id"],
        "created_by": req.user_id,
        "updated_by": req.user_id,
        "date_created": require_datetime(body, "date_created") or now,
        "date_updated": now,
    }
    apply_custom(obj, body, state, lead_id, typ)
    check_required(obj, required_ids(state, typ))
    obj["id"] = state.new_id("custobj")
    state.put(OBJS, obj)
    record(req, OBJECT, obj["id"], "created", lead_id=lead_id, data=dict(obj))
    return obj


def _name(body: Obj) -> str:
    name = body["name"]
    if isinstance(name, bool) or not isinstance(name, str | int | float):
        raise field_error("name", "Enter a valid text value.")
    return str(name)


def update_object(req: Request, oid: str) -> Obj:
    body, state = _body(req), req.state
    obj = dict(_find(state, OBJS, oid))
    _immutable(body, obj, ("custom_object_type_id", "lead_id"))
    typ = state.object_types[obj["custom_object_type_id"]]
    if "name" in body:
        if not body["name"]:
            raise field_error("name", REQUIRED)
        obj["name"] = _name(body)
    apply_custom(obj, body, state, obj["lead_id"], typ)
    check_required(obj, required_ids(state, typ))
    obj["date_updated"], obj["updated_by"] = req.stamp(), req.user_id
    before = state.custom_objects[oid]
    state.put(OBJS, obj)
    record(req, OBJECT, oid, "updated", lead_id=obj["lead_id"], data=dict(obj), before=before)
    return obj


def get_object(req: Request, oid: str) -> Obj:
    return select_fields(_find(req.state, OBJS, oid), req.query.get("_fields"))


def delete_object(req: Request, oid: str) -> None:
    lead_id = _find(req.state, OBJS, oid)["lead_id"]
    req.state.delete(OBJS, oid)
    record(req, OBJECT, oid, "deleted", lead_id=lead_id, data=None)
