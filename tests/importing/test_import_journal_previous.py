"""The journal keeps what an undo needs: each update's previous values (as the API gave them),
what each request wrote, and the instance's ``date_updated`` from Close's answer; a journal
of the version before (schema 2) is upgraded in place."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from tests.helpers.import_cli import Cli


def rows_of(journal: Path) -> list[dict[str, object]]:
    with sqlite3.connect(journal) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM rows ORDER BY row")]


def test_updates_record_previous_values_and_date_updated(cli: Cli) -> None:
    assert cli("import", "objects", str(cli.sample("deals.csv"))).exit_code == 0
    created = rows_of(cli.tmp / "deals.journal.sqlite")
    iid = str(created[0]["instance_id"])
    deal = cli.sandbox.state.custom_objects[iid]
    assert created[0]["date_updated"] == deal["date_updated"]
    assert json.loads(str(created[0]["written"]))["name"] == "Umbrella platform licence"
    assert created[0]["previous"] is None  # a create replaced nothing
    owner_key = next(k for k, v in deal.items() if k.startswith("custom.") and v == 48000)
    path = cli.tmp / "edit.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["custom_object_id", "custom.Amount"], [iid, "9"]])
    assert cli("import", "objects", str(path)).exit_code == 0
    [updated] = rows_of(cli.tmp / "edit.journal.sqlite")
    assert json.loads(str(updated["previous"])) == {owner_key: 48000}
    assert json.loads(str(updated["written"])) == {owner_key: 9}
    assert updated["changes"] == "custom.Amount: 48000 -> 9"
    assert updated["date_updated"] == cli.sandbox.state.custom_objects[iid]["date_updated"]


def test_a_schema_2_journal_is_upgraded_and_the_job_continues(cli: Cli) -> None:
    path = cli.sample("deals.csv")
    assert cli("import", "objects", str(path), "--limit", "1").exit_code == 0
    journal = cli.tmp / "deals.journal.sqlite"
    with sqlite3.connect(journal) as conn:  # as the version before wrote it
        for column in ("previous", "written", "changes", "date_updated"):
            conn.execute(f"ALTER TABLE rows DROP COLUMN {column}")
        conn.execute("DROP TABLE undo")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    before = len(cli.sandbox.state.custom_objects)
    result = cli("import", "objects", str(path))
    assert result.exit_code == 0, result.output
    rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
    assert len(cli.sandbox.state.custom_objects) == before + rows - 1  # not row 2 again
    with sqlite3.connect(journal) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert version == ("3",)
    assert "undo" in tables
    assert [r["previous"] for r in rows_of(journal)] == [None] * rows
