"""Adversarial HTTP faults at the client (docs/ADVERSARIAL.md D and E): what one request does.

Scripted answers come from pytest-httpx; the sandbox serves the cases that need a server
with state (cursor expiry, a limit lowered mid-run) or a real socket (a trickling body, TLS).
The importer's side of the same faults (reconcile, journal, exit codes) is in
``test_adversarial_faults_import.py``.
"""

from __future__ import annotations

import random
import shutil
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.pacing import MAX_WAIT
from closecsv.errors import ApiError, OutcomeUnknown
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock

BASE = "https://api.close.test/api/v1/"
SRC = Path(__file__).resolve().parents[2] / "src" / "closecsv"


class NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return a


class CapJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def make_client(make_client: Callable[..., CloseClient]) -> Callable[..., CloseClient]:
    """Clients without jitter, unless a test brings its own ``rng``."""

    def make(rng: random.Random | None = None, **options: Any) -> CloseClient:
        return make_client(rng=rng or NoJitter(), **options)

    return make


# -- D1-D5: 429 waits ------------------------------------------------------------------------

WAITS_429 = [
    pytest.param({"retry-after": "2"}, 2.0, id="D1-retry-after"),
    pytest.param({"ratelimit": "limit=100, remaining=0, reset=5"}, 5.0, id="D2-close-form"),
    pytest.param(
        {"ratelimit": '"default";r=0;t=7', "retry-after": "3"}, 7.0, id="D3-draft-form-max"
    ),
    pytest.param(
        {
            "retry-after": "Wed, 21 Oct 2026 07:28:09 GMT",
            "date": "Wed, 21 Oct 2026 07:28:00 GMT",
        },
        9.0,
        id="D4-http-date",
    ),
    pytest.param({"retry-after": "soon"}, 1.0, id="D4-malformed-soon"),
    pytest.param({"retry-after": "-1"}, 1.0, id="D4-malformed-negative"),
    pytest.param({"retry-after": "1e9"}, 1.0, id="D4-malformed-exponent"),
    pytest.param({"retry-after": "1000000"}, MAX_WAIT, id="D4-over-cap-bounded"),
    pytest.param({}, 1.0, id="E4-no-header"),
]


@pytest.mark.parametrize(("headers", "wait"), WAITS_429)
def test_a_429_waits_as_its_headers_say_then_sends_the_same_request(
    httpx_mock: HTTPXMock,
    make_client: Any,
    fake_clock: FakeClock,
    headers: dict[str, str],
    wait: float,
) -> None:
    httpx_mock.add_response(status_code=429, headers=headers, json={"error": "slow down"})
    httpx_mock.add_response(json={"id": "acti_1"})
    client = make_client()
    assert client.post("activity/custom/", {"lead_id": "lead_1"}) == {"id": "acti_1"}
    assert fake_clock.slept == [wait]
    first, second = httpx_mock.get_requests()
    assert first.content == second.content
    assert (client.stats.rate_limited, client.stats.retries) == (1, 0)


def test_ten_minutes_of_429s_are_waited_out_without_spending_the_error_budget(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: FakeClock
) -> None:
    for _ in range(40):
        httpx_mock.add_response(status_code=429, headers={"retry-after": "15"})
    httpx_mock.add_response(json={"id": "acti_1"})
    client = make_client(max_attempts=1)
    assert client.post("activity/custom/", {}) == {"id": "acti_1"}
    assert sum(fake_clock.slept) == 600.0
    assert client.stats.rate_limited == 40 and client.stats.retries == 0


# -- D6, D11, D12, D13, D14, D19 ----------------------------------------------------------


def test_503_then_200_on_a_read_is_one_backed_off_resend(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: FakeClock
) -> None:
    httpx_mock.add_response(status_code=503, json={"error": "Service temporarily unavailable."})
    httpx_mock.add_response(json={"data": []})
    assert make_client(rng=CapJitter()).get("activity/custom/") == {"data": []}
    assert fake_clock.slept == [1.0]


def test_connect_errors_three_times_then_a_create_goes_through_once(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    """Mid-run (the server has answered before), connect errors get the full retry budget."""
    httpx_mock.add_response(json={"id": "user_1", "organizations": [{"id": "orga_1"}]})
    for exc in (httpx.ConnectError("dns"), httpx.ConnectTimeout("syn"), httpx.ConnectError("rst")):
        httpx_mock.add_exception(exc)
    httpx_mock.add_response(json={"id": "acti_1"})
    client = make_client()
    client.get("me/")
    assert client.post("activity/custom/", {"lead_id": "lead_1"}) == {"id": "acti_1"}
    assert client.stats.outcome_unknown == 0 and client.stats.retries == 3


def test_a_certificate_failure_is_fatal_and_not_retried(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    httpx_mock.add_exception(
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    )
    with pytest.raises(ApiError, match="CERTIFICATE_VERIFY_FAILED") as info:
        make_client().get("me/")
    assert info.value.hint is not None and "SSL_CERT_FILE" in info.value.hint
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    "body",
    [b'{"id": "acti_1", "lead_id": "le', b"<html><body>502 Bad Gateway</body></html>", b"[]"],
    ids=["D13-truncated", "D13-html-200", "D13-array"],
)
def test_a_2xx_whose_body_is_not_a_json_object_is_an_unknown_outcome(
    httpx_mock: HTTPXMock, make_client: Any, body: bytes
) -> None:
    httpx_mock.add_response(status_code=200, content=body)
    with pytest.raises(OutcomeUnknown, match="not a JSON object"):
        make_client().post("activity/custom/", {})


def test_an_html_proxy_page_is_summarised_not_dumped(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    page = b"<!DOCTYPE html><html><head><title>502</title></head><body>" + b"x" * 5000
    httpx_mock.add_response(status_code=502, content=page, is_reusable=True)
    with pytest.raises(ApiError) as info:
        make_client(max_attempts=2).get("me/")
    assert str(info.value).startswith("GET me/: gave up after 2 attempts (HTTP 502 Bad Gateway)")
    assert "<" not in str(info.value)
    with pytest.raises(OutcomeUnknown) as lost:
        make_client().post("activity/custom/", {})
    assert lost.value.cause == "HTTP 502 Bad Gateway"


def test_a_redirect_is_not_followed_and_no_credentials_go_elsewhere(
    httpx_mock: HTTPXMock, make_client: Any
) -> None:
    httpx_mock.add_response(status_code=301, headers={"location": "https://evil.test/api/v1/me/"})
    with pytest.raises(ApiError, match="unexpected HTTP 301"):
        make_client().get("me/")
    assert [r.url.host for r in httpx_mock.get_requests()] == ["api.close.test"]


# -- E2: one 429 pauses every thread, and they come back one first -------------------------


def test_a_429_pauses_all_threads_and_one_probe_goes_first() -> None:
    lock = threading.Lock()
    sends: list[float] = []
    throttled: list[float] = []  # when the 429 was answered (not the n-th answer: they race)

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            sends.append(time.monotonic())
            first = len(sends) == 3
        time.sleep(0.05)
        if first:
            throttled.append(time.monotonic())
            return httpx.Response(429, headers={"retry-after": "1"}, json={})
        return httpx.Response(200, json={})

    client = CloseClient(ApiKey("k"), BASE, transport=httpx.MockTransport(handler), rng=NoJitter())
    threads = [
        threading.Thread(target=lambda: [client.get("me/") for _ in range(3)]) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    [throttled_at] = throttled
    after = sorted(t for t in sends if t > throttled_at)
    assert len(sends) == 19 and client.stats.rate_limited == 1
    assert sum(1 for t in after if t < throttled_at + 0.95) <= 1  # the pause holds every thread
    resumed = [t for t in after if t >= throttled_at + 0.95]
    assert resumed[1] - resumed[0] >= 0.045  # the probe's answer came before the others went


# -- E5: the server lowers its limit mid-run -----------------------------------------------


def test_pacing_follows_a_limit_lowered_mid_run(fake_clock: FakeClock) -> None:
    sb = Sandbox(rate_limit=20, clock=fake_clock, sleep=fake_clock.sleep)
    client = CloseClient(
        ApiKey(SANDBOX_API_KEY),
        "http://sb.test/api/v1/",
        transport=sb.transport(),
        clock=fake_clock,
        sleep=fake_clock.sleep,
        rng=NoJitter(),
    )
    for _ in range(100):
        client.get("me/")
    fast = client.stats.rate_limited  # a tight loop at 20/s: the pacer alone avoids 429s
    sb.set_rate_limit(5)
    started = fake_clock.now
    for _ in range(60):
        client.get("me/")
    assert fast == 0
    assert client.stats.rate_limited <= 2
    assert 60 / (fake_clock.now - started) <= 5.5  # the new pace, within a few answers
    client.close()


# -- search cursors that expire mid-walk ---------------------------------------------------


class AgeCursors(httpx.BaseTransport):
    """The sandbox, but the clock jumps past the cursor lifetime after the first search page."""

    def __init__(self, sb: Sandbox, clock: FakeClock) -> None:
        self.inner, self.clock, self.pages = sb.transport(), clock, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if request.url.path.endswith("/data/search/"):
            self.pages += 1
            if self.pages == 1:
                self.clock.advance(31.0)
        return answer


def test_an_expired_search_cursor_mid_walk_still_yields_every_lead_once(
    fake_clock: FakeClock,
) -> None:
    sb = Sandbox(clock=fake_clock, sleep=fake_clock.sleep)
    transport = AgeCursors(sb, fake_clock)
    with CloseClient(
        ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=transport
    ) as client:
        query = {"type": "and", "queries": [{"type": "object_type", "object_type": "lead"}]}
        found = client.search(query, {"lead": ["id"]}, page_size=7)
    assert Counter(o["id"] for o in found) == Counter(list(sb.state.leads))
    assert transport.pages > len(sb.state.leads) // 7 + 1  # the walk was restarted


# -- D15 on a real socket: a body trickling in never trips the read timeout ---------------


def test_a_trickling_body_on_a_real_socket_hits_the_overall_deadline() -> None:
    sb = Sandbox()
    with sb.serve() as url:
        client = CloseClient(ApiKey(SANDBOX_API_KEY), url, timeout=0.5, deadline=1.0)
        assert client.get("me/")["email"] == "ada@example.com"
        sb.set_trickle(100)  # a byte every 0.1 s: each read is fast, the body takes minutes
        started = time.monotonic()
        plan = next(t for t in sb.state.object_types.values() if t["name"] == "Subscription")
        body = {"custom_object_type_id": plan["id"], "lead_id": next(iter(sb.state.leads))}
        with pytest.raises(OutcomeUnknown, match=r"no complete answer within 1s"):
            client.post("custom_object/", {**body, "name": "slow"})
        assert time.monotonic() - started < 2.5
        client.close()
    assert any(o.get("name") == "slow" for o in sb.state.custom_objects.values())


# -- D12 / I: TLS verification is on ----------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x"]
    subprocess.run(
        ["openssl", *args, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a cert")
def test_a_self_signed_server_is_refused_once_without_a_retry(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}/api/v1/"
        with CloseClient(ApiKey("k"), url) as client, pytest.raises(ApiError) as info:
            client.get("me/")
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
        assert client.stats.requests == 1 and client.stats.retries == 0
        assert hits == []
    finally:
        server.shutdown()
        server.server_close()


def test_no_source_file_turns_verification_off() -> None:
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "verify=False" not in text.replace(" ", ""), path
        assert "CERT_NONE" not in text and "check_hostname = False" not in text, path
