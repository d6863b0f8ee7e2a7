"""A file where every row fails still gives a complete errors file (docs/ADVERSARIAL.md H2)."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

ROWS = 100_000


def test_100k_failing_rows_are_all_in_the_errors_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["custom_activity_type", "lead_email", "custom.Ticket ID", "custom.Priority"]
        )
        for n in range(ROWS):
            writer.writerow(["Support Ticket", "alice.smith00@example.org", f"T-{n}", "Urgent"])
    with Sandbox().serve() as url:
        result = CliRunner().invoke(
            main,
            [
                "--api-url",
                url,
                "--api-key",
                SANDBOX_API_KEY,
                "-q",
                "validate",
                "activities",
                str(path),
            ],
        )
    assert result.exit_code == 1, result.stderr
    with (tmp_path / "bad.validate.errors.csv").open(encoding="utf-8", newline="") as errors:
        rows = list(csv.DictReader(errors))
    assert len(rows) == ROWS
    assert [r["_row"] for r in rows[:2]] == ["2", "3"] and rows[-1]["_row"] == str(ROWS + 1)
    assert rows[-1]["custom.Ticket ID"] == f"T-{ROWS - 1}"
    assert "'Urgent' is not one of the choices" in rows[-1]["_error"]
