"""``POST /data/search/`` as Close documents it (docs/CLOSE_API.md, Search; cursors)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.clock import FakeClock
from tests.helpers.sandbox_api import leads, object_type_id, type_id

LEAD = {"type": "object_type", "object_type": "lead"}


def search(api: httpx.Client, query: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = api.post("data/search/", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def lead_ids(api: httpx.Client, *queries: dict[str, Any]) -> set[str]:
    body = search(api, {"type": "and", "queries": [LEAD, *queries]}, _limit=200)
    return {row["id"] for row in body["data"]}


def by_contact(kind: str, field: str, value: str, mode: str = "exact_value") -> dict[str, Any]:
    return {
        "type": "has_related", "this_object_type": "lead", "related_object_type": "contact",
        "related_query": {
            "type": "has_related", "this_object_type": "contact", "related_object_type": kind,
            "related_query": {
                "type": "field_condition",
                "field": {"type": "regular_field", "object_type": kind, "field_name": field},
                "condition": {"type": "text", "mode": mode, "value": value},
            },
        },
    }  # fmt: skip


def name_is(value: str, mode: str = "phrase") -> dict[str, Any]:
    return {
        "type": "field_condition",
        "field": {"type": "regular_field", "object_type": "lead", "field_name": "display_name"},
        "condition": {"type": "text", "mode": mode, "value": value},
    }


def test_without_fields_only_object_type_and_id(api: httpx.Client) -> None:
    body = search(api, LEAD, _limit=1)
    assert body["data"][0].keys() == {"__object_type", "id"}
    assert "has_more" not in body and isinstance(body["cursor"], str)


def test_fields_object_per_type(api: httpx.Client) -> None:
    body = search(api, LEAD, _limit=2, _fields={"lead": ["id", "display_name", "contacts"]})
    row = body["data"][0]
    assert row.keys() == {"__object_type", "id", "display_name", "contacts"}


def test_lead_by_id_email_phone_and_name(api: httpx.Client) -> None:
    all_leads = leads(api)
    first = all_leads[0]
    assert lead_ids(api, {"type": "id", "value": first["id"]}) == {first["id"]}
    assert len(lead_ids(api, by_contact("contact_email", "email", "SHARED@example.net"))) == 2
    phone = first["contacts"][0]["phones"][0]["phone"]
    assert lead_ids(api, by_contact("contact_phone", "phone", phone)) == {first["id"]}
    assert len(lead_ids(api, name_is("Globex", "exact_value"))) == 2
    assert len(lead_ids(api, name_is("Globex"))) == 3  # word-based: "Globex 2" matches too
    assert lead_ids(api, name_is("Acme Corp", "exact_value")) == {first["id"]}
    assert lead_ids(api, name_is("corp acme", "full_words")) == {first["id"]}
    assert lead_ids(api, name_is("corp acme", "phrase")) == set()


def test_and_or_negate_match_all(api: httpx.Client) -> None:
    globex = lead_ids(api, name_is("Globex", "exact_value"))
    initech = name_is("Initech", "exact_value")
    either = lead_ids(api, {"type": "or", "queries": [name_is("Globex", "exact_value"), initech]})
    assert len(either) == 3 and globex < either
    assert len(lead_ids(api, {**name_is("Globex", "exact_value"), "negate": True})) == 58
    assert len(lead_ids(api, {"type": "match_all"})) == 60


def test_leads_having_activities_of_a_type(api: httpx.Client) -> None:
    support = type_id(api, "Support Ticket")
    query = {
        "type": "has_related", "this_object_type": "lead",
        "related_object_type": "activity.custom_activity",
        "related_query": {"type": "and", "queries": [{
            "type": "field_condition",
            "field": {"type": "regular_field", "object_type": "activity.custom_activity",
                      "field_name": "custom_activity_type_id"},
            "condition": {"type": "term", "values": [support]},
        }, {"type": "match_all"}]},
    }  # fmt: skip
    assert len(lead_ids(api, query)) == 2


def test_custom_activities_and_objects_directly(api: httpx.Client) -> None:
    first = leads(api)[0]
    acts = search(api, {"type": "and", "queries": [
        {"type": "object_type", "object_type": "activity.custom_activity"},
        {"type": "field_condition",
         "field": {"type": "regular_field", "object_type": "activity.custom_activity",
                   "field_name": "lead_id"},
         "condition": {"type": "reference", "reference_type": "lead", "object_ids": [first["id"]]}},
    ]}, _fields={"activity.custom_activity": ["lead_id", "user_name"]}, sort=[{
        "direction": "asc", "field": {"type": "regular_field",
        "object_type": "activity.custom_activity", "field_name": "date_created"}}])  # fmt: skip
    assert len(acts["data"]) == 2
    assert all(a["lead_id"] == first["id"] and a["user_name"] for a in acts["data"])
    deal = object_type_id(api, "Deal")
    objs = search(api, {"type": "and", "queries": [
        {"type": "object_type", "object_type": "custom_object"},
        {"type": "field_condition",
         "field": {"type": "regular_field", "object_type": "custom_object",
                   "field_name": "custom_object_type_id"},
         "condition": {"type": "term", "values": [deal]}},
    ]})  # fmt: skip
    assert len(objs["data"]) == 3


@pytest.mark.parametrize(
    ("condition", "count"),
    [
        ({"type": "number_range", "gte": 4500}, 2),
        ({"type": "number_range", "gt": 4500, "lt": 20000}, 1),
        ({"type": "exists"}, 3),
    ],
)
def test_custom_field_conditions(api: httpx.Client, condition: dict[str, Any], count: int) -> None:
    deal = object_type_id(api, "Deal")
    fields = api.get(f"custom_field_schema/custom_object/{deal}/").json()["fields"]
    amount = next(f["id"] for f in fields if f["name"] == "Amount")
    body = search(api, {"type": "and", "queries": [
        {"type": "object_type", "object_type": "custom_object"},
        {"type": "field_condition", "field": {"type": "custom_field", "custom_field_id": amount},
         "condition": condition},
    ]})  # fmt: skip
    assert len(body["data"]) == count


def test_moment_range_and_boolean(api: httpx.Client) -> None:
    day = leads(api)[0]["date_created"][:10]
    created = {"type": "regular_field", "object_type": "lead", "field_name": "date_created"}
    moment = {"type": "moment_range",
              "on_or_after": {"type": "fixed_local_date", "value": day, "which": "start"},
              "before": {"type": "fixed_local_date", "value": day, "which": "end"}}  # fmt: skip
    found = lead_ids(api, {"type": "field_condition", "field": created, "condition": moment})
    assert 0 < len(found) < 60
    utc = {
        "type": "moment_range",
        "on_or_after": {"type": "fixed_utc", "value": "2100-01-01T00:00:00+00:00"},
    }
    assert lead_ids(api, {"type": "field_condition", "field": created, "condition": utc}) == set()
    pinned = search(api, {"type": "and", "queries": [
        {"type": "object_type", "object_type": "activity.custom_activity"},
        {"type": "field_condition",
         "field": {"type": "regular_field", "object_type": "activity.custom_activity",
                   "field_name": "pinned"},
         "condition": {"type": "boolean", "value": False}},
    ]})  # fmt: skip
    assert len(pinned["data"]) == 5


def test_full_text_node(api: httpx.Client) -> None:
    assert len(lead_ids(api, {"type": "text", "value": "globex"})) == 3


def test_limit_above_200_is_refused(api: httpx.Client) -> None:
    response = api.post("data/search/", json={"query": LEAD, "_limit": 201})
    assert response.status_code == 400
    assert response.json()["field-errors"] == {
        "_limit": "Input should be less than or equal to 200"
    }


def test_unknown_node_type_is_400(api: httpx.Client) -> None:
    response = api.post("data/search/", json={"query": {"type": "telepathy"}})
    assert response.status_code == 400 and "query" in response.json()["field-errors"]


def test_cursor_walk_returns_everything_once_then_null(api: httpx.Client) -> None:
    seen: list[str] = []
    body = search(api, LEAD, _limit=25)
    while True:
        seen += [row["id"] for row in body["data"]]
        if body["cursor"] is None:
            break
        body = search(api, LEAD, _limit=25, cursor=body["cursor"])
    assert len(seen) == len(set(seen)) == 60


def test_cursor_expires_after_30_seconds(api: httpx.Client, fake_clock: FakeClock) -> None:
    cursor = search(api, LEAD, _limit=10)["cursor"]
    fake_clock.advance(29)
    cursor = search(api, LEAD, _limit=10, cursor=cursor)["cursor"]
    fake_clock.advance(31)
    response = api.post("data/search/", json={"query": LEAD, "_limit": 10, "cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {"errors": [], "field-errors": {"cursor": "Expired cursor"}}


def test_counts_and_results_limit(api: httpx.Client) -> None:
    body = search(api, LEAD, include_counts=True, results_limit=0)
    assert body["data"] == [] and body["count"] == {"limited": 0, "total": 60}
    capped = search(api, LEAD, results_limit=5, _limit=3)
    rest = search(api, LEAD, _limit=3, cursor=capped["cursor"])
    assert len(capped["data"]) + len(rest["data"]) == 5 and rest["cursor"] is None


def test_sort_by_a_field(api: httpx.Client) -> None:
    sort = [{"direction": "asc", "field": {"type": "regular_field", "object_type": "lead",
                                            "field_name": "display_name"}}]  # fmt: skip
    body = search(api, LEAD, _limit=60, sort=sort, _fields={"lead": ["display_name"]})
    names = [row["display_name"] for row in body["data"]]
    assert names == sorted(names)


def test_walk_stops_at_10000_objects(sandbox: Any, api: httpx.Client) -> None:
    sandbox.populate(leads=10_050, activities=0, activity_types=0)
    body = search(api, LEAD, _limit=200, include_counts=True)
    total = len(body["data"])
    while body["cursor"]:
        body = search(api, LEAD, _limit=200, cursor=body["cursor"])
        total += len(body["data"])
    assert total == 10_000
