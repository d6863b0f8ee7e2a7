"""``closecsv sync``: a folder that stays equal to a fresh full export, at the cost of the changes.

One run, under the folder's lock (:func:`~closecsv.exporting.sync_state.folder_lock`):

1. note the start, read the organization, the selected types and the saved state;
2. decide per type: *incremental* (the state can be continued, the type was synced last time
   with the same fields and its file is there) or *full* (anything else; see
   :mod:`closecsv.exporting.sync_full`);
3. incremental types: the ids of the event log since the last start minus an overlap, the
   current instances read in batches (:mod:`closecsv.exporting.sync_events`), each file
   rewritten to a hidden temporary name with the changes applied
   (:mod:`closecsv.exporting.sync_apply`);
4. full types: exported into a hidden staging folder;
5. ``--changes-dir``: one change file per type;
6. every new file moved over its final name (each move atomic), then ``manifest.json``, then
   ``sync_state.json`` **last**.

A run killed anywhere before step 6 leaves the old files and state; killed during step 6, some
files are new and the state is the old one, so the next run reads the same events again and
applies them again, which gives the same files (applying is idempotent), and re-exports what
was exported in full.  A type no longer selected (archived, or removed from Close) keeps its
file, with a note in the manifest; when it comes back it is exported in full.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from closecsv.close.api import SearchApi
from closecsv.close.kinds import Kind
from closecsv.close.schema import Schema
from closecsv.close.shapes import TypeEntry
from closecsv.close.users import UserDirectory
from closecsv.errors import ConfigError, InputError
from closecsv.exporting.exporter import utc_now
from closecsv.exporting.routes import lead_names
from closecsv.exporting.sync_apply import TypeChanges, apply_changes, classify
from closecsv.exporting.sync_events import OVERLAP, fetch_current, walk_events
from closecsv.exporting.sync_finish import SyncReport, finish
from closecsv.exporting.sync_full import (
    diff_files,
    export_full,
    frame_rows,
    known_lead_names,
    remove_leftovers,
    remove_staging,
)
from closecsv.exporting.sync_run import Hook, Run, SyncOptions, TypeSync
from closecsv.exporting.sync_state import (
    LOCK_FILE,
    STATE_FILE,
    SyncKey,
    SyncState,
    field_signature,
    folder_lock,
    load_state,
    unusable,
)
from closecsv.exporting.sync_types import Listings, read_types, saved_info, select_entries
from closecsv.files.outputs import MANIFEST, file_names, prepare_out_dir
from closecsv.progress import NullProgress, Progress

__all__ = ["SyncOptions", "SyncReport", "run_sync"]

MAX_AGE_DAYS = 29.0


def run_sync(
    api: SearchApi,
    schema: Schema,
    kind: Kind,
    options: SyncOptions,
    progress: Progress | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    requests: Callable[[], int] = lambda: 0,
    hook: Hook = lambda stage: None,
) -> SyncReport:
    """Bring ``options.folder`` up to date; see the module docstring."""
    started = clock()
    folder = prepare_out_dir(options.folder, [], force=False)
    if options.changes_dir is not None:
        prepare_out_dir(options.changes_dir, [], force=False)
    ours = (folder / LOCK_FILE).exists() or (folder / MANIFEST).exists()  # synced here before
    with folder_lock(folder):
        remove_leftovers(folder)
        shown = progress or NullProgress()
        directory = UserDirectory(api)
        run = Run(api, schema, kind, options, folder, shown, hook, utc_now(), directory)
        organization = directory.organization()
        prior, reason = _prior(folder, kind, organization, options.key(), run.now)
        if prior is None and reason is None and ours:
            reason = f"{folder / STATE_FILE} is missing (a sync wrote into this folder before)"
        entries, listings = read_types(api, schema, kind)
        selected = select_entries(
            schema, kind, entries, options.type_refs, options.include_archived
        )
        pairs = [(e.id, e.name if e.name is not None else e.id) for e in selected]
        names = file_names(pairs, options.format)
        run.types = [_plan_type(run, e, folder / names[e.id], listings, prior) for e in selected]
        if not ours:
            _refuse_foreign_files(folder, [folder / n for n in names.values()])
        if prior is not None:
            run.route = prior.route
            _incremental(run, prior)
        _full(run)
        report = SyncReport(kind.name, folder, _mode(prior, reason), reason)
        finish(run, prior, organization, report)
        remove_staging(folder)
        report.requests, report.seconds = requests(), clock() - started
        return report


def _mode(prior: SyncState | None, reason: str | None) -> str:
    if prior is not None:
        return "incremental"
    return "fallback" if reason else "first"


def _prior(
    folder: Path, kind: Kind, organization: str, key: SyncKey, now: datetime
) -> tuple[SyncState | None, str | None]:
    """The state to continue from, or None and why not (None, None: a first run)."""
    state, problem = load_state(folder)
    if state is None:
        return None, problem
    why = unusable(
        state, kind=kind.name, organization=organization, key=key, now=now, days=MAX_AGE_DAYS
    )
    return (None, why) if why else (state, None)


def _plan_type(
    run: Run, entry: TypeEntry, final: Path, listings: Listings, prior: SyncState | None
) -> TypeSync:
    """Incremental when the last run synced the type with the same fields (seen from the type
    list when it can be, see :mod:`closecsv.exporting.sync_types`) into the same file, which
    is still there; full otherwise."""
    before = prior.types.get(entry.id) if prior is not None else None
    listing = listings.get(entry.id, [])
    usable = (
        before is not None and not before.gone and before.file == final.name and final.is_file()
    )
    if usable and before is not None and before.listing == listing:
        info = saved_info(run.kind, entry, before)
    else:
        info = run.schema.type_info(run.kind, entry)
    same = (
        usable and before is not None and [tuple(f) for f in before.fields] == field_signature(info)
    )
    sync = TypeSync(info, final, full=not same, listing=listing)
    sync.rows = before.rows if before is not None else 0
    return sync


def _incremental(run: Run, prior: SyncState) -> None:
    """Events -> ids -> current instances -> each incremental type's new file (temporary)."""
    targets = {t.info.id: t for t in run.types if not t.full}
    if not targets:
        return
    run.progress.note("reading Close's event log since the last run")
    ids = walk_events(run.api, run.kind, prior.started_at - OVERLAP)
    run.events, run.changed = ids.events, len(ids.touched | ids.deleted)
    run.hook("events")
    current = fetch_current(run.api, run.kind, ids.to_fetch, _fields(run.kind, targets.values()))
    run.fetched = len(current)
    run.hook("fetch")
    gone = ids.deleted | (set(ids.to_fetch) - {str(i["id"]) for i in current})
    mine = [i for i in current if str(i.get(run.kind.type_id_key)) in targets]
    names = _lead_names(run, targets.values(), {str(i.get("lead_id")) for i in mine})
    for inst in mine:
        sync = targets[str(inst[run.kind.type_id_key])]
        flat, lead = run.flattener(sync), names.get(str(inst.get("lead_id")), "")
        row = flat.typed_row(inst, lead) if run.parquet else flat.csv_row(inst, lead)
        sync.changes.upserts.append(row)
        sync.changes.upsert_ids.append(str(inst["id"]))
    for sync in targets.values():
        sync.changes.deleted = gone
        _rewrite(run, sync)


def _lead_names(run: Run, types: Iterable[TypeSync], wanted: set[str]) -> dict[str, str]:
    """Names of the leads of changed instances: from the mirror's rows where it has the lead
    (no request; the name as of the lead's rows there), from Close for the others."""
    files = [t.final for t in types]
    names = known_lead_names(files, wanted, parquet=run.parquet, raw=run.options.raw)
    missing = wanted - names.keys()
    return {**names, **lead_names(run.api, missing)} if missing else names


def _rewrite(run: Run, sync: TypeSync) -> None:
    if not sync.changes.upserts and not sync.changes.deleted:
        return  # nothing happened: the file stays as it is
    flat = run.flattener(sync)
    schema = flat.schema() if run.parquet else None
    try:
        sync.rows, sync.temp = apply_changes(
            sync.final, sync.changes, flat.columns, run.kind.id_column, schema
        )
    except ValueError:  # the file's columns are not the type's: export it in full instead
        sync.full, sync.changes = True, TypeChanges()
        return
    classify(sync.changes)


def _fields(kind: Kind, types: Iterable[TypeSync]) -> list[str]:
    """The ``_fields`` of an object search: what a row needs."""
    fields = ["id", kind.type_id_key, "lead_id", "name", "date_created", "date_updated"]
    fields += ["created_by", "updated_by", *(f.api_key for t in types for f in t.info.fields)]
    return list(dict.fromkeys(fields))


def _full(run: Run) -> None:
    """Export the full types into the staging folder, and diff them with their old files."""
    full = [t for t in run.types if t.full]
    if not full:
        return
    base = run.options.export_options(run.folder)
    ids = [t.info.id for t in full]
    report, files = export_full(run.api, run.schema, run.kind, base, ids, run.progress)
    run.route = report.route
    for sync in full:
        sync.temp, sync.rows = files[sync.info.id]
        wanted = run.options.changes_dir is not None
        changes, rows = diff_files(
            sync.final, sync.temp, run.kind.id_column, run.parquet, rows=wanted
        )
        changes.upserts = frame_rows(rows, run.parquet) if wanted else []
        sync.changes = changes


def _refuse_foreign_files(folder: Path, finals: list[Path]) -> None:
    """A first run never replaces files that a sync did not write (a folder a sync has used
    holds its lock file from the first run on, even one killed before its manifest)."""
    taken = [p.name for p in finals if p.exists() or p.is_symlink()]
    if taken:
        raise InputError(
            f"{folder} already holds {', '.join(taken)}, which closecsv sync did not write",
            hint="give sync a folder of its own (new or empty), e.g. --to mirror/",
        )


def check_options(options: SyncOptions) -> None:
    """The checks made before any request."""
    if options.separator == "":
        raise ConfigError("--multi-separator must not be empty")
    changes = options.changes_dir
    if changes is not None and changes.resolve() == options.folder.resolve():
        raise ConfigError(
            "--changes-dir must not be the sync folder",
            hint="give the change files a folder of their own, e.g. --changes-dir changes/",
        )
