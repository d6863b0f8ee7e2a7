"""What every cell converter shares: the options, the result pair and the failure helper.

A converter turns one column of text cells (null = empty = "not given") into a
:class:`Converted` pair of Polars expressions; :mod:`closecsv.importing.values` has the converters
per
field type, :mod:`closecsv.importing.dates` the date and date-time ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class ValueOptions:
    """How text becomes values: zone for naive date-times, extra date layout, multi separator,
    and whether numbers are written with a decimal comma (``1.234,5``)."""

    timezone: str = "UTC"
    date_format: str | None = None
    multi_separator: str = ";"
    decimal_comma: bool = False


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


def fail(when: pl.Expr, message: pl.Expr) -> pl.Expr:
    """``message`` where ``when`` holds, else null."""
    return pl.when(when).then(message).otherwise(pl.lit(None, dtype=pl.String))
