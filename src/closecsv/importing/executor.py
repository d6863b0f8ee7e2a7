"""The executor of an import: reconcile lost answers, compare updates with Close, send
creates and updates from a thread pool, journal every row before the request and after the
answer, and stop cleanly on Ctrl-C or a fatal error (see :mod:`closecsv.importing.importer`).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from closecsv import defaults
from closecsv.close.client import CloseClient
from closecsv.close.kinds import Kind
from closecsv.errors import FatalError, OutcomeUnknown, RequestRejected
from closecsv.importing.changes import Emails, describe
from closecsv.importing.job import edited_error
from closecsv.importing.journal import Entry, Journal
from closecsv.importing.journal_entry import Written
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import PlannedRow
from closecsv.importing.pool import run_pool
from closecsv.importing.reconcile import Group, Reconciler, update_body
from closecsv.importing.report import (
    RowResult,
)
from closecsv.importing.updates import Compared, Sent, ToSend, as_left, chains, run_chain
from closecsv.progress import Progress

T = TypeVar("T")
MAX_ROUNDS = 5  # send/reconcile rounds for rows whose answers keep getting lost
NOT_SENT = "not sent: the run stopped first; run the same command again to resume"
IN_DOUBT = "outcome still unknown after retries; run the same command again to reconcile it"


@dataclass(frozen=True)
class SendSettings:
    """The executor's share of :class:`~closecsv.importing.options.ImportOptions`."""

    dry_run: bool = False
    concurrency: int = defaults.CONCURRENCY
    default_status: str = defaults.STATUS
    report_dir: Path | None = None
    settle_seconds: float = defaults.SETTLE_SECONDS  # wait before a reconcile looks again
    multi_separator: str = defaults.MULTI_SEPARATOR  # joins several values in ``_changes``

    @classmethod
    def from_options(cls, options: ImportOptions) -> SendSettings:
        return cls(
            dry_run=options.dry_run,
            concurrency=max(1, options.concurrency),
            default_status=options.status,
            report_dir=options.report_dir,
            settle_seconds=options.settle_seconds,
            multi_separator=options.multi_separator,
        )


@dataclass
class ExecutionState:
    """Mutable state of one execution, shared by the phases."""

    results: dict[int, RowResult] = field(default_factory=dict)
    keys: dict[int, int] = field(default_factory=dict)  # row -> position of the key that sent it
    fatal: FatalError | None = None
    interrupted: bool = False
    stop: threading.Event = field(default_factory=threading.Event)


class Executor:
    """Sends one plan's pending rows and collects their results (module docstring)."""

    def __init__(
        self,
        client: CloseClient,
        kind: Kind,
        settings: SendSettings,
        progress: Progress,
        journal: Journal | None,
        reconciler: Reconciler,
        creates: Collection[int] = (),
    ) -> None:
        self.client, self.kind = client, kind
        self.rows: list[PlannedRow] = []
        self.settings, self.progress, self.journal = settings, progress, journal
        self.state = ExecutionState()
        self.overlay: Sent = {}  # dry run: instance id -> row -> the body it would send
        self.id_label: str | None = None  # the id column, named as the file does (--map)
        self.known: Mapping[str, Mapping[str, Any]] = {}  # instances listed already (--key)
        self.keyed: Collection[int] = ()  # rows that update the instance their key matched
        self.emails: Emails | None = None  # user id -> email, for ``_changes``
        self.entries: dict[int, Entry] = {}
        self.edited: dict[int, Entry] = {}
        self.reconciler = reconciler
        if journal is not None:
            self.entries, self.edited = journal.match(set(creates)), journal.edited
            self.reconciler.claim(journal.instance_ids())

    # -- phases ------------------------------------------------------------------------------
    def run(self, rows: list[PlannedRow], settled: pl.DataFrame) -> ExecutionState:
        """Handle ``rows`` one by one; ``settled`` (outcomes already known) counts as done."""
        self.rows = rows
        try:
            self._phases(settled)
        except KeyboardInterrupt:
            self._interrupt(set())
        self._leftovers()
        return self.state

    def _phases(self, settled: pl.DataFrame) -> None:
        creates, updates, invalid = self._sort_rows()
        self.progress.start(len(self.rows) + settled.height, len(self.state.results))
        for status, n in settled.group_by("_status").len().sort("_status").iter_rows():
            self.progress.advance(status, n)
        self._record(_failed(row, row.error or "invalid row") for row in invalid)
        if updates:
            self._updates(updates)
        if creates:
            self._creates(creates)

    def _sort_rows(self) -> tuple[list[PlannedRow], list[PlannedRow], list[PlannedRow]]:
        """Take finished rows from the journal; return pending creates, updates, invalid rows."""
        sorted_rows: dict[str, list[PlannedRow]] = {"create": [], "update": [], "failed": []}
        for row in self.rows:
            entry = self.entries.get(row.row)
            if row.row in self.edited:  # sending it would make a second instance
                known = self.edited[row.row]
                error = edited_error(row.row, known, self.kind.id_column)
                made = known.instance_id if known.status == "created" else None
                sorted_rows["failed"].append(
                    replace(row, action="failed", error=error, instance_id=made)
                )
            elif row.action != "failed" and entry is not None and entry.state in ("done", "failed"):
                self.state.results[row.row] = _from_entry(entry, row)
            else:
                sorted_rows[row.action].append(row)
        return sorted_rows["create"], sorted_rows["update"], sorted_rows["failed"]

    def _updates(self, rows: list[PlannedRow]) -> None:
        current: dict[str, Mapping[str, Any]] = {
            iid: self.known[iid] for r in rows if (iid := r.instance_id or "") in self.known
        }
        lookups = self.reconciler.batches([r for r in rows if r.instance_id not in current])
        self._parallel(lookups, lambda batch: current.update(self.reconciler.fetch(*batch)))
        if self.state.stop.is_set():
            return
        to_send: list[tuple[list[PlannedRow], Mapping[str, Any] | None]] = []
        for chain in chains(rows):  # one instance's rows, in file order
            instance = as_left(chain[0], current, self.overlay)
            outcome = self._compare(chain[0], instance) if len(chain) == 1 else None
            if isinstance(outcome, RowResult):
                self._record([outcome])
            else:
                to_send.append((chain, instance))
        if to_send:
            self._parallel(to_send, lambda item: self._update_chain(*item))

    def _update_chain(
        self, chain: list[PlannedRow], instance: Mapping[str, Any] | None
    ) -> list[RowResult]:
        def send(
            row: PlannedRow, update: ToSend
        ) -> tuple[RowResult | None, Mapping[str, Any] | None]:
            result, answer = self._send_update(row, update)
            if self.settings.dry_run and result is not None:
                self.overlay.setdefault(row.instance_id or "", {})[row.row] = update.body
            return result, answer

        return run_chain(chain, instance, self._compare, send, self.state.stop.is_set)

    def _compare(self, row: PlannedRow, instance: Mapping[str, Any] | None) -> Compared:
        """A ``RowResult`` (failed, unchanged, or updated by an earlier run), else ``ToSend``."""
        what = f"{self.id_label or self.kind.id_column} {row.instance_id}"
        if instance is None:
            return _failed(row, f"{what}: no such {self.kind.noun}")
        found_type = instance.get(self.kind.type_id_key)
        if row.type_id is not None and row.type_id != found_type:
            return _failed(row, f"{what} is of type {found_type}, not {row.type_id}")
        fields = self.reconciler.fields
        body = update_body(row, instance, self.kind, fields)
        if body:
            before = {key: instance.get(key) for key in body}
            sep = self.settings.multi_separator
            changes = describe(body, before, lambda k: fields.of(found_type, k), sep, self.emails)
            return ToSend(body, before, changes)
        entry = self.entries.get(row.row)
        was_sent = entry is not None and entry.needs_reconcile
        status = "updated" if was_sent else "unchanged"
        if was_sent and entry is not None and entry.instance_id is None and row.row in self.keyed:
            status = "created"  # a create whose answer was lost: its key now finds it
        lead = instance.get("lead_id")
        if was_sent and self.journal is not None:  # the lost answer: its PUT had reached Close
            stamp = instance.get("date_updated")
            self.journal.done(row.row, status, row.instance_id, lead, date_updated=stamp)
        if was_sent and entry is not None and entry.changes:  # what the lost PUT changed
            changed = len(entry.previous() or {})
            return RowResult(row.row, status, row.instance_id, lead, None, entry.changes, changed)
        return RowResult(row.row, status, row.instance_id, lead)

    def _creates(self, rows: list[PlannedRow]) -> None:
        if self.settings.dry_run:
            self._record([RowResult(r.row, "would_create", None, r.lead_id) for r in rows])
            return
        doubtful = [r for r in rows if self._in_doubt(r)]
        fresh = [r for r in rows if not self._in_doubt(r)]
        for _ in range(MAX_ROUNDS):
            resend = self._reconcile(doubtful) if doubtful else []
            batch = fresh + resend
            if not batch or self.state.stop.is_set():
                return
            self._parallel(batch, self._send_create)
            fresh = []
            doubtful = [r for r in batch if r.row not in self.state.results]

    def _in_doubt(self, row: PlannedRow) -> bool:
        entry = self.entries.get(row.row)
        return entry is not None and entry.needs_reconcile

    def _reconcile(self, rows: list[PlannedRow]) -> list[PlannedRow]:
        """Resolve rows whose create may have happened; return those to send again."""
        resend: list[PlannedRow] = []
        lock = threading.Lock()

        def resolve(group: Group) -> list[RowResult]:
            outcomes = self.reconciler.resolve(group)
            results = [o for o in outcomes if isinstance(o, RowResult)]
            for result in results:
                self._journal_result(result)
            with lock:
                resend.extend(o for o in outcomes if not isinstance(o, RowResult))
            return results

        self._parallel(self.reconciler.groups(rows, self.entries), resolve)
        return sorted(resend, key=lambda r: r.row)

    def _leftovers(self) -> None:
        """Rows the run did not finish: stopped first, or still in doubt after the rounds."""
        stopped = self.state.stop.is_set()
        for row in (r for r in self.rows if r.row not in self.state.results):
            reason = IN_DOUBT if self._in_doubt(row) and not stopped else NOT_SENT
            self.state.results[row.row] = RowResult(row.row, "skipped", None, row.lead_id, reason)

    # -- sending -----------------------------------------------------------------------------
    def _send_create(self, row: PlannedRow) -> RowResult | None:
        body = dict(row.payload)
        if self.kind.name == "activities":
            body.setdefault("status", self.settings.default_status)
        request = lambda: self.client.post(self.kind.instance_path, body)  # noqa: E731
        answer = self._send(row, request, Written(written=body))
        if answer is None or isinstance(answer, RowResult):
            return answer
        lead = answer.get("lead_id", row.lead_id)
        return self._done(row, "created", str(answer["id"]), lead, answer.get("date_updated"))

    def _send_update(
        self, row: PlannedRow, update: ToSend
    ) -> tuple[RowResult | None, Mapping[str, Any] | None]:
        """The row's result (None: not finished) and Close's answer."""
        if self.settings.dry_run:
            return RowResult(row.row, "would_update", row.instance_id, row.lead_id), None
        path = self.kind.instance_url(row.instance_id or "")
        body = update.body
        record = Written(update.before, body, update.changes)
        answer = self._send(row, lambda: self.client.put(path, body), record)
        if answer is None or isinstance(answer, RowResult):
            return answer, None
        lead = answer.get("lead_id", row.lead_id)
        stamp = answer.get("date_updated")
        return self._done(row, "updated", row.instance_id, lead, stamp), answer

    def _send(self, row: PlannedRow, request: Callable[[], dict[str, Any]], record: Written) -> Any:
        """Journal (with what the request writes and, for an update, the values it replaces:
        committed before it goes out, so an undo knows them even if the answer is lost), send,
        classify.  None: not finished (stopped, or the answer was lost)."""
        if self.state.stop.is_set() or self.journal is None:
            return None
        self.journal.begin(row.row, time.time(), replace(record, target=row.instance_id))
        self.entries[row.row] = Entry(row.row, "in_flight", attempt_start=time.time())
        try:
            answer = request()
            self._sent_with(row)
            return answer
        except RequestRejected as exc:
            self._sent_with(row)
            self.journal.failed(row.row, exc.message)
            return _failed(row, f"rejected by Close ({exc.status}): {exc.message}")
        except OutcomeUnknown as exc:
            self.journal.unknown(row.row, exc.cause)
            return None
        except FatalError as exc:
            self._halt(exc)
            return None

    def _sent_with(self, row: PlannedRow) -> None:
        """Note which key carried ``row`` (several keys: the results file says so)."""
        position = self.client.sent_with()
        if position is not None and self.client.keys.count > 1:
            self.state.keys[row.row] = position

    def _done(
        self, row: PlannedRow, status: str, iid: str | None, lead: Any, stamp: Any = None
    ) -> RowResult:
        """``stamp``: the instance's ``date_updated`` in Close's answer (for undo's checks)."""
        lead_id = str(lead) if lead else row.lead_id
        if iid is not None:
            self.reconciler.claim([iid])
        if self.journal is not None:
            stamp = stamp if isinstance(stamp, str) else None
            self.journal.done(row.row, status, iid, lead_id, date_updated=stamp)
        return RowResult(row.row, status, iid, lead_id)

    def _journal_result(self, result: RowResult) -> None:
        if self.journal is None:
            return
        if result.status == "failed":
            self.journal.failed(result.row, result.error or "", result.instance_id)
        else:
            self.journal.done(result.row, result.status, result.instance_id, result.lead_id)

    def _halt(self, exc: FatalError) -> None:
        if self.state.fatal is None:
            self.state.fatal = exc
        self.state.stop.set()

    # -- the pool ----------------------------------------------------------------------------
    def _parallel(self, items: Sequence[T], work: Callable[[T], Any]) -> None:
        """Run ``work`` on each item from a pool; record what it returns, in this thread."""
        run_pool(
            items,
            functools.partial(self._guard, work),
            workers=self.settings.concurrency * self.client.keys.count,  # per key
            stop=self.state.stop,
            record=lambda found: self._record(_as_list(found)),
            on_interrupt=self._interrupt,
            name="send",
        )

    def _guard(self, work: Callable[[T], Any], item: T) -> Any:
        try:
            return work(item)
        except FatalError as exc:
            self._halt(exc)
            return None

    def _interrupt(self, pending: set[Future[Any]]) -> None:
        self.state.interrupted = True
        self.state.stop.set()
        self.progress.note(
            "interrupted: letting the requests in flight finish (Ctrl-C again to quit)"
        )
        try:
            for fut in pending:
                self._record(_as_list(fut.result()))
        except KeyboardInterrupt:
            for fut in pending:
                fut.cancel()

    def _record(self, results: Iterable[RowResult]) -> None:
        for result in results:
            if result.row not in self.state.results:
                self.state.results[result.row] = result
                self.progress.advance(result.status)


def _as_list(value: Any) -> list[RowResult]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, RowResult)]


def _failed(row: PlannedRow, error: str) -> RowResult:
    return RowResult(row.row, "failed", row.instance_id, row.lead_id, error)


def _from_entry(entry: Entry, row: PlannedRow) -> RowResult:
    status = entry.status or ("failed" if entry.state == "failed" else "created")
    lead = entry.lead_id or row.lead_id
    changes = entry.changes if status == "updated" else None
    changed = len(entry.previous() or {}) if changes else 0
    return RowResult(row.row, status, entry.instance_id, lead, entry.error, changes, changed)
