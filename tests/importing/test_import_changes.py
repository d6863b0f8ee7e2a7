"""``_changes``: every updated / would-update row says which fields change, from what to what,
in the text a user would type; the summary and the receipt count them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.helpers.import_cli import Cli


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def created_ids(cli: Cli, kind: str, sample: str) -> list[str]:
    result = cli("import", kind, str(cli.sample(sample)))
    assert result.exit_code == 0, result.output
    stem = sample.removesuffix(".csv")
    return [r["_id"] for r in read(cli.tmp / f"{stem}.results.csv")]


CALL_UPDATES = [
    # text, number, date, choices (several), user (several), empty -> value
    {
        "custom.Notes": "Budget moved to Q3.",
        "custom.Duration (min)": "50",
        "custom.Next Step Date": "2024-03-25",
        "custom.Products": "Core;API",
        "custom.Attendees": "grace@example.com",
        "custom.Follow-up At": "",
    },
    {
        "custom.Notes": "Call back after their board meeting.",  # unchanged
        "custom.Duration (min)": "30",
        "custom.Next Step Date": "2024-03-20",
        "custom.Products": "Core",
        "custom.Attendees": "grace@example.com",
        "custom.Follow-up At": "2024-03-22T09:00:00+00:00",
    },
]
CALL_CHANGES = [
    "custom.Notes: Wants the analytics add-on; budget approved for Q2. -> Budget moved to Q3."
    " | custom.Duration (min): 45 -> 50 | custom.Next Step Date: 2024-03-18 -> 2024-03-25"
    " | custom.Products: Core;Analytics -> Core;API"
    " | custom.Attendees: ada@example.com;grace@example.com -> grace@example.com",
    "custom.Follow-up At:  -> 2024-03-22T09:00:00+00:00",
]


@pytest.mark.parametrize("dry", [True, False], ids=["dry run", "real run"])
def test_changes_of_activity_updates(cli: Cli, dry: bool) -> None:
    ids = created_ids(cli, "activities", "discovery_calls.csv")
    rows = [{"activity_id": iid, **cells} for iid, cells in zip(ids, CALL_UPDATES, strict=False)]
    path = write(cli.tmp / "edits.csv", rows)
    args = ["validate"] if dry else ["import"]
    result = cli(*args, "activities", str(path), "--json")
    assert result.exit_code == 0, result.output
    name = "edits.validate.results.csv" if dry else "edits.results.csv"
    found = read(cli.tmp / name)
    status = "would_update" if dry else "updated"
    assert [r["_status"] for r in found] == [status, status]
    assert sorted(r["_changes"] for r in found) == sorted(CALL_CHANGES)
    assert list(found[0])[-2:] == ["_error", "_changes"]
    assert f"6 fields changed on 2 rows ({status})" in result.stderr
    receipt = json.loads(result.stdout)
    assert receipt["changed_fields"] == {status: 6}


def test_unchanged_and_created_rows_have_no_changes(cli: Cli) -> None:
    ids = created_ids(cli, "activities", "discovery_calls.csv")
    row = {"custom.Outcome": "Interested", "custom.Duration (min)": "45.0", "pinned": "false"}
    path = write(cli.tmp / "same.csv", [{"activity_id": ids[0], **row}])
    result = cli("import", "activities", str(path))
    assert result.exit_code == 0, result.output
    [found] = read(cli.tmp / "same.results.csv")
    assert (found["_status"], found["_changes"]) == ("unchanged", "")
    assert "changed on" not in result.stderr
    assert {r["_changes"] for r in read(cli.tmp / "discovery_calls.results.csv")} == {""}


@pytest.mark.parametrize("dry", [True, False], ids=["dry run", "real run"])
def test_changes_of_object_updates_and_a_cleared_field(cli: Cli, dry: bool) -> None:
    ids = created_ids(cli, "objects", "deals.csv")
    edits = [
        {
            "custom_object_id": ids[0],
            "custom.Amount": "52000.5",
            "custom.Stage": "Won",
            "custom.Owner": "grace@example.com",
            "custom.Notes": "",
        },
        {
            "custom_object_id": ids[1],
            "custom.Amount": "7500",
            "custom.Stage": "Prospect",
            "custom.Owner": "grace@example.com",
            "custom.Notes": "Pilot signed",
        },
    ]
    path = write(cli.tmp / "deal_edits.csv", edits)
    result = cli("validate" if dry else "import", "objects", str(path), "--clear-empty")
    assert result.exit_code == 0, result.output
    found = read(cli.tmp / ("deal_edits.validate.results.csv" if dry else "deal_edits.results.csv"))
    assert [r["_changes"] for r in found] == [
        "custom.Amount: 48000 -> 52000.5 | custom.Stage: Negotiation -> Won"
        " | custom.Owner: ada@example.com -> grace@example.com"
        " | custom.Notes: Security review pending -> ",
        "custom.Notes:  -> Pilot signed",
    ]
    status = "would_update" if dry else "updated"
    assert [r["_status"] for r in found] == [status, status]
    assert f"5 fields changed on 2 rows ({status})" in result.stderr
    deal = cli.sandbox.state.custom_objects[ids[0]]
    assert any(v == "Security review pending" for v in deal.values()) == dry


def test_a_rerun_keeps_the_changes_of_rows_an_earlier_run_updated(cli: Cli) -> None:
    """The journal keeps each update's ``_changes``: the rewritten results still say them."""
    ids = created_ids(cli, "activities", "discovery_calls.csv")
    rows = [{"activity_id": iid, **cells} for iid, cells in zip(ids, CALL_UPDATES, strict=False)]
    path = write(cli.tmp / "edits.csv", rows)
    assert cli("import", "activities", str(path)).exit_code == 0
    first = read(cli.tmp / "edits.results.csv")
    puts = cli.sandbox.state.custom_activities[ids[0]]["date_updated"]
    again = cli("import", "activities", str(path), "--json")
    assert again.exit_code == 0, again.output
    assert cli.sandbox.state.custom_activities[ids[0]]["date_updated"] == puts  # nothing sent
    assert read(cli.tmp / "edits.results.csv") == first
    assert sorted(r["_changes"] for r in first) == sorted(CALL_CHANGES)
    assert json.loads(again.stdout)["changed_fields"] == {"updated": 6}
