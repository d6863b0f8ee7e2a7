"""The sandbox answers bad input with a 400 and its own failures with a 500, on the real socket
too, and a write whose handler failed is not committed (not in memory, not in the data file).
Only the ``--fault-rate`` fault drops a connection.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from closecsv.sandbox import instances as sandbox_instances

AUTH = (SANDBOX_API_KEY, "")


def activity_body(sb: Sandbox, **changes: Any) -> dict[str, Any]:
    act = next(iter(sb.state.custom_activities.values()))
    body = {"custom_activity_type_id": act["custom_activity_type_id"], "lead_id": act["lead_id"]}
    return {**body, **changes}


@pytest.mark.parametrize(
    ("method", "path", "params", "changes", "field"),
    [
        ("GET", "activity/custom/", {"date_created__gte": "9999-12-31T23:59:59-05:00"}, {}, None),
        ("POST", "activity/custom/", {}, {"date_created": "9999-12-31T23:00:00-05:00"}, None),
        ("POST", "activity/custom/", {}, {"custom_activity_type_id": ["actitype_x"]}, None),
        ("POST", "activity/custom/", {}, {"lead_id": {"id": "lead_x"}}, "lead_id"),
        ("POST", "data/search/", {}, {"query": {"type": "match_all"}, "sort": "date"}, "sort"),
    ],
    ids=["filter past 9999", "date past 9999", "list as type id", "dict as lead_id", "str sort"],
)
def test_bad_input_is_a_400_on_the_socket_and_writes_nothing(
    method: str, path: str, params: dict[str, str], changes: dict[str, Any], field: str | None
) -> None:
    sb = Sandbox()
    before = dict(sb.state.custom_activities)
    body = None if method == "GET" else activity_body(sb, **changes)
    if path == "data/search/":
        body = changes
    with sb.serve() as url, httpx.Client(base_url=url, auth=AUTH) as client:
        answer = client.request(method, path, params=params, json=body)
    assert answer.status_code == 400
    errors = answer.json()["field-errors"]
    wanted = field or next(iter({**params, **changes}))
    assert wanted in errors and isinstance(errors[wanted], str)
    assert sb.state.custom_activities == before


def test_a_handler_that_fails_after_writing_answers_500_and_commits_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "org.json"
    sb = Sandbox(data)
    before = dict(sb.state.custom_activities)
    body = activity_body(sb, status="draft")

    def broken(*_args: Any) -> Any:
        raise RuntimeError("render failed")

    monkeypatch.setattr(sandbox_instances, "render_activity", broken)
    with sb.serve() as url, httpx.Client(base_url=url, auth=AUTH) as client:
        answer = client.post("activity/custom/", json=body)
        assert answer.status_code == 500
        assert answer.json() == {"error": "Internal server error."}
        monkeypatch.undo()
        listed = client.get("activity/custom/", params={"_limit": 100}).json()["data"]
    assert sb.state.custom_activities == before
    assert sorted(a["id"] for a in listed) == sorted(before)
    sb.close()
    with Sandbox(data) as reopened:
        assert reopened.state.custom_activities == before


def raw_post(length: str) -> tuple[bytes, bytes]:
    """POST to a served sandbox with ``Content-Length: length`` and a 2-byte body, over a raw
    socket (httpx would refuse to send such a header); the answer's head and body."""
    sb = Sandbox()
    with sb.serve() as url:
        host, port = url.removeprefix("http://").split("/")[0].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                f"POST /api/v1/activity/custom/ HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {length}\r\n\r\n{{}}".encode()
            )
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_bad_content_length_is_a_400_not_a_dropped_connection(length: str) -> None:
    head, body = raw_post(length)
    assert head.startswith(b"HTTP/1.1 400")
    assert body == b'{"error":"Invalid Content-Length header."}'


@pytest.mark.parametrize("length", [str(10**12), str(16 * 1024 * 1024 + 1)])
def test_a_huge_content_length_is_a_413_not_a_dropped_connection(length: str) -> None:
    """The sandbox does not try to read (and allocate) a body of the declared size."""
    head, body = raw_post(length)
    assert head.startswith(b"HTTP/1.1 413")
    assert body == b'{"error":"Request body too large (the sandbox reads at most 16 MB)."}'


def test_the_drop_fault_drops_only_writes_that_were_committed() -> None:
    sb = Sandbox(fault_rate=1.0, seed=7)
    body = activity_body(sb, lead_id={"id": "lead_x"})
    before = dict(sb.state.custom_activities)
    with httpx.Client(transport=sb.transport(), base_url="http://sb.test/api/v1/", auth=AUTH) as c:
        statuses = [c.post("activity/custom/", json=body).status_code for _ in range(20)]
    assert 400 in statuses and set(statuses) <= {400, 500, 502, 503, 504}
    assert sb.dispatcher.status_counts[0] == 0
    assert sb.state.custom_activities == before
