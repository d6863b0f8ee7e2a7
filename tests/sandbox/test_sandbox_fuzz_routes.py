"""Every sandbox route answers any query and any JSON body with an HTTP answer in Close's shape.

A handler that raised used to drop the connection, which a client cannot tell from the
sandbox's own commit-then-drop fault.  Here every route of the dispatcher gets valid requests
with parts replaced by JSON values of every kind (null, booleans, huge integers, floats,
strings such as dates past 9999, lists, objects): each answer must be a status below 600, a
4xx/5xx body must be Close's error shape, a 2xx body must be strict JSON, no answer may be a
500 (bad input is a 400), and a write that was refused must leave the org as it was.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

BASE = "http://sb.test/api/v1/"
AUTH = {"authorization": "Basic " + base64.b64encode(f"{SANDBOX_API_KEY}:".encode()).decode()}
_SEED = Sandbox().state
ACT = dict(next(iter(_SEED.custom_activities.values())))
OBJ = dict(next(iter(_SEED.custom_objects.values())))
LEAD, TYPE, OTYPE = ACT["lead_id"], ACT["custom_activity_type_id"], OBJ["custom_object_type_id"]
CONTACT = next(c for c in _SEED.contacts.values() if c["lead_id"] == LEAD)
OTHER_LEAD = next(lid for lid in _SEED.leads if lid != LEAD)
EMAIL = CONTACT["emails"][0]["email"] if CONTACT["emails"] else "a@b.c"

ODD_TEXT = [
    "10000-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "99999-01-01",
    "2024-02-30",
    "2024-01-01",
    "2024-01-01T00:00:00",
    "1e999",
    "-1",
    "NaN",
    "",
    "desc",
    LEAD,
    TYPE,
    "custom",
    "match_all",
]
KEYS = [
    "type",
    "queries",
    "value",
    "field",
    "condition",
    "values",
    "object_ids",
    "mode",
    "negate",
    "field_name",
    "custom_field_id",
    "on_or_after",
    "before",
    "gte",
    "lt",
    "related_object_type",
    "related_query",
    "object_type",
    "direction",
    "lead_id",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=10**300)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(ODD_TEXT)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn, template: Any) -> Any:
    """``template`` with some of its parts (at any depth) replaced, dropped or added to."""
    if draw(st.integers(0, 7)) == 0:
        return draw(JSON)
    if isinstance(template, str) and draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(ODD_TEXT))
    if isinstance(template, dict):
        out = {k: draw(mutated(v)) for k, v in template.items() if draw(st.integers(0, 9))}
        if draw(st.integers(0, 5)) == 0:
            out[draw(st.sampled_from(KEYS) | st.text(max_size=6))] = draw(JSON)
        return out
    if isinstance(template, list):
        return [draw(mutated(v)) for v in template]
    return template


def as_param(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def query_of(draw: st.DrawFn, template: dict[str, str]) -> dict[str, str]:
    changed = draw(mutated(template))
    if not isinstance(changed, dict):
        changed = {draw(st.sampled_from([*QUERY_KEYS, "x"])): changed}
    return {str(k): as_param(v) for k, v in changed.items()}


QUERY_KEYS = [
    "lead_id",
    "lead_id__in",
    "custom_activity_type_id",
    "custom_activity_type_id__in",
    "custom_object_type_id",
    "user_id",
    "contact_id",
    "_type",
    "id__in",
    "date_created__gte",
    "date_created__lt",
    "activity_at__gt",
    "activity_at__lte",
    "_limit",
    "_skip",
    "_fields",
    "query",
    "_expand",
]
LIST_QUERY = {"_limit": "5", "_skip": "0", "_fields": "id,lead_id,custom", "lead_id": LEAD}
ACT_QUERY = {
    **LIST_QUERY,
    "custom_activity_type_id": TYPE,
    "date_created__gte": "2024-01-01",
    "activity_at__lt": "2030-01-01T00:00:00+00:00",
}
ACT_BODY = {k: v for k, v in ACT.items() if k not in ("id", "_type", "organization_id")}
OBJ_BODY = {k: v for k, v in OBJ.items() if k not in ("id", "organization_id")}
SEARCH_BODY = {
    "query": {
        "type": "and",
        "queries": [
            {"type": "object_type", "object_type": "activity.custom_activity"},
            {
                "type": "field_condition",
                "field": {"type": "regular_field", "field_name": "custom_activity_type_id"},
                "condition": {"type": "term", "values": [TYPE]},
            },
            {
                "type": "field_condition",
                "field": {"type": "regular_field", "field_name": "date_created"},
                "condition": {
                    "type": "moment_range",
                    "on_or_after": {"type": "fixed_utc", "value": "2024-01-01T00:00:00Z"},
                    "before": {"type": "fixed_local_date", "value": "2030-01-01", "which": "end"},
                },
            },
            {
                "type": "or",
                "queries": [
                    {"type": "text", "value": "pricing", "mode": "phrase"},
                    {
                        "type": "field_condition",
                        "field": {"type": "custom_field", "custom_field_id": "cf_x"},
                        "condition": {"type": "number_range", "gte": 1, "lt": 100},
                    },
                    {
                        "type": "has_related",
                        "negate": True,
                        "related_object_type": "lead",
                        "related_query": {
                            "type": "has_related",
                            "related_object_type": "contact_email",
                            "related_query": {
                                "type": "field_condition",
                                "field": {"type": "regular_field", "field_name": "email"},
                                "condition": {
                                    "type": "text",
                                    "mode": "exact_value",
                                    "value": EMAIL,
                                },
                            },
                        },
                    },
                    {
                        "type": "field_condition",
                        "field": {"type": "regular_field", "field_name": "lead_id"},
                        "condition": {"type": "reference", "object_ids": [LEAD]},
                    },
                    {
                        "type": "field_condition",
                        "field": {"type": "regular_field", "field_name": "pinned"},
                        "condition": {"type": "boolean", "value": False},
                    },
                    {
                        "type": "field_condition",
                        "field": {"type": "regular_field", "field_name": "contact_id"},
                        "condition": {"type": "exists"},
                    },
                ],
            },
        ],
    },
    "_fields": {"activity.custom_activity": ["id", "lead_id", "date_created"]},
    "sort": [{"field": {"field_name": "date_created"}, "direction": "desc"}],
    "_limit": 2,
    "results_limit": 50,
    "include_counts": True,
}
WRITES = ("POST", "PUT", "DELETE")
ACT_FIELD = next(f for f in _SEED.activity_types[TYPE]["field_ids"] if f in _SEED.fields)
OBJ_FIELD = _SEED.object_types[OTYPE]["field_ids"][-1]
FIELD_BODY = {
    "name": "Tier",
    "type": "choices",
    "choices": ["A", "B"],
    "accepts_multiple_values": True,
    "required": False,
    "description": "d",
    "editable_with_roles": ["admin"],
}
TYPE_BODY = {
    "name": "Car",
    "name_plural": "Cars",
    "description": "d",
    "api_create_only": False,
    "is_archived": True,
    "editable_with_roles": [],
}
EVENT_QUERY = {
    "object_type": "activity.custom_activity",
    "action": "created",
    "date_updated__gte": "2024-01-01T00:00:00+00:00",
    "_limit": "10",
    "_cursor": "eyJrIjogWyIiLCAwLCAiIl0sICJkIjogIm5leHQiLCAiZiI6IHt9LCAiYiI6IFtdfQ==",
}

# (method, path, query template, body template) for every route of the dispatcher
ROUTES: list[tuple[str, str, dict[str, str], Any]] = [
    ("GET", "me/", {"_fields": "id,email"}, None),
    ("GET", "user/", LIST_QUERY, None),
    ("GET", f"user/{ACT['user_id']}/", {"_fields": "id"}, None),
    ("GET", f"organization/{ACT['organization_id']}/", {"_expand": "memberships__user"}, None),
    ("GET", "lead/", {**LIST_QUERY, "query": 'name:"Acme"'}, None),
    ("GET", f"lead/{LEAD}/", {"_fields": "id,name"}, None),
    ("GET", "contact/", LIST_QUERY, None),
    ("GET", f"contact/{CONTACT['id']}/", {"_fields": "id"}, None),
    ("POST", "data/search/", {}, SEARCH_BODY),
    ("GET", "custom_activity/", {}, None),
    ("GET", f"custom_activity/{TYPE}/", {}, None),
    ("GET", "custom_field/activity/", LIST_QUERY, None),
    ("GET", "custom_field/shared/", {"_fields": "id,name"}, None),
    ("GET", "custom_field/custom_object_type/", {}, None),
    ("GET", f"custom_field_schema/activity/{TYPE}/", {}, None),
    ("GET", f"custom_field_schema/custom_object/{OTYPE}/", {}, None),
    ("GET", "activity/", {**ACT_QUERY, "_type": "Custom"}, None),
    ("GET", "activity/custom/", ACT_QUERY, None),
    ("POST", "activity/custom/", {}, ACT_BODY),
    ("GET", f"activity/custom/{ACT['id']}/", {"_fields": "id,custom"}, None),
    ("PUT", f"activity/custom/{ACT['id']}/", {}, ACT_BODY),
    ("DELETE", f"activity/custom/{ACT['id']}/", {}, None),
    ("GET", "custom_object_type/", {}, None),
    ("GET", f"custom_object_type/{OTYPE}/", {}, None),
    ("GET", "custom_object/", {**LIST_QUERY, "custom_object_type_id": OTYPE}, None),
    ("POST", "custom_object/", {}, OBJ_BODY),
    ("GET", f"custom_object/{OBJ['id']}/", {"_fields": "id,name"}, None),
    ("PUT", f"custom_object/{OBJ['id']}/", {}, OBJ_BODY),
    ("DELETE", f"custom_object/{OBJ['id']}/", {}, None),
    ("GET", "event/", EVENT_QUERY, None),
    ("GET", "event/ev_unknown/", {}, None),
    ("DELETE", f"lead/{LEAD}/", {}, None),
    ("POST", "lead/merge/", {}, {"source": LEAD, "destination": OTHER_LEAD}),
    ("POST", "custom_field/activity/", {}, {**FIELD_BODY, "custom_activity_type_id": TYPE}),
    ("GET", f"custom_field/activity/{ACT_FIELD}/", {"_fields": "id"}, None),
    ("PUT", f"custom_field/activity/{ACT_FIELD}/", {}, FIELD_BODY),
    ("DELETE", f"custom_field/activity/{ACT_FIELD}/", {}, None),
    (
        "POST",
        "custom_field/custom_object_type/",
        {},
        {**FIELD_BODY, "custom_object_type_id": OTYPE},
    ),
    ("GET", f"custom_field/custom_object_type/{OBJ_FIELD}/", {}, None),
    ("PUT", f"custom_field/custom_object_type/{OBJ_FIELD}/", {}, FIELD_BODY),
    ("DELETE", f"custom_field/custom_object_type/{OBJ_FIELD}/", {}, None),
    ("POST", "custom_activity/", {}, TYPE_BODY),
    ("PUT", f"custom_activity/{TYPE}/", {}, TYPE_BODY),
    ("DELETE", f"custom_activity/{TYPE}/", {}, None),
    ("POST", "custom_object_type/", {}, TYPE_BODY),
    ("PUT", f"custom_object_type/{OTYPE}/", {}, TYPE_BODY),
    ("DELETE", f"custom_object_type/{OTYPE}/", {}, None),
]


def fingerprint(sb: Sandbox) -> str:
    return json.dumps([sb.state.collections, sb.state.meta], sort_keys=True, default=repr)


def strict_json(body: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(body, parse_constant=refuse)


def check_answer(answer: httpx.Response) -> None:
    assert 200 <= answer.status_code < 600
    assert answer.status_code != 500, answer.text  # bad input is a 400, never a crash
    if answer.status_code == 204:
        assert answer.content == b""
        return
    if answer.request.method == "DELETE" and answer.status_code == 200 and not answer.content:
        return  # a lead deletion: 200 with an empty body, as observed on Close
    body = strict_json(answer.content)
    if answer.status_code < 400:
        return
    assert isinstance(body, dict), body
    if "field-errors" in body:
        assert isinstance(body["field-errors"], dict)
        assert all(isinstance(m, str) for m in body["field-errors"].values())
        assert isinstance(body.get("errors", []), list)
    else:
        assert isinstance(body.get("error"), str), body


def send(sb: Sandbox, method: str, path: str, query: dict[str, str], body: bytes) -> httpx.Response:
    headers = {**AUTH, "content-type": "application/json"}
    if method == "OVERRIDE":
        headers["x-http-method-override"] = "GET"
        method = "POST"
    with httpx.Client(transport=sb.transport(), base_url=BASE) as client:
        return client.request(method, path, params=query, headers=headers, content=body)


def test_the_fuzz_table_covers_every_route() -> None:
    sb = Sandbox()
    covered: set[tuple[str, str]] = set()
    for method, path, _query, _body in ROUTES:
        for pattern, methods in sb.dispatcher.routes:
            if pattern.fullmatch(path) and method in methods:
                covered.add((pattern.pattern, method))
    wanted = {(p.pattern, m) for p, methods in sb.dispatcher.routes for m in methods}
    assert covered == wanted


@pytest.mark.parametrize(
    ("method", "path", "query", "body"), ROUTES, ids=[f"{r[0]} {r[1][:28]}" for r in ROUTES]
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_query_and_body_gets_an_answer_in_closes_shape(
    data: st.DataObject, method: str, path: str, query: dict[str, str], body: Any
) -> None:
    sb = Sandbox()
    params = data.draw(query_of(query), label="query")
    payload = None if body is None and data.draw(st.booleans()) else data.draw(mutated(body))
    raw = b"" if payload is None else json.dumps(payload).encode()
    before = fingerprint(sb) if method in WRITES else ""
    answer = send(sb, method, path, params, raw)
    check_answer(answer)
    if method in WRITES and answer.status_code >= 400:
        assert fingerprint(sb) == before


@settings(max_examples=40, deadline=None)
@given(params=st.dictionaries(st.sampled_from(QUERY_KEYS) | st.text(max_size=5), JSON))
def test_a_method_override_accepts_any_params(params: dict[str, Any]) -> None:
    sb = Sandbox()
    for payload in ({"_params": params}, {"_params": list(params)}, params):
        check_answer(send(sb, "OVERRIDE", "activity/custom/", {}, json.dumps(payload).encode()))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"lead_id": ' + b"9" * 5000 + b"}",
        b'{"_limit": NaN}',
        b'{"value": Infinity}',
        b"[" * 100_000,
        b"\xff\xfe{}",
        b'{"query": {"type": "match_all"}, "sort": "date_created"}',
    ],
    ids=["5000-digit int", "NaN", "Infinity", "deep nesting", "not UTF-8", "string sort"],
)
@pytest.mark.parametrize("path", ["data/search/", "activity/custom/", "custom_object/"])
def test_raw_bodies_that_are_not_plain_json_are_a_400(raw: bytes, path: str) -> None:
    sb = Sandbox()
    before = copy.deepcopy(sb.state.collections)
    answer = send(sb, "POST", path, {}, raw)
    check_answer(answer)
    assert answer.status_code == 400
    assert sb.state.collections == before
