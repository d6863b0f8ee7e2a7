"""``GET /event/`` and ``GET /event/{id}/``: Close's event log, read side.

Filters ``object_type``, ``object_id``, ``action``, ``lead_id``, ``user_id``, ``request_id``,
only in the combinations Close supports (:data:`SUPPORTED`; none at all is also accepted:
the whole log); ``date_updated__gt|gte|lt|lte`` may be added to any.  Another combination is a
400 naming it.  Newest first by ``date_updated`` (ties: the order of writing).  The answer is
``{"data": [...], "cursor_next": str|None, "cursor_previous": str|None}``: ``cursor_next``
leads to older events, ``cursor_previous`` to newer ones, each None when no such event exists
at the time of the answer.  ``_cursor`` takes either; the other filters must be sent again
(a cursor made for other filters is a 400) and the ``date_updated`` bounds travel inside the
cursor.  A cursor is a position, not a snapshot: a walk towards older events never meets an
event written (or consolidated) after it started.  ``_limit`` defaults to 50 and is capped at
50; ``_skip`` is refused.  Events past retention are invisible (events.py).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from closecsv.sandbox.errors import field_error, not_found, validation
from closecsv.sandbox.event_index import EVENTS, Key
from closecsv.sandbox.events import LAST_SEQ, expired, expired_count, render
from closecsv.sandbox.listing import Request, date_filters, int_param

Obj = dict[str, Any]
Bounds = list[list[str]]  # [[op, stamp]] of the date_updated filters (listing.date_filters)
FILTERS = ("object_type", "object_id", "action", "lead_id", "user_id", "request_id")
SUPPORTED: frozenset[frozenset[str]] = frozenset(
    frozenset(combo.split("+"))
    for combo in (
        "object_type+object_id",
        "object_type+action",
        "object_id+action",
        "lead_id+object_type",
        "lead_id+object_type+action",
        "lead_id+user_id+object_type",
        "lead_id+user_id+object_type+action",
        "lead_id+user_id",
        "user_id+object_id",
        "user_id+object_id+action",
        "user_id+object_type",
        "user_id+object_type+action",
        "lead_id",
        "user_id",
        "request_id",
    )
) | {frozenset()}
MAX_LIMIT = 50
_TOP: Key = ("\U0010ffff", 0, "")


def _filters(req: Request) -> dict[str, str]:
    given = {name: req.query[name] for name in FILTERS if req.query.get(name)}
    if frozenset(given) not in SUPPORTED:
        combo = " + ".join(name for name in FILTERS if name in given)
        allowed = "; ".join(sorted(" + ".join(sorted(c)) for c in SUPPORTED if c))
        raise validation(
            {},
            [
                f"This combination of event filters is not supported: {combo}. "
                f"Supported combinations (date_updated may be added to any): {allowed}."
            ],
        )
    return given


def _encode(key: Key, direction: str, filters: dict[str, str], bounds: Bounds) -> str:
    blob = {"k": list(key), "d": direction, "f": filters, "b": bounds}
    return base64.urlsafe_b64encode(json.dumps(blob, sort_keys=True).encode()).decode()


def _decode(raw: str) -> Obj:
    bad = field_error("_cursor", "Invalid cursor.")
    try:
        blob = json.loads(base64.urlsafe_b64decode(raw.encode()))
        key = blob["k"]
        ok = isinstance(key, list) and len(key) == 3 and blob["d"] in ("next", "previous")
        ok = ok and isinstance(key[0], str) and isinstance(key[1], int) and isinstance(key[2], str)
        ok = ok and isinstance(blob["f"], dict) and isinstance(blob["b"], list)
        ok = ok and all(_bound_ok(b) for b in blob["b"])
    except (ValueError, binascii.Error, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise bad from exc
    if not ok:
        raise bad
    return dict(blob)


def _bound_ok(bound: Any) -> bool:
    return (
        isinstance(bound, list)
        and len(bound) == 2
        and bound[0] in ("ge", "gt", "le", "lt")
        and isinstance(bound[1], str)
    )


def _limit(req: Request) -> int:
    if "_skip" in req.query:
        raise field_error("_skip", "The event log does not support _skip; page with _cursor.")
    limit = int_param(req, "_limit", MAX_LIMIT)
    if limit < 1:
        raise field_error("_limit", "Input should be greater than or equal to 1")
    return min(limit, MAX_LIMIT)


def _matches(event: Obj, filters: dict[str, str]) -> bool:
    return all(event.get(k) == v for k, v in filters.items())


def _walk(
    req: Request, older: bool, start: Key, filters: dict[str, str], bounds: Bounds
) -> Iterator[Key]:
    """Keys of matching visible events strictly beyond ``start``: older ones newest first, or
    newer ones oldest first."""
    state = req.state
    keys, events = state.event_index.keys(), state.collections[EVENTS]
    lo, hi = _window(keys, bounds)
    lo = max(lo, expired_count(keys, req.now()))
    if older:
        indexes: Iterable[int] = range(min(bisect.bisect_left(keys, start), hi) - 1, lo - 1, -1)
    else:
        indexes = range(max(bisect.bisect_right(keys, start), lo), hi)
    for n in indexes:
        if _matches(events[keys[n][2]], filters):
            yield keys[n]


def _window(keys: list[Key], bounds: Bounds) -> tuple[int, int]:
    """The index range of the sorted keys within the ``date_updated`` bounds."""
    lo, hi = 0, len(keys)
    for op, stamp in bounds:
        below, above = (stamp, -1, ""), (stamp, LAST_SEQ, "")
        if op == "ge":
            lo = max(lo, bisect.bisect_left(keys, below))
        elif op == "gt":
            lo = max(lo, bisect.bisect_right(keys, above))
        elif op == "le":
            hi = min(hi, bisect.bisect_right(keys, above))
        else:
            hi = min(hi, bisect.bisect_left(keys, below))
    return lo, hi


def _exists(req: Request, older: bool, start: Key, filters: dict[str, str], bounds: Bounds) -> bool:
    return next(_walk(req, older, start, filters, bounds), None) is not None


def _page(req: Request, older: bool, start: Key, filters: dict[str, str], bounds: Bounds) -> Obj:
    found = list(itertools.islice(_walk(req, older, start, filters, bounds), _limit(req)))
    page = found if older else found[::-1]  # newest first, always
    if page:
        newest, oldest = page[0], page[-1]
    else:  # nothing beyond the cursor: the event it points at still lies the other way
        newest = oldest = start
        if older:
            newest = (start[0], start[1] - 1, "\U0010ffff")
        else:
            oldest = (start[0], start[1] + 1, "")
    events = req.state.collections[EVENTS]
    more_older = _exists(req, True, oldest, filters, bounds)
    more_newer = _exists(req, False, newest, filters, bounds)
    return {
        "data": [render(req, events[key[2]]) for key in page],
        "cursor_next": _encode(oldest, "next", filters, bounds) if more_older else None,
        "cursor_previous": _encode(newest, "previous", filters, bounds) if more_newer else None,
    }


def list_events(req: Request) -> Obj:
    filters = _filters(req)
    bounds: Bounds = [[op, stamp] for op, stamp in date_filters(req, "date_updated")]
    _limit(req)
    raw = req.query.get("_cursor")
    if not raw:
        return _page(req, True, _TOP, filters, bounds)
    cursor = _decode(raw)
    if cursor["f"] != filters:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(cursor["f"].items())) or "no filters"
        raise field_error(
            "_cursor",
            f"This cursor belongs to a walk with {shown}: send the same filters with it.",
        )
    for bound in cursor["b"]:
        if bound not in bounds:
            bounds.append(bound)
    key: Key = (cursor["k"][0], cursor["k"][1], cursor["k"][2])
    return _page(req, cursor["d"] == "next", key, filters, bounds)


def get_event(req: Request, eid: str) -> Obj:
    event = req.state.collections[EVENTS].get(eid)
    if event is None or expired(event, req.now()):
        raise not_found(f"Event {eid} not found.")
    return render(req, event)
