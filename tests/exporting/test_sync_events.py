"""The event walk asks Close only what it supports (``object_type`` + ``action``, one walk per
action, ``date_updated__gte``, ``_limit`` 50, cursors, never ``_skip``) and keeps ids only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from closecsv.close.kinds import ACTIVITIES, OBJECTS
from closecsv.exporting.sync_events import fetch_current, walk_events

SINCE = datetime(2026, 11, 29, 4, 5, tzinfo=UTC)


class Script:
    """Answers ``GET event/`` from pages per action; records every request's parameters."""

    def __init__(self, pages: dict[str, list[list[dict[str, Any]]]]) -> None:
        self.pages = pages
        self.asked: list[dict[str, Any]] = []

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        assert path == "event/"
        query = dict(params or {})
        self.asked.append(query)
        pages = self.pages[query["action"]]
        at = int(query.get("_cursor", "0"))
        more = at + 1 < len(pages)
        return {"data": pages[at], "cursor_next": str(at + 1) if more else None}

    def paginate(
        self, path: str, params: Any = None, *, page_size: int | None = None
    ) -> Iterator[Any]:
        raise AssertionError("not used")

    def search(
        self, query: Any, fields: Any, *, page_size: int = 200, sort: Any = None
    ) -> list[Any]:
        raise AssertionError("not used")

    def post(self, path: str, json: Any) -> dict[str, Any]:
        raise AssertionError("not used")


def ev(object_id: str, data: Any = None) -> dict[str, Any]:
    return {"object_id": object_id, "data": data}


def test_one_walk_per_action_with_cursors_and_only_supported_filters() -> None:
    api = Script(
        {
            "created": [[ev("a1"), ev("a2")], [ev("a3")]],
            "updated": [[ev("a1"), ev("a4", data={"custom.cf_x": "stale"})]],
            "deleted": [[ev("a2"), ev("a5")]],
        }
    )
    found = walk_events(api, ACTIVITIES, SINCE)
    assert found.events == 7
    assert found.to_fetch == ["a1", "a3", "a4"]  # a2 was deleted: ids never come back
    assert found.deleted == {"a2", "a5"}
    base = {
        "object_type": "activity.custom_activity",
        "date_updated__gte": "2026-11-29T04:05:00.000000+00:00",
        "_limit": 50,
    }
    assert api.asked == [
        {**base, "action": "created"},
        {**base, "action": "created", "_cursor": "1"},
        {**base, "action": "updated"},
        {**base, "action": "deleted"},
    ]


def test_objects_walk_custom_object_events() -> None:
    api = Script({"created": [[]], "updated": [[ev("custobj_1")]], "deleted": [[]]})
    found = walk_events(api, OBJECTS, SINCE)
    assert found.to_fetch == ["custobj_1"]
    assert {q["object_type"] for q in api.asked} == {"custom_object"}


class Reader:
    """Answers ``id__in`` reads with the instances that still exist."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing
        self.batches: list[list[str]] = []

    def paginate(
        self, path: str, params: Mapping[str, Any], *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        ids = str(params["id__in"]).split(",")
        self.batches.append(ids)
        return iter([{"id": i} for i in ids if i in self.existing])


def test_activities_are_read_100_ids_a_request_and_the_missing_are_left_out() -> None:
    ids = [f"acti_{n:03d}" for n in range(250)]
    reader = Reader(set(ids[:-10]))
    found = fetch_current(reader, ACTIVITIES, ids, [])  # type: ignore[arg-type]
    assert [len(b) for b in reader.batches] == [100, 100, 50]
    assert [i["id"] for i in found] == ids[:-10]
