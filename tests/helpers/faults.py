"""An import against a sandbox behind a transport that loses, delays or garbles answers, and what it
leaves: the calls file, the instances made, the results."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.importing.executor import SendSettings
from closecsv.importing.importer import execute_plan
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import Plan, build_plan
from closecsv.importing.report import ImportReport
from closecsv.progress import NullProgress
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock

PREFIX = "FAULT-"


HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"


def _trickle(clock: FakeClock) -> Iterator[bytes]:
    yield b'{"id": "'
    for _ in range(10):
        clock.advance(30.0)
        yield b"x"


@dataclass
class Faulty(httpx.BaseTransport):
    """The sandbox transport; the ``n``-th create POST (1-based) in ``faults`` goes wrong."""

    inner: httpx.BaseTransport
    clock: FakeClock
    faults: dict[int, str] = field(default_factory=dict)
    after: Callable[[httpx.Request], httpx.Response | None] | None = None
    posts: int = 0
    methods: Counter[str] = field(default_factory=Counter)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.methods[request.method] += 1
        if self.after is not None and (forced := self.after(request)) is not None:
            return forced
        if request.method != "POST" or request.url.path.endswith("/data/search/"):
            return self.inner.handle_request(request)
        self.posts += 1
        fault = self.faults.get(self.posts, "")
        if fault.startswith("lost_"):  # refused before any work
            status = int(fault.split("_")[1])
            return httpx.Response(status, content=HTML if "html" in fault else b"{}")
        answer = self.inner.handle_request(request)
        return self._spoil(fault, answer, request)

    def _spoil(self, fault: str, answer: httpx.Response, request: httpx.Request) -> httpx.Response:
        if fault in ("commit_500", "commit_504"):
            return httpx.Response(int(fault[-3:]), json={"error": "Internal error"})
        if fault == "commit_502_html":
            return httpx.Response(502, content=HTML)
        if fault == "commit_drop":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        if fault == "commit_read_timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault == "commit_truncated":
            return httpx.Response(200, content=answer.read()[:25])
        if fault == "commit_trickle":
            return httpx.Response(200, content=_trickle(self.clock))
        return answer


@dataclass
class Env:
    sandbox: Sandbox
    transport: Faulty
    client: CloseClient
    schema: Schema
    tmp: Path

    def plan(self, path: Path) -> Plan:
        return build_plan(self.client, self.schema, ACTIVITIES, path, ImportOptions())

    def run(self, path: Path, **settings: Any) -> ImportReport:
        opts = SendSettings(settle_seconds=0.0, **settings)
        return execute_plan(
            self.client, self.schema, self.plan(path), opts, NullProgress(), sleep=lambda _: None
        )

    def refs(self) -> Counter[str]:
        return count_refs(self.sandbox)


def count_refs(sandbox: Sandbox) -> Counter[str]:
    found: Counter[str] = Counter()
    for act in sandbox.state.custom_activities.values():
        found.update(v for v in act.values() if isinstance(v, str) and v.startswith(PREFIX))
    return found


def make_env(tmp: Path, clock: FakeClock, **client_opts: Any) -> Env:
    sandbox = Sandbox(clock=clock, sleep=clock.sleep)
    transport = Faulty(sandbox.transport(), clock)
    client = CloseClient(
        ApiKey(SANDBOX_API_KEY),
        "http://sandbox.test/api/v1/",
        transport=transport,
        clock=clock,
        sleep=clock.sleep,
        **client_opts,
    )
    return Env(sandbox, transport, client, Schema(client), tmp)


def write_calls(path: Path, sandbox: Sandbox, n: int, bad: frozenset[int] = frozenset()) -> Path:
    """``n`` Discovery Call rows on the seed leads; rows in ``bad`` have an invalid choice."""
    leads = sorted(sandbox.state.leads)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["custom_activity_type", "lead_id", "custom.Outcome", "custom.Reference Code"]
        )
        for i in range(n):
            outcome = "Maybe" if i in bad else "Interested"
            writer.writerow(["Discovery Call", leads[i % len(leads)], outcome, f"{PREFIX}{i:05d}"])
    return path


def results(report: ImportReport) -> list[dict[str, str]]:
    with report.paths.results.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
