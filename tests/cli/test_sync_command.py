"""``closecsv sync`` on the command line: the summary, ``--json``, the change files (and how
they import back), the fallback line, archived types, the lock and its exit code."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from closecsv.close.kinds import ACTIVITIES
from closecsv.exporting.sync_state import LOCK_FILE, STATE_FILE
from closecsv.files.json_files import load_manifest
from tests.helpers.clients import sandbox_client
from tests.helpers.import_cli import Cli
from tests.helpers.sync_org import Org


def _changes(folder: Path) -> dict[str, dict[str, str]]:
    """``{type file stem: {id: _op}}`` of every change file in ``folder``."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(folder.iterdir()):
        rows = pl.read_csv(path, infer_schema=False)
        found[path.name.split(".")[0]] = dict(zip(rows["activity_id"], rows["_op"], strict=True))
    return found


def test_sync_twice_writes_change_files_that_name_each_change(cli: Cli, tmp_path: Path) -> None:
    mirror, changes = str(tmp_path / "m"), tmp_path / "changes"
    first = cli("sync", "activities", "--to", mirror, "--format", "csv")
    assert first.exit_code == 0, first.stderr
    assert "Discovery_Call.csv: 3 rows; +3 inserted" in first.stderr
    assert first.stdout == ""
    with sandbox_client(cli.sandbox.transport()) as client:
        org = Org(cli.sandbox, client, ACTIVITIES, 1)
        ticket = org.type_id("Support Ticket")
        old_call, old_ticket = (
            sorted(
                i
                for i, v in org.instances().items()
                if (v["custom_activity_type_id"] == ticket) == t
            )[0]
            for t in (False, True)
        )
        org.edit(old_call)
        org.delete(old_ticket)
        new = org.create()
    args = ["--format", "csv", "--changes-dir", str(changes), "--json"]
    second = cli("sync", "activities", "--to", mirror, *args)
    assert second.exit_code == 0, second.stderr
    report = json.loads(second.stdout)
    assert (report["mode"], report["fallback_reason"]) == ("incremental", None)
    assert report["counts"] == {"inserted": 1, "updated": 1, "deleted": 1, "rows": 5}
    ops = {i: op for per_type in _changes(changes).values() for i, op in per_type.items()}
    assert ops == {old_call: "update", old_ticket: "delete", new: "insert"}


def test_change_files_import_back_as_no_ops_and_delete_rows_as_missing(
    cli: Cli, tmp_path: Path
) -> None:
    mirror, changes = str(tmp_path / "m"), tmp_path / "changes"
    cli("sync", "activities", "--to", mirror, "--format", "csv")
    with sandbox_client(cli.sandbox.transport()) as client:
        org = Org(cli.sandbox, client, ACTIVITIES, 2)
        ids = sorted(org.instances())
        org.edit(ids[0])
        org.delete(ids[1])
    cli("sync", "activities", "--to", mirror, "--format", "csv", "--changes-dir", str(changes))
    statuses: dict[str, str] = {}
    for path in sorted(changes.iterdir()):
        reports = tmp_path / f"reports-{path.stem}"
        result = cli("validate", "activities", str(path), "--report-dir", str(reports))
        assert "_op" not in result.stderr  # an unknown-column complaint would name it
        results = pl.read_csv(next(reports.glob("*.results.csv")), infer_schema=False)
        statuses.update(zip(results["_op"], results["_status"], strict=True))
    assert statuses == {"update": "unchanged", "delete": "failed"}


def test_an_old_state_falls_back_to_a_full_export_and_says_so(cli: Cli, tmp_path: Path) -> None:
    mirror = tmp_path / "m"
    cli("sync", "activities", "--to", str(mirror))
    state = json.loads((mirror / STATE_FILE).read_text())
    state["started_at"] = "2020-01-01T00:00:00+00:00"
    (mirror / STATE_FILE).write_text(json.dumps(state))
    result = cli("-q", "sync", "activities", "--to", str(mirror), "--json")
    assert result.exit_code == 0
    days = (datetime.now(UTC) - datetime(2020, 1, 1, tzinfo=UTC)).days
    line = (
        f"sync: full export instead of reading the event log: the last run is {days} days old; "
        "Close's event log keeps 30 days"
    )
    assert line in result.stderr.splitlines()
    assert json.loads(result.stdout)["mode"] == "fallback"


def test_an_archived_type_keeps_its_file_with_a_note(cli: Cli, tmp_path: Path) -> None:
    mirror = tmp_path / "m"
    cli("sync", "activities", "--to", str(mirror))
    ticket = Org(cli.sandbox, None, ACTIVITIES).type_id("Support Ticket")  # type: ignore[arg-type]
    cli.sandbox.state.activity_types[ticket]["is_archived"] = True
    result = cli("sync", "activities", "--to", str(mirror))
    assert result.exit_code == 0
    assert (
        "Support_Ticket.parquet: archived in Close: file left as the last sync wrote it"
        in result.stderr
    )
    entry = next(t for t in load_manifest(mirror / "manifest.json").types if t.type_id == ticket)
    assert (entry.rows, entry.note) == (2, "archived in Close: file left as the last sync wrote it")
    assert (mirror / "Support_Ticket.parquet").is_file()
    cli.sandbox.state.activity_types[ticket]["is_archived"] = False
    back = cli("sync", "activities", "--to", str(mirror), "--json")
    types = {t["type_name"]: t["full"] for t in json.loads(back.stdout)["types"]}
    assert types == {"Discovery Call": False, "Support Ticket": True}  # events were skipped


def test_a_second_sync_of_one_folder_exits_2_while_the_first_holds_the_lock(
    cli: Cli, tmp_path: Path
) -> None:
    mirror = tmp_path / "m"
    mirror.mkdir()
    fd = os.open(mirror / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = cli("sync", "activities", "--to", str(mirror))
    finally:
        os.close(fd)
    assert result.exit_code == 2
    assert f"another closecsv sync is running into {mirror}" in result.stderr
    assert not (mirror / "manifest.json").exists()


def test_bad_options_exit_2_before_any_request(cli: Cli, tmp_path: Path) -> None:
    same = str(tmp_path / "m")
    result = cli("sync", "activities", "--to", same, "--changes-dir", same)
    assert result.exit_code == 2
    assert "--changes-dir must not be the sync folder" in result.stderr
    empty = cli("sync", "activities", "--to", same, "--multi-separator", "")
    assert empty.exit_code == 2
    assert "--multi-separator must not be empty" in empty.stderr
    assert sum(cli.sandbox.dispatcher.status_counts.values()) == 0


def test_a_first_sync_never_replaces_files_it_did_not_write(cli: Cli, tmp_path: Path) -> None:
    mirror = tmp_path / "m"
    mirror.mkdir()
    (mirror / "Discovery_Call.parquet").write_text("someone's file")
    result = cli("sync", "activities", "--to", str(mirror))
    assert result.exit_code == 2
    assert (
        "already holds Discovery_Call.parquet, which closecsv sync did not write" in result.stderr
    )
    assert (mirror / "Discovery_Call.parquet").read_text() == "someone's file"
    assert not (mirror / "sync_state.json").exists()
