"""``POST /data/search/``: Advanced Filtering (docs/CLOSE_API.md, Search).

Emulated: node types ``and``, ``or``, ``match_all``, ``object_type``, ``id``, ``text`` (modes
``full_words`` (default), ``phrase``, ``exact_value``), ``field_condition`` (``regular_field``
and ``custom_field``; conditions ``text``, ``term``, ``reference``, ``number_range``,
``boolean``, ``exists``, ``moment_range`` with ``fixed_utc`` and ``fixed_local_date``),
``has_related`` (lead→contact→contact_email/contact_phone, lead→contact_email/contact_phone,
lead→activity.custom_activity, lead→custom_object, and each child back to its lead), and
``negate`` on any node.  Object types: ``lead``, ``contact``, ``activity.custom_activity``,
``custom_object`` (the first ``object_type`` node found under top-level ``and``s; ``lead``
when there is none).  ``_fields`` is an object per type; without it only ``__object_type``
and ``id`` come back; a requested field the object has no value for is ``null``.
``_limit`` ≤ 200; ``results_limit``; ``include_counts``; ``sort``.

Cursor paging: the answer is ``{"data": [...], "cursor": str|null}`` (no ``has_more``).  The
result of a walk is fixed when it starts (a snapshot of ids, capped at 10,000 objects); each
page issues a new cursor that expires 30 s after issue on the injectable clock; an expired one
answers ``400 {"field-errors": {"cursor": "Expired cursor"}}``.

Departures: matching is word-based and case-insensitive as documented, but Close's text
analysis (stemming, tokenising of emails and phones) is not reproduced; relative dates,
``current_user`` and ``fixed_local_date`` time zones (``x-tz-offset``) are not emulated
(local dates are UTC days); results reflect writes at once (Close's index lags 30-60 s).

Speed: common query shapes (e-mails/phones of contacts, name words, type ids, lead ids) are
answered from indexes kept in step with writes (:mod:`closecsv.sandbox.search_index`); any
other shape is tested object by object, with the same results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from closecsv.sandbox.errors import ApiFailure, field_error, validation
from closecsv.sandbox.indexes import words
from closecsv.sandbox.instances import render_activity
from closecsv.sandbox.listing import Request
from closecsv.sandbox.resources import render_lead
from closecsv.sandbox.search_check import check_body
from closecsv.sandbox.search_index import COLLS, select
from closecsv.sandbox.state import State
from closecsv.sandbox.values import Invalid, parse_bound

Obj = dict[str, Any]
CURSOR_TTL = 30.0
WALK_CAP = 10_000
MAX_LIMIT = 200
_COLLS = COLLS


@dataclass
class Walk:
    object_type: str
    ids: list[str]
    fields: list[str] | None
    pos: int
    issued_at: float


def _bad_query(message: str) -> ApiFailure:
    return validation({"query": message})


def _related(state: State, this: str, other: str, obj: Obj) -> Iterable[Obj]:
    if this == "lead" and other in ("contact_email", "contact_phone"):
        kids = (state.contacts[c] for c in state.children("contacts", obj["id"]))
        return (r for c in kids for r in _related(state, "contact", other, c))
    if this == "contact" and other == "contact_email":
        return ({**e, "contact_id": obj["id"]} for e in obj["emails"])
    if this == "contact" and other == "contact_phone":
        return ({**p, "contact_id": obj["id"]} for p in obj["phones"])
    if this == "lead" and other in _COLLS and other != "lead":
        coll = _COLLS[other]
        return (state.collections[coll][i] for i in state.children(coll, obj["id"]))
    if other == "lead" and this in _COLLS and this != "lead":
        lead = state.leads.get(obj["lead_id"])
        return [] if lead is None else [lead]
    raise _bad_query(f"has_related from {this!r} to {other!r} is not supported.")


def _text_match(value: Any, mode: str, wanted: str) -> bool:
    if mode == "exact_value":
        return str(value).lower() == wanted.lower()
    have, need = words(value), words(wanted)
    if mode == "phrase":
        return any(have[i : i + len(need)] == need for i in range(len(have) - len(need) + 1))
    if mode == "full_words":
        return set(need) <= set(have)
    raise _bad_query(f"Unknown text mode {mode!r}.")


def _moment(spec: Obj) -> datetime:
    try:
        if spec.get("type") == "fixed_utc":
            return parse_bound(spec["value"])
        if spec.get("type") == "fixed_local_date":
            start = parse_bound(spec["value"][:10])
            return start + timedelta(days=1) if spec.get("which") == "end" else start
    except (Invalid, KeyError, TypeError) as exc:
        raise _bad_query(f"Invalid moment {spec!r}.") from exc
    raise _bad_query(f"Moment type {spec.get('type')!r} is not supported.")


def _in_moment_range(value: Any, cond: Obj) -> bool:
    try:
        moment = parse_bound(str(value))
    except Invalid:
        return False
    ops: dict[str, Callable[[datetime, datetime], bool]] = {
        "on_or_after": lambda v, m: v >= m,
        "after": lambda v, m: v > m,
        "before": lambda v, m: v < m,
        "on_or_before": lambda v, m: v <= m,
    }
    # a null bound is an open end: {"before": null, "on_or_after": {...}} is half-open
    return all(op(moment, _moment(cond[k])) for k, op in ops.items() if cond.get(k) is not None)


def _in_number_range(value: Any, cond: Obj) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    checks = {"gt": value.__gt__, "gte": value.__ge__, "lt": value.__lt__, "lte": value.__le__}
    return all(bool(check(cond[k])) for k, check in checks.items() if cond.get(k) is not None)


def _one(value: Any, cond: Obj) -> bool:
    kind = cond.get("type")
    if kind == "text":
        return _text_match(value, cond.get("mode", "full_words"), str(cond.get("value", "")))
    if kind == "term":
        return value in cond.get("values", [])
    if kind == "reference":
        return value in cond.get("object_ids", [])
    if kind == "number_range":
        return _in_number_range(value, cond)
    if kind == "boolean":
        return value is cond.get("value", True)
    if kind == "moment_range":
        return _in_moment_range(value, cond)
    raise _bad_query(f"Unknown condition type {kind!r}.")


def _condition(value: Any, cond: Obj) -> bool:
    if cond.get("type") == "exists":
        return value not in (None, "", [])
    values = value if isinstance(value, list) else [value]
    return any(v is not None and _one(v, cond) for v in values)


def _field_value(obj: Obj, field: Obj) -> Any:
    if field.get("type") == "custom_field":
        return obj.get(f"custom.{field.get('custom_field_id')}")
    if field.get("type") == "regular_field":
        name = field.get("field_name", "")
        return (
            obj.get("name")
            if name == "display_name" and "display_name" not in obj
            else obj.get(name)
        )
    raise _bad_query(f"Unknown field type {field.get('type')!r}.")


def _full_text(obj: Obj, node: Obj) -> bool:
    text = " ".join(str(v) for v in obj.values() if isinstance(v, str | int | float))
    return _text_match(text, node.get("mode", "full_words"), str(node.get("value", "")))


def matches(state: State, node: Any, otype: str, obj: Obj) -> bool:
    """Whether ``obj`` (of type ``otype``) satisfies the query ``node``."""
    if not isinstance(node, dict):
        raise _bad_query("A query node must be an object.")
    result = _evaluate(state, node, otype, obj)
    return not result if node.get("negate") else result


def _evaluate(state: State, node: Obj, otype: str, obj: Obj) -> bool:
    kind = node.get("type")
    if kind == "and":
        return all(matches(state, q, otype, obj) for q in node.get("queries", []))
    if kind == "or":
        return any(matches(state, q, otype, obj) for q in node.get("queries", []))
    if kind == "match_all":
        return True
    if kind == "object_type":
        return bool(node.get("object_type") == otype)
    if kind == "id":
        return bool(obj.get("id") == node.get("value"))
    if kind == "text":
        return _full_text(obj, node)
    if kind == "field_condition":
        return _condition(_field_value(obj, node.get("field", {})), node.get("condition", {}))
    if kind == "has_related":
        other = str(node.get("related_object_type"))
        sub = node.get("related_query", {"type": "match_all"})
        return any(matches(state, sub, other, r) for r in _related(state, otype, other, obj))
    raise _bad_query(f"Unknown query type {kind!r}.")


def target_type(node: Any) -> str:
    """The searched object type: the first ``object_type`` node under top-level ``and``s."""
    if isinstance(node, dict) and node.get("type") == "object_type" and not node.get("negate"):
        return str(node.get("object_type"))
    if isinstance(node, dict) and node.get("type") == "and":
        for sub in node.get("queries", []):
            found = target_type(sub)
            if found:
                return found
    return ""


def _found(state: State, query: Any, otype: str) -> list[Obj]:
    """The matching objects: from the indexes when the query's shape allows, else by testing
    every object (:mod:`closecsv.sandbox.search_index`; both give the same objects)."""
    objs = state.collections[_COLLS[otype]]
    ids = select(state, query, otype, matches)
    if ids is None:
        return [o for o in objs.values() if matches(state, query, otype, o)]
    return [objs[i] for i in ids]


def _sort_key(obj: Obj, name: str) -> tuple[int, Any]:
    value = obj.get(name)
    return (
        (0, "") if value is None else (1, value if isinstance(value, int | float) else str(value))
    )


def _keyer(name: str) -> Callable[[Obj], tuple[int, Any]]:
    return lambda obj: _sort_key(obj, name)


def _ordered(objs: list[Obj], sort: Any) -> list[Obj]:
    if not sort:
        return sorted(objs, key=lambda o: (o.get("date_created", ""), o["id"]), reverse=True)
    out = sorted(objs, key=lambda o: o["id"])
    for spec in reversed(sort):
        name = spec.get("field", {}).get("field_name", "")
        try:
            out.sort(key=_keyer(name), reverse=spec.get("direction") == "desc")
        except TypeError as exc:
            raise field_error("sort", f"Cannot sort on {name!r}.") from exc
    return out


def _render(state: State, otype: str, obj: Obj) -> Obj:
    if otype == "lead":
        return render_lead(state, obj)
    if otype == "activity.custom_activity":
        return render_activity(state, obj)
    return obj


def _limit(body: Obj, name: str, default: int, maximum: int | None) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise field_error(name, "Input should be a valid non-negative integer")
    if maximum is not None and value > maximum:
        raise field_error(name, f"Input should be less than or equal to {maximum}")
    return value


class Searcher:
    """Runs searches and keeps the open cursor walks (one per sandbox)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.walks: dict[str, Walk] = {}
        self.issued = 0
        self.walk_cap = WALK_CAP  # tests lower it to cross walk boundaries cheaply

    def handle(self, req: Request) -> Obj:
        body = req.body if isinstance(req.body, dict) else {}
        check_body(body)
        limit = _limit(body, "_limit", 100, MAX_LIMIT)
        self._expire()
        if body.get("cursor"):
            walk = self._resume(str(body["cursor"]))
            return self._page(req.state, walk, limit, None)
        if "query" not in body:
            raise validation({"query": "This field is required."})
        walk, counts = self._start(req.state, body)
        return self._page(req.state, walk, limit, counts)

    def _start(self, state: State, body: Obj) -> tuple[Walk, Obj | None]:
        otype = target_type(body["query"]) or "lead"
        if otype not in _COLLS:
            raise _bad_query(f"Unsupported object_type {otype!r}.")
        found = _found(state, body["query"], otype)
        limited = _ordered(found, body.get("sort"))
        results_limit = _limit(body, "results_limit", len(limited), None)
        limited = limited[:results_limit]
        counts = {"total": len(found), "limited": len(limited)}
        fields_spec = body.get("_fields") or {}
        if not isinstance(fields_spec, dict):
            raise field_error("_fields", "Must be an object keyed by object type.")
        fields = fields_spec.get(otype)
        walk = Walk(otype, [o["id"] for o in limited[: self.walk_cap]], fields, 0, self.clock())
        return walk, counts if body.get("include_counts") else None

    def _resume(self, token: str) -> Walk:
        walk = self.walks.pop(token, None)
        if walk is None:
            raise field_error("cursor", "Invalid cursor")
        if self.clock() - walk.issued_at > CURSOR_TTL:
            raise field_error("cursor", "Expired cursor")
        return walk

    def _expire(self) -> None:
        # expired walks are kept one extra TTL so that using them says "Expired", not "Invalid"
        now = self.clock()
        for token in [t for t, w in self.walks.items() if now - w.issued_at > 2 * CURSOR_TTL]:
            del self.walks[token]

    def _page(self, state: State, walk: Walk, limit: int, counts: Obj | None) -> Obj:
        coll = state.collections[_COLLS[walk.object_type]]
        chunk = walk.ids[walk.pos : walk.pos + limit]
        walk.pos += len(chunk)
        data = [self._shape(state, walk, coll[i]) for i in chunk if i in coll]
        cursor = None
        if walk.pos < len(walk.ids) and limit > 0:
            self.issued += 1
            cursor = hashlib.sha256(f"cursor:{self.issued}:{id(self)}".encode()).hexdigest()
            walk.issued_at = self.clock()
            self.walks[cursor] = walk
        out: Obj = {"data": data, "cursor": cursor}
        if counts is not None:
            out["count"] = counts
        return out

    def _shape(self, state: State, walk: Walk, obj: Obj) -> Obj:
        head = {"__object_type": walk.object_type, "id": obj["id"]}
        if not walk.fields:
            return head
        rendered = _render(state, walk.object_type, obj)
        # every requested field is answered: one the object has no value for (an unset custom
        # field, a field the sandbox does not model) is null, never silently missing
        head.update({f: rendered.get(f) for f in walk.fields if f not in head})
        return head
