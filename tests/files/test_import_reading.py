"""Reading import files: every cell text, spreadsheet row numbers, hazards of real CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

from closecsv.errors import InputError
from closecsv.files.csvio import LONG_ROW_HINT as LONG
from closecsv.files.csvio import READ_ERROR, ROW, CsvTable, read_table
from closecsv.files.csvio import SHORT_ROW_HINT as SHORT


def _read(tmp_path: Path, data: bytes, **kwargs: object) -> CsvTable:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    return read_table(path, **kwargs)  # type: ignore[arg-type]


def _rows(table: CsvTable) -> list[tuple[object, ...]]:
    return table.frame.select(*table.columns, ROW).rows()


def test_cells_stay_text_leading_zeros_and_long_digits_survive(tmp_path: Path) -> None:
    table = _read(tmp_path, b"code,phone,n\n00123,+16505551234,12345678901234567890\n")
    assert _rows(table) == [("00123", "+16505551234", "12345678901234567890", 2)]


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    table = _read(tmp_path, b"\xef\xbb\xbflead_id,x\r\n1,2\r\n")
    assert table.columns == ["lead_id", "x"]
    assert _rows(table) == [("1", "2", 2)]


def test_quoted_newlines_are_one_row_and_rows_after_them_keep_counting(tmp_path: Path) -> None:
    data = b'a,b\n1,"two\r\nlines"\n2,"three\nmore\nlines"\n3,x\n'
    table = _read(tmp_path, data)
    assert _rows(table) == [("1", "two\r\nlines", 2), ("2", "three\nmore\nlines", 3), ("3", "x", 4)]


def test_blank_lines_are_skipped_counted_and_still_occupy_rows(tmp_path: Path) -> None:
    table = _read(tmp_path, b"a,b\n1,2\n\n   \n3,4\n,\n\n")
    assert _rows(table) == [("1", "2", 2), ("3", "4", 5)]
    assert table.blank_lines == 4


def test_rows_of_only_delimiters_are_blank_however_many(tmp_path: Path) -> None:
    table = _read(tmp_path, b",,\na,b,c\n1,2,3\n,\n , ,,,,\n4,5,6\n")
    assert table.columns == ["a", "b", "c"]
    assert _rows(table) == [("1", "2", "3", 2), ("4", "5", "6", 5)]
    assert table.blank_lines == 3


def test_blank_lines_before_the_header_are_skipped(tmp_path: Path) -> None:
    table = _read(tmp_path, b"\n\na,b\n1,2\n")
    assert (table.columns, _rows(table), table.blank_lines) == (["a", "b"], [("1", "2", 2)], 2)


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    table = _read(tmp_path, b"a,b\n")
    assert table.columns == ["a", "b"] and table.data_rows == 0


def test_classic_mac_line_endings(tmp_path: Path) -> None:
    assert _rows(_read(tmp_path, b"a,b\r1,2\r")) == [("1", "2", 2)]


def test_empty_cells_are_null_and_quoted_quotes_unescape(tmp_path: Path) -> None:
    table = _read(tmp_path, b'a,b,c\n,"",  "5"" pipe"\n'.replace(b'  "', b'"'))
    assert _rows(table) == [(None, None, '5" pipe', 2)]


def test_ragged_and_nul_rows_fail_alone(tmp_path: Path) -> None:
    table = _read(tmp_path, b'a,b\n1\n2,3\n4,5,6\n7,"x,y",z\n8,x\x00y\n9,ok\n')
    errors = table.frame.select(ROW, READ_ERROR).rows()
    assert errors == [
        (2, f"expected 2 fields (as in the header), got 1: {SHORT}"),
        (3, None),
        (4, f"expected 2 fields (as in the header), got 3: {LONG}"),
        (5, f"expected 2 fields (as in the header), got 3: {LONG}"),
        (6, "the row contains a NUL (0x00) byte; remove it"),
        (7, None),
    ]


def test_empty_unnamed_trailing_columns_are_dropped_with_a_warning(tmp_path: Path) -> None:
    table = _read(tmp_path, b"a,b,,\n1,2,,\n")
    assert table.columns == ["a", "b"] and _rows(table) == [("1", "2", 2)]
    assert "ignored 2 empty column(s) without a header" in table.warnings[0]


def test_limit_keeps_the_first_data_rows(tmp_path: Path) -> None:
    table = _read(tmp_path, b"a\n1\n\n2\n3\n", limit=2)
    assert _rows(table) == [("1", 2), ("2", 4)]


def test_cp1252_fails_naming_line_and_byte_unless_the_encoding_is_given(tmp_path: Path) -> None:
    data = "a,b\nCafé – “x”,1\n".encode("cp1252")
    with pytest.raises(InputError, match=r"not valid UTF-8 at byte 7 \(line 2\)") as info:
        _read(tmp_path, data)
    assert "--encoding cp1252" in str(info.value)
    assert _rows(_read(tmp_path, data, encoding="cp1252")) == [("Café – “x”", "1", 2)]


def test_latin1_decoding_of_cp1252_warns_about_control_characters(tmp_path: Path) -> None:
    table = _read(tmp_path, "a\n“x”\n".encode("cp1252"), encoding="latin-1")
    assert "C1 control characters" in table.warnings[0]


def test_utf16_with_bom_is_detected(tmp_path: Path) -> None:
    assert _rows(_read(tmp_path, "a,b\nü,2\n".encode("utf-16"))) == [("ü", "2", 2)]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", r"is empty: no header row"),
        (b"\n\n", r"is empty: no header row"),
        (b'a,b\n1,"open\n2,3\n4,5\n', r"a quote opened on line 2 is never closed"),
        (b'a,b\n1,2\n3,4"\n', r"line 3 has a quote inside a cell that does not start with one"),
        (b"a;b;c\n1;2;3\n", r"looks semicolon-delimited"),
        (b"a\tb\n1\t2\n", r"looks tab-delimited"),
        (b"a,b,a\n1,2,3\n", r"duplicate column\(s\) 'a'"),
        (b"a,b,,\n1,2,,x\n", r"column 4 has a value on row 2 \('x'\) but no header"),
        ("a\n1\n".encode("utf-16-le"), r"full of NUL bytes.*UTF-16"),
    ],
)
def test_file_level_problems_fail_before_anything(tmp_path: Path, data: bytes, match: str) -> None:
    with pytest.raises(InputError, match=match):
        _read(tmp_path, data)


def test_unknown_encoding_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown encoding"):
        _read(tmp_path, b"a\n", encoding="nope-8")
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "missing.csv")


def test_semicolon_files_read_with_their_delimiter(tmp_path: Path) -> None:
    table = _read(tmp_path, b"a;b\n1,5;x\n", delimiter=";")
    assert _rows(table) == [("1,5", "x", 2)]


def test_sha256_is_of_the_file_bytes(tmp_path: Path) -> None:
    import hashlib

    data = b"a\n1\n"
    assert _read(tmp_path, data).sha256 == hashlib.sha256(data).hexdigest()
