"""``closecsv export``: page -> flatten -> write one file per type -> an :class:`ExportReport`.

The run: pick the types, name their files and check the out dir (before any instance is
read), read the users (ids -> emails) and the leads holding wanted instances, choose the
route (:mod:`closecsv.exporting.route_choice`: the search route when its probe passes, else
by estimated request cost, :mod:`closecsv.exporting.routes`), then stream every instance
into its type's sink as pages arrive.  Only when every instance has been read are the files
moved to their final names, then ``manifest.json`` is written, then the ``--state`` file.
Any error or interrupt discards the temporary files: no half file is ever under a final name.
A ``--state`` run reads its state file before any request, and tags every name with its start
(``Call.20261129T041500Z.csv``, ``manifest.20261129T041500Z.json``): runs from cron into
one out dir need no ``--force`` and never overwrite an earlier batch.

Memory: one batch of instances (500) and, for Parquet, one batch of rows per type, plus the
names of the leads holding wanted instances (one short string per lead); never the instances.
``manifest.json`` is per kind: export activities and objects to different out dirs.

With ``--state`` the window's upper end is the moment the run started (a "signpost"): an
instance created during the run waits for the next run instead of racing the mark.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from closecsv import defaults
from closecsv.close.api import SearchApi
from closecsv.close.kinds import Kind
from closecsv.close.paging import Window
from closecsv.close.schema import Schema, TypeInfo
from closecsv.close.users import UserDirectory
from closecsv.errors import ConfigError, FatalError
from closecsv.exporting.route_choice import Strategy, choose_route, describe
from closecsv.exporting.routes import (
    Estimate,
    Scope,
    batched,
    find_leads,
    lead_names,
    lead_route,
    org_route,
)
from closecsv.exporting.rows import Flattener, api_fields, parse_timestamp
from closecsv.exporting.search_route import search_route
from closecsv.exporting.state import ExportState, Mark
from closecsv.files.json_files import Manifest, dump
from closecsv.files.moments import parse_iso, time_zone
from closecsv.files.outputs import (
    MANIFEST,
    file_names,
    prepare_out_dir,
    run_stamp,
    stamped,
    write_atomic_text,
)
from closecsv.files.writers import DEFAULT_BATCH_ROWS, CsvSink, ParquetSink, Sink
from closecsv.progress import NullProgress, Progress
from closecsv.wording import duration, plural, rate

__all__ = ["ExportOptions", "ExportReport", "Strategy", "choose_route", "run_export"]


@dataclass(frozen=True)
class ExportOptions:
    type_refs: tuple[str, ...] = ()
    out_dir: Path = Path(defaults.OUT_DIR)
    since: datetime | None = None
    until: datetime | None = None
    format: Literal["csv", "parquet"] = defaults.EXPORT_FORMAT
    lead_query: dict[str, Any] | None = None
    state_path: Path | None = None
    force: bool = False
    include_archived: bool = False
    strategy: Strategy = defaults.STRATEGY
    separator: str = defaults.MULTI_SEPARATOR
    raw: bool = False
    batch_rows: int = DEFAULT_BATCH_ROWS


@dataclass
class TypeExport:
    """One type's file as it is being written."""

    info: TypeInfo
    path: Path
    flattener: Flattener
    sink: Sink
    previous: Mark | None
    first: datetime | None = None
    mark: Mark | None = None

    def add(self, inst: Mapping[str, Any], lead_name: str, window: Window, parquet: bool) -> bool:
        """Write ``inst`` unless it is outside the window or already exported; True if written."""
        when = parse_timestamp(inst.get("date_created"))
        instance_id = str(inst.get("id"))
        if when is None or not window.contains(when):
            return False
        if self.previous is not None and self.previous.already_exported(when, instance_id):
            return False
        flat = self.flattener
        self.sink.write(
            [flat.typed_row(inst, lead_name) if parquet else flat.csv_row(inst, lead_name)]
        )
        self.first = when if self.first is None else min(self.first, when)
        if self.mark is None:
            self.mark = Mark(when, {instance_id})
        else:
            self.mark.observe(when, instance_id)
        return True

    def manifest_entry(self) -> dict[str, Any]:
        last = self.mark.last if self.mark is not None else None
        return {
            "type_id": self.info.id,
            "type_name": self.info.name,
            "file": self.path.name,
            "rows": self.sink.rows,
            "columns": self.flattener.columns,
            "date_created_min": _iso(self.first),
            "date_created_max": _iso(last),
        }


@dataclass
class ExportReport:
    kind: str
    route: str
    estimate: Estimate | None
    out_dir: Path
    types: list[dict[str, Any]] = field(default_factory=list)
    manifest: str = MANIFEST
    requests: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(int(t["rows"]) for t in self.types)

    def summary(self) -> str:
        lines = [f"{t['file']}: {plural(t['rows'], 'row')} ({t['type_name']})" for t in self.types]
        lines.append(
            f"exported {self.rows:,} {self.kind} in {duration(self.seconds)} "
            f"({rate(self.rows, self.seconds)}) "
            f"by the {self.route} route with {plural(self.requests, 'request')}; "
            f"files in {self.out_dir}"
            + ("" if self.manifest == MANIFEST else f", listed in {self.manifest}")
        )
        return "\n".join(lines)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment is not None else None


def utc_now() -> datetime:
    """The run's start: the window's upper end and the tag of a ``--state`` run's names."""
    return datetime.now(UTC)


def select_types(schema: Schema, kind: Kind, refs: Iterable[str], archived: bool) -> list[TypeInfo]:
    """The types named by ``--type`` (name or id), or every type (archived ones on request)."""
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return schema.types(kind, include_archived=archived)
    chosen = {info.id: info for info in (schema.find(kind, ref) for ref in wanted)}
    return list(chosen.values())


def _window(options: ExportOptions, marks: list[Mark | None], now: datetime) -> Window:
    since = options.since
    if marks and all(m is not None for m in marks):
        oldest = min(m.last for m in marks if m is not None)
        since = oldest if since is None else max(since, oldest)
    until = options.until
    if options.state_path is not None:
        until = now if until is None else min(until, now)
    return Window(since, until)


def load_users(api: SearchApi) -> dict[str, str]:
    """``{user id: email}`` for every member, active or not (as the importer resolves them)."""
    return dict(UserDirectory(api).users().email_by_id)


class _OpenExports:
    """The open output files of one export (one per type) while instances stream in."""

    def __init__(
        self, api: SearchApi, kind: Kind, options: ExportOptions, progress: Progress
    ) -> None:
        self.api, self.kind, self.options, self.progress = api, kind, options, progress
        self.exports: dict[str, TypeExport] = {}
        self.leads: dict[str, str] = {}

    def open(
        self, types: list[TypeInfo], root: Path, names: Mapping[str, str], state: ExportState | None
    ) -> None:
        users = load_users(self.api)
        for info in types:
            flat = Flattener(info, users, separator=self.options.separator, raw=self.options.raw)
            path = root / names[info.id]
            previous = state.mark(self.kind.name, info.id) if state is not None else None
            self.exports[info.id] = TypeExport(info, path, flat, self._sink(path, flat), previous)

    def _sink(self, path: Path, flat: Flattener) -> Sink:
        if self.options.format == "parquet":
            return ParquetSink(path, flat.schema(), batch_rows=self.options.batch_rows)
        return CsvSink(path, flat.columns)

    def consume(self, instances: Iterator[dict[str, Any]], window: Window) -> None:
        """Write the wanted instances; with ``--lead-query`` only those on the leads found for
        it (every route then writes the same rows, whatever the API let through)."""
        parquet, restricted = self.options.format == "parquet", self.options.lead_query is not None
        for batch in batched(instances):
            missing = {str(i.get("lead_id")) for i in batch} - self.leads.keys()
            if missing and not restricted:
                self.leads.update(lead_names(self.api, missing))
            for inst in batch:
                if restricted and str(inst.get("lead_id")) not in self.leads:
                    continue
                target = self.exports.get(str(inst.get(self.kind.type_id_key)))
                name = self.leads.get(str(inst.get("lead_id")), "")
                if target is not None and target.add(inst, name, window, parquet):
                    self.progress.advance("exported")

    def commit(self) -> None:
        for export in self.exports.values():
            export.sink.commit()

    def discard(self) -> None:
        for export in self.exports.values():
            export.sink.discard()


def run_export(
    api: SearchApi,
    schema: Schema,
    kind: Kind,
    options: ExportOptions,
    progress: Progress | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    requests: Callable[[], int] = lambda: 0,
) -> ExportReport:
    """Export every wanted instance of ``kind``; see the module docstring."""
    started, now = clock(), utc_now()
    show = progress or NullProgress()
    state = ExportState.load(options.state_path) if options.state_path else None
    stamp = run_stamp(now) if state is not None else None
    types = select_types(schema, kind, options.type_refs, options.include_archived)
    names = {
        type_id: stamped(name, stamp)
        for type_id, name in file_names([(t.id, t.name) for t in types], options.format).items()
    }
    manifest = stamped(MANIFEST, stamp)
    root = _prepare(options, [*names.values(), manifest], stamped=stamp is not None)
    marks = [state.mark(kind.name, t.id) if state else None for t in types]
    scope = Scope(
        kind,
        tuple(t.id for t in types),
        _window(options, marks, now),
        options.lead_query,
        tuple(api_fields(kind, types)),
    )
    files = _OpenExports(api, kind, options, show)
    files.leads = find_leads(api, scope) if types else {}
    route, guess = choose_route(api, scope, len(files.leads), options.strategy)
    show.note(describe(route, guess))
    show.start(guess.wanted or 0, 0)
    try:
        files.open(types, root, names, state)
        files.consume(_instances(api, scope, route, files.leads, types), scope.window)
        files.commit()
    except OSError as exc:
        files.discard()
        raise FatalError(
            f"cannot write the export in {root}: {exc.strerror or exc}",
            hint="free disk space or fix the folder, then run the same command again "
            "(no partial file was left under a final name)",
        ) from None
    except BaseException:
        files.discard()
        raise
    finally:
        show.close()
    report = ExportReport(kind.name, route, guess, root, manifest=manifest)
    report.types = [e.manifest_entry() for e in files.exports.values()]
    _finish(report, scope, state, files)
    report.requests, report.seconds = requests(), clock() - started
    return report


def _prepare(options: ExportOptions, names: list[str], *, stamped: bool) -> Path:
    """The out dir, checked; a ``--state`` run's tagged names are never overwritten."""
    if not stamped:
        return prepare_out_dir(options.out_dir, names, force=options.force)
    return prepare_out_dir(
        options.out_dir,
        names,
        force=False,
        taken_hint="another --state run started in the same second; run again",
    )


def _instances(
    api: SearchApi, scope: Scope, route: str, leads: Mapping[str, str], types: list[TypeInfo]
) -> Iterator[dict[str, Any]]:
    if not types:
        return iter(())
    if route == "lead":
        return lead_route(api, scope, list(leads))
    if route == "search":
        return search_route(api, scope, leads)
    return org_route(api, scope, list(scope.fields))


def _finish(
    report: ExportReport, scope: Scope, state: ExportState | None, files: _OpenExports
) -> None:
    manifest = Manifest.model_validate(
        {
            "kind": scope.kind.name,
            "route": report.route,
            "route_reason": report.estimate.reason if report.estimate else None,
            "since": _iso(scope.window.since),
            "until": _iso(scope.window.until),
            "formula_escaped": not files.options.raw and files.options.format == "csv",
            "multi_separator": files.options.separator,
            "types": report.types,
        }
    )
    write_atomic_text(report.out_dir / report.manifest, dump(manifest))
    if state is not None:
        marks = {
            e.info.id: (e.info.name, e.mark) for e in files.exports.values() if e.mark is not None
        }
        state.update(scope.kind.name, marks)
        state.save()


def parse_moment(text: str, timezone: str, option: str) -> datetime:
    """``--since``/``--until``: an ISO date or date-time; naive ones in ``timezone``."""
    zone = time_zone(timezone)
    try:
        moment = parse_iso(text.strip())
    except ValueError as exc:
        raise ConfigError(
            f"{option} {text!r} is not an ISO 8601 date or date-time",
            hint="e.g. 2024-05-01 or 2024-05-01T13:00:00+02:00",
        ) from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def parse_lead_query(text: str | None) -> dict[str, Any] | None:
    """``--lead-query``: one Advanced Filtering query node, as JSON."""
    if text is None:
        return None
    try:
        query = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--lead-query is not valid JSON: {exc}") from exc
    if not isinstance(query, dict) or "type" not in query:
        raise ConfigError(
            "--lead-query must be one query node, a JSON object with a 'type'",
            hint='e.g. {"type": "id", "value": "lead_..."} (Close: Copy Filters)',
        )
    return query


def options_from_cli(
    *, since: str | None, until: str | None, timezone: str, lead_query: str | None, **rest: Any
) -> ExportOptions:
    """:class:`ExportOptions` from the command line's text values."""
    start = parse_moment(since, timezone, "--since") if since else None
    end = parse_moment(until, timezone, "--until") if until else None
    if start is not None and end is not None and start >= end:
        raise ConfigError(f"--since {since} is not before --until {until}")
    if rest.get("separator") == "":
        raise ConfigError("--multi-separator must not be empty")
    return ExportOptions(since=start, until=end, lead_query=parse_lead_query(lead_query), **rest)
