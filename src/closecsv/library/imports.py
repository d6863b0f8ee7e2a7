"""The Python API of ``closecsv import`` and ``closecsv validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from closecsv import defaults
from closecsv.errors import ConfigError
from closecsv.library.common import PathArg, choice, existing_file, kind_of, open_client
from closecsv.progress import CallbackProgress, ProgressCallback

if TYPE_CHECKING:
    from closecsv.importing.options import ImportOptions
    from closecsv.importing.report import ImportReport


def import_file(
    path: PathArg,
    *,
    kind: str,
    dry_run: bool = False,
    api_key: str | None = None,
    api_url: str | None = None,
    type: str | None = None,
    report_dir: PathArg | None = None,
    concurrency: int = defaults.CONCURRENCY,
    timezone: str = defaults.TIMEZONE,
    date_format: str | None = None,
    multi_separator: str = defaults.MULTI_SEPARATOR,
    map: PathArg | None = None,
    clear_empty: bool = False,
    on_ambiguous: str = defaults.ON_AMBIGUOUS,
    status: str = defaults.STATUS,
    limit: int | None = None,
    encoding: str | None = None,
    delimiter: str = defaults.DELIMITER,
    decimal_comma: bool = False,
    sheet: str | None = None,
    default_region: str = defaults.DEFAULT_REGION,
    raw: bool = False,
    settle_seconds: float = defaults.SETTLE_SECONDS,
    key: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """``closecsv import KIND FILE`` (``--dry-run`` with ``dry_run=True``): create and update
    instances from a CSV file or a sheet of an .xlsx file (``sheet``, default its first); results,
    errors and the journal go next to it or to ``report_dir``; a rerun resumes, no duplicates."""
    from closecsv.importing.options import ImportOptions

    file = existing_file(path, "file")
    map_file = None if map is None else existing_file(map, "map")
    _check_import_args(concurrency, settle_seconds, on_ambiguous, status)
    folder = None if report_dir is None else Path(report_dir)
    options = ImportOptions(
        type_ref=type,
        dry_run=dry_run,
        report_dir=folder,
        concurrency=concurrency,
        timezone=timezone,
        date_format=date_format,
        multi_separator=multi_separator,
        map_file=map_file,
        clear_empty=clear_empty,
        on_ambiguous=on_ambiguous,  # type: ignore[arg-type]  # checked by choice
        status=status,  # type: ignore[arg-type]  # checked by choice
        limit=limit,
        encoding=encoding,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        sheet=sheet,
        default_region=default_region,
        raw=raw,
        settle_seconds=settle_seconds,
        key=key,
    )
    return _run_import(file, options, kind, api_key, api_url, progress)


def _check_import_args(
    concurrency: int, settle_seconds: float, on_ambiguous: str, status: str
) -> None:
    """What click checks on the command line: ranges and choices (:class:`ConfigError`)."""
    if not 1 <= concurrency <= 16:
        raise ConfigError(f"concurrency={concurrency} is not between 1 and 16", hint="e.g. 4")
    if settle_seconds < 0:
        raise ConfigError(f"settle_seconds={settle_seconds} is negative", hint="e.g. 10")
    choice("on_ambiguous", on_ambiguous, ["fail", "first"])
    choice("status", status, ["published", "draft"])


def _run_import(
    file: Path,
    options: ImportOptions,
    kind: str,
    api_key: str | None,
    api_url: str | None,
    progress: ProgressCallback | None,
) -> ImportReport:
    """Run the import with this call's client and progress callback."""
    from closecsv.close.schema import Schema
    from closecsv.importing.importer import run_import
    from closecsv.progress import NullProgress

    shown = NullProgress() if progress is None else CallbackProgress(progress)
    with open_client(api_key, api_url, progress) as client:
        return run_import(client, Schema(client), kind_of(kind), file, options, shown)


def validate(
    path: PathArg,
    *,
    kind: str,
    api_key: str | None = None,
    api_url: str | None = None,
    type: str | None = None,
    report_dir: PathArg | None = None,
    concurrency: int = defaults.CONCURRENCY,
    timezone: str = defaults.TIMEZONE,
    date_format: str | None = None,
    multi_separator: str = defaults.MULTI_SEPARATOR,
    map: PathArg | None = None,
    clear_empty: bool = False,
    on_ambiguous: str = defaults.ON_AMBIGUOUS,
    status: str = defaults.STATUS,
    limit: int | None = None,
    encoding: str | None = None,
    delimiter: str = defaults.DELIMITER,
    decimal_comma: bool = False,
    sheet: str | None = None,
    default_region: str = defaults.DEFAULT_REGION,
    raw: bool = False,
    settle_seconds: float = defaults.SETTLE_SECONDS,
    key: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """``closecsv validate KIND FILE``: :func:`import_file` with ``dry_run=True``; nothing is
    written to Close.  Statuses are would_create, would_update, unchanged or failed."""
    return import_file(
        path,
        kind=kind,
        dry_run=True,
        api_key=api_key,
        api_url=api_url,
        type=type,
        report_dir=report_dir,
        concurrency=concurrency,
        timezone=timezone,
        date_format=date_format,
        multi_separator=multi_separator,
        map=map,
        clear_empty=clear_empty,
        on_ambiguous=on_ambiguous,
        status=status,
        limit=limit,
        encoding=encoding,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        sheet=sheet,
        default_region=default_region,
        raw=raw,
        settle_seconds=settle_seconds,
        key=key,
        progress=progress,
    )
