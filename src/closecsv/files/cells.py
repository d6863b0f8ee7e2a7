"""Cell text both directions agree on: formula escaping and the text of a number.

Formula escaping: the exporter :func:`neutralise` s a cell that a spreadsheet would run as a
formula (leading ``=``, ``+``, ``-``, ``@``, tab or CR, or their full-width forms, which
some Excel locales also run) by prefixing one apostrophe; the importer :func:`unneutralise` s
it (``'=1+1`` -> ``=1+1``) unless ``raw`` is set.  So that every value survives the round trip,
apostrophes already in front of a trigger are escaped too: ``'=1`` exports as ``''=1``.  In
short, a cell matching ``'*<trigger>…`` gains one ``'`` on export and a cell matching
``'+<trigger>…`` loses one on import.  A cell that starts with ``=`` in the input is data and
is imported as it is.

Numbers: :func:`number_to_cell` writes ``42`` for 42.0 and the shortest round-tripping text
otherwise, on export and where the importer quotes a number back.
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_TRIGGER_CLASS = "[=+\\-@\t\r\uff1d\uff0b\uff0d\uff20]"
_NEEDS_ESCAPE = re.compile(f"^'*{_TRIGGER_CLASS}")
_ESCAPED = f"^'+{_TRIGGER_CLASS}"


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (export side)."""
    return "'" + cell if _NEEDS_ESCAPE.match(cell) else cell


def unneutralise(cell: str) -> str:
    """Undo :func:`neutralise`: apostrophes followed by a formula trigger lose one ``'``."""
    return cell[1:] if cell.startswith("'") and _NEEDS_ESCAPE.match(cell[1:]) else cell


def unneutralise_expr(cell: pl.Expr) -> pl.Expr:
    """:func:`unneutralise` as a Polars expression."""
    return pl.when(cell.str.contains(_ESCAPED)).then(cell.str.slice(1)).otherwise(cell)


def number_to_cell(value: float | int) -> str:
    """``42`` for 42.0, the shortest round-tripping text otherwise."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)
