"""The in-memory order of the event log: built on first use, then kept in step with writes.

Events are ordered by ``(date_updated, seq, id)``, where ``seq`` (the event's hidden ``_seq``)
grows with every recording or consolidation, so two events stamped in the same microsecond
keep the order in which they were written.  :class:`State` calls :meth:`EventIndex.changed`
on every ``put``/``delete`` and :meth:`EventIndex.reset` when it rebuilds (after a rolled-back
request); nothing here is persisted: it is rebuilt from the ``events`` collection.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Key = tuple[str, int, str]
EVENTS = "events"


def event_key(event: Obj) -> Key:
    return (event["date_updated"], event["_seq"], event["id"])


class EventIndex:
    """Sorted keys of every stored event, the newest event of each object, the top ``seq``."""

    def __init__(self, events: Callable[[], dict[str, Obj]]) -> None:
        self._events = events
        self._keys: list[Key] | None = None
        self._latest: dict[str, str] = {}
        self._top = 0

    def _build(self) -> list[Key]:
        keys = sorted(event_key(e) for e in self._events().values())
        self._latest, self._top = {}, 0
        by_seq = sorted(self._events().values(), key=lambda e: e["_seq"])
        for event in by_seq:
            self._latest[event["object_id"]] = event["id"]
            self._top = max(self._top, event["_seq"])
        self._keys = keys
        return keys

    def keys(self) -> list[Key]:
        """Every stored event's key, oldest first."""
        return self._build() if self._keys is None else self._keys

    def latest(self, object_id: str) -> Obj | None:
        """The most recently written event of ``object_id``, if any is stored."""
        self.keys()
        eid = self._latest.get(object_id)
        return None if eid is None else self._events().get(eid)

    def next_seq(self) -> int:
        self.keys()
        self._top += 1
        return self._top

    def changed(self, coll: str, old: Obj | None, new: Obj | None) -> None:
        if coll != EVENTS or self._keys is None:
            return
        keys = self._keys
        if old is not None:
            at = bisect.bisect_left(keys, event_key(old))
            if at < len(keys) and keys[at] == event_key(old):
                del keys[at]
            if new is None and self._latest.get(old["object_id"]) == old["id"]:
                del self._latest[old["object_id"]]
        if new is not None:
            bisect.insort(keys, event_key(new))
            self._top = max(self._top, new["_seq"])
            current = self.latest(new["object_id"])
            if current is None or current["_seq"] <= new["_seq"]:
                self._latest[new["object_id"]] = new["id"]

    def reset(self) -> None:
        self._keys = None
