"""``POST /data/search/`` answers every malformed body, on the real socket, and reads a null
``moment_range`` bound as an open end.

Airbyte's custom-object stream sends ``{"type": "moment_range", "before": null,
"on_or_after": {...}}``; that once dropped the connection.  Close's Advanced Filtering accepts
half-open ranges (a range with only ``on_or_after`` is the documented way to say "since"), so
``null`` is read as "no bound".  For every node type the search knows, every key of a valid
node (at any depth) is replaced by values of the wrong JSON type, or removed, and the node
itself replaced by non-objects: each body gets a 200 or a 400 in Close's shape, never a
dropped connection nor a 500.  A failure the handler did not expect is a 500 in Close's shape.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from closecsv.sandbox import search as sandbox_search

AUTH = (SANDBOX_API_KEY, "")
BAD_VALUES: list[Any] = [None, [], {}, "x", 7, 1.5, True, [{}], {"type": None}, [None]]


def _fc(field: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    return {"type": "field_condition", "field": field, "condition": condition}


def _regular(name: str) -> dict[str, Any]:
    return {"type": "regular_field", "field_name": name}


DATE_RANGE = {
    "type": "moment_range",
    "on_or_after": {"type": "fixed_utc", "value": "2024-01-01T00:00:00Z"},
    "before": {"type": "fixed_local_date", "value": "2030-01-01", "which": "end"},
}
# one valid node of every type and condition the sandbox's search evaluates
NODES: dict[str, dict[str, Any]] = {
    "and": {"type": "and", "queries": [{"type": "match_all"}, {"type": "match_all"}]},
    "or": {"type": "or", "queries": [{"type": "match_all"}]},
    "negate": {"type": "match_all", "negate": True},
    "match_all": {"type": "match_all"},
    "object_type": {"type": "object_type", "object_type": "lead"},
    "id": {"type": "id", "value": "lead_x"},
    "text": {"type": "text", "value": "acme", "mode": "full_words"},
    "text condition": _fc(
        _regular("display_name"), {"type": "text", "mode": "phrase", "value": "acme"}
    ),
    "term": _fc(_regular("status_label"), {"type": "term", "values": ["Potential"]}),
    "reference": _fc(_regular("lead_id"), {"type": "reference", "object_ids": ["lead_x"]}),
    "number_range": _fc(
        {"type": "custom_field", "custom_field_id": "cf_x"},
        {"type": "number_range", "gte": 1, "lt": 10},
    ),
    "boolean": _fc(_regular("pinned"), {"type": "boolean", "value": True}),
    "exists": _fc(_regular("url"), {"type": "exists"}),
    "moment_range": _fc(_regular("date_created"), DATE_RANGE),
    "has_related": {
        "type": "has_related",
        "related_object_type": "contact",
        "related_query": _fc(_regular("title"), {"type": "text", "value": "buyer"}),
    },
    "lead via contact_email": {
        "type": "has_related",
        "related_object_type": "contact_email",
        "related_query": _fc(
            _regular("email"), {"type": "text", "mode": "exact_value", "value": "a@b.c"}
        ),
    },
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path inside ``node`` (dict keys and list indexes), depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*prefix, key)
        if isinstance(value, dict | list):
            yield from _paths(value, (*prefix, key))


def _replaced(node: Any, path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    out = copy.deepcopy(node)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def malformed(node: dict[str, Any]) -> Iterator[Any]:
    """``node`` with each part of the wrong type or missing, and non-objects in its place."""
    yield from BAD_VALUES
    for path in _paths(node):
        yield _replaced(node, path, None, drop=True)
        for value in BAD_VALUES:
            yield _replaced(node, path, value, drop=False)


def close_error_shape(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if "field-errors" in body:
        errors = body["field-errors"]
        return isinstance(errors, dict) and all(isinstance(m, str) for m in errors.values())
    return isinstance(body.get("error"), str)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, httpx.Client]]:
    sb = Sandbox()
    with sb.serve() as url, httpx.Client(base_url=url, auth=AUTH) as client:
        yield sb, client


@pytest.mark.parametrize("name", list(NODES))
def test_every_malformed_node_gets_a_200_or_a_400_on_the_socket(
    name: str, served: tuple[Sandbox, httpx.Client]
) -> None:
    sb, client = served
    refused = 0
    for node in malformed(NODES[name]):
        for query in (node, {"type": "and", "queries": [{"type": "match_all"}, node]}):
            body = {"query": query, "_fields": {"lead": ["id", "display_name"]}}
            answer = client.post("data/search/", json=body)  # a dropped connection raises
            assert answer.status_code in (200, 400), (query, answer.text)
            if answer.status_code == 400:
                refused += 1
                assert close_error_shape(answer.json()), answer.text
            else:
                assert isinstance(answer.json()["data"], list)
    assert refused > 0  # the wrong types were looked at, not ignored
    assert sb.dispatcher.status_counts[0] == 0 and sb.dispatcher.status_counts[500] == 0


TOP_LEVEL = {
    "query": {"type": "match_all"},
    "_fields": {"lead": ["id"]},
    "sort": [{"field": {"field_name": "date_created"}, "direction": "asc"}],
    "_limit": 5,
    "results_limit": 10,
    "include_counts": True,
    "cursor": None,
}


def test_every_malformed_top_level_key_gets_a_200_or_a_400(
    served: tuple[Sandbox, httpx.Client],
) -> None:
    _sb, client = served
    for body in [*malformed(TOP_LEVEL)]:
        answer = client.post("data/search/", json=body)
        assert answer.status_code in (200, 400), (body, answer.text)
        if answer.status_code == 400:
            assert close_error_shape(answer.json()), answer.text


def _created_since(sb: Sandbox, otype_coll: str, since: str) -> set[str]:
    objs = sb.state.collections[otype_coll].values()
    return {o["id"] for o in objs if o["date_created"] >= since}


def _search_ids(client: httpx.Client, body: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    while True:
        page = client.post("data/search/", json=body)
        assert page.status_code == 200, page.text
        ids |= {row["id"] for row in page.json()["data"]}
        cursor = page.json()["cursor"]
        if cursor is None:
            return ids
        body = {**body, "cursor": cursor}


def test_a_null_before_is_an_open_end_as_airbyte_sends_it(
    served: tuple[Sandbox, httpx.Client],
) -> None:
    sb, client = served
    objects = sorted(sb.state.custom_objects.values(), key=lambda o: o["date_created"])
    since = objects[1]["date_created"][:10]  # a day on which not every object was created
    otype = objects[0]["custom_object_type_id"]
    range_ = {
        "type": "moment_range",
        "before": None,
        "on_or_after": {"type": "fixed_local_date", "value": since, "which": "start"},
    }
    body = {
        "query": {
            "type": "and",
            "queries": [
                {"type": "object_type", "object_type": "custom_object"},
                _fc(_regular("custom_object_type_id"), {"type": "term", "values": [otype]}),
                _fc(_regular("date_created"), range_),
            ],
        },
        "_limit": 2,
        "_fields": {"custom_object": ["id", "name", "date_created"]},
    }
    wanted = {
        i
        for i in _created_since(sb, "custom_objects", since)
        if sb.state.custom_objects[i]["custom_object_type_id"] == otype
    }
    assert wanted and _search_ids(client, body) == wanted
    # the same with both ends null: every object of the type
    range_["on_or_after"] = None
    everything = {o["id"] for o in objects if o["custom_object_type_id"] == otype}
    assert _search_ids(client, body) == everything


def test_a_search_handler_that_fails_answers_500_in_closes_shape(
    served: tuple[Sandbox, httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    _sb, client = served

    def broken(*_args: Any) -> bool:
        raise KeyError("a bug")

    monkeypatch.setattr(sandbox_search, "matches", broken)
    answer = client.post("data/search/", json={"query": {"type": "text", "value": "x"}})
    assert answer.status_code == 500
    assert answer.json() == {"error": "Internal server error."}
    assert client.get("me/").status_code == 200  # the server still answers
