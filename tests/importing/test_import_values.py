"""Cell values: conversion per field type, formula escaping, export cells and comparison."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closecsv.close.schema import FieldInfo
from closecsv.exporting.export_cells import api_to_cell
from closecsv.files.cells import FORMULA_TRIGGERS, neutralise, unneutralise
from closecsv.importing.values import ValueOptions, convert_cells, same_value

USERS = {"user_a": "user_a", "ada@example.com": "user_a", "Ada Lovelace": "user_a",
         "user_g": "user_g", "grace@example.com": "user_g", "Grace Hopper": "user_g",
         "Same Name": ""}  # fmt: skip
EMAILS = {"user_a": "ada@example.com", "user_g": "grace@example.com"}
CHOICES = ("Core", "Analytics", "API", "Not interested")
SINGLE = FieldInfo("cf_x", "X", "choices", choices=CHOICES)
MULTI = FieldInfo("cf_x", "X", "choices", choices=CHOICES, multiple=True)


def fld(kind: str, **kw: Any) -> FieldInfo:
    return FieldInfo("cf_x", "X", kind, **kw)


def one(f: FieldInfo, cell: str | None, **opts: Any) -> tuple[Any, str | None]:
    return convert_cells(f, [cell], ValueOptions(**opts), USERS)[0]


@pytest.mark.parametrize(
    ("kind", "cell", "value"),
    [
        ("text", "00123", "00123"),
        ("text", "NA", "NA"),
        ("textarea", "two\nlines", "two\nlines"),
        ("hidden", "1.23457E+11", "1.23457E+11"),
        ("number", "42", 42.0),
        ("number", " -1.5 ", -1.5),
        ("number", "1.23E+11", 1.23e11),
        ("date", "2024-03-04", "2024-03-04"),
        ("date", "2024-03-04T23:30:00+05:00", "2024-03-04"),
        ("datetime", "2024-03-04T10:00:00+02:00", "2024-03-04T10:00:00+02:00"),
        ("datetime", "2024-03-04 10:00Z", "2024-03-04T10:00:00+00:00"),
        ("datetime", "2024-03-04T10:00:00.25-0330", "2024-03-04T10:00:00.250-03:30"),
        ("datetime", "2024-03-04", "2024-03-04T00:00:00+00:00"),
        ("user", "ADA@example.com", "user_a"),
        ("user", "Grace Hopper", "user_g"),
        ("user", "user_g", "user_g"),
        ("text", None, None),
    ],
)
def test_cells_convert_by_field_type(kind: str, cell: str | None, value: Any) -> None:
    assert one(fld(kind), cell) == (value, None)


def test_naive_datetimes_and_dates_are_in_the_timezone() -> None:
    f = fld("datetime")
    assert one(f, "2024-07-01T09:00", timezone="Europe/Paris") == (
        "2024-07-01T09:00:00+02:00",
        None,
    )
    assert one(f, "2024-01-01", timezone="Europe/Paris") == ("2024-01-01T00:00:00+01:00", None)


def test_date_format_adds_a_layout_and_iso_still_works() -> None:
    for kind, want in (("date", "2024-04-03"), ("datetime", "2024-04-03T00:00:00+00:00")):
        assert one(fld(kind), "03/04/2024", date_format="%d/%m/%Y") == (want, None)
        assert one(fld(kind), "2024-04-03", date_format="%d/%m/%Y")[0] == want


def test_choices_exact_and_multi_values_split_and_trimmed() -> None:
    single, multi = fld("choices", choices=CHOICES), fld("choices", choices=CHOICES, multiple=True)
    assert one(single, "Core") == ("Core", None)
    assert one(multi, " Core ;API;; ") == (["Core", "API"], None)
    assert one(multi, "Core|API", multi_separator="|") == (["Core", "API"], None)
    user_multi = fld("user", multiple=True)
    assert one(user_multi, "ada@example.com; Grace Hopper") == (["user_a", "user_g"], None)


@pytest.mark.parametrize(
    ("f", "cell", "reason"),
    [
        (fld("number"), "1,234", "'1,234' is not a number"),
        (fld("number"), "nan", "'nan' is not a number"),
        (fld("date"), "03/04/2024", r"'03/04/2024' is not a date \(use ISO 8601 .* --date-format"),
        (fld("date"), "2024-02-30", "'2024-02-30' is not a date"),
        (fld("datetime"), "tomorrow", "'tomorrow' is not a date-time"),
        (SINGLE, "core", r"'core' is not one of the choices of 'X' .*did you mean 'Core'\?"),
        (MULTI, "Core;Nope", "'Nope' is not one of the choices"),
        (fld("user"), "nobody@example.com", "no single user matches 'nobody@example.com'"),
        (fld("user"), "Same Name", "no single user matches 'Same Name'"),
        (fld("user", multiple=True), "ada@example.com;zed", "no user matches 'zed'"),
    ],
)  # fmt: skip
def test_bad_cells_say_value_and_reason(f: FieldInfo, cell: str, reason: str) -> None:
    value, error = one(f, cell)
    assert value is None
    assert error is not None
    assert re.search(reason, error), error


def test_dst_gap_is_an_error_not_a_guess() -> None:
    _, error = one(fld("datetime"), "2024-03-10T02:30", timezone="America/New_York")
    assert error is not None
    assert error.startswith(
        "'2024-03-10T02:30' does not exist in America/New_York (the clocks skip it)"
    )


@pytest.mark.parametrize(
    ("cell", "back"),
    [("'=1+1", "=1+1"), ("'+1650", "+1650"), ("'-5", "-5"), ("'@SUM(A1)", "@SUM(A1)"),
     ("'\tx", "\tx"), ("'\rx", "\rx"), ("'hello", "'hello"), ("=1+1", "=1+1"), ("'", "'"),
     ("''=1", "'=1"), ("'\uff1d1", "\uff1d1"), ("''x", "''x")],
)  # fmt: skip
def test_unneutralise_removes_only_the_exporters_apostrophe(cell: str, back: str) -> None:
    assert unneutralise(cell) == back


@given(st.text(alphabet=st.sampled_from("'=+-@\t\r\uff1dab1 ")) | st.text())
def test_neutralise_round_trips_every_value_and_disarms(cell: str) -> None:
    safe = neutralise(cell)
    assert unneutralise(safe) == cell
    assert not safe.startswith(FORMULA_TRIGGERS)


def test_api_to_cell_for_export() -> None:
    assert api_to_cell(fld("number"), 42.0, EMAILS, ";") == "42"
    assert api_to_cell(fld("number"), 2.5, EMAILS, ";") == "2.5"
    assert api_to_cell(fld("user", multiple=True), ["user_a", "user_g"], EMAILS, "|") == (
        "ada@example.com|grace@example.com"
    )
    assert api_to_cell(fld("text"), None, EMAILS, ";") == ""


@pytest.mark.parametrize(
    ("given_", "current", "same"),
    [
        (42, 42.0, True),
        (42, 42.5, False),
        ("2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00.000000+00:00", True),
        ("2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00+00:00", False),
        (["Core", "API"], ["API", "Core"], True),
        (["Core", "API"], ["Core"], False),
        (None, "", True),
        ([], None, True),
        ("x", None, False),
        ("2024-01-01", "2024-01-01", True),
        (True, 1, False),
    ],
)
def test_same_value_for_unchanged_detection(given_: Any, current: Any, same: bool) -> None:
    assert same_value(given_, current) is same


def test_same_value_with_a_number_field_compares_numeric_text() -> None:
    assert same_value("42", 42.0, fld("number"))


# -- round trip: API value -> cell -> API value, for every field type ------------------

_instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
_offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
_numbers = st.integers(-(10**15), 10**15) | st.floats(allow_nan=False, allow_infinity=False)
_datetimes = st.tuples(_instants, _offsets).map(lambda p: p[0].astimezone(p[1]).isoformat())
_user_ids = st.sampled_from(["user_a", "user_g"])
_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
).filter(lambda s: s.strip() == s)
CASES: dict[str, tuple[FieldInfo, st.SearchStrategy[Any]]] = {
    "text": (fld("text"), _text),
    "textarea": (fld("textarea"), _text),
    "hidden": (fld("hidden"), _text),
    "number": (fld("number"), _numbers),
    "date": (fld("date"), st.dates(min_value=datetime(1900, 1, 1).date()).map(str)),
    "datetime": (fld("datetime"), _datetimes),
    "choices": (SINGLE, st.sampled_from(CHOICES)),
    "choices_multi": (MULTI, st.lists(st.sampled_from(CHOICES), min_size=1)),
    "user": (fld("user"), _user_ids),
    "user_multi": (fld("user", multiple=True), st.lists(_user_ids, min_size=1)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
@given(data=st.data())
def test_api_value_to_cell_and_back_is_the_same_value(case: str, data: st.DataObject) -> None:
    f, values = CASES[case]
    value = data.draw(values)
    cell = api_to_cell(f, value, EMAILS, ";")
    back, error = one(f, cell)
    assert error is None, (cell, error)
    assert same_value(back, value, f), (value, cell, back)
    if f.type in ("text", "textarea", "hidden", "date"):
        assert back == value


# -- round trip the other way: cell text -> API value -> cell -> the same API value --------

_hostile = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    | st.sampled_from(list("\"',;\r\n\t =+-@0")),
    min_size=1,
)
_spaced = st.sampled_from(["", " ", "  "])
_cell_numbers = st.one_of(
    # at most 15 significant digits: longer values are refused, not rounded
    st.from_regex(r"\A[+-]?0{0,3}[0-9]{1,9}(\.[0-9]{1,6})?\Z"),
    st.from_regex(r"\A[+-]?0{0,3}[0-9]{10,15}\Z"),
    st.from_regex(r"\A[0-9]\.[0-9]{1,5}[Ee]\+[0-9]{1,2}\Z"),
).flatmap(lambda n: st.tuples(_spaced, st.just(n), _spaced).map("".join))
_cell_dates = st.dates(min_value=datetime(1900, 1, 1).date()).map(str)
_cell_datetimes = st.tuples(_datetimes, st.sampled_from(["", "Z", "+05:30", "-0800"])).map(
    lambda p: p[0][:19] + p[1] if p[1] else p[0]
)
_multi_cells = st.lists(
    st.tuples(_spaced, st.sampled_from(CHOICES), _spaced).map("".join), min_size=1
).map(";".join)
_user_cells = st.sampled_from(["user_a", "ADA@example.com", "Grace Hopper", " grace@example.com "])
CELLS: dict[str, tuple[FieldInfo, st.SearchStrategy[str]]] = {
    "text": (fld("text"), _hostile),
    "textarea": (fld("textarea"), _hostile),
    "hidden": (fld("hidden"), _hostile),
    "number": (fld("number"), _cell_numbers),
    "date": (fld("date"), _cell_dates | _cell_datetimes),
    "datetime": (fld("datetime"), _cell_dates | _cell_datetimes),
    "choices": (SINGLE, st.tuples(_spaced, st.sampled_from(CHOICES), _spaced).map("".join)),
    "choices_multi": (MULTI, _multi_cells),
    "user": (fld("user"), _user_cells),
    "user_multi": (fld("user", multiple=True), st.lists(_user_cells, min_size=1).map(";".join)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CELLS))
@given(data=st.data())
def test_cell_to_value_to_cell_gives_the_same_value(case: str, data: st.DataObject) -> None:
    """Whatever a user types that converts, its exported cell converts to the same value;
    text (quotes, commas, line breaks, leading = + - @ and zeros, any Unicode) is kept exactly."""
    f, cells = CELLS[case]
    cell = data.draw(cells)
    value, error = one(f, cell)
    assert error is None, (cell, error)
    again = api_to_cell(f, value, EMAILS, ";")
    back, error = one(f, again)
    assert error is None, (again, error)
    assert same_value(back, value, f), (cell, value, again, back)
    if f.type in ("text", "textarea", "hidden"):
        assert value == cell == again
