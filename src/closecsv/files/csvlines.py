"""The quote-blind line pass of :mod:`closecsv.files.csvio`: one row per physical line.

Polars reads the file a second time with no quote character and a separator the file does
not hold, so each physical line is one cell.  Each line's quote count gives its parity
before and after it (``before``: the line starts inside a quoted cell), from which follow the
records, blank lines, the separators outside quotes of a record, a CR outside quotes, and
where an unclosed or bare quote is.  Vectorised: no Python per line.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from closecsv.errors import InputError
from closecsv.files.csvbytes import check_utf8

LINE = "line"
_RECORD = (~pl.col("before")).cum_sum()  # the record a line belongs to, numbered from 1
_SPARE_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02")


def _spare_separator(data: bytes) -> str:
    for sep in _SPARE_SEPARATORS:
        if sep.encode() not in data:
            return sep
    raise InputError("the file contains every ASCII control separator", hint="is it a CSV file?")


def line_frame(data: bytes, path: Path) -> pl.DataFrame:
    """One row per physical line (trailing CR removed), with quote parity before and after."""
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise InputError(
            f"{path} is empty: no header row", hint="the first line must name the columns"
        )
    try:
        lines = pl.read_csv(
            data,
            has_header=False,
            separator=_spare_separator(data),
            quote_char=None,
            infer_schema=False,
            new_columns=[LINE],
            empty_string_is_null=False,
        )
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc):
            raise
        check_utf8(data, path)  # finds the offending byte and raises
        raise InputError(f"{path}: not valid UTF-8", hint="pass --encoding") from None
    quotes = pl.col(LINE).str.count_matches('"', literal=True)
    return lines.with_columns(
        quotes=quotes,
        after=quotes.cum_sum() % 2 == 1,
        lineno=pl.int_range(1, pl.len() + 1),
    ).with_columns(before=pl.col("after").xor(pl.col("quotes") % 2 == 1))


QUOTE_HINT = 'wrap a cell that contains a quote in quotes and double the quote: "5"" pipe"'


def check_quotes(lines: pl.DataFrame, sep: str, path: Path) -> None:
    if lines.height == 0 or not lines["after"][-1]:
        return
    check_bare_quotes(lines, sep, path)
    opened = lines.filter(~pl.col("before") & pl.col("after"))["lineno"][-1]
    raise InputError(f"{path}: a quote opened on line {opened} is never closed", hint=QUOTE_HINT)


def check_bare_quotes(lines: pl.DataFrame, sep: str, path: Path) -> None:
    """Raise naming the first line with a quote inside a cell that does not start with one.

    Only called once the file is known to be malformed: such a quote is what usually broke it.
    """
    s = _re_escape(sep)
    bare = pl.col(LINE).str.contains(f'(?:^|{s})[^"{s}]+"')
    found = lines.filter(~pl.col("before") & bare).head(1)
    if found.height:
        line, text = found["lineno"][0], found[LINE][0]
        raise InputError(
            f"{path}: line {line} has a quote inside a cell that does not start with one "
            f"({text[:60]!r})",
            hint=QUOTE_HINT,
        )


def _re_escape(char: str) -> str:
    return "\\" + char if not char.isalnum() else char


def records_of(lines: pl.DataFrame, nul: bool, sep: str, line_offset: int = 0) -> pl.DataFrame:
    """One row per record: ``rec`` (1-based), its first line, blank (only spaces and
    delimiters: Excel's ``,,,`` rows, however many), NUL, and ``cr``: the first line (plus
    ``line_offset``) with a carriage return outside quotes, or null."""
    text = pl.col(LINE)
    spaces = "" if sep.isspace() else _re_escape(sep)
    per_line = lines.select(
        rec=_RECORD,
        line=pl.col("lineno"),
        blank=text.str.contains(rf"^[\s{spaces}]*$"),  # without copying lines
        nul=text.str.contains("\x00", literal=True) if nul else pl.lit(False),
        cr=_lone_cr(lines) + line_offset,
    )
    if not lines["before"].any():
        return per_line  # no cell spans lines: one record per line
    return per_line.group_by("rec", maintain_order=True).agg(
        pl.col("line", "blank").first(), pl.col("nul").any(), pl.col("cr").drop_nulls().first()
    )


def _lone_cr(lines: pl.DataFrame) -> pl.Expr:
    """Each line's number if it holds a CR outside quotes, else null.  A CRLF's CR is not in
    the line; a CR left inside a line is one that Excel and Python's :mod:`csv` read as the
    end of a row while Polars reads on, so the row is refused rather than guessed at."""
    if not lines.select(pl.col(LINE).str.contains("\r", literal=True).any()).item():
        return pl.lit(None, dtype=pl.Int64)  # the usual case: no line holds a CR
    outside = _wrapped().str.replace_all('"[^"]*"', "")
    return pl.when(outside.str.contains("\r", literal=True)).then(pl.col("lineno"))


def separators(lines: pl.DataFrame, recs: pl.Series, sep: str) -> pl.DataFrame:
    """``rec`` and ``seps`` (separators outside quotes) for the records ``recs``.

    A line's separators outside quotes: its matches of ``"[^"]*"|sep`` (leftmost first, so a
    quoted stretch swallows the separators inside it) less its quoted stretches, which are
    half its quotes (each stretch takes the next two).  A line that continues or ends a
    quoted cell counts as if wrapped in quotes at that end.
    """
    chosen = lines.with_columns(rec=_RECORD).filter(pl.col("rec").is_in(recs.implode()))
    quotes = pl.col("quotes") + pl.col("before").cast(pl.Int64) + pl.col("after").cast(pl.Int64)
    outside = _wrapped().str.count_matches(f'"[^"]*"|{_re_escape(sep)}') - quotes // 2
    return chosen.group_by("rec").agg(seps=outside.sum())


def _wrapped() -> pl.Expr:
    """A line with a quote added where a quoted cell continues from or into another line."""
    return (
        pl.when(pl.col("before")).then(pl.lit('"')).otherwise(pl.lit(""))
        + pl.col(LINE)
        + pl.when(pl.col("after")).then(pl.lit('"')).otherwise(pl.lit(""))
    )
