"""The seed org of the sandbox (docs/ARCHITECTURE.md, "Seed org"), built in code.

Every id is derived from a fixed key (``seed_id("lead", "lead-7")``), so the seed is the same
on every machine and for every ``seed=`` option; runtime ids come from
:func:`runtime_id`, which mixes the ``seed`` option and a persisted counter, so they are
deterministic and never collide with the seed.

The names, types, order, choices and required flags are a contract other modules rely on.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]
Collections = dict[str, dict[str, Obj]]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SEED_EPOCH = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
COLLECTIONS = (
    "users",
    "leads",
    "contacts",
    "activity_types",
    "fields",
    "custom_activities",
    "object_types",
    "custom_objects",
)


def _base62(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(chars)


def seed_id(prefix: str, key: str) -> str:
    """A Close-style id (``lead_…``) fixed by ``key``."""
    return f"{prefix}_{_base62(hashlib.sha256(f'seed:{key}'.encode()).digest(), 32)}"


def runtime_id(prefix: str, seed: int, counter: int) -> str:
    """The id of the ``counter``-th object created at run time with option ``seed``."""
    digest = hashlib.sha256(f"run:{seed}:{counter}".encode()).digest()
    return f"{prefix}_{_base62(digest, 32)}"


def iso(moment: datetime) -> str:
    """Close's timestamp format: UTC, microseconds, ``+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


ORG_ID = seed_id("orga", "org")
ADA = seed_id("user", "ada")
GRACE = seed_id("user", "grace")
ALAN = seed_id("user", "alan")

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


def _field(key: str, name: str, ftype: str, **extra: Any) -> Obj:
    stamp = iso(SEED_EPOCH - timedelta(days=30))
    field: Obj = {
        "id": seed_id("cf", key),
        "name": name,
        "description": None,
        "type": ftype,
        "accepts_multiple_values": False,
        "required": False,
        "editable_with_roles": [],
        "is_shared": False,
        "back_reference_is_visible": False,
        "converting_to_type": None,
        "created_by": ADA,
        "updated_by": ADA,
        "date_created": stamp,
        "date_updated": stamp,
        "organization_id": ORG_ID,
    }
    field.update(extra)
    return field


DISCOVERY = seed_id("actitype", "discovery-call")
SUPPORT = seed_id("actitype", "support-ticket")
LEGACY = seed_id("actitype", "legacy-survey")
DEAL = seed_id("cotype", "deal")
SUBSCRIPTION = seed_id("cotype", "subscription")
REGION = seed_id("cf", "region")

_DISCOVERY_FIELDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "Outcome",
        "choices",
        {"choices": ["Interested", "Not interested", "Follow up"], "required": True},
    ),
    ("Duration (min)", "number", {}),
    ("Notes", "textarea", {}),
    ("Next Step Date", "date", {}),
    ("Follow-up At", "datetime", {}),
    ("Attendees", "user", {"accepts_multiple_values": True}),
    (
        "Products",
        "choices",
        {"choices": ["Core", "Analytics", "API"], "accepts_multiple_values": True},
    ),
    ("Primary Contact", "contact", {}),
    ("Related Deal", "custom_object", {"referenced_custom_type_id": DEAL}),
    ("Reference Code", "text", {"required": True}),
    ("Internal Score", "hidden", {}),
)
_SUPPORT_FIELDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Ticket ID", "text", {"required": True}),
    ("Priority", "choices", {"choices": ["Low", "Medium", "High"]}),
    ("Resolved On", "date", {}),
)
_LEGACY_FIELDS: tuple[tuple[str, str, dict[str, Any]], ...] = (("Score", "number", {}),)
_DEAL_FIELDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Amount", "number", {"required": True}),
    ("Stage", "choices", {"choices": ["Prospect", "Negotiation", "Won", "Lost"]}),
    ("Close Date", "date", {}),
    ("Owner", "user", {}),
    ("Notes", "text", {}),
)
_SUBSCRIPTION_FIELDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Plan", "choices", {"choices": ["Starter", "Growth", "Enterprise"]}),
    ("Seats", "number", {}),
    ("Renewal Date", "date", {}),
)


def field_key(type_key: str, name: str) -> str:
    """The seed key of a field: ``seed_id("cf", field_key("discovery-call", "Outcome"))``."""
    return f"{type_key}:{name}"


def _type_fields(
    cols: Collections, type_key: str, owner: tuple[str, str], specs: tuple[Any, ...]
) -> list[str]:
    ids = []
    for name, ftype, extra in specs:
        field = _field(field_key(type_key, name), name, ftype, **extra, **{owner[0]: owner[1]})
        cols["fields"][field["id"]] = field
        ids.append(field["id"])
    return ids


def _type(tid: str, name: str, field_ids: list[str], **extra: Any) -> Obj:
    stamp = iso(SEED_EPOCH - timedelta(days=30))
    obj: Obj = {
        "id": tid,
        "name": name,
        "description": None,
        "api_create_only": False,
        "editable_with_roles": [],
        "is_archived": False,
        "organization_id": ORG_ID,
        "created_by": ADA,
        "updated_by": ADA,
        "date_created": stamp,
        "date_updated": stamp,
        "field_ids": field_ids,
    }
    obj.update(extra)
    return obj


def _types(cols: Collections) -> None:
    assoc = [
        {
            "object_type": "custom_activity_type",
            "custom_activity_type_id": tid,
            "required": False,
            "editable_with_roles": [],
        }
        for tid in (DISCOVERY, SUPPORT)
    ]
    region = _field("region", "Region", "choices", choices=["NA", "EMEA", "APAC"])
    region.update(is_shared=True, associations=assoc)
    cols["fields"][REGION] = region
    act = "custom_activity_type_id"
    plan: tuple[tuple[str, str, str, Any, list[str], Obj], ...] = (
        (DISCOVERY, "discovery-call", "Discovery Call", _DISCOVERY_FIELDS, [REGION], {}),
        (SUPPORT, "support-ticket", "Support Ticket", _SUPPORT_FIELDS, [REGION], {}),
        (LEGACY, "legacy-survey", "Legacy Survey", _LEGACY_FIELDS, [], {"is_archived": True}),
    )
    for tid, key, name, specs, shared, extra in plan:
        ids = _type_fields(cols, key, (act, tid), specs) + shared
        cols["activity_types"][tid] = _type(tid, name, ids, **extra)
    for tid, key, name, plural, specs in (
        (DEAL, "deal", "Deal", "Deals", _DEAL_FIELDS),
        (SUBSCRIPTION, "subscription", "Subscription", "Subscriptions", _SUBSCRIPTION_FIELDS),
    ):
        ids = _type_fields(cols, key, ("custom_object_type_id", tid), specs)
        cols["object_types"][tid] = _type(tid, name, ids, name_plural=plural)


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
    _types(cols)
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
