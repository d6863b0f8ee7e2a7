"""Import headers: exact and case-sensitive, every problem at once, --map renames first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from closecsv.close.kinds import ACTIVITIES, OBJECTS
from closecsv.close.schema import FieldInfo, TypeInfo
from closecsv.errors import InputError
from closecsv.importing.headers import check_headers, load_map

OUTCOME = FieldInfo("cf_out", "Outcome", "choices", choices=("Interested", "Not interested"))
REGION = FieldInfo("cf_reg", "Region", "choices", choices=("NA", "EMEA"), is_shared=True)
TICKET = FieldInfo("cf_tic", "Ticket ID", "text", required=True)
CALL = TypeInfo(ACTIVITIES, "actitype_call", "Discovery Call", (OUTCOME, REGION))
SUPPORT = TypeInfo(ACTIVITIES, "actitype_sup", "Support Ticket", (TICKET, REGION))
DEAL = TypeInfo(OBJECTS, "cotype_deal", "Deal", (FieldInfo("cf_amt", "Amount", "number"),))


def test_standard_custom_ignored_and_readonly_columns_are_sorted_by_role() -> None:
    columns = ["lead_email", "custom.Outcome", "custom.cf_reg", "_row", "_error", "date_updated"]
    cols = check_headers(columns, ACTIVITIES, [CALL])
    assert cols.standard == {"lead_email": "lead_email"}
    assert cols.custom == {"custom.Outcome": {CALL.id: OUTCOME}, "custom.cf_reg": {CALL.id: REGION}}
    assert cols.ignored == ("_row", "_error", "date_updated")


def test_custom_columns_check_against_the_union_of_the_types_present() -> None:
    cols = check_headers(
        ["custom.Outcome", "custom.Ticket ID", "custom.Region"], ACTIVITIES, [CALL, SUPPORT]
    )
    assert cols.custom["custom.Outcome"] == {CALL.id: OUTCOME}
    assert cols.custom["custom.Ticket ID"] == {SUPPORT.id: TICKET}
    assert cols.custom["custom.Region"] == {CALL.id: REGION, SUPPORT.id: REGION}


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        (["Lead_Email"], r"unknown column 'Lead_Email': did you mean 'lead_email'\?"),
        (["Date_Created"], r"unknown column 'Date_Created': did you mean 'date_created'\?"),
        (["custom.outcome"], r"unknown column 'custom.outcome': did you mean 'custom.Outcome'\?"),
        (["custom.Nope Nope Nope"], r"no such field on the type\(s\) Discovery Call"),
        (["Notes from CRM"], r"not a column of this import \(start it with _ to carry it\)"),
        (["lead_email", "custom.Ticket ID"], r"unknown column 'custom.Ticket ID'"),
    ],
)
def test_bad_headers_fail_before_anything_with_a_suggestion(columns: list[str], match: str) -> None:
    with pytest.raises(InputError, match=match):
        check_headers(columns, ACTIVITIES, [CALL])


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(InputError) as info:
        check_headers(["Lead_Email", "custom.outcome", "bogus", "lead_id"], ACTIVITIES, [CALL])
    message = str(info.value)
    assert message.startswith("3 problem(s) with the header, nothing was sent")
    for name in ("'Lead_Email'", "'custom.outcome'", "'bogus'"):
        assert name in message
    assert "closecsv template activities TYPE" in message


def test_object_columns_differ_from_activity_columns() -> None:
    cols = check_headers(["name", "custom.Amount", "date_created"], OBJECTS, [DEAL])
    assert cols.standard == {"name": "name"} and cols.ignored == ("date_created",)
    with pytest.raises(InputError, match="unknown column 'user'"):
        check_headers(["user"], OBJECTS, [DEAL])


def test_map_renames_before_the_check_and_reports_keep_file_names(tmp_path: Path) -> None:
    mapping = {"Email": "lead_email", "Result": "custom.Outcome", "Owner": "_owner", "Gone": "x"}
    cols = check_headers(["Email", "Result", "Owner"], ACTIVITIES, [CALL], mapping)
    assert cols.standard == {"lead_email": "Email"}
    assert cols.custom == {"Result": {CALL.id: OUTCOME}}
    assert cols.ignored == ("Owner",)
    assert cols.warnings == ("--map: the file has no column 'Gone' (mapped to 'x'); entry ignored",)


def test_a_mapped_name_that_is_wrong_names_both() -> None:
    with pytest.raises(InputError, match=r"'Result' \(mapped to 'custom.outcome'\): did you mean"):
        check_headers(["Result"], ACTIVITIES, [CALL], {"Result": "custom.outcome"})


def test_two_columns_mapped_to_one_name_are_duplicates() -> None:
    with pytest.raises(InputError, match=r"columns 'Email', 'lead_email' all map to 'lead_email'"):
        check_headers(["Email", "lead_email"], ACTIVITIES, [CALL], {"Email": "lead_email"})


def test_map_files_csv_and_json(tmp_path: Path) -> None:
    csv_map = tmp_path / "map.csv"
    csv_map.write_text("from,to\nEmail,lead_email\nResult,custom.Outcome\n")
    json_map = tmp_path / "map.json"
    json_map.write_text(json.dumps({"Email": "lead_email"}))
    assert load_map(csv_map) == {"Email": "lead_email", "Result": "custom.Outcome"}
    assert load_map(json_map) == {"Email": "lead_email"}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("old,new\na,b\n", "needs the header 'from,to'"),
        ("from,to\na,b,c\n", r"line\(s\) \[2\] of the column map do not have two cells"),
        ('{"a": 1}', "must be an object of strings"),
        ("{nope", "not valid JSON"),
    ],
)
def test_bad_map_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "map.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        load_map(path)
