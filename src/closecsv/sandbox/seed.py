"""The seed org of the sandbox (docs/ARCHITECTURE.md, "Seed org"), built in code.

Users (Ada Lovelace owns the key; Alan Turing is inactive), 60 leads with 1-2 contacts each
(emails, E.164 phones; two leads named "Globex"; ``shared@example.net`` on two leads), the
types of :mod:`seed_types`, three Deals and a Subscription, and five custom activities on the
first leads (one a draft).  Ids are fixed (:mod:`ids`), so the seed is the same everywhere.
"""

from __future__ import annotations

from datetime import timedelta

from closecsv.sandbox.ids import (
    ADA,
    ALAN,
    DEAL,
    DISCOVERY,
    GRACE,
    ORG_ID,
    REGION,
    SEED_EPOCH,
    SUBSCRIPTION,
    SUPPORT,
    Collections,
    Obj,
    iso,
    seed_id,
)
from closecsv.sandbox.seed_types import add_types, field_key

COLLECTIONS = (
    "users",
    "leads",
    "contacts",
    "activity_types",
    "fields",
    "custom_activities",
    "object_types",
    "custom_objects",
    "events",
)

_USERS = ((ADA, "Ada", "Lovelace", "ada"), (GRACE, "Grace", "Hopper", "grace"))
_USERS_INACTIVE = ((ALAN, "Alan", "Turing", "alan"),)

_COMPANIES = (
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka Industries",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay Industries",
    "Pied Piper",
    "Aperture Science",
    "Black Mesa",
    "Oscorp",
    "Gringotts",
    "Monsters Inc",
    "Duff Beer",
    "Krusty Krab",
    "Dunder Mifflin",
    "Sterling Cooper",
    "Prestige Worldwide",
    "Bluth Company",
    "Los Pollos Hermanos",
    "Massive Dynamic",
    "Nakatomi Trading",
    "Omni Consumer",
    "Rekall",
    "Planet Express",
)
_FIRST = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Gina", "Hank", "Ivy", "Jack", "Kim")
_LAST = ("Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark")


def _user(uid: str, first: str, last: str, handle: str, n: int) -> Obj:
    stamp = iso(SEED_EPOCH - timedelta(days=400 - n))
    return {
        "id": uid,
        "first_name": first,
        "last_name": last,
        "email": f"{handle}@example.com",
        "image": None,
        "date_created": stamp,
        "date_updated": stamp,
        "organizations": [ORG_ID],
        "last_used_timezone": "UTC",
        "email_verified_at": stamp,
    }


def _lead_name(i: int) -> str:
    """Lead 1 and lead 30 are both "Globex" (an ambiguous name)."""
    base = "Globex" if i == 30 else _COMPANIES[i % len(_COMPANIES)]
    return base if i <= len(_COMPANIES) else f"{base} {i // len(_COMPANIES) + 1}"


def _contact(lead_id: str, i: int, j: int, moment: str) -> Obj:
    first, last = _FIRST[(i + j) % len(_FIRST)], _LAST[(i * 2 + j) % len(_LAST)]
    email = f"{first}.{last}{i}{j}@example.org".lower()
    if (i, j) == (11, 0):
        email = "shared@example.net"  # the same address on lead 10 and lead 11
    if (i, j) == (10, 0):
        email = "shared@example.net"
    phone = f"+1415555{1000 + i * 2 + j:04d}"
    return {
        "id": seed_id("cont", f"cont-{i}-{j}"),
        "lead_id": lead_id,
        "name": f"{first} {last}",
        "display_name": f"{first} {last}",
        "title": "Buyer" if j else "Founder",
        "emails": [{"email": email, "type": "office", "is_unsubscribed": False}],
        "phones": [
            {
                "phone": phone,
                "phone_formatted": f"+1 415-555-{phone[-4:]}",
                "type": "office",
                "country": "US",
                "tz_ids": ["America/Los_Angeles"],
                "outbound_sms_blocked": False,
            }
        ],
        "urls": [],
        "date_created": moment,
        "date_updated": moment,
        "created_by": ADA,
        "updated_by": ADA,
        "organization_id": ORG_ID,
    }


def _leads_and_contacts(cols: Collections) -> None:
    for i in range(60):
        lead_id = seed_id("lead", f"lead-{i}")
        moment = iso(SEED_EPOCH + timedelta(hours=i))
        cols["leads"][lead_id] = {
            "id": lead_id,
            "name": _lead_name(i),
            "display_name": _lead_name(i),
            "description": "",
            "url": None,
            "status_id": seed_id("stat", "potential"),
            "status_label": "Potential",
            "organization_id": ORG_ID,
            "date_created": moment,
            "date_updated": moment,
            "created_by": ADA,
            "updated_by": ADA,
        }
        for j in range(1 if i % 3 else 2):
            contact = _contact(lead_id, i, j, moment)
            cols["contacts"][contact["id"]] = contact


def _cf(type_key: str, name: str) -> str:
    return "custom." + seed_id("cf", field_key(type_key, name))


def _instances(cols: Collections) -> None:
    leads = [seed_id("lead", f"lead-{i}") for i in range(4)]
    for n, (lead, name, amount, stage) in enumerate(
        (
            (leads[0], "Acme expansion", 12000, "Negotiation"),
            (leads[1], "Globex pilot", 4500, "Prospect"),
            (leads[2], "Initech renewal", 900.5, "Won"),
        )
    ):
        moment = iso(SEED_EPOCH + timedelta(days=1, hours=n))
        oid = seed_id("custobj", f"deal-{n}")
        cols["custom_objects"][oid] = {
            "id": oid,
            "custom_object_type_id": DEAL,
            "lead_id": lead,
            "name": name,
            "organization_id": ORG_ID,
            "created_by": ADA,
            "updated_by": ADA,
            "date_created": moment,
            "date_updated": moment,
            _cf("deal", "Amount"): amount,
            _cf("deal", "Stage"): stage,
        }
    sub = seed_id("custobj", "subscription-0")
    moment = iso(SEED_EPOCH + timedelta(days=1, hours=5))
    cols["custom_objects"][sub] = {
        "id": sub,
        "custom_object_type_id": SUBSCRIPTION,
        "lead_id": leads[0],
        "name": "Acme plan",
        "organization_id": ORG_ID,
        "created_by": ADA,
        "updated_by": ADA,
        "date_created": moment,
        "date_updated": moment,
        _cf("subscription", "Plan"): "Growth",
        _cf("subscription", "Seats"): 25,
    }
    _activities(cols, leads)


def _activity(n: int, lead: str, tid: str, status: str, values: Obj) -> Obj:
    moment = iso(SEED_EPOCH + timedelta(days=2, hours=n))
    return {
        "id": seed_id("acti", f"acti-{n}"),
        "_type": "CustomActivity",
        "custom_activity_type_id": tid,
        "lead_id": lead,
        "contact_id": None,
        "user_id": ADA,
        "status": status,
        "pinned": False,
        "organization_id": ORG_ID,
        "created_by": ADA,
        "updated_by": ADA,
        "date_created": moment,
        "date_updated": moment,
        "activity_at": moment,
        "users": [],
        **values,
    }


def _activities(cols: Collections, leads: list[str]) -> None:
    first_contact = seed_id("cont", "cont-0-0")
    deal0 = seed_id("custobj", "deal-0")
    rows: tuple[tuple[str, str, str, Obj], ...] = (
        (
            leads[0],
            DISCOVERY,
            "published",
            {
                _cf("discovery-call", "Outcome"): "Interested",
                _cf("discovery-call", "Duration (min)"): 30,
                _cf("discovery-call", "Notes"): "Asked about pricing.\nWants a demo.",
                _cf("discovery-call", "Attendees"): [ADA, GRACE],
                _cf("discovery-call", "Products"): ["Core", "API"],
                _cf("discovery-call", "Primary Contact"): first_contact,
                _cf("discovery-call", "Related Deal"): deal0,
                _cf("discovery-call", "Reference Code"): "REF-0001",
                "custom." + REGION: "NA",
            },
        ),
        (
            leads[1],
            DISCOVERY,
            "published",
            {
                _cf("discovery-call", "Outcome"): "Follow up",
                _cf("discovery-call", "Reference Code"): "REF-0002",
                _cf("discovery-call", "Follow-up At"): "2024-02-01T15:00:00+00:00",
            },
        ),
        (leads[3], DISCOVERY, "draft", {_cf("discovery-call", "Notes"): "Draft notes"}),
        (
            leads[0],
            SUPPORT,
            "published",
            {
                _cf("support-ticket", "Ticket ID"): "T-100",
                _cf("support-ticket", "Priority"): "High",
                "custom." + REGION: "EMEA",
            },
        ),
        (
            leads[2],
            SUPPORT,
            "published",
            {
                _cf("support-ticket", "Ticket ID"): "T-101",
                _cf("support-ticket", "Resolved On"): "2024-01-20",
            },
        ),
    )
    for n, (lead, tid, status, values) in enumerate(rows):
        act = _activity(n, lead, tid, status, values)
        cols["custom_activities"][act["id"]] = act


def build_seed() -> tuple[Collections, Obj]:
    """The seed collections and the org record (with memberships)."""
    cols: Collections = {name: {} for name in COLLECTIONS}
    for n, (uid, first, last, handle) in enumerate(_USERS + _USERS_INACTIVE):
        cols["users"][uid] = _user(uid, first, last, handle, n)
    _leads_and_contacts(cols)
    add_types(cols)
    _instances(cols)
    org: Obj = {
        "id": ORG_ID,
        "name": "Sandbox Corp",
        "active": [[ADA, "admin"], [GRACE, "user"]],
        "inactive": [[ALAN, "user"]],
        "lead_statuses": [{"id": seed_id("stat", "potential"), "label": "Potential"}],
        "date_created": iso(SEED_EPOCH - timedelta(days=500)),
    }
    return cols, org
