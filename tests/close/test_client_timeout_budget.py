"""A trickling or stalling server stops the run in minutes: time spent in attempts that timed
out counts against one budget per run (240 s, every thread together, counted again from zero
whenever any answer arrives in full), and each retry says what timed out and how much of the
budget is gone.  The clock is fake: nothing waits.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpx import HTTPXMock, IteratorStream

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.retrying import TIMEOUT_BUDGET
from closecsv.close.schema import Schema
from closecsv.errors import ApiError, OutcomeUnknown
from closecsv.sandbox import SANDBOX_API_KEY
from tests.helpers.clock import FakeClock
from tests.helpers.faults import PREFIX, Env, make_env, write_calls

BASE = "https://api.close.test/api/v1/"


class TopJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def trickle(clock: FakeClock) -> Iterator[bytes]:
    """A byte every 50 s: never a read timeout, and never a complete answer."""
    yield b'{"data": ['
    for _ in range(100):
        clock.advance(50.0)
        yield b" "


@pytest.fixture
def made(fake_clock: FakeClock) -> Iterator[tuple[CloseClient, list[str]]]:
    notices: list[str] = []
    with CloseClient(
        ApiKey("k"),
        BASE,
        clock=fake_clock,
        sleep=fake_clock.sleep,
        rng=TopJitter(),
        deadline=120.0,
        notify=notices.append,
    ) as client:
        yield client, notices


def test_the_budget_is_four_minutes() -> None:
    assert TIMEOUT_BUDGET == 240.0


def test_a_trickling_read_stops_after_the_budget_not_after_8_deadlines(
    httpx_mock: HTTPXMock, made: tuple[CloseClient, list[str]], fake_clock: FakeClock
) -> None:
    httpx_mock.add_callback(
        lambda _: httpx.Response(200, stream=IteratorStream(trickle(fake_clock))),
        is_reusable=True,
    )
    client, notices = made
    started = fake_clock.now
    with pytest.raises(ApiError) as info:
        client.get("activity/custom/")
    assert str(info.value).startswith(
        "GET activity/custom/: stopped, 300s went to answers that timed out with no complete "
        "answer in between (the limit is 240s); the last: no complete answer within 120s"
    )
    assert info.value.exit_code == 3
    assert len(httpx_mock.get_requests()) == 2
    assert fake_clock.now - started == 301.0  # two 150 s attempts and one 1 s back-off
    assert notices == [
        "GET activity/custom/: no complete answer within 120s (150s of 240s timed out since the "
        "last complete answer); retrying in 1.0s (attempt 2 of 8)"
    ]


def _read_timeout(clock: FakeClock, after: float) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        clock.advance(after)
        raise httpx.ReadTimeout("timed out", request=request)

    return answer


def test_the_budget_is_shared_by_every_request_of_the_run(
    httpx_mock: HTTPXMock, made: tuple[CloseClient, list[str]], fake_clock: FakeClock
) -> None:
    httpx_mock.add_callback(_read_timeout(fake_clock, 100.0))
    httpx_mock.add_callback(_read_timeout(fake_clock, 100.0))
    httpx_mock.add_callback(_read_timeout(fake_clock, 50.0))
    client, notices = made
    for _ in range(2):
        with pytest.raises(OutcomeUnknown):
            client.post("activity/custom/", {"lead_id": "lead_1"})  # 100 s lost, not re-sent
    with pytest.raises(ApiError, match=r"^GET lead/: stopped, 250s went to answers"):
        client.get("lead/")  # 250 s with no answer in between: over the budget, not retried
    sent = len(httpx_mock.get_requests())
    with pytest.raises(ApiError, match=r"^GET me/: stopped, 250s went to answers"):
        client.get("me/")  # nothing more is sent
    assert len(httpx_mock.get_requests()) == sent == 3
    assert notices == []  # writes are never retried blindly, and the GET had no budget left


def test_timeouts_between_complete_answers_never_stop_a_long_run(
    httpx_mock: HTTPXMock, made: tuple[CloseClient, list[str]], fake_clock: FakeClock
) -> None:
    """A network that times out now and then over hours: 1,000 s of timed-out attempts in
    all, but never more than 100 s without a complete answer."""
    for _ in range(10):
        httpx_mock.add_callback(_read_timeout(fake_clock, 100.0))
        httpx_mock.add_response(json={"data": []})
    client, notices = made
    for _ in range(10):
        assert client.get("lead/") == {"data": []}  # one timeout, then answered
    assert len(httpx_mock.get_requests()) == 20
    assert all("(100s of 240s timed out since the last complete answer)" in n for n in notices)


@pytest.fixture
def env(tmp_path: Path, fake_clock: FakeClock) -> Iterator[Env]:
    e = make_env(tmp_path, fake_clock, deadline=120.0)
    yield e
    e.client.close()
    e.sandbox.close()


def test_an_import_against_a_trickling_server_stops_with_3_and_the_rerun_resumes(
    env: Env,
) -> None:
    path = write_calls(env.tmp / "calls.csv", env.sandbox, 20)
    env.transport.faults = {n: "commit_trickle" for n in range(1, 100)}
    first = env.run(path, concurrency=1)
    assert first.exit_code == 3 and isinstance(first.fatal, ApiError)
    assert "went to answers that timed out" in first.fatal.message
    assert env.transport.posts <= 3  # stopped within the budget, not one trickle per row
    env.transport.faults = {}
    rerun = CloseClient(
        ApiKey(SANDBOX_API_KEY), "http://sandbox.test/api/v1/", transport=env.transport
    )  # a new run is a new process, with a new budget
    second = Env(env.sandbox, env.transport, rerun, Schema(rerun), env.tmp).run(path)
    assert second.exit_code == 0 and Counter(r.status for r in second.results) == {"created": 20}
    assert env.refs() == Counter({f"{PREFIX}{i:05d}": 1 for i in range(20)})
