"""Reads the importer makes before it writes: current instances and lost creates.

*Current instances* of update rows are fetched in batches (activities by ``id__in``, objects
per lead), so an update can send only what differs and a no-op costs no PUT.

*Reconcile*: a create whose answer was lost (the process was killed mid-request, or the
connection dropped after Close committed) may or may not exist.  Rows in doubt are grouped by
lead, type and payload; the lead's instances of that type are listed and matched on every
payload value (with :func:`closecsv.importing.values.same_value`).  Instances already claimed by
another
row of the job are skipped; when the payload does not set ``date_created``, only instances
created after the attempt started (minus a clock skew) count.  Then, per group of ``n`` rows
with ``m`` matches: ``m <= n`` gives ``m`` rows their instance (``created``) and sends the
others again; ``m > n`` means someone or something made extra copies: the rows fail with
"needs review" and the ids, and nothing is deleted.  A match list that comes back short is
looked at once more when fewer than ``settle_seconds`` had passed since the send (waiting out
the rest first), because Close's lists can lag a write (docs/CLOSE_API.md, Consistency:
30–60 s was seen on lead lists; for activity lists the lag is unknown, so it is an option).

Limit: a row that sets ``date_created`` itself cannot be bounded in time, so an identical
instance (same lead, type, date and values) made outside this job would be taken as the
row's own; the row then reads ``created`` with that id and no second copy is made.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from closecsv.close.kinds import Kind
from closecsv.close.schema import FieldInfo, Schema
from closecsv.errors import InputError, NotFound
from closecsv.files.moments import parse_iso
from closecsv.importing.journal import Entry
from closecsv.importing.plan import PlannedRow
from closecsv.importing.report import RowResult
from closecsv.importing.values import same_value

SKEW_SECONDS = 600.0  # how far Close's clock may be behind ours
ID_PARAM_CHARS = 1800  # keep id__in URLs under the ~2000 characters Close's docs warn of
IMMUTABLE = ("lead_id",)
STANDARD_TYPES = {"date_created": "datetime", "activity_at": "datetime"}


class Reader(Protocol):
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class Group:
    """Rows in doubt that would create the same instance."""

    lead_id: str
    type_id: str
    rows: tuple[PlannedRow, ...]
    since: float  # earliest attempt start, wall-clock seconds
    latest: float = 0.0  # latest attempt start: the settle delay counts from it


class Fields:
    """The field (type) behind an API key, for comparing values the way Close stores them."""

    def __init__(self, schema: Schema, kind: Kind) -> None:
        self.schema, self.kind = schema, kind

    def warm(self, type_ids: Iterable[str | None]) -> None:
        """Load the types' fields now (from one thread) so workers only read them."""
        for type_id in set(type_ids):
            self._type_fields(type_id)

    def _type_fields(self, type_id: str | None) -> tuple[FieldInfo, ...]:
        if not type_id:
            return ()
        try:
            return self.schema.find(self.kind, type_id).fields
        except InputError:
            return ()

    def of(self, type_id: str | None, key: str) -> FieldInfo:
        if key.startswith("custom."):
            ref = key.removeprefix("custom.")
            found = next((f for f in self._type_fields(type_id) if f.id == ref), None)
            if found is not None:
                return found
        return FieldInfo(id=key, name=key, type=STANDARD_TYPES.get(key, "text"))

    def same(self, type_id: str | None, key: str, given: Any, current: Any) -> bool:
        return same_value(given, current, self.of(type_id, key))


def update_body(
    row: PlannedRow, instance: Mapping[str, Any], kind: Kind, fields: Fields
) -> dict[str, Any]:
    """The values of an update row that differ from ``instance`` (``{}``: nothing to do)."""
    type_id = instance.get(kind.type_id_key)
    skip = {kind.type_id_key, *IMMUTABLE}
    body = {
        key: value
        for key, value in row.payload.items()
        if key not in skip and not fields.same(type_id, key, value, instance.get(key))
    }
    body.update({key: None for key in row.clear if not _is_empty(instance.get(key))})
    return body


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _stamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value).timestamp()
    except ValueError:
        return None


class Reconciler:
    """Thread-safe: one instance serves all the importer's workers."""

    def __init__(
        self,
        client: Reader,
        fields: Fields,
        settle_seconds: float,
        sleep: Callable[[float], None],
    ) -> None:
        self.client, self.fields, self.kind = client, fields, fields.kind
        self.settle_seconds, self.sleep = settle_seconds, sleep
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    # -- current state of update rows -----------------------------------------------------------
    def batches(self, rows: Iterable[PlannedRow]) -> list[tuple[str | None, list[str]]]:
        """``(lead_id, ids)`` lookups covering the rows' instance ids."""
        ids = list(dict.fromkeys(r.instance_id for r in rows if r.instance_id))
        if self.kind.name == "activities":
            return [(None, chunk) for chunk in _chunks(ids)]
        by_lead: dict[str | None, list[str]] = {}
        lead_of = {r.instance_id: r.lead_id for r in rows}
        for iid in ids:
            by_lead.setdefault(lead_of.get(iid), []).append(iid)
        return list(by_lead.items())

    def fetch(self, lead_id: str | None, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The instances among ``ids`` that exist, by id (one by one where a list missed)."""
        path = self.kind.instance_path
        found: Iterable[dict[str, Any]] = ()
        if self.kind.name == "activities":
            found = self.client.paginate(path, {"id__in": ",".join(ids)})
        elif lead_id is not None:
            found = self.client.paginate(path, {"lead_id": lead_id})
        wanted = set(ids)
        got = {str(i["id"]): i for i in found if i.get("id") in wanted}
        missing = [i for i in ids if i not in got] if self.kind.name == "objects" else []
        got.update({i: inst for i in missing if (inst := self._get_one(i)) is not None})
        return got

    def _get_one(self, iid: str) -> dict[str, Any] | None:
        try:
            return self.client.get(self.kind.instance_url(iid))
        except NotFound:
            return None

    # -- lost creates -----------------------------------------------------------------------------
    def groups(self, rows: Iterable[PlannedRow], entries: Mapping[int, Entry]) -> list[Group]:
        """Rows in doubt grouped by what they would create, with their earliest attempt."""
        now = time.time()
        starts = {n: e.attempt_start for n, e in entries.items() if e.attempt_start is not None}
        buckets: dict[tuple[str, str, str], list[PlannedRow]] = {}
        for row in rows:
            key = (row.lead_id or "", row.type_id or "", _canonical(row.payload))
            buckets.setdefault(key, []).append(row)
        return [
            Group(
                lead,
                type_id,
                tuple(members),
                min(starts.get(m.row, now) for m in members),
                max(starts.get(m.row, now) for m in members),
            )
            for (lead, type_id, _), members in buckets.items()
        ]

    def claim(self, ids: Iterable[str]) -> None:
        with self._lock:
            self._claimed.update(ids)

    def resolve(self, group: Group) -> list[RowResult | PlannedRow]:
        """Each row of ``group``: a ``RowResult`` (found, or needs review) or itself (resend)."""
        found = self._candidates(group)
        if len(found) < len(group.rows) and self._settle(group):
            found = self._candidates(group)
        with self._lock:
            free = [i for i in found if i not in self._claimed]
            if len(free) > len(group.rows):
                return [_needs_review(row, free) for row in group.rows]
            self._claimed.update(free)
        assigned: list[RowResult | PlannedRow] = [
            RowResult(row.row, "created", iid, group.lead_id)
            for row, iid in zip(group.rows, free, strict=False)
        ]
        return assigned + list(group.rows[len(free) :])

    def _settle(self, group: Group) -> bool:
        """Wait until ``settle_seconds`` have passed since the group's last send.

        True when a second look is worth it: the first look came sooner than that after the
        send, so a lagging list may not have shown the write yet.  A rerun long after a kill
        looks once; groups of one round wait together, not one after another.
        """
        if self.settle_seconds <= 0:
            return False
        # min(): a wall clock set back after the send must not turn into a long sleep.
        remaining = min(self.settle_seconds, self.settle_seconds - (time.time() - group.latest))
        if remaining <= 0:
            return False
        self.sleep(remaining)
        return True

    def _candidates(self, group: Group) -> list[str]:
        payload = group.rows[0].payload
        params = {"lead_id": group.lead_id, self.kind.type_id_key: group.type_id}
        listing = self.client.paginate(self.kind.instance_path, params)
        timed = "date_created" not in payload
        since = group.since - SKEW_SECONDS
        return [
            str(inst["id"])
            for inst in listing
            if self._matches(group.type_id, payload, inst)
            and (not timed or (_stamp(inst.get("date_created")) or 0.0) >= since)
        ]

    def _matches(
        self, type_id: str, payload: Mapping[str, Any], instance: Mapping[str, Any]
    ) -> bool:
        """Every value the create sent is the instance's value."""
        return all(
            self.fields.same(type_id, key, value, instance.get(key))
            for key, value in payload.items()
        )


def _needs_review(row: PlannedRow, ids: list[str]) -> RowResult:
    return RowResult(
        row.row,
        "failed",
        None,
        row.lead_id,
        f"needs review: its create was sent but the answer was lost, and {len(ids)} matching "
        f"{', '.join(ids)} exist on Close; nothing was deleted; keep one and import no more",
    )


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, default=str)


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for iid in ids:
        if chunk and (size + len(iid) + 1 > ID_PARAM_CHARS or len(chunk) == 100):
            yield chunk
            chunk, size = [], 0
        chunk.append(iid)
        size += len(iid) + 1
    if chunk:
        yield chunk
