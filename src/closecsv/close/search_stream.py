"""Streaming a ``POST /data/search/`` result of any size, in ``date_created`` order.

:class:`~closecsv.close.search.SearchWalker` collects a result whole (fine for leads); an
export of every instance must not hold them all, so :class:`KeysetStream` yields each page as
it arrives.  One object type, sorted by ``date_created`` ascending:

- one cursor walk is followed to its end (cursor ``null``); Close stops a walk after 10,000
  objects, so when a walk ended full (at the cap, or on a full page) a new walk starts with
  ``date_created`` *on or after* the last value seen;
- objects of the new walk that carry that same last ``date_created`` and were already yielded
  are skipped (the ids at the last timestamp are remembered): objects sharing a timestamp
  across the boundary are neither lost nor repeated;
- an expired cursor (the consumer was slow) continues the same way from the last object
  yielded, so nothing is re-yielded;
- a result that goes backwards in ``date_created`` means the sort was not honoured: an
  :class:`ApiError`, since keyset paging would then miss objects.

Memory: one page, plus the ids at the current last timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from closecsv.close.paging import Fetch, Obj
from closecsv.close.search import (
    MAX_CURSOR_RESTARTS,
    SEARCH_MAX_LIMIT,
    SEARCH_PATH,
    SEARCH_WALK_CAP,
)
from closecsv.close.shapes import SearchPage, require
from closecsv.errors import ApiError, RequestRejected


def date_created_sort(object_type: str) -> list[Obj]:
    """``sort`` for ``date_created`` ascending on ``object_type``."""
    field_ = {"type": "regular_field", "object_type": object_type, "field_name": "date_created"}
    return [{"direction": "asc", "field": field_}]


def on_or_after(object_type: str, moment: datetime) -> Obj:
    """A query node: ``date_created`` on or after ``moment``."""
    field_ = {"type": "regular_field", "object_type": object_type, "field_name": "date_created"}
    value = moment.isoformat(timespec="microseconds")
    condition = {"type": "moment_range", "on_or_after": {"type": "fixed_utc", "value": value}}
    return {"type": "field_condition", "field": field_, "condition": condition}


def moment_of(obj: Mapping[str, Any]) -> datetime | None:
    """An object's ``date_created`` as an aware UTC datetime (None when missing or unreadable)."""
    value = obj.get("date_created")
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass
class _Edge:
    """The last ``date_created`` yielded and the ids that carry it."""

    last: datetime | None = None
    ids: set[str] = field(default_factory=set)

    def fresh(self, moment: datetime, obj_id: str) -> bool:
        """Record ``obj_id`` at ``moment``; False when it was yielded already."""
        if self.last is None or moment > self.last:
            self.last, self.ids = moment, {obj_id}
            return True
        if moment < self.last:
            raise ApiError(
                f"POST {SEARCH_PATH}: results came back out of date_created order "
                f"({moment.isoformat()} after {self.last.isoformat()}), so paging past "
                "10,000 results cannot be trusted",
                hint="export with --strategy org or --strategy lead",
            )
        if obj_id in self.ids:
            return False
        self.ids.add(obj_id)
        return True


@dataclass
class _WalkEnd:
    returned: int  # objects the walk returned, repeats included
    full: bool  # it ended at the cap or on a full page: there may be more
    expired: bool  # its cursor expired before the end


class KeysetStream:
    """Every object matching ``query`` (one object type), once each; see the module docstring."""

    def __init__(self, post: Fetch, walk_cap: int = SEARCH_WALK_CAP) -> None:
        self._post = post
        self._walk_cap = walk_cap

    def stream(
        self, query: Obj, object_type: str, fields: list[str], page_size: int = SEARCH_MAX_LIMIT
    ) -> Iterator[Obj]:
        wanted = list(dict.fromkeys([*fields, "date_created"]))
        limit = max(1, min(page_size, SEARCH_MAX_LIMIT))
        body: Obj = {"_fields": {object_type: wanted}, "_limit": limit}
        body["sort"] = date_created_sort(object_type)
        edge, stalls = _Edge(), 0
        while True:
            before = (edge.last, len(edge.ids))
            walk_query = query if edge.last is None else {
                "type": "and", "queries": [query, on_or_after(object_type, edge.last)]
            }  # fmt: skip
            end = _WalkEnd(0, False, False)
            yield from self._walk({**body, "query": walk_query}, edge, end)
            progressed = (edge.last, len(edge.ids)) != before
            stalls = 0 if progressed else stalls + 1
            if end.expired:
                if stalls > MAX_CURSOR_RESTARTS:
                    raise ApiError(f"POST {SEARCH_PATH}: the search cursor kept expiring")
                continue
            if not end.full or (not progressed and end.returned < self._walk_cap):
                return
            if not progressed:
                last = edge.last.isoformat() if edge.last else "?"
                raise ApiError(
                    f"POST {SEARCH_PATH}: more than {end.returned} results share date_created "
                    f"{last}; keyset paging cannot pass them",
                    hint="export with --strategy lead, or narrow --since/--until",
                )

    def _walk(self, body: Obj, edge: _Edge, end: _WalkEnd) -> Iterator[Obj]:
        cursor: str | None = None
        while True:
            try:
                sent = body if cursor is None else {**body, "cursor": cursor}
                answer = self._post(SEARCH_PATH, sent)
            except RequestRejected as exc:
                expired = "expired" in str(exc.field_errors.get("cursor", "")).lower()
                if cursor is None or not expired:
                    raise
                end.expired = True
                return
            page = require(SearchPage, answer, f"POST {SEARCH_PATH}")
            for obj in page.data:
                end.returned += 1
                moment = moment_of(obj)
                if moment is None:
                    raise ApiError(
                        f"POST {SEARCH_PATH}: a result has no readable date_created "
                        f"({obj.get('id')!r}), so the search cannot be paged by it",
                        hint="export with --strategy org or --strategy lead",
                    )
                if edge.fresh(moment, str(obj.get("id"))):
                    yield obj
            cursor = page.cursor
            if not cursor:
                end.full = end.returned >= self._walk_cap or (
                    len(page.data) >= body["_limit"] and end.returned > 0
                )
                return
