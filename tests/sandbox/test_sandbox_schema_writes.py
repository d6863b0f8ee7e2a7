"""Schema changes through Close's documented routes: custom fields of activity and object
types (add, rename, change, delete) and the types themselves (create, archive, delete)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from closecsv.sandbox import Sandbox
from tests.helpers.sandbox_api import field_keys, leads, object_type_id, type_id


@pytest.fixture
def api(client_for: Any) -> Iterator[httpx.Client]:
    sandbox = Sandbox()
    sandbox.set_merge_window(0)  # one event per write, consolidation aside
    with client_for(sandbox) as client:
        yield client
    sandbox.close()


def _event_actions(api: httpx.Client, object_type: str, object_id: str) -> list[str]:
    query = {"object_type": object_type, "object_id": object_id}
    return [e["action"] for e in api.get("event/", params=query).json()["data"]]


def test_add_rename_and_delete_an_activity_field(api: httpx.Client) -> None:
    tid = type_id(api, "Support Ticket")
    body = {"custom_activity_type_id": tid, "name": "Channel", "type": "text"}
    made = api.post("custom_field/activity/", json=body)
    assert made.status_code == 200, made.text
    field = made.json()
    assert field["id"].startswith("cf_") and field["custom_activity_type_id"] == tid
    assert field_keys(api, "activity", tid)["Channel"] == f"custom.{field['id']}"
    assert [f["name"] for f in api.get(f"custom_activity/{tid}/").json()["fields"]][-1] == "Channel"
    lead = leads(api)[0]["id"]
    keys = field_keys(api, "activity", tid)
    values = {keys["Ticket ID"]: "T", keys["Channel"]: "web"}
    act = api.post(
        "activity/custom/", json={"custom_activity_type_id": tid, "lead_id": lead, **values}
    )
    assert act.json()[keys["Channel"]] == "web"
    renamed = api.put(f"custom_field/activity/{field['id']}/", json={"name": "Source"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Source"
    assert "Source" in field_keys(api, "activity", tid)
    assert api.get(f"custom_field/activity/{field['id']}/").json()["name"] == "Source"
    gone = api.delete(f"custom_field/activity/{field['id']}/")
    assert gone.status_code == 200 and gone.json() == {}
    assert "Source" not in field_keys(api, "activity", tid)
    assert keys["Channel"] not in api.get(f"activity/custom/{act.json()['id']}/").json()
    assert _event_actions(api, "custom_fields.activity", field["id"]) == [
        "deleted", "updated", "created",
    ]  # fmt: skip


def test_field_type_and_owner_cannot_change(api: httpx.Client) -> None:
    tid = type_id(api, "Support Ticket")
    fid = field_keys(api, "activity", tid)["Priority"].removeprefix("custom.")
    for body in ({"type": "text"}, {"custom_activity_type_id": type_id(api, "Discovery Call")}):
        answer = api.put(f"custom_field/activity/{fid}/", json=body)
        assert answer.status_code == 400 and set(answer.json()["field-errors"]) == set(body)


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"name": "X"}, "type"),
        ({"type": "text"}, "name"),
        ({"name": "X", "type": "rich"}, "type"),
        ({"name": "X", "type": "choices"}, "choices"),
        ({"name": "X", "type": "text", "accepts_multiple_values": True}, "accepts_multiple_values"),
        ({"name": "X", "type": "custom_object"}, "referenced_custom_type_id"),
        ({"name": "X", "type": "text", "description": "d" * 281}, "description"),
    ],
)
def test_a_bad_field_is_a_400_naming_the_key(api: httpx.Client, body: Any, bad: str) -> None:
    tid = type_id(api, "Support Ticket")
    before = api.get("custom_field/activity/").json()
    answer = api.post("custom_field/activity/", json={"custom_activity_type_id": tid, **body})
    assert answer.status_code == 400 and bad in answer.json()["field-errors"]
    assert api.get("custom_field/activity/").json() == before


def test_object_fields_add_change_delete(api: httpx.Client) -> None:
    deal = object_type_id(api, "Deal")
    body = {"custom_object_type_id": deal, "name": "Tier", "type": "choices",
            "choices": ["A", "B"], "accepts_multiple_values": True}  # fmt: skip
    made = api.post("custom_field/custom_object_type/", json=body)
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    assert "Tier" in field_keys(api, "custom_object", deal)
    textarea = api.post("custom_field/custom_object_type/", json={**body, "type": "textarea"})
    assert textarea.status_code == 400  # text areas are for activities only
    changed = api.put(f"custom_field/custom_object_type/{fid}/", json={"choices": ["A", "B", "C"]})
    assert changed.json()["choices"] == ["A", "B", "C"]
    assert api.delete(f"custom_field/custom_object_type/{fid}/").status_code == 204
    assert "Tier" not in field_keys(api, "custom_object", deal)
    assert api.get(f"custom_field/custom_object_type/{fid}/").status_code == 404


def test_activity_types_create_archive_delete(api: httpx.Client) -> None:
    made = api.post("custom_activity/", json={"name": "Demo", "description": "d"})
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    assert tid.startswith("actitype_") and made.json()["fields"] == []
    body = {"custom_activity_type_id": tid, "name": "Topic", "type": "text"}
    field = api.post("custom_field/activity/", json=body).json()
    lead = leads(api)[0]["id"]
    values = {"custom_activity_type_id": tid, "lead_id": lead, f"custom.{field['id']}": "x"}
    act = api.post("activity/custom/", json=values).json()
    archived = api.put(f"custom_activity/{tid}/", json={"is_archived": True, "name": "Demo 2"})
    assert archived.json()["is_archived"] is True and archived.json()["name"] == "Demo 2"
    assert api.delete(f"custom_activity/{tid}/").status_code == 204
    assert tid not in {t["id"] for t in api.get("custom_activity/").json()["data"]}
    assert api.get(f"activity/custom/{act['id']}/").status_code == 404
    assert api.get(f"custom_field/activity/{field['id']}/").status_code == 404
    assert _event_actions(api, "custom_activity_type", tid) == ["deleted", "updated", "created"]


def test_object_types_create_update_and_a_referenced_one_is_not_deleted(
    api: httpx.Client,
) -> None:
    assert api.post("custom_object_type/", json={"name": "Car"}).status_code == 400
    made = api.post("custom_object_type/", json={"name": "Car", "name_plural": "Cars"})
    assert made.status_code == 201
    cid = made.json()["id"]
    assert (
        api.put(f"custom_object_type/{cid}/", json={"name_plural": "Autos"}).json()["name_plural"]
        == "Autos"
    )
    assert api.delete(f"custom_object_type/{cid}/").status_code == 204
    deal = object_type_id(api, "Deal")  # Discovery Call's "Related Deal" references it
    refused = api.delete(f"custom_object_type/{deal}/")
    assert refused.status_code == 400 and "Related Deal" in str(refused.json())
    assert deal in {t["id"] for t in api.get("custom_object_type/").json()["data"]}
