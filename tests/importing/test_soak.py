"""Soak (docs/ADVERSARIAL.md D20, H1): thousands of rows against a sandbox failing 10% of requests.

Every kind of sandbox fault is in the mix: 5xx before any work on reads and writes, and
creates committed whose connection is then dropped.  Afterwards the sandbox holds exactly one
instance per valid row, and every input row is in exactly one ``_status`` bucket of the
results file (the accounting invariant).  ``bench/soak_bench.py`` runs the same at 20k rows
on a real socket with kills.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.importing.executor import SendSettings
from closecsv.importing.importer import execute_plan
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import build_plan
from closecsv.progress import NullProgress
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clock import FakeClock
from tests.helpers.faults import PREFIX, count_refs, write_calls

ROWS = 3000
BAD = frozenset(range(7, ROWS, 97))  # rows with an invalid choice: they must fail, alone


@pytest.mark.slow
@pytest.mark.parametrize("keys", [1, 3])
def test_soak_3000_rows_at_10_percent_faults_exactly_once(tmp_path: Path, keys: int) -> None:
    """With three keys of one organization too: the rows go with every key, each once."""
    clock = FakeClock()
    more = [f"soak-key-{n}-000000000000000" for n in range(2, keys + 1)]
    sandbox = Sandbox(fault_rate=0.1, seed=2024, clock=clock, sleep=clock.sleep, more_keys=more)
    path = write_calls(tmp_path / "soak.csv", sandbox, ROWS, BAD)
    client = CloseClient(
        [ApiKey(k) for k in (SANDBOX_API_KEY, *more)],
        "http://sandbox.test/api/v1/",
        transport=sandbox.transport(),
        sleep=clock.sleep,
        max_attempts=12,
    )
    started = time.monotonic()
    schema = Schema(client)
    plan = build_plan(client, schema, ACTIVITIES, path, ImportOptions())
    settings = SendSettings(concurrency=4, settle_seconds=0.0)
    report = execute_plan(client, schema, plan, settings, NullProgress(), sleep=lambda _: None)
    elapsed = time.monotonic() - started
    faults = sandbox.dispatcher.status_counts
    injected = sum(n for status, n in faults.items() if status == 0 or status >= 500)
    print(f"soak: {ROWS} rows in {elapsed:.1f}s, {injected} faults ({faults[0]} commit+drop)")

    assert report.counts() == {"created": ROWS - len(BAD), "failed": len(BAD)}
    assert faults[0] > 50 and injected > 300  # the faults really happened, drops among them
    refs = count_refs(sandbox)
    assert set(refs.values()) == {1}, "duplicates"
    assert set(refs) == {f"{PREFIX}{i:05d}" for i in range(ROWS) if i not in BAD}, "missing"
    with report.paths.results.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(int(r["_row"]) for r in rows) == list(range(2, ROWS + 2))
    assert Counter(r["_status"] for r in rows) == report.counts()
    created = [r["_id"] for r in rows if r["_status"] == "created"]
    assert len(set(created)) == len(created)
    assert all(sandbox.state.custom_activities[i]["custom_activity_type_id"] for i in created)
    if keys > 1:
        assert {r["_key"] for r in rows if r["_status"] == "created"} >= {"1", "2", "3"}
    with report.paths.errors.open(newline="", encoding="utf-8") as fh:
        assert {int(r["_row"]) - 2 for r in csv.DictReader(fh)} == BAD
    client.close()
    sandbox.close()
