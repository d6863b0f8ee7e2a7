"""A folder holding the name of a report or of the journal is refused before anything is sent
(exit 2, naming it), not found after every row was sent, when the reports are written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.helpers.import_cli import run_cli

ROW = (
    "custom_activity_type,lead_email,date_created,custom.Outcome,custom.Reference Code\n"
    "Discovery Call,alice.smith00@example.org,2024-06-02,Interested,IN-THE-WAY-1\n"
)


@pytest.fixture(scope="module")
def url(sandbox_url: str) -> str:
    return sandbox_url


run = run_cli


def sent(url: str, tmp: Path) -> int:
    """How many activities of the test's row Close holds, read back by an export."""
    done = run(url, "export", "activities", "--type", "Discovery Call", "--out-dir", str(tmp))
    assert done.exit_code == 0, done.output
    with (tmp / "Discovery_Call.csv").open(encoding="utf-8") as fh:
        return sum(r["custom.Reference Code"] == "IN-THE-WAY-1" for r in csv.DictReader(fh))


@pytest.mark.parametrize(
    ("command", "taken"),
    [
        ("import", "calls.results.csv"),
        ("import", "calls.errors.csv"),
        ("import", "calls.journal.sqlite"),
        ("validate", "calls.validate.results.csv"),
    ],
)
def test_a_folder_with_a_report_name_is_refused_before_anything_is_sent(
    url: str, tmp_path: Path, command: str, taken: str
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(ROW, encoding="utf-8")
    (tmp_path / taken).mkdir()

    result = run(url, command, "activities", str(path))

    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"closecsv: error: cannot write {tmp_path / taken}: a folder of that name is in the way"
    )
    assert "hint: move or rename that folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["calls.csv", taken])
    assert sent(url, tmp_path / "export") == 0


def test_quiet_names_one_failed_row_in_the_singular(url: str, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(ROW.replace("Interested", "Maybe"), encoding="utf-8")

    result = run(url, "validate", "activities", str(path), "-q")

    assert result.exit_code == 1
    errors = tmp_path / "calls.validate.errors.csv"
    assert result.stderr == f"closecsv: 1 row failed; fix it in {errors}\n"
