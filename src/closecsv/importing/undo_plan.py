"""What an undo has to do, from the import journal: one :class:`Item` per instance the job
created or changed, and what is settled without a request.

An instance the job created is deleted, whatever later rows of the job did to it.  An
instance it only updated gets back, for each field the job changed, the value it had before
the job's first change of that field; the job's last written value of each field (and the
``date_updated`` of its last answer) is what an instance nobody touched since still has, and
what the conflict check compares with.  Rows the job left ``unchanged``, ``failed`` or
``skipped`` need nothing and are not listed.  A row whose send is still in doubt (the import
was stopped and not run again) cannot be undone safely: it is ``failed``, asking for the
import to be run again first.  A row an earlier undo finished is listed with the status it
got then and costs no request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from closecsv.importing.undo_journal import JournalRow, UndoLine

WROTE = ("created", "updated")
IN_DOUBT = (
    "the import of this row was sent but its answer never came (the import was stopped); "
    "run the same import command again first (it checks Close and settles the row), then undo"
)
NO_PREVIOUS = (
    "this update was recorded by an older closecsv, which did not keep the values it "
    "replaced; it cannot be put back (the instances the import created can be deleted)"
)


@dataclass(frozen=True)
class Line:
    """One row of the undo's results: ``_row``, ``_id``, ``_status``, ``_error``."""

    row: int
    instance_id: str | None
    status: str
    error: str | None = None


@dataclass
class Item:
    """One instance to reverse: deleted (``create``d by the job) or ``restore``d."""

    instance_id: str
    lead_id: str | None
    rows: list[JournalRow]
    action: str  # "delete" or "restore"
    previous: dict[str, Any] = field(default_factory=dict)  # restore: the values to put back
    written: dict[str, Any] = field(default_factory=dict)  # the job's last value of each field
    date_updated: str | None = None  # from the answer to the job's last write
    in_flight: bool = False  # an earlier undo sent its request and may not know the outcome

    def lines(self, status: str, error: str | None = None) -> list[Line]:
        return [Line(r.entry.row, self.instance_id, status, error) for r in self.rows]


@dataclass
class UndoPlan:
    items: list[Item]
    settled: list[Line]  # done by an earlier undo, or failed without a request


def plan_undo(rows: Iterable[JournalRow], done: Mapping[int, UndoLine]) -> UndoPlan:
    """The items and settled lines of the journal's ``rows`` (``done``: the undo table)."""
    groups: dict[str, list[JournalRow]] = {}
    settled: list[Line] = []
    for row in rows:
        entry, line = row.entry, done.get(row.id)
        if line is not None and line.attempts == row.attempts and line.state == "done":
            settled.append(Line(entry.row, entry.instance_id, line.status or "deleted"))
        elif entry.needs_reconcile:
            settled.append(Line(entry.row, entry.instance_id, "failed", IN_DOUBT))
        elif entry.state == "done" and entry.status in WROTE and entry.instance_id:
            groups.setdefault(entry.instance_id, []).append(row)
    items = []
    for iid, members in groups.items():
        item = _item(iid, members, done)
        if item.action == "restore" and any(r.entry.previous() is None for r in members):
            settled += item.lines("failed", NO_PREVIOUS)
        else:
            items.append(item)
    return UndoPlan(items, settled)


def _item(iid: str, rows: list[JournalRow], done: Mapping[int, UndoLine]) -> Item:
    ordered = sorted(rows, key=lambda r: (r.entry.attempt_start or 0.0, r.id))
    created = any(r.entry.status == "created" for r in ordered)
    item = Item(iid, ordered[0].entry.lead_id, ordered, "delete" if created else "restore")
    for row in ordered:
        for key, value in (row.entry.previous() or {}).items():
            item.previous.setdefault(key, value)  # the value before the job's first change
        item.written.update(row.entry.written() or {})
        item.date_updated = row.entry.date_updated  # None (not known): no date check
    item.in_flight = any(
        (line := done.get(r.id)) is not None
        and line.state == "in_flight"
        and line.attempts == r.attempts
        for r in ordered
    )
    return item
