"""Several API keys of one organization behind one client (close/keys.py, keycheck.py)."""

from __future__ import annotations

import base64
import csv
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey, load_settings
from closecsv.close.keys import KeyPool
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.pacing import RateLimit
from closecsv.close.schema import Schema
from closecsv.errors import AuthError, ConfigError
from closecsv.importing.executor import SendSettings
from closecsv.importing.importer import execute_plan
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import build_plan
from closecsv.progress import NullProgress
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock
from tests.helpers.faults import count_refs, write_calls

KEY2, KEY3 = "key-two-000000000000000000", "key-three-0000000000000000"
KEYS = [SANDBOX_API_KEY, KEY2, KEY3]
URL = "http://sandbox.test/api/v1/"


def sent_key(request: httpx.Request) -> str:
    encoded = request.headers["authorization"].split()[1]
    return base64.b64decode(encoded).decode().rstrip(":")


class PerKey(httpx.BaseTransport):
    """The sandbox, counting requests per key; ``throttled`` keys get 429 (wait 10 minutes)
    to everything after the check's ``GET me/``."""

    def __init__(self, inner: httpx.BaseTransport, throttled: frozenset[str] = frozenset()):
        self.inner, self.throttled = inner, throttled
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = sent_key(request)
        with self.lock:
            self.seen[key] += 1
        if key in self.throttled and not request.url.path.endswith("/me/"):
            headers = {"ratelimit": "limit=20, remaining=0, reset=600", "retry-after": "600"}
            return httpx.Response(429, headers=headers, json={"error": "slow down"})
        return self.inner.handle_request(request)


def keys_client(transport: httpx.BaseTransport, keys: list[str] = KEYS) -> CloseClient:
    return CloseClient([ApiKey(k) for k in keys], URL, transport=transport)


# -- settings ---------------------------------------------------------------------------------


def test_comma_separated_keys_are_trimmed_and_kept_in_order() -> None:
    settings = load_settings(f" {KEYS[0]} , {KEY2},{KEY3} ", None, {})
    assert [k.reveal() for k in settings.api_keys] == KEYS
    assert settings.api_key.reveal() == KEYS[0]
    assert load_settings("one-key", None, {}).api_keys == (ApiKey("one-key"),)


@pytest.mark.parametrize(
    ("text", "said"),
    [("a-key,,b-key", "API key 2 of 3 is empty"), ("a-key, ", "API key 2 of 2 is empty")],
)
def test_an_empty_item_is_refused_by_position(text: str, said: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(text, None, {})
    assert said in str(info.value) and "a-key" not in str(info.value)


def test_the_same_key_twice_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("a-key,b-key,a-key", None, {})
    assert "API key 3 of 3 is the same as key 1" in str(info.value)
    assert "a-key" not in str(info.value)


# -- the check at start -----------------------------------------------------------------------


def test_every_key_is_checked_with_me_before_anything_else() -> None:
    sandbox = Sandbox(more_keys=[KEY2, KEY3])
    transport = PerKey(sandbox.transport())
    with keys_client(transport) as client:
        assert client.get("lead/", {"_limit": 1})["data"]
        assert client.keys.organization == sandbox.state.org["id"]
    assert transport.seen == {k: 1 for k in KEYS} | {SANDBOX_API_KEY: 2}


def test_a_key_of_another_organization_is_refused_naming_its_position() -> None:
    sandbox = Sandbox(more_keys=[KEY2], other_org_keys=[KEY3])
    with keys_client(sandbox.transport()) as client, pytest.raises(ConfigError) as info:
        client.post("lead/", {"name": "never made"})
    message = str(info.value)
    assert "API key 3 of 3 belongs to another organization" in message
    assert KEY3 not in message and not any(
        lead["name"] == "never made" for lead in sandbox.state.leads.values()
    )


def test_a_key_close_refuses_is_named_by_its_position() -> None:
    sandbox = Sandbox(more_keys=[KEY3])  # KEY2 is unknown to it
    with keys_client(sandbox.transport()) as client, pytest.raises(AuthError) as info:
        client.get("lead/")
    assert str(info.value).startswith("API key 2 of 3: authentication refused (HTTP 401)")
    assert KEY2 not in str(info.value)


def test_me_goes_with_the_first_key_whose_user_is_the_default_user() -> None:
    sandbox = Sandbox(more_keys=[KEY2, KEY3])
    with keys_client(sandbox.transport()) as client:
        mes = [client.get("me/")["id"] for _ in range(6)]
    assert set(mes) == {sandbox.dispatcher.owner}


# -- spreading and 429s -----------------------------------------------------------------------


def test_reads_are_spread_over_the_keys() -> None:
    sandbox = Sandbox(more_keys=[KEY2, KEY3])
    transport = PerKey(sandbox.transport())
    with keys_client(transport) as client, ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: client.get("lead/", {"_limit": 1}), range(60)))
    assert all(transport.seen[k] >= 10 for k in KEYS), transport.seen


def test_a_key_answered_429_does_not_stall_the_others(tmp_path: Path) -> None:
    """Key 2 is told to wait 10 minutes on every request: the import goes on with keys 1 and 3
    at once, every row sent once, none by key 2."""
    sandbox = Sandbox(more_keys=[KEY2, KEY3])
    transport = PerKey(sandbox.transport(), frozenset({KEY2}))
    client = keys_client(transport)
    path = write_calls(tmp_path / "calls.csv", sandbox, 40)
    schema = Schema(client)
    plan = build_plan(client, schema, ACTIVITIES, path, ImportOptions())
    settings = SendSettings(concurrency=2, settle_seconds=0.0)
    report = execute_plan(client, schema, plan, settings, NullProgress())
    assert report.counts() == {"created": 40}
    assert set(count_refs(sandbox).values()) == {1} and len(count_refs(sandbox)) == 40
    assert transport.seen[KEY2] <= 3  # the check's GET me/, a 429, then it was passed over
    with report.paths.results.open(newline="", encoding="utf-8") as fh:
        keys = Counter(row["_key"] for row in csv.DictReader(fh))
    assert set(keys) == {"1", "3"}
    client.close()


def _pool(clock: FakeClock, n: int = 3) -> KeyPool:
    return KeyPool([httpx.Client() for _ in range(n)], clock, clock.sleep)


def test_a_429_on_one_key_pauses_that_key_only() -> None:
    clock = FakeClock()
    pool = _pool(clock)
    first = pool.acquire()
    pool.observe(first, RateLimit(20, 19, 0.05))
    ticket = pool.acquire(2)
    assert pool.throttled(ticket, RateLimit(20, 0, 5.0), 5.0) == "key"
    picked = {pool.acquire().lane.position for _ in range(4)}
    assert 2 not in picked and clock.slept == []


def test_429s_on_two_keys_within_the_window_pause_every_key() -> None:
    clock = FakeClock()
    pool = _pool(clock)
    one = pool.acquire(1)
    pool.observe(one, None)  # the 429's answer
    assert pool.throttled(one, None, 5.0) == "key"
    clock.advance(1.0)
    two = pool.acquire(2)
    pool.observe(two, None)
    assert pool.throttled(two, None, 5.0) == "org"
    pool.acquire()
    assert sum(clock.slept) >= 3.9  # everyone waited out the organization's pause


def test_a_429_with_the_organizations_header_pauses_every_key() -> None:
    clock = FakeClock()
    pool = _pool(clock)
    first = pool.acquire()
    pool.observe(first, RateLimit(20, 19, 0.05))  # a key's header: limit 20
    ticket = pool.acquire(3)
    assert pool.throttled(ticket, RateLimit(60, 0, 2.0), 2.0) == "org"


def test_a_429_on_a_key_with_budget_left_is_the_organizations() -> None:
    clock = FakeClock()
    pool = _pool(clock)
    first = pool.acquire(1)
    pool.observe(first, RateLimit(20, 15, 0.25))  # key 1 still has 15 requests
    ticket = pool.acquire(1)
    assert pool.throttled(ticket, None, 1.0) == "org"


def test_one_key_has_no_organization_pacer() -> None:
    clock = FakeClock()
    pool = _pool(clock, 1)
    assert pool.org is None
    ticket = pool.acquire()
    pool.observe(ticket, RateLimit(20, 15, 0.25))
    assert pool.throttled(pool.acquire(), None, 1.0) == "key"
