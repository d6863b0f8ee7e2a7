"""Reading CSV files with Polars; no HTTP.  (Files are written by :mod:`closecsv.files.writers`
and :mod:`closecsv.importing.report_files`.)

Reading (:func:`read_table`) keeps every cell as text: nothing is type-inferred, so leading
zeros, long digit strings and phone numbers survive.  Empty cells are ``null`` in the frame.

**Row numbers.**  ``_row`` is the row a spreadsheet shows for a record: the header is row 1,
the first record row 2.  A record with line breaks inside a quoted cell is still one row, and
blank lines *do* occupy rows (a spreadsheet shows them as empty rows), so the record after
one blank line is two rows further on.  Blank lines before the header are skipped and
counted but not numbered.  Blank lines (empty, or only spaces and delimiters: Excel writes
``,,,`` for formatted empty rows, not always as many as the header has) and records whose
cells are all empty (``"",""``) are skipped and counted in ``blank_lines``.

**Problems.**  File-level problems raise :class:`InputError` (exit 2): not UTF-8 (line and
byte offset, with an ``--encoding`` hint), an unterminated quote (its line), an empty file,
duplicate or missing header names, a file that looks semicolon-, tab- or comma-delimited
(a header of one column holding another delimiter).  Record level problems (a row with too
few or too many cells, a NUL byte, a carriage return outside quotes that is not part of a
CRLF: Excel and Python's :mod:`csv` end a row there, so the row is refused rather than
guessed at) are put on the record in the ``READ_ERROR`` column: that row fails, the others
go on.

The per-record work is vectorised: a second, quote-blind Polars pass over the lines
(:mod:`closecsv.files.csvlines`) gives each line's quote parity, from which records, blank lines
and cell counts follow.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from closecsv.errors import InputError
from closecsv.files.csvbytes import bom_encoding, load_bytes, to_utf8
from closecsv.files.csvlines import (
    LINE,
    QUOTE_HINT,
    check_bare_quotes,
    check_quotes,
    line_frame,
    records_of,
    separators,
)

ROW = "__closecsv_row"
READ_ERROR = "__closecsv_read_error"
SHORT_ROW_HINT = (
    "add the missing cells (empty ones too) or remove the line break that split the row"
)
LONG_ROW_HINT = "a cell that contains the delimiter must be wrapped in quotes"
LONE_CR = (
    "has a carriage return (CR) outside quotes, which other programs read as the end of a "
    "row: if two rows were joined there, put a line break between them; if the CR belongs "
    "in the cell, wrap the cell in quotes"
)


@dataclass
class CsvTable:
    """A CSV file read as text: ``frame`` has one String column per header plus ``ROW``
    (Int64 spreadsheet row) and ``READ_ERROR`` (String, null when the record is fine)."""

    path: Path
    columns: list[str]
    frame: pl.DataFrame
    blank_lines: int
    sha256: str
    warnings: list[str] = field(default_factory=list)
    records: int = 0  # records after the header, blank ones and those past ``limit`` too
    header_lines: int = 0  # lines up to the header's end (blank lines before it, too)
    leading_blank: int = 0  # blank records before the header (in ``blank_lines`` too)
    encoding: str = "utf-8"  # the file's: ``--encoding``, a UTF-16/32 BOM's, or UTF-8

    @property
    def data_rows(self) -> int:
        return self.frame.height


def read_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str = ",",
    limit: int | None = None,
) -> CsvTable:
    """Read ``path`` as text columns; see the module docstring for rows and errors.

    ``encoding`` decodes a file that is not UTF-8 (``cp1252``, ``utf-16``, ...); without it a
    UTF-8 BOM is skipped and a UTF-16/32 BOM selects that encoding.  ``limit`` keeps only the
    first N data rows (after blank ones are skipped); the whole file is still checked.
    """
    raw = load_bytes(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    warnings: list[str] = []
    used = encoding or bom_encoding(raw) or "utf-8"
    data = to_utf8(raw, encoding, path, warnings)
    del raw  # each copy of the file let go of as soon as it is done with: peak memory
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # classic Mac line endings
    table = parse_table(data, path, delimiter=delimiter, limit=limit, sha256=sha256)
    table.warnings[:0] = warnings
    table.encoding = used
    table.warnings += blank_warning(path, table.blank_lines)
    return table


def parse_table(
    data: bytes,
    path: Path,
    *,
    delimiter: str = ",",
    limit: int | None = None,
    sha256: str = "",
    row_offset: int = 0,
    line_offset: int = 0,
) -> CsvTable:
    """Read UTF-8 ``data`` (no BOM) from ``path`` as :func:`read_table` does, without the
    blank-lines warning; ``row_offset`` is added to every ``ROW`` and ``line_offset`` to the
    line a row's error names (for a slice of a file read behind the file's header lines,
    :mod:`closecsv.importing.dryrun`).
    """
    warnings: list[str] = []
    lines = line_frame(data, path)
    check_quotes(lines, delimiter, path)
    records = records_of(lines, b"\x00" in data, delimiter, line_offset)
    header_rec = _header_record(records, path)
    names = _parse_header(lines, header_rec, delimiter, path)
    header_line = int(records["line"][header_rec])
    after = records["line"][header_rec + 1] if header_rec + 1 < records.height else None
    header_lines = lines.height if after is None else int(after) - 1
    frame, maybe_long = _read_cells(data, header_line - 1, names, delimiter, path, lines)
    del data
    data_recs = records.slice(header_rec + 1)
    if data_recs.height != frame.height:
        raise InputError(
            f"found {frame.height} records where the lines say {data_recs.height}",
            hint="check the file's quoting; re-save it from a spreadsheet as CSV UTF-8",
        )
    # Only a record whose last cell is missing can be short, and one can be long only if
    # Polars met one: count the cells of those alone (the count is a regex over the line).
    last = frame[frame.columns[-1]].is_null()
    counted = data_recs.filter(last | maybe_long)["rec"] if frame.width else data_recs["rec"]
    seps = separators(lines, counted, delimiter)
    del lines
    frame = _attach_records(frame, data_recs, seps, header_rec - row_offset, names)
    frame, names = _drop_unnamed(frame, names, path, warnings)
    frame, blanks = _drop_blank(frame, names)
    if limit is not None:
        frame = frame.head(limit)
    return CsvTable(
        path=path,
        columns=names,
        frame=frame,
        blank_lines=blanks + header_rec,
        sha256=sha256,
        warnings=warnings,
        records=data_recs.height,
        header_lines=header_lines,
        leading_blank=header_rec,
    )


def blank_warning(path: Path, blank_lines: int) -> list[str]:
    """The warning for ``blank_lines`` skipped lines (none for 0)."""
    if not blank_lines:
        return []
    return [
        f"{path}: skipped {blank_lines} blank line(s) (empty, spaces or only "
        "delimiters); they keep their row numbers but are not imported"
    ]


def _header_record(records: pl.DataFrame, path: Path) -> int:
    """Index of the header record: the first one that is not blank."""
    if records["blank"].all():
        raise InputError(
            f"{path} is empty: no header row", hint="the first line must name the columns"
        )
    return int(records["blank"].arg_min() or 0)


def _parse_header(lines: pl.DataFrame, header_rec: int, sep: str, path: Path) -> list[str]:
    starts = lines.filter(~pl.col("before"))["lineno"]
    first = int(starts[header_rec])
    last = int(starts[header_rec + 1]) - 1 if header_rec + 1 < len(starts) else lines.height
    text = "\n".join(lines[LINE][first - 1 : last].to_list())
    names = next(csv.reader(io.StringIO(text), delimiter=sep))
    _check_header_shape(names, sep, path)
    return names


def _check_header_shape(names: list[str], sep: str, path: Path) -> None:
    if len(names) == 1:
        for other, label in ((";", "semicolon"), ("\t", "tab"), (",", "comma")):
            if other != sep and other in names[0]:
                hint = f"save it as 'CSV UTF-8 (Comma delimited)', or pass --delimiter {other!r}"
                if other == ",":  # the file is fine as it is: only the option is wrong
                    hint = "leave out --delimiter (comma is the default)"
                raise InputError(
                    f"{path} has a single column {names[0][:60]!r}: it looks {label}-delimited",
                    hint=hint,
                )
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise InputError(
            f"{path}: duplicate column(s) {', '.join(repr(d) for d in dupes)}",
            hint="each column must appear once; rename or delete the copies",
        )


def _read_cells(
    data: bytes, skip: int, names: list[str], sep: str, path: Path, lines: pl.DataFrame
) -> tuple[pl.DataFrame, bool]:
    """The cells as text (empty: null), and whether some record had more cells than the
    header (those are cut to the header's width and then found by :func:`_separators`)."""
    internal = [f"c{i}" for i in range(len(names))]

    def read(truncate: bool) -> pl.DataFrame:
        return pl.read_csv(
            data,
            skip_lines=skip,
            separator=sep,
            infer_schema=False,
            new_columns=internal,
            truncate_ragged_lines=truncate,
            empty_string_is_null=True,
        )

    maybe_long = False
    try:
        try:
            frame = read(truncate=False)
        except pl.exceptions.ComputeError as exc:
            if "more fields" not in str(exc):
                raise
            frame, maybe_long = read(truncate=True), True
    except pl.exceptions.PolarsError as exc:
        check_bare_quotes(lines, sep, path)
        raise InputError(
            f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})", hint=QUOTE_HINT
        ) from None
    cells = frame.select(internal[: frame.width])
    # a quoted empty cell ("") is read as "", not null; only columns holding one are rewritten
    quoted_empty = cells.select((pl.all() == "").any())
    fix = [c for c in cells.columns if quoted_empty[c][0]]
    return cells.with_columns(pl.col(c).replace("", None) for c in fix), maybe_long


def _attach_records(
    frame: pl.DataFrame,
    data_recs: pl.DataFrame,
    seps: pl.DataFrame,
    shift: int,
    names: list[str],
) -> pl.DataFrame:
    """Add ``ROW``, ``READ_ERROR`` and ``blank`` from the line pass to the cells.

    ``ROW`` is the record's number less ``shift`` (the header's index, so that the first
    record after the header is row 2).  ``seps`` holds the separator count of the records
    that may have the wrong number of cells; the others have as many as the header.
    """
    width = len(names)
    cells = pl.col("seps").fill_null(width - 1) + 1
    problem = (
        pl.when(pl.col("nul"))
        .then(pl.lit("the row contains a NUL (0x00) byte; remove it"))
        .when(~pl.col("blank") & pl.col("cr").is_not_null())
        .then(pl.format(f"line {{}} {LONE_CR}", pl.col("cr")))
        .when(~pl.col("blank") & (cells < width))
        .then(
            pl.format(
                f"expected {width} fields (as in the header), got {{}}: {SHORT_ROW_HINT}", cells
            )
        )
        .when(~pl.col("blank") & (cells > width))
        .then(
            pl.format(
                f"expected {width} fields (as in the header), got {{}}: {LONG_ROW_HINT}", cells
            )
        )
    )
    extra = data_recs.join(seps, on="rec", how="left", maintain_order="left").select(
        (pl.col("rec").cast(pl.Int64) - shift).alias(ROW),
        problem.alias(READ_ERROR),
        pl.col("blank"),
    )
    return pl.concat([frame, extra], how="horizontal")


def _drop_unnamed(
    frame: pl.DataFrame, names: list[str], path: Path, warnings: list[str]
) -> tuple[pl.DataFrame, list[str]]:
    """Drop header-less columns that hold nothing (Excel adds them); fail on ones with data."""
    unnamed = [i for i, n in enumerate(names) if n == ""]
    for i in unnamed:
        given = frame.filter(pl.col(f"c{i}").is_not_null()).head(1)
        if given.height:
            raise InputError(
                f"{path}: column {i + 1} has a value on row {given[ROW][0]} "
                f"({given[f'c{i}'][0][:60]!r}) but no header",
                hint="name it in the header row (start the name with _ to carry it "
                "without importing it), or delete the column",
            )
    keep = [i for i in range(len(names)) if names[i] != ""]
    if unnamed:
        warnings.append(f"{path}: ignored {len(unnamed)} empty column(s) without a header")
    renamed = frame.select(
        *(pl.col(f"c{i}").alias(names[i]) for i in keep), ROW, READ_ERROR, "blank"
    )
    return renamed, [names[i] for i in keep]


def _drop_blank(frame: pl.DataFrame, names: list[str]) -> tuple[pl.DataFrame, int]:
    empty = pl.all_horizontal(pl.col(n).is_null() for n in names) if names else pl.lit(True)
    blank = pl.col("blank") | (empty & pl.col(READ_ERROR).is_null())
    mask = frame.select(blank.alias("b"))["b"]
    return frame.filter(~mask).drop("blank"), int(mask.sum())
