"""``closecsv import`` / ``validate`` end to end: CLI -> plan -> executor -> sandbox (real socket).

Exit codes, stdout (receipt) and stderr (summary, errors) are asserted separately.
"""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY
from tests.helpers.csvfiles import read_rows
from tests.helpers.import_cli import Cli


@pytest.mark.parametrize(
    ("name", "kind", "extra", "created"),
    [
        ("discovery_calls.csv", "activities", (), 10),
        ("support_tickets.csv", "activities", (), 8),
        ("deals.csv", "objects", (), 6),
        ("othercrm_calls.csv", "activities", ("--map", "othercrm_calls.map.csv"), 6),
    ],
)
def test_sample_files_validate_then_import_as_they_are(
    cli: Cli, name: str, kind: str, extra: tuple[str, ...], created: int
) -> None:
    path = cli.sample(name)
    if extra:
        extra = (extra[0], str(cli.sample(extra[1])))
    before = cli.instances()
    checked = cli("validate", kind, str(path), *extra)
    assert checked.exit_code == 0, checked.stderr
    assert f"would_create  {created:>8}" in checked.stderr and cli.instances() == before
    done = cli("import", kind, str(path), *extra)
    assert done.exit_code == 0, done.stderr
    assert done.stdout == ""
    assert f"created  {created:>8}" in done.stderr
    assert cli.instances() == before + created
    results = read_rows(path.with_name(path.stem + ".results.csv"))
    assert {r["_status"] for r in results} == {"created"} and all(r["_id"] for r in results)


def test_the_errors_sample_fails_row_by_row_and_its_fixed_errors_file_imports_only_those(
    cli: Cli,
) -> None:
    path = cli.sample("with_errors.csv")
    assert cli("validate", "activities", str(path)).exit_code == 1
    before = cli.instances()
    first = cli("import", "activities", str(path))
    assert first.exit_code == 1
    assert "errors    " in first.stderr and "with_errors.errors.csv" in first.stderr
    assert cli.instances() == before + 2
    errors_path = path.with_name("with_errors.errors.csv")
    failed = read_rows(errors_path)
    assert [r["_row"] for r in failed] == ["3", "4", "5", "6", "7", "8", "9"]
    assert "'Maybe' is not one of the choices" in failed[0]["_error"]
    fixes = {
        "custom.Outcome": "Interested",
        "custom.Duration (min)": "30",
        "custom.Next Step Date": "2024-02-28",
        "custom.Reference Code": "ERR-FIXED",
        "custom.Region": "NA",
    }
    for row in failed:
        row.update({k: v for k, v in fixes.items() if k in row})
        if row["lead_email"] == "nobody@unknown-company.test":
            row["lead_email"] = "alice.smith00@example.org"
        if row["lead_name"] == "Globex":
            row["lead_name"] = "Globex 2"
    with errors_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(failed[0]))
        writer.writeheader()
        writer.writerows(failed)
    again = cli("import", "activities", str(errors_path))
    assert again.exit_code == 0, again.stderr
    assert cli.instances() == before + 2 + 7
    assert [
        r["_status"] for r in read_rows(errors_path.with_name("with_errors.errors.results.csv"))
    ] == ["created"] * 7


def test_rerun_of_a_finished_import_sends_nothing(cli: Cli) -> None:
    path = cli.sample("deals.csv")
    assert cli("import", "objects", str(path)).exit_code == 0
    before = cli.instances()
    again = cli("import", "objects", str(path), "--json")
    assert again.exit_code == 0 and cli.instances() == before
    assert json.loads(again.stdout)["counts"] == {"created": 6}


def test_rows_appended_to_a_finished_file_continue_the_job(cli: Cli) -> None:
    path = cli.sample("deals.csv")
    assert cli("import", "objects", str(path)).exit_code == 0
    with path.open("a", encoding="utf-8") as fh:
        fh.write("Deal,Late addition,alice.smith00@example.org,10,,,,\n")
    before = cli.instances()
    again = cli("import", "objects", str(path), "--json")
    assert again.exit_code == 0, again.stderr
    assert cli.instances() == before + 1  # the new row only
    assert json.loads(again.stdout)["counts"] == {"created": 7}


def test_other_options_for_a_job_with_rows_done_are_refused_saying_which(cli: Cli) -> None:
    path = cli.sample("deals.csv")
    assert cli("import", "objects", str(path)).exit_code == 0
    before = cli.instances()
    refused = cli("import", "objects", str(path), "--timezone", "Europe/Paris")
    assert refused.exit_code == 2 and cli.instances() == before and refused.stdout == ""
    assert "--timezone 'UTC' -> 'Europe/Paris'" in refused.stderr
    assert "6 row(s) already sent would be sent again" in refused.stderr
    assert "delete" not in refused.stderr


def test_a_wrong_case_header_is_refused_before_any_write(cli: Cli) -> None:
    path = cli.tmp / "calls.csv"
    path.write_text(
        "custom_activity_type,Lead_Email,custom.Outcome,custom.Reference Code\n"
        "Discovery Call,alice.smith00@example.org,Interested,X-1\n",
        encoding="utf-8",
    )
    before = cli.instances()
    result = cli("import", "activities", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert "Lead_Email" in result.stderr and "did you mean 'lead_email'?" in result.stderr
    assert cli.instances() == before
    assert not (cli.tmp / "calls.journal.sqlite").exists()


def test_json_receipt_on_stdout_and_no_key_anywhere(cli: Cli) -> None:
    path = cli.sample("support_tickets.csv")
    result = cli("import", "activities", str(path), "--json", "--report-dir", str(cli.tmp / "r"))
    assert result.exit_code == 0
    receipt = json.loads(result.stdout)
    assert receipt["counts"] == {"created": 8} and receipt["input"]["rows"] == 8
    assert len(receipt["input"]["sha256"]) == 64 and receipt["requests"] >= 8
    assert receipt["files"]["journal"] == str(cli.tmp / "r" / "support_tickets.journal.sqlite")
    written = b"".join(p.read_bytes() for p in (cli.tmp / "r").iterdir())
    for text in (result.stdout, result.stderr, written.decode("utf-8", "replace")):
        assert SANDBOX_API_KEY not in text


def test_quiet_prints_nothing_but_errors(cli: Cli) -> None:
    path = cli.sample("with_errors.csv")
    result = CliRunner().invoke(
        main,
        ["--api-url", cli.url, "-q", "import", "activities", str(path)],
        env={"CLOSE_API_KEY": SANDBOX_API_KEY},
    )
    errors = path.with_name("with_errors.errors.csv")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"closecsv: 7 rows failed; fix them in {errors}\n"
