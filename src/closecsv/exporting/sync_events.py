"""What changed since the last sync: ids from Close's event log, values from the instances.

**Event walk.**  ``GET event/`` accepts only some filter combinations; ``object_type`` alone is
not one of them, so the walk is one per action (``created``, ``updated``, ``deleted``), each
``object_type`` + ``action`` + ``date_updated__gte``, newest first, ``_limit`` 50 (Close's cap),
followed by ``cursor_next`` until it is null (there is no ``_skip``).  The start is the last
run's start minus :data:`OVERLAP`: Close says events may become visible out of order and
advises scanning the latest five minutes again.  Events are used for ids and actions only:
``data`` and ``previous_data`` are dropped after an hour for keys of non-admin users.

**Fetch.**  Every created or updated id (not deleted: ids are never reused) is read again, so
a value is always the instance's current one, whatever happened in between:

* activities: ``GET activity/custom/?id__in=…``, 100 ids a request (the list's page size); 100
  ids make a URL of about 3,000 characters, past the 2,000 Close's docs warn about, so the
  client sends such a GET in Close's documented long form (``POST`` with
  ``x-http-method-override: GET`` and the parameters in the body);
* objects: ``GET custom_object/`` has no id filter and requires ``lead_id``, and
  ``GET custom_object/{id}/`` costs one request per object, so objects are read with
  ``POST data/search/`` (``object_type: custom_object`` and an ``or`` of documented ``id``
  nodes, as the export's org-wide route searches objects), 200 ids a request.

An id asked for and not returned was deleted in between: it is a delete.  Applying a change
set twice gives the same mirror (deletes drop, upserts replace), which is what lets a run
killed half-way be redone from the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from closecsv.close.api import SearchApi
from closecsv.close.kinds import ACTIVITIES, Kind

OVERLAP = timedelta(minutes=10)
EVENT_PAGE = 50
ACTIONS = ("created", "updated", "deleted")
ID_BATCH = 100
SEARCH_BATCH = 200
OBJECT_TYPES = {"activities": "activity.custom_activity", "objects": "custom_object"}


@dataclass
class EventIds:
    """The ids the event log names, by what happened to them."""

    touched: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    events: int = 0

    @property
    def to_fetch(self) -> list[str]:
        return sorted(self.touched - self.deleted)


def walk_events(api: SearchApi, kind: Kind, since: datetime) -> EventIds:
    """The ids of every instance of ``kind`` created, updated or deleted since ``since``."""
    found = EventIds()
    for action in ACTIONS:
        for event in _events(api, OBJECT_TYPES[kind.name], action, since):
            found.events += 1
            object_id = event.get("object_id")
            if not isinstance(object_id, str) or not object_id:
                continue
            (found.deleted if action == "deleted" else found.touched).add(object_id)
    return found


def _events(api: SearchApi, object_type: str, action: str, since: datetime) -> Iterator[Any]:
    params: dict[str, Any] = {
        "object_type": object_type,
        "action": action,
        "date_updated__gte": since.isoformat(timespec="microseconds"),
        "_limit": EVENT_PAGE,
    }
    cursor: str | None = None
    while True:
        body = api.get("event/", params if cursor is None else {**params, "_cursor": cursor})
        data = body.get("data")
        page = data if isinstance(data, list) else []
        yield from (e for e in page if isinstance(e, dict))
        nxt = body.get("cursor_next")
        if not page or not isinstance(nxt, str) or not nxt or nxt == cursor:
            return
        cursor = nxt


def chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def fetch_current(
    api: SearchApi, kind: Kind, ids: list[str], fields: list[str]
) -> list[dict[str, Any]]:
    """The current version of each of ``ids`` that still exists (any type)."""
    wanted = set(ids)
    if kind is ACTIVITIES:
        found: list[dict[str, Any]] = []
        for batch in chunks(ids, ID_BATCH):
            params = {"id__in": ",".join(batch)}
            found.extend(api.paginate(kind.instance_path, params, page_size=ID_BATCH))
    else:
        found = []
        for batch in chunks(ids, SEARCH_BATCH):
            nodes = [{"type": "id", "value": i} for i in batch]
            query = {"type": "and", "queries": [
                {"type": "object_type", "object_type": OBJECT_TYPES["objects"]},
                {"type": "or", "queries": nodes},
            ]}  # fmt: skip
            found.extend(
                api.search(query, {OBJECT_TYPES["objects"]: fields}, page_size=SEARCH_BATCH)
            )
    return [inst for inst in found if inst.get("id") in wanted]
