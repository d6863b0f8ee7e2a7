"""Importing a sheet of an .xlsx workbook, as a user runs it (the CLI against a sandbox on a
socket): the cells as Excel shows them reach Close, the reports carry the sheet's row numbers,
the errors file is a CSV that imports back, and a rerun resumes without creating twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.adversarial_input import Harness, serve
from tests.helpers.workbooks import Error, Formula, write_workbook

CALL_HEAD = [
    "custom_activity_type",
    "lead_email",
    "date_created",
    "custom.Outcome",
    "custom.Duration (min)",
    "custom.Reference Code",
    "custom.Next Step Date",
    "custom.Follow-up At",
    "custom.Notes",
]
SHORT = {
    "minutes": "custom.Duration (min)",
    "ref": "custom.Reference Code",
    "next_step": "custom.Next Step Date",
    "follow_up": "custom.Follow-up At",
    "notes": "custom.Notes",
}
DEAL_HEAD = ["custom_object_type", "name", "lead_email", "custom.Amount", "custom.Close Date"]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    yield from serve(tmp_path_factory.mktemp("xlsx"))


def book(h: Harness, sheets: dict[str, list[list[Any]]], name: str) -> Path:
    folder = h.tmp / name
    folder.mkdir()
    return write_workbook(folder / f"{name}.xlsx", sheets)


def call(h: Harness, n: int, outcome: str = "Interested", **cells: Any) -> list[Any]:
    """A Discovery Call row on the n-th lead with a unique email."""
    row: dict[str, Any] = {
        "custom_activity_type": "Discovery Call",
        "lead_email": h.email(n),
        "date_created": dt.datetime(2024, 3, 4, 15, 30),
        "custom.Outcome": outcome,
        "custom.Reference Code": f"R-{n}",
    }
    row.update({SHORT[k]: v for k, v in cells.items()})
    return [row.get(c) for c in CALL_HEAD]


def test_an_xlsx_imports_its_cells_as_excel_shows_them_with_sheet_row_numbers(
    harness: Harness,
) -> None:
    h = harness
    rows = [
        CALL_HEAD,
        call(h, 0, minutes=45, ref="007", next_step=dt.date(2024, 3, 18)),
        [],
        call(h, 1, minutes=12.5, follow_up=dt.datetime(2024, 3, 11, 16, 0)),
        call(h, 2, minutes=Formula("0.1+0.2", "0.30000000000000004"), ref=1234),
    ]
    path = book(h, {"Calls": rows}, "typed")
    run = h("import", "activities", path, "--timezone", "Europe/Paris")
    assert run.code == 0, run.stderr
    assert run.statuses() == [("2", "created"), ("4", "created"), ("5", "created")]
    assert run.field("Duration (min)", h.fields) == [45, 12.5, 0.3]
    assert run.field("Reference Code", h.fields) == ["007", "R-1", "1234"]
    assert run.field("Next Step Date", h.fields) == ["2024-03-18", None, None]
    assert run.field("Follow-up At", h.fields)[1] == "2024-03-11T15:00:00+00:00"
    first = run.in_row_order()[0]
    assert first["date_created"].startswith("2024-03-04T14:30:00")  # 15:30 in Paris
    assert run.results()[0]["custom.Reference Code"] == "007"
    assert "skipped 1 blank row(s)" in run.stderr


def test_objects_import_from_an_xlsx_too(harness: Harness) -> None:
    h = harness
    rows = [
        DEAL_HEAD,
        ["Deal", "Umbrella licence", h.email(3), 48000, dt.date(2024, 6, 30)],
        ["Deal", "Hooli pilot", h.email(4), 7500.5, None],
    ]
    run = h("import", "objects", book(h, {"Deals": rows}, "deals"))
    assert run.code == 0, run.stderr
    assert run.statuses() == [("2", "created"), ("3", "created")]
    made = run.in_row_order()
    assert [m["name"] for m in made] == ["Umbrella licence", "Hooli pilot"]
    assert run.field("Amount", h.fields) == [48000, 7500.5]
    assert run.field("Close Date", h.fields) == ["2024-06-30", None]


def test_failed_rows_go_to_a_csv_errors_file_that_imports_back_exactly(
    harness: Harness,
) -> None:
    h = harness
    rows = [
        CALL_HEAD,
        call(h, 5),
        call(h, 6, outcome="Maybe"),
        [],
        call(h, 7, notes=Error("#N/A")),
    ]
    first = h("import", "activities", book(h, {"Calls": rows}, "failing"))
    assert first.code == 1, first.stderr
    assert first.statuses() == [("2", "created"), ("3", "failed"), ("5", "failed")]
    errors = first.report("errors")
    assert errors.name == "failing.errors.csv"
    failed = first.read_report("errors")
    assert [(f["_row"], f["custom.Reference Code"]) for f in failed] == [("3", "R-6"), ("5", "R-7")]
    assert (
        "cell I5 (column 'custom.Notes') of sheet 'Calls' holds the Excel error #N/A"
        in (failed[1]["_error"])
    )
    text = errors.read_text()
    errors.write_text(text.replace(",Maybe,", ",Interested,"))  # the user's fixes
    again = h("import", "activities", errors, report_dir=first.report_dir)
    assert again.code == 0, again.stderr
    assert sorted(c[f"custom.{h.fields['Reference Code']}"] for c in again.created) == [
        "R-6",
        "R-7",
    ]


def test_a_limited_run_then_a_full_one_creates_nothing_twice(harness: Harness) -> None:
    h = harness
    rows = [CALL_HEAD, *(call(h, n, minutes=n) for n in range(8, 12))]
    path = book(h, {"Calls": rows}, "resumed")
    trial = h("import", "activities", path, "--limit", "2")
    assert (trial.code, trial.writes, len(trial.created)) == (0, 2, 2)
    full = h("import", "activities", path, report_dir=trial.report_dir)
    assert full.code == 0, full.stderr
    assert (full.writes, len(full.created)) == (2, 2)
    assert [s for _, s in full.statuses()] == ["created"] * 4
    again = h("import", "activities", path, report_dir=trial.report_dir)
    assert (again.code, again.writes, again.created) == (0, 0, [])


def test_sheet_picks_a_sheet_and_map_renames_its_columns(harness: Harness) -> None:
    h = harness
    head = ["Type", "Email", "Outcome", "Ref"]
    other = [head, ["Discovery Call", h.email(12), "Interested", "0042"]]
    path = book(h, {"Summary": [["nothing to import"]], "Calls": other}, "mapped")
    mapping = path.with_name("map.csv")
    mapping.write_text(
        "from,to\nType,custom_activity_type\nEmail,lead_email\n"
        "Outcome,custom.Outcome\nRef,custom.Reference Code\n"
    )
    run = h("import", "activities", path, "--sheet", "Calls", "--map", str(mapping))
    assert run.code == 0, run.stderr
    assert run.statuses() == [("2", "created")]
    assert run.field("Reference Code", h.fields) == ["0042"]


def test_an_unknown_sheet_lists_the_sheets_and_sends_nothing(harness: Harness) -> None:
    h = harness
    path = book(h, {"Calls": [CALL_HEAD, call(h, 13)], "Notes": [["x"]]}, "unknown")
    for command in ("import", "validate"):
        run = h(command, "activities", path, "--sheet", "calls")
        assert (run.code, run.writes, run.result.stdout) == (2, 0, "")
        assert "has no sheet named 'calls'; its sheets are 'Calls', 'Notes'" in run.stderr


def test_sheet_with_a_csv_file_is_refused_before_anything_is_sent(harness: Harness) -> None:
    run = harness(
        "validate", "activities", "custom_activity_type\nDiscovery Call\n", "--sheet", "A"
    )
    assert (run.code, run.writes) == (2, 0)
    assert "--sheet 'A' was given, but" in run.stderr
    assert "leave it out for a CSV file" in run.stderr


def test_validate_of_an_xlsx_writes_validate_reports_with_sheet_rows(harness: Harness) -> None:
    h = harness
    rows = [CALL_HEAD, [], call(h, 14), call(h, 15, outcome="Nope")]
    run = h("validate", "activities", book(h, {"Calls": rows}, "checked"))
    assert (run.code, run.writes) == (1, 0)
    assert run.statuses() == [("3", "would_create"), ("4", "failed")]
    assert run.report("errors").name == "checked.validate.errors.csv"


def test_the_python_api_takes_sheet_as_the_cli_does(harness: Harness) -> None:
    import closecsv
    from closecsv.sandbox import SANDBOX_API_KEY

    h = harness
    path = book(h, {"About": [["notes"]], "Calls": [CALL_HEAD, call(h, 16)]}, "api")
    report = closecsv.validate(
        path,
        kind="activities",
        sheet="Calls",
        api_url=h.url,
        api_key=SANDBOX_API_KEY,
        report_dir=h.tmp / "api-reports",
    )
    assert report.counts() == {"would_create": 1}
    assert report.paths.results.name == "api.validate.results.csv"
    with pytest.raises(closecsv.InputError, match="has no sheet named 'calls'"):
        closecsv.validate(path, kind="activities", sheet="calls", api_url=h.url, api_key="k")


def test_the_sample_workbook_validates_as_it_is(harness: Harness) -> None:
    from tests.helpers.import_cli import SAMPLES

    run = harness("validate", "activities", SAMPLES / "discovery_calls_q2.xlsx", "--sheet", "Calls")
    assert run.code == 0, run.stderr
    assert run.statuses() == [(str(n), "would_create") for n in (2, 3, 5, 6)]
    assert [r["custom.Reference Code"] for r in run.results()] == [
        "00731",
        "00732",
        "00733",
        "00734",
    ]
