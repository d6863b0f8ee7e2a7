"""CloseClient requests: which failures are re-sent, which raise, and what the errors say."""

from __future__ import annotations

import base64
import functools
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock, IteratorStream

from closecsv import __version__
from closecsv.close.client import CloseClient
from closecsv.errors import ApiError, AuthError, NotFound, OutcomeUnknown, RequestRejected

KEY = "api_4xSecretKeyDoNotLeak.9f8e7d"
BASE = "https://api.close.test/api/v1/"
SECRET_FORMS = (
    KEY,
    base64.b64encode(f"{KEY}:".encode()).decode(),
    base64.b64encode(KEY.encode()).decode(),
)


class EdgeRng(random.Random):
    """``uniform(a, b)`` always answers ``b``: full-jitter back-off becomes its cap."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def make_client(make_client: Callable[..., CloseClient]) -> Callable[..., CloseClient]:
    """Clients with the key ``KEY`` and jitter at the edges of its range."""
    return functools.partial(make_client, KEY, rng=EdgeRng())


def _script(httpx_mock: HTTPXMock, steps: list[int | Exception | bytes]) -> None:
    for step in steps:
        if isinstance(step, Exception):
            httpx_mock.add_exception(step)
        elif isinstance(step, bytes):
            httpx_mock.add_response(content=step)
        else:
            httpx_mock.add_response(status_code=step, json={"id": "x"} if step < 300 else {})


def _call(client: CloseClient, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(path)
    if method == "DELETE":
        return client.delete(path)
    verb = client.post if method == "POST" else client.put
    return verb(path, {"name": "n"})


RETRIED = [
    ("GET", "lead/", 502),
    ("GET", "lead/", 503),
    ("GET", "lead/", 504),
    ("GET", "lead/", 500),
    ("GET", "lead/", httpx.ConnectError("refused")),
    ("GET", "lead/", httpx.ConnectTimeout("slow connect")),
    ("GET", "lead/", httpx.ReadTimeout("slow read")),
    ("GET", "lead/", httpx.RemoteProtocolError("dropped")),
    ("GET", "lead/", b"<html>proxy error</html>"),
    ("PUT", "activity/custom/acti_1/", 503),
    ("PUT", "activity/custom/acti_1/", httpx.ReadTimeout("slow read")),
    ("DELETE", "activity/custom/acti_1/", 502),
    ("POST", "data/search/", 502),
    ("POST", "data/search/", httpx.ReadError("reset")),
    ("POST", "activity/custom/", httpx.ConnectError("refused")),
    ("POST", "activity/custom/", httpx.ConnectTimeout("slow connect")),
    ("POST", "activity/custom/", httpx.PoolTimeout("no free connection")),
]


@pytest.mark.parametrize(("method", "path", "failure"), RETRIED)
def test_safe_failures_are_sent_again(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any, method: str, path: str, failure: Any
) -> None:
    _script(httpx_mock, [failure, 200])
    client = make_client()
    _call(client, method, path)
    assert len(httpx_mock.get_requests()) == 2
    assert fake_clock.slept == [1.0]  # full jitter, first step: uniform(0, 0.5 * 2**1)
    assert client.stats.retries == 1


UNKNOWN = [
    (httpx.ReadTimeout("slow read"), "ReadTimeout: slow read"),
    (httpx.WriteTimeout("slow write"), "WriteTimeout"),
    (httpx.RemoteProtocolError("Server disconnected"), "RemoteProtocolError"),
    (httpx.ReadError("Connection reset by peer"), "ReadError"),
    (500, "HTTP 500 Internal Server Error"),
    (502, "HTTP 502 Bad Gateway"),
    (503, "HTTP 503 Service Unavailable"),
    (504, "HTTP 504 Gateway Timeout"),
    (507, "HTTP 507"),
    (b"{truncated", "not a JSON object"),
    (b"[1, 2]", "not a JSON object"),
]


@pytest.mark.parametrize(("failure", "cause"), UNKNOWN)
def test_a_write_that_may_have_happened_is_never_sent_again(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any, failure: Any, cause: str
) -> None:
    _script(httpx_mock, [failure])
    client = make_client()
    with pytest.raises(OutcomeUnknown, match=r"POST activity/custom/: outcome unknown") as info:
        client.post("activity/custom/", {"lead_id": "lead_1"})
    assert cause in info.value.cause
    assert len(httpx_mock.get_requests()) == 1
    assert fake_clock.slept == []
    assert client.stats.outcome_unknown == 1


def test_retries_end_in_api_error_with_the_status(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    _script(httpx_mock, [503, 503, 503])
    client = make_client(max_attempts=3)
    with pytest.raises(ApiError, match=r"GET me/: gave up after 3 attempts \(HTTP 503") as info:
        client.get("me/")
    assert info.value.status == 503
    assert fake_clock.slept == [1.0, 2.0]
    assert client.stats.as_dict() == {
        "requests": 3,
        "rate_limited": 0,
        "retries": 2,
        "outcome_unknown": 0,
        "transport_errors": 0,
        "by_status": {"503": 3},
    }


def test_backoff_grows_and_is_capped(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    _script(httpx_mock, [httpx.ReadError("reset")] * 8)
    client = make_client()
    with pytest.raises(ApiError, match=r"gave up after 8 attempts \(ReadError: reset\)"):
        client.get("me/")
    assert fake_clock.slept == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert client.stats.transport_errors == 8


def test_an_unexpected_5xx_on_a_read_is_not_retried(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    httpx_mock.add_response(status_code=501, json={"error": "Not Implemented"})
    with pytest.raises(ApiError, match=r"GET me/: unexpected HTTP 501: Not Implemented"):
        make_client().get("me/")


REJECTED = [
    (
        400,
        {"errors": [], "field-errors": {"_limit": "Input should be less than or equal to 200"}},
        RequestRejected,
        r"^_limit: Input should be less than or equal to 200$",
    ),
    (
        400,
        {"errors": ["Bad date"], "field-errors": {"lead_id": "This field is required."}},
        RequestRejected,
        r"^lead_id: This field is required\.; Bad date$",
    ),
    (400, {"error": "The request contains invalid JSON."}, RequestRejected, r"invalid JSON\.$"),
    (400, {"error": {"message": "Nope", "code": 7}}, RequestRejected, r"^Nope$"),
    (409, None, RequestRejected, r"^HTTP 409 Conflict$"),
    (422, {"errors": ["Unprocessable"]}, RequestRejected, r"^Unprocessable$"),
    (404, {"error": "Not found"}, NotFound, r"^Not found$"),
]


@pytest.mark.parametrize(("status", "body", "kind", "message"), REJECTED)
def test_client_errors_are_rejections_with_a_readable_message(
    httpx_mock: HTTPXMock, make_client: Any, status: int, body: Any, kind: type, message: str
) -> None:
    httpx_mock.add_response(status_code=status, json=body)
    with pytest.raises(kind, match=message) as info:
        make_client().post("activity/custom/", {"lead_id": "lead_1"})
    assert info.value.status == status
    assert info.value.body == body
    assert len(httpx_mock.get_requests()) == 1


def test_rejection_exposes_field_errors_and_errors(httpx_mock: HTTPXMock, make_client: Any) -> None:
    body = {"errors": ["e1"], "field-errors": {"custom.cf_x": "Not a valid choice."}}
    httpx_mock.add_response(status_code=400, json=body)
    with pytest.raises(RequestRejected) as info:
        make_client().post("activity/custom/", {})
    assert info.value.field_errors == {"custom.cf_x": "Not a valid choice."}
    assert info.value.errors == ["e1"]


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, "Unauthorized", r"^authentication refused \(HTTP 401\) for GET me/: Unauthorized\n"),
        (403, "Forbidden", r"^permission refused \(HTTP 403\) for GET me/: Forbidden\n  hint: "),
    ],
)
def test_auth_failures_stop_and_never_show_the_key(
    httpx_mock: HTTPXMock, make_client: Any, status: int, error: str, message: str
) -> None:
    httpx_mock.add_response(status_code=status, json={"error": error})
    client = make_client()
    with pytest.raises(AuthError, match=message) as info:
        client.get("me/")
    shown = " ".join([str(info.value), repr(info.value), repr(client), str(info.value.args)])
    for secret in SECRET_FORMS:
        assert secret not in shown
    assert info.value.exit_code == 3
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_server_text_echoing_the_key_is_redacted(httpx_mock: HTTPXMock, make_client: Any) -> None:
    echoed = f"bad key {KEY} / {SECRET_FORMS[1]}"
    httpx_mock.add_response(status_code=401, json={"error": echoed})
    with pytest.raises(AuthError) as info:
        make_client().get("me/")
    assert all(secret not in str(info.value) for secret in SECRET_FORMS)
    assert "bad key *** / ***" in str(info.value)


def test_base64_of_the_key_without_padding_is_redacted(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    padded = SECRET_FORMS[1]
    assert padded.endswith("=")  # the test key's "key:" form is padded: strip it
    echoed = f"proxy saw Basic {padded.rstrip('=')}; and {SECRET_FORMS[2].rstrip('=')}"
    httpx_mock.add_response(status_code=401, json={"error": echoed})
    with pytest.raises(AuthError) as info:
        make_client().get("me/")
    assert "proxy saw Basic ***; and ***" in str(info.value)


def test_network_errors_are_not_chained_into_the_raised_exception(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"))
    with pytest.raises(OutcomeUnknown) as info:
        make_client().post("activity/custom/", {})
    assert info.value.__cause__ is None
    assert info.value.__context__ is None  # no httpx.Request (with its headers) reachable


def test_basic_auth_user_agent_and_repr(httpx_mock: HTTPXMock, make_client: Any) -> None:
    httpx_mock.add_response(json={"id": "user_1"})
    client = make_client()
    assert client.get("me/", {"_fields": "id"}) == {"id": "user_1"}
    request = httpx_mock.get_requests()[0]
    assert str(request.url) == f"{BASE}me/?_fields=id"
    assert request.headers["authorization"] == f"Basic {SECRET_FORMS[1]}"
    assert request.headers["user-agent"] == f"closecsv/{__version__}"
    assert repr(client) == f"CloseClient(base_url={BASE!r})"


def test_empty_answers_are_empty_dicts(httpx_mock: HTTPXMock, make_client: Any) -> None:
    httpx_mock.add_response(status_code=204)
    httpx_mock.add_response(status_code=200, content=b"")
    client = make_client()
    assert client.delete("activity/custom/acti_1/") is None
    assert client.get("activity/custom/acti_1/") == {}


def test_debug_log_has_method_path_status_and_no_headers(
    httpx_mock: HTTPXMock, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_response(json={})
    with caplog.at_level(logging.DEBUG, logger="closecsv.close.client"):
        make_client().get("me/")
    lines = [r.getMessage() for r in caplog.records if r.name == "closecsv.close.client"]
    assert [line.split(" in ")[0] for line in lines] == ["GET me/ -> 503", "GET me/ -> 200"]
    assert not any(s in caplog.text for s in SECRET_FORMS)
    assert "authorization" not in caplog.text.lower()


def _trickle(fake_clock: Any, step: float, chunks: int) -> Iterator[bytes]:
    yield b'{"data": ['
    for _ in range(chunks):
        fake_clock.advance(step)
        yield b'"x",'
    yield b'"y"]}'


def test_a_trickling_read_hits_the_deadline_and_is_retried(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    httpx_mock.add_response(stream=IteratorStream(_trickle(fake_clock, 50.0, 5)))
    httpx_mock.add_response(json={"data": []})
    client = make_client(deadline=120.0)
    assert client.get("activity/custom/") == {"data": []}
    assert client.stats.retries == 1


def test_a_trickling_post_hits_the_deadline_and_is_outcome_unknown(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    httpx_mock.add_response(stream=IteratorStream(_trickle(fake_clock, 50.0, 5)))
    with pytest.raises(OutcomeUnknown, match=r"no complete answer within 120s"):
        make_client(deadline=120.0).post("activity/custom/", {})
    assert len(httpx_mock.get_requests()) == 1


def test_a_slow_answer_within_the_deadline_is_used(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    httpx_mock.add_response(stream=IteratorStream(_trickle(fake_clock, 10.0, 5)))
    assert make_client(deadline=120.0).get("x/") == {"data": ["x", "x", "x", "x", "x", "y"]}
