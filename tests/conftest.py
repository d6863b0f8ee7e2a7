"""Shared pytest fixtures.  Each section belongs to one area; append yours below."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock, FakeWallClock
from tests.helpers.import_cli import Cli


@pytest.fixture(autouse=True)
def _clear_close_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real key or URL."""
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    monkeypatch.delenv("CLOSE_API_URL", raising=False)


# --- sandbox fixtures ---


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_wall_clock() -> FakeWallClock:
    """A wall clock for ``Sandbox(now=...)``: timestamps, event times and retention follow it."""
    return FakeWallClock()


@pytest.fixture
def sandbox(fake_clock: FakeClock) -> Iterator[Sandbox]:
    """An in-memory sandbox on a fake clock."""
    sb = Sandbox(clock=fake_clock, sleep=fake_clock.sleep)
    yield sb
    sb.close()


@pytest.fixture
def sandbox_path(tmp_path: Path) -> Path:
    return tmp_path / "org.json"


def _client(sb: Sandbox, key: str = SANDBOX_API_KEY) -> httpx.Client:
    return httpx.Client(
        transport=sb.transport(), base_url="http://sandbox.test/api/v1/", auth=(key, "")
    )


@pytest.fixture
def client_for() -> Callable[..., httpx.Client]:
    """``client_for(sb, key=SANDBOX_API_KEY)``: an in-process httpx client for a sandbox."""
    return _client


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with _client(sandbox) as client:
        yield client


# --- end sandbox fixtures ---


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    sandbox = Sandbox()
    with sandbox.serve() as url:
        yield Cli(sandbox, url, tmp_path)
    sandbox.close()


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, str]]:
    """A fresh sandbox on a real socket, and its base URL."""
    sandbox = Sandbox()
    with sandbox.serve() as url:
        yield sandbox, url
    sandbox.close()


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """The base URL of one sandbox on a real socket, shared by a module's tests (which must
    not depend on each other's writes)."""
    sandbox = Sandbox()
    with sandbox.serve() as url:
        yield url
    sandbox.close()


# No per-example time limit: on a loaded machine (CI, two shared cores) a 200 ms deadline
# fails correct code at random; the properties are about values, not speed.
settings.register_profile("closecsv", deadline=None)
settings.load_profile("closecsv")
