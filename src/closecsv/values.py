"""Cell text <-> API value, per field type (SPEC §3 Values, §5).

Import: every converter returns a :class:`Converted` pair of Polars expressions over one
column of text cells (null = empty = "not given"): ``value`` (the API value, null when not
given or invalid) and ``error`` (the reason, naming the value; null when fine).  The caller
adds the row and column to the message.  Nothing here loops over rows in Python.

Formula escaping: the exporter :func:`neutralise` s a cell that a spreadsheet would run as a
formula (leading ``=``, ``+``, ``-``, ``@``, tab or CR, or their full-width forms, which
some Excel locales also run) by prefixing one apostrophe; the importer :func:`unneutralise` s
it (``'=1+1`` -> ``=1+1``) unless ``raw`` is set.  So that every value survives the round trip,
apostrophes already in front of a trigger are escaped too: ``'=1`` exports as ``''=1``.  In
short, a cell matching ``'*<trigger>…`` gains one ``'`` on export and a cell matching
``'+<trigger>…`` loses one on import.  A cell that starts with ``=`` in the input is data and
is imported as it is.

Comparison (:func:`same_value`, for the executor's ``unchanged``): numbers by value
(``42 == 42.0``), date-times by instant (offsets may differ), multi-value fields as multisets
(order does not matter: Close gives no meaning to it and the UI may reorder them, so a
reordered cell is ``unchanged``), empty == null.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from closecsv.schema import FieldInfo

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
MULTI_CAPABLE = ("choices", "user", "contact", "custom_object")
_TRIGGER_CLASS = "[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]"
_NEEDS_ESCAPE = re.compile(f"^'*{_TRIGGER_CLASS}")
_ESCAPED = f"^'+{_TRIGGER_CLASS}"
_OFFSET = r"(?:Z|z|[+-]\d\d:?\d\d)$"
_ISO_DT = "%Y-%m-%dT%H:%M:%S%.f"
_OUT_DT = "%Y-%m-%dT%H:%M:%S%.f"
_PLAIN_DT = "%Y-%m-%dT%H:%M:%S"
_CANONICAL_DT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
STATUSES = ("published", "draft")


@dataclass(frozen=True)
class ValueOptions:
    """How text becomes values: zone for naive date-times, extra date layout, multi separator."""

    timezone: str = "UTC"
    date_format: str | None = None
    multi_separator: str = ";"


@dataclass(frozen=True)
class Converted:
    """The API value of a column and, per row, why it could not be converted (or null).

    ``stage``: layers of named columns that ``value`` and ``error`` refer to, added to the
    frame first, one layer after the other (a layer may use the columns of the ones before
    it); Polars would otherwise compute a shared sub-expression once per use.
    """

    value: pl.Expr
    error: pl.Expr
    stage: tuple[tuple[pl.Expr, ...], ...] = ()

    def select(self, frame: pl.DataFrame, value: str, error: str) -> pl.DataFrame:
        """``frame``'s value and error columns, named ``value`` and ``error``."""
        for layer in self.stage:
            frame = frame.with_columns(layer)
        return frame.select(self.value.alias(value), self.error.alias(error))


# -- formula escaping -------------------------------------------------------------------


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (export side)."""
    return "'" + cell if _NEEDS_ESCAPE.match(cell) else cell


def unneutralise(cell: str) -> str:
    """Undo :func:`neutralise`: apostrophes followed by a formula trigger lose one ``'``."""
    return cell[1:] if cell.startswith("'") and _NEEDS_ESCAPE.match(cell[1:]) else cell


def unneutralise_expr(cell: pl.Expr) -> pl.Expr:
    """:func:`unneutralise` as a Polars expression."""
    return pl.when(cell.str.contains(_ESCAPED)).then(cell.str.slice(1)).otherwise(cell)


# -- converters ---------------------------------------------------------------------------


def _fail(when: pl.Expr, message: pl.Expr) -> pl.Expr:
    return pl.when(when).then(message).otherwise(pl.lit(None, dtype=pl.String))


def text(cell: pl.Expr) -> Converted:
    """text, textarea, hidden and ``name``: the cell as it is."""
    return Converted(cell, pl.lit(None, dtype=pl.String))


def number(cell: pl.Expr) -> Converted:
    """A JSON number; ``1.23E+11`` is a valid number; ``1,234`` and ``nan`` are not."""
    parsed = cell.str.strip_chars().cast(pl.Float64, strict=False)
    ok = parsed.is_finite().fill_null(False)
    message = pl.format(
        "'{}' is not a number (write e.g. 1234.5, with no thousands separator)", cell
    )
    return Converted(pl.when(ok).then(parsed), _fail(cell.is_not_null() & ~ok, message))


def _local_part(cell: pl.Expr) -> pl.Expr:
    """The date-time without its offset, as ``YYYY-MM-DDTHH:MM:SS[.f]`` text.

    A chain of replaces, not ``when``/``then``: Polars computes every branch of a ``when``
    on the whole column, and the shared ``local`` once per use (4x slower at 1M rows).
    """
    return (
        cell.str.replace(_OFFSET, "")
        .str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
        .str.replace(r"^(\d{4}-\d\d-\d\d)$", "${1}T00:00:00")
        .str.replace(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d)$", "${1}:00")
    )


def _offset(cell: pl.Expr) -> pl.Expr:
    """``+HH:MM`` for a value that carries an offset (``Z`` is ``+00:00``), else null."""
    raw = pl.when(cell.str.len_chars() > 10).then(cell.str.extract(f"({_OFFSET})", 1))
    return raw.str.replace(r"^[Zz]$", "+00:00").str.replace(r"^([+-]\d\d):?(\d\d)$", "${1}:${2}")


def _parse_local(cell: pl.Expr, opts: ValueOptions) -> pl.Expr:
    """ISO 8601 (date or date-time, offset ignored) or ``opts.date_format``: naive Datetime."""
    iso = _local_part(cell).str.to_datetime(_ISO_DT, strict=False, time_unit="us")
    if opts.date_format is None:
        return iso
    custom = cell.str.to_datetime(opts.date_format, strict=False, time_unit="us")
    return pl.coalesce(iso, custom)


def _date_hint(opts: ValueOptions) -> str:
    if opts.date_format:
        return f"use ISO 8601 (YYYY-MM-DD) or the --date-format {opts.date_format!r}"
    return "use ISO 8601 (YYYY-MM-DD), or pass --date-format (e.g. %d/%m/%Y)"


def date(cell: pl.Expr, opts: ValueOptions) -> Converted:
    """``YYYY-MM-DD``; a date-time or ``--date-format`` value keeps its date part."""
    s = cell.str.strip_chars()
    name = f"__closecsv_date:{cell.meta.output_name(raise_if_undetermined=False)}:{opts}"
    parsed = pl.col(name)
    message = pl.format(f"'{{}}' is not a date ({_date_hint(opts)})", cell)
    error = _fail(s.is_not_null() & parsed.is_null(), message)
    return Converted(parsed.dt.strftime("%Y-%m-%d"), error, ((_parse_local(s, opts).alias(name),),))


def datetime_(cell: pl.Expr, opts: ValueOptions) -> Converted:
    """ISO 8601 with its offset kept; naive values (and dates: midnight) in ``opts.timezone``.

    The parsed local time and the offset are staged columns, computed once per cell column.
    """
    s = cell.str.strip_chars()
    name = f"__closecsv_dt:{cell.meta.output_name(raise_if_undetermined=False)}:{opts}"
    # Fast path: a value already in the form the slow path writes (whole seconds, an offset)
    # is checked with one regex and a naive parse (no time zone work) and sent as it is.  The
    # slow path then sees only the other cells (nulls cost nothing): 0.8 s -> 0.15 s at 1M rows.
    canonical = s.str.contains(_CANONICAL_DT) & s.str.slice(0, 19).str.to_datetime(
        _PLAIN_DT, strict=False, time_unit="us"
    ).is_not_null().fill_null(False)
    fast = pl.col(name + ":canonical")
    rest = pl.when(fast.is_null()).then(s)
    stage = (
        (pl.when(canonical).then(s).alias(name + ":canonical"),),
        (_parse_local(rest, opts).alias(name + ":local"), _offset(rest).alias(name + ":offset")),
    )
    local, offset = pl.col(name + ":local"), pl.col(name + ":offset")
    zoned = local.dt.replace_time_zone(opts.timezone, ambiguous="earliest", non_existent="null")
    value = pl.coalesce(
        fast,
        pl.when(offset.is_not_null())
        .then(local.dt.strftime(_OUT_DT) + offset)
        .otherwise(zoned.dt.strftime(_OUT_DT + "%:z")),
    )
    bad = pl.format(
        f"'{{}}' is not a date-time ({_date_hint(opts)}, optionally THH:MM:SS±HH:MM)", cell
    )
    gap = pl.format(f"'{{}}' does not exist in {opts.timezone} (the clocks skip it)", cell)
    error = (
        pl.when(fast.is_not_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(s.is_not_null() & local.is_null())
        .then(bad)
        .when(s.is_not_null() & value.is_null())
        .then(gap)
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return Converted(value, error, stage)


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
        return Converted(value, _fail(~ok, message))
    s = cell.str.strip_chars()
    ok = s.is_in(list(allowed)).fill_null(False)
    near = s.str.to_lowercase().replace_strict(folded, default=None, return_dtype=pl.String)
    hint = (
        pl.when(near.is_not_null())
        .then(pl.format(": did you mean '{}'?", near))
        .otherwise(pl.lit(""))
    )
    message = pl.format(f"'{{}}' is not one of the {noun} ({listing}){{}}", cell, hint)
    return Converted(pl.when(ok).then(s), _fail(cell.is_not_null() & ~ok, message))


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
    return Converted(value, _fail(cell.is_not_null() & value.is_null(), message))


def lookup(
    cell: pl.Expr, table: Mapping[str, str], noun: str, *, multiple: bool = False, sep: str = ";"
) -> Converted:
    """Values found in ``table`` (keys: ids and names as they are, emails in lower case).

    A key mapped to ``""`` is ambiguous (several matches) and fails like a missing one.
    """

    def find(item: pl.Expr) -> pl.Expr:
        exact = item.replace_strict(dict(table), default=None, return_dtype=pl.String)
        folded = item.str.to_lowercase().replace_strict(
            dict(table), default=None, return_dtype=pl.String
        )
        found = pl.coalesce(exact, folded)
        return pl.when(found != "").then(found)

    if multiple:
        items = split_multi(cell, sep)
        found = items.list.eval(find(pl.element()))
        bad = items.list.eval(pl.element().filter(find(pl.element()).is_null())).list.join(", ")
        ok = bad.fill_null("") == ""
        message = pl.format(f"no {noun} matches '{{}}' (or it matches several)", bad)
        return Converted(pl.when(ok & (items.list.len() > 0)).then(found), _fail(~ok, message))
    s = cell.str.strip_chars()
    found = find(s)
    message = pl.format(f"no single {noun} matches '{{}}'", cell)
    return Converted(found, _fail(s.is_not_null() & found.is_null(), message))


def field_converter(
    fld: FieldInfo, cell: pl.Expr, opts: ValueOptions, users: Mapping[str, str]
) -> Converted:
    """The converter for a custom field (``contact`` and ``custom_object`` fields are looked
    up per lead by :mod:`closecsv.resolve`; here they pass through as text)."""
    sep = opts.multi_separator
    if fld.type == "number":
        return number(cell)
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


# -- export and comparison ----------------------------------------------------------------


def number_to_cell(value: float | int) -> str:
    """``42`` for 42.0, the shortest round-tripping text otherwise."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _scalar_to_cell(fld: FieldInfo, value: Any, users_by_id: Mapping[str, str]) -> str:
    if fld.type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return number_to_cell(value)
    if fld.type == "user":
        return users_by_id.get(str(value), str(value))
    return str(value)


def api_to_cell(fld: FieldInfo, value: Any, users_by_id: Mapping[str, str], sep: str) -> str:
    """An API value as a cell: numbers without ``.0``, lists joined by ``sep``, users as emails."""
    if value is None:
        return ""
    if isinstance(value, list):
        return sep.join(_scalar_to_cell(fld, v, users_by_id) for v in value)
    return _scalar_to_cell(fld, value, users_by_id)


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
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
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
