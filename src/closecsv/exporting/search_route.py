"""The search route: the instances themselves through ``POST /data/search/``.

``object_type: activity.custom_activity`` (objects: ``custom_object``) with a ``term`` on the
type id and the export's ``date_created`` window, ``_fields`` naming every key a column is read
from (``custom.cf_…`` of every field of the selected types, plus the standard keys), sorted by
``date_created`` ascending, 200 per page, continued past the 10,000-per-walk cap by keyset
(:mod:`closecsv.close.search_stream`).  With ``--lead-query`` the leads found for it are
added to the query as a ``reference`` condition on ``lead_id``, 100 leads per search.

Evidence: Close documents Advanced Filtering for leads and contacts only; searching custom
activity instances this way is what a widely used community wrapper does (and custom objects
are read so by a public connector), so it may change without notice.  Hence a probe first
(:func:`probe_search`): one search of a few instances with the real query, ``_fields`` and
sort, checked for the search answer's shape, the wanted type, every standard key present
(``_fields`` honoured), ascending ``date_created``, and the first instance compared key by key
with the documented ``GET activity/custom/{id}/`` (``custom_object/{id}/``), which shows the
custom fields come back with the same values.  Whatever the probe says, every instance is
still filtered client-side by type, window and (with ``--lead-query``) lead.

Cost: ``ceil(N / 200)`` pages for ``N`` wanted instances (one more per 10,000 when a tie
spans a walk boundary, one more when the last page is exactly full), plus the probe (two
requests: one search, one GET).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from closecsv.close.api import SearchApi
from closecsv.close.search import SEARCH_PATH
from closecsv.close.search_stream import KeysetStream, date_created_sort, moment_of
from closecsv.errors import ApiError, RequestRejected
from closecsv.exporting.routes import SEARCH_PAGE, Scope

PROBE_LIMIT = 5
LEAD_CHUNK = 100


@dataclass(frozen=True)
class Probe:
    """What the first small search showed.  ``usable``: the answer had the right shape and
    content; ``verified``: besides, an instance agreed with its documented ``GET``."""

    usable: bool
    verified: bool
    reason: str
    wanted: int | None = None


def probe_search(api: SearchApi, scope: Scope) -> Probe:
    """One small search of the wanted instances, checked (see the module docstring)."""
    otype, fields = scope.object_type, list(scope.fields)
    body = {
        "query": scope.instances_query(),
        "_fields": {otype: fields},
        "_limit": PROBE_LIMIT,
        "sort": date_created_sort(otype),
        "include_counts": True,
    }
    try:
        answer = api.post(SEARCH_PATH, body)
    except RequestRejected as exc:
        return Probe(False, False, f"Close refused the search ({exc.status}: {exc.message})")
    except ApiError as exc:  # e.g. an answer that is not a JSON object, after the retries
        return Probe(False, False, f"the search failed ({exc.message})")
    problem = _shape_problem(answer, scope)
    if problem is not None:
        return Probe(False, False, problem)
    count = answer.get("count")
    total = count.get("total") if isinstance(count, dict) else None
    wanted = total if isinstance(total, int) and not isinstance(total, bool) else None
    data: list[dict[str, Any]] = answer["data"]
    if not data:
        return Probe(True, False, "the search found no instance to check", wanted)
    first = data[0]
    path = scope.kind.instance_url(str(first["id"]))
    try:
        documented = api.get(path)
    except RequestRejected as exc:
        return Probe(False, False, f"GET {path} failed ({exc.status}: {exc.message})", wanted)
    differs = [f for f in fields if not _same(first.get(f), documented.get(f))]
    if differs:
        shown = ", ".join(differs[:3]) + (" …" if len(differs) > 3 else "")
        return Probe(False, False, f"the search's {first['id']} differs from GET {path} on "
                     f"{shown}", wanted)  # fmt: skip
    return Probe(
        True,
        True,
        f"a probe of {len(data)} instances had every field in date_created order and "
        f"matched GET {scope.kind.instance_path}{{id}}/",
        wanted,
    )


def _shape_problem(answer: Any, scope: Scope) -> str | None:
    """Why the probe's answer cannot be a page of the wanted instances, or None."""
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        return "the answer is not a search page (no data list)"
    if "cursor" not in answer or not isinstance(answer["cursor"], str | None):
        return "the answer has no cursor"
    standard = [f for f in scope.fields if not f.startswith("custom.")]
    previous: datetime | None = None
    for item in answer["data"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return "a result is not an object with an id"
        if item.get("__object_type", scope.object_type) != scope.object_type:
            return f"it returned {item.get('__object_type')!r} objects"
        missing = [f for f in standard if f not in item]
        if missing:
            return f"it left out {', '.join(missing)} (_fields was not honoured)"
        if item.get(scope.kind.type_id_key) not in scope.type_ids:
            return f"it returned {item['id']}, not of a wanted type (the filter was ignored)"
        moment = moment_of(item)
        if moment is None or (previous is not None and moment < previous):
            return "the results are not in date_created order (the sort was ignored)"
        previous = moment
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal, counting missing, null, empty text and empty list as one, and timestamps by
    the moment they name (the two endpoints may write them differently)."""
    a, b = (None if v in (None, "", []) else v for v in (a, b))
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str) and "T" in a and "T" in b:
        first, second = moment_of({"date_created": a}), moment_of({"date_created": b})
        return first is not None and first == second
    return False


def search_cost(scope: Scope, leads: int, wanted: int | None) -> int:
    """Requests of the search route, the probe included (see the module docstring)."""
    pages = math.ceil((wanted or 0) / SEARCH_PAGE)
    if scope.lead_query is not None:
        pages += math.ceil(leads / LEAD_CHUNK)
    return 2 + max(pages, 1)


def search_route(api: SearchApi, scope: Scope, leads: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Every wanted instance, streamed in ``date_created`` order (per lead chunk)."""
    stream, otype = KeysetStream(api.post), scope.object_type
    fields = list(scope.fields)
    if scope.lead_query is None:
        yield from stream.stream(scope.instances_query(), otype, fields, SEARCH_PAGE)
        return
    ids = sorted(set(leads))
    for start in range(0, len(ids), LEAD_CHUNK):
        query = scope.instances_query()
        field = {"type": "regular_field", "object_type": otype, "field_name": "lead_id"}
        chunk = ids[start : start + LEAD_CHUNK]
        condition = {"type": "reference", "reference_type": "lead", "object_ids": chunk}
        query["queries"].append({"type": "field_condition", "field": field, "condition": condition})
        yield from stream.stream(query, otype, fields, SEARCH_PAGE)
