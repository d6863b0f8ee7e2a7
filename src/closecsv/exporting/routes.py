"""How an export reads instances from Close: the documented routes and their cost model.

The third route, searching the instances themselves, is in
:mod:`closecsv.exporting.search_route`; :mod:`closecsv.exporting.route_choice` picks one.

**Lead route.**  ``POST /data/search/`` for the leads that have instances of the wanted types
(``has_related`` lead→``activity.custom_activity`` or lead→``custom_object`` with a ``term`` on
the type id, and a ``moment_range`` on ``date_created`` when the export has a window), then per
lead one paged ``GET activity/custom/?lead_id=…&custom_activity_type_id__in=…`` covering every
wanted type at once (objects: ``GET custom_object/?lead_id=…``).  ``--lead-query`` narrows the
leads; every route then keeps only the instances of those leads.

**Org-wide route.**  Activities: ``GET activity/custom/`` with no type filter, windowed on
``date_created`` by :meth:`CloseClient.paginate` so no request passes the ``_skip`` cap; other
types are dropped client-side.  Objects: ``/data/search/`` with ``object_type: custom_object``
and a ``term`` on ``custom_object_type_id`` (``/custom_object/`` needs a ``lead_id``).  Lead
names come from the same lead search as the lead route (one request per 200 leads).

**Cost model** (requests; ``L`` leads with wanted instances, ``N`` wanted instances, ``A`` all
custom activities in the window, ``S = ceil(L/200)`` lead-search pages; pages hold 100 list
items or 200 search results)::

    lead route  = S + max(L, ceil(N / 100))        # one request per lead, more for big leads
    org route   = S + ceil(A / 100)                # activities; windows add a few requests
    org route   = S + ceil(N / 200)                # objects

``L``, ``N`` and ``A`` are counted with ``include_counts`` searches (three requests).  When Close
refuses a count (``activity.custom_activity`` search is not documented), ``A`` is bounded
with one ``_skip`` probe at ``100·L``: an empty page means the org route is not dearer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from closecsv.close.api import SearchApi
from closecsv.close.kinds import ACTIVITIES, Kind
from closecsv.close.paging import Window
from closecsv.close.shapes import ListPage, require
from closecsv.errors import RequestRejected

LIST_PAGE = 100
SEARCH_PAGE = 200
BATCH = 500
OBJECT_WINDOW = 5000
ACTIVITY_OBJECT = "activity.custom_activity"
OBJECT_OBJECT = "custom_object"


@dataclass(frozen=True)
class Scope:
    """What one export reads: a kind, its wanted types, a window, and an optional lead query."""

    kind: Kind
    type_ids: tuple[str, ...]
    window: Window
    lead_query: dict[str, Any] | None = None
    fields: tuple[str, ...] = ()  # the instance keys the columns need (search route's _fields)

    @property
    def object_type(self) -> str:
        return ACTIVITY_OBJECT if self.kind is ACTIVITIES else OBJECT_OBJECT

    def instances_query(self, *, typed: bool = True) -> dict[str, Any]:
        """Search query for the instances themselves (``typed=False``: every type)."""
        queries: list[dict[str, Any]] = [{"type": "object_type", "object_type": self.object_type}]
        if typed:
            queries.append(_term(self.object_type, self.kind.type_id_key, list(self.type_ids)))
        condition = self.window.condition()
        if condition is not None:
            field = {"type": "regular_field", "object_type": self.object_type}
            field["field_name"] = "date_created"
            queries.append({"type": "field_condition", "field": field, "condition": condition})
        return {"type": "and", "queries": queries}

    def leads_query(self) -> dict[str, Any]:
        """Search query for the leads that hold wanted instances (within the window)."""
        related = self.instances_query()
        related = {"type": "and", "queries": related["queries"][1:] or [{"type": "match_all"}]}
        queries: list[dict[str, Any]] = [
            {"type": "object_type", "object_type": "lead"},
            {
                "type": "has_related",
                "this_object_type": "lead",
                "related_object_type": self.object_type,
                "related_query": related,
            },
        ]
        if self.lead_query is not None:
            queries.append(self.lead_query)
        return {"type": "and", "queries": queries}


def _term(object_type: str, field_name: str, values: list[str]) -> dict[str, Any]:
    return {
        "type": "field_condition",
        "field": {"type": "regular_field", "object_type": object_type, "field_name": field_name},
        "condition": {"type": "term", "values": values},
    }


def find_leads(api: SearchApi, scope: Scope) -> dict[str, str]:
    """``{lead id: display name}`` of the leads with wanted instances."""
    found = api.search(scope.leads_query(), {"lead": ["id", "display_name"]}, page_size=SEARCH_PAGE)
    return {str(lead["id"]): str(lead.get("display_name") or "") for lead in found}


def lead_names(api: SearchApi, lead_ids: Iterable[str]) -> dict[str, str]:
    """Display names of specific leads, 200 per search."""
    ids = sorted(set(lead_ids))
    names: dict[str, str] = {}
    for start in range(0, len(ids), SEARCH_PAGE):
        chunk = [{"type": "id", "value": i} for i in ids[start : start + SEARCH_PAGE]]
        query = {"type": "and", "queries": [
            {"type": "object_type", "object_type": "lead"}, {"type": "or", "queries": chunk},
        ]}  # fmt: skip
        for lead in api.search(query, {"lead": ["id", "display_name"]}, page_size=SEARCH_PAGE):
            names[str(lead["id"])] = str(lead.get("display_name") or "")
    return names


def count(api: SearchApi, query: dict[str, Any]) -> int | None:
    """How many objects ``query`` matches, or None when Close refuses to count them."""
    try:
        body = api.post(
            "data/search/", {"query": query, "include_counts": True, "results_limit": 0}
        )
    except RequestRejected:
        return None
    total = body.get("count", {}).get("total")
    return int(total) if isinstance(total, int) else None


@dataclass(frozen=True)
class Estimate:
    leads: int
    wanted: int | None
    scanned: int | None
    lead_cost: int
    org_cost: int
    search_cost: int | None = None  # None: the search route was not considered
    reason: str = ""  # why the route was taken

    @property
    def cheaper(self) -> str:
        return "org" if self.org_cost <= self.lead_cost else "lead"


def estimate(api: SearchApi, scope: Scope, leads: int) -> Estimate:
    """Request cost of each route (see the module docstring)."""
    search = math.ceil(leads / SEARCH_PAGE)
    wanted = count(api, scope.instances_query())
    lead_cost = search + max(leads, math.ceil((wanted or 0) / LIST_PAGE))
    if scope.kind is not ACTIVITIES:
        org = search + math.ceil((wanted if wanted is not None else leads) / SEARCH_PAGE)
        return Estimate(leads, wanted, wanted, lead_cost, org)
    scanned = count(api, scope.instances_query(typed=False))
    if scanned is None:
        scanned = _probe(api, scope, LIST_PAGE * leads)
    org = search + math.ceil(scanned / LIST_PAGE) if scanned is not None else lead_cost + 1
    return Estimate(leads, wanted, scanned, lead_cost, org)


def _probe(api: SearchApi, scope: Scope, threshold: int) -> int | None:
    """``threshold - 1`` when the org-wide list ends before ``threshold``; None otherwise."""
    params = {**scope.window.params(), "_limit": 1, "_skip": max(threshold - 1, 0)}
    try:
        body = api.get(scope.kind.instance_path, params)
    except RequestRejected:
        return None
    page = require(ListPage, body, f"GET {scope.kind.instance_path}")
    return None if page.data else max(threshold - 1, 0)


def batched(items: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def lead_route(api: SearchApi, scope: Scope, lead_ids: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Every instance of the wanted types on each lead, lead by lead."""
    for lead_id in lead_ids:
        yield from api.paginate(
            scope.kind.instance_path, _lead_params(scope, lead_id), page_size=LIST_PAGE
        )


def _lead_params(scope: Scope, lead_id: str) -> dict[str, str]:
    if scope.kind is ACTIVITIES:
        types = {"custom_activity_type_id__in": ",".join(scope.type_ids)}
        return {"lead_id": lead_id, **types, **scope.window.params()}
    if len(scope.type_ids) == 1:
        return {"lead_id": lead_id, "custom_object_type_id": scope.type_ids[0]}
    return {"lead_id": lead_id}


def org_route(api: SearchApi, scope: Scope, fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every instance in the window, whatever its lead (and, for activities, its type)."""
    if scope.kind is ACTIVITIES:
        yield from api.paginate(
            scope.kind.instance_path, scope.window.params(), page_size=LIST_PAGE
        )
        return
    for window in object_windows(api, scope, scope.window):
        query = replace(scope, window=window).instances_query()
        yield from api.search(query, {OBJECT_OBJECT: fields}, page_size=SEARCH_PAGE)


def object_windows(api: SearchApi, scope: Scope, window: Window) -> Iterator[Window]:
    """``window`` cut in halves until each holds at most :data:`OBJECT_WINDOW` objects, so a
    search result (which the client returns whole) stays small."""
    found = count(api, replace(scope, window=window).instances_query())
    halves = window.split(datetime.now(UTC))
    if found is None or found <= OBJECT_WINDOW or halves is None:
        yield window
        return
    for half in halves:
        yield from object_windows(api, scope, half)
