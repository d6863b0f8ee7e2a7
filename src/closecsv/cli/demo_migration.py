"""The demo's migration steps: see every change before it is made, import, undo, import again.

An exported file is edited as a user would in a spreadsheet (a few cells of a few rows), the
dry run of its import shows each change in ``_changes``, the import makes them, its undo
(dry run first) puts the old values back; then the undo of one of the sample imports deletes
what it created, and the same file imports again from scratch.
"""

from __future__ import annotations

import csv
from pathlib import Path

import click

from closecsv.cli.demo_step import Step

EDITED = "calls_edited.csv"
EDITS = {"custom.Outcome": "Not interested", "custom.Notes": "Edited in the spreadsheet"}
ROWS_EDITED = 3


def undo_steps(samples: Path, out: Path) -> list[Step]:
    """The steps, for a session whose exports are in ``out/exports``."""
    reports = str(out / "reports")
    exported = out / "exports" / "Discovery_Call.csv"
    edited = out / "roundtrip" / EDITED
    results = out / "reports" / f"{edited.stem}.validate.results.csv"
    on_edit = ("activities", str(edited), "--report-dir", reports)
    steps = [
        Step(
            f"Edit {ROWS_EDITED} rows of the export, then dry-run it: _changes says what "
            "would change",
            ("validate", *on_edit),
            prepare=lambda: edit_copy(exported, edited),
            show=lambda: show_changes(results),
        ),
        Step("Import the edited file", ("import", *on_edit)),
        Step("Undo that import (dry run): what would be put back", ("undo", *on_edit, "--dry-run")),
        Step("Undo it: the old values are back", ("undo", *on_edit)),
        Step("Undo it again: nothing left to do", ("undo", *on_edit)),
    ]
    deals = samples / "deals.csv"
    if deals.exists():
        on_deals = ("objects", str(deals), "--report-dir", reports)
        steps += [
            Step("Undo the import of deals.csv (dry run)", ("undo", *on_deals, "--dry-run")),
            Step("Undo it: the deals it created are deleted", ("undo", *on_deals)),
            Step("Import deals.csv again, from scratch", ("import", *on_deals)),
        ]
    return steps


def edit_copy(source: Path, target: Path) -> None:
    """``source`` with :data:`EDITS` made to its first rows, written to ``target``."""
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows[:ROWS_EDITED]:
        row.update({k: v for k, v in EDITS.items() if k in row})
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else list(EDITS))
        writer.writeheader()
        writer.writerows(rows)


def show_changes(results: Path) -> None:
    """The rows of a results file that change something, with their ``_changes``."""
    if not results.exists():
        return
    click.secho(f"-- {results.name}: _row, _status, _changes of the rows that change", dim=True)
    with results.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("_changes"):
                click.echo(f"{row['_row']}  {row['_status']}  {row['_changes']}")
