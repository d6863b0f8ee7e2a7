"""A request as routes see it, and offset paging with Close's caps.

Order of every list: ``date_created`` descending, ``id`` descending as the tie-break (newest
first, like Close's activity feeds); it is stable, so paging a list that does not change never
repeats or skips.  ``has_more`` is exact: one more item than the page is looked at.

Caps (``_limit`` max, ``_skip`` max) per endpoint, Close's where observed
(docs/CLOSE_API.md, Paging):
``/lead/`` 200 / 35,000 [LIVE]; ``/activity/custom/`` and ``/activity/`` 100 / 250,000, where
250,000 is INFERRED from the one observation on ``/activity/email/`` and 100 from the default
page size connectors use; every other list 1000 / 100,000 (generous, finite, not Close's).
The ``max_skip`` option replaces every ``_skip`` cap.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from closecsv.sandbox.errors import bad_request, field_error
from closecsv.sandbox.ids import iso
from closecsv.sandbox.state import State
from closecsv.sandbox.values import Invalid, parse_bound

Obj = dict[str, Any]

CAPS: dict[str, tuple[int, int]] = {
    "lead": (200, 35_000),
    "activity": (100, 250_000),
    "default": (1000, 100_000),
}
_OPS = {"gte": "ge", "gt": "gt", "lte": "le", "lt": "lt"}
_CMP: dict[str, Callable[[str, str], bool]] = {
    "ge": operator.ge,
    "gt": operator.gt,
    "le": operator.le,
    "lt": operator.lt,
}


@dataclass
class Request:
    """One API call after auth: what every route handler receives."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    state: State
    user_id: str
    now: Callable[[], datetime]
    max_skip: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None  # given on first use by the event log (events.py)
    api_key_id: str | None = None

    def stamp(self) -> str:
        return iso(self.now())

    def ids(self, name: str) -> list[str] | None:
        """A comma-separated list parameter (``lead_id=a,b``), or None when absent."""
        raw = self.query.get(name)
        return None if raw is None else [part for part in raw.split(",") if part]


def int_param(req: Request, name: str, default: int) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise field_error(name, "Input should be a valid integer") from exc
    if value < 0:
        raise field_error(name, "Input should be greater than or equal to 0")
    return value


def limits(req: Request, cap: str = "default", default_limit: int = 100) -> tuple[int, int]:
    """``(_limit, _skip)`` of the request, refused as Close refuses them past the caps."""
    max_limit, max_skip = CAPS[cap]
    if req.max_skip is not None:
        max_skip = req.max_skip
    limit = int_param(req, "_limit", default_limit)
    skip = int_param(req, "_skip", 0)
    if limit > max_limit:
        raise field_error("_limit", f"Input should be less than or equal to {max_limit}")
    if skip > max_skip:
        raise bad_request(
            "The skip you set is larger than the maximum skip for this resource "
            f"(max_skip = {max_skip}). Please refine your search query."
        )
    return limit, skip


def page(items: Iterable[Obj], limit: int, skip: int) -> tuple[list[Obj], bool]:
    """The page and an exact ``has_more``: reads ``skip + limit + 1`` items at most."""
    taken = list(itertools.islice(items, skip, skip + limit + 1))
    return taken[:limit], len(taken) > limit


def _bound(req: Request, name: str) -> str | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        return iso(parse_bound(raw))
    except Invalid as exc:
        raise field_error(name, str(exc)) from exc


def date_filters(req: Request, prefix: str) -> list[tuple[str, str]]:
    """``[(op, stamp)]`` from ``<prefix>__gte`` etc., stamps in stored form."""
    found = []
    for suffix, op in _OPS.items():
        stamp = _bound(req, f"{prefix}__{suffix}")
        if stamp is not None:
            found.append((op, stamp))
    return found


def in_range(value: str | None, bounds: list[tuple[str, str]]) -> bool:
    if not bounds:
        return True
    return value is not None and all(_CMP[op](value, stamp) for op, stamp in bounds)


def newest_first(
    state: State, coll: str, bounds: list[tuple[str, str]], skip: int = 0
) -> Iterator[Obj]:
    """Objects of ``coll`` within the ``date_created`` bounds, newest first (bisected),
    from the ``skip``-th on: skipped objects are never looked at."""
    keys = state.sorted_keys(coll)
    lo, hi = 0, len(keys)
    for op, stamp in bounds:
        if op == "ge":
            lo = max(lo, bisect.bisect_left(keys, (stamp, "")))
        elif op == "gt":
            lo = max(lo, bisect.bisect_left(keys, (stamp, "\U0010ffff")))
        elif op == "le":
            hi = min(hi, bisect.bisect_left(keys, (stamp, "\U0010ffff")))
        else:
            hi = min(hi, bisect.bisect_left(keys, (stamp, "")))
    objs = state.collections[coll]
    for n in range(hi - 1 - skip, lo - 1, -1):
        yield objs[keys[n][1]]


def sort_newest(objs: Iterable[Obj]) -> list[Obj]:
    return sorted(objs, key=lambda o: (o["date_created"], o["id"]), reverse=True)


def select_fields(obj: Obj, fields: str | None) -> Obj:
    """``_fields=a,b`` (``custom`` selects every ``custom.…`` key)."""
    if not fields:
        return obj
    wanted = [f for f in fields.split(",") if f]
    out = {k: v for k, v in obj.items() if k in wanted}
    if "custom" in wanted:
        out.update({k: v for k, v in obj.items() if k.startswith("custom.")})
    return out


def _same(obj: Obj) -> Obj:
    return obj


def listing(
    req: Request,
    objs: Iterable[Obj],
    *,
    cap: str = "default",
    render: Callable[[Obj], Obj] = _same,
) -> Obj:
    """One page of ``objs`` (read lazily up to the page's end); only the page is rendered."""
    return seek_listing(req, lambda skip: itertools.islice(objs, skip, None), cap, render)


def seek_listing(
    req: Request,
    seek: Callable[[int], Iterable[Obj]],
    cap: str = "default",
    render: Callable[[Obj], Obj] = _same,
) -> Obj:
    """One page from ``seek(skip)``, which yields the items from the ``skip``-th on."""
    limit, skip = limits(req, cap)
    data, more = page(seek(skip), limit, 0)
    fields = req.query.get("_fields")
    return {"data": [select_fields(render(o), fields) for o in data], "has_more": more}
