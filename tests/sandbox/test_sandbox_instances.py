"""Custom activity and custom object instances, as Close documents them
(docs/CLOSE_API.md: Writes, Custom fields and values)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.sandbox_api import field_keys, leads, object_type_id, type_id


@pytest.fixture
def dc(api: httpx.Client) -> dict[str, Any]:
    """Discovery Call: its type id, field keys, a lead (the first), and a minimal valid body."""
    tid = type_id(api, "Discovery Call")
    keys = field_keys(api, "activity", tid)
    lead = leads(api)[0]
    body = {
        "custom_activity_type_id": tid,
        "lead_id": lead["id"],
        keys["Outcome"]: "Interested",
        keys["Reference Code"]: "R-1",
    }
    return {"tid": tid, "keys": keys, "lead": lead, "body": body}


def _users(api: httpx.Client) -> dict[str, str]:
    return {u["first_name"]: u["id"] for u in api.get("user/").json()["data"]}


def test_create_answers_200_with_the_documented_shape(api: httpx.Client, dc: Any) -> None:
    response = api.post("activity/custom/", json=dc["body"])
    assert response.status_code == 200
    act = response.json()
    assert act["id"].startswith("acti_")
    assert act["_type"] == "CustomActivity"
    assert act["status"] == "published" and act["pinned"] is False
    assert act["user_name"] == "Ada Lovelace" and act["created_by_name"] == "Ada Lovelace"
    for key in ("organization_id", "date_created", "date_updated", "activity_at", "contact_id"):
        assert key in act
    assert act[dc["keys"]["Outcome"]] == "Interested"
    assert api.get(f"activity/custom/{act['id']}/").json() == act


def test_required_fields_only_when_published(api: httpx.Client, dc: Any) -> None:
    bare = {"custom_activity_type_id": dc["tid"], "lead_id": dc["lead"]["id"]}
    response = api.post("activity/custom/", json=bare)
    assert response.status_code == 400
    assert set(response.json()["field-errors"]) == {
        dc["keys"]["Outcome"],
        dc["keys"]["Reference Code"],
    }
    draft = api.post("activity/custom/", json={**bare, "status": "draft"})
    assert draft.status_code == 200 and draft.json()["status"] == "draft"
    publish = api.put(f"activity/custom/{draft.json()['id']}/", json={"status": "published"})
    assert publish.status_code == 400


def test_type_and_lead_are_required(api: httpx.Client, dc: Any) -> None:
    for missing in ("custom_activity_type_id", "lead_id"):
        body = {k: v for k, v in dc["body"].items() if k != missing}
        response = api.post("activity/custom/", json=body)
        assert response.status_code == 400
        assert missing in response.json()["field-errors"]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("Duration (min)", 42.5, 42.5),
        ("Duration (min)", "17", 17),
        ("Next Step Date", "2025-05-01", "2025-05-01"),
        ("Follow-up At", "2025-05-01T14:30:00-02:00", "2025-05-01T16:30:00+00:00"),
        ("Products", ["Core", "API"], ["Core", "API"]),
        ("Notes", "two\nlines", "two\nlines"),
        ("Internal Score", {"any": "json"}, {"any": "json"}),
        ("Region", "EMEA", "EMEA"),
    ],
)
def test_valid_values_are_stored(
    api: httpx.Client, dc: Any, field: str, value: Any, stored: Any
) -> None:
    key = dc["keys"][field]
    response = api.post("activity/custom/", json={**dc["body"], key: value})
    assert response.status_code == 200, response.text
    assert response.json()[key] == stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Duration (min)", "forty"),
        ("Duration (min)", True),
        ("Next Step Date", "2025-13-01"),
        ("Next Step Date", "01/05/2025"),
        ("Follow-up At", "2025-05-01T14:30:00"),
        ("Follow-up At", "yesterday"),
        ("Outcome", "Maybe"),
        ("Outcome", "interested"),
        ("Outcome", ["Interested"]),
        ("Products", ["Core", "Nope"]),
        ("Attendees", ["Nobody Here"]),
        ("Primary Contact", "cont_doesnotexist"),
        ("Related Deal", "custobj_doesnotexist"),
    ],
)
def test_invalid_values_are_400_keyed_by_the_submitted_key(
    api: httpx.Client, dc: Any, field: str, value: Any
) -> None:
    key = dc["keys"][field]
    response = api.post("activity/custom/", json={**dc["body"], key: value})
    assert response.status_code == 400
    assert list(response.json()["field-errors"]) == [key]


def test_unknown_custom_key_is_400(api: httpx.Client, dc: Any) -> None:
    response = api.post("activity/custom/", json={**dc["body"], "custom.cf_nope": "x"})
    assert response.status_code == 400
    assert "custom.cf_nope" in response.json()["field-errors"]
    support_key = field_keys(api, "activity", type_id(api, "Support Ticket"))["Ticket ID"]
    response = api.post("activity/custom/", json={**dc["body"], support_key: "T-1"})
    assert support_key in response.json()["field-errors"]


def test_user_fields_take_ids_exact_names_and_former_users(api: httpx.Client, dc: Any) -> None:
    users = _users(api)
    key = dc["keys"]["Attendees"]
    body = {**dc["body"], key: ["Grace Hopper", users["Alan"]]}
    response = api.post("activity/custom/", json=body)
    assert response.status_code == 200
    assert response.json()[key] == [users["Grace"], users["Alan"]]


def test_contact_and_object_references_must_be_on_the_lead(api: httpx.Client, dc: Any) -> None:
    all_leads = leads(api)
    own, other = all_leads[0], all_leads[1]
    keys = dc["keys"]
    ok = api.post(
        "activity/custom/", json={**dc["body"], keys["Primary Contact"]: own["contact_ids"][0]}
    )
    assert ok.status_code == 200
    wrong = api.post(
        "activity/custom/", json={**dc["body"], keys["Primary Contact"]: other["contact_ids"][0]}
    )
    assert wrong.status_code == 400
    objects = api.get("custom_object/", params={"lead_id": own["id"]}).json()["data"]
    by_type = {o["custom_object_type_id"]: o["id"] for o in objects}
    deal, sub = object_type_id(api, "Deal"), object_type_id(api, "Subscription")
    assert (
        api.post(
            "activity/custom/", json={**dc["body"], keys["Related Deal"]: by_type[deal]}
        ).status_code
        == 200
    )
    not_a_deal = api.post(
        "activity/custom/", json={**dc["body"], keys["Related Deal"]: by_type[sub]}
    )
    assert not_a_deal.status_code == 400
    other_deal = api.get("custom_object/", params={"lead_id": other["id"]}).json()["data"][0]
    wrong_lead = api.post(
        "activity/custom/", json={**dc["body"], keys["Related Deal"]: other_deal["id"]}
    )
    assert wrong_lead.status_code == 400


def test_contact_id_must_be_on_the_lead(api: httpx.Client, dc: Any) -> None:
    other = leads(api)[1]
    response = api.post(
        "activity/custom/", json={**dc["body"], "contact_id": other["contact_ids"][0]}
    )
    assert response.status_code == 400 and "contact_id" in response.json()["field-errors"]


def test_given_date_created_and_activity_at_are_kept(api: httpx.Client, dc: Any) -> None:
    body = {**dc["body"], "date_created": "2020-01-02T03:04:05+01:00",
            "activity_at": "2020-01-01T00:00:00Z"}  # fmt: skip
    act = api.post("activity/custom/", json=body).json()
    assert act["date_created"] == "2020-01-02T02:04:05.000000+00:00"
    assert act["activity_at"] == "2020-01-01T00:00:00.000000+00:00"


def test_put_is_a_patch_and_null_clears(api: httpx.Client, dc: Any) -> None:
    keys = dc["keys"]
    act = api.post("activity/custom/", json={**dc["body"], keys["Notes"]: "keep"}).json()
    url = f"activity/custom/{act['id']}/"
    patched = api.put(url, json={keys["Duration (min)"]: 5, "pinned": True}).json()
    assert patched[keys["Notes"]] == "keep" and patched[keys["Duration (min)"]] == 5
    assert patched["pinned"] is True
    cleared = api.put(url, json={keys["Notes"]: None}).json()
    assert keys["Notes"] not in cleared
    assert api.get(url).json() == cleared
    refused = api.put(url, json={keys["Outcome"]: None})
    assert refused.status_code == 400
    assert list(refused.json()["field-errors"]) == [keys["Outcome"]]
    assert api.put(url, json={keys["Outcome"]: None, "status": "draft"}).status_code == 200


def test_delete_then_404(api: httpx.Client, dc: Any) -> None:
    act = api.post("activity/custom/", json=dc["body"]).json()
    assert api.delete(f"activity/custom/{act['id']}/").status_code == 200
    gone = api.get(f"activity/custom/{act['id']}/")
    assert gone.status_code == 404 and isinstance(gone.json()["error"], str)


def test_type_filter_needs_lead_id(api: httpx.Client, dc: Any) -> None:
    for params in (
        {"custom_activity_type_id": dc["tid"]},
        {"custom_activity_type_id__in": dc["tid"]},
        {"user_id": _users(api)["Ada"]},
    ):
        assert api.get("activity/custom/", params=params).status_code == 400
    found = api.get(
        "activity/custom/",
        params={"custom_activity_type_id": dc["tid"], "lead_id": dc["lead"]["id"]},
    ).json()
    assert found["data"] and all(a["custom_activity_type_id"] == dc["tid"] for a in found["data"])
    assert api.get("activity/", params={"_type": "Custom"}).status_code == 400
    generic = api.get("activity/", params={"_type": dc["tid"], "lead_id": dc["lead"]["id"]})
    assert [a["id"] for a in generic.json()["data"]] == [a["id"] for a in found["data"]]


def test_activity_list_filters(api: httpx.Client, dc: Any) -> None:
    old = api.post("activity/custom/", json={**dc["body"], "date_created": "2001-01-01T00:00:00Z"})
    new = api.post("activity/custom/", json={**dc["body"], "date_created": "2001-01-03T00:00:00Z"})
    window = {"date_created__gte": "2001-01-01", "date_created__lt": "2001-01-03"}
    got = api.get("activity/custom/", params=window).json()["data"]
    assert [a["id"] for a in got] == [old.json()["id"]]
    both = api.get("activity/custom/", params={"id__in": f"{old.json()['id']},{new.json()['id']}"})
    assert [a["id"] for a in both.json()["data"]] == [new.json()["id"], old.json()["id"]]
    lead_ids = ",".join(lead["id"] for lead in leads(api)[:3])
    many = api.get("activity/custom/", params={"lead_id": lead_ids}).json()["data"]
    assert {a["lead_id"] for a in many} <= set(lead_ids.split(","))


# -- custom objects ------------------------------------------------------------------------------
def test_custom_object_list_needs_lead_id(api: httpx.Client) -> None:
    response = api.get("custom_object/")
    assert response.status_code == 400 and "lead_id" in response.json()["field-errors"]


def test_custom_object_lifecycle(api: httpx.Client) -> None:
    deal = object_type_id(api, "Deal")
    keys = field_keys(api, "custom_object", deal)
    lead = leads(api)[5]
    missing = api.post(
        "custom_object/", json={"custom_object_type_id": deal, "lead_id": lead["id"]}
    )
    assert missing.status_code == 400 and "name" in missing.json()["field-errors"]
    no_amount = api.post(
        "custom_object/", json={"custom_object_type_id": deal, "lead_id": lead["id"], "name": "X"}
    )
    assert keys["Amount"] in no_amount.json()["field-errors"]
    created = api.post(
        "custom_object/",
        json={
            "custom_object_type_id": deal,
            "lead_id": lead["id"],
            "name": "Big",
            keys["Amount"]: 10,
        },
    )
    assert created.status_code == 201
    obj = created.json()
    assert obj["id"].startswith("custobj_") and obj[keys["Amount"]] == 10
    url = f"custom_object/{obj['id']}/"
    updated = api.put(url, json={"name": "Bigger", keys["Stage"]: "Won"}).json()
    assert (updated["name"], updated[keys["Amount"]], updated[keys["Stage"]]) == (
        "Bigger",
        10,
        "Won",
    )
    listed = api.get(
        "custom_object/", params={"lead_id": lead["id"], "custom_object_type_id": deal}
    )
    assert [o["id"] for o in listed.json()["data"]] == [obj["id"]]
    deleted = api.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get(url).status_code == 404


def test_unfiltered_list_stays_ordered_through_writes(api: httpx.Client, dc: Any) -> None:
    def listed() -> list[tuple[str, str]]:
        data = api.get("activity/custom/", params={"_limit": 100}).json()["data"]
        return [(a["date_created"], a["id"]) for a in data]

    before = listed()
    old = api.post("activity/custom/", json={**dc["body"], "date_created": "2001-01-01T00:00:00Z"})
    api.post("activity/custom/", json=dc["body"])
    api.delete(f"activity/custom/{before[0][1]}/")
    api.put(f"activity/custom/{old.json()['id']}/", json={"pinned": True})
    after = listed()
    assert after == sorted(after, reverse=True)
    assert len(after) == len(before) + 1 and before[0] not in after
