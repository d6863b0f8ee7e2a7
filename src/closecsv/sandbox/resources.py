"""Read-only resources: users, organization, leads, contacts, types, custom fields
(docs/CLOSE_API.md).

Rendering rules that Close follows and the sandbox copies:

- a custom activity type's ``fields[]`` carry no ``choices`` (§5.6, §8.9);
- ``/custom_field/activity/`` omits shared fields; ``/custom_field/shared/`` lists them with
  ``associations``; ``/custom_field_schema/...`` gives full definitions, shared ones included,
  in the type's order (§5.7);
- ``/custom_field/custom_object_type/`` and ``/custom_object_type/`` answer ``data`` without
  ``has_more`` (§2.1, [LIVE]); ``/custom_activity/`` and ``/custom_field/shared/`` (documented
  without ``_skip``/``_limit``: "list all") answer every item with ``has_more: false``; every
  other list pages with ``_skip``/``_limit`` and an exact ``has_more`` (:mod:`listing`);
- every field definition carries ``referenced_custom_type_id`` (``null`` unless the field
  references a custom object type), as Close answers it.
"""

from __future__ import annotations

import re
from typing import Any

from closecsv.sandbox.errors import not_found
from closecsv.sandbox.lead_shape import contact_shape, lead_shape
from closecsv.sandbox.listing import Request, listing, select_fields, sort_newest
from closecsv.sandbox.state import State
from closecsv.sandbox.values import field_for_type, field_out

Obj = dict[str, Any]
_TYPE_FIELD_KEYS = (
    "id",
    "name",
    "description",
    "type",
    "accepts_multiple_values",
    "required",
    "is_shared",
    "editable_with_roles",
    "converting_to_type",
    "referenced_custom_type_id",
)


def full_name(state: State, uid: str | None) -> str | None:
    user = state.users.get(uid or "")
    return None if user is None else f"{user['first_name']} {user['last_name']}"


def render_user(state: State, user: Obj) -> Obj:
    return dict(user)


def render_contact(state: State, contact: Obj) -> Obj:
    return contact_shape(contact)


def render_lead(state: State, lead: Obj) -> Obj:
    """The lead with its contacts, as Close's ``Lead`` schema has it (:mod:`lead_shape`)."""
    contacts = sort_oldest(state.contacts[c] for c in state.children("contacts", lead["id"]))
    users = {lead.get("created_by") or "", lead.get("updated_by") or ""}
    names = {uid: full_name(state, uid) for uid in users}
    return lead_shape(lead, [render_contact(state, c) for c in contacts], names)


def sort_oldest(objs: Any) -> list[Obj]:
    return sorted(objs, key=lambda o: (o["date_created"], o["id"]))


def render_type(state: State, typ: Obj) -> Obj:
    out = {k: v for k, v in typ.items() if k != "field_ids"}
    out["fields"] = [
        {k: v for k, v in field_for_type(state, fid, typ["id"]).items() if k in _TYPE_FIELD_KEYS}
        for fid in typ["field_ids"]
    ]
    return out


def render_object_type(state: State, typ: Obj) -> Obj:
    out = render_type(state, typ)
    out["fields"] = [field_for_type(state, fid, typ["id"]) for fid in typ["field_ids"]]
    out["back_reference_fields"] = [
        field_out(f)
        for f in state.fields.values()
        if f.get("referenced_custom_type_id") == typ["id"]
    ]
    return out


def get_me(req: Request) -> Obj:
    user = render_user(req.state, req.state.users[req.user_id])
    user["organizations"] = [{"id": req.state.org["id"], "name": req.state.org["name"]}]
    return select_fields(user, req.query.get("_fields"))


def list_users(req: Request) -> Obj:
    return listing(req, (render_user(req.state, u) for u in sort_oldest(req.state.users.values())))


def get_user(req: Request, uid: str) -> Obj:
    user = req.state.users.get(uid)
    if user is None:
        raise not_found(f"User {uid} not found.")
    return select_fields(render_user(req.state, user), req.query.get("_fields"))


def _membership(state: State, uid: str, role: str, expand: bool) -> Obj:
    user = state.users[uid]
    member: Obj = {
        "id": f"mem{uid.removeprefix('user')}",
        "organization_id": state.org["id"],
        "role_id": role,
        "auto_record_calls": "unset",
    }
    if expand:
        member["user"] = render_user(state, user)
    else:
        member.update(
            {
                "user_id": uid,
                "user_email": user["email"],
                "user_first_name": user["first_name"],
                "user_last_name": user["last_name"],
                "user_full_name": full_name(state, uid),
            }
        )
    return member


def get_organization(req: Request, oid: str) -> Obj:
    org = req.state.org
    if oid != org["id"]:
        raise not_found(f"Organization {oid} not found.")
    expand = req.query.get("_expand", "")
    out = {k: v for k, v in org.items() if k not in ("active", "inactive")}
    out["memberships"] = [
        _membership(req.state, u, r, "memberships__user" in expand.split(","))
        for u, r in org["active"]
    ]
    out["inactive_memberships"] = [
        _membership(req.state, u, r, "inactive_memberships__user" in expand.split(","))
        for u, r in org["inactive"]
    ]
    return select_fields(out, req.query.get("_fields"))


def _lead_matches(state: State, lead: Obj, query: str) -> bool:
    """The deprecated ``query`` string: ``email:x``, ``name:x`` / ``name:"x y"``, or words."""
    contacts = [state.contacts[c] for c in state.children("contacts", lead["id"])]
    match = re.fullmatch(r'\s*(email|name|phone):"?([^"]*)"?\s*', query)
    if match and match.group(1) == "email":
        wanted = match.group(2).lower()
        return any(e["email"].lower() == wanted for c in contacts for e in c["emails"])
    if match and match.group(1) == "phone":
        return any(p["phone"] == match.group(2) for c in contacts for p in c["phones"])
    if match:
        return bool(lead["name"].lower() == match.group(2).lower())
    haystack = " ".join(
        [lead["name"]]
        + [c["name"] for c in contacts]
        + [e["email"] for c in contacts for e in c["emails"]]
        + [p["phone"] for c in contacts for p in c["phones"]]
    ).lower()
    return all(word in haystack for word in query.lower().split())


def list_leads(req: Request) -> Obj:
    query = req.query.get("query")
    leads = sort_newest(req.state.leads.values())
    if query:
        leads = [lead for lead in leads if _lead_matches(req.state, lead, query)]
    out = listing(req, leads, cap="lead", render=lambda lead: render_lead(req.state, lead))
    if query is not None:
        out["total_results"] = len(leads)
    return out


def get_lead(req: Request, lid: str) -> Obj:
    lead = req.state.leads.get(lid)
    if lead is None:
        raise not_found(f"Lead {lid} not found.")
    return select_fields(render_lead(req.state, lead), req.query.get("_fields"))


def list_contacts(req: Request) -> Obj:
    lead_ids = req.ids("lead_id")
    state = req.state
    ids = (
        state.contacts
        if lead_ids is None
        else [c for lid in lead_ids for c in state.children("contacts", lid)]
    )
    contacts = sort_newest(state.contacts[c] for c in ids)
    return listing(req, contacts, render=lambda contact: render_contact(state, contact))


def get_contact(req: Request, cid: str) -> Obj:
    contact = req.state.contacts.get(cid)
    if contact is None:
        raise not_found(f"Contact {cid} not found.")
    return select_fields(render_contact(req.state, contact), req.query.get("_fields"))


def _everything(req: Request, objs: list[Obj]) -> Obj:
    """A "list all" endpoint (no ``_skip``/``_limit`` in Close's docs): every item, and
    ``has_more: false`` so that a client paging ``while has_more`` stops (Close's own
    ``clone_organization.py`` pages ``custom_field/shared/`` that way)."""
    fields = req.query.get("_fields")
    return {"data": [select_fields(o, fields) for o in objs], "has_more": False}


def list_activity_types(req: Request) -> Obj:
    types = sort_oldest(req.state.activity_types.values())
    return _everything(req, [render_type(req.state, t) for t in types])


def get_activity_type(req: Request, tid: str) -> Obj:
    typ = req.state.activity_types.get(tid)
    if typ is None:
        raise not_found(f"Custom activity type {tid} not found.")
    return render_type(req.state, typ)


def list_object_types(req: Request) -> Obj:
    types = sort_oldest(req.state.object_types.values())
    return {"data": [render_object_type(req.state, t) for t in types]}


def get_object_type(req: Request, tid: str) -> Obj:
    typ = req.state.object_types.get(tid)
    if typ is None:
        raise not_found(f"Custom object type {tid} not found.")
    return render_object_type(req.state, typ)


def _owned_fields(state: State, key: str) -> list[Obj]:
    return sort_oldest(f for f in state.fields.values() if not f.get("is_shared") and key in f)


def list_activity_fields(req: Request) -> Obj:
    return listing(req, _owned_fields(req.state, "custom_activity_type_id"), render=field_out)


def list_shared_fields(req: Request) -> Obj:
    shared = sort_oldest(f for f in req.state.fields.values() if f.get("is_shared"))
    return _everything(req, [field_out(f) for f in shared])


def list_record_fields(req: Request) -> Obj:
    """``custom_field/lead/``, ``/contact/``, ``/opportunity/``: the sandbox org has no custom
    fields on leads, contacts or opportunities (connectors read these lists to build schemas)."""
    return listing(req, [])


def list_object_fields(req: Request) -> Obj:
    return {"data": [field_out(f) for f in _owned_fields(req.state, "custom_object_type_id")]}


def activity_schema(req: Request, tid: str) -> Obj:
    typ = req.state.activity_types.get(tid)
    if typ is None:
        raise not_found(f"Custom activity type {tid} not found.")
    return {"fields": [field_for_type(req.state, f, tid) for f in typ["field_ids"]]}


def object_schema(req: Request, tid: str) -> Obj:
    typ = req.state.object_types.get(tid)
    if typ is None:
        raise not_found(f"Custom object type {tid} not found.")
    return {"fields": [field_for_type(req.state, f, tid) for f in typ["field_ids"]]}
