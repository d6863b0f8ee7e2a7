"""Values that used to be accepted or rounded without a word, decimal commas and user names
in any case: each a clear row error or an exact value in Close."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.schema import FieldInfo
from closecsv.close.users import user_index
from closecsv.importing.values import ValueOptions, convert_cells
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

NUMBER = FieldInfo("cf_n", "N", "number")
DATETIME = FieldInfo("cf_d", "D", "datetime")
USER = FieldInfo("cf_u", "U", "user")
HEADER = "lead_email,custom_activity_type,custom.Outcome,custom.Reference Code,"


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, *args])
    return result.exit_code, result.stderr


def by_reference(sandbox: Sandbox, reference: str, field: str) -> list[Any]:
    """The ``field`` values of the activities whose Reference Code is ``reference``."""
    ids = {f["name"]: f["id"] for f in sandbox.state.fields.values()}
    ref, key = f"custom.{ids['Reference Code']}", f"custom.{ids[field]}"
    acts = sandbox.state.custom_activities.values()
    return [a.get(key) for a in acts if a.get(ref) == reference]


def results(path: Path, delimiter: str = ",") -> dict[str, dict[str, str]]:
    """A results file by ``_row``; it is written with the input's delimiter."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["_row"]: r for r in csv.DictReader(fh, delimiter=delimiter)}


def one(fld: FieldInfo, cell: str, users: dict[str, str] | None = None, **opts: Any) -> Any:
    return convert_cells(fld, [cell], ValueOptions(**opts), users)[0]


# -- 2. --decimal-comma ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"), [("12,5", 12.5), ("1.234,5", 1234.5), ("-0,5", -0.5), ("7", 7.0)]
)
def test_decimal_comma_reads_european_numbers(cell: str, value: float) -> None:
    assert one(NUMBER, cell, decimal_comma=True) == (value, None)


def test_decimal_comma_refuses_a_point_as_decimal_mark() -> None:
    value, error = one(NUMBER, "1,234.5", decimal_comma=True)
    assert value is None
    assert error is not None and "'1,234.5' is not a number" in error
    assert "--decimal-comma" in error


def test_decimal_comma_import_stores_the_numbers_and_names_bad_cells(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = served
    path = tmp_path / "eu.csv"
    path.write_text(
        HEADER.replace(",", ";") + "custom.Duration (min)\n"
        "alice.smith00@example.org;Discovery Call;Interested;DC-1;12,5\n"
        "alice.smith00@example.org;Discovery Call;Interested;DC-2;1.234,5\n"
        "alice.smith00@example.org;Discovery Call;Interested;DC-3;1,234.5\n",
        encoding="utf-8",
    )
    code, err = run(url, "import", "activities", str(path), "--delimiter", ";", "--decimal-comma")
    assert code == 1, err
    assert by_reference(sandbox, "DC-1", "Duration (min)") == [12.5]
    assert by_reference(sandbox, "DC-2", "Duration (min)") == [1234.5]
    assert by_reference(sandbox, "DC-3", "Duration (min)") == []
    error = results(tmp_path / "eu.results.csv", ";")["4"]["_error"]
    assert error.startswith("row 4: column 'custom.Duration (min)': '1,234.5' is not a number")


# -- 3. user names in any case ---------------------------------------------------------------


def _users(*names: tuple[str, str, str]) -> dict[str, str]:
    people = [
        {"id": i, "first_name": f, "last_name": "", "email": f"{i}@x.org"} for i, f, _ in names
    ]
    for person, (_, _, last) in zip(people, names, strict=True):
        person["last_name"] = last
    return user_index(people, people[0]["id"]).by_key


def test_user_names_match_in_any_case_with_a_hint_for_unknown_ones() -> None:
    users = _users(("user_g", "Grace", "Hopper"), ("user_a", "Ada", "Lovelace"))
    assert one(USER, "grace hopper", users) == ("user_g", None)
    assert one(USER, "GRACE HOPPER", users) == ("user_g", None)
    assert one(USER, "USER_G@X.ORG", users) == ("user_g", None)
    value, error = one(USER, "Grace Hoper", users)
    assert value is None
    assert error == "no single user matches 'Grace Hoper': did you mean 'Grace Hopper'?"


def test_names_that_differ_only_by_case_exact_wins_otherwise_ambiguous() -> None:
    users = _users(("user_1", "Sam", "Lee"), ("user_2", "SAM", "LEE"))
    assert one(USER, "Sam Lee", users) == ("user_1", None)
    assert one(USER, "SAM LEE", users) == ("user_2", None)
    value, error = one(USER, "sam lee", users)
    assert value is None
    assert error == (
        "no single user matches 'sam lee': ignoring case it matches 'Sam Lee', 'SAM LEE'; "
        "write one exactly, or the email"
    )


def test_a_lower_case_user_name_imports_as_that_user(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = served
    path = tmp_path / "users.csv"
    path.write_text(
        HEADER + "user,custom.Attendees\n"
        "alice.smith00@example.org,Discovery Call,Interested,U-1,grace hopper,ADA LOVELACE\n",
        encoding="utf-8",
    )
    code, err = run(url, "import", "activities", str(path))
    assert code == 0, err
    grace = next(u["id"] for u in sandbox.state.users.values() if u["first_name"] == "Grace")
    ada = next(u["id"] for u in sandbox.state.users.values() if u["first_name"] == "Ada")
    assert by_reference(sandbox, "U-1", "Attendees") == [[ada]]
    [act] = [a for a in sandbox.state.custom_activities.values() if a.get("user_id") == grace]
    assert act["user_id"] == grace


# -- 5. values that were accepted or lost silently ---------------------------------------------


def test_a_local_time_that_happens_twice_needs_its_offset() -> None:
    value, error = one(DATETIME, "2024-11-03T01:30", timezone="America/New_York")
    assert value is None
    assert error == (
        "'2024-11-03T01:30' happens twice in America/New_York (the clocks go back then): add "
        "the offset you mean, -04:00 for the first or -05:00 for the second, "
        "e.g. 2024-11-03T01:30:00-04:00"
    )
    assert one(DATETIME, "2024-11-03T01:30-05:00", timezone="America/New_York") == (
        "2024-11-03T01:30:00-05:00",
        None,
    )


def test_a_local_time_the_clocks_skip_needs_its_offset() -> None:
    value, error = one(DATETIME, "2024-03-10T02:30", timezone="America/New_York")
    assert value is None
    assert error == (
        "'2024-03-10T02:30' does not exist in America/New_York (the clocks skip it): add the "
        "offset you mean, -05:00 (before the change) or -04:00 (after it), "
        "e.g. 2024-03-10T02:30:00-05:00"
    )


@pytest.mark.parametrize("cell", ["2024-06-30T12:00:60Z", "2024-06-30T12:00:60"])
def test_a_leap_second_is_a_row_error(cell: str) -> None:
    value, error = one(DATETIME, cell)
    assert value is None
    assert error == (
        f"'{cell}' has the second 60 (a leap second), which Close does not store: "
        "write :59, or 00 of the next minute"
    )


def test_a_leap_second_in_a_custom_format_or_a_date_field_is_a_row_error() -> None:
    value, error = one(DATETIME, "30/06/2024 12:00:60", date_format="%d/%m/%Y %H:%M:%S")
    assert value is None and error is not None and "has the second 60" in error
    day = FieldInfo("cf_day", "Day", "date")
    value, error = one(day, "2024-06-30T23:59:60Z")  # would have become 2024-07-01
    assert value is None and error is not None and "has the second 60" in error


@pytest.mark.parametrize(
    "cell", ["2024-06-30T12:00:00+25:00", "2024-06-30T12:00:00-14:30", "2024-06-30T12:00+0575"]
)
def test_an_offset_no_zone_has_is_a_row_error(cell: str) -> None:
    value, error = one(DATETIME, cell)
    assert value is None
    assert error is not None and error.startswith(f"'{cell}' has an offset beyond +/-14:00")


@pytest.mark.parametrize("cell", ["2024-06-30T12:00:00+14:00", "2024-06-30T12:00:00-12:00"])
def test_the_farthest_real_offsets_pass(cell: str) -> None:
    assert one(DATETIME, cell) == (cell, None)


@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("9007199254740993", "9007199254740992"),
        ("0.1000000000000000055511151231257827", "0.1"),
        ("12345678901234567890", "1.2345678901234567e+19"),
    ],
)
def test_a_number_a_json_number_cannot_hold_exactly_is_a_row_error(cell: str, stored: str) -> None:
    value, error = one(NUMBER, cell)
    assert value is None
    assert error == (
        f"'{cell}' has more significant digits than a number field holds exactly (it would be "
        f"stored as {stored}): round it to 15 significant digits, or keep such values in a "
        "text field"
    )


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("9007199254740992", 9007199254740992.0),
        ("0.10000000000000000", 0.1),
        ("123456789012345", 123456789012345.0),
    ],
)
def test_long_numbers_that_are_exact_pass(cell: str, value: float) -> None:
    assert one(NUMBER, cell) == (value, None)


def test_big_whole_numbers_reach_close_as_exact_integers(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = served
    path = tmp_path / "big.csv"
    path.write_text(
        HEADER + "custom.Duration (min),custom.Follow-up At\n"
        "alice.smith00@example.org,Discovery Call,Interested,B-1,9007199254740992,\n"
        "alice.smith00@example.org,Discovery Call,Interested,B-2,9007199254740993,\n"
        "alice.smith00@example.org,Discovery Call,Interested,B-3,,2024-06-30T12:00:60Z\n",
        encoding="utf-8",
    )
    code, err = run(url, "import", "activities", str(path))
    assert code == 1, err
    [big] = by_reference(sandbox, "B-1", "Duration (min)")
    assert big == 9007199254740992 and isinstance(big, int)
    assert by_reference(sandbox, "B-2", "Duration (min)") == []
    assert by_reference(sandbox, "B-3", "Follow-up At") == []
    report = results(tmp_path / "big.results.csv")
    assert "'9007199254740993' has more significant digits" in report["3"]["_error"]
    assert "'2024-06-30T12:00:60Z' has the second 60" in report["4"]["_error"]


def test_decimal_comma_is_part_of_the_job_a_rerun_must_repeat(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    """The same file read without --decimal-comma would send other numbers: not the same job."""
    _, url = served
    path = tmp_path / "eu.csv"
    path.write_text(
        HEADER + "custom.Duration (min)\n"
        'alice.smith00@example.org,Discovery Call,Interested,DJ-1,"12,5"\n',
        encoding="utf-8",
    )
    code, err = run(url, "import", "activities", str(path), "--decimal-comma")
    assert code == 0, err
    code, err = run(url, "import", "activities", str(path))
    assert code == 2
    assert "journal" in err
