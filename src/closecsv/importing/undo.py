"""``closecsv undo``: reverse an import from its journal (README: "Undo an import").

1. The journal of the import of FILE is found as the import found it (the report folder and
   FILE's name) and opened with the same lock (:mod:`closecsv.importing.undo_journal`); the
   API key must belong to the organization it was sent to.
2. :func:`~closecsv.importing.undo_plan.plan_undo` turns its rows into one item per instance:
   delete what the job created, put back what its updates replaced.
3. The current state of those instances is read in batches (as the importer reads the
   instances it updates).  An instance that is gone is ``already_gone``.  One that someone
   changed after the import (its ``date_updated`` is later than the import's answer said, or
   a field the import wrote holds another value now) is a ``conflict``, left as it is, unless
   ``--force``.
4. The DELETEs and PUTs go from a thread pool, through the client's pacing and retries (both
   are idempotent: sending one twice leaves Close as sending it once, so the client may
   retry them), each committed ``in_flight`` to the undo table before it goes out and
   ``done`` after the answer.

Exactly once and resumable: an item an earlier run finished is not sent again.  One whose
request was in flight when a run died is looked at again: a created instance now gone was
deleted by that request (``deleted``: nothing else deletes what this job made in the seconds
between, and if something did, the instance is gone either way), an instance whose fields
already hold the values to put back was restored by it (``restored``); otherwise it is
checked and sent again.  Within one run, a 404 to the DELETE itself is ``deleted`` for the
same reason (the client retried a DELETE whose first answer was lost); a 404 to the read
before any request is ``already_gone``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from closecsv import defaults
from closecsv.close.client import CloseClient
from closecsv.close.kinds import Kind
from closecsv.close.schema import Schema
from closecsv.close.users import UserDirectory
from closecsv.errors import FatalError, InputError, NotFound, OutcomeUnknown, RequestRejected
from closecsv.importing.plan_rows import PlannedRow
from closecsv.importing.pool import run_pool
from closecsv.importing.reconcile import Fields, Reconciler
from closecsv.importing.report_files import check_report_dir, check_report_files
from closecsv.importing.undo_checks import Checker
from closecsv.importing.undo_journal import UndoJournal
from closecsv.importing.undo_plan import Item, Line, plan_undo
from closecsv.importing.undo_report import UndoPaths, UndoReport, write_results
from closecsv.progress import NullProgress, Progress

NOT_SENT = "not sent: the run stopped first; run the same command again to finish"
UNKNOWN = "the answer to the {} was lost; run the same command again (it checks Close first)"


@dataclass(frozen=True)
class UndoOptions:
    dry_run: bool = False
    force: bool = False
    report_dir: Path | None = None
    concurrency: int = defaults.CONCURRENCY


def run_undo(
    client: CloseClient,
    schema: Schema,
    kind: Kind,
    path: Path,
    options: UndoOptions,
    progress: Progress | None = None,
) -> UndoReport:
    """Undo the import of ``path`` (module docstring).  Problems before any request are
    :class:`InputError`; a stop part-way is in the report (``fatal``, ``interrupted``)."""
    started, clock, requests = datetime.now().astimezone(), time.monotonic(), client.stats.requests
    folder = options.report_dir
    check_report_dir(folder or path.parent, given=folder is not None)
    paths = UndoPaths.for_input(path, folder, dry_run=options.dry_run)
    check_report_files(paths.results)
    progress = progress or NullProgress()
    journal = UndoJournal.open(paths.journal, path)
    try:
        _check_job(journal, kind, client)
        plan = plan_undo(journal.rows(), journal.lines())
        undoer = _Undoer(client, kind, Fields(schema, kind), options, progress, journal)
        undoer.run(plan.items, len(plan.settled))
    finally:
        progress.close()
        journal.close()
    lines = [*plan.settled, *undoer.lines]
    write_results(lines, paths.results)
    report = UndoReport(kind.name, path, options.dry_run, lines, paths, started)
    report.earlier = sum(1 for line in plan.settled if line.status != "failed")
    report.elapsed, report.requests = time.monotonic() - clock, client.stats.requests - requests
    report.fatal, report.interrupted = undoer.fatal, undoer.interrupted
    return report


def _check_job(journal: UndoJournal, kind: Kind, client: CloseClient) -> None:
    """The journal is of this kind, and of the API key's organization."""
    if journal.kind is not None and journal.kind != kind.name:
        raise InputError(
            f"the journal {journal.path} records an import of {journal.kind}, not {kind.name}; "
            "nothing was sent",
            hint=f"run `closecsv undo {journal.kind} ...` with the same file",
        )
    known = journal.organization
    if known is not None and known != UserDirectory(client).organization():
        raise InputError(
            f"the journal {journal.path} records an import into the Close organization "
            f"{known}, and this API key belongs to another; nothing was sent",
            hint="undo with a key of the organization the file was imported into",
        )


class _Undoer:
    """Reads the items' instances, checks them and sends the DELETEs and PUTs."""

    def __init__(
        self,
        client: CloseClient,
        kind: Kind,
        fields: Fields,
        options: UndoOptions,
        progress: Progress,
        journal: UndoJournal,
    ) -> None:
        self.client, self.kind, self.options = client, kind, options
        self.progress, self.journal = progress, journal
        self.reader = Reconciler(client, fields, 0.0, time.sleep)
        self.checker = Checker(kind, fields)
        self.lines: list[Line] = []
        self.fatal: FatalError | None = None
        self.interrupted = False
        self.stop = threading.Event()
        self.items: list[Item] = []

    def run(self, items: list[Item], already: int) -> None:
        self.items = items
        self.progress.start(sum(len(i.rows) for i in items) + already, already)
        try:
            current = self._current(items)
            if not self.stop.is_set():
                self._parallel(items, lambda item: self._undo(item, current))
        except KeyboardInterrupt:
            self.interrupted = True
            self.stop.set()
        done = {line.row for line in self.lines}
        for item in items:
            if not any(r.entry.row in done for r in item.rows):
                self.lines += item.lines("failed", NOT_SENT)

    def _current(self, items: list[Item]) -> dict[str, dict[str, Any]]:
        """The items' instances as they are now, by id (missing: gone)."""
        rows = [PlannedRow(0, "update", None, i.instance_id, i.lead_id, {}) for i in items]
        current: dict[str, dict[str, Any]] = {}
        batches = self.reader.batches(rows)
        self._parallel(batches, lambda batch: current.update(self.reader.fetch(*batch)))
        missing = [i.instance_id for i in items if i.instance_id not in current]
        if self.kind.name == "objects":
            return current  # ``fetch`` already asked for each object its lead's list missed
        for iid in missing:  # a list may lag a write: only a 404 says it is gone
            if self.stop.is_set():
                break
            try:
                current[iid] = self.client.get(self.kind.instance_url(iid))
            except NotFound:
                continue
        return current

    def _undo(self, item: Item, current: Mapping[str, dict[str, Any]]) -> list[Line]:
        found = current.get(item.instance_id)
        decided = self.checker.decide(item, found, self.options.force)
        if decided is not None:
            status, error = decided
            if status in ("deleted", "restored", "already_gone") and not self.options.dry_run:
                self.journal.done(item.rows, status)
            return item.lines(status, error)
        if self.options.dry_run:
            return item.lines("would_delete" if item.action == "delete" else "would_restore")
        return self._send(item)

    def _send(self, item: Item) -> list[Line]:
        if self.stop.is_set():
            return []
        url = self.kind.instance_url(item.instance_id)
        self.journal.begin(item.rows)
        try:
            if item.action == "delete":
                self.client.delete(url)
                status = "deleted"
            else:
                self.client.put(url, item.previous)
                status = "restored"
        except NotFound:
            status = "deleted" if item.action == "delete" else "already_gone"
        except RequestRejected as exc:
            self.journal.failed(item.rows)
            return item.lines("failed", f"rejected by Close ({exc.status}): {exc.message}")
        except OutcomeUnknown:
            what = "DELETE" if item.action == "delete" else "PUT"
            return item.lines("failed", UNKNOWN.format(what))
        self.journal.done(item.rows, status)
        return item.lines(status)

    def _parallel(self, work_items: list[Any], work: Callable[[Any], Any]) -> None:
        """``work`` on each item from a pool; lines it returns are recorded here."""
        run_pool(
            work_items,
            functools.partial(self._guard, work),
            workers=max(1, self.options.concurrency),
            stop=self.stop,
            record=self._record,
            on_interrupt=self._interrupt,
            name="undo",
        )

    def _interrupt(self, pending: set[Future[Any]]) -> None:
        self.interrupted = True
        self.stop.set()
        self.progress.note("interrupted: letting the requests in flight finish")
        for fut in pending:
            self._record(fut.result())

    def _guard(self, work: Callable[[Any], Any], item: Any) -> Any:
        try:
            return work(item)
        except FatalError as exc:
            if self.fatal is None:
                self.fatal = exc
            self.stop.set()
            return None

    def _record(self, found: Any) -> None:
        if not isinstance(found, list):
            return
        lines = [line for line in found if isinstance(line, Line)]
        self.lines += lines
        if lines:
            self.progress.advance(lines[0].status, len(lines))
