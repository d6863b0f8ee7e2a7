"""Leads, contacts and field definitions have the shape Close's OpenAPI document gives them.

The tables below are the ``Lead``, ``Contact``, ``ContactEmail`` and ``ContactPhone`` schemas
of Close's OpenAPI document, written out: for each field the JSON types it may have (``None``
where the schema allows null) and whether the schema requires it.  ``primary_email`` and
``primary_phone`` are objects (``ContactEmail`` / ``ContactPhone``) or null, never bare
strings.  The fields the sandbox leaves out are named in ``LEFT_OUT`` (and in
docs/SANDBOX.md); every other field of the schemas must be there with an allowed type.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

STR, BOOL, LIST, OBJ, NULL = str, bool, list, dict, type(None)
# field: (allowed types, required by the schema)
LEAD: dict[str, tuple[tuple[type, ...], bool]] = {
    "addresses": ((LIST,), False),
    "contact_ids": ((LIST,), True),
    "contacts": ((LIST,), False),
    "contacts_summary": ((STR,), False),
    "created_by": ((STR, NULL), True),
    "created_by_name": ((STR, NULL), False),
    "date_created": ((STR,), True),
    "date_updated": ((STR,), True),
    "description": ((STR, NULL), True),
    "display_name": ((STR,), False),
    "html_url": ((STR,), True),
    "id": ((STR,), True),
    "integration_links": ((LIST,), False),
    "localtime": ((STR, NULL), False),
    "name": ((STR, NULL), True),
    "opportunities": ((LIST,), False),
    "organization_id": ((STR,), True),
    "primary_address_summary": ((STR, NULL), False),
    "primary_email": ((OBJ, NULL), False),
    "primary_phone": ((OBJ, NULL), False),
    "recent_calls": ((LIST,), False),
    "source": ((STR, NULL), False),
    "status_id": ((STR,), True),
    "status_label": ((STR,), False),
    "summaries": ((LIST,), False),
    "tasks": ((LIST,), False),
    "updated_by": ((STR, NULL), True),
    "updated_by_name": ((STR, NULL), False),
    "url": ((STR, NULL), True),
}
CONTACT: dict[str, tuple[tuple[type, ...], bool]] = {
    "created_by": ((STR, NULL), True),
    "date_created": ((STR,), True),
    "date_updated": ((STR,), True),
    "display_name": ((STR,), True),
    "emails": ((LIST,), False),
    "id": ((STR,), True),
    "integration_links": ((LIST,), False),
    "lead_id": ((STR, NULL), False),
    "lead_suggestions_operation_id": ((STR, NULL), False),
    "name": ((STR, NULL), True),
    "organization_id": ((STR,), True),
    "phones": ((LIST,), False),
    "recent_calls": ((LIST,), False),
    "subscriptions": ((LIST,), False),
    "timezone": ((STR, NULL), False),
    "timezone_source": ((STR, NULL), False),
    "title": ((STR, NULL), True),
    "updated_by": ((STR, NULL), True),
    "urls": ((LIST,), False),
}
EMAIL = {"email": ((STR,), True), "is_unsubscribed": ((BOOL,), True), "type": ((STR,), True)}
PHONE = {
    "country": ((STR, NULL), False),
    "outbound_sms_blocked": ((BOOL,), False),
    "phone": ((STR,), False),
    "phone_formatted": ((STR,), False),
    "type": ((STR,), False),
    "tz_ids": ((LIST,), False),
}
# what the sandbox cannot give as Close would (docs/SANDBOX.md says why)
LEFT_OUT = {"contacts_summary", "source", "lead_suggestions_operation_id"}


def conforms(obj: dict[str, Any], schema: dict[str, tuple[tuple[type, ...], bool]]) -> None:
    for name, (types, required) in schema.items():
        if name in LEFT_OUT:
            assert not required and name not in obj, name
            continue
        assert name in obj, f"{name} missing"
        assert isinstance(obj[name], types), f"{name}: {obj[name]!r} is not {types}"
        assert obj[name] is not None or NULL in types or not required


def check_contact(contact: dict[str, Any]) -> None:
    conforms(contact, CONTACT)
    for email in contact["emails"]:
        conforms(email, EMAIL)
    for phone in contact["phones"]:
        conforms(phone, PHONE)


def check_lead(lead: dict[str, Any]) -> None:
    conforms(lead, LEAD)
    for contact in lead["contacts"]:
        check_contact(contact)
    emails = [e for c in lead["contacts"] for e in c["emails"]]
    phones = [p for c in lead["contacts"] for p in c["phones"]]
    assert lead["primary_email"] == (emails[0] if emails else None)
    assert lead["primary_phone"] == (phones[0] if phones else None)


def test_every_lead_and_contact_has_closes_shape(api: httpx.Client) -> None:
    leads = api.get("lead/", params={"_limit": "200"}).json()["data"]
    assert len(leads) == 60
    for lead in leads:
        check_lead(lead)
        assert api.get(f"lead/{lead['id']}/").json() == lead
    contacts = api.get("contact/", params={"_limit": "200"}).json()["data"]
    for contact in contacts:
        check_contact(contact)
    with_phone = next(lead for lead in leads if lead["primary_phone"])
    assert with_phone["primary_email"]["email"].endswith(("@example.org", "@example.net"))
    assert with_phone["primary_phone"]["phone"].startswith("+1415555")
    assert with_phone["created_by_name"] == "Ada Lovelace"


def test_bench_leads_have_the_same_shape(api: httpx.Client, sandbox: Any) -> None:
    sandbox.populate(leads=5, activities=5, activity_types=1)
    leads = api.get("lead/", params={"_limit": "200"}).json()["data"]
    bench = [lead for lead in leads if lead["name"].startswith("Bench Lead")]
    assert len(bench) == 5
    for lead in bench:
        check_lead(lead)
        assert lead["primary_phone"] is None and lead["primary_email"]["type"] == "office"


def test_a_lead_searched_with_fields_has_the_same_values(api: httpx.Client) -> None:
    wanted = ["id", "display_name", "primary_email", "primary_phone", "contacts", "nonexistent"]
    body = {"query": {"type": "match_all"}, "_fields": {"lead": wanted}, "_limit": 5}
    rows = api.post("data/search/", json=body).json()["data"]
    assert len(rows) == 5
    for row in rows:
        lead = api.get(f"lead/{row['id']}/").json()
        assert set(row) == {"__object_type", *wanted}
        assert row["nonexistent"] is None  # asked for, not modelled: null, not dropped
        assert {k: row[k] for k in wanted[:-1]} == {k: lead[k] for k in wanted[:-1]}


def test_an_unset_custom_field_asked_in_search_fields_is_null(api: httpx.Client) -> None:
    types = api.get("custom_activity/").json()["data"]
    tid = next(t["id"] for t in types if t["name"] == "Discovery Call")
    schema = api.get(f"custom_field_schema/activity/{tid}/").json()["fields"]
    keys = [f"custom.{f['id']}" for f in schema]
    query = {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": "activity.custom_activity"},
            {
                "type": "field_condition",
                "field": {"type": "regular_field", "field_name": "custom_activity_type_id"},
                "condition": {"type": "term", "values": [tid]},
            },
        ],
    }
    body = {"query": query, "_fields": {"activity.custom_activity": ["id", *keys]}}
    rows = api.post("data/search/", json=body).json()["data"]
    assert rows
    for row in rows:
        stored = api.get(f"activity/custom/{row['id']}/").json()
        assert set(row) == {"__object_type", "id", *keys}
        assert {k: row[k] for k in keys} == {k: stored.get(k) for k in keys}
    assert any(row[k] is None for row in rows for k in keys)  # some were unset


@pytest.mark.parametrize(
    "path",
    [
        "custom_field/activity/",
        "custom_field/shared/",
        "custom_field/custom_object_type/",
        "custom_activity/",
        "custom_object_type/",
    ],
)
def test_every_field_definition_carries_referenced_custom_type_id(
    api: httpx.Client, path: str
) -> None:
    items = api.get(path).json()["data"]
    fields = items if path.startswith("custom_field/") else [f for t in items for f in t["fields"]]
    assert fields
    for field in fields:
        assert "referenced_custom_type_id" in field, field
        reference = field["referenced_custom_type_id"]
        assert (reference is not None) == (field["type"] == "custom_object"), field


def test_schema_fields_carry_referenced_custom_type_id(api: httpx.Client) -> None:
    for typ in api.get("custom_activity/").json()["data"]:
        for field in api.get(f"custom_field_schema/activity/{typ['id']}/").json()["fields"]:
            assert (field["referenced_custom_type_id"] is not None) == (
                field["type"] == "custom_object"
            )
