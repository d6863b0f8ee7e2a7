"""Sending (issue 3 point 5): creates and updates against the in-process sandbox, both kinds.

The plans here are made by hand, so these tests pin the executor alone: what it sends, what it
skips, what it records.  The CLI tests run the whole pipeline from CSV files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.errors import AuthError
from closecsv.importing.executor import SendSettings
from closecsv.importing.importer import execute_plan
from closecsv.importing.journal import Journal
from closecsv.progress import NullProgress
from tests.helpers.send import Env, Plan, Row, existing_call, make_env, update_row


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = make_env(tmp_path)
    yield e
    e.client.close()
    e.sandbox.close()


def call_row(env: Env, n: int, lead: str, **extra: Any) -> Row:
    info = env.info(ACTIVITIES, "Discovery Call")
    payload = {
        "custom_activity_type_id": info.id,
        "lead_id": lead,
        env.key(ACTIVITIES, "Discovery Call", "Outcome"): "Interested",
        env.key(ACTIVITIES, "Discovery Call", "Reference Code"): f"TREF-{n}",
        **extra,
    }
    return Row(n, "create", payload, info.id, None, lead, {"note": f"row {n}"})


def acts_of(env: Env, ref_key: str) -> list[dict[str, Any]]:
    acts = env.sandbox.state.custom_activities.values()
    return [a for a in acts if str(a.get(ref_key, "")).startswith("TREF-")]


def test_creates_activities_and_records_ids(env: Env) -> None:
    lead_a, lead_b = env.leads()
    rows = [call_row(env, n, lead_a if n % 2 else lead_b) for n in range(2, 12)]
    report = env.run(Plan(ACTIVITIES, env.tmp / "calls.csv", rows))
    assert report.counts() == {"created": 10} and report.exit_code == 0
    ref = env.key(ACTIVITIES, "Discovery Call", "Reference Code")
    created = {a[ref]: a for a in acts_of(env, ref)}
    assert sorted(created) == sorted(f"TREF-{n}" for n in range(2, 12))
    for result in report.results:
        assert created[f"TREF-{result.row}"]["id"] == result.instance_id
        assert result.lead_id == created[f"TREF-{result.row}"]["lead_id"]
    assert created["TREF-2"]["status"] == "published"
    assert env.transport.writes() == 10
    with Journal.open(report.paths.journal, Plan(ACTIVITIES, report.source, rows).job()) as journal:
        assert {e.state for e in journal.entries().values()} == {"done"}


def test_status_default_and_columns(env: Env) -> None:
    lead = env.leads()[0]
    rows = [call_row(env, 2, lead), call_row(env, 3, lead, status="published", pinned=True)]
    env.run(Plan(ACTIVITIES, env.tmp / "calls.csv", rows), default_status="draft")
    ref = env.key(ACTIVITIES, "Discovery Call", "Reference Code")
    by_ref = {a[ref]: a for a in acts_of(env, ref)}
    assert (by_ref["TREF-2"]["status"], by_ref["TREF-2"]["pinned"]) == ("draft", False)
    assert (by_ref["TREF-3"]["status"], by_ref["TREF-3"]["pinned"]) == ("published", True)


def test_creates_custom_objects(env: Env) -> None:
    deal = env.info(OBJECTS, "Deal")
    amount = env.key(OBJECTS, "Deal", "Amount")
    lead = env.leads()[0]
    rows = [
        Row(
            n,
            "create",
            {
                "custom_object_type_id": deal.id,
                "lead_id": lead,
                "name": f"Deal {n}",
                amount: n * 100,
            },
            deal.id,
            None,
            lead,
        )
        for n in (2, 3)
    ]
    report = env.run(Plan(OBJECTS, env.tmp / "deals.csv", rows))
    assert report.counts() == {"created": 2}
    objs = {o["name"]: o for o in env.sandbox.state.custom_objects.values()}
    assert objs["Deal 2"][amount] == 200 and objs["Deal 3"]["id"] == report.results[1].instance_id


def test_rejected_rows_fail_alone_with_closes_message(env: Env) -> None:
    lead = env.leads()[0]
    outcome = env.key(ACTIVITIES, "Discovery Call", "Outcome")
    rows = [call_row(env, 2, lead), call_row(env, 3, lead, **{outcome: "Maybe"})]
    report = env.run(Plan(ACTIVITIES, env.tmp / "calls.csv", rows))
    assert [r.status for r in report.results] == ["created", "failed"]
    error = report.results[1].error or ""
    assert error.startswith("rejected by Close (400)") and outcome in error
    assert report.exit_code == 1


def test_update_sends_only_what_differs_and_skips_no_ops(env: Env) -> None:
    act = existing_call(env)
    notes = env.key(ACTIVITIES, "Discovery Call", "Notes")
    outcome = env.key(ACTIVITIES, "Discovery Call", "Outcome")
    same = {outcome: act[outcome], "activity_at": act["activity_at"].replace("+00:00", "Z")}
    rows = [
        update_row(env, 2, act, same),
        update_row(env, 3, act, {**same, notes: "new notes"}),
    ]
    report = env.run(Plan(ACTIVITIES, env.tmp / "edits.csv", rows))
    assert [r.status for r in report.results] == ["unchanged", "updated"]
    assert report.results[0].lead_id == act["lead_id"]
    assert env.transport.methods.count("PUT") == 1
    assert env.sandbox.state.custom_activities[act["id"]][notes] == "new notes"
    puts = env.transport.methods.count("PUT")
    again = env.run(Plan(ACTIVITIES, env.tmp / "again.csv", rows))
    assert [r.status for r in again.results] == ["unchanged", "unchanged"]
    assert env.transport.methods.count("PUT") == puts


def test_update_checks_existence_and_type(env: Env) -> None:
    act = existing_call(env)
    support = env.info(ACTIVITIES, "Support Ticket")
    ghost = {**act, "id": "acti_doesnotexist"}
    rows = [update_row(env, 2, act, {}, support.id), update_row(env, 3, ghost, {})]
    report = env.run(Plan(ACTIVITIES, env.tmp / "edits.csv", rows))
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert f"is of type {act['custom_activity_type_id']}" in (report.results[0].error or "")
    assert "no such custom activity" in (report.results[1].error or "")
    assert env.transport.writes() == 0


def test_update_clears_fields_and_objects_by_lead(env: Env) -> None:
    obj = next(iter(env.sandbox.state.custom_objects.values()))
    stage = env.key(OBJECTS, "Deal", "Stage")
    name_row = Row(2, "update", {"name": "Renamed"}, None, obj["id"], obj["lead_id"])
    clear_row = Row(3, "update", {}, None, obj["id"], obj["lead_id"], clear=frozenset({stage}))
    report = env.run(Plan(OBJECTS, env.tmp / "deals.csv", [name_row, clear_row]))
    assert [r.status for r in report.results] == ["updated", "updated"]
    stored = env.sandbox.state.custom_objects[obj["id"]]
    assert stored["name"] == "Renamed" and stored.get(stage) is None


def test_dry_run_reads_but_never_writes(env: Env) -> None:
    act = existing_call(env)
    notes = env.key(ACTIVITIES, "Discovery Call", "Notes")
    rows = [
        call_row(env, 2, env.leads()[0]),
        update_row(env, 3, act, {notes: "changed"}),
        update_row(env, 4, act, {}),
        Row(5, "failed", {}, error="custom.Outcome: 'Maybe' is not one of the choices"),
    ]
    report = env.run(Plan(ACTIVITIES, env.tmp / "calls.csv", rows), dry_run=True)
    assert [r.status for r in report.results] == [
        "would_create",
        "would_update",
        "unchanged",
        "failed",
    ]
    assert report.exit_code == 1 and env.transport.writes() == 0
    assert not report.paths.journal.exists() and report.paths.results.exists()


@pytest.mark.parametrize("kind", [ACTIVITIES, OBJECTS])
def test_faults_never_duplicate_or_lose_a_row(tmp_path: Path, kind: Kind) -> None:
    env = make_env(tmp_path, fault_rate=0.3, seed=7)
    lead = env.leads()[0]
    if kind is ACTIVITIES:
        rows = [call_row(env, n, lead) for n in range(2, 42)]
    else:
        deal = env.info(OBJECTS, "Deal")
        amount = env.key(OBJECTS, "Deal", "Amount")
        rows = [
            Row(
                n,
                "create",
                {"custom_object_type_id": deal.id, "lead_id": lead, "name": f"Deal {n}", amount: n},
                deal.id,
                None,
                lead,
            )
            for n in range(2, 42)
        ]
    report = env.run(Plan(kind, tmp_path / "rows.csv", rows))
    assert report.counts() == {"created": 40}
    assert env.client.stats.outcome_unknown > 0
    coll = (
        env.sandbox.state.custom_activities
        if kind is ACTIVITIES
        else env.sandbox.state.custom_objects
    )
    ids = [r.instance_id for r in report.results]
    assert len(set(ids)) == 40 and all(i in coll for i in ids)
    assert sum(1 for o in coll.values() if o["lead_id"] == lead and o["id"] in ids) == 40
    before = len(coll)
    env.run(Plan(kind, tmp_path / "rows.csv", rows))
    assert len(coll) == before


def test_auth_refused_mid_run_stops_and_keeps_the_journal(env: Env) -> None:
    lead = env.leads()[0]
    rows = [call_row(env, n, lead) for n in range(2, 32)]
    env.schema.find(ACTIVITIES, "Discovery Call")
    env.transport.revoke_after = len(env.transport.methods) + 10
    report = env.run(Plan(ACTIVITIES, env.tmp / "calls.csv", rows), concurrency=2)
    assert isinstance(report.fatal, AuthError) and report.exit_code == 3
    assert "skipped" in report.counts()
    env.transport.revoke_after = None
    resumed = env.run(Plan(ACTIVITIES, env.tmp / "calls.csv", rows))
    assert resumed.counts() == {"created": 30} and resumed.exit_code == 0
    ref = env.key(ACTIVITIES, "Discovery Call", "Reference Code")
    assert len(acts_of(env, ref)) == 30


class InterruptAfter(NullProgress):
    def __init__(self, n: int) -> None:
        self.n = n

    def advance(self, status: str) -> None:
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


def test_ctrl_c_stops_sending_flushes_and_resumes(env: Env) -> None:
    lead = env.leads()[0]
    rows = [call_row(env, n, lead) for n in range(2, 42)]
    plan = Plan(ACTIVITIES, env.tmp / "calls.csv", rows)
    plan.source.touch()
    report = execute_plan(
        env.client, env.schema, plan, SendSettings(settle_seconds=0), InterruptAfter(5)
    )
    assert report.interrupted and report.exit_code == 130
    counts = report.counts()
    assert counts["created"] >= 5 and counts["skipped"] == 40 - counts["created"]
    assert report.paths.results.exists()
    resumed = env.run(plan)
    assert resumed.counts() == {"created": 40}
    ref = env.key(ACTIVITIES, "Discovery Call", "Reference Code")
    assert len(acts_of(env, ref)) == 40


def test_object_update_finds_its_instance_even_when_the_lead_cell_is_wrong(env: Env) -> None:
    obj = next(iter(env.sandbox.state.custom_objects.values()))
    other = next(lead for lead in env.sandbox.state.leads if lead != obj["lead_id"])
    row = Row(2, "update", {"name": "Moved?"}, None, obj["id"], other)
    report = env.run(Plan(OBJECTS, env.tmp / "deals.csv", [row]))
    assert report.counts() == {"updated": 1} and report.results[0].lead_id == obj["lead_id"]
