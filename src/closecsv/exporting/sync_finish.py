"""The end of a sync run: change files, files moved into place, ``manifest.json``, the state.

The order is what makes a killed run harmless: change files first (a rerun writes them again
under its own stamp: a warehouse MERGE takes the same change twice), then each new file moved
over its final name, then the manifest, then the state, last.  The ``hook`` is called after
each step (tests stop the run there).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from closecsv.exporting.sync_apply import write_change_file
from closecsv.exporting.sync_full import date_span
from closecsv.exporting.sync_run import Run, TypeSync
from closecsv.exporting.sync_state import (
    SyncState,
    TypeState,
    field_signature,
    save_state,
)
from closecsv.files.json_files import Manifest, dump
from closecsv.files.outputs import MANIFEST, run_stamp, stamped, write_atomic_text
from closecsv.wording import duration, plural

REPORT_VERSION = 1


@dataclass
class TypeResult:
    type_id: str
    type_name: str
    file: str
    rows: int
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    full: bool = False
    note: str | None = None
    changes_file: str | None = None


@dataclass
class SyncReport:
    kind: str
    folder: Path
    mode: str  # first | incremental | fallback
    reason: str | None
    events: int = 0
    changed: int = 0
    fetched: int = 0
    types: list[TypeResult] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        live = [t for t in self.types if t.note is None]
        return {
            "inserted": sum(t.inserted for t in live),
            "updated": sum(t.updated for t in live),
            "deleted": sum(t.deleted for t in live),
            "rows": sum(t.rows for t in live),
        }

    def fallback_line(self) -> str | None:
        """The one line a full export instead of an incremental one is announced with."""
        if self.mode != "fallback":
            return None
        return f"sync: full export instead of reading the event log: {self.reason}"

    def summary(self) -> str:
        lines = []
        for t in self.types:
            how = "exported in full" if t.full else "from the event log"
            what = t.note or (
                f"{plural(t.rows, 'row')}; +{t.inserted} inserted, {t.updated} updated, "
                f"{t.deleted} deleted ({how})"
            )
            lines.append(f"{t.file}: {what}")
        c = self.counts()
        lines.append(
            f"synced {self.kind} into {self.folder} ({self.mode} run) in {duration(self.seconds)} "
            f"with {plural(self.requests, 'request')}: {c['inserted']} inserted, "
            f"{c['updated']} updated, {c['deleted']} deleted; {plural(self.events, 'event')} read"
        )
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "command": "sync",
            "kind": self.kind,
            "folder": str(self.folder),
            "mode": self.mode,
            "fallback_reason": self.reason,
            "events": self.events,
            "changed": self.changed,
            "fetched": self.fetched,
            "counts": self.counts(),
            "types": [vars(t) for t in self.types],
            "requests": self.requests,
            "elapsed_seconds": round(self.seconds, 3),
        }


def finish(run: Run, prior: SyncState | None, organization: str, report: SyncReport) -> None:
    """Steps 5 and 6 of :mod:`closecsv.exporting.sync` and the report's per-type lines."""
    report.events, report.changed, report.fetched = run.events, run.changed, run.fetched
    done = [t for t in run.types if t.temp is not None]
    changes = _change_files(run, done) if run.options.changes_dir is not None else {}
    run.hook("changes")
    for sync in done:
        assert sync.temp is not None
        os.replace(sync.temp, sync.final)
        run.hook("replace")
    gone = _gone(run, prior)
    report.types = [_result(s, changes.get(s.info.id)) for s in run.types] + gone
    _write_manifest(run, report.types)
    run.hook("manifest")
    states = {s.info.id: _type_state(run, s) for s in run.types}
    for result in gone:
        old = prior.types[result.type_id] if prior is not None else None
        if old is not None:
            states[result.type_id] = old.model_copy(update={"gone": True})
    save_state(
        run.folder,
        SyncState(
            kind=run.kind.name,  # type: ignore[arg-type]
            organization_id=organization,
            options=run.options.key(),
            started_at=run.now,
            route=run.route,
            types=states,
        ),
    )


def _result(sync: TypeSync, changes_file: str | None) -> TypeResult:
    c = sync.changes
    return TypeResult(
        sync.info.id, sync.info.name, sync.final.name, sync.rows,
        inserted=len(c.inserted), updated=len(c.updated), deleted=len(c.removed),
        full=sync.full, changes_file=changes_file,
    )  # fmt: skip


def _gone(run: Run, prior: SyncState | None) -> list[TypeResult]:
    """Types synced before and not selected now: their files stay, with a note."""
    if prior is None:
        return []
    selected = {s.info.id for s in run.types}
    archived = {r.id for r in run.schema.raw_types(run.kind) if r.is_archived}
    results = []
    for type_id, old in prior.types.items():
        if type_id in selected or not (run.folder / old.file).is_file():
            continue
        why = "archived in Close" if type_id in archived else "no longer in Close"
        note = f"{why}: file left as the last sync wrote it"
        results.append(TypeResult(type_id, old.name, old.file, old.rows, note=note))
    return results


def _columns(path: Path, parquet: bool) -> list[str]:
    if parquet:
        return list(pl.read_parquet_schema(path))
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _type_state(run: Run, sync: TypeSync) -> TypeState:
    return TypeState(
        name=sync.info.name,
        file=sync.final.name,
        rows=sync.rows,
        columns=_columns(sync.final, run.parquet),
        fields=field_signature(sync.info),
        listing=sync.listing,
    )


def _write_manifest(run: Run, results: list[TypeResult]) -> None:
    entries = []
    for result in results:
        path = run.folder / result.file
        entries.append(
            {
                "type_id": result.type_id,
                "type_name": result.type_name,
                "file": result.file,
                "rows": result.rows,
                "columns": _columns(path, run.parquet),
                **date_span(path, run.parquet),
                "note": result.note,
            }
        )
    manifest = Manifest.model_validate(
        {
            "kind": run.kind.name,
            "route": run.route,
            "since": None,
            "until": None,
            "formula_escaped": not run.options.raw and not run.parquet,
            "multi_separator": run.options.separator,
            "types": entries,
        }
    )
    write_atomic_text(run.folder / MANIFEST, dump(manifest))


def _change_files(run: Run, done: list[TypeSync]) -> dict[str, str]:
    """One change file per type (see :mod:`closecsv.exporting.sync_apply`); their names."""
    assert run.options.changes_dir is not None
    stamp = run_stamp(run.now)
    names: dict[str, str] = {}
    for sync in done:
        assert sync.temp is not None
        if not sync.changes.any:
            continue  # no change file for a type without changes
        path = run.options.changes_dir / stamped(sync.final.name, stamp)
        schema = dict(pl.read_parquet_schema(sync.temp)) if run.parquet else None
        kind = run.kind
        write_change_file(
            path, sync.changes, _columns(sync.temp, run.parquet), kind.id_column,
            kind.type_column, sync.info.name, schema,
        )  # fmt: skip
        names[sync.info.id] = str(path)
    return names
