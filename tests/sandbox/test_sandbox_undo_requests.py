"""What ``closecsv undo`` sends, answered as Close documents it: ``DELETE`` of an activity or
object (then 404, again and on a GET), and a ``PUT`` patch whose ``null`` clears a field,
multi-value and user fields included, and only the fields it names."""

from __future__ import annotations

import httpx

from tests.helpers.sandbox_api import field_keys, leads, object_type_id, type_id


def test_deleting_an_object_answers_204_then_404(api: httpx.Client) -> None:
    deal = object_type_id(api, "Deal")
    keys = field_keys(api, "custom_object", deal)
    body = {"custom_object_type_id": deal, "lead_id": leads(api)[0]["id"], "name": "X"}
    obj = api.post("custom_object/", json={**body, keys["Amount"]: 1}).json()
    url = f"custom_object/{obj['id']}/"
    assert api.delete(url).status_code == 204
    assert api.delete(url).status_code == 404
    assert api.get(url).status_code == 404
    assert api.put(url, json={"name": "Y"}).status_code == 404


def test_deleting_an_activity_twice_answers_404(api: httpx.Client) -> None:
    tid = type_id(api, "Discovery Call")
    body = {"custom_activity_type_id": tid, "lead_id": leads(api)[0]["id"]}
    act = api.post("activity/custom/", json={**body, "status": "draft"}).json()
    assert api.delete(f"activity/custom/{act['id']}/").status_code == 200
    assert api.delete(f"activity/custom/{act['id']}/").status_code == 404


def test_a_put_of_null_clears_only_the_fields_it_names(api: httpx.Client) -> None:
    tid = type_id(api, "Discovery Call")
    keys = field_keys(api, "activity", tid)
    users = [u["id"] for u in api.get("user/").json()["data"]]
    body = {
        "custom_activity_type_id": tid,
        "lead_id": leads(api)[0]["id"],
        keys["Outcome"]: "Interested",
        keys["Reference Code"]: "R-9",
        keys["Products"]: ["Core", "API"],
        keys["Attendees"]: users[:2],
        keys["Notes"]: "kept",
    }
    act = api.post("activity/custom/", json=body).json()
    url = f"activity/custom/{act['id']}/"
    cleared = api.put(url, json={keys["Products"]: None, keys["Attendees"]: None}).json()
    assert keys["Products"] not in cleared or cleared[keys["Products"]] in (None, [])
    assert keys["Attendees"] not in cleared or cleared[keys["Attendees"]] in (None, [])
    assert (cleared[keys["Notes"]], cleared[keys["Reference Code"]]) == ("kept", "R-9")
    back = api.put(url, json={keys["Products"]: ["Core", "API"], keys["Attendees"]: users[:2]})
    assert back.json()[keys["Products"]] == ["Core", "API"]
    assert back.json()[keys["Attendees"]] == users[:2]
    assert back.json()["date_updated"] >= cleared["date_updated"]
