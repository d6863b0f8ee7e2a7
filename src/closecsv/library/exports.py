"""The Python API of ``closecsv export`` and ``closecsv sync``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from closecsv import defaults
from closecsv.library.common import Moment, PathArg, choice, kind_of, open_client
from closecsv.progress import CallbackProgress, ProgressCallback

if TYPE_CHECKING:
    from closecsv.exporting.exporter import ExportReport
    from closecsv.exporting.sync import SyncReport


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

    choice("format", format, ["csv", "parquet"])
    choice("strategy", strategy, ["auto", "lead", "org", "search"])
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
    shown = NullProgress() if progress is None else CallbackProgress(progress)
    with open_client(api_key, api_url, progress) as client:
        return run_export(
            client,
            Schema(client),
            kind_of(kind),
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

    choice("format", format, ["csv", "parquet"])
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
    shown = NullProgress() if progress is None else CallbackProgress(progress)
    with open_client(api_key, api_url, progress) as client:
        return run_sync(
            client,
            Schema(client),
            kind_of(kind),
            settings,
            shown,
            requests=lambda: client.stats.requests,
        )
