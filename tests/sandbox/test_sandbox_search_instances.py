"""Searching custom activity instances, as a community client exports them: one type by a
``term``, ``_fields`` with custom fields, sorted by ``date_created``, 200 a page, walks capped,
continued by ``on_or_after`` the last ``date_created``, and narrowed to leads by ``reference``."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.sandbox_api import type_id

OTYPE = "activity.custom_activity"
FIELD = {"type": "regular_field", "object_type": OTYPE}
SORT = [{"direction": "asc", "field": {**FIELD, "field_name": "date_created"}}]


def _query(*extra: dict[str, Any], types: list[str]) -> dict[str, Any]:
    term = {"type": "term", "values": types}
    return {"type": "and", "queries": [
        {"type": "object_type", "object_type": OTYPE},
        {"type": "field_condition", "field": {**FIELD, "field_name": "custom_activity_type_id"},
         "condition": term},
        *extra,
    ]}  # fmt: skip


def _walk(api: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    answer = api.post("data/search/", json=body).json()
    while True:
        found += answer["data"]
        if not answer["cursor"]:
            return found
        answer = api.post("data/search/", json={**body, "cursor": answer["cursor"]}).json()


def test_instances_of_one_type_with_custom_fields_in_date_order(
    sandbox: Any, api: httpx.Client
) -> None:
    sandbox.populate(leads=20, activities=600, activity_types=3)
    wanted = type_id(api, "Bench Type 1")
    custom = [f"custom.{f['id']}" for f in api.get(f"custom_activity/{wanted}/").json()["fields"]]
    fields = ["id", "lead_id", "custom_activity_type_id", "date_created", *custom]
    body = {"query": _query(types=[wanted]), "_fields": {OTYPE: fields}, "sort": SORT}
    found = _walk(api, {**body, "_limit": 200})
    stored = sandbox.state.custom_activities
    assert sorted(a["id"] for a in found) == sorted(
        i for i, a in stored.items() if a["custom_activity_type_id"] == wanted
    )
    assert [a["date_created"] for a in found] == sorted(a["date_created"] for a in found)
    first = found[0]
    assert first["__object_type"] == OTYPE
    # every custom field asked for is answered: its value, or null when the instance has none
    assert {k: v for k, v in first.items() if k.startswith("custom.")} == {
        k: stored[first["id"]].get(k) for k in custom
    }
    assert any(k.startswith("custom.") for k in first)


def test_a_capped_walk_continues_on_or_after_the_last_date(sandbox: Any, api: httpx.Client) -> None:
    sandbox.populate(leads=20, activities=600, activity_types=3)
    sandbox.dispatcher.searcher.walk_cap = 250
    types = [type_id(api, f"Bench Type {n}") for n in (1, 2, 3)]
    body = {"query": _query(types=types), "_fields": {OTYPE: ["date_created"]}, "sort": SORT}
    first = _walk(api, {**body, "_limit": 200})
    assert len(first) == 250
    last = first[-1]["date_created"]
    after = {"type": "field_condition", "field": {**FIELD, "field_name": "date_created"},
             "condition": {"type": "moment_range",
                           "on_or_after": {"type": "fixed_utc", "value": last}}}  # fmt: skip
    second = _walk(api, {**body, "query": _query(after, types=types), "_limit": 200})
    assert second[0]["date_created"] == last
    assert all(a["date_created"] >= last for a in second)


def test_narrowed_to_leads_by_reference(sandbox: Any, api: httpx.Client) -> None:
    sandbox.populate(leads=20, activities=300, activity_types=2)
    types = [type_id(api, f"Bench Type {n}") for n in (1, 2)]
    acts = sandbox.state.custom_activities.values()
    leads = sorted({a["lead_id"] for a in acts if a["custom_activity_type_id"] in types})[:2]
    condition = {"type": "reference", "reference_type": "lead", "object_ids": leads}
    ref = {"type": "field_condition", "field": {**FIELD, "field_name": "lead_id"}}
    ref["condition"] = condition
    body = {"query": _query(ref, types=types), "_fields": {OTYPE: ["lead_id"]}, "_limit": 200}
    found = _walk(api, body)
    assert found and {a["lead_id"] for a in found} == set(leads)
    assert len(found) == sum(
        a["lead_id"] in leads and a["custom_activity_type_id"] in types
        for a in sandbox.state.custom_activities.values()
    )
