"""``GET /activity/custom/?id__in=a,b,c`` (Close's documented parameter): the given
instances, newest first, in one request, also without ``lead_id`` and in the long-filter form."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from closecsv.sandbox import Sandbox
from tests.helpers.sandbox_api import field_keys, leads, type_id


@pytest.fixture
def made(api: httpx.Client) -> list[str]:
    """Ids of 120 new Support Tickets over three leads, oldest first."""
    tid = type_id(api, "Support Ticket")
    ticket = field_keys(api, "activity", tid)["Ticket ID"]
    lead_ids = [lead["id"] for lead in leads(api)][:3]
    out = []
    for n in range(120):
        body = {"custom_activity_type_id": tid, "lead_id": lead_ids[n % 3], ticket: f"T-{n}"}
        out.append(api.post("activity/custom/", json=body).json()["id"])
    return out


def test_id_in_lists_exactly_the_given_instances(api: httpx.Client, made: list[str]) -> None:
    wanted = made[5:105:3]  # 34 ids over three leads
    answer = api.get("activity/custom/", params={"id__in": ",".join(wanted), "_limit": 100})
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert {a["id"] for a in data} == set(wanted) and answer.json()["has_more"] is False
    assert [a["id"] for a in data] == [a for a in made[::-1] if a in wanted]  # newest first
    assert data[0] == api.get(f"activity/custom/{data[0]['id']}/").json()


def test_unknown_and_deleted_ids_are_simply_absent(api: httpx.Client, made: list[str]) -> None:
    api.delete(f"activity/custom/{made[0]}/")
    answer = api.get("activity/custom/", params={"id__in": f"{made[0]},acti_nothing,{made[1]}"})
    assert [a["id"] for a in answer.json()["data"]] == [made[1]]


def test_a_hundred_ids_fit_in_the_url_and_in_the_long_filter_form(
    api: httpx.Client, made: list[str]
) -> None:
    wanted = made[:100]
    short = api.get("activity/custom/", params={"id__in": ",".join(wanted), "_limit": 100})
    assert len(short.json()["data"]) == 100
    long_form = api.post(
        "activity/custom/",
        headers={"x-http-method-override": "GET"},
        json={"_params": {"id__in": wanted, "_limit": 100}},
    )
    assert long_form.json() == short.json()


def test_id_in_over_a_real_socket(served: tuple[Sandbox, str]) -> None:
    sandbox, url = served
    with httpx.Client(base_url=url, auth=(sandbox.dispatcher.api_key, "")) as api:
        ids = [a["id"] for a in api.get("activity/custom/").json()["data"]]
        answer = api.get("activity/custom/", params={"id__in": ",".join(ids[:2])})
        assert {a["id"] for a in answer.json()["data"]} == set(ids[:2])


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=sandbox.transport(),
        base_url="http://sandbox.test/api/v1/",
        auth=(sandbox.dispatcher.api_key, ""),
    ) as client:
        yield client
