"""Close's own Python client (closeio 2.1), which nobody here wrote, agrees with the sandbox.

It runs against the real socket server.  Its 429 handling reads ``RateLimit`` with the regex
``reset=(\\d+)``, i.e. the integer part of our decimal ``reset``; the rate-limit test uses a
clock that moves 0.25 s per request, so tokens come back while closeio retries, without any
real sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from closeio_api import API, APIError, ValidationError

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox


class StepClock:
    """A clock that moves ``step`` seconds every time it is read (once per request)."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def close_api() -> Iterator[tuple[API, Sandbox]]:
    sb = Sandbox()
    with sb.serve() as base_url:
        yield API(base_url, api_key=SANDBOX_API_KEY, tz_offset="0"), sb


def _support_ticket(api: API) -> tuple[str, dict[str, str]]:
    types = api.get("custom_activity")["data"]
    tid = next(t["id"] for t in types if t["name"] == "Support Ticket")
    fields = api.get(f"custom_field_schema/activity/{tid}")["fields"]
    return tid, {f["name"]: f"custom.{f['id']}" for f in fields}


def test_users_and_lead_lookup(close_api: tuple[API, Sandbox]) -> None:
    api, _sb = close_api
    users = api.get("user", params={"_fields": "id,email"})["data"]
    assert {u["email"] for u in users} == {
        "ada@example.com",
        "grace@example.com",
        "alan@example.com",
    }
    found = api.get("lead", params={"query": "email:shared@example.net", "_fields": "id,name"})
    assert found["total_results"] == 2 and found["has_more"] is False
    me = api.get("me")
    assert me["organizations"][0]["id"].startswith("orga_")


def test_create_get_update_delete_activity(close_api: tuple[API, Sandbox]) -> None:
    api, _sb = close_api
    tid, keys = _support_ticket(api)
    lead = api.get("lead", params={"query": 'name:"Acme Corp"'})["data"][0]
    created = api.post(
        "activity/custom",
        {"custom_activity_type_id": tid, "lead_id": lead["id"], keys["Ticket ID"]: "T-9"},
    )
    assert created["id"].startswith("acti_") and created[keys["Ticket ID"]] == "T-9"
    assert api.get(f"activity/custom/{created['id']}") == created
    updated = api.put(f"activity/custom/{created['id']}", {keys["Priority"]: "Low"})
    assert updated[keys["Priority"]] == "Low" and updated[keys["Ticket ID"]] == "T-9"
    with pytest.raises(ValidationError) as info:
        api.put(f"activity/custom/{created['id']}", {keys["Priority"]: "Urgent"})
    assert list(info.value.field_errors) == [keys["Priority"]]
    api.delete(f"activity/custom/{created['id']}")
    with pytest.raises(APIError):
        api.get(f"activity/custom/{created['id']}")


def test_closeio_survives_429s() -> None:
    sb = Sandbox(rate_limit=1, clock=StepClock(0.25))
    with sb.serve() as base_url:
        api = API(base_url, api_key=SANDBOX_API_KEY, tz_offset="0")
        for _ in range(3):
            assert len(api.get("user")["data"]) == 3
    assert sb.dispatcher.status_counts[429] >= 3
    assert sb.dispatcher.status_counts[200] == 3


def test_wrong_key_is_an_api_error() -> None:
    with Sandbox().serve() as base_url:
        api = API(base_url, api_key="not-the-key", tz_offset="0")
        with pytest.raises(APIError) as info:
            api.get("me")
    assert info.value.response.status_code == 401
    assert info.value.response.json() == {"error": "Unauthorized"}


def test_closeio_pages_every_field_list_as_close_api_scripts_do(
    close_api: tuple[API, Sandbox],
) -> None:
    """Close's ``clone_organization.py`` pages ``custom_field/activity`` and
    ``custom_field/shared`` with ``_skip`` until ``has_more`` is false (its wrapper's
    ``get_all_items``), and reads ``referenced_custom_type_id`` of every field."""
    api, sb = close_api
    found: dict[str, list[dict[str, object]]] = {}
    for path in ("custom_field/activity", "custom_field/shared"):
        items: list[dict[str, object]] = []
        while True:
            page = api.get(path, params={"_skip": len(items), "_limit": 5})
            items += page["data"]
            if not page["has_more"]:
                break
        found[path] = items
    shared = {f["id"] for f in sb.state.fields.values() if f.get("is_shared")}
    assert {f["id"] for f in found["custom_field/shared"]} == shared
    owned = {
        f["id"]
        for f in sb.state.fields.values()
        if "custom_activity_type_id" in f and not f.get("is_shared")
    }
    assert {f["id"] for f in found["custom_field/activity"]} == owned
    fields = found["custom_field/activity"] + found["custom_field/shared"]
    assert all("referenced_custom_type_id" in f for f in fields)
