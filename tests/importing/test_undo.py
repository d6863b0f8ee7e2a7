"""``closecsv undo``: an import of creates and updates, undone, leaves the org as it was;
conflicts, instances already gone, dry runs, a second undo and a new import after it."""

from __future__ import annotations

import copy
import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.import_cli import Cli

SAME_EXCEPT = ("date_updated", "updated_by")  # what a restore cannot give back


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    names = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def collection(sandbox: Sandbox, kind: str) -> dict[str, dict[str, Any]]:
    state = sandbox.state
    return state.custom_activities if kind == "activities" else state.custom_objects


def snapshot(sandbox: Sandbox, kind: str) -> dict[str, dict[str, Any]]:
    """Every instance of the kind and every field, but those a restore cannot give back."""
    return {
        iid: {k: v for k, v in copy.deepcopy(inst).items() if k not in SAME_EXCEPT}
        for iid, inst in collection(sandbox, kind).items()
    }


def custom_key(sandbox: Sandbox, kind: str, iid: str, value: object) -> str:
    inst = collection(sandbox, kind)[iid]
    return next(k for k, v in inst.items() if k.startswith("custom.") and v == value)


def activity_file(cli: Cli) -> Path:
    """Two creates and updates of two seeded calls (text, number, choices, users, a clear)."""
    acts = cli.sandbox.state.custom_activities
    first, second = (
        next(i for i, a in acts.items() if value in a.values())
        for value in ("REF-0001", "Draft notes")
    )
    rows = [
        {"custom_activity_type": "Discovery Call", "lead_email": "alice.smith00@example.org",
         "custom.Outcome": "Interested", "custom.Reference Code": "UNDO-1"},
        {"activity_id": first, "custom.Notes": "Rewritten", "custom.Duration (min)": "55",
         "custom.Products": "Analytics", "custom.Attendees": "grace@example.com",
         "custom.Outcome": "Not interested"},
        {"activity_id": second, "custom.Follow-up At": "2024-05-01T10:00:00+00:00",
         "custom.Notes": "New notes"},
        {"custom_activity_type": "Discovery Call", "lead_email": "bob.garcia10@example.org",
         "custom.Outcome": "Follow up", "custom.Reference Code": "UNDO-2"},
    ]  # fmt: skip
    return write(cli.tmp / "calls.csv", rows)


def object_file(cli: Cli) -> Path:
    objs = cli.sandbox.state.custom_objects
    deal = next(i for i, o in objs.items() if o.get("name") == "Initech renewal")
    rows = [
        {"custom_object_type": "Deal", "name": "Undo deal",
         "lead_email": "alice.smith00@example.org", "custom.Amount": "10",
         "custom.Stage": "Prospect"},
        {"custom_object_id": deal, "name": "Renamed deal", "custom.Amount": "99.5",
         "custom.Stage": "", "custom.Owner": "grace@example.com"},  # Won -> cleared
    ]  # fmt: skip
    return write(cli.tmp / "deals.csv", rows)


FILES = {"activities": activity_file, "objects": object_file}
FLAGS = {"activities": [], "objects": ["--clear-empty"]}


@pytest.mark.parametrize("kind", ["activities", "objects"])
def test_undo_after_creates_and_updates_restores_the_org_exactly(cli: Cli, kind: str) -> None:
    path = FILES[kind](cli)
    before = snapshot(cli.sandbox, kind)
    imported = cli("import", kind, str(path), *FLAGS[kind])
    assert imported.exit_code == 0, imported.output
    assert snapshot(cli.sandbox, kind) != before
    dry = cli("undo", kind, str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert snapshot(cli.sandbox, kind) != before  # a dry run writes nothing
    planned = read(path.with_name(path.stem + ".undo.validate.results.csv"))
    assert {r["_status"] for r in planned} == {"would_delete", "would_restore"}
    undone = cli("undo", kind, str(path), "--json")
    assert undone.exit_code == 0, undone.output
    assert snapshot(cli.sandbox, kind) == before
    results = read(path.with_name(path.stem + ".undo.results.csv"))
    assert list(results[0]) == ["_row", "_id", "_status", "_error"]
    assert [r["_status"] for r in results] == [
        "deleted" if r["_status"] == "would_delete" else "restored" for r in planned
    ]
    receipt = json.loads(undone.stdout)
    assert receipt["counts"] == {s: sum(r["_status"] == s for r in results) for s in
                                 {r["_status"] for r in results}}  # fmt: skip


def test_a_dry_run_sends_no_write(cli: Cli) -> None:
    path = activity_file(cli)
    assert cli("import", "activities", str(path)).exit_code == 0
    writes = len(cli.sandbox.state.custom_activities)
    result = cli("undo", "activities", str(path), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert len(cli.sandbox.state.custom_activities) == writes
    assert json.loads(result.stdout)["counts"] == {"would_delete": 2, "would_restore": 2}
    assert not path.with_name("calls.undo.results.csv").exists()


def test_an_instance_edited_after_the_import_is_a_conflict_until_forced(cli: Cli) -> None:
    path = object_file(cli)
    before = snapshot(cli.sandbox, "objects")
    assert cli("import", "objects", str(path), "--clear-empty").exit_code == 0
    created, updated = (r["_id"] for r in read(cli.tmp / "deals.results.csv"))
    amount = custom_key(cli.sandbox, "objects", updated, 99.5)
    cli.sandbox.state.custom_objects[updated][amount] = 120  # someone edits it in Close
    result = cli("undo", "objects", str(path))
    assert result.exit_code == 1
    lines = {r["_id"]: r for r in read(cli.tmp / "deals.undo.results.csv")}
    assert lines[created]["_status"] == "deleted"
    assert lines[updated]["_status"] == "conflict"
    assert lines[updated]["_error"] == (
        "changed in Close after the import: custom.Amount: written '99.5', now '120'"
    )
    assert cli.sandbox.state.custom_objects[updated]["name"] == "Renamed deal"  # untouched
    forced = cli("undo", "objects", str(path), "--force")
    assert forced.exit_code == 0, forced.output
    lines = {r["_id"]: r for r in read(cli.tmp / "deals.undo.results.csv")}
    assert (lines[created]["_status"], lines[updated]["_status"]) == ("deleted", "restored")
    assert snapshot(cli.sandbox, "objects") == before


def test_a_date_updated_after_the_import_is_a_conflict(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = served
    cli = Cli(sandbox, url, tmp_path)
    path = activity_file(cli)
    assert cli("import", "activities", str(path)).exit_code == 0
    created = read(tmp_path / "calls.results.csv")[0]["_id"]
    sandbox.state.custom_activities[created]["date_updated"] = "2999-01-01T00:00:00+00:00"
    result = cli("undo", "activities", str(path))
    assert result.exit_code == 1
    line = next(r for r in read(tmp_path / "calls.undo.results.csv") if r["_id"] == created)
    assert line["_status"] == "conflict"
    assert "date_updated: 2999-01-01T00:00:00+00:00, after the import's" in line["_error"]
    assert created in sandbox.state.custom_activities


def test_an_instance_already_gone_counts_as_undone(cli: Cli) -> None:
    path = object_file(cli)
    assert cli("import", "objects", str(path)).exit_code == 0
    created = read(cli.tmp / "deals.results.csv")[0]["_id"]
    gone = httpx.delete(f"{cli.url}custom_object/{created}/", auth=(SANDBOX_API_KEY, ""))
    assert gone.status_code == 204  # someone deleted it in Close
    result = cli("undo", "objects", str(path))
    assert result.exit_code == 0, result.output
    statuses = [r["_status"] for r in read(cli.tmp / "deals.undo.results.csv")]
    assert statuses == ["already_gone", "restored"]


def test_undo_twice_is_a_no_op_and_the_file_imports_again_once(cli: Cli) -> None:
    path = activity_file(cli)
    before = snapshot(cli.sandbox, "activities")
    assert cli("import", "activities", str(path)).exit_code == 0
    assert cli("undo", "activities", str(path)).exit_code == 0
    first = read(cli.tmp / "calls.undo.results.csv")
    again = cli("undo", "activities", str(path), "--json")
    assert again.exit_code == 0, again.output
    assert read(cli.tmp / "calls.undo.results.csv") == first
    receipt = json.loads(again.stdout)
    assert receipt["already_done"] == 4
    assert receipt["requests"] == 1  # who the key is (GET me/): no read, no write
    assert snapshot(cli.sandbox, "activities") == before
    reimported = cli("import", "activities", str(path))
    assert reimported.exit_code == 0, reimported.output
    results = read(cli.tmp / "calls.results.csv")
    assert [r["_status"] for r in results] == ["created", "updated", "updated", "created"]
    refs = [v for a in cli.sandbox.state.custom_activities.values() for v in a.values()]
    assert sorted(v for v in refs if str(v).startswith("UNDO-")) == ["UNDO-1", "UNDO-2"]
    assert cli("import", "activities", str(path)).exit_code == 0  # a rerun creates nothing
    refs = [v for a in cli.sandbox.state.custom_activities.values() for v in a.values()]
    assert sorted(v for v in refs if str(v).startswith("UNDO-")) == ["UNDO-1", "UNDO-2"]
    assert cli("undo", "activities", str(path)).exit_code == 0  # and that import undoes too
    assert snapshot(cli.sandbox, "activities") == before


def test_no_journal_is_exit_2_naming_where_it_looked(cli: Cli) -> None:
    path = activity_file(cli)
    result = cli("undo", "activities", str(path), "--report-dir", str(cli.tmp / "elsewhere"))
    assert result.exit_code == 2
    assert f"no import journal for calls.csv: looked for {cli.tmp / 'elsewhere'}" in result.output


def test_the_kind_must_be_the_imported_one(cli: Cli) -> None:
    path = object_file(cli)
    assert cli("import", "objects", str(path)).exit_code == 0
    result = cli("undo", "activities", str(path))
    assert result.exit_code == 2
    assert "records an import of objects, not activities" in result.output


def test_a_delete_whose_answer_was_lost_is_deleted_on_the_rerun(cli: Cli) -> None:
    """Killed after the DELETE left (the undo table says in flight) and Close did it: the
    rerun's 404 is this undo's own delete, not someone else's."""
    path = object_file(cli)
    assert cli("import", "objects", str(path)).exit_code == 0
    created = read(cli.tmp / "deals.results.csv")[0]["_id"]
    journal = cli.tmp / "deals.journal.sqlite"
    with sqlite3.connect(journal) as conn:
        row_id, attempts = conn.execute(
            "SELECT id, attempts FROM rows WHERE instance_id = ?", (created,)
        ).fetchone()
        conn.execute(
            "INSERT INTO undo (row_id, attempts, state) VALUES (?, ?, 'in_flight')",
            (row_id, attempts),
        )
    gone = httpx.delete(f"{cli.url}custom_object/{created}/", auth=(SANDBOX_API_KEY, ""))
    assert gone.status_code == 204  # the DELETE that run sent
    result = cli("undo", "objects", str(path))
    assert result.exit_code == 0, result.output
    lines = {r["_id"]: r["_status"] for r in read(cli.tmp / "deals.undo.results.csv")}
    assert lines[created] == "deleted"


def test_an_older_journal_undoes_its_creates_and_says_why_not_its_updates(cli: Cli) -> None:
    path = object_file(cli)
    assert cli("import", "objects", str(path)).exit_code == 0
    created, updated = (r["_id"] for r in read(cli.tmp / "deals.results.csv"))
    with sqlite3.connect(cli.tmp / "deals.journal.sqlite") as conn:  # as schema 2 wrote it
        for column in ("previous", "written", "changes", "date_updated"):
            conn.execute(f"ALTER TABLE rows DROP COLUMN {column}")
        conn.execute("DROP TABLE undo")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    result = cli("undo", "objects", str(path))
    assert result.exit_code == 1
    lines = {r["_id"]: r for r in read(cli.tmp / "deals.undo.results.csv")}
    assert lines[created]["_status"] == "deleted"
    assert created not in cli.sandbox.state.custom_objects
    assert lines[updated]["_status"] == "failed"
    assert "older closecsv, which did not keep the values it replaced" in lines[updated]["_error"]
    assert cli.sandbox.state.custom_objects[updated]["name"] == "Renamed deal"
