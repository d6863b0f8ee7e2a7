"""Files from other systems: a header the tool does not know points to --map and to
``closecsv template``; once --map renamed a column, every message names it as the file does."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.kinds import ACTIVITIES
from closecsv.errors import InputError
from closecsv.importing.headers import check_headers
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, *args])
    return result.exit_code, result.stderr


def test_foreign_headers_point_to_map_with_an_example_and_to_template() -> None:
    with pytest.raises(InputError) as info:
        check_headers(["Email", "Date", "Company", "Lead_Email"], ACTIVITIES, [])
    message = str(info.value)
    assert "unknown column 'Email': if it holds lead_email, rename it with --map" in message
    assert "unknown column 'Date': if it holds date_created, rename it with --map" in message
    assert "unknown column 'Company': if it holds lead_name, rename it with --map" in message
    assert "unknown column 'Lead_Email': did you mean 'lead_email'?" in message
    assert "--map FILE, a CSV with the header from,to" in message
    assert "e.g. Email,lead_email" in message
    assert "`closecsv template activities TYPE` writes a correct header" in message


def test_an_unknown_plain_column_still_gets_the_map_example() -> None:
    with pytest.raises(InputError) as info:
        check_headers(["Phone Ext"], ACTIVITIES, [])
    assert "e.g. Phone Ext,lead_email" in str(info.value)


def test_row_errors_name_mapped_columns_as_the_file_does(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _, url = served
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "from,to\nCall Date,date_created\nEmail,lead_email\nResult,custom.Outcome\n"
        "Kind,custom_activity_type\nRef,custom.Reference Code\n",
        encoding="utf-8",
    )
    path = tmp_path / "crm.csv"
    path.write_text(
        "Email,Kind,Result,Ref,Call Date\n"
        "alice.smith00@example.org,Discovery Call,Interested,M-1,yesterday\n"
        "alice.smith00@example.org,Discovery Call,Maybe,M-2,2024-05-01\n"
        "nobody@nowhere.example,Discovery Call,Interested,M-3,2024-05-01\n"
        "alice.smith00@example.org,Nope Call,Interested,M-4,2024-05-01\n"
        "alice.smith00@example.org,Discovery Call,Interested,,2024-05-01\n",
        encoding="utf-8",
    )
    code, err = run(url, "import", "activities", str(path), "--map", str(mapping))
    assert code == 1, err
    with (tmp_path / "crm.results.csv").open(newline="", encoding="utf-8") as fh:
        errors = {r["_row"]: r["_error"] for r in csv.DictReader(fh)}
    assert errors["2"].startswith(
        "row 2: column 'Call Date' (mapped to 'date_created'): 'yesterday' is not a date-time"
    )
    assert errors["3"].startswith(
        "row 3: column 'Result' (mapped to 'custom.Outcome'): 'Maybe' is not one of the choices"
    )
    assert errors["4"].startswith(
        "row 4: column 'Email' (mapped to 'lead_email'): no lead has email 'nobody@nowhere.example'"
    )
    assert errors["5"].startswith(
        "row 5: column 'Kind' (mapped to 'custom_activity_type'): unknown type 'Nope Call'"
    )
    assert errors["6"] == (
        "row 6: required field 'Ref' (mapped to 'custom.Reference Code') is empty: fill it, "
        "or import the row as a draft (status)"
    )


def test_an_update_of_a_missing_instance_names_the_mapped_id_column(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _, url = served
    mapping = tmp_path / "map.json"
    mapping.write_text('{"Activity ID": "activity_id", "Result": "custom.Outcome"}')
    path = tmp_path / "edits.csv"
    path.write_text("Activity ID,Result\nacti_gone,Interested\n", encoding="utf-8")
    code, err = run(url, "import", "activities", str(path), "--map", str(mapping))
    assert code == 1, err
    with (tmp_path / "edits.results.csv").open(newline="", encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["_error"] == (
        "'Activity ID' (mapped to 'activity_id') acti_gone: no such custom activity"
    )
