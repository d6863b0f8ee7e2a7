"""One way in for an input file: a CSV file or an ``.xlsx`` workbook, read as the same text
table (:class:`~closecsv.files.csvio.CsvTable`: text cells, spreadsheet row numbers, the
file's hash).  Everything that reads an input file (import, validate, undo) goes through
:func:`read_input`, so a workbook works wherever a CSV file does."""

from __future__ import annotations

from pathlib import Path

from closecsv.errors import InputError
from closecsv.files.csvio import CsvTable, read_table
from closecsv.files.workbook import is_workbook, read_workbook


def read_input(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str = ",",
    limit: int | None = None,
    sheet: str | None = None,
) -> CsvTable:
    """Read ``path``: a workbook's ``sheet`` (the first by default), or a CSV file with
    ``encoding`` and ``delimiter``.  ``limit`` keeps the first N records.

    A workbook's reports are CSV files in UTF-8, with ``delimiter`` (so that its errors file
    imports back with the same command line); ``encoding`` is refused with one, as it could
    only garble the reports."""
    if is_workbook(path):
        if encoding is not None:
            raise InputError(
                f"--encoding {encoding} was given, but {path} is an .xlsx workbook, whose "
                "text needs no decoding",
                hint="leave out --encoding (its reports are written in UTF-8)",
            )
        return read_workbook(path, sheet=sheet, limit=limit)
    check_sheet(path, sheet)
    return read_table(path, encoding=encoding, delimiter=delimiter, limit=limit)


def check_sheet(path: Path, sheet: str | None) -> None:
    """``--sheet`` is for workbooks: given with a file that is not one, an
    :class:`InputError` (exit 2) before anything is read or sent."""
    if sheet is not None and not is_workbook(path):
        raise InputError(
            f"--sheet {sheet!r} was given, but {path} is not an .xlsx workbook",
            hint="--sheet picks a sheet of an .xlsx file; leave it out for a CSV file",
        )
