"""Pacing by the RateLimit header and waiting out 429s: few 429s, near-full throughput."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.pacing import (
    MAX_WAIT,
    Pacer,
    RateLimit,
    legacy_rate_reset,
    parse_ratelimit,
    parse_retry_after,
    throttle_wait,
)
from closecsv.errors import ApiError

BASE = "https://api.close.test/api/v1/"


class FixedRng(random.Random):
    """``uniform(a, b)`` answers ``a + fraction * (b - a)``."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction

    def uniform(self, a: float, b: float) -> float:
        return a + self.fraction * (b - a)


@pytest.fixture
def make_client(make_client: Callable[..., CloseClient]) -> Callable[..., CloseClient]:
    """Clients whose jitter is the fraction ``jitter`` of its range (none by default)."""

    def make(jitter: float = 0.0, **options: Any) -> CloseClient:
        return make_client(rng=FixedRng(jitter), **options)

    return make


# -- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"ratelimit": "limit=100, remaining=50, reset=5"}, RateLimit(100, 50, 5)),
        ({"RateLimit": "limit=20, remaining=0, reset=0.325"}, RateLimit(20, 0, 0.325)),
        ({"ratelimit": "remaining=1,reset=3,limit=2"}, RateLimit(2, 1, 3)),
        ({"ratelimit": 'Limit="10"; Remaining="4"; Reset="1.5"'}, RateLimit(10, 4, 1.5)),
        (
            {"x-rate-limit-limit": "600", "x-rate-limit-remaining": "9", "x-rate-limit-reset": "2"},
            RateLimit(600, 9, 2),
        ),
        (
            {"ratelimit-limit": "6", "ratelimit-remaining": "5", "ratelimit-reset": "0.5"},
            RateLimit(6, 5, 0.5),
        ),
        ({"ratelimit": "limit=10, remaining=abc, reset=1"}, None),
        ({"ratelimit": "limit=10, reset=1"}, None),
        ({"x-rate-limit-limit": "600"}, None),
        ({}, None),
    ],
)
def test_ratelimit_header_forms(headers: dict[str, str], expected: RateLimit | None) -> None:
    assert parse_ratelimit(httpx.Headers(headers)) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "2.5"}, 2.5),
        (
            {
                "retry-after": "Wed, 21 Oct 2026 07:28:09 GMT",
                "date": "Wed, 21 Oct 2026 07:28:00 GMT",
            },
            9.0,
        ),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"rate_reset": 1, "message": "API call count exceeded", "rate_limit": 600}}, 1),
        ({"error": {"rate_reset": 2.5}}, 2.5),
        ({"error": {"rate_reset": True}}, None),
        ({"error": "Too many requests"}, None),
        ("not json", None),
    ],
)
def test_legacy_body_rate_reset(body: Any, expected: float | None) -> None:
    assert legacy_rate_reset(body) == expected


RESET = {"ratelimit": "limit=10, remaining=0, reset=2.5"}
LEGACY = {"error": {"rate_reset": 4, "message": "API call count exceeded", "rate_window": 15}}

WAITS = [
    ("header only", RESET, None, 1, 2.5),
    ("retry-after only", {"retry-after": "3"}, None, 1, 3.0),
    ("legacy body only", {}, LEGACY, 1, 4.0),
    ("all three: the largest", {**RESET, "retry-after": "3"}, LEGACY, 1, 4.0),
    ("header and retry-after", {**RESET, "retry-after": "3"}, None, 1, 3.0),
    ("nothing: 1 s", {}, None, 1, 1.0),
    ("nothing, third time: 4 s", {}, None, 3, 4.0),
    ("nothing, often: a minute", {}, None, 20, 60.0),
    ("absurd retry-after is bounded", {"retry-after": "1000000"}, None, 1, MAX_WAIT),
]


@pytest.mark.parametrize(("case", "headers", "body", "streak", "expected"), WAITS)
def test_throttle_wait(
    case: str, headers: dict[str, str], body: Any, streak: int, expected: float
) -> None:
    assert throttle_wait(httpx.Headers(headers), body, streak) == expected


# -- 429 through the client ------------------------------------------------------------


@pytest.mark.parametrize(("case", "headers", "body", "streak", "expected"), WAITS[:5])
def test_a_429_is_waited_out_and_sent_again(
    httpx_mock: HTTPXMock,
    make_client: Any,
    fake_clock: Any,
    case: str,
    headers: dict[str, str],
    body: Any,
    streak: int,
    expected: float,
) -> None:
    httpx_mock.add_response(status_code=429, headers=headers, json=body)
    httpx_mock.add_response(json={"id": "acti_1"})
    client = make_client()
    assert client.post("activity/custom/", {"lead_id": "lead_1"}) == {"id": "acti_1"}
    assert fake_clock.slept == [expected]
    assert len(httpx_mock.get_requests()) == 2
    assert (client.stats.rate_limited, client.stats.retries) == (1, 0)


def test_429_wait_gets_jitter(httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any) -> None:
    httpx_mock.add_response(status_code=429, headers={"retry-after": "2"})
    httpx_mock.add_response(json={})
    make_client(jitter=1.0).get("me/")
    assert fake_clock.slept == [pytest.approx(2.2)]  # up to a tenth of the wait


def test_429s_do_not_spend_the_error_budget(httpx_mock: HTTPXMock, make_client: Any) -> None:
    for status in (503, 429, 429, 429):
        httpx_mock.add_response(status_code=status, headers={"retry-after": "1"})
    httpx_mock.add_response(json={"ok": True})
    assert make_client(max_attempts=2).get("me/") == {"ok": True}


def test_a_429_storm_ends_in_api_error(httpx_mock: HTTPXMock, make_client: Any) -> None:
    httpx_mock.add_response(status_code=429, headers={"retry-after": "1"}, is_reusable=True)
    client = make_client(max_rate_limit_retries=3)
    with pytest.raises(ApiError, match=r"still rate limited \(HTTP 429\) after 3 waits") as info:
        client.post("activity/custom/", {})
    assert info.value.status == 429
    assert client.stats.requests == 4


def test_an_exhausted_budget_waits_for_the_refill(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    httpx_mock.add_response(headers={"ratelimit": "limit=1, remaining=0, reset=1.5"}, json={})
    httpx_mock.add_response(headers={"ratelimit": "limit=1, remaining=0, reset=1.5"}, json={})
    client = make_client()
    client.get("me/")
    client.get("me/")
    assert fake_clock.slept == [1.5]


def test_without_ratelimit_headers_nothing_waits(
    httpx_mock: HTTPXMock, make_client: Any, fake_clock: Any
) -> None:
    httpx_mock.add_response(json={}, is_reusable=True)
    client = make_client()
    for _ in range(50):
        client.get("me/")
    assert fake_clock.slept == []


# -- the pacer itself ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _pacer(clock: Clock) -> Pacer:
    def no_sleep(seconds: float) -> None:
        raise AssertionError("try_acquire never sleeps")

    return Pacer(clock, no_sleep)


def _answered(pacer: Pacer, limit: RateLimit | None) -> None:
    seq, _ = pacer.try_acquire()
    assert seq is not None
    pacer.observe(seq, limit)


def test_one_request_at_a_time_until_the_first_answer() -> None:
    pacer = _pacer(Clock())
    assert pacer.try_acquire() == (0, 0.0)
    assert pacer.try_acquire() == (None, pytest.approx(0.02))
    pacer.forget(0)  # lost: still nothing known
    assert pacer.try_acquire() == (1, 0.0)
    pacer.observe(1, None)
    assert [pacer.try_acquire() for _ in range(3)] == [(2, 0.0), (3, 0.0), (4, 0.0)]


def test_budget_is_remaining_minus_requests_sent_since() -> None:
    clock = Clock()
    pacer = _pacer(clock)
    _answered(pacer, RateLimit(limit=10, remaining=9, reset=0.5))  # refill 2/s
    assert [pacer.try_acquire()[0] for _ in range(4)] == [1, 2, 3, 4]
    pacer.observe(1, RateLimit(limit=10, remaining=5, reset=2.5))  # 2, 3, 4 not counted
    assert pacer.try_acquire() == (5, 0.0)
    assert pacer.try_acquire() == (6, 0.0)
    # the refill used is the larger lower bound, (10 - 5 - 1) / 2.5 = 1.6/s: one unit in 0.625 s
    assert pacer.try_acquire() == (None, pytest.approx(0.625))
    clock.now = 0.625
    assert pacer.try_acquire() == (7, 0.0)


def test_requests_in_flight_when_one_was_sent_are_not_trusted_as_counted() -> None:
    pacer = _pacer(Clock())
    _answered(pacer, None)
    assert [pacer.try_acquire()[0] for _ in range(3)] == [1, 2, 3]
    pacer.observe(3, RateLimit(limit=10, remaining=2, reset=4))  # 1 and 2 may come later
    assert pacer.try_acquire()[0] is None


def test_an_older_answer_does_not_overwrite_a_fresher_one() -> None:
    pacer = _pacer(Clock())
    _answered(pacer, None)
    for _ in range(2):
        pacer.try_acquire()
    pacer.observe(2, RateLimit(limit=10, remaining=1, reset=1))
    pacer.observe(1, RateLimit(limit=10, remaining=9, reset=0.1))
    assert pacer.try_acquire()[0] is None


def test_rate_is_the_smallest_recent_estimate() -> None:
    pacer = _pacer(Clock())
    assert pacer.rate is None
    for remaining in (9, 5, 0):
        _answered(pacer, RateLimit(limit=10, remaining=remaining, reset=1.0))
    assert pacer.rate == 1.0  # (10 - 9) / 1.0, not 10 / 1.0


def test_pause_holds_every_thread() -> None:
    clock = Clock()
    pacer = _pacer(clock)
    pacer.pause(2.0)
    assert pacer.try_acquire() == (None, 2.0)
    clock.now = 2.0
    assert pacer.try_acquire() == (0, 0.0)


def test_no_header_means_no_budget() -> None:
    pacer = _pacer(Clock())
    for seq in range(100):
        assert pacer.try_acquire() == (seq, 0.0)
        pacer.observe(seq, None)


# -- throughput: a discrete-event simulation against a token bucket --------------------


@dataclass
class Bucket:
    """A per-key token bucket like the sandbox's: capacity = rps, continuous refill."""

    rps: float
    tokens: float
    stamp: float = 0.0

    def take(self, now: float) -> tuple[int, dict[str, str]]:
        self.tokens = min(self.rps, self.tokens + (now - self.stamp) * self.rps)
        self.stamp = now
        ok = self.tokens >= 1
        if ok:
            self.tokens -= 1
        reset = (self.rps - self.tokens) / self.rps
        headers = {
            "ratelimit": f"limit={self.rps:g}, remaining={int(self.tokens)}, reset={reset:.3f}"
        }
        if not ok:
            headers["retry-after"] = str(max(1, math.ceil((1 - self.tokens) / self.rps)))
        return (200 if ok else 429), headers


@dataclass
class Simulation:
    """``workers`` threads, each sending as soon as the pacer lets it, for ``seconds``."""

    workers: int
    rps: float
    latency: tuple[float, float]
    seconds: float
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    done: int = 0
    throttled: int = 0

    def run(self) -> Simulation:
        clock = Clock()
        pacer = _pacer(clock)
        bucket = Bucket(self.rps, tokens=self.rps)
        order = itertools.count()
        events = [(0.0, next(order), "ready", 0, {}) for _ in range(self.workers)]
        while events:
            clock.now, _, kind, seq, data = heapq.heappop(events)
            if clock.now > self.seconds:
                break
            for at, what, n, extra in self._step(pacer, bucket, clock.now, kind, seq, data):
                heapq.heappush(events, (at, next(order), what, n, extra))
        return self

    def _step(self, pacer: Pacer, bucket: Bucket, now: float, kind: str, seq: int, data: Any):  # type: ignore[no-untyped-def]
        half = self.rng.uniform(*self.latency) / 2
        if kind == "ready":
            got, wait = pacer.try_acquire()
            yield (now + wait, "ready", 0, {}) if got is None else (now + half, "arrive", got, {})
        elif kind == "arrive":
            status, headers = bucket.take(now)
            yield now + half, "answer", seq, {"status": status, "headers": headers}
        else:
            headers = httpx.Headers(data["headers"])
            pacer.observe(seq, parse_ratelimit(headers))
            if data["status"] == 429:
                self.throttled += 1
                wait = throttle_wait(headers, None, 1)
                pacer.pause(wait)
                yield now + wait + self.rng.uniform(0, wait / 10), "ready", 0, {}
            else:
                self.done += 1
                yield now, "ready", 0, {}


@pytest.mark.parametrize("workers", [1, 4, 8, 16])
@pytest.mark.parametrize("rps", [5.0, 20.0])
def test_paced_threads_reach_the_ceiling_with_few_429s(workers: int, rps: float) -> None:
    sim = Simulation(workers=workers, rps=rps, latency=(0.06, 0.10), seconds=120.0).run()
    ceiling = rps + rps * sim.seconds  # a full bucket, then the refill
    sent = sim.done + sim.throttled
    if workers >= 4:
        assert sim.done >= 0.95 * ceiling
    assert sim.throttled <= 0.01 * sent


def test_threads_share_one_client_and_its_counters() -> None:
    lock = threading.Lock()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            seen.append(request.url.path)
        return httpx.Response(200, json={"ok": True})

    client = CloseClient(ApiKey("k"), BASE, transport=httpx.MockTransport(handler))
    threads = [
        threading.Thread(target=lambda: [client.get("me/") for _ in range(50)]) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert len(seen) == 400
    assert client.stats.as_dict()["requests"] == 400
    assert client.stats.by_status == {200: 400}
