"""Streaming a search in date_created order: keyset walks past the per-walk cap, ties at the
boundary neither lost nor repeated, expired cursors, and a sort Close did not honour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from closecsv.close.search_stream import KeysetStream
from closecsv.errors import ApiError, RequestRejected

OTYPE = "activity.custom_activity"
QUERY = {"type": "and", "queries": [{"type": "object_type", "object_type": OTYPE}]}
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def stamp(seconds: int) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def items(seconds: list[int]) -> list[dict[str, Any]]:
    return [{"id": f"acti_{n:04d}", "date_created": stamp(s)} for n, s in enumerate(seconds)]


def _after(query: Mapping[str, Any]) -> datetime | None:
    for node in query.get("queries", []):
        cond = node.get("condition", {})
        if cond.get("type") == "moment_range":
            return datetime.fromisoformat(cond["on_or_after"]["value"])
    return None


@dataclass
class FakeSearch:
    """Date-ordered search over ``objs`` with a per-walk cap; ties come back in a different
    order on every walk (Close promises no order among equal timestamps)."""

    objs: list[dict[str, Any]]
    walk_cap: int
    expire: set[int] = field(default_factory=set)  # request numbers answered "Expired cursor"
    reverse_pages: bool = False
    requests: int = 0
    walks: dict[str, tuple[list[dict[str, Any]], int]] = field(default_factory=dict)

    def __call__(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        assert path == "data/search/"
        assert body["sort"][0]["direction"] == "asc"
        assert "date_created" in body["_fields"][OTYPE]
        self.requests += 1
        if body.get("cursor") and self.requests in self.expire:
            errors = {"cursor": "Expired cursor"}
            raise RequestRejected(400, "Expired cursor", field_errors=errors)
        if body.get("cursor"):
            found, pos = self.walks.pop(body["cursor"])
        else:
            after = _after(body["query"])
            keep = [o for o in self.objs if after is None or _moment(o) >= after]
            flip = self.requests % 2 == 0
            keep.sort(key=lambda o: o["id"], reverse=flip)
            keep.sort(key=_moment)
            found, pos = keep[: self.walk_cap], 0
        page = found[pos : pos + body["_limit"]]
        pos += len(page)
        cursor = None
        if pos < len(found):
            cursor = f"c{self.requests}"
            self.walks[cursor] = (found, pos)
        data = list(reversed(page)) if self.reverse_pages else page
        return {"data": [{"__object_type": OTYPE, **o} for o in data], "cursor": cursor}


def _moment(obj: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(obj["date_created"])


def run(fake: FakeSearch, page: int, cap: int | None = None) -> list[str]:
    stream = KeysetStream(fake, walk_cap=cap or fake.walk_cap)
    return [o["id"] for o in stream.stream(QUERY, OTYPE, ["id"], page_size=page)]


def test_ties_across_walk_boundaries_are_each_yielded_once() -> None:
    # 7 objects share each second, so every walk of 10 ends inside a run of ties
    objs = items([n // 7 for n in range(60)])
    got = run(FakeSearch(objs, walk_cap=10), page=4)
    assert sorted(got) == sorted(o["id"] for o in objs)
    assert len(got) == len(set(got))
    moments = [stamp(n // 7) for n in range(60)]
    assert [next(o for o in objs if o["id"] == i)["date_created"] for i in got] == moments


def test_a_walk_that_ends_on_a_full_page_is_followed_by_one_more() -> None:
    objs = items(list(range(8)))
    fake = FakeSearch(objs, walk_cap=100)
    assert run(fake, page=4) == [o["id"] for o in objs]
    assert fake.requests == 3  # two full pages, then a walk that finds only the last one


def test_a_short_last_page_ends_the_stream() -> None:
    fake = FakeSearch(items(list(range(9))), walk_cap=100)
    assert len(run(fake, page=4)) == 9
    assert fake.requests == 3


def test_a_cap_the_client_does_not_know_is_passed_on_full_pages() -> None:
    objs = items([n // 3 for n in range(50)])
    got = run(FakeSearch(objs, walk_cap=8), page=4, cap=10_000)
    assert sorted(got) == sorted(o["id"] for o in objs)
    assert len(got) == len(set(got))


def test_an_expired_cursor_continues_after_the_last_object_yielded() -> None:
    objs = items([n // 2 for n in range(30)])
    fake = FakeSearch(objs, walk_cap=100, expire={3, 6})
    got = run(fake, page=4)
    assert sorted(got) == sorted(o["id"] for o in objs)
    assert len(got) == len(set(got))


def test_a_cursor_that_keeps_expiring_is_an_error() -> None:
    # one object per page: each new walk starts with the one already yielded, then expires
    fake = FakeSearch(items(list(range(30))), walk_cap=100, expire=set(range(2, 40)))
    with pytest.raises(ApiError, match="kept expiring"):
        run(fake, page=1)


def test_more_ties_than_one_walk_holds_is_an_error() -> None:
    with pytest.raises(ApiError, match="share date_created"):
        run(FakeSearch(items([0] * 12), walk_cap=10), page=5)


def test_results_out_of_date_order_stop_the_stream() -> None:
    with pytest.raises(ApiError, match="out of date_created order"):
        run(FakeSearch(items(list(range(10))), walk_cap=100, reverse_pages=True), page=4)


def test_pages_are_yielded_as_they_arrive() -> None:
    fake = FakeSearch(items(list(range(1000))), walk_cap=10_000)
    stream = KeysetStream(fake).stream(QUERY, OTYPE, ["id"], page_size=200)
    first = [next(stream) for _ in range(200)]
    assert len(first) == 200
    assert fake.requests == 1
