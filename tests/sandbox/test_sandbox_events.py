"""The event log (``GET /event/``): what is recorded, filters, cursors, limits, retention,
consolidation, the privacy rule, persistence (docs/SANDBOX.md, "Event log")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from closecsv.sandbox import Sandbox
from tests.helpers.clock import FakeWallClock
from tests.helpers.sandbox_api import field_keys, leads, object_type_id, type_id

ACT = "activity.custom_activity"
OBJ = "custom_object"


@pytest.fixture
def wall(fake_wall_clock: FakeWallClock) -> FakeWallClock:
    return fake_wall_clock


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


def walk(api: httpx.Client, query: dict[str, Any], cursor_key: str) -> list[list[str]]:
    """Pages of object ids, following ``cursor_key`` from the first page to the end."""
    pages, answer = [], api.get("event/", params=query).json()
    while True:
        pages.append([e["object_id"] for e in answer["data"]])
        if answer[cursor_key] is None:
            return pages
        answer = api.get("event/", params={**query, "_cursor": answer[cursor_key]}).json()


def test_a_cursor_walk_over_120_events_both_ways(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    made = []
    for n in range(120):
        made.append(org.activity(f"T-{n}")["id"])
        wall.advance(1)
    query = {"object_type": ACT, "action": "created"}
    first = api.get("event/", params=query).json()
    assert first["cursor_previous"] is None and first["cursor_next"] is not None
    pages = walk(api, query, "cursor_next")
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [oid for p in pages for oid in p] == made[::-1]
    # from the oldest page back up to the newest
    last = api.get("event/", params=query).json()
    while last["cursor_next"] is not None:
        last = api.get("event/", params={**query, "_cursor": last["cursor_next"]}).json()
    back, answer = [], last
    while answer["cursor_previous"] is not None:
        answer = api.get("event/", params={**query, "_cursor": answer["cursor_previous"]}).json()
        back.append([e["object_id"] for e in answer["data"]])
    assert [len(p) for p in back] == [50, 50]
    assert [oid for p in reversed(back) for oid in p] == made[::-1][:100]


def test_a_walk_to_older_events_ignores_events_written_after_it_started(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    made = []
    for n in range(70):
        made.append(org.activity(f"T-{n}")["id"])
        wall.advance(1)
    query = {"object_type": ACT, "action": "created"}
    first = api.get("event/", params=query).json()
    for n in range(5):
        org.activity(f"late-{n}")
        wall.advance(1)
    rest = walk(api, {**query, "_cursor": first["cursor_next"]}, "cursor_next")
    seen = [e["object_id"] for e in first["data"]] + [oid for p in rest for oid in p]
    assert seen == made[::-1]
    # the walk back up from there does reach the new events
    second = api.get("event/", params={**query, "_cursor": first["cursor_next"]}).json()
    newer = api.get("event/", params={**query, "_cursor": second["cursor_previous"]}).json()
    assert [e["object_id"] for e in newer["data"]] == made[::-1][:50]
    assert newer["cursor_previous"] is not None  # the five written since


def test_a_cursor_needs_the_same_filters_and_keeps_the_date_bounds(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    for n in range(60):
        org.activity(f"T-{n}")
        wall.advance(1)
    since = events(api, object_type=ACT, action="created")[4]["date_updated"]
    query = {"object_type": ACT, "action": "created", "date_updated__gte": since, "_limit": 4}
    first = api.get("event/", params=query).json()
    wrong = api.get("event/", params={"object_type": ACT, "action": "updated",
                                      "_cursor": first["cursor_next"]})  # fmt: skip
    assert wrong.status_code == 400 and "_cursor" in wrong.json()["field-errors"]
    garbage = api.get("event/", params={**query, "_cursor": "not-a-cursor"})
    assert garbage.status_code == 400 and "_cursor" in garbage.json()["field-errors"]
    plain = {"object_type": ACT, "action": "created", "_limit": 4}
    second = api.get("event/", params={**plain, "_cursor": first["cursor_next"]}).json()
    assert len(second["data"]) == 1 and second["cursor_next"] is None  # 55 events are older


def test_quick_successive_writes_to_one_object_are_consolidated(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    act = org.activity("T-1")
    wall.advance(3)
    org.edit(act["id"], "T-2")
    wall.advance(3)
    latest = org.edit(act["id"], "T-3")
    (created,) = events(api, object_type=ACT, object_id=act["id"])
    assert created["action"] == "created" and created["data"] == latest
    assert created["date_created"] == act["date_created"]
    assert created["date_updated"] == latest["date_updated"]
    wall.advance(30)  # past the window: a new event, which absorbs the next quick edit
    org.edit(act["id"], "T-4")
    wall.advance(2)
    api.put(f"activity/custom/{act['id']}/", json={"status": "draft"})
    updated, _ = events(api, object_type=ACT, object_id=act["id"])
    assert updated["action"] == "updated"
    assert {org.ticket, "status"} <= set(updated["changed_fields"])
    assert updated["previous_data"][org.ticket] == "T-3"
    assert updated["previous_data"]["status"] == "published"
    assert updated["data"]["status"] == "draft" and updated["data"][org.ticket] == "T-4"
    wall.advance(1)
    assert api.delete(f"activity/custom/{act['id']}/").status_code == 200
    actions = [e["action"] for e in events(api, object_type=ACT, object_id=act["id"])]
    assert actions == ["deleted", "updated", "created"]  # a delete is never folded


def test_consolidation_can_be_turned_off(
    api: httpx.Client, sb: Sandbox, org: Org, wall: FakeWallClock
) -> None:
    sb.set_merge_window(0)
    act = org.activity("T-1")
    wall.advance(1)
    org.edit(act["id"], "T-2")
    actions = [e["action"] for e in events(api, object_type=ACT, object_id=act["id"])]
    assert actions == ["updated", "created"]


def test_events_older_than_30_days_are_gone(
    api: httpx.Client, sb: Sandbox, org: Org, wall: FakeWallClock
) -> None:
    old = org.activity("old")
    event = events(api, object_type=ACT, action="created")[0]
    wall.advance(29 * 86400)
    assert [e["id"] for e in events(api, object_type=ACT, action="created")] == [event["id"]]
    wall.advance(86400)
    assert events(api, object_type=ACT, action="created") == []
    assert api.get(f"event/{event['id']}/").status_code == 404
    org.activity("new")
    assert event["id"] not in sb.state.collections["events"]
    assert api.get(f"activity/custom/{old['id']}/").status_code == 200  # only the log forgets


def test_advance_clock_moves_the_sandboxs_time(org: Org, sb: Sandbox, wall: FakeWallClock) -> None:
    before = org.activity("a")["date_created"]
    sb.advance_clock(31 * 86400)
    after = org.activity("b")["date_created"]
    assert after[:10] == "2026-04-01" and before[:10] == "2026-03-01"


def test_data_is_hidden_from_non_admins_after_an_hour(
    api: httpx.Client, sb: Sandbox, org: Org, wall: FakeWallClock
) -> None:
    act = org.activity("T-1")
    grace = next(u["id"] for u in api.get("user/").json()["data"] if u["first_name"] == "Grace")
    sb.set_key_user(grace)
    assert events(api, object_type=ACT, action="created")[0]["data"] == act
    wall.advance(3601)
    hidden = events(api, object_type=ACT, action="created")[0]
    assert hidden["data"] is None and hidden["previous_data"] is None
    assert hidden["object_id"] == act["id"]
    sb.set_key_user(act["user_id"])  # Ada, an admin, still sees it
    assert events(api, object_type=ACT, action="created")[0]["data"] == act


def test_events_survive_a_restart_and_old_data_files_still_load(
    tmp_path: Path, wall: FakeWallClock, client_for: Callable[..., httpx.Client]
) -> None:
    path = tmp_path / "org.json"
    with Sandbox(path, now=wall) as first, client_for(first) as api:
        Org(api).activity("kept")
        logged = events(api, object_type=ACT, action="created")
    crashed = Sandbox(path, now=wall)  # reopened from the snapshot; then written, not closed
    with client_for(crashed) as api:
        assert events(api, object_type=ACT, action="created") == logged
        wall.advance(60)
        Org(api).activity("after")
    crashed.state._close_log()  # killed: no compaction
    with Sandbox(path, now=wall) as replayed, client_for(replayed) as api:  # log replayed
        assert len(events(api, object_type=ACT, action="created")) == 2
    blob = json.loads(path.read_text())
    del blob["collections"]["events"]  # a file written before the sandbox had an event log
    path.write_text(json.dumps(blob))
    with Sandbox(path, now=wall) as old, client_for(old) as api:
        assert events(api, object_type=ACT, action="created") == []
        Org(api).activity("new")
        assert len(events(api, object_type=ACT, action="created")) == 1


def test_an_event_consolidated_during_a_walk_moves_to_the_top_and_is_not_seen_twice(
    api: httpx.Client, org: Org, wall: FakeWallClock
) -> None:
    made = []
    for n in range(70):
        made.append(org.activity(f"T-{n}")["id"])
        wall.advance(0.1)  # all 70 within the 10 s window
    query = {"object_type": ACT, "action": "created"}
    first = api.get("event/", params=query).json()
    org.edit(made[0], "edited")  # folds into its (not yet walked) created event
    rest = walk(api, {**query, "_cursor": first["cursor_next"]}, "cursor_next")
    seen = [e["object_id"] for e in first["data"]] + [oid for p in rest for oid in p]
    assert seen == made[::-1][:-1]  # the oldest moved above where the walk started
    top = events(api, **query)[0]
    assert top["object_id"] == made[0] and top["data"][org.ticket] == "edited"


def test_date_updated_bounds_are_exact(api: httpx.Client, org: Org, wall: FakeWallClock) -> None:
    made = []
    for n in range(3):
        made.append(org.activity(f"T-{n}")["id"])
        wall.advance(60)
    stamps = [e["date_updated"] for e in events(api, object_type=ACT, action="created")][::-1]
    both = {"object_type": ACT, "action": "created"}

    def ids(**bounds: str) -> list[str]:
        return [e["object_id"] for e in events(api, **both, **bounds)]

    assert ids(date_updated__gt=stamps[0], date_updated__lte=stamps[2]) == [made[2], made[1]]
    assert ids(date_updated__gte=stamps[1], date_updated__lt=stamps[2]) == [made[1]]
    assert ids(date_updated__gte=stamps[0][:10]) == made[::-1]  # a date: midnight UTC
    assert ids(date_updated__lt=stamps[0]) == []
    bad = api.get("event/", params={**both, "date_updated__gte": "yesterday"})
    assert bad.status_code == 400 and "date_updated__gte" in bad.json()["field-errors"]
