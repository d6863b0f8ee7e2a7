"""An errors file, fixed and imported with the same command line, imports exactly its rows.

The reports are in the input's encoding and delimiter, carry the original row as
``_source_row``, a dry run never replaces a real run's reports, and a run where nothing
failed leaves no errors file (an earlier run's is removed).  Through the CLI against a
sandbox on a socket, as a user runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from closecsv.importing.report import (
    OUTCOME_SCHEMA,
    Outcomes,
    ReportPaths,
    RowResult,
    write_reports,
)
from closecsv.importing.report_files import Dialect
from tests.helpers.adversarial_input import Harness, serve

HEAD = "custom_activity_type;lead_email;custom.Outcome;custom.Reference Code;custom.Notes"
EURO = ("--encoding", "cp1252", "--delimiter", ";")
NOTES = "Réunion à Zürich"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    yield from serve(tmp_path_factory.mktemp("reimport"))


def euro_file(h: Harness, *outcomes: str) -> bytes:
    """A European Excel file: cp1252, semicolons, one row per outcome, accents in Notes."""
    rows = [f"Discovery Call;{h.email()};{o};R-{n};{NOTES}" for n, o in enumerate(outcomes)]
    return "\r\n".join([HEAD, *rows, ""]).encode("cp1252")


def notes_of(h: Harness, created: list[dict[str, object]]) -> list[object]:
    return [c.get(f"custom.{h.fields['Notes']}") for c in created]


def test_a_cp1252_semicolon_errors_file_reimports_exactly_its_rows(harness: Harness) -> None:
    first = harness("import", "activities", euro_file(harness, "Interested", "Maybe"), *EURO)
    assert first.code == 1, first.stderr
    assert notes_of(harness, first.created) == [NOTES]
    errors = first.report("errors")
    raw = errors.read_bytes()
    assert NOTES.encode("cp1252") in raw and b";" in raw.splitlines()[0]
    [failed] = first.read_report("errors")
    assert (failed["custom.Notes"], failed["custom.Outcome"], failed["_row"]) == (
        NOTES,
        "Maybe",
        "3",
    )
    errors.write_bytes(raw.replace(b";Maybe;", b";Interested;"))  # the user's fix
    again = harness("import", "activities", errors, *EURO, report_dir=first.report_dir)
    assert again.code == 0, again.stderr
    assert notes_of(harness, again.created) == [NOTES]
    assert again.read_report()[0]["custom.Reference Code"] == "R-1"


def test_text_of_the_tool_the_encoding_cannot_hold_is_escaped_data_cells_kept(
    tmp_path: Path,
) -> None:
    paths = ReportPaths.for_input(tmp_path / "euro.csv", None)
    cells = pl.DataFrame({"row": [2], "city": ["Zürich; Genève"]})
    failed = RowResult(2, "failed", error="Close said: “stage” → not allowed")
    outcomes = Outcomes.of(pl.DataFrame(schema=OUTCOME_SCHEMA), [failed])
    write_reports(["city"], cells, outcomes, paths, Dialect("cp1252", ";"))
    text = paths.errors.read_bytes().decode("cp1252")
    assert text == (
        'city;_row;_error\r\n"Zürich; Genève";2;Close said: “stage” \\u2192 not allowed\r\n'
    )


def test_the_original_row_survives_any_number_of_reimports(harness: Harness) -> None:
    text = euro_file(harness, "Interested", "Maybe").decode("cp1252").replace(";", ",")
    first = harness("import", "activities", text)
    assert first.code == 1 and [r["_row"] for r in first.read_report("errors")] == ["3"]
    second = harness("import", "activities", first.report("errors"), report_dir=first.report_dir)
    [again] = second.read_report("errors")
    assert (again["_source_row"], again["_row"]) == ("3", "2")
    third = harness("import", "activities", second.report("errors"), report_dir=first.report_dir)
    [still] = third.read_report("errors")
    assert (still["_source_row"], still["_row"]) == ("3", "2")
    fixed = third.report("errors")
    fixed.write_bytes(fixed.read_bytes().replace(b",Maybe,", b",Interested,"))
    done = harness("import", "activities", fixed, report_dir=first.report_dir)
    assert done.code == 0, done.stderr
    assert [(r["_source_row"], r["_status"]) for r in done.read_report()] == [("3", "created")]


def test_validate_after_import_keeps_the_import_results(harness: Harness) -> None:
    path = harness.write(euro_file(harness, "Interested", "Maybe"))
    done = harness("import", "activities", path, *EURO)
    assert done.code == 1
    results, errors = done.report("results"), done.report("errors")
    kept = (results.read_bytes(), errors.read_bytes())
    checked = harness("validate", "activities", path, *EURO, "--json",
                      report_dir=done.report_dir)  # fmt: skip
    assert checked.code == 1
    assert (results.read_bytes(), errors.read_bytes()) == kept
    assert [r["_status"] for r in done.read_report()] == ["created", "failed"]
    assert done.read_report()[0]["_id"].startswith("acti_")
    assert checked.report("results").name == f"{path.stem}.validate.results.csv"
    assert [r["_status"] for r in checked.read_report()] == ["would_create", "failed"]
    assert f"{path.stem}.validate.errors.csv" in checked.stderr
    files = json.loads(checked.result.stdout)["files"]
    assert files["results"] == str(checked.report("results"))
    assert files["errors"] == str(checked.report("errors"))
    dry = harness("import", "activities", path, *EURO, "--dry-run", report_dir=done.report_dir)
    assert dry.code == 1 and (results.read_bytes(), errors.read_bytes()) == kept


def test_no_errors_file_when_nothing_failed_and_an_earlier_one_is_removed(
    harness: Harness,
) -> None:
    path = harness.write(euro_file(harness, "Interested", "Maybe"))
    before = harness("validate", "activities", path, *EURO)
    assert before.code == 1 and before.report("errors").is_file()
    path.write_bytes(euro_file(harness, "Interested", "Interested"))
    after = harness("validate", "activities", path, *EURO, "--json",
                    report_dir=before.report_dir)  # fmt: skip
    assert after.code == 0, after.stderr
    assert not after.report("errors").exists()
    assert f"removed the earlier run's {after.report('errors')}" in after.stderr
    assert json.loads(after.result.stdout)["files"]["errors"] is None
    fresh = harness("import", "activities", path, *EURO)
    assert fresh.code == 0 and not fresh.report("errors").exists()
    assert "errors " not in fresh.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cols.map.csv", "from,to\nEmail,lead_email\nNote,custom.Notes\nEmail,lead_name\n"),
        ("cols.map.json", '{\n  "Email": "lead_email",\n  "Note": "custom.Notes",\n'
                          '  "Email": "lead_name"\n}\n'),
    ],
)  # fmt: skip
def test_a_column_mapped_twice_is_refused_naming_the_lines(
    harness: Harness, name: str, text: str
) -> None:
    mapping = harness.tmp / name
    mapping.write_text(text)
    head = "custom_activity_type,Email,custom.Outcome,Note"
    data = f"{head}\nDiscovery Call,{harness.email()},Interested,x\n"
    run = harness("import", "activities", data, "--map", str(mapping))
    assert run.code == 2 and run.writes == 0
    assert f"{mapping}: the column map maps the same column more than once" in run.stderr
    assert "'Email' on lines 2, 4" in run.stderr


def test_fixes_in_the_errors_file_survive_running_the_first_command_again(
    harness: Harness,
) -> None:
    """Fix the errors file, then (by habit) rerun the original command line: the rerun
    writes its errors file again, but the fixed one is kept under a name of its own."""
    first = harness("import", "activities", euro_file(harness, "Interested", "Maybe"), *EURO)
    assert first.code == 1, first.stderr
    errors = first.report("errors")
    fixed = errors.read_bytes().replace(b";Maybe;", b";Interested;")
    errors.write_bytes(fixed)

    again = harness("import", "activities", first.path, *EURO, report_dir=first.report_dir)

    assert again.code == 1 and not again.created
    [kept] = first.report_dir.glob("*.errors.before-*.csv")
    assert kept.read_bytes() == fixed
    assert f"kept      {kept}: the earlier {errors.name}, which differed" in again.stderr
    assert b";Maybe;" in errors.read_bytes()  # this run's failed row, as the run saw it
    unchanged = harness("import", "activities", first.path, *EURO, report_dir=first.report_dir)
    assert "kept " not in unchanged.stderr  # an errors file as written is simply rewritten
    assert len(list(first.report_dir.glob("*.errors.before-*.csv"))) == 1
