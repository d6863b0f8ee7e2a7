"""The options of an import (``closecsv import`` and ``closecsv validate``), checked before
anything is read or sent, and the ones that change what is sent (part of a job's fingerprint).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from closecsv import defaults
from closecsv.errors import ConfigError
from closecsv.files.moments import time_zone
from closecsv.importing.values import ValueOptions

SLICE_BYTES = 16 << 20  # about 110k rows of a typical file; memory is a few times this


@dataclass
class ImportOptions:
    """Options of ``closecsv import`` (README: "import and validate"); ``delimiter`` is an
    extra one."""

    type_ref: str | None = None
    dry_run: bool = False
    report_dir: Path | None = None
    concurrency: int = defaults.CONCURRENCY
    timezone: str = defaults.TIMEZONE
    date_format: str | None = None
    multi_separator: str = defaults.MULTI_SEPARATOR
    map_file: Path | None = None
    clear_empty: bool = False
    on_ambiguous: Literal["fail", "first"] = defaults.ON_AMBIGUOUS
    status: Literal["published", "draft"] = defaults.STATUS
    limit: int | None = None
    encoding: str | None = None
    default_region: str = defaults.DEFAULT_REGION
    raw: bool = False
    delimiter: str = defaults.DELIMITER
    decimal_comma: bool = False  # "12,5" and "1.234,5" in number fields
    key: str | None = None  # rows without an id update the instance with this field's value
    sheet: str | None = None  # the sheet of an .xlsx file (default: its first)
    settle_seconds: float = defaults.SETTLE_SECONDS  # how long a lost create may take to show
    slice_bytes: int = SLICE_BYTES  # a dry run of a bigger file goes a slice at a time

    def check(self) -> None:
        """Raise :class:`ConfigError` for options that cannot work."""
        time_zone(self.timezone)
        if not self.multi_separator:
            raise ConfigError("--multi-separator must not be empty", hint="the default is ';'")
        if self.limit is not None and self.limit < 0:
            raise ConfigError("--limit must be 0 or more")
        _check_delimiter(self.delimiter)

    def payload_key(self) -> dict[str, Any]:
        """The options that change what is sent (part of the job fingerprint)."""
        changing = asdict(self)
        unsent = (
            "dry_run",
            "report_dir",
            "concurrency",
            "map_file",
            "settle_seconds",
            "slice_bytes",
        )
        for name in unsent:
            changing.pop(name)
        return changing

    def value_options(self) -> ValueOptions:
        return ValueOptions(
            self.timezone, self.date_format, self.multi_separator, self.decimal_comma
        )


def _check_delimiter(delimiter: str) -> None:
    """One ASCII character that can separate cells: not a quote, not a line break."""
    hint = "e.g. ',' or ';', or '\\t' (or the word tab) for a tab"
    if len(delimiter) != 1:
        raise ConfigError(f"--delimiter {delimiter!r} must be one character", hint=hint)
    if delimiter in '"\r\n':
        raise ConfigError(
            f"--delimiter {delimiter!r} cannot be used: it has a meaning of its own in CSV "
            "(a quote wraps a cell, a line break ends a row)",
            hint=hint,
        )
    if not delimiter.isascii():
        raise ConfigError(
            f"--delimiter {delimiter!r} is not an ASCII character: closecsv reads files whose "
            "delimiter is one byte",
            hint="replace it in the file with ',' or ';' (or save the file again as CSV UTF-8), "
            "then pass that delimiter",
        )
