"""Reading one sheet of an ``.xlsx`` workbook as the same text table a CSV file gives
(:class:`~closecsv.files.csvio.CsvTable`); no HTTP.

The workbook is read with fastexcel, the calamine engine behind Polars' ``read_excel``, used
directly because it says which sheet column each read column is (for cell names such as
``K2``), lists the sheets, and reads the same range several times from one open file (the
typed reads :mod:`closecsv.files.sheet_cells` turns into the text a user sees).

**Sheet.**  ``sheet`` names the sheet (exactly); without it the first one Excel shows is read
(hidden sheets are skipped).  An unknown name is an :class:`InputError` listing the sheets.

**Rows.**  ``_row`` is the sheet's own row number, as Excel shows it.  The header is the first
row that is not blank (usually row 1; blank rows above it are skipped).  Blank rows (every cell
empty or spaces) are skipped and counted, keeping their numbers, as a CSV file's blank lines
are; blank rows after the last record are not counted.

**Columns.**  The header cells name the columns, exactly as shown (case and spaces count).  A
name given twice is an :class:`InputError`; a column without a header is dropped when it holds
nothing and an :class:`InputError` when it does, as for CSV.

**Memory.**  The whole sheet is held in memory (calamine reads a sheet whole), a few times the
size of its cells as text: a 100,000-row sheet is some hundred MB at most.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import fastexcel
import polars as pl

from closecsv.errors import InputError
from closecsv.files.csvbytes import load_bytes
from closecsv.files.csvio import READ_ERROR, ROW, CsvTable
from closecsv.files.sheet_cells import (
    TypedReads,
    cell_texts,
    column_letter,
    error_cells,
    hidden_sheets,
)

T = TypeVar("T")
_ZIP = b"PK\x03\x04"
# how calamine's string read spells a number or boolean cell, and a date or time cell: only the
# columns with such a cell are read again typed (text that looks the same is read again too)
_NUMBERISH = r"^-?(?:\d+(?:\.\d*)?|inf)$|^(?:true|false)$"
_DATEISH = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
UNREADABLE_HINT = (
    "open it in Excel and save it again as an Excel Workbook (.xlsx), without a password; "
    "or save the sheet as CSV UTF-8"
)


def is_workbook(path: Path) -> bool:
    """``path`` is an ``.xlsx``/``.xlsm`` workbook, whatever its name: a zip archive holding
    ``xl/workbook.xml`` (or, when the archive is damaged, naming it in its first bytes: the
    workbook reader then says it cannot be read)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        if not head.startswith(_ZIP):
            return False
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return b"xl/workbook.xml" in head
    except OSError:
        return False


def read_workbook(path: Path, *, sheet: str | None = None, limit: int | None = None) -> CsvTable:
    """Read ``sheet`` of the workbook ``path`` (the first by default) as text columns; see the
    module docstring.  ``limit`` keeps the first N records (the whole sheet is still checked)."""
    raw = load_bytes(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    reader = _open(raw, path)
    index = _sheet_index(reader, sheet, path, _parts(raw, hidden_sheets, set()))
    where = f"{path}, sheet {reader.sheet_names[index]!r}"
    first = _sheet(reader, index, "string", where=where)
    strings = first.to_polars()
    if strings.height == 0 or strings.width == 0:
        raise InputError(
            f"{where} is empty: no header row", hint="the first row must name the columns"
        )
    letters = [column_letter(c.absolute_index) for c in first.selected_columns]
    none: dict[tuple[int, str], str] = {}
    errors = _parts(raw, lambda archive: error_cells(archive, index), none)
    del raw
    cells, warnings = _texts(reader, index, strings, letters, where)
    cells = cells.with_columns(pl.int_range(1, cells.height + 1, dtype=pl.Int64).alias(ROW))
    table = _table(cells, letters, errors, where, limit)
    table.path = path
    table.sha256 = sha256
    table.warnings[:0] = [*_other_sheets(reader, index, sheet), *warnings]
    return table


def _parts(raw: bytes, read: Callable[[zipfile.ZipFile], T], default: T) -> T:
    """What ``read`` finds in the workbook's parts; ``default`` if the zip does not open (then
    calamine has said why)."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return read(archive)
    except (zipfile.BadZipFile, KeyError, OSError):
        return default


def _open(raw: bytes, path: Path) -> fastexcel.ExcelReader:
    try:
        return fastexcel.read_excel(raw)
    except fastexcel.FastExcelError as exc:
        reason = str(exc).splitlines()[0]
        raise InputError(
            f"{path}: not a readable .xlsx workbook ({reason})", hint=UNREADABLE_HINT
        ) from None


def _sheet_index(
    reader: fastexcel.ExcelReader, sheet: str | None, path: Path, hidden: set[int]
) -> int:
    """The sheet named ``sheet``, or the first one Excel shows (hidden sheets skipped)."""
    names = reader.sheet_names
    if not names:
        raise InputError(f"{path}: the workbook has no sheet", hint=UNREADABLE_HINT)
    if sheet is None:
        return next((i for i in range(len(names)) if i not in hidden), 0)
    if sheet in names:
        return names.index(sheet)
    listed = ", ".join(repr(n) for n in names)
    raise InputError(
        f"{path} has no sheet named {sheet!r}; its sheets are {listed}",
        hint="pass one of them with --sheet (exactly as written, case and spaces count)",
    )


def _other_sheets(reader: fastexcel.ExcelReader, index: int, sheet: str | None) -> list[str]:
    """A note that the first of several sheets was read when none was named."""
    names = reader.sheet_names
    if sheet is not None or len(names) < 2:
        return []
    others = ", ".join(repr(n) for i, n in enumerate(names) if i != index)
    return [
        f"read sheet {names[index]!r}, the first of {len(names)} Excel shows (the others: "
        f"{others}); pick another with --sheet"
    ]


def _sheet(
    reader: fastexcel.ExcelReader,
    index: int,
    dtype: fastexcel.DType,
    columns: list[str] | None = None,
    *,
    where: str = "the workbook",
) -> fastexcel.ExcelSheet:
    """One read of the sheet from its row 1 (``skip_rows=0``: no leading row is dropped, so
    frame row i is sheet row i + 1), every cell coerced to ``dtype`` (null if it cannot be).
    A sheet calamine cannot parse is an :class:`InputError`."""
    try:
        return reader.load_sheet(
            index, header_row=None, skip_rows=0, dtypes=dtype, use_columns=columns
        )
    except fastexcel.FastExcelError as exc:
        reason = str(exc).splitlines()[0]
        raise InputError(f"{where}: cannot be read ({reason})", hint=UNREADABLE_HINT) from None


def _texts(
    reader: fastexcel.ExcelReader,
    index: int,
    strings: pl.DataFrame,
    letters: list[str],
    where: str,
) -> tuple[pl.DataFrame, list[str]]:
    """Every cell as the text a user sees (columns ``c0``...), and the long-number warnings.

    Each read parses the whole sheet, so only the columns that need it are read again: those
    with a cell that may be a number or boolean (boolean read), or a date (duration read); of
    those the ones with number cells (float read) and with date cells (datetime read)."""
    booleans = _typed_read(reader, index, "boolean", _matching(strings, _NUMBERISH))
    durations = _typed_read(reader, index, "duration", _matching(strings, _DATEISH))
    floats = _typed_read(reader, index, "float", _with_values(booleans))
    moments = _typed_read(reader, index, "datetime", _with_values(durations))
    columns: list[pl.Series] = []
    warnings: list[str] = []
    for i, name in enumerate(strings.columns):
        column = strings[name]
        if name in booleans.columns or name in durations.columns:
            height = strings.height
            reads = TypedReads(
                column,
                _or_nulls(booleans, name, height, pl.Boolean()),
                _or_nulls(durations, name, height, pl.Duration("ms")),
                _or_nulls(floats, name, height, pl.Float64()),
                _or_nulls(moments, name, height, pl.Datetime("ms")),
            )
            column, long = cell_texts(reads)
            warnings += _long_warning(column, long, letters[i], where)
        columns.append(column.alias(f"c{i}"))
    return pl.DataFrame(columns), warnings


def _typed_read(
    reader: fastexcel.ExcelReader, index: int, dtype: fastexcel.DType, columns: list[str]
) -> pl.DataFrame:
    """The ``columns`` read as ``dtype``, and only the columns where some cell is one."""
    if not columns:
        return pl.DataFrame()
    frame = _sheet(reader, index, dtype, columns).to_polars()
    return frame.select(_with_values(frame))


def _matching(strings: pl.DataFrame, pattern: str) -> list[str]:
    found = strings.select(pl.col(pl.String).str.contains(pattern).any())
    return [c for c in strings.columns if found[c][0]]


def _with_values(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if frame[c].null_count() < frame.height]


def _or_nulls(frame: pl.DataFrame, name: str, height: int, dtype: pl.DataType) -> pl.Series:
    """The column ``name`` of a typed read, or nulls of its type where it was not read."""
    if name in frame.columns:
        return frame[name]
    return pl.Series(name, [None] * height, dtype=dtype)


def _long_warning(column: pl.Series, long: pl.Series, letter: str, where: str) -> list[str]:
    """The warning for integers of more than 15 digits, which Excel cannot hold exactly."""
    count = int(long.sum())
    if not count:
        return []
    first = int(long.arg_max() or 0)
    return [
        f"{where}, column {letter}: {count} whole number(s) of 16 digits or more "
        f"(e.g. {column[first]!r} in cell {letter}{first + 1}): Excel keeps 15 significant "
        "digits, so the digits past the 15th are lost; they are imported as Excel shows "
        "them. To keep them, format the column as Text in Excel and enter the values again"
    ]


def _error_column(
    errors: dict[tuple[int, str], str],
    letters: list[str],
    names: list[str],
    sheet: str,
    height: int,
) -> pl.Series:
    """``READ_ERROR`` per row: the error cells it holds, named (the row fails)."""
    by_row: dict[int, list[str]] = {}
    for (row, letter), shown in sorted(errors.items()):
        if letter in letters and row <= height:
            name = names[letters.index(letter)]
            column = f" (column {name!r})" if name else ""
            by_row.setdefault(row, []).append(
                f"cell {letter}{row}{column} of sheet {sheet} holds the Excel error {shown}"
            )
    messages: list[str | None] = [None] * height
    for row, found in by_row.items():
        messages[row - 1] = (
            f"{'; '.join(found)}: correct the formula or value in the workbook, or clear the cell"
        )
    return pl.Series(READ_ERROR, messages, dtype=pl.String)


def _table(
    cells: pl.DataFrame,
    letters: list[str],
    errors: dict[tuple[int, str], str],
    where: str,
    limit: int | None,
) -> CsvTable:
    """The header, the named columns and the records of the sheet's ``cells``."""
    width = len(letters)
    internal = [f"c{i}" for i in range(width)]
    filled = pl.any_horizontal(pl.col(c).str.strip_chars().str.len_chars() > 0 for c in internal)
    error_rows = pl.col(ROW).is_in([row for row, _ in errors])
    blank = ~filled.fill_null(False) & ~error_rows
    marked = cells.with_columns(blank.alias("blank"))
    if marked["blank"].all():
        raise InputError(
            f"{where} is empty: no header row", hint="the first row must name the columns"
        )
    header_at = int(marked["blank"].arg_min() or 0)
    names = [v or "" for v in marked.row(header_at)[:width]]
    _check_names(names, where)
    sheet = where.rsplit(", sheet ", 1)[-1]
    marked = marked.with_columns(_error_column(errors, letters, names, sheet, cells.height))
    data = marked.slice(header_at + 1)
    last = data.filter(~pl.col("blank")).select(pl.col(ROW).max()).item()
    data = data.filter(pl.col(ROW) <= (last or 0))
    keep, warnings = _named_columns(data, names, letters, where)
    frame = data.filter(~pl.col("blank")).select(
        *(pl.col(f"c{i}").alias(names[i]) for i in keep), ROW, READ_ERROR
    )
    skipped = data.height - frame.height
    if skipped:
        warnings.append(
            f"{where}: skipped {skipped} blank row(s); they keep their row numbers but are "
            "not imported"
        )
    records = data.height
    if limit is not None:
        frame = frame.head(limit)
    return CsvTable(
        path=Path(),
        columns=[names[i] for i in keep],
        frame=frame,
        blank_lines=skipped + header_at,
        sha256="",
        warnings=warnings,
        records=records,
        header_lines=header_at + 1,
        leading_blank=header_at,
    )


def _check_names(names: list[str], where: str) -> None:
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise InputError(
            f"{where}: duplicate column(s) {', '.join(repr(d) for d in dupes)}",
            hint="each column must appear once; rename or delete the copies",
        )


def _named_columns(
    data: pl.DataFrame, names: list[str], letters: list[str], where: str
) -> tuple[list[int], list[str]]:
    """The indices of the named columns; a column without a header must hold nothing."""
    unnamed = [i for i, n in enumerate(names) if n == ""]
    for i in unnamed:
        given = data.filter(pl.col(f"c{i}").is_not_null() & ~pl.col("blank")).head(1)
        if given.height:
            raise InputError(
                f"{where}: column {letters[i]} has a value in cell {letters[i]}{given[ROW][0]} "
                f"({given[f'c{i}'][0][:60]!r}) but no header",
                hint="name it in the header row (start the name with _ to carry it "
                "without importing it), or delete the column",
            )
    warnings = (
        [f"{where}: ignored {len(unnamed)} empty column(s) without a header"] if unnamed else []
    )
    return [i for i in range(len(names)) if i not in unnamed], warnings


__all__ = ["is_workbook", "read_workbook"]
