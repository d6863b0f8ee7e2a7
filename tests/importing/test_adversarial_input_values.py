"""docs/ADVERSARIAL.md C: values and types, through the CLI against a sandbox, read back from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.adversarial_input import Case, Harness, Run, both, errors_are, serve, values_are

HEAD = "custom_activity_type,lead_email,custom.Outcome,custom.Reference Code"
BIG = "x" * 1_000_000


def rows(column: str, *cells: str, head: str = HEAD) -> str:
    """One row per cell of ``column`` (quoted, quotes doubled), each on lead ``{e0}``."""
    quoted = ['"' + c.replace('"', '""') + '"' for c in cells]
    lines = [f"Discovery Call,{{e0}},Interested,R-{i},{c}" for i, c in enumerate(quoted)]
    return "\n".join([f"{head},{column}", *lines]) + "\n"


TEXTS = ("NA", "null", "None", "N/A", "#N/A", "2-Sep", "1-Mar", "  spaced  ", "00123")
FORMULAS = ("=SUM(A1:A9)", "+1 555", "-5", "@handle", "'=1+1")

CASES: dict[str, Case] = {
    "C1-leading-zeros-text": Case(rows("custom.Notes", "00123", "0000"), writes=2,
                                  check=values_are("Notes", "00123", "0000")),
    "C1-leading-zeros-number": Case(rows("custom.Duration (min)", "007"), writes=1,
                                    check=values_are("Duration (min)", 7)),
    "C2-excel-sci-number": Case(rows("custom.Duration (min)", "1.23E+11"), writes=1,
                                check=values_are("Duration (min)", 123_000_000_000)),
    "C2-excel-sci-text-warns": Case(
        "custom_activity_type,lead_email,custom.Outcome,custom.Reference Code\n"
        "Discovery Call,{e0},Interested,1.23457E+11\nDiscovery Call,{e0},Interested,4.5E+15\n",
        writes=2, says=(r"warning: column 'custom.Reference Code': 2 value\(s\) look like "
                        r"Excel scientific notation \(e.g. '1.23457E\+11' on row 2\)",),
        check=values_are("Reference Code", "1.23457E+11", "4.5E+15")),
    "C3-ambiguous-date": Case(rows("custom.Next Step Date", "03/02/2024", "2024-02-03"),
                              code=1, writes=1, check=both(
                                  errors_are("row 2: column 'custom.Next Step Date': "
                                             "'03/02/2024' is not a date (use ISO 8601 "
                                             "(YYYY-MM-DD), or pass --date-format"),
                                  values_are("Next Step Date", "2024-02-03"))),
    "C3-date-format-says-which": Case(rows("custom.Next Step Date", "03/02/2024"), writes=1,
                                      args=("--date-format", "%d/%m/%Y"),
                                      check=values_are("Next Step Date", "2024-02-03")),
    "C3-datetime-offset-and-zone": Case(
        rows("custom.Follow-up At", "2024-02-03T10:00:00Z", "2024-02-03T10:00:00+05:30",
             "2024-07-01 09:30"), args=("--timezone", "Europe/Paris"), writes=3,
        check=values_are("Follow-up At", "2024-02-03T10:00:00+00:00",  # Close stores UTC
                         "2024-02-03T04:30:00+00:00", "2024-07-01T07:30:00+00:00")),
    "C4-C6-C13-text-verbatim": Case(rows("custom.Notes", *TEXTS), writes=len(TEXTS),
                                    check=values_are("Notes", *TEXTS)),
    "C6-NA-is-a-choice": Case(rows("custom.Region", "NA"), writes=1,
                              check=values_are("Region", "NA")),
    "C7-choice-wrong-case": Case(
        f"{HEAD}\nDiscovery Call,{{e0}},interested,R-1\nDiscovery Call,{{e0}},Maybe,R-2\n",
        code=1, check=errors_are(
            "row 2: column 'custom.Outcome': 'interested' is not one of the choices of "
            "'Outcome' (Interested, Not interested, Follow up): did you mean 'Interested'?",
            "row 3: column 'custom.Outcome': 'Maybe' is not one of the choices")),
    "C8-number-formats": Case(rows("custom.Duration (min)", "1,234.50", "1.234,50", " 12 "),
                              code=1, writes=1, check=both(
                                  errors_are("'1,234.50' is not a number (write e.g. 1234.5, "
                                             "with no thousands separator)",
                                             "'1.234,50' is not a number"),
                                  values_are("Duration (min)", 12))),
    "C9-one-megabyte-cell": Case(rows("custom.Notes", BIG), writes=1,
                                 check=values_are("Notes", BIG)),
    "C10-lead-id-cells": Case(
        "custom_activity_type,lead_id,custom.Outcome,custom.Reference Code\n"
        "Discovery Call, {lead} ,Interested,R-1\nDiscovery Call,xyz_123,Interested,R-2\n"
        "Discovery Call,lead_doesnotexist,Interested,R-3\n", code=1, writes=1,
        check=errors_are("row 3: no lead has id 'xyz_123'",
                         "row 4: no lead has id 'lead_doesnotexist'")),
    "C11-identical-rows": Case(rows("custom.Notes", "same", "same").replace("R-1", "R-0"),
                               writes=2, check=values_are("Notes", "same", "same")),
    "C12-formula-lookalikes": Case(rows("custom.Notes", *FORMULAS), writes=len(FORMULAS),
                                   check=values_are("Notes", *FORMULAS[:-1], "=1+1")),
    "C12-raw-keeps-apostrophe": Case(rows("custom.Notes", "'=1+1"), args=("--raw",),
                                     writes=1, check=values_are("Notes", "'=1+1")),
}  # fmt: skip


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    yield from serve(tmp_path_factory.mktemp("adversarial-values"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_value_hazards(harness: Harness, case: Case) -> None:
    case.run(harness)


def test_empty_cells_on_create_and_update(harness: Harness) -> None:
    """C5: empty = omitted on create, unchanged on update; ``--clear-empty`` clears."""
    notes = harness.fields["Notes"]
    made = Case(rows("custom.Notes", "kept", ""), writes=2).run(harness)
    assert [f"custom.{notes}" in a for a in made.in_row_order()] == [True, False]
    first = made.in_row_order()[0]["id"]
    update = f"activity_id,custom.Notes\n{first},\n"
    again = Case(update, says=(r"unchanged\s+1",)).run(harness)
    assert harness.sandbox.state.custom_activities[first][f"custom.{notes}"] == "kept"
    cleared = Case(update, args=("--clear-empty",), writes=1, says=(r"updated\s+1",))
    _ = again, cleared.run(harness)
    assert harness.sandbox.state.custom_activities[first].get(f"custom.{notes}") is None


def test_validate_says_what_import_would_do_and_sends_nothing(harness: Harness) -> None:
    """The dry run gives the same verdicts as the import, with no write."""
    text = rows("custom.Duration (min)", "5", "five")
    checked: Run = Case(text, command="validate", code=1, says=(r"would_create\s+1",)).run(harness)
    assert checked.statuses() == [("2", "would_create"), ("3", "failed")]
