"""A wrong or dead API URL fails within seconds and says what to fix; retries are announced.

Nothing listening on the URL: a couple of quick attempts, then exit 3 naming the URL, with a
hint (the sandbox for loopback URLs, ``--api-url`` / ``CLOSE_API_URL`` otherwise).  A URL that
answers 404 to the first request is a configuration problem: exit 2, naming the URL that
answered and what a base URL looks like.  Sleeps are recorded, not slept.
"""

from __future__ import annotations

import functools
import random
import socket
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from pytest_httpx import HTTPXMock

from closecsv import cli
from closecsv.cli import context as cli_context
from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.errors import ApiError, ConfigError, NotFound
from closecsv.sandbox import SANDBOX_API_KEY
from tests.helpers.clock import FakeClock

BASE = "https://api.close.test/api/v1/"
KEY = "api_DeadUrlTestKey.do-not-echo-1234"


class TopJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def dead_url() -> str:
    """A loopback URL nothing listens on (a port just bound, then freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1/"


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The CLI's client sleeps into this list (full jitter at its cap) instead of waiting."""
    waits: list[float] = []
    made = functools.partial(CloseClient, sleep=waits.append, rng=TopJitter(), timeout=5.0)
    monkeypatch.setattr(cli_context, "CloseClient", made)
    return waits


@pytest.fixture
def client(fake_clock: FakeClock) -> Iterator[tuple[CloseClient, list[str]]]:
    notices: list[str] = []
    with CloseClient(
        ApiKey(KEY),
        BASE,
        clock=fake_clock,
        sleep=fake_clock.sleep,
        rng=TopJitter(),
        notify=notices.append,
    ) as made:
        yield made, notices


def test_nothing_listening_fails_in_seconds_naming_the_url(
    dead_url: str, slept: list[float]
) -> None:
    result = CliRunner().invoke(
        cli.main, ["--api-url", dead_url, "schema"], env={"CLOSE_API_KEY": KEY}
    )
    assert result.exit_code == 3, result.output
    assert f"closecsv: error: cannot connect to {dead_url}" in result.stderr
    assert "gave up after 3 attempts" in result.stderr
    assert "is the sandbox running? start it with `closecsv sandbox`" in result.stderr
    assert slept == [1.0, 2.0]  # two quick retries: 3 s of back-off at most, not 53 s
    notices = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert len(notices) == 2
    assert notices[0].startswith("closecsv: GET custom_activity/: ConnectError: ")
    assert notices[0].endswith("retrying in 1.0s (attempt 2 of 3)")
    assert notices[1].endswith("retrying in 2.0s (attempt 3 of 3)")
    assert KEY not in result.output and KEY not in result.stderr


def test_quiet_keeps_the_error_and_drops_the_retry_notices(
    dead_url: str, slept: list[float]
) -> None:
    result = CliRunner().invoke(
        cli.main, ["-q", "--api-url", dead_url, "schema"], env={"CLOSE_API_KEY": KEY}
    )
    assert result.exit_code == 3
    assert "retrying" not in result.stderr
    assert result.stderr.startswith(f"closecsv: error: cannot connect to {dead_url}")


def test_an_unreachable_remote_url_points_at_the_url_setting(
    httpx_mock: HTTPXMock, client: tuple[CloseClient, list[str]], fake_clock: FakeClock
) -> None:
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("[Errno -2] Name or service not known"))
    made, notices = client
    with pytest.raises(ApiError) as info:
        made.get("custom_activity/")
    assert str(info.value).startswith(f"cannot connect to {BASE} (GET custom_activity/: ")
    assert info.value.hint == (
        "check --api-url / CLOSE_API_URL and the network (DNS, proxy, firewall)"
    )
    assert len(httpx_mock.get_requests()) == 3 and fake_clock.slept == [1.0, 2.0]
    assert [n.rsplit("(", 1)[1] for n in notices] == ["attempt 2 of 3)", "attempt 3 of 3)"]


def test_once_the_server_answered_a_refused_connection_gets_the_full_budget(
    httpx_mock: HTTPXMock, client: tuple[CloseClient, list[str]]
) -> None:
    httpx_mock.add_response(json={"data": []})
    for _ in range(5):
        httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    httpx_mock.add_response(json={"data": [{"id": "acti_1"}]})
    made, notices = client
    made.get("custom_activity/")
    assert made.get("activity/custom/") == {"data": [{"id": "acti_1"}]}
    assert notices[-1].endswith("(attempt 6 of 8)")


def test_every_retry_is_announced_with_its_cause(
    httpx_mock: HTTPXMock, client: tuple[CloseClient, list[str]]
) -> None:
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_exception(httpx.RemoteProtocolError("Server disconnected"))
    httpx_mock.add_response(json={"data": []})
    made, notices = client
    made.get("lead/")
    assert notices == [
        "GET lead/: HTTP 503 Service Unavailable; retrying in 1.0s (attempt 2 of 8)",
        "GET lead/: RemoteProtocolError: Server disconnected; retrying in 2.0s (attempt 3 of 8)",
    ]


def test_ordinary_429_pacing_is_quiet_and_a_429_streak_is_announced(
    httpx_mock: HTTPXMock, client: tuple[CloseClient, list[str]]
) -> None:
    httpx_mock.add_response(status_code=429, headers={"retry-after": "1"})
    httpx_mock.add_response(json={"data": []})
    made, notices = client
    made.get("lead/")
    assert notices == []
    for _ in range(3):
        httpx_mock.add_response(status_code=429, headers={"retry-after": "2"})
    httpx_mock.add_response(json={"data": []})
    made.get("lead/")
    assert len(notices) == 1
    assert notices[0].startswith("GET lead/: rate limited by Close (HTTP 429, 3 in a row")


def test_a_url_without_api_v1_exits_2_naming_the_url_that_answered_404(
    sandbox_url: str,
) -> None:
    root = sandbox_url.removesuffix("api/v1/")
    result = CliRunner().invoke(
        cli.main, ["--api-url", root, "schema"], env={"CLOSE_API_KEY": SANDBOX_API_KEY}
    )
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"closecsv: error: {root}custom_activity/ answered HTTP 404")
    assert f"{root} does not look like the base URL of the Close API" in first
    assert "e.g. https://api.close.com/api/v1/ (the sandbox prints its own" in result.stderr


def test_a_404_after_the_url_proved_right_is_an_ordinary_not_found(
    httpx_mock: HTTPXMock, client: tuple[CloseClient, list[str]]
) -> None:
    httpx_mock.add_response(status_code=404, json={"error": "Not found."})
    made, _ = client
    with pytest.raises(ConfigError):
        made.get("me/")
    httpx_mock.add_response(json={"data": []})
    httpx_mock.add_response(status_code=404, json={"error": "Not found."})
    made.get("custom_activity/")
    with pytest.raises(NotFound, match=r"^Not found\.$"):
        made.get("activity/custom/acti_gone/")


def test_a_connection_gets_10_seconds_not_the_30_of_a_read(
    httpx_mock: HTTPXMock, client: tuple[CloseClient, list[str]]
) -> None:
    httpx_mock.add_response(json={"data": []})
    made, _ = client
    made.get("lead/")
    timeouts = httpx_mock.get_requests()[0].extensions["timeout"]
    assert timeouts["connect"] == 10.0 and timeouts["read"] == 30.0
