"""Bulk data for benchmarks: many leads, activity types, activities and Deals, in seconds.

Added types are named ``Bench Type 1`` … with fields ``Label`` (text, required), ``Count``
(number), ``Day`` (date) and ``Level`` (choices Low/Medium/High).  Activities are spread
evenly over the added types and randomly over the added leads, with ``date_created`` spread
over the year before the seed epoch (so windows on ``date_created`` have work to do).  Ids are
runtime ids (deterministic for a given ``seed`` and history).  The result is persisted with
one snapshot write, not one log line per object.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from closecsv.sandbox.ids import ADA, DEAL, SEED_EPOCH, iso, seed_id
from closecsv.sandbox.seed_types import field_definition, field_key
from closecsv.sandbox.state import State

Obj = dict[str, Any]
_LEVELS = ("Low", "Medium", "High")


def _bench_type(state: State, n: int) -> tuple[str, list[str]]:
    tid = state.new_id("actitype")
    stamp = iso(SEED_EPOCH)
    ids = []
    for name, ftype, extra in (
        ("Label", "text", {"required": True}),
        ("Count", "number", {}),
        ("Day", "date", {}),
        ("Level", "choices", {"choices": list(_LEVELS)}),
    ):
        fid = state.new_id("cf")
        state.fields[fid] = field_definition(
            fid,
            name,
            ftype,
            user=ADA,
            stamp=stamp,
            org_id=state.org["id"],
            custom_activity_type_id=tid,
            **extra,
        )
        ids.append(fid)
    state.put_many(
        "activity_types",
        [
            {
                "id": tid,
                "name": f"Bench Type {n}",
                "description": None,
                "api_create_only": False,
                "editable_with_roles": [],
                "is_archived": False,
                "organization_id": state.org["id"],
                "created_by": ADA,
                "updated_by": ADA,
                "date_created": stamp,
                "date_updated": stamp,
                "field_ids": ids,
            }
        ],
    )
    return tid, ids


def _leads(state: State, count: int, rng: random.Random) -> list[str]:
    leads, contacts = [], []
    org = state.org["id"]
    for n in range(count):
        lid, cid = state.new_id("lead"), state.new_id("cont")
        stamp = iso(SEED_EPOCH - timedelta(seconds=rng.randrange(365 * 86400)))
        name = f"Bench Lead {n}"
        leads.append(
            {
                "id": lid,
                "name": name,
                "display_name": name,
                "description": "",
                "url": None,
                "status_id": seed_id("stat", "potential"),
                "status_label": "Potential",
                "organization_id": org,
                "date_created": stamp,
                "date_updated": stamp,
                "created_by": ADA,
                "updated_by": ADA,
            }
        )
        contacts.append(
            {
                "id": cid,
                "lead_id": lid,
                "name": f"Contact {n}",
                "display_name": f"Contact {n}",
                "title": "",
                "emails": [
                    {"email": f"bench{n}@example.com", "type": "office", "is_unsubscribed": False}
                ],
                "phones": [],
                "urls": [],
                "date_created": stamp,
                "date_updated": stamp,
                "created_by": ADA,
                "updated_by": ADA,
                "organization_id": org,
            }
        )
    state.put_many("leads", leads)
    state.put_many("contacts", contacts)
    return [lead["id"] for lead in leads]


def _activity(state: State, tid: str, fids: list[str], lead: str, rng: random.Random) -> Obj:
    stamp = iso(SEED_EPOCH - timedelta(microseconds=rng.randrange(365 * 86400 * 10**6)))
    return {
        "id": state.new_id("acti"),
        "_type": "CustomActivity",
        "custom_activity_type_id": tid,
        "lead_id": lead,
        "contact_id": None,
        "user_id": ADA,
        "status": "published",
        "pinned": False,
        "organization_id": state.org["id"],
        "created_by": ADA,
        "updated_by": ADA,
        "date_created": stamp,
        "date_updated": stamp,
        "activity_at": stamp,
        "users": [],
        f"custom.{fids[0]}": f"label {rng.randrange(10**6)}",
        f"custom.{fids[1]}": rng.randrange(1000),
        f"custom.{fids[3]}": rng.choice(_LEVELS),
    }


def populate(
    state: State,
    *,
    leads: int,
    activities: int,
    activity_types: int,
    objects: int = 0,
    rng_seed: int = 1,
) -> None:
    """Add bulk data to ``state`` and persist it with one snapshot."""
    if activities and (activity_types < 1 or leads < 1):
        raise ValueError("activities need at least one lead and one activity type")
    rng = random.Random(rng_seed)
    with state.lock:
        lead_ids = _leads(state, leads, rng)
        types = [_bench_type(state, n + 1) for n in range(activity_types)]
        acts = [
            _activity(state, *types[n % len(types)], rng.choice(lead_ids), rng)
            for n in range(activities)
        ]
        state.put_many("custom_activities", acts)
        amount = "custom." + seed_id("cf", field_key("deal", "Amount"))
        objs = []
        for n in range(objects):
            stamp = iso(SEED_EPOCH - timedelta(seconds=rng.randrange(365 * 86400)))
            objs.append(
                {
                    "id": state.new_id("custobj"),
                    "custom_object_type_id": DEAL,
                    "lead_id": rng.choice(lead_ids),
                    "name": f"Bench Deal {n}",
                    "organization_id": state.org["id"],
                    "created_by": ADA,
                    "updated_by": ADA,
                    "date_created": stamp,
                    "date_updated": stamp,
                    amount: rng.randrange(100, 100_000),
                }
            )
        state.put_many("custom_objects", objs)
        state.compact()
