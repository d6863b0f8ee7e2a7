"""closecsv from Python: the command line's operations as functions.

Each function takes the options of its command as keyword-only arguments, with the same
defaults (both read :mod:`closecsv.defaults`), and returns what the command reports:

* :func:`import_file` / :func:`validate` -> an ``ImportReport`` (``exit_code``, ``failed``,
  ``counts()``, ``paths.results`` / ``paths.errors``, ``fatal``);
* :func:`export` -> an ``ExportReport`` (``rows``, ``types``, ``out_dir``, ``summary()``);
* :func:`sync` -> a ``SyncReport`` (``mode``, ``counts()``, ``types``, ``summary()``,
  ``as_json()``);
* :func:`schema`, :func:`template`, :func:`users`, :func:`leads` -> the data the CLI prints.

``api_key`` / ``api_url`` default to ``CLOSE_API_KEY`` / ``CLOSE_API_URL`` as the CLI's do.
Nothing is printed: progress goes to the optional ``progress`` callback.  Problems are the
exceptions of :mod:`closecsv.errors` (``ConfigError`` and ``InputError``: nothing was sent;
``AuthError`` and ``ApiError``: the API or network stopped the run).  An import that the API
stops part-way still writes its reports and returns them, with the error in
``report.fatal`` and ``report.exit_code`` 3, as the CLI does.  No click, no tqdm, no exit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from closecsv import defaults
from closecsv.errors import ConfigError, InputError
from closecsv.progress import CallbackProgress as _CallbackProgress
from closecsv.progress import ProgressCallback

if TYPE_CHECKING:
    from closecsv.close.client import CloseClient
    from closecsv.close.kinds import Kind
    from closecsv.close.schema import TypeInfo
    from closecsv.exporting.exporter import ExportReport
    from closecsv.exporting.sync import SyncReport
    from closecsv.importing.options import ImportOptions
    from closecsv.importing.report import ImportReport

PathArg = str | os.PathLike[str]
Moment = str | date  # an ISO text, a date (midnight) or a datetime (naive: in ``timezone``)


@contextmanager
def _client(
    api_key: str | None, api_url: str | None, progress: ProgressCallback | None
) -> Iterator[CloseClient]:
    from closecsv.close.client import CloseClient
    from closecsv.close.config import load_settings

    settings = load_settings(api_key, api_url)
    notify = None if progress is None else _CallbackProgress(progress).note
    with CloseClient(settings.api_key, settings.api_url, notify=notify) as client:
        yield client


def _kind(kind: str) -> Kind:
    from closecsv.close.kinds import KINDS

    if kind not in KINDS:
        raise ConfigError(
            f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}",
            hint='pass kind="activities" or kind="objects"',
        )
    return KINDS[kind]


def _choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}",
            hint=f"the default is {allowed[0]!r}",
        )


def _existing_file(path: PathArg, name: str) -> Path:
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "does not exist"
        raise InputError(f"{name} {file} {what}; nothing was sent", hint="pass a CSV file's path")
    return file


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
    default_region: str = defaults.DEFAULT_REGION,
    raw: bool = False,
    settle_seconds: float = defaults.SETTLE_SECONDS,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """``closecsv import KIND FILE`` (``--dry-run`` with ``dry_run=True``): create and update
    instances from a CSV file; results, errors and the journal go next to it or to
    ``report_dir``.  Calling it again after a crash resumes without duplicates."""
    from closecsv.importing.options import ImportOptions

    file = _existing_file(path, "file")
    map_file = None if map is None else _existing_file(map, "map")
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
        on_ambiguous=on_ambiguous,  # type: ignore[arg-type]  # checked by _choice
        status=status,  # type: ignore[arg-type]  # checked by _choice
        limit=limit,
        encoding=encoding,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        default_region=default_region,
        raw=raw,
        settle_seconds=settle_seconds,
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
    _choice("on_ambiguous", on_ambiguous, ["fail", "first"])
    _choice("status", status, ["published", "draft"])


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

    shown = NullProgress() if progress is None else _CallbackProgress(progress)
    with _client(api_key, api_url, progress) as client:
        return run_import(client, Schema(client), _kind(kind), file, options, shown)


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
    default_region: str = defaults.DEFAULT_REGION,
    raw: bool = False,
    settle_seconds: float = defaults.SETTLE_SECONDS,
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
        default_region=default_region,
        raw=raw,
        settle_seconds=settle_seconds,
        progress=progress,
    )


def _moment(value: Moment | None) -> str | None:
    """``since``/``until`` as the text ``--since``/``--until`` take."""
    return value.isoformat() if isinstance(value, date) else value


def export(
    kind: str,
    *,
    out_dir: PathArg = defaults.OUT_DIR,
    types: str | Sequence[str] = (),
    since: Moment | None = None,
    until: Moment | None = None,
    timezone: str = defaults.TIMEZONE,
    format: str = defaults.EXPORT_FORMAT,
    lead_query: str | Mapping[str, Any] | None = None,
    state: PathArg | None = None,
    force: bool = False,
    include_archived: bool = False,
    strategy: str = defaults.STRATEGY,
    multi_separator: str = defaults.MULTI_SEPARATOR,
    raw: bool = False,
    api_key: str | None = None,
    api_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> ExportReport:
    """``closecsv export KIND``: one file per type (``types``: names or ids; default every
    type) plus ``manifest.json`` in ``out_dir``.  ``since`` is inclusive, ``until``
    exclusive, on ``date_created``; ``state`` remembers where the last run stopped."""
    from closecsv.close.schema import Schema
    from closecsv.exporting.exporter import options_from_cli, run_export
    from closecsv.progress import NullProgress

    _choice("format", format, ["csv", "parquet"])
    _choice("strategy", strategy, ["auto", "lead", "org"])
    settings = options_from_cli(
        type_refs=(types,) if isinstance(types, str) else tuple(types),
        out_dir=Path(out_dir),
        since=_moment(since),
        until=_moment(until),
        timezone=timezone,
        format=format,
        lead_query=json.dumps(lead_query) if isinstance(lead_query, Mapping) else lead_query,
        state_path=None if state is None else Path(state),
        force=force,
        include_archived=include_archived,
        strategy=strategy,
        separator=multi_separator,
        raw=raw,
    )
    shown = NullProgress() if progress is None else _CallbackProgress(progress)
    with _client(api_key, api_url, progress) as client:
        return run_export(
            client,
            Schema(client),
            _kind(kind),
            settings,
            shown,
            requests=lambda: client.stats.requests,
        )


def sync(
    kind: str,
    *,
    to: PathArg,
    types: str | Sequence[str] = (),
    include_archived: bool = False,
    format: str = defaults.SYNC_FORMAT,
    multi_separator: str = defaults.MULTI_SEPARATOR,
    raw: bool = False,
    changes_dir: PathArg | None = None,
    api_key: str | None = None,
    api_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """``closecsv sync KIND --to DIR``: make ``to`` equal to a full export of the types
    (the first run exports; later runs apply the changes of Close's event log).  A report
    whose ``mode`` is ``fallback`` says why it exported everything (``reason``)."""
    from closecsv.close.schema import Schema
    from closecsv.exporting.sync import SyncOptions, check_options, run_sync
    from closecsv.progress import NullProgress

    _choice("format", format, ["csv", "parquet"])
    settings = SyncOptions(
        folder=Path(to),
        type_refs=(types,) if isinstance(types, str) else tuple(types),
        include_archived=include_archived,
        format=format,  # type: ignore[arg-type]
        separator=multi_separator,
        raw=raw,
        changes_dir=None if changes_dir is None else Path(changes_dir),
    )
    check_options(settings)
    shown = NullProgress() if progress is None else _CallbackProgress(progress)
    with _client(api_key, api_url, progress) as client:
        return run_sync(
            client,
            Schema(client),
            _kind(kind),
            settings,
            shown,
            requests=lambda: client.stats.requests,
        )


def schema(*, api_key: str | None = None, api_url: str | None = None) -> dict[str, list[TypeInfo]]:
    """``closecsv schema``: ``{"activities": [...], "objects": [...]}``, each type with its
    fields (``column``, ``type``, ``required``, ``multiple``, ``choices``), archived too."""
    from closecsv.close.schema import Schema, kind_types

    with _client(api_key, api_url, None) as client:
        return kind_types(Schema(client))


def template(
    kind: str,
    type: str,
    *,
    output: PathArg | None = None,
    api_key: str | None = None,
    api_url: str | None = None,
) -> str:
    """``closecsv template KIND TYPE``: the header line of a CSV for one type (``type``: exact
    name or id).  With ``output`` it is also written there (an existing file is refused)."""
    from closecsv.close.schema import Schema, template_columns
    from closecsv.importing.report_files import write_new_file

    with _client(api_key, api_url, None) as client:
        info = Schema(client).find(_kind(kind), type)
    buffer = _csv_line(template_columns(info))
    if output is not None:
        write_new_file(Path(output), buffer)
    return buffer


def _csv_line(cells: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def users(*, api_key: str | None = None, api_url: str | None = None) -> list[dict[str, Any]]:
    """``closecsv users --json``: every user a file can name (id, name, email, status)."""
    from closecsv.close.listing import list_users

    with _client(api_key, api_url, None) as client:
        return list_users(client)


def leads(
    *,
    query: str | None = None,
    limit: int = defaults.LEADS_LIMIT,
    api_key: str | None = None,
    api_url: str | None = None,
) -> list[dict[str, Any]]:
    """``closecsv leads --json``: leads (newest first) with their contacts' emails and
    phones, at most ``limit`` (1-10000), only those matching ``query`` when given."""
    from closecsv.close.listing import list_leads

    if not 1 <= limit <= 10_000:
        raise ConfigError(f"limit={limit} is not between 1 and 10000", hint="e.g. 50")
    with _client(api_key, api_url, None) as client:
        return list_leads(client, query, limit)
