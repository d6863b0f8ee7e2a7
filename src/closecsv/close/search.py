"""Paging over ``POST /data/search/`` cursors.

Every cursor page is fetched back to back (cursors expire after 30 s), a walk whose cursor
expired anyway is restarted, and the 10,000-object cap of one walk is passed by keyset on
``date_created``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from closecsv.close.paging import Fetch, Obj
from closecsv.close.shapes import SearchPage, require
from closecsv.errors import ApiError, RequestRejected

SEARCH_PATH = "data/search/"
SEARCH_MAX_LIMIT = 200
SEARCH_WALK_CAP = 10_000
MAX_CURSOR_RESTARTS = 3


@dataclass
class _Keyset:
    """What a search needs to continue past one walk's cap: the object type, and whether the
    sort is ``date_created`` ascending (then ``on_or_after`` the last value continues it)."""

    object_type: str | None
    enabled: bool


def _date_created_field(object_type: str) -> Obj:
    return {"type": "regular_field", "object_type": object_type, "field_name": "date_created"}


class SearchWalker:
    """Collects every result of one Advanced Filtering query (see the module docstring)."""

    def __init__(self, post: Fetch, walk_cap: int = SEARCH_WALK_CAP) -> None:
        self._post = post
        self._walk_cap = walk_cap

    def run(
        self,
        query: Obj,
        fields: Mapping[str, list[str]],
        page_size: int,
        sort: list[Obj] | None,
    ) -> list[Obj]:
        """All results, deduplicated by id, in the order first seen."""
        otype = next(iter(fields)) if len(fields) == 1 else None
        keyset = _Keyset(otype, enabled=sort is None and otype is not None)
        wanted = {k: list(v) for k, v in fields.items()}
        added = otype is not None and keyset.enabled and "date_created" not in wanted[otype]
        if added and otype is not None:
            wanted[otype].append("date_created")
        if keyset.enabled and otype is not None:
            sort = [{"direction": "asc", "field": _date_created_field(otype)}]
        body: Obj = {"_fields": wanted, "_limit": max(1, min(page_size, SEARCH_MAX_LIMIT))}
        if sort is not None:
            body["sort"] = sort
        found = self._collect(query, body, keyset)
        if added:
            for obj in found:
                obj.pop("date_created", None)
        return found

    def _collect(self, query: Obj, body: Obj, keyset: _Keyset) -> list[Obj]:
        seen: dict[str, Obj] = {}
        after: str | None = None
        while True:
            before = len(seen)
            count, last = self._restartable(self._keyset_query(query, keyset, after), body, seen)
            if count < self._walk_cap:
                return list(seen.values())
            if not keyset.enabled:
                raise ApiError(
                    f"POST {SEARCH_PATH}: more than {self._walk_cap} results for one cursor walk",
                    hint="search one object type without a custom sort (then closecsv pages "
                    "by date_created), or narrow the query",
                )
            if len(seen) == before or last is None or last == after:
                raise ApiError(
                    f"POST {SEARCH_PATH}: more than {self._walk_cap} results share "
                    f"date_created {last!r}; keyset paging cannot pass them",
                    hint="narrow the query",
                )
            after = last

    def _keyset_query(self, query: Obj, keyset: _Keyset, after: str | None) -> Obj:
        if after is None or keyset.object_type is None:
            return query
        condition = {"type": "moment_range", "on_or_after": {"type": "fixed_utc", "value": after}}
        since = {
            "type": "field_condition",
            "field": _date_created_field(keyset.object_type),
            "condition": condition,
        }
        return {"type": "and", "queries": [query, since]}

    def _restartable(self, query: Obj, body: Obj, seen: dict[str, Obj]) -> tuple[int, str | None]:
        restarts = 0
        while True:
            try:
                return self._walk({**body, "query": query}, seen)
            except RequestRejected as exc:
                expired = "expired" in str(exc.field_errors.get("cursor", "")).lower()
                if not expired or restarts >= MAX_CURSOR_RESTARTS:
                    raise
                restarts += 1

    def _walk(self, body: Obj, seen: dict[str, Obj]) -> tuple[int, str | None]:
        """One cursor walk: (objects returned, ``date_created`` of the last one)."""
        count, last, cursor = 0, None, None
        while True:
            answer = self._post(SEARCH_PATH, body if cursor is None else {**body, "cursor": cursor})
            page = require(SearchPage, answer, f"POST {SEARCH_PATH}")
            for obj in page.data:
                count += 1
                created = obj.get("date_created")
                last = created if isinstance(created, str) else last
                seen.setdefault(str(obj.get("id", f"#{len(seen)}")), obj)
            cursor = page.cursor
            if not cursor:
                return count, last
