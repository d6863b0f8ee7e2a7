"""Deleting and merging leads (Close's ``DELETE /lead/{id}/``, ``POST /lead/merge/``) and the
events they log for the lead's activities and objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from closecsv.sandbox import Sandbox
from tests.helpers.clock import FakeWallClock
from tests.helpers.sandbox_api import field_keys, leads, object_type_id, type_id

ACT, OBJ = "activity.custom_activity", "custom_object"


@pytest.fixture
def api(client_for: Any) -> Iterator[httpx.Client]:
    sandbox = Sandbox(now=FakeWallClock())
    with client_for(sandbox) as client:
        yield client
    sandbox.close()


def _populate(api: httpx.Client, lead_id: str) -> tuple[list[str], list[str]]:
    """Two Support Tickets and a Deal on ``lead_id``: (activity ids, object ids)."""
    tid = type_id(api, "Support Ticket")
    ticket = field_keys(api, "activity", tid)["Ticket ID"]
    deal = object_type_id(api, "Deal")
    amount = field_keys(api, "custom_object", deal)["Amount"]
    acts = [
        api.post("activity/custom/", json={"custom_activity_type_id": tid, "lead_id": lead_id,
                                           ticket: f"T-{n}"}).json()["id"]
        for n in range(2)
    ]  # fmt: skip
    obj = api.post("custom_object/", json={"custom_object_type_id": deal, "lead_id": lead_id,
                                           "name": "D", amount: 1}).json()["id"]  # fmt: skip
    return acts, [obj]


def _ids(api: httpx.Client, **query: str) -> set[str]:
    answer = api.get("event/", params=query)
    assert answer.status_code == 200, answer.text
    return {e["object_id"] for e in answer.json()["data"]}


def test_deleting_a_lead_deletes_its_instances_and_logs_each(api: httpx.Client) -> None:
    lead = leads(api)[10]
    acts, objs = _populate(api, lead["id"])
    seed_acts = {a["id"] for a in api.get("activity/custom/", params={"lead_id": lead["id"]})
                 .json()["data"]} - set(acts)  # fmt: skip
    answer = api.delete(f"lead/{lead['id']}/")
    assert answer.status_code == 200 and answer.content == b""
    assert api.get(f"lead/{lead['id']}/").status_code == 404
    for aid in acts:
        assert api.get(f"activity/custom/{aid}/").status_code == 404
    assert api.get(f"custom_object/{objs[0]}/").status_code == 404
    assert _ids(api, object_type=ACT, action="deleted") == set(acts) | seed_acts
    assert _ids(api, object_type=OBJ, action="deleted") == set(objs)
    assert _ids(api, object_type="lead", action="deleted") == {lead["id"]}
    contacts = {c["id"] for c in lead["contacts"]}
    assert _ids(api, object_type="contact", action="deleted") == contacts
    assert api.delete(f"lead/{lead['id']}/").status_code == 404


def test_merging_leads_moves_instances_and_logs_updates(api: httpx.Client) -> None:
    source, destination = leads(api)[11]["id"], leads(api)[12]["id"]
    acts, objs = _populate(api, source)
    answer = api.post("lead/merge/", json={"source": source, "destination": destination})
    assert answer.status_code == 200 and answer.json() == {}
    assert api.get(f"lead/{source}/").status_code == 404
    for aid in acts:
        assert api.get(f"activity/custom/{aid}/").json()["lead_id"] == destination
    assert api.get(f"custom_object/{objs[0]}/").json()["lead_id"] == destination
    updated = api.get("event/", params={"object_type": ACT, "action": "updated"}).json()["data"]
    assert {e["object_id"] for e in updated} == set(acts)
    for event in updated:
        assert "lead_id" in event["changed_fields"]
        assert event["previous_data"]["lead_id"] == source and event["lead_id"] == destination
        assert event["meta"]["merge_source_lead_id"] == source
    assert _ids(api, object_type=OBJ, action="updated") == set(objs)
    assert _ids(api, object_type="lead", action="deleted") == {source}


@pytest.mark.parametrize(
    "body",
    [{}, {"source": "lead_nothing", "destination": "x"}, {"source": 1, "destination": 2}, []],
)
def test_a_bad_merge_is_a_400_and_changes_nothing(api: httpx.Client, body: Any) -> None:
    before = api.get("event/").json()
    assert api.post("lead/merge/", json=body).status_code == 400
    lead = leads(api)[0]["id"]
    same = api.post("lead/merge/", json={"source": lead, "destination": lead})
    assert same.status_code == 400
    assert api.get("event/").json() == before
