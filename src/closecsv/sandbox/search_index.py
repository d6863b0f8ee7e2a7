"""The ids a search query matches, from indexes, for the query shapes they can answer.

:func:`select` gives the exact set of ids of ``otype`` objects that satisfy a query node, or
``None`` when the node is not a shape it recognises; the search then tests every object with
the general evaluator (:func:`closecsv.sandbox.search.matches`), which stays the definition
of what a query means.  Recognised shapes:

- ``and``: the recognised children are intersected and the others are tested with the
  general evaluator on what is left (``None`` when no child is recognised);
- ``or`` whose children are all recognised: the union;
- ``id``; ``object_type`` of another type (nothing matches);
- ``field_condition`` on a regular field: ``term`` on the type id of activities and objects,
  ``reference`` on ``lead_id``, and ``text`` on a lead's ``display_name`` (candidates from
  the name words, each confirmed by the general evaluator);
- ``has_related`` lead/contact → ``contact_email``/``contact_phone`` whose related query is an
  ``exact_value`` text condition on ``email``/``phone`` or an ``or`` of them (by index), and
  lead → contact/activity/object or back to the lead (through the children-by-lead index,
  the related query answered by :func:`select` or else tested once per related object).

A ``negate`` anywhere makes that node unrecognised; nothing here changes what matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from closecsv.sandbox.indexes import words
from closecsv.sandbox.state import State

Obj = dict[str, Any]
Matcher = Callable[[State, Any, str, Obj], bool]
COLLS = {
    "lead": "leads",
    "contact": "contacts",
    "activity.custom_activity": "custom_activities",
    "custom_object": "custom_objects",
}
_TYPE_FIELD = {
    "activity.custom_activity": ("custom_activity_type_id", "activity_type"),
    "custom_object": ("custom_object_type_id", "object_type"),
}
_CONTACT_INDEX = {"contact_email": "email", "contact_phone": "phone"}
_NAME_MODES = ("full_words", "phrase", "exact_value")


def select(state: State, node: Any, otype: str, general: Matcher) -> set[str] | None:
    """Ids of the ``otype`` objects matching ``node``, or ``None`` when not recognised."""
    if not isinstance(node, dict) or node.get("negate") or otype not in COLLS:
        return None
    kind = node.get("type")
    if kind == "and":
        return _and(state, node, otype, general)
    if kind == "or":
        parts = _parts(state, node.get("queries", []), otype, general)
        if parts is None or any(part is None for part in parts):
            return None
        return _union(part for part in parts if part is not None)
    if kind == "object_type":
        return None if node.get("object_type") == otype else set()
    if kind == "id":
        value = node.get("value")
        if isinstance(value, str) and value in state.collections[COLLS[otype]]:
            return {value}
        return set()
    if kind == "field_condition":
        return _condition(state, node, otype, general)
    if kind == "has_related":
        return _related(state, node, otype, general)
    return None


def _parts(
    state: State, queries: Any, otype: str, general: Matcher
) -> list[set[str] | None] | None:
    if not isinstance(queries, list):
        return None
    return [select(state, q, otype, general) for q in queries]


def _union(parts: Iterable[Iterable[str]]) -> set[str]:
    found: set[str] = set()
    for part in parts:
        found.update(part)
    return found


def _and(state: State, node: Obj, otype: str, general: Matcher) -> set[str] | None:
    queries = node.get("queries", [])
    parts = _parts(state, queries, otype, general)
    if parts is None:
        return None
    known = sorted((p for p in parts if p is not None), key=len)
    if not known:
        return None
    rest = [q for q, p in zip(queries, parts, strict=True) if p is None]
    found = set(known[0]).intersection(*known[1:])
    objs = state.collections[COLLS[otype]]
    return {i for i in found if all(general(state, q, otype, objs[i]) for q in rest)}


def _condition(state: State, node: Obj, otype: str, general: Matcher) -> set[str] | None:
    field, cond = node.get("field"), node.get("condition")
    if not isinstance(field, dict) or not isinstance(cond, dict):
        return None
    if field.get("type") != "regular_field":
        return None
    name, ctype = field.get("field_name"), cond.get("type")
    if ctype == "term" and otype in _TYPE_FIELD and name == _TYPE_FIELD[otype][0]:
        values = cond.get("values", [])
        if not isinstance(values, list):
            return None
        index = _TYPE_FIELD[otype][1]
        return _union(state.indexes.lookup(index, v) for v in values if isinstance(v, str))
    if ctype == "reference" and name == "lead_id" and otype != "lead":
        leads = cond.get("object_ids", [])
        if not isinstance(leads, list):
            return None
        return _union(state.children(COLLS[otype], i) for i in leads if isinstance(i, str))
    if ctype == "text" and otype == "lead" and name == "display_name":
        need = words(cond.get("value", ""))
        if not need or cond.get("mode", "full_words") not in _NAME_MODES:
            return None
        found = sorted((state.indexes.lookup("lead_words", w) for w in need), key=len)
        leads = state.leads
        candidates = set(found[0]).intersection(*found[1:])
        return {i for i in candidates if general(state, node, otype, leads[i])}
    return None


def _exact_values(node: Any, name: str) -> list[str] | None:
    """The values of an ``exact_value`` condition on ``name``, or of an ``or`` of them."""
    if not isinstance(node, dict) or node.get("negate"):
        return None
    if node.get("type") == "or":
        queries = node.get("queries", [])
        if not isinstance(queries, list):
            return None
        found: list[str] = []
        for query in queries:
            part = _exact_values(query, name)
            if part is None:
                return None
            found.extend(part)
        return found
    field, cond = node.get("field"), node.get("condition")
    if node.get("type") != "field_condition":
        return None
    if not isinstance(field, dict) or not isinstance(cond, dict):
        return None
    if field.get("type") != "regular_field" or field.get("field_name") != name:
        return None
    if cond.get("type") != "text" or cond.get("mode") != "exact_value":
        return None
    return [str(cond.get("value", ""))]


def _leads_of(state: State, coll: str, ids: Iterable[str]) -> set[str]:
    objs, leads = state.collections[coll], state.leads
    return {lead for lead in (objs[i]["lead_id"] for i in ids) if lead in leads}


def _select_all(state: State, node: Any, otype: str, general: Matcher) -> set[str]:
    """:func:`select`, or else every ``otype`` object the general evaluator accepts."""
    found = select(state, node, otype, general)
    if found is not None:
        return found
    objs = state.collections[COLLS[otype]]
    return {i for i, obj in objs.items() if general(state, node, otype, obj)}


def _related(state: State, node: Obj, otype: str, general: Matcher) -> set[str] | None:
    other = node.get("related_object_type")
    sub = node.get("related_query", {"type": "match_all"})
    if otype in ("lead", "contact") and other in _CONTACT_INDEX:
        values = _exact_values(sub, _CONTACT_INDEX[other])
        if values is None:
            return None
        contacts = _union(state.indexes.lookup(other, v.lower()) for v in values)
        return contacts if otype == "contact" else _leads_of(state, "contacts", contacts)
    if otype == "lead" and other in COLLS and other != "lead":
        return _leads_of(state, COLLS[other], _select_all(state, sub, other, general))
    if other == "lead" and otype != "lead":
        leads = _select_all(state, sub, "lead", general)
        return _union(state.children(COLLS[otype], lead) for lead in leads)
    return None
