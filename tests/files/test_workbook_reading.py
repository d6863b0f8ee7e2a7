"""Reading a sheet of an .xlsx workbook: every cell as the text Excel shows, the sheet's own
row numbers, the sheet chosen by name, and the same header checks as for CSV."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest

from closecsv.errors import InputError
from closecsv.files.csvio import READ_ERROR, ROW, CsvTable
from closecsv.files.inputs import read_input
from closecsv.files.sheet_cells import column_letter, number_text
from tests.helpers.workbooks import Error, Formatted, Formula, write_workbook


def _book(tmp_path: Path, *rows: list[Any], name: str = "in.xlsx", **more: list[list[Any]]) -> Path:
    return write_workbook(tmp_path / name, {"Data": list(rows), **more})


def _rows(table: CsvTable) -> list[tuple[object, ...]]:
    return table.frame.select(*table.columns, ROW).rows()


def _cells(tmp_path: Path, *values: Any) -> list[object]:
    """The text each value is read as, one value a row under the header ``v``."""
    table = read_input(_book(tmp_path, ["v"], *([v] for v in values)))
    return table.frame["v"].to_list()


def test_numbers_read_as_excel_shows_them_without_a_spurious_point_zero(tmp_path: Path) -> None:
    texts = _cells(tmp_path, 1234, 1234.0, -5, 0, 0.1, 2.5, 1 / 3, 1.5e-7, 123456.789, 3000000)
    assert texts == [
        "1234",
        "1234",
        "-5",
        "0",
        "0.1",
        "2.5",
        "0.333333333333333",  # Excel shows 15 significant digits
        "0.00000015",
        "123456.789",
        "3000000",
    ]


def test_a_computed_number_is_read_as_its_cached_value_at_excels_precision(
    tmp_path: Path,
) -> None:
    """``=0.1+0.2`` is stored as 0.30000000000000004; Excel shows 0.3."""
    assert _cells(tmp_path, Formula("0.1+0.2", "0.30000000000000004"), Formula("A2", "x")) == [
        "0.3",
        "x",
    ]


def test_text_cells_keep_leading_zeros_spaces_and_digits(tmp_path: Path) -> None:
    values = ["007", Formatted("0012", "@"), " padded ", "5551234567", "1e5", "true"]
    assert _cells(tmp_path, *values) == ["007", "0012", " padded ", "5551234567", "1e5", "true"]


def test_dates_and_date_times_read_as_iso_8601_times_and_durations_as_text(
    tmp_path: Path,
) -> None:
    texts = _cells(
        tmp_path,
        dt.date(2024, 3, 1),
        dt.datetime(2024, 3, 1, 13, 5, 9),
        dt.datetime(2024, 3, 1, 0, 0),
        dt.datetime(2024, 3, 1, 13, 5, 9, 250000),
        dt.time(9, 30),
        Formatted(dt.timedelta(hours=1, minutes=30), "[h]:mm:ss"),
        dt.date(1900, 1, 1),
        "2024-01-01",
    )
    assert texts == [
        "2024-03-01",
        "2024-03-01T13:05:09",
        "2024-03-01",  # a date-time at midnight is that date: the same moment in --timezone
        "2024-03-01T13:05:09.250",
        "09:30:00",
        "01:30:00",
        "1900-01-01",
        "2024-01-01",
    ]


def test_booleans_read_as_excel_shows_them_and_empty_cells_are_empty(tmp_path: Path) -> None:
    table = read_input(_book(tmp_path, ["a", "b", "c"], [True, None, "x"], [False, "", None]))
    assert _rows(table) == [("TRUE", None, "x", 2), ("FALSE", None, None, 3)]


def test_whole_numbers_of_16_digits_or_more_warn_that_excel_lost_digits(tmp_path: Path) -> None:
    path = _book(tmp_path, ["id", "n"], [12345678901234567890, 1], [123456789012345, 2])
    table = read_input(path)
    assert table.frame["id"].to_list() == ["12345678901234600000", "123456789012345"]
    [warning] = [w for w in table.warnings if "digits" in w]
    assert warning.startswith(f"{path}, sheet 'Data', column A: 1 whole number(s) of 16 digits")
    assert "'12345678901234600000' in cell A2" in warning
    assert "the digits past the 15th are lost" in warning
    assert "format the column as Text in Excel" in warning


def test_rows_are_the_sheets_own_numbers_blank_rows_skipped_and_counted(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a", "b"], [1, 2], [], [None, "  "], [3, 4], [], [])
    table = read_input(path)
    assert _rows(table) == [("1", "2", 2), ("3", "4", 5)]
    assert table.blank_lines == 2  # rows 3 and 4; the empty rows after the last are not counted
    assert f"{path}, sheet 'Data': skipped 2 blank row(s)" in table.warnings[-1]


def test_a_header_below_blank_rows_and_right_of_blank_columns_keeps_sheet_numbers(
    tmp_path: Path,
) -> None:
    table = read_input(_book(tmp_path, [], [], [None, None, "a", "b"], [None, None, "x", 1]))
    assert (table.columns, _rows(table)) == (["a", "b"], [("x", "1", 4)])


def test_headers_are_taken_exactly_and_checked_as_for_csv(tmp_path: Path) -> None:
    table = read_input(_book(tmp_path, ["Name ", "name", 2024], ["x", "y", "z"]))
    assert table.columns == ["Name ", "name", "2024"]
    with pytest.raises(InputError, match=r"sheet 'Data': duplicate column\(s\) 'a'"):
        read_input(_book(tmp_path, ["a", "b", "a"], [1, 2, 3], name="dupes.xlsx"))
    with pytest.raises(InputError, match=r"column C has a value in cell C3 \('z'\) but no header"):
        read_input(_book(tmp_path, ["a", "b"], [1, 2], [1, 2, "z"], name="unnamed.xlsx"))
    blank = read_input(_book(tmp_path, ["a", None, "b"], [1, None, 2], name="gap.xlsx"))
    assert (blank.columns, _rows(blank)) == (["a", "b"], [("1", "2", 2)])
    assert any("ignored 1 empty column(s) without a header" in w for w in blank.warnings)


def test_an_error_cell_fails_its_row_naming_the_cell(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a", "b"], [1, Error("#N/A")], [2, 3], [Error("#DIV/0!"), 4])
    table = read_input(path)
    errors = table.frame.select(ROW, READ_ERROR).rows()
    assert errors[1] == (3, None)
    assert errors[0][1] == (
        "cell B2 (column 'b') of sheet 'Data' holds the Excel error #N/A: correct the formula "
        "or value in the workbook, or clear the cell"
    )
    assert str(errors[2][1]).startswith(
        "cell A4 (column 'a') of sheet 'Data' holds the Excel error #DIV/0!"
    )


def test_the_first_sheet_is_read_unless_sheet_names_another(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a"], [1], Second=[["b"], ["two"]], Third=[["c"], ["three"]])
    first = read_input(path)
    assert (first.columns, _rows(first)) == (["a"], [("1", 2)])
    assert first.warnings[0] == (
        "read sheet 'Data', the first of 3 Excel shows (the others: 'Second', 'Third'); "
        "pick another with --sheet"
    )
    second = read_input(path, sheet="Second")
    assert (second.columns, _rows(second), second.warnings) == (["b"], [("two", 2)], [])


def test_a_hidden_first_sheet_is_passed_over_unless_named(tmp_path: Path) -> None:
    sheets = {"Lookup": [["code"], ["A1"]], "Calls": [["a"], [1]]}
    path = write_workbook(tmp_path / "hidden.xlsx", sheets, hidden=["Lookup"])
    shown = read_input(path)
    assert (shown.columns, shown.warnings[0]) == (
        ["a"],
        "read sheet 'Calls', the first of 2 Excel shows (the others: 'Lookup'); "
        "pick another with --sheet",
    )
    assert read_input(path, sheet="Lookup").columns == ["code"]


def test_an_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a"], [1], Second=[["b"]])
    with pytest.raises(
        InputError, match=r"has no sheet named 'second'; its sheets are 'Data', 'Second'"
    ) as err:
        read_input(path, sheet="second")
    assert err.value.exit_code == 2


def test_sheet_with_a_csv_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("a\n1\n")
    with pytest.raises(
        InputError, match=r"--sheet 'Data' was given, but .*in\.csv is not an \.xlsx"
    ):
        read_input(path, sheet="Data")


def test_encoding_with_a_workbook_is_refused(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a"], ["x"])
    with pytest.raises(InputError, match=r"--encoding cp1252 was given, but .* is an \.xlsx"):
        read_input(path, encoding="cp1252")


def test_a_workbook_is_known_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a"], ["x"], name="export.csv")
    assert _rows(read_input(path)) == [("x", 2)]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"PK\x03\x04" + b"\x00" * 30 + b"xl/workbook.xml", r"not a readable \.xlsx workbook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            r"97-2003 workbook \(\.xls\), a password-protected",
        ),
    ],
)
def test_damaged_old_and_protected_workbooks_are_one_clear_line(
    tmp_path: Path, data: bytes, says: str
) -> None:
    path = tmp_path / "in.xlsx"
    path.write_bytes(data)
    with pytest.raises(InputError, match=says) as err:
        read_input(path)
    assert "Excel Workbook (.xlsx)" in str(err.value.hint)


def test_a_workbook_whose_sheet_is_cut_short_is_one_clear_line(tmp_path: Path) -> None:
    whole = _book(tmp_path, ["a"], ["x"], name="whole.xlsx")
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(cut, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if "worksheets/" in item.filename else data)
    with pytest.raises(InputError, match=r"cut\.xlsx, sheet 'Data': cannot be read \(calamine"):
        read_input(cut)


def test_an_empty_sheet_has_no_header(tmp_path: Path) -> None:
    path = _book(tmp_path, ["a"], Empty=[])
    with pytest.raises(InputError, match=r"sheet 'Empty' is empty: no header row"):
        read_input(path, sheet="Empty")


def test_limit_keeps_the_first_records(tmp_path: Path) -> None:
    table = read_input(_book(tmp_path, ["a"], [1], [], [2], [3]), limit=2)
    assert _rows(table) == [("1", 2), ("2", 4)]


@pytest.mark.parametrize(
    ("value", "text"),
    [(1e20, "100000000000000000000"), (-0.0, "0"), (1.25e-10, "0.000000000125"), (7.0, "7")],
)
def test_number_text(value: float, text: str) -> None:
    assert number_text(value) == text


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 702)] == ["A", "Z", "AA", "AZ", "AAA"]
