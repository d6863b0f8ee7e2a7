"""Writing ``.xlsx`` workbooks for tests with openpyxl: typed cells (numbers, dates, booleans,
text with leading zeros), error cells, formulas with the value Excel would have cached, and
several sheets."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook


@dataclass(frozen=True)
class Error:
    """An error cell, shown as ``text`` (``#N/A``, ``#DIV/0!``)."""

    text: str = "#N/A"


@dataclass(frozen=True)
class Formula:
    """A formula cell holding ``cached``, the value Excel computed when it saved the file."""

    formula: str
    cached: str


@dataclass(frozen=True)
class Formatted:
    """A value with an Excel number format (``"0.00"``, ``"[h]:mm:ss"``, ``"@"`` for text)."""

    value: Any
    number_format: str


def write_workbook(
    path: Path, sheets: Mapping[str, Sequence[Sequence[Any]]], hidden: Sequence[str] = ()
) -> Path:
    """Write ``sheets`` (name -> rows, from row 1; ``None`` is an empty cell) to ``path``;
    the sheets named in ``hidden`` are hidden."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    cached: dict[str, str] = {}
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        if name in hidden:
            sheet.sheet_state = "hidden"
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, Error):
                    cell.value = value.text
                    cell.data_type = "e"
                elif isinstance(value, Formula):
                    cell.value = f"={value.formula}"
                    cached[value.formula] = value.cached
                elif isinstance(value, Formatted):
                    cell.value = value.value
                    cell.number_format = value.number_format
                elif value is not None:
                    cell.value = value
    book.save(path)
    if cached:
        _cache_formulas(path, cached)
    return path


def _cache_formulas(path: Path, cached: Mapping[str, str]) -> None:
    """Put the cached values in (openpyxl writes formulas without one, Excel with one)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.xlsx"
        shutil.copy(path, copy)
        with zipfile.ZipFile(copy) as src, zipfile.ZipFile(path, "w") as dst:
            for item in src.infolist():
                data = src.read(item)
                if item.filename.startswith("xl/worksheets/"):
                    for formula, value in cached.items():
                        data = re.sub(
                            rb"<f>" + re.escape(formula.encode()) + rb"</f><v\s*/>",
                            b"<f>" + formula.encode() + b"</f><v>" + value.encode() + b"</v>",
                            data,
                        )
                dst.writestr(item, data)
