"""The text a spreadsheet user sees in each cell of an ``.xlsx`` sheet, from the typed reads of
:mod:`closecsv.files.workbook`; and the cells that hold an Excel error.

calamine (through fastexcel) gives one column of one type per read, and coerces what does not
fit; several reads of the same range, compared, say what each cell holds:

* the **string** read: every cell as calamine writes it (text cells exactly as typed; other
  cells in calamine's own spelling, which rounds some numbers);
* the **boolean** read: non-null for number and boolean cells only (text is not coerced);
* the **duration** read: non-null for date and time cells only (cells whose number format is
  a date or time format);
* the **float** read: the stored double of number cells;
* the **datetime** read: a date cell's date and time (calamine applies the workbook's 1900 or
  1904 date system and Excel's 1900 leap-year bug).

The rules (README, "Excel files"):

* a **number** is written with at most 15 significant digits, as Excel shows it (Excel keeps
  15; the stored double may carry noise such as ``0.30000000000000004`` from ``=0.1+0.2``),
  then in plain notation without a trailing ``.0``: ``1234``, ``0.1``, ``0.00000015``,
  ``12345678901234600000``;
* a **boolean** is ``TRUE`` or ``FALSE``, as Excel shows it (boolean fields read both);
* a **date** is ``YYYY-MM-DD``; a **date-time** ``YYYY-MM-DDTHH:MM:SS`` (``.fff`` when it has
  milliseconds), naive, so ``--timezone`` applies to it as to a CSV cell; a time of day or a
  duration under a day (a value below 1) is ``HH:MM:SS``.  A duration of a day or more cannot
  be told from a date-time (both are a number with a time format) and reads as one;
* **text** is taken as it is, leading zeros and spaces included; an empty cell is empty;
* an **error** cell (``#N/A``, ``#DIV/0!``...) fails its row, naming the cell.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath

import polars as pl

DIGITS = 15  # Excel keeps 15 significant digits of a number
BIG = 10.0**DIGITS  # an integer this large has lost digits in Excel
_ERROR_CELL = re.compile(rb'<c\b([^>]*?\bt="e"[^>]*)>(?:(?!</c>).)*?<v>([^<]*)</v>', re.DOTALL)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')


def column_letter(index: int) -> str:
    """Excel's name of the 0-based column ``index``: 0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def number_text(value: float) -> str:
    """A number cell's text: 15 significant digits, plain notation, no ``.0`` (module doc)."""
    if value == 0:
        return "0"
    shown = Decimal(f"{value:.{DIGITS}g}")
    if shown == shown.to_integral_value():
        return str(int(shown))
    return format(shown.normalize(), "f")


@dataclass(frozen=True)
class TypedReads:
    """The reads of one column (see the module docstring), as Series of equal length."""

    string: pl.Series
    boolean: pl.Series
    duration: pl.Series
    floats: pl.Series
    moments: pl.Series


def cell_texts(reads: TypedReads) -> tuple[pl.Series, pl.Series]:
    """The column's cells as text, and a mask of its number cells of more than 15 digits."""
    frame = pl.DataFrame(
        {
            "s": reads.string,
            "b": reads.boolean,
            "d": reads.duration,
            "f": reads.floats,
            "m": reads.moments,
        }
    )
    is_bool = pl.col("b").is_not_null() & pl.col("s").is_in(["true", "false"])
    is_moment = pl.col("d").is_not_null() & pl.col("m").is_not_null()
    is_number = pl.col("b").is_not_null() & ~is_bool & pl.col("f").is_not_null()
    whole = (pl.col("f") == pl.col("f").round(0)) & (pl.col("f").abs() < BIG)
    plain = pl.col("f").cast(pl.Int64, strict=False).cast(pl.String)
    other = pl.col("f").map_elements(number_text, return_dtype=pl.String, skip_nulls=True)
    text = (
        pl.when(is_bool)
        .then(pl.col("s").str.to_uppercase())
        .when(is_moment)
        .then(_moment_text())
        .when(is_number & whole)
        .then(plain)
        .when(is_number)
        .then(other)
        .otherwise(pl.col("s"))
    )
    long = (
        is_number & ~is_moment & (pl.col("f").abs() >= BIG) & (pl.col("f") == pl.col("f").round(0))
    )
    out = frame.select(text.alias("text"), long.fill_null(False).alias("long"))
    return out["text"], out["long"]


def _moment_text() -> pl.Expr:
    """A date, date-time or time cell as ISO 8601 text (module docstring)."""
    moment = pl.col("m")
    under_a_day = pl.col("d") < pl.duration(days=1)
    fraction = moment.dt.millisecond() != 0
    midnight = (moment.dt.time() == pl.time(0)) & ~fraction
    return (
        pl.when(under_a_day & fraction)
        .then(moment.dt.strftime("%H:%M:%S%.3f"))
        .when(under_a_day)
        .then(moment.dt.strftime("%H:%M:%S"))
        .when(midnight)
        .then(moment.dt.strftime("%Y-%m-%d"))
        .when(fraction)
        .then(moment.dt.strftime("%Y-%m-%dT%H:%M:%S%.3f"))
        .otherwise(moment.dt.strftime("%Y-%m-%dT%H:%M:%S"))
    )


def error_cells(archive: zipfile.ZipFile, sheet_index: int) -> dict[tuple[int, str], str]:
    """The error cells of the sheet at ``sheet_index``: (sheet row, column letter) -> the
    error Excel shows (``#N/A``).  calamine reads them as empty, so the sheet's XML is
    scanned for cells of type ``e`` (a quick test skips the scan when there is none)."""
    member = _sheet_member(archive, sheet_index)
    if member is None:
        return {}
    data = archive.read(member)
    if b't="e"' not in data:
        return {}
    found: dict[tuple[int, str], str] = {}
    for match in _ERROR_CELL.finditer(data):
        ref = _CELL_REF.search(match.group(1))
        if ref is not None and not match.group(1).endswith(b"/"):
            key = (int(ref.group(2)), ref.group(1).decode())
            found[key] = match.group(2).decode(errors="replace")
    return found


def hidden_sheets(archive: zipfile.ZipFile) -> set[int]:
    """The indices of the sheets the workbook hides (``state="hidden"`` or ``veryHidden``)."""
    try:
        book = archive.read("xl/workbook.xml")
    except KeyError:
        return set()
    tags = re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", book)
    return {i for i, tag in enumerate(tags) if re.search(rb'\sstate="(?:hidden|veryHidden)"', tag)}


def _sheet_member(archive: zipfile.ZipFile, sheet_index: int) -> str | None:
    """The zip member holding the sheet's XML: the workbook names its sheets in order, each
    with a relationship id that its relationships file maps to a part."""
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    ids = re.findall(rb'<(?:\w+:)?sheet\b[^>]*?\s\w+:id="([^"]+)"', book)
    if sheet_index >= len(ids):
        return None
    for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
        tag = rel.group(0)
        rid = re.search(rb'\bId="([^"]+)"', tag)
        target = re.search(rb'\bTarget="([^"]+)"', tag)
        if rid and target and rid.group(1) == ids[sheet_index]:
            path = target.group(1).decode()
            if path.startswith("/"):
                return path.lstrip("/")
            return str(PurePosixPath("xl") / path)
    return None
