"""Date and date-time cells -> API values (``date`` and ``datetime`` fields, ``date_created``,
``activity_at``).

A date-time keeps the offset it is written with; a naive one (and a date alone: midnight) is
read in ``--timezone``.  Refused, each a row error that says what to write instead:

* a local time that happens twice (the clocks go back) or never (they skip it) in that zone:
  the message gives the two offsets around the change, to write the one meant;
* a second ``60`` (a leap second: Close stores none, and reading it as the next minute would
  change the value without a word);
* an offset beyond +/-14:00, or with minutes past 59 (no zone has one; Close would refuse it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import polars as pl

from closecsv.importing.convert import Converted, ValueOptions, fail

_OFFSET = r"(?:Z|z|[+-]\d\d:?\d\d)$"
_ISO_DT = "%Y-%m-%dT%H:%M:%S%.f"
_OUT_DT = "%Y-%m-%dT%H:%M:%S%.f"
_PLAIN_DT = "%Y-%m-%dT%H:%M:%S"
_CANONICAL_DT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$"
_LEAP_SECOND = r"\d:\d\d:60(?:[.,]\d*)?(?:\D|$)"  # ISO or a --date-format with seconds
_FAR_OFFSET = (
    r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?[+-]"
    r"(?:(?:1[5-9]|[2-9]\d):?\d\d|\d\d:?[6-9]\d|14:?(?:0[1-9]|[1-5]\d))$"
)


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
    """``YYYY-MM-DD``; a date-time or ``--date-format`` value keeps its date part (a leap
    second, which would move 23:59:60 to the next day, is an error)."""
    s = cell.str.strip_chars()
    name = f"__closecsv_date:{cell.meta.output_name(raise_if_undetermined=False)}:{opts}"
    parsed = pl.col(name)
    message = pl.format(f"'{{}}' is not a date ({_date_hint(opts)})", cell)
    leap = s.str.contains(_LEAP_SECOND).fill_null(False)
    error = (
        pl.when(leap)
        .then(_leap_message(s))
        .otherwise(fail(s.is_not_null() & parsed.is_null(), message))
    )
    value = pl.when(~leap).then(parsed.dt.strftime("%Y-%m-%d"))
    return Converted(value, error, ((_parse_local(s, opts).alias(name),),))


def _leap_message(s: pl.Expr) -> pl.Expr:
    return pl.format(
        "'{}' has the second 60 (a leap second), which Close does not store: "
        "write :59, or 00 of the next minute",
        s,
    )


def _refused(s: pl.Expr) -> pl.Expr:
    """Why a date-time that parses must still not be sent (leap second, far offset), or null."""
    leap = _leap_message(s)
    far = pl.format(
        "'{}' has an offset beyond +/-14:00 or with minutes past 59, which no time zone has: "
        "write it as +HH:MM (e.g. +02:00, -05:00) or Z",
        s,
    )
    return (
        pl.when(s.str.contains(_LEAP_SECOND))
        .then(leap)
        .when(s.str.contains(_FAR_OFFSET))
        .then(far)
        .otherwise(pl.lit(None, dtype=pl.String))
    )


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
    refused = pl.col(name + ":refused")
    fast = pl.col(name + ":canonical")
    rest = pl.when(fast.is_null() & refused.is_null()).then(s)
    stage = (
        (_refused(s).alias(name + ":refused"),),
        (pl.when(canonical & refused.is_null()).then(s).alias(name + ":canonical"),),
        (_parse_local(rest, opts).alias(name + ":local"), _offset(rest).alias(name + ":offset")),
    )
    local, offset = pl.col(name + ":local"), pl.col(name + ":offset")
    zoned = local.dt.replace_time_zone(opts.timezone, ambiguous="null", non_existent="null")
    value = pl.coalesce(
        fast,
        pl.when(offset.is_not_null())
        .then(local.dt.strftime(_OUT_DT) + offset)
        .otherwise(zoned.dt.strftime(_OUT_DT + "%:z")),
    )
    bad = pl.format(
        f"'{{}}' is not a date-time ({_date_hint(opts)}, optionally THH:MM:SS±HH:MM)", cell
    )
    explain = partial(_clock_change, zone=opts.timezone)
    changed = pl.when(s.is_not_null() & local.is_not_null() & value.is_null()).then(local)
    clock = changed.map_elements(explain, return_dtype=pl.String)
    error = (
        pl.when(refused.is_not_null())
        .then(refused)
        .when(fast.is_not_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(s.is_not_null() & local.is_null())
        .then(bad)
        .when(s.is_not_null() & value.is_null())
        .then(pl.format("'{}' {}", cell, clock))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return Converted(value, error, stage)


def _clock_change(local: datetime, zone: str) -> str:
    """Why ``local`` has no single instant in ``zone``, and the offsets to choose from."""
    tz = ZoneInfo(zone)
    first, second = (local.replace(tzinfo=tz, fold=fold) for fold in (0, 1))
    before, after = _hhmm(first.utcoffset()), _hhmm(second.utcoffset())
    example = local.isoformat(timespec="seconds")
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back == local:
        return (
            f"happens twice in {zone} (the clocks go back then): add the offset you mean, "
            f"{before} for the first or {after} for the second, e.g. {example}{before}"
        )
    return (
        f"does not exist in {zone} (the clocks skip it): add the offset you mean, "
        f"{before} (before the change) or {after} (after it), e.g. {example}{before}"
    )


def _hhmm(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
