"""Rate limit, latency, faults, persistence and the real socket
(docs/CLOSE_API.md, docs/SANDBOX.md).
"""

from __future__ import annotations

import json
import re
import socket
import struct
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock
from tests.helpers.sandbox_api import field_keys, leads, type_id

RATE = re.compile(r"^limit=(\d+), remaining=(\d+), reset=(\d+\.\d+)$")


def activity_body(api: httpx.Client) -> dict[str, Any]:
    tid = type_id(api, "Support Ticket")
    keys = field_keys(api, "activity", tid)
    return {"custom_activity_type_id": tid, "lead_id": leads(api)[0]["id"], keys["Ticket ID"]: "T"}


def count_activities(sb: Sandbox) -> int:
    return len(sb.state.custom_activities)


def test_every_response_carries_ratelimit_and_empty_bucket_is_429(client_for: Any) -> None:
    clock = FakeClock()
    sb = Sandbox(rate_limit=2, clock=clock, sleep=clock.sleep)
    with client_for(sb) as api:
        first, second = api.get("me/"), api.get("nothing/")
        assert RATE.match(first.headers["ratelimit"]).groups()[:2] == ("2", "1")  # type: ignore[union-attr]
        assert RATE.match(second.headers["ratelimit"]).groups()[:2] == ("2", "0")  # type: ignore[union-attr]
        refused = api.get("me/")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert RATE.match(refused.headers["ratelimit"]).group(3) == "1.000"  # type: ignore[union-attr]
        assert "exceeded" in refused.json()["error"]
        clock.advance(0.5)
        assert api.get("me/").status_code == 200
        assert api.get("me/").status_code == 429
        clock.advance(1.0)
        ok = api.get("me/")
        assert ok.status_code == 200
        assert RATE.match(ok.headers["ratelimit"]).groups() == ("2", "1", "0.500")  # type: ignore[union-attr]


def test_retry_after_is_rounded_up_for_slow_rates(client_for: Any) -> None:
    clock = FakeClock()
    with client_for(Sandbox(rate_limit=0.25, clock=clock)) as api:
        assert api.get("me/").status_code == 200
        refused = api.get("me/")
        assert (refused.status_code, refused.headers["retry-after"]) == (429, "4")


def test_latency_uses_the_injected_sleep(client_for: Any) -> None:
    clock = FakeClock()
    with client_for(Sandbox(latency_ms=250, clock=clock, sleep=clock.sleep)) as api:
        api.get("me/")
        api.get("user/")
    assert clock.slept == [0.25, 0.25]


def test_reads_fault_with_5xx_only(client_for: Any) -> None:
    with client_for(Sandbox(fault_rate=1.0, seed=3)) as api:
        statuses = {api.get("me/").status_code for _ in range(20)}
    assert statuses <= {500, 502, 503, 504} and len(statuses) > 1


def test_write_faults_either_do_nothing_or_commit_then_drop(client_for: Any) -> None:
    setup = Sandbox()
    with client_for(setup) as plain:
        body = activity_body(plain)
    sb = Sandbox(fault_rate=1.0, seed=7)
    kinds = set()
    with client_for(sb) as api:
        for _ in range(12):
            before = count_activities(sb)
            try:
                response = api.post("activity/custom/", json=body)
            except httpx.RemoteProtocolError:
                kinds.add("drop")
                assert count_activities(sb) == before + 1
            else:
                kinds.add("error")
                assert response.status_code in (500, 502, 503, 504)
                assert count_activities(sb) == before
    assert kinds == {"drop", "error"}


def test_faults_are_deterministic_for_a_seed(client_for: Any) -> None:
    def statuses(seed: int) -> list[int]:
        with client_for(Sandbox(fault_rate=0.5, seed=seed)) as api:
            return [api.get("me/").status_code for _ in range(30)]

    assert statuses(11) == statuses(11)
    assert statuses(11) != statuses(12)


def test_state_persists_across_instances(sandbox_path: Path, client_for: Any) -> None:
    first = Sandbox(sandbox_path)
    assert sandbox_path.exists()
    with client_for(first) as api:
        created = api.post("activity/custom/", json=activity_body(api)).json()
    first.close()
    second = Sandbox(sandbox_path)
    with client_for(second) as api:
        assert api.get(f"activity/custom/{created['id']}/").json() == created
        again = api.post("activity/custom/", json=activity_body(api)).json()
    assert again["id"] != created["id"]
    second.close()


def test_confirmed_writes_survive_a_crash_and_a_torn_log(
    sandbox_path: Path, client_for: Any
) -> None:
    sb = Sandbox(sandbox_path)
    with client_for(sb) as api:
        kept = api.post("activity/custom/", json=activity_body(api)).json()
        deleted = api.post("activity/custom/", json=activity_body(api)).json()
        api.delete(f"activity/custom/{deleted['id']}/")
    # no close(): the process "dies" (the OS closes its files); the log holds the writes,
    # plus a torn line from a write that was never confirmed
    sb.state._close_log()
    with open(f"{sandbox_path}.log", "a", encoding="utf-8") as log:
        log.write('{"op": "put", "coll"')
    reopened = Sandbox(sandbox_path)
    assert kept["id"] in reopened.state.custom_activities
    assert deleted["id"] not in reopened.state.custom_activities
    assert Path(f"{sandbox_path}.log").read_text() == ""
    reopened.close()


def test_data_file_is_a_documented_json_snapshot(sandbox_path: Path) -> None:
    Sandbox(sandbox_path).close()
    blob = json.loads(sandbox_path.read_text())
    assert blob["format"] == "closecsv-sandbox/1"
    assert len(blob["collections"]["leads"]) == 60


def test_populate_is_fast_and_persisted(sandbox_path: Path, client_for: Any) -> None:
    sb = Sandbox(sandbox_path, max_skip=500)
    sb.populate(leads=2000, activities=20_000, activity_types=5, objects=100)
    sb.close()
    again = Sandbox(sandbox_path, max_skip=500)
    assert len(again.state.custom_activities) == 20_005
    with client_for(again) as api:
        names = [t["name"] for t in api.get("custom_activity/").json()["data"]]
        assert "Bench Type 5" in names
        window = {"date_created__gte": "2023-06-01", "date_created__lt": "2023-06-15"}
        page = api.get("activity/custom/", params={**window, "_limit": 100}).json()
        assert page["data"] and page["has_more"]
        assert api.get("activity/custom/", params={"_skip": 501}).status_code == 400
    again.close()


def test_real_socket_serves_and_drops(client_for: Any) -> None:
    sb = Sandbox(fault_rate=1.0, seed=7)
    with sb.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/api/v1/")
        with httpx.Client(base_url=base_url, auth=(SANDBOX_API_KEY, "")) as api:
            assert api.get("me/").status_code in (500, 502, 503, 504)
            body = activity_body(httpx.Client(transport=Sandbox().transport(),
                                              base_url="http://x/api/v1/",
                                              auth=(SANDBOX_API_KEY, "")))  # fmt: skip
            outcomes = set()
            for _ in range(8):
                try:
                    outcomes.add(api.post("activity/custom/", json=body).status_code)
                except httpx.RemoteProtocolError:
                    outcomes.add(0)
            assert 0 in outcomes


def test_a_client_hanging_up_mid_answer_prints_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A killed import resets its connections; the sandbox's terminal stays readable."""
    sb = Sandbox(latency_ms=300)
    with sb.serve() as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as conn:
                conn.sendall(b"GET /api/v1/me/ HTTP/1.1\r\nHost: x\r\n\r\n")
                # close with a reset (linger 0), as the kernel does for a killed process
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.8)  # the answers are written (and fail) after the 300 ms latency
        with httpx.Client(base_url=base_url, auth=(SANDBOX_API_KEY, "")) as api:
            assert api.get("me/").status_code == 200  # and it still serves
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("path", ["me/", "nothing/"])
def test_key_never_echoed(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert SANDBOX_API_KEY not in response.text
    assert all(SANDBOX_API_KEY not in v for v in response.headers.values())
