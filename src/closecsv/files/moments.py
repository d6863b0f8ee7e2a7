"""Moments as text: ISO 8601 date-times (Close writes UTC with a ``Z``) and time-zone names.

Import options (``--timezone`` for naive cells) and the export (``--timezone`` for naive
``--since``/``--until``) check a zone name with the same :func:`time_zone`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from closecsv.errors import ConfigError


def parse_iso(text: str) -> datetime:
    """An ISO 8601 date or date-time, a ``Z`` read as ``+00:00``; ``ValueError`` otherwise."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``--timezone``), or a :class:`ConfigError` saying what to use."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name, e.g. Europe/Paris"
        ) from None
