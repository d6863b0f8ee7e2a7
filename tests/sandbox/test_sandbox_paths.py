"""Paths as Close routes them: a missing trailing slash is a redirect, repeated slashes are one.

Close asks for the trailing slash on every path "to avoid a redirect": without it the answer is
a redirect to the slash form, not a 404.  The sandbox answers 308 (method and body kept), with
the query string kept.  Airbyte's connector asks for ``<base>/custom_object_type`` with a base
ending in ``/``: a doubled slash and no trailing slash; Close serves it, and so must the
sandbox, or the connector's custom-object discovery finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

AUTH = (SANDBOX_API_KEY, "")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox()
    with sb.serve() as url:
        yield sb, url


def test_a_get_without_the_slash_is_redirected_with_its_query(
    served: tuple[Sandbox, str],
) -> None:
    _sb, url = served
    with httpx.Client(base_url=url, auth=AUTH) as client:
        answer = client.get("lead", params={"_limit": "2", "_fields": "id,name"})
        assert answer.status_code == 308
        target = urlsplit(answer.headers["location"])
        assert target.path == "/api/v1/lead/"
        assert dict(p.split("=") for p in target.query.split("&")) == {
            "_limit": "2",
            "_fields": "id%2Cname",
        }
        followed = client.get("lead", params={"_limit": "2"}, follow_redirects=True)
    assert followed.status_code == 200 and len(followed.json()["data"]) == 2


def test_a_post_without_the_slash_keeps_its_method_and_body(served: tuple[Sandbox, str]) -> None:
    sb, url = served
    act = next(iter(sb.state.custom_activities.values()))
    body = {
        "custom_activity_type_id": act["custom_activity_type_id"],
        "lead_id": act["lead_id"],
        "status": "draft",  # no required fields to give
    }
    with httpx.Client(base_url=url, auth=AUTH, follow_redirects=True) as client:
        created = client.post("activity/custom", json=body)
        assert created.status_code == 200, created.text
        assert [r.status_code for r in created.history] == [308]
        assert created.json()["id"] in sb.state.custom_activities
        searched = client.post("data/search", json={"query": {"type": "match_all"}})
    assert searched.status_code == 200 and searched.json()["data"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1//custom_object_type/", "/api/v1//custom_object_type", "//api/v1/me/"],
)
def test_repeated_slashes_are_read_as_one(path: str, served: tuple[Sandbox, str]) -> None:
    sb, url = served
    parts = urlsplit(url)
    missing = sb.dispatcher.status_counts[404]
    with httpx.Client(auth=AUTH) as client:  # httpx sends the path as written
        answer = client.get(f"{parts.scheme}://{parts.netloc}{path}")
        if not path.endswith("/"):
            assert answer.status_code == 308
            assert answer.headers["location"] == "/api/v1/custom_object_type/"
            answer = client.get(f"{parts.scheme}://{parts.netloc}{path}", follow_redirects=True)
    assert answer.status_code == 200, answer.text
    if "custom_object_type" in path:
        assert {t["name"] for t in answer.json()["data"]} == {"Deal", "Subscription"}
    assert sb.dispatcher.status_counts[404] == missing


def test_an_unknown_path_without_a_slash_is_still_a_404(served: tuple[Sandbox, str]) -> None:
    _sb, url = served
    with httpx.Client(base_url=url, auth=AUTH) as client:
        assert client.get("nothing").status_code == 404
        assert client.get("lead/a/b").status_code == 404


def test_the_redirect_needs_the_key_like_every_answer(served: tuple[Sandbox, str]) -> None:
    _sb, url = served
    assert httpx.get(url + "lead").status_code == 401


def test_a_redirect_to_a_path_with_any_characters_is_ascii(served: tuple[Sandbox, str]) -> None:
    sb, url = served
    act = next(iter(sb.state.custom_activities))
    with httpx.Client(base_url=url, auth=AUTH) as client:
        answer = client.get(f"activity/custom/{act}é")
    assert answer.status_code == 308
    assert answer.headers["location"] == f"/api/v1/activity/custom/{act}%C3%A9/"
    with httpx.Client(transport=sb.transport(), base_url=url, auth=AUTH) as client:
        assert client.get(f"activity/custom/{act}é").status_code == 308
