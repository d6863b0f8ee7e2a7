"""Search paging: cursors fetched back to back, expired-cursor restarts, keyset past 10k."""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from closecsv.close.client import CloseClient
from closecsv.errors import ApiError, RequestRejected

BASE = "https://api.close.test/api/v1/"
QUERY = {"type": "and", "queries": [{"type": "object_type", "object_type": "lead"}]}
ASC = [
    {
        "direction": "asc",
        "field": {"type": "regular_field", "object_type": "lead", "field_name": "date_created"},
    }
]


@dataclass
class FakeSearch:
    """``POST /data/search/`` over ``items``: sort by ``date_created``, ``on_or_after`` keyset
    conditions, cursors, a per-walk cap, and cursors that expire on request."""

    items: list[dict[str, Any]]
    walk_cap: int = 10_000
    expire_on: set[int] = field(default_factory=set)  # request numbers answered "Expired"
    bodies: list[dict[str, Any]] = field(default_factory=list)
    walks: dict[str, tuple[list[dict[str, Any]], int]] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if len(self.bodies) in self.expire_on:
            return httpx.Response(400, json={"field-errors": {"cursor": "Expired cursor"}})
        if body.get("cursor"):
            found, pos = self.walks.pop(body["cursor"])
        else:
            found, pos = self._start(body), 0
        page = found[pos : pos + body["_limit"]]
        pos += len(page)
        cursor = None
        if pos < len(found):
            cursor = f"c{len(self.bodies)}"
            self.walks[cursor] = (found, pos)
        data = [{"__object_type": "lead", **o} for o in page]
        return httpx.Response(200, json={"data": data, "cursor": cursor})

    def _start(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        after = _on_or_after(body["query"])
        found = [o for o in self.items if after is None or o["date_created"] >= after]
        if body.get("sort"):
            found.sort(key=lambda o: o["date_created"])
        return found[: self.walk_cap]


def _on_or_after(query: dict[str, Any]) -> str | None:
    for sub in query.get("queries", []):
        condition = sub.get("condition", {})
        if condition.get("type") == "moment_range":
            return str(condition["on_or_after"]["value"])
    return None


def _leads(n: int, ties: int = 1) -> list[dict[str, Any]]:
    return [
        {"id": f"lead_{i:03d}", "date_created": f"2024-01-01T00:{i // ties:02d}:00+00:00"}
        for i in range(n)
    ]


@pytest.fixture
def make_client(make_client: Callable[..., CloseClient]) -> Callable[..., CloseClient]:
    """Clients with a key long enough to be looked for in messages."""
    return functools.partial(make_client, "api_searchkey_0123456789")


def _serve(httpx_mock: HTTPXMock, fake: FakeSearch) -> FakeSearch:
    httpx_mock.add_callback(fake, is_reusable=True, method="POST", url=f"{BASE}data/search/")
    return fake


def test_cursor_pages_are_fetched_back_to_back(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeSearch(_leads(5)))
    found = make_client().search(QUERY, {"lead": ["id", "display_name"]}, page_size=2)
    assert [o["id"] for o in found] == [f"lead_{i:03d}" for i in range(5)]
    assert all("date_created" not in o for o in found)  # added for sorting, then removed
    assert [b.get("cursor") for b in fake.bodies] == [None, "c1", "c2"]
    assert fake.bodies[0] == {
        "query": QUERY,
        "_fields": {"lead": ["id", "display_name", "date_created"]},
        "_limit": 2,
        "sort": ASC,
    }


def test_requested_date_created_is_kept(httpx_mock: HTTPXMock, make_client: Any) -> None:
    _serve(httpx_mock, FakeSearch(_leads(2)))
    found = make_client().search(QUERY, {"lead": ["id", "date_created"]})
    assert found[0]["date_created"] == "2024-01-01T00:00:00+00:00"


def test_page_size_is_at_most_200(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeSearch(_leads(1)))
    make_client().search(QUERY, {"lead": ["id"]}, page_size=1000)
    assert fake.bodies[0]["_limit"] == 200


def test_an_expired_cursor_restarts_the_walk(httpx_mock: HTTPXMock, make_client: Any) -> None:
    fake = _serve(httpx_mock, FakeSearch(_leads(7), expire_on={3}))
    found = make_client().search(QUERY, {"lead": ["id"]}, page_size=2)
    assert Counter(o["id"] for o in found) == Counter(o["id"] for o in fake.items)
    assert [b.get("cursor") for b in fake.bodies] == [None, "c1", "c2", None, "c4", "c5", "c6"]


def test_cursors_that_keep_expiring_end_in_the_rejection(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    _serve(httpx_mock, FakeSearch(_leads(7), expire_on={2, 4, 6, 8}))
    with pytest.raises(RequestRejected, match="cursor: Expired cursor"):
        make_client().search(QUERY, {"lead": ["id"]}, page_size=2)


@pytest.mark.parametrize("ties", [1, 3])
def test_past_the_walk_cap_keyset_paging_continues(
    httpx_mock: HTTPXMock, make_client: Any, ties: int
) -> None:
    fake = _serve(httpx_mock, FakeSearch(_leads(20, ties=ties), walk_cap=6))
    found = make_client(search_walk_cap=6).search(QUERY, {"lead": ["id"]}, page_size=4)
    assert [o["id"] for o in found] == [o["id"] for o in fake.items]  # once each, in order
    keyset = [_on_or_after(b["query"]) for b in fake.bodies if "cursor" not in b]
    assert keyset[0] is None
    assert keyset[1:] == sorted(set(keyset[1:]))  # strictly moving forward


def test_a_custom_sort_cannot_pass_the_walk_cap(httpx_mock: HTTPXMock, make_client: Any) -> None:
    _serve(httpx_mock, FakeSearch(_leads(10), walk_cap=6))
    sort = [{"direction": "desc", "field": ASC[0]["field"]}]
    with pytest.raises(ApiError, match=r"more than 6 results for one cursor walk"):
        make_client(search_walk_cap=6).search(QUERY, {"lead": ["id"]}, sort=sort)


def test_more_ties_than_a_walk_holds_is_an_error(httpx_mock: HTTPXMock, make_client: Any) -> None:
    _serve(httpx_mock, FakeSearch(_leads(10, ties=10), walk_cap=6))
    with pytest.raises(ApiError, match=r"more than 6 results share date_created"):
        make_client(search_walk_cap=6).search(QUERY, {"lead": ["id"]})


def test_search_is_a_read_and_is_retried(httpx_mock: HTTPXMock, make_client: Any) -> None:
    httpx_mock.add_response(status_code=502)
    httpx_mock.add_response(json={"data": [{"id": "lead_1"}], "cursor": None})
    assert make_client().search(QUERY, {"lead": ["id"]}) == [{"id": "lead_1"}]
