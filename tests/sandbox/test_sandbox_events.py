"""The event log (``GET /event/``): what is recorded, filters, cursors, limits, retention,
consolidation, the privacy rule, persistence (docs/SANDBOX.md, "Event log")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from closecsv.sandbox import Sandbox
from tests.helpers.clock import FakeWallClock
from tests.helpers.sandbox_api import field_keys, leads, object_type_id, type_id

ACT = "activity.custom_activity"
OBJ = "custom_object"


@pytest.fixture
def wall() -> FakeWallClock:
    return FakeWallClock()


@pytest.fixture
def sb(wall: FakeWallClock) -> Iterator[Sandbox]:
    sandbox = Sandbox(now=wall)
    yield sandbox
    sandbox.close()


@pytest.fixture
def api(sb: Sandbox, client_for: Callable[..., httpx.Client]) -> Iterator[httpx.Client]:
    with client_for(sb) as client:
        yield client


class Org:
    """Writes through the API: a Support Ticket activity, a Deal object."""

    def __init__(self, api: httpx.Client) -> None:
        self.api = api
        self.support = type_id(api, "Support Ticket")
        self.ticket = field_keys(api, "activity", self.support)["Ticket ID"]
        self.deal = object_type_id(api, "Deal")
        self.amount = field_keys(api, "custom_object", self.deal)["Amount"]
        self.leads = [lead["id"] for lead in leads(api)]

    def activity(self, ticket: str = "T-1", lead: int = 0) -> dict[str, Any]:
        body = {"custom_activity_type_id": self.support, "lead_id": self.leads[lead]}
        answer = self.api.post("activity/custom/", json={**body, self.ticket: ticket})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def edit(self, aid: str, ticket: str) -> dict[str, Any]:
        answer = self.api.put(f"activity/custom/{aid}/", json={self.ticket: ticket})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def deal_object(self, amount: int = 5, lead: int = 0) -> dict[str, Any]:
        body = {"custom_object_type_id": self.deal, "lead_id": self.leads[lead], "name": "D"}
        answer = self.api.post("custom_object/", json={**body, self.amount: amount})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


@pytest.fixture
def org(api: httpx.Client) -> Org:
    return Org(api)


def events(api: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    answer = api.get("event/", params=query)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def test_create_update_delete_of_an_activity_are_logged_with_closes_fields(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    act = org.activity("T-1")
    wall.advance(60)
    edited = org.edit(act["id"], "T-2")
    wall.advance(60)
    assert api.delete(f"activity/custom/{act['id']}/").status_code == 200
    log = events(api, object_type=ACT, object_id=act["id"])
    assert [e["action"] for e in log] == ["deleted", "updated", "created"]
    deleted, updated, created = log
    for event in log:
        assert set(event) == {
            "id", "date_created", "date_updated", "organization_id", "user_id", "request_id",
            "api_key_id", "object_type", "object_id", "lead_id", "action", "changed_fields",
            "data", "previous_data", "meta",
        }  # fmt: skip
        assert event["object_id"] == act["id"] and event["lead_id"] == act["lead_id"]
        assert event["user_id"] == act["user_id"] and event["id"].startswith("ev_")
    assert created["data"] == act and created["changed_fields"] == []
    assert updated["data"] == edited
    assert org.ticket in updated["changed_fields"] and "date_updated" in updated["changed_fields"]
    assert updated["previous_data"][org.ticket] == "T-1"
    assert deleted["data"] is None
    assert created["date_created"] < updated["date_created"] < deleted["date_created"]


def test_custom_objects_are_logged_too(api: httpx.Client, org: Org, wall: FakeWallClock) -> None:
    obj = org.deal_object(5)
    wall.advance(30)
    api.put(f"custom_object/{obj['id']}/", json={org.amount: 7})
    wall.advance(30)
    assert api.delete(f"custom_object/{obj['id']}/").status_code == 204
    log = events(api, object_type=OBJ, object_id=obj["id"])
    assert [e["action"] for e in log] == ["deleted", "updated", "created"]
    assert log[1]["previous_data"][org.amount] == 5 and log[1]["data"][org.amount] == 7
    assert log[2]["data"] == obj


def test_a_refused_write_logs_nothing(api: httpx.Client, org: Org) -> None:
    act = org.activity()
    before = events(api, object_type=ACT, action="updated")
    assert api.put(f"activity/custom/{act['id']}/", json={org.ticket: None}).status_code == 400
    assert events(api, object_type=ACT, action="updated") == before
    assert api.put(f"activity/custom/{act['id']}/", json={}).status_code == 200
    assert events(api, object_type=ACT, action="updated") == before  # nothing changed


@pytest.mark.parametrize(
    "query",
    [
        {"object_type": ACT},
        {"action": "created"},
        {"object_id": "acti_x"},
        {"object_type": ACT, "action": "created", "object_id": "acti_x"},
        {"request_id": "req_x", "user_id": "user_x"},
        {"lead_id": "lead_x", "action": "created"},
    ],
)
def test_unsupported_filter_combinations_are_a_400_naming_them(
    api: httpx.Client, query: dict[str, str]
) -> None:
    answer = api.get("event/", params={**query, "date_updated__gte": "2026-01-01"})
    assert answer.status_code == 400
    message = answer.json()["errors"][0]
    assert "not supported" in message
    assert all(name in message.split(".")[0] for name in query)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"object_type": ACT, "object_id": "acti_x"},
        {"object_type": ACT, "action": "created"},
        {"object_id": "acti_x", "action": "deleted"},
        {"lead_id": "lead_x", "object_type": ACT},
        {"lead_id": "lead_x", "object_type": ACT, "action": "updated"},
        {"lead_id": "lead_x", "user_id": "user_x", "object_type": ACT},
        {"lead_id": "lead_x", "user_id": "user_x", "object_type": ACT, "action": "updated"},
        {"lead_id": "lead_x", "user_id": "user_x"},
        {"user_id": "user_x", "object_id": "acti_x"},
        {"user_id": "user_x", "object_id": "acti_x", "action": "created"},
        {"user_id": "user_x", "object_type": ACT},
        {"user_id": "user_x", "object_type": ACT, "action": "created"},
        {"lead_id": "lead_x"},
        {"user_id": "user_x"},
        {"request_id": "req_x"},
    ],
)
def test_every_supported_combination_is_accepted_with_date_updated(
    api: httpx.Client, query: dict[str, str]
) -> None:
    answer = api.get("event/", params={**query, "date_updated__lt": "2030-01-01T00:00:00Z"})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"data", "cursor_next", "cursor_previous"}


def test_filters_select_their_events(api: httpx.Client, org: Org, wall: FakeWallClock) -> None:
    first = org.activity("A", lead=0)
    wall.advance(20)
    second = org.activity("B", lead=1)
    wall.advance(20)
    org.edit(first["id"], "A2")
    wall.advance(20)
    deal = org.deal_object(lead=1)
    created = events(api, object_type=ACT, action="created")
    assert [e["object_id"] for e in created] == [second["id"], first["id"]]
    assert [e["object_id"] for e in events(api, lead_id=org.leads[1])] == [
        deal["id"],
        second["id"],
    ]
    on_lead = events(api, lead_id=org.leads[0], object_type=ACT, action="updated")
    assert [e["object_id"] for e in on_lead] == [first["id"]]
    request = events(api, object_id=deal["id"], action="created")[0]["request_id"]
    assert [e["object_id"] for e in events(api, request_id=request)] == [deal["id"]]
    middle = created[0]["date_updated"]
    both = {"object_type": ACT, "action": "created"}
    older = events(api, **both, date_updated__lt=middle)
    assert [e["object_id"] for e in older] == [first["id"]]
    newer = events(api, **both, date_updated__gte=middle)
    assert [e["object_id"] for e in newer] == [second["id"]]


def test_skip_is_refused_and_limit_is_capped_at_50(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    for n in range(60):
        org.activity(f"T-{n}")
        wall.advance(1)
    skip = api.get("event/", params={"object_type": ACT, "action": "created", "_skip": 0})
    assert skip.status_code == 400 and "_skip" in skip.json()["field-errors"]
    assert len(events(api, object_type=ACT, action="created")) == 50
    assert len(events(api, object_type=ACT, action="created", _limit=500)) == 50
    assert len(events(api, object_type=ACT, action="created", _limit=7)) == 7


def test_get_one_event(api: httpx.Client, org: Org) -> None:
    org.activity()
    event = events(api, object_type=ACT, action="created")[0]
    assert api.get(f"event/{event['id']}/").json() == event
    assert api.get("event/ev_nothing/").status_code == 404
