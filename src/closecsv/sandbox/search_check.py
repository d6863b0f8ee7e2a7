"""The shape of a ``POST /data/search/`` body, checked before anything is evaluated.

Evaluation (:mod:`closecsv.sandbox.search`, :mod:`closecsv.sandbox.search_index`) may then
rely on the types it reads: a node is an object; ``queries`` a list of nodes; ``field`` and
``condition`` objects; a field's ``field_name`` and ``custom_field_id`` strings; ``values`` and
``object_ids`` lists; ``number_range`` bounds numbers; ``moment_range`` bounds objects or
null (an open end); ``related_object_type`` a string; ``sort`` a list of
``{"field": {"field_name": str}}``; ``_fields`` an object of lists of strings.  Anything else
is a 400 with Close's ``field-errors`` shape (``query``, ``sort`` or ``_fields``), never an
exception.
"""

from __future__ import annotations

from typing import Any

from closecsv.sandbox.errors import ApiFailure, field_error

Obj = dict[str, Any]
_NUMBER_BOUNDS = ("gt", "gte", "lt", "lte")
_MOMENT_BOUNDS = ("on_or_after", "after", "before", "on_or_before")


def bad_query(message: str) -> ApiFailure:
    return field_error("query", message)


def check_body(body: Obj) -> None:
    """Refuse a search body whose parts are not of the types evaluation reads."""
    if "query" in body:
        check_node(body["query"])
    _check_sort(body.get("sort"))
    fields = body.get("_fields")
    if fields is None:
        return
    if not isinstance(fields, dict):
        raise field_error("_fields", "Must be an object keyed by object type.")
    for otype, names in fields.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise field_error("_fields", f"_fields.{otype} must be a list of field names.")


def _check_sort(sort: Any) -> None:
    if not sort:
        return
    if not isinstance(sort, list):
        raise field_error("sort", "Must be a list of sort specifications.")
    for spec in sort:
        field = spec.get("field") if isinstance(spec, dict) else None
        if not isinstance(field, dict) or not isinstance(field.get("field_name", ""), str):
            raise field_error("sort", 'Each sort must be {"field": {"field_name": "..."}}.')


def check_node(node: Any, depth: int = 0) -> None:
    """Refuse a query node (and everything under it) of the wrong shape."""
    if not isinstance(node, dict):
        raise bad_query("A query node must be an object.")
    if depth > 50:
        raise bad_query("The query is nested too deeply.")
    kind = node.get("type")
    if kind in ("and", "or"):
        queries = node.get("queries", [])
        if not isinstance(queries, list):
            raise bad_query(f"{kind}.queries must be a list of query nodes.")
        for sub in queries:
            check_node(sub, depth + 1)
    elif kind == "field_condition":
        _check_field(node.get("field", {}))
        _check_condition(node.get("condition", {}))
    elif kind == "has_related":
        if not isinstance(node.get("related_object_type"), str):
            raise bad_query("has_related.related_object_type must be a string.")
        check_node(node.get("related_query", {"type": "match_all"}), depth + 1)


def _check_field(field: Any) -> None:
    if not isinstance(field, dict):
        raise bad_query("field_condition.field must be an object.")
    for key in ("field_name", "custom_field_id"):
        if not isinstance(field.get(key, ""), str):
            raise bad_query(f"field.{key} must be a string.")


def _check_condition(cond: Any) -> None:
    if not isinstance(cond, dict):
        raise bad_query("field_condition.condition must be an object.")
    kind = cond.get("type")
    if kind in ("term", "reference"):
        key = "values" if kind == "term" else "object_ids"
        if not isinstance(cond.get(key, []), list):
            raise bad_query(f"{kind}.{key} must be a list.")
    elif kind == "number_range":
        for key in _NUMBER_BOUNDS:
            bound = cond.get(key)
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int | float)
            ):
                raise bad_query(f"number_range.{key} must be a number.")
    elif kind == "moment_range":
        for key in _MOMENT_BOUNDS:
            # null is an open end, as for number_range (Airbyte sends "before": null)
            if cond.get(key) is not None and not isinstance(cond[key], dict):
                raise bad_query(f"moment_range.{key} must be an object or null.")
