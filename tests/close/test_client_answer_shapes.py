"""Answers of the wrong shape: a write without a usable id is never a success, and a page or
``me/`` without the field closecsv reads is one clear error (exit 3), never a ``KeyError``.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from pytest_httpx import HTTPXMock

from closecsv import cli
from closecsv.cli import context as cli_context
from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.paging import Window
from closecsv.close.schema import Schema
from closecsv.errors import ApiError, OutcomeUnknown
from closecsv.exporting.routes import Scope, estimate
from closecsv.importing.resolve import Resolver
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock
from tests.helpers.faults import PREFIX, Env, Faulty, results, write_calls

BASE = "https://api.close.test/api/v1/"

NO_ID = {
    "id-null": {"id": None, "lead_id": "lead_x"},
    "id-empty": {"id": ""},
    "id-number": {"id": 7},
    "error-body": {"error": "Internal error"},
    "data-list": {"data": []},
}


class Spoiled(Faulty):
    """Faulty, plus creates that commit and then answer 200 with a body of the wrong shape."""

    def _spoil(self, fault: str, answer: httpx.Response, request: httpx.Request) -> httpx.Response:
        if fault in NO_ID:
            answer.read()
            return httpx.Response(200, json=NO_ID[fault])
        return super()._spoil(fault, answer, request)


@pytest.fixture
def env(tmp_path: Path, fake_clock: FakeClock) -> Iterator[Env]:
    sandbox = Sandbox(clock=fake_clock, sleep=fake_clock.sleep)
    transport = Spoiled(sandbox.transport(), fake_clock)
    client = CloseClient(
        ApiKey(SANDBOX_API_KEY),
        "http://sandbox.test/api/v1/",
        transport=transport,
        clock=fake_clock,
        sleep=fake_clock.sleep,
    )
    e = Env(sandbox, transport, client, Schema(client), tmp_path)
    yield e
    e.client.close()
    e.sandbox.close()


@pytest.mark.parametrize("shape", sorted(NO_ID))
def test_a_create_answered_without_an_id_is_reconciled_not_counted_created(
    env: Env, shape: str
) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 12)
    env.transport.faults = {3: shape, 7: shape}
    report = env.run(path)
    assert report.counts() == {"created": 12} and report.exit_code == 0
    ids = [r["_id"] for r in results(report)]
    assert len(set(ids)) == 12 and all(i in env.sandbox.state.custom_activities for i in ids)
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(12)})
    assert env.client.stats.outcome_unknown == 2
    assert env.transport.posts == 12  # found by the reconcile, never sent twice
    again = env.run(path)
    assert again.counts() == {"created": 12} and env.transport.posts == 12


@pytest.mark.parametrize("shape", sorted(NO_ID))
def test_the_client_calls_a_create_without_an_id_outcome_unknown(
    httpx_mock: HTTPXMock, client: CloseClient, shape: str
) -> None:
    httpx_mock.add_response(json=NO_ID[shape])
    with pytest.raises(OutcomeUnknown, match=r"POST activity/custom/: outcome unknown") as info:
        client.post("activity/custom/", {"lead_id": "lead_1"})
    assert "no usable id" in info.value.cause and "'id'" in info.value.cause
    assert len(httpx_mock.get_requests()) == 1


def test_an_update_answered_without_an_id_is_sent_again(
    httpx_mock: HTTPXMock, client: CloseClient
) -> None:
    httpx_mock.add_response(json={"id": None})
    httpx_mock.add_response(json={"id": "acti_1", "note": "n", "added_by_close": 1})
    answer = client.put("activity/custom/acti_1/", {"note": "n"})
    assert answer == {"id": "acti_1", "note": "n", "added_by_close": 1}  # extra fields kept
    assert client.stats.retries == 1


def test_a_search_answer_is_not_a_write(httpx_mock: HTTPXMock, client: CloseClient) -> None:
    httpx_mock.add_response(json={"data": [], "cursor": None})
    assert client.search({"type": "and", "queries": []}, {"lead": ["id"]}) == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"has_more": False}, "no 'data' field"),
        ({"data": None}, "'data' is null"),
        ({"data": [{"id": "acti_1"}, "acti_2"]}, "'data' is a list: item 1 is text"),
        ({"error": "Not a list endpoint"}, "no 'data' field"),
    ],
)
def test_a_list_page_without_its_list_is_one_clear_error(
    httpx_mock: HTTPXMock, client: CloseClient, body: dict[str, Any], said: str
) -> None:
    httpx_mock.add_response(json=body)
    with pytest.raises(ApiError) as info:
        list(client.paginate("activity/custom/", {"lead_id": "lead_1"}))
    assert str(info.value).startswith("GET activity/custom/: the answer does not have the shape")
    assert said in str(info.value) and info.value.exit_code == 3


def test_a_search_page_without_its_list_is_one_clear_error(
    httpx_mock: HTTPXMock, client: CloseClient
) -> None:
    httpx_mock.add_response(json={"cursor": None})
    with pytest.raises(ApiError, match=r"^POST data/search/: .*no 'data' field"):
        client.search({"type": "and", "queries": []}, {"lead": ["id"]})


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"data": []}, "no 'id' field"),
        ({"id": "user_1"}, "no 'organizations' field"),
        ({"id": "user_1", "organizations": []}, "'organizations' is a list"),
        ({"id": "user_1", "organizations": [{"name": "x"}]}, "no 'organizations.0.id' field"),
    ],
)
def test_a_wrong_shape_me_answer_is_one_clear_error(
    httpx_mock: HTTPXMock, client: CloseClient, body: dict[str, Any], said: str
) -> None:
    httpx_mock.add_response(json=body)
    with pytest.raises(ApiError, match=r"^GET me/: the answer does not have the shape") as info:
        Resolver(client).organization()
    assert said in str(info.value)


def _answering(sandbox: Sandbox, path: str, body: dict[str, Any]) -> Callable[..., CloseClient]:
    """``CloseClient`` for the CLI, on ``sandbox`` in-process, with ``path`` answering ``body``."""
    inner = sandbox.transport()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(path):
            return httpx.Response(200, json=body)
        return inner.handle_request(request)

    return functools.partial(CloseClient, transport=httpx.MockTransport(handle))


def test_schema_on_a_type_list_without_its_list_exits_3_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Sandbox() as sandbox:
        monkeypatch.setattr(
            cli_context, "CloseClient", _answering(sandbox, "/custom_activity/", {})
        )
        result = CliRunner().invoke(
            cli.main,
            ["--api-url", "http://127.0.0.1:9/api/v1/", "schema"],
            env={"CLOSE_API_KEY": SANDBOX_API_KEY},
        )
    assert result.exit_code == 3, result.output
    assert "closecsv: error: GET custom_activity/: " in result.stderr
    assert "no 'data' field" in result.stderr and "Traceback" not in result.stderr


def _run_schema(monkeypatch: pytest.MonkeyPatch, part: str, body: Any) -> Result:
    """``closecsv schema --json`` on the seed sandbox, the requests whose path holds ``part``
    answered ``body``."""
    with Sandbox() as sandbox:
        inner = sandbox.transport()

        def handle(request: httpx.Request) -> httpx.Response:
            if part in request.url.path:
                return httpx.Response(200, json=body)
            return inner.handle_request(request)

        made = functools.partial(CloseClient, transport=httpx.MockTransport(handle))
        monkeypatch.setattr(cli_context, "CloseClient", made)
        return CliRunner().invoke(
            cli.main,
            ["--api-url", "http://127.0.0.1:9/api/v1/", "schema", "--json"],
            env={"CLOSE_API_KEY": SANDBOX_API_KEY},
        )


@pytest.mark.parametrize(
    ("part", "body", "endpoint", "said"),
    [
        ("/custom_activity/", {"data": [{"name": "Call"}]}, "custom_activity/", "no 'data.0.id'"),
        ("/custom_object_type/", {"data": [{"id": 7}]}, "custom_object_type/", "'data.0.id' is 7"),
        ("/custom_field_schema/activity/", {}, "custom_field_schema/activity/", "no 'fields'"),
        (
            "/custom_field_schema/custom_object/",
            {"fields": [{"id": "cf_1", "type": "text"}]},
            "custom_field_schema/custom_object/",
            "no 'fields.0.name' field",
        ),
        (
            "/custom_field_schema/activity/",
            {"fields": [{"name": "Outcome"}]},
            "custom_field_schema/activity/",
            "no 'fields.0.id' field",
        ),
    ],
)
def test_a_type_or_field_answer_without_what_closecsv_reads_exits_3_naming_it(
    monkeypatch: pytest.MonkeyPatch, part: str, body: Any, endpoint: str, said: str
) -> None:
    result = _run_schema(monkeypatch, part, body)
    assert result.exit_code == 3, result.output
    assert f"closecsv: error: GET {endpoint}" in result.stderr
    assert "the answer does not have the shape Close gives" in result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_fields_close_adds_to_types_and_field_definitions_are_kept_not_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    field = {"id": "cf_new", "name": "Region", "type": "text", "added_by_close": {"x": [1]}}
    result = _run_schema(
        monkeypatch, "/custom_field_schema/", {"fields": [field], "paging": {"next": None}}
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert {f["column"] for t in shown["activities"] for f in t["fields"]} == {"custom.Region"}


@pytest.mark.parametrize(
    ("body", "said"), [({"has_more": False}, "no 'data' field"), ({"data": None}, "'data' is null")]
)
def test_the_org_route_probe_without_its_list_is_one_clear_error(
    httpx_mock: HTTPXMock, client: CloseClient, body: dict[str, Any], said: str
) -> None:
    """Read as an empty page, such an answer would make the org-wide route look cheap."""
    httpx_mock.add_response(method="POST", json={"data": [], "count": {"total": 3}})
    httpx_mock.add_response(method="POST", status_code=400, json={"error": "cannot count"})
    httpx_mock.add_response(method="GET", json=body)
    scope = Scope(ACTIVITIES, ("actitype_1",), Window())
    with pytest.raises(ApiError, match=r"^GET activity/custom/: the answer does not") as info:
        estimate(client, scope, leads=5)
    assert said in str(info.value) and info.value.exit_code == 3
