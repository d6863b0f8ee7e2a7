"""Answers are read with a size cap (64 MiB): an endless body stops the run with one clear
error naming the URL (exit 3) after reading at most the cap, and running out of memory
anywhere is one line, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from pytest_httpx import HTTPXMock, IteratorStream

from closecsv import cli
from closecsv.cli import context as cli_context
from closecsv.close.client import MAX_BODY_BYTES, CloseClient
from closecsv.close.config import ApiKey
from closecsv.errors import ApiError
from closecsv.sandbox import SANDBOX_API_KEY
from tests.helpers.clock import FakeClock

BASE = "https://api.close.test/api/v1/"
MIB = 1024 * 1024


class Endless:
    """A body that never ends, counting what was pulled from it."""

    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"data": ['
        while True:
            self.pulled += len(self.chunk)
            yield self.chunk


def test_the_cap_is_64_mib() -> None:
    assert MAX_BODY_BYTES == 64 * MIB


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_endless_answer_stops_at_the_cap_naming_the_url(
    httpx_mock: HTTPXMock, client: CloseClient, method: str
) -> None:
    body = Endless(b'{"id": "acti_1"},' * 65536)  # 1 MiB a chunk
    httpx_mock.add_response(stream=IteratorStream(body))
    with pytest.raises(ApiError) as info:
        if method == "GET":
            client.get("activity/custom/")
        else:
            client.post("activity/custom/", {"lead_id": "lead_1"})
    assert str(info.value).startswith(
        f"{method} activity/custom/ ({BASE}activity/custom/): the answer is larger than 64 MiB"
    )
    assert info.value.exit_code == 3 and info.value.hint is not None
    assert body.pulled <= MAX_BODY_BYTES + MIB  # read up to the cap, not without bound
    assert len(httpx_mock.get_requests()) == 1  # not sent again: it would answer the same


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    httpx_mock: HTTPXMock, fake_clock: FakeClock
) -> None:
    body = Endless(b"x" * 1024)
    httpx_mock.add_response(
        stream=IteratorStream(body), headers={"content-length": str(2 * 1024 * 1024)}
    )
    with (
        CloseClient(ApiKey("k"), BASE, clock=fake_clock, max_body=MIB) as small,
        pytest.raises(ApiError, match=r"larger than 1 MiB"),
    ):
        small.get("lead/")
    assert body.pulled == 0


def test_an_answer_just_under_the_cap_is_read(httpx_mock: HTTPXMock, fake_clock: FakeClock) -> None:
    items = b",".join([b'{"id": "lead_%d"}' % i for i in range(2000)])
    content = b'{"data": [' + items + b"]}"
    httpx_mock.add_response(content=content)
    with CloseClient(ApiKey("k"), BASE, clock=fake_clock, max_body=len(content)) as exact:
        assert len(exact.get("lead/")["data"]) == 2000


def test_an_endless_answer_through_the_cli_exits_3_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=IteratorStream(Endless(b" " * MIB)))

    transport = httpx.MockTransport(endless)
    monkeypatch.setattr(
        cli_context, "CloseClient", functools.partial(CloseClient, transport=transport)
    )
    result = CliRunner().invoke(
        cli.main,
        ["--api-url", "http://127.0.0.1:9/api/v1/", "schema"],
        env={"CLOSE_API_KEY": SANDBOX_API_KEY},
    )
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(
        "closecsv: error: GET custom_activity/ (http://127.0.0.1:9/api/v1/custom_activity/): "
        "the answer is larger than 64 MiB"
    )
    assert "Traceback" not in result.output


def test_out_of_memory_anywhere_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*_: object, **__: object) -> dict[str, object]:
        raise MemoryError

    monkeypatch.setattr(CloseClient, "get", exhausted)
    result = CliRunner().invoke(
        cli.main,
        ["--api-url", "http://127.0.0.1:9/api/v1/", "schema"],
        env={"CLOSE_API_KEY": SANDBOX_API_KEY},
    )
    assert result.exit_code == 3
    assert result.stderr.startswith("closecsv: error: out of memory; the run stopped")
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)
