"""Recording Close's event log: one event per create, update and delete.

Route handlers call :func:`record` after each write they make.  An event as stored (and, without
its ``_seq``, as ``GET /event/`` answers it)::

    {"id": "ev_…", "date_created": "…", "date_updated": "…", "organization_id": "orga_…",
     "user_id": "user_…", "request_id": "req_…", "api_key_id": "api_…",
     "object_type": "activity.custom_activity", "object_id": "acti_…", "lead_id": "lead_…",
     "action": "created" | "updated" | "deleted",
     "changed_fields": [...],   # updated: the keys whose value changed, sorted; else []
     "data": {...} | None,      # the object as the API returns it after the write; None on delete
     "previous_data": {...},    # updated: the changed keys' values before; else {}
     "meta": {"request_method": "PUT", "request_path": "/api/v1/activity/custom/…/"}}

Consolidation (Close: "event consolidation of multiple recent events to the same object may
occur"): a write is folded into the newest event of the same object instead of adding one when
that event is a ``created`` or ``updated`` one, was first written less than
``state.event_merge_seconds`` (10 s by default; 0 turns it off) before, by the same user, key and
lead, and the new action is ``updated``.  The folded event keeps its ``id``, ``action`` and
``date_created``; ``date_updated`` moves to now and ``data`` becomes the new data; an
``updated`` event also gains the new ``changed_fields``, and ``previous_data`` keeps the oldest
value of each field.  A ``deleted`` event is never folded, and nothing is folded into one.

Retention: events whose ``date_updated`` is 30 days or more before the sandbox's clock are
invisible to ``GET /event/`` and removed from the store at the next write that records one.
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from typing import Any

from closecsv.sandbox.event_index import EVENTS, Key
from closecsv.sandbox.ids import iso, seed_id
from closecsv.sandbox.listing import Request
from closecsv.sandbox.state import State
from closecsv.sandbox.values import parse_datetime

Obj = dict[str, Any]
RETENTION = timedelta(days=30)
PRIVATE_AFTER = timedelta(hours=1)
ACTIVITY = "activity.custom_activity"
OBJECT = "custom_object"
LAST_SEQ = 2**63  # above any event's seq


def diff(before: Obj, after: Obj) -> tuple[list[str], Obj]:
    """``(changed_fields, previous_data)`` between two renderings of one object."""
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return changed, {k: before.get(k) for k in changed}


def expired(event: Obj, now: datetime) -> bool:
    return bool(event["date_updated"] <= iso(now - RETENTION))


def expired_count(keys: list[Key], now: datetime) -> int:
    """How many of the sorted event keys are past retention (they come first)."""
    return bisect.bisect_right(keys, (iso(now - RETENTION), LAST_SEQ, ""))


def _prune(state: State, now: datetime) -> None:
    """Remove the events past retention (the oldest end of the index)."""
    keys = state.event_index.keys()
    for eid in [key[2] for key in keys[: expired_count(keys, now)]]:
        state.delete(EVENTS, eid)


def _request_id(req: Request) -> str:
    if req.request_id is None:
        req.request_id = req.state.new_id("req")
    return req.request_id


def _foldable(req: Request, latest: Obj | None, action: str, lead_id: str | None) -> bool:
    window = req.state.event_merge_seconds
    if latest is None or window <= 0 or action != "updated":
        return False
    if latest["action"] not in ("created", "updated"):
        return False
    same = (latest["user_id"], latest["api_key_id"], latest["lead_id"]) == (
        req.user_id,
        req.api_key_id,
        lead_id,
    )
    age = req.now() - parse_datetime(latest["date_created"])
    return same and timedelta(0) <= age < timedelta(seconds=window)


def _fold(req: Request, latest: Obj, data: Obj | None, changed: list[str], prev: Obj) -> None:
    event = dict(latest)
    event["date_updated"] = req.stamp()
    event["_seq"] = req.state.event_index.next_seq()
    event["data"] = data
    event["request_id"] = _request_id(req)
    if event["action"] == "updated":
        event["changed_fields"] = sorted(set(event["changed_fields"]) | set(changed))
        event["previous_data"] = {**prev, **event["previous_data"]}
    req.state.put(EVENTS, event)


def record(
    req: Request,
    object_type: str,
    object_id: str,
    action: str,
    *,
    lead_id: str | None,
    data: Obj | None,
    before: Obj | None = None,
    meta: Obj | None = None,
) -> None:
    """Log one write of ``object_id``; ``before`` is its rendering before an update."""
    state, now = req.state, req.now()
    _prune(state, now)
    changed, prev = diff(before or {}, data or {}) if action == "updated" else ([], {})
    if action == "updated" and not changed:
        return  # a PUT that changed nothing
    latest = state.event_index.latest(object_id)
    if latest is not None and _foldable(req, latest, action, lead_id):
        _fold(req, latest, data, changed, prev)
        return
    seq = state.event_index.next_seq()
    stamp = iso(now)
    event: Obj = {
        "id": seed_id("ev", f"{state.seed}:{seq}"),
        "_seq": seq,
        "date_created": stamp,
        "date_updated": stamp,
        "organization_id": state.org["id"],
        "user_id": req.user_id,
        "request_id": _request_id(req),
        "api_key_id": req.api_key_id,
        "object_type": object_type,
        "object_id": object_id,
        "lead_id": lead_id,
        "action": action,
        "changed_fields": changed,
        "data": data,
        "previous_data": prev,
        "meta": {
            "request_method": req.method,
            "request_path": f"/api/v1/{req.path}",
            **(meta or {}),
        },
    }
    state.put(EVENTS, event)


def is_admin(state: State, user_id: str) -> bool:
    return any(uid == user_id and role == "admin" for uid, role in state.org["active"])


def render(req: Request, event: Obj) -> Obj:
    """The event as the API shows it to the key's user (Close's privacy rule: for a user who
    is not an admin, ``data`` and ``previous_data`` are null once the event is an hour old)."""
    out = {k: v for k, v in event.items() if not k.startswith("_")}
    old = req.now() - parse_datetime(event["date_created"]) >= PRIVATE_AFTER
    if old and not is_admin(req.state, req.user_id):
        out["data"] = out["previous_data"] = None
    return out
