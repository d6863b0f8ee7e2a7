"""Cell text <-> API value, per field type (README: "CSV format", "export").

Import: every converter returns a :class:`Converted` pair of Polars expressions over one
column of text cells (null = empty = "not given"): ``value`` (the API value, null when not
given or invalid) and ``error`` (the reason, naming the value; null when fine).  The caller
adds the row and column to the message.  Nothing here loops over rows in Python, but for the
few cells that need it: a number longer than 15 characters (is it exact as a JSON number?), and
a cell that failed (why, with a "did you mean").  Dates and date-times:
:mod:`closecsv.importing.dates`.

Formula escaping and number text, shared with the exporter: :mod:`closecsv.files.cells`.

Comparison (:func:`same_value`, for the executor's ``unchanged``): numbers by value
(``42 == 42.0``), date-times by instant (offsets may differ), multi-value fields as multisets
(order does not matter: Close gives no meaning to it and the UI may reorder them, so a
reordered cell is ``unchanged``), empty == null.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from closecsv.close.schema import FieldInfo, suggest
from closecsv.files.cells import number_to_cell
from closecsv.files.moments import parse_iso
from closecsv.importing.convert import Converted as Converted
from closecsv.importing.convert import ValueOptions as ValueOptions
from closecsv.importing.convert import fail
from closecsv.importing.dates import date as date
from closecsv.importing.dates import datetime_ as datetime_

MULTI_CAPABLE = ("choices", "user", "contact", "custom_object")
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
STATUSES = ("published", "draft")
_COMMA_NUMBER = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?:[eE][+-]?\d+)?$"


# -- converters ---------------------------------------------------------------------------


def text(cell: pl.Expr) -> Converted:
    """text, textarea, hidden and ``name``: the cell as it is."""
    return Converted(cell, pl.lit(None, dtype=pl.String))


def number(cell: pl.Expr, decimal_comma: bool = False) -> Converted:
    """A JSON number; ``1.23E+11`` is a valid number; ``1,234`` and ``nan`` are not.

    ``decimal_comma``: ``,`` is the decimal mark and ``.`` may group thousands (``1.234,5``);
    then ``1,234.5`` and ``12.5`` are errors.  A value that a JSON number (a double) cannot
    hold exactly (``9007199254740993``, ``0.1000000000000000055511151231257827``: more than
    15 to 17 significant digits) is an error too, not rounded without a word.
    """
    s = cell.str.strip_chars()
    if decimal_comma:
        plain = s.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        s = pl.when(s.str.contains(_COMMA_NUMBER)).then(plain).otherwise(None)
        hint = "with --decimal-comma, write e.g. 1234,5 or 1.234,5: ',' marks decimals"
    else:
        hint = "write e.g. 1234.5, with no thousands separator"
    parsed = s.cast(pl.Float64, strict=False)
    ok = parsed.is_finite().fill_null(False)
    # up to 15 significant digits always survive; longer text is checked one by one
    long = pl.when(ok & (s.str.len_chars() > 15)).then(s)
    stored = long.map_elements(_rounded, return_dtype=pl.String)
    message = pl.format(f"'{{}}' is not a number ({hint})", cell)
    rounded = pl.format(
        "'{}' has more significant digits than a number field holds exactly (it would be "
        "stored as {}): round it to 15 significant digits, or keep such values in a text field",
        cell,
        stored,
    )
    error = (
        pl.when(cell.is_not_null() & ~ok)
        .then(message)
        .when(stored.is_not_null())
        .then(rounded)
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return Converted(pl.when(ok & stored.is_null()).then(parsed), error)


def _rounded(text: str) -> str | None:
    """What ``text`` becomes as a JSON number when that is not its own value, else None."""
    nearest = float(text)
    if Decimal(repr(nearest)) == Decimal(text):
        return None
    return number_to_cell(nearest)


def split_multi(cell: pl.Expr, sep: str) -> pl.Expr:
    """A multi-value cell as a list of trimmed, non-empty values."""
    item = pl.element().str.strip_chars()
    return cell.str.split(sep).list.eval(item.filter(item != ""))


def _one_of(
    cell: pl.Expr, allowed: Sequence[str], noun: str, multiple: bool, sep: str
) -> Converted:
    folded = {a.casefold(): a for a in allowed}
    listing = ", ".join(allowed)
    if multiple:
        values = split_multi(cell, sep)
        bad = values.list.eval(pl.element().filter(~pl.element().is_in(list(allowed)))).list.join(
            ", "
        )
        ok = bad.fill_null("") == ""
        message = pl.format(f"'{{}}' is not one of the {noun} ({listing})", bad)
        value = pl.when(ok & (values.list.len() > 0)).then(values)
        return Converted(value, fail(~ok, message))
    s = cell.str.strip_chars()
    ok = s.is_in(list(allowed)).fill_null(False)
    near = s.str.to_lowercase().replace_strict(folded, default=None, return_dtype=pl.String)
    hint = (
        pl.when(near.is_not_null())
        .then(pl.format(": did you mean '{}'?", near))
        .otherwise(pl.lit(""))
    )
    message = pl.format(f"'{{}}' is not one of the {noun} ({listing}){{}}", cell, hint)
    return Converted(pl.when(ok).then(s), fail(cell.is_not_null() & ~ok, message))


def choices(cell: pl.Expr, fld: FieldInfo, sep: str) -> Converted:
    """One of the field's choices, exactly; multi-value fields split on ``sep``."""
    return _one_of(cell, fld.choices or (), f"choices of {fld.name!r}", fld.multiple, sep)


def status(cell: pl.Expr) -> Converted:
    """``published`` or ``draft`` (case-insensitive)."""
    return _one_of(cell.str.to_lowercase(), STATUSES, "statuses", False, ";")


def pinned(cell: pl.Expr) -> Converted:
    """``true``/``false``, also ``1``/``0`` and ``yes``/``no``, case-insensitive."""
    word = cell.str.strip_chars().str.to_lowercase()
    value = pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False)
    message = pl.format("'{}' is not true or false", cell)
    return Converted(value, fail(cell.is_not_null() & value.is_null(), message))


def lookup(
    cell: pl.Expr, table: Mapping[str, str], noun: str, *, multiple: bool = False, sep: str = ";"
) -> Converted:
    """Values found in ``table`` (keys: ids and names as they are, emails in lower case).

    A cell matches a key exactly, else ignoring case (``grace hopper``, ``GRACE@...``): an
    exact match wins over keys that differ only by case.  A key mapped to ``""`` is
    ambiguous (several matches) and fails like a missing one, with a message that says so.
    """
    keys = _Keys(table, noun)

    def find(item: pl.Expr) -> pl.Expr:
        exact = item.replace_strict(keys.exact, default=None, return_dtype=pl.String)
        folded = item.str.to_lowercase().replace_strict(
            keys.folded, default=None, return_dtype=pl.String
        )
        found = pl.coalesce(exact, folded)
        return pl.when(found != "").then(found)

    if multiple:
        items = split_multi(cell, sep)
        found = items.list.eval(find(pl.element()))
        bad = items.list.eval(pl.element().filter(find(pl.element()).is_null())).list.join(", ")
        ok = bad.fill_null("") == ""
        message = pl.format(f"no {noun} matches '{{}}' (or it matches several)", bad)
        return Converted(pl.when(ok & (items.list.len() > 0)).then(found), fail(~ok, message))
    s = cell.str.strip_chars()
    found = find(s)
    missed = pl.when(s.is_not_null() & found.is_null()).then(s)
    message = missed.map_elements(keys.why_not, return_dtype=pl.String)
    return Converted(found, message)


class _Keys:
    """A look-up table, exact and case-folded, and why a value found nothing in it."""

    def __init__(self, table: Mapping[str, str], noun: str) -> None:
        self.exact, self.noun = dict(table), noun
        self.folded: dict[str, str] = {}
        self.spellings: dict[str, list[str]] = {}
        for key, found in table.items():
            low = key.lower()
            self.spellings.setdefault(low, []).append(key)
            self.folded[low] = "" if self.folded.get(low, found) != found else found
        # names and emails to suggest (ids map to themselves)
        self.names = [k for k, v in table.items() if k != v]

    def why_not(self, value: str) -> str:
        head = f"no single {self.noun} matches {value!r}"
        spellings = self.spellings.get(value.lower(), [])
        if self.exact.get(value) == "" or (
            spellings and all(self.exact[k] == "" for k in spellings)
        ):
            return f"{head}: several {self.noun}s have that name; write the email or the id"
        if self.folded.get(value.lower()) == "":
            spelt = ", ".join(map(repr, spellings))
            return f"{head}: ignoring case it matches {spelt}; write one exactly, or the email"
        hint = suggest(value, self.names)
        return f"{head}: {hint}" if hint else f"{head} (write the id, the email or the full name)"


def field_converter(
    fld: FieldInfo, cell: pl.Expr, opts: ValueOptions, users: Mapping[str, str]
) -> Converted:
    """The converter for a custom field (``contact`` and ``custom_object`` fields are looked
    up per lead by :mod:`closecsv.importing.resolve`; here they pass through as text)."""
    sep = opts.multi_separator
    if fld.type == "number":
        return number(cell, opts.decimal_comma)
    if fld.type == "date":
        return date(cell, opts)
    if fld.type == "datetime":
        return datetime_(cell, opts)
    if fld.type == "choices":
        return choices(cell, fld, sep)
    if fld.type == "user":
        return lookup(cell, users, "user", multiple=fld.multiple, sep=sep)
    if fld.multiple and fld.type in MULTI_CAPABLE:
        return Converted(split_multi(cell, sep), pl.lit(None, dtype=pl.String))
    return text(cell)


def convert_cells(
    fld: FieldInfo,
    cells: Iterable[str | None],
    opts: ValueOptions | None = None,
    users: Mapping[str, str] | None = None,
) -> list[tuple[Any, str | None]]:
    """Convert a few cells outside a plan (tests, single values): ``(value, error)`` pairs."""
    conv = field_converter(fld, pl.col("c"), opts or ValueOptions(), users or {})
    frame = pl.DataFrame({"c": list(cells)}, schema={"c": pl.String})
    out = conv.select(frame, "v", "e")
    return list(zip(out["v"].to_list(), out["e"].to_list(), strict=True))


# -- comparison ------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _comparable(value: Any) -> Any:
    """Numbers as floats, ISO date-times with an offset as instants, the rest as text."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if len(text) > 10 and text[10:11] in ("T", " "):
        try:
            moment = parse_iso(text)
        except ValueError:
            return text
        return moment if moment.tzinfo is not None else text
    return text


def same_value(given: Any, current: Any, fld: FieldInfo | None = None) -> bool:
    """Whether sending ``given`` would leave ``current`` (the API's value) as it is.

    Works without the field (payload keys only): ``42 == 42.0``, equal instants in different
    offsets are equal, lists compare as multisets, ``None``/``""``/``[]`` are all empty.  With a
    ``number`` field, numeric text compares by value too.
    """
    if _empty(given) or _empty(current):
        return _empty(given) and _empty(current)
    if isinstance(given, list) or isinstance(current, list):
        mine = given if isinstance(given, list) else [given]
        theirs = current if isinstance(current, list) else [current]
        return sorted(map(repr, map(_comparable, mine))) == sorted(
            map(repr, map(_comparable, theirs))
        )
    if fld is not None and fld.type == "number":
        return _number(given) == _number(current)
    return bool(_comparable(given) == _comparable(current))


def _number(value: Any) -> float | str:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return str(value)
    return result if not math.isnan(result) else str(value)
