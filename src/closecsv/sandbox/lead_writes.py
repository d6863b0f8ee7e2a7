"""``DELETE /lead/{id}/`` and ``POST /lead/merge/``, with the events Close logs for them.

Deleting a lead deletes its contacts, custom activities and custom objects; each gets a
``deleted`` event (``object_type`` ``contact``, ``activity.custom_activity``,
``custom_object``), and the lead one (``lead``).  The answer is 200 with an empty body (as
observed on Close).

Merging ``{"source": lead_A, "destination": lead_B}`` moves A's contacts, custom activities and
custom objects to B (same ids; ``lead_id``, ``date_updated`` and ``updated_by`` change), logs an
``updated`` event for each moved one and a ``deleted`` event for A, all with
``meta.merge_source_lead_id`` / ``meta.merge_destination_lead_id`` (Close puts the merge's lead
ids in ``meta``; its key names are not documented, these are the sandbox's).  Answer: ``{}``.
"""

from __future__ import annotations

from typing import Any

from closecsv.sandbox.errors import field_error, not_found, validation
from closecsv.sandbox.events import ACTIVITY, OBJECT, record
from closecsv.sandbox.instances import render_activity
from closecsv.sandbox.listing import Request
from closecsv.sandbox.state import State

Obj = dict[str, Any]
# collection -> (event object_type, how the API shows one)
_KINDS = {"contacts": "contact", "custom_activities": ACTIVITY, "custom_objects": OBJECT}


def _shown(state: State, coll: str, obj: Obj) -> Obj:
    return render_activity(state, obj) if coll == "custom_activities" else dict(obj)


def delete_lead(req: Request, lid: str) -> None:
    state = req.state
    if lid not in state.leads:
        raise not_found(f"Lead {lid} not found.")
    for coll in ("custom_activities", "custom_objects", "contacts"):
        for oid in sorted(state.children(coll, lid)):
            state.delete(coll, oid)
            record(req, _KINDS[coll], oid, "deleted", lead_id=lid, data=None)
    state.delete("leads", lid)
    record(req, "lead", lid, "deleted", lead_id=lid, data=None)


def _lead_param(req: Request, body: Obj, key: str) -> str:
    value = body.get(key)
    if not value:
        raise field_error(key, "This field is required.")
    if not isinstance(value, str) or value not in req.state.leads:
        raise field_error(key, f"Lead {value} does not exist.")
    return value


def merge_leads(req: Request) -> Obj:
    body = req.body
    if not isinstance(body, dict):
        raise validation({}, ["The request body must be a JSON object."])
    source, destination = _lead_param(req, body, "source"), _lead_param(req, body, "destination")
    if source == destination:
        raise field_error("destination", "A lead cannot be merged into itself.")
    state, stamp = req.state, req.stamp()
    meta = {"merge_source_lead_id": source, "merge_destination_lead_id": destination}
    for coll in ("contacts", "custom_activities", "custom_objects"):
        for oid in sorted(state.children(coll, source)):
            old = state.collections[coll][oid]
            moved = {
                **old,
                "lead_id": destination,
                "date_updated": stamp,
                "updated_by": req.user_id,
            }
            before = _shown(state, coll, old)
            state.put(coll, moved)
            data = _shown(state, coll, moved)
            record(req, _KINDS[coll], oid, "updated", lead_id=destination, data=data,
                   before=before, meta=meta)  # fmt: skip
    state.delete("leads", source)
    record(req, "lead", source, "deleted", lead_id=source, data=None, meta=meta)
    return {}
