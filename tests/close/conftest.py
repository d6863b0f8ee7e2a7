"""Fixtures of the client tests: a :class:`CloseClient` on a fake clock, so no test sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from tests.helpers.clock import FakeClock

BASE = "https://api.close.test/api/v1/"


@pytest.fixture
def make_client(fake_clock: FakeClock) -> Iterator[Callable[..., CloseClient]]:
    """Makes clients on ``BASE`` with the fake clock and sleep, closed after the test.

    ``key`` is the API key (``"k"`` by default); other options go to :class:`CloseClient`
    (``rng``, ``transport``, ``max_body``...).  A test file narrows it by overriding this
    fixture with one that asks for it (a fixed ``rng``, its own key)."""
    made: list[CloseClient] = []

    def make(key: str = "k", **options: Any) -> CloseClient:
        options.setdefault("clock", fake_clock)
        options.setdefault("sleep", fake_clock.sleep)
        client = CloseClient(ApiKey(key), BASE, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., CloseClient]) -> CloseClient:
    """One client with the defaults of :func:`make_client`."""
    return make_client()
