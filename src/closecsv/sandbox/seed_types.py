"""The seed org's custom activity types, custom object types and their fields.

Names, field types, order, choices and required flags are the contract of
docs/ARCHITECTURE.md ("Seed org"); other modules and tests rely on them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from closecsv.sandbox.ids import (
    ADA,
    DEAL,
    DISCOVERY,
    LEGACY,
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


def field_definition(
    fid: str, name: str, ftype: str, *, user: str, stamp: str, org_id: str, **extra: Any
) -> Obj:
    """A custom field definition as Close answers it, every key present (``extra``: the
    owner type's key, choices, ...); seeded, populated and created fields are all made here."""
    return {
        "id": fid,
        "name": name,
        "description": None,
        "type": ftype,
        "accepts_multiple_values": False,
        "required": False,
        "editable_with_roles": [],
        "is_shared": False,
        "back_reference_is_visible": False,
        "converting_to_type": None,
        "created_by": user,
        "updated_by": user,
        "date_created": stamp,
        "date_updated": stamp,
        "organization_id": org_id,
        **extra,
    }


def _field(key: str, name: str, ftype: str, **extra: Any) -> Obj:
    stamp = iso(SEED_EPOCH - timedelta(days=30))
    return field_definition(
        seed_id("cf", key), name, ftype, user=ADA, stamp=stamp, org_id=ORG_ID, **extra
    )


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


def add_types(cols: Collections) -> None:
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
