"""The sandbox answers as Close answers (docs/CLOSE_API.md): auth, paging, caps, errors, rules.

Ids are discovered through the API by name, as a client would.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.sandbox_api import leads, object_type_id, type_id


# -- auth and routing ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic " + base64.b64encode(b"wrong-key:").decode(),
        "Basic " + base64.b64encode(f"{SANDBOX_API_KEY}:secret".encode()).decode(),
        "Bearer " + SANDBOX_API_KEY,
        "Basic !!!",
    ],
)
def test_requests_without_the_key_get_401_unauthorized(
    sandbox: Sandbox, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    with httpx.Client(transport=sandbox.transport(), base_url="http://s/api/v1/") as client:
        response = client.get("me/", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}
    assert SANDBOX_API_KEY not in response.text


def test_unknown_routes_answer_404_with_an_error_string(api: httpx.Client) -> None:
    for path in ("nothing/", "lead/extra/parts/", "/api/v2/me/", "lead"):
        response = api.get(path)
        assert response.status_code == 404
        assert isinstance(response.json()["error"], str)


def test_known_route_with_wrong_method_is_405(api: httpx.Client) -> None:
    assert api.delete("lead/").status_code == 405
    assert api.put("custom_activity/", json={}).status_code == 405


def test_invalid_json_body_is_a_400_with_error(api: httpx.Client) -> None:
    response = api.post("activity/custom/", content=b"{not json")
    assert response.status_code == 400
    assert response.json() == {"error": "The request contains invalid JSON."}


def test_me_and_organization_memberships(api: httpx.Client) -> None:
    me = api.get("me/").json()
    assert (me["first_name"], me["email"]) == ("Ada", "ada@example.com")
    org_id = me["organizations"][0]["id"]
    org = api.get(f"organization/{org_id}/").json()
    assert {m["user_email"] for m in org["memberships"]} == {"ada@example.com", "grace@example.com"}
    assert [m["user_full_name"] for m in org["inactive_memberships"]] == ["Alan Turing"]
    expanded = api.get(
        f"organization/{org_id}/",
        params={"_expand": "memberships__user,inactive_memberships__user"},
    ).json()
    assert expanded["inactive_memberships"][0]["user"]["email"] == "alan@example.com"
    users = api.get("user/").json()
    assert len(users["data"]) == 3 and users["has_more"] is False


# -- paging and caps ---------------------------------------------------------------------------
def test_lead_limit_cap_is_200_with_closes_exact_body(api: httpx.Client) -> None:
    assert api.get("lead/", params={"_limit": 200}).status_code == 200
    response = api.get("lead/", params={"_limit": 201})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [],
        "field-errors": {"_limit": "Input should be less than or equal to 200"},
    }


def test_skip_cap_answers_the_max_skip_message(api: httpx.Client) -> None:
    assert api.get("lead/", params={"_skip": 35000}).status_code == 200
    response = api.get("lead/", params={"_skip": 35001})
    assert response.status_code == 400
    assert "max_skip = 35000" in response.json()["error"]
    response = api.get("activity/custom/", params={"_skip": 250001})
    assert "max_skip = 250000" in response.json()["error"]
    assert api.get("activity/custom/", params={"_limit": 101}).status_code == 400


def test_max_skip_option_overrides_every_cap(client_for: Any) -> None:
    with client_for(Sandbox(max_skip=10)) as api:
        assert api.get("lead/", params={"_skip": 10}).status_code == 200
        response = api.get("lead/", params={"_skip": 11})
        assert "max_skip = 10" in response.json()["error"]


def test_has_more_is_exact_and_pages_cover_every_lead_once(api: httpx.Client) -> None:
    assert api.get("lead/", params={"_limit": 60}).json()["has_more"] is False
    assert api.get("lead/", params={"_limit": 59}).json()["has_more"] is True
    seen: list[str] = []
    skip = 0
    while True:
        page = api.get("lead/", params={"_limit": 7, "_skip": skip}).json()
        seen += [lead["id"] for lead in page["data"]]
        skip += 7
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 60


def test_lists_are_newest_first(api: httpx.Client) -> None:
    stamps = [lead["date_created"] for lead in api.get("lead/").json()["data"]]
    assert stamps == sorted(stamps, reverse=True)


def test_bad_integer_parameter_is_a_field_error(api: httpx.Client) -> None:
    response = api.get("lead/", params={"_limit": "many"})
    assert response.status_code == 400 and "_limit" in response.json()["field-errors"]


def test_long_filters_via_method_override(api: httpx.Client) -> None:
    lead_ids = [lead["id"] for lead in leads(api)[:3]]
    response = api.post(
        "contact/",
        json={"_params": {"lead_id": ",".join(lead_ids)}},
        headers={"x-http-method-override": "GET"},
    )
    assert response.status_code == 200
    assert {c["lead_id"] for c in response.json()["data"]} == set(lead_ids)


# -- leads and contacts ------------------------------------------------------------------------
def test_seed_has_ambiguous_name_and_email(api: httpx.Client) -> None:
    all_leads = leads(api)
    assert len(all_leads) == 60
    assert [lead["name"] for lead in all_leads].count("Globex") == 2
    shared = api.get("lead/", params={"query": "email:shared@example.net"}).json()
    assert shared["total_results"] == 2
    for lead in all_leads:
        assert 1 <= len(lead["contacts"]) <= 2
        for contact in lead["contacts"]:
            assert contact["emails"][0]["email"]
            assert contact["phones"][0]["phone"].startswith("+1")


def test_lead_fields_and_contact_lead_filter(api: httpx.Client) -> None:
    lead = leads(api)[0]
    one = api.get(f"lead/{lead['id']}/", params={"_fields": "id,name"}).json()
    assert one == {"id": lead["id"], "name": lead["name"]}
    contacts = api.get("contact/", params={"lead_id": lead["id"]}).json()["data"]
    assert {c["id"] for c in contacts} == set(lead["contact_ids"])
    assert api.get("lead/lead_missing/").status_code == 404


# -- types and fields ----------------------------------------------------------------------------
def test_activity_type_fields_carry_no_choices(api: httpx.Client) -> None:
    types = api.get("custom_activity/").json()
    assert "has_more" not in types
    names = {t["name"]: t for t in types["data"]}
    assert set(names) == {"Discovery Call", "Support Ticket", "Legacy Survey"}
    assert names["Legacy Survey"]["is_archived"] is True
    assert all("choices" not in f for t in types["data"] for f in t["fields"])


def test_schema_has_full_definitions_in_order_with_shared_fields(api: httpx.Client) -> None:
    tid = type_id(api, "Discovery Call")
    fields = api.get(f"custom_field_schema/activity/{tid}/").json()["fields"]
    assert [f["name"] for f in fields] == [
        "Outcome", "Duration (min)", "Notes", "Next Step Date", "Follow-up At", "Attendees",
        "Products", "Primary Contact", "Related Deal", "Reference Code", "Internal Score",
        "Region",
    ]  # fmt: skip
    by_name = {f["name"]: f for f in fields}
    assert by_name["Outcome"]["choices"] == ["Interested", "Not interested", "Follow up"]
    assert by_name["Outcome"]["required"] and by_name["Reference Code"]["required"]
    assert by_name["Products"]["accepts_multiple_values"] is True
    assert by_name["Region"]["is_shared"] is True
    deal = object_type_id(api, "Deal")
    assert by_name["Related Deal"]["referenced_custom_type_id"] == deal


def test_per_type_and_shared_field_lists(api: httpx.Client) -> None:
    activity_fields = api.get("custom_field/activity/").json()
    assert "Region" not in {f["name"] for f in activity_fields["data"]}
    assert activity_fields["has_more"] is False
    shared = api.get("custom_field/shared/").json()["data"]
    assert [f["name"] for f in shared] == ["Region"]
    assert len(shared[0]["associations"]) == 2
    object_fields = api.get("custom_field/custom_object_type/").json()
    assert "has_more" not in object_fields
    deal = object_type_id(api, "Deal")
    schema = api.get(f"custom_field_schema/custom_object/{deal}/").json()["fields"]
    assert [f["name"] for f in schema] == ["Amount", "Stage", "Close Date", "Owner", "Notes"]
    assert "has_more" not in api.get("custom_object_type/").json()
