"""Update rows, one instance at a time: each row is compared with the state the row before
it left.

Rows that name the same instance are applied in file order by one worker: the first is
compared with the instance as fetched, each later one with the instance after the previous
row (the answer of its PUT; in a dry run, the values it would have sent).  So a file that sets
a value and later sets it back ends with the last row's value, and the later row is
``updated`` (or ``would_update``), not ``unchanged``.  Different instances still go
concurrently.  When a row's answer is lost, the rows after it on that instance are not sent
in this run (their state is unknown); a rerun takes the rows not done, in order, from
Close's current state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from closecsv.importing.plan_rows import PlannedRow
from closecsv.importing.report import RowResult

Sent = dict[str, dict[int, dict[str, Any]]]  # dry run: instance id -> row -> body it would send


@dataclass(frozen=True)
class ToSend:
    """An update row's values that differ from the instance: the body of its PUT, the
    instance's values of those fields before it (the raw API values, kept by the journal so
    an undo can put them back) and the ``_changes`` text."""

    body: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    changes: str | None = None


Compared = RowResult | ToSend  # settled without a request (failed, unchanged, ...), or to send
Compare = Callable[[PlannedRow, Mapping[str, Any] | None], Compared]
Send = Callable[[PlannedRow, ToSend], tuple[RowResult | None, Mapping[str, Any] | None]]
CHANGED = ("updated", "would_update")  # the statuses whose rows carry their ``_changes``


def chains(rows: Iterable[PlannedRow]) -> list[list[PlannedRow]]:
    """The rows grouped by instance, each group in file order, groups by their first row."""
    by_instance: dict[str, list[PlannedRow]] = {}
    for row in sorted(rows, key=lambda r: r.row):
        by_instance.setdefault(row.instance_id or "", []).append(row)
    return list(by_instance.values())


def after(
    instance: Mapping[str, Any], body: Mapping[str, Any], answer: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The instance once ``body`` is applied: Close's answer where it gave one."""
    state = {**instance, **body}
    if answer:
        state.update(answer)
    return state


def as_left(
    row: PlannedRow, fetched: Mapping[str, Mapping[str, Any]], sent: Sent
) -> Mapping[str, Any] | None:
    """``row``'s instance as fetched, with what the rows before it in earlier slices of a dry
    run would have sent (only rows before: a pass started again sees none of the later)."""
    found = fetched.get(row.instance_id or "")
    earlier = sent.get(row.instance_id or "")
    if found is None or not earlier:
        return found
    state = dict(found)
    for at in sorted(n for n in earlier if n < row.row):
        state.update(earlier[at])
    return state


def run_chain(
    chain: list[PlannedRow],
    instance: Mapping[str, Any] | None,
    compare: Compare,
    send: Send,
    stopped: Callable[[], bool],
) -> list[RowResult]:
    """Each row of ``chain`` compared with the state the one before left, and sent if needed.

    ``compare`` gives a ``RowResult`` (failed, unchanged, ...) or the body ``ToSend``; ``send``
    gives the row's result (None: not finished) and Close's answer.  An updated row carries
    its ``_changes``.
    """
    results: list[RowResult] = []
    for at, row in enumerate(chain):
        if stopped():
            break
        outcome = compare(row, instance)
        if isinstance(outcome, RowResult):
            results.append(outcome)
            continue
        result, answer = send(row, outcome)
        if result is None:
            if not stopped():
                results += [_waiting(later, row) for later in chain[at + 1 :]]
            break
        if result.status in CHANGED:
            result = replace(result, changes=outcome.changes, changed=len(outcome.body))
        results.append(result)
        if result.status != "failed" and instance is not None:
            instance = after(instance, outcome.body, answer)
    return results


def _waiting(row: PlannedRow, earlier: PlannedRow) -> RowResult:
    reason = (
        f"not sent: row {earlier.row} before it updates the same instance and its outcome is "
        "unknown; run the same command again to send them in order"
    )
    return RowResult(row.row, "skipped", None, row.lead_id, reason)
