"""A GET whose query would make a URL past about 2,000 characters goes in Close's documented
long form: ``POST`` with ``x-http-method-override: GET`` and ``{"_params": {...}}``; the
answer is the same as the short form's, and it is retried like a GET."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from closecsv.sandbox import Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.transports import Counting


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()


def test_a_long_id_list_is_sent_in_the_body_and_answers_like_a_short_one(sb: Sandbox) -> None:
    counting = Counting(sb.transport())
    ids = sorted(sb.state.custom_activities)
    padding = [f"acti_missing{n:022d}" for n in range(90)]  # 100 ids: ~3,500 characters
    with sandbox_client(counting) as client:
        short = client.get("activity/custom/", {"id__in": ",".join(ids)})
        long = client.get("activity/custom/", {"id__in": ",".join([*ids, *padding])})
    assert counting.calls == [("GET", "activity/custom/"), ("POST", "activity/custom/")]
    assert sorted(a["id"] for a in long["data"]) == sorted(a["id"] for a in short["data"]) == ids


class FirstFails(httpx.BaseTransport):
    """Answers 503 to the first request, then hands every request to ``inner``."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.seen = inner, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen == 1:
            return httpx.Response(503, json={"error": "Service temporarily unavailable."})
        return self.inner.handle_request(request)


def test_a_long_get_is_retried_like_a_get(sb: Sandbox) -> None:
    counting = Counting(FirstFails(sb.transport()))
    ids = ",".join(sorted(sb.state.custom_activities) + [f"acti_x{n:030d}" for n in range(90)])
    with sandbox_client(counting, sleep=lambda seconds: None) as client:
        answer = client.get("activity/custom/", {"id__in": ids})
    assert counting.calls == [("POST", "activity/custom/")] * 2
    assert len(answer["data"]) == len(sb.state.custom_activities)
