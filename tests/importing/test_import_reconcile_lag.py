"""A lost create on an API whose lists lag writes (docs/ADVERSARIAL.md F10).

Close's lists were seen to lag writes by 30–60 s.  A create whose answer was lost and that a
first look does not find must be looked for again once the settle time since the send has
passed, and only sent again if it is still missing; a rerun long after the send looks once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.importing.plan_rows import PlannedRow
from closecsv.importing.reconcile import Fields, Group, Reconciler
from closecsv.importing.report import RowResult
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

LEAD = "lead_lagging"


class LaggingLists:
    """Answers the reconcile lookup from a script: each list call shows the next snapshot."""

    def __init__(self, snapshots: list[list[dict[str, Any]]]) -> None:
        self.snapshots = snapshots
        self.calls = 0

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        raise AssertionError(f"unexpected GET {path}")

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        shown = self.snapshots[min(self.calls, len(self.snapshots) - 1)]
        self.calls += 1
        return iter(shown)


@pytest.fixture(scope="module")
def fields() -> Iterator[tuple[Fields, str, str]]:
    sandbox = Sandbox()
    client = CloseClient(
        ApiKey(SANDBOX_API_KEY), "http://s.test/api/v1/", transport=sandbox.transport()
    )
    schema = Schema(client)
    info = schema.find(ACTIVITIES, "Support Ticket")
    ticket = next(f for f in info.fields if f.name == "Ticket ID")
    found = Fields(schema, ACTIVITIES)
    found.warm([info.id])
    yield found, info.id, ticket.api_key
    client.close()


def doubtful_group(type_id: str, key: str, sent_at: float) -> Group:
    payload = {ACTIVITIES.type_id_key: type_id, "lead_id": LEAD, key: "T-1"}
    row = PlannedRow(2, "create", type_id, None, LEAD, payload)
    return Group(LEAD, type_id, (row,), sent_at, sent_at)


def instance(type_id: str, key: str) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    return {"id": "acti_late", ACTIVITIES.type_id_key: type_id, "lead_id": LEAD, key: "T-1",
            "date_created": now}  # fmt: skip


def test_a_write_that_shows_late_is_found_on_the_second_look(
    fields: tuple[Fields, str, str],
) -> None:
    found, type_id, key = fields
    lists = LaggingLists([[], [instance(type_id, key)]])
    slept: list[float] = []
    reconciler = Reconciler(lists, found, 30.0, slept.append)
    outcome = reconciler.resolve(doubtful_group(type_id, key, time.time()))
    assert outcome == [RowResult(2, "created", "acti_late", LEAD)]
    assert lists.calls == 2
    assert len(slept) == 1 and 29.0 < slept[0] <= 30.0


def test_a_write_still_missing_after_the_settle_time_is_sent_again(
    fields: tuple[Fields, str, str],
) -> None:
    found, type_id, key = fields
    lists = LaggingLists([[], []])
    slept: list[float] = []
    group = doubtful_group(type_id, key, time.time() - 12.0)
    outcome = Reconciler(lists, found, 30.0, slept.append).resolve(group)
    assert outcome == [group.rows[0]]  # to be sent again
    assert lists.calls == 2
    assert len(slept) == 1 and 17.0 < slept[0] <= 18.0


def test_a_rerun_long_after_the_send_looks_once_and_waits_for_nothing(
    fields: tuple[Fields, str, str],
) -> None:
    found, type_id, key = fields
    lists = LaggingLists([[], [instance(type_id, key)]])
    slept: list[float] = []
    group = doubtful_group(type_id, key, time.time() - 3600.0)
    outcome = Reconciler(lists, found, 30.0, slept.append).resolve(group)
    assert outcome == [group.rows[0]]
    assert lists.calls == 1
    assert slept == []


def test_a_clock_set_back_after_the_send_never_stretches_the_wait(
    fields: tuple[Fields, str, str],
) -> None:
    """docs/ADVERSARIAL.md F12: attempt starts are wall-clock, so the wait is capped."""
    found, type_id, key = fields
    lists = LaggingLists([[], [instance(type_id, key)]])
    slept: list[float] = []
    group = doubtful_group(type_id, key, time.time() + 300.0)  # within the skew allowance
    outcome = Reconciler(lists, found, 30.0, slept.append).resolve(group)
    assert outcome == [RowResult(2, "created", "acti_late", LEAD)]
    assert slept == [30.0]
