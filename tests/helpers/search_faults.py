"""Transports that make the sandbox's search of instances behave as Close might one day:
refuse it, ignore ``_fields`` or the sort, or drop custom fields.  Other requests (the lead
searches among them) pass through untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Answer = dict[str, Any]


def _target(body: Any) -> str:
    """The object type a search body asks for (its top-level ``object_type`` node)."""
    query = body.get("query") if isinstance(body, dict) else None
    nodes = [query] if isinstance(query, dict) else []
    while nodes:
        node = nodes.pop(0)
        if node.get("type") == "object_type":
            return str(node.get("object_type"))
        if node.get("type") == "and":
            nodes += [q for q in node.get("queries", []) if isinstance(q, dict)]
    return "lead"


class SearchAltered(httpx.BaseTransport):
    """Hands requests to ``inner``; the answers of searches of ``object_type`` go through
    ``change`` first (``change=None``: refused with a 400 instead, as Close refuses an object
    type it does not search).  ``searches`` counts those searches."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        change: Callable[[Answer], Any] | None,
        object_type: str = "activity.custom_activity",
    ) -> None:
        self.inner, self.change, self.object_type = inner, change, object_type
        self.searches = 0

    def _ours(self, request: httpx.Request) -> bool:
        if not request.url.path.endswith("/data/search/"):
            return False
        return _target(json.loads(request.content or b"{}")) == self.object_type

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self._ours(request):
            return self.inner.handle_request(request)
        self.searches += 1
        if self.change is None:
            errors = {"query": f"Unsupported object_type {self.object_type!r}."}
            return httpx.Response(400, json={"errors": [], "field-errors": errors})
        response = self.inner.handle_request(request)
        response.read()
        if response.status_code != 200:
            return response
        return httpx.Response(200, json=self.change(response.json()))


def SearchRefused(
    inner: httpx.BaseTransport, object_type: str = "activity.custom_activity"
) -> SearchAltered:
    """Close answering a search of instances with a 400."""
    return SearchAltered(inner, None, object_type)


def bare_minimum(answer: Answer) -> Answer:
    """``_fields`` ignored: only ``__object_type`` and ``id`` come back."""
    keep = ("__object_type", "id")
    return {**answer, "data": [{k: o[k] for k in keep if k in o} for o in answer["data"]]}


def no_custom_fields(answer: Answer) -> Answer:
    """Custom fields left out of the results."""
    data = [{k: v for k, v in o.items() if not k.startswith("custom.")} for o in answer["data"]]
    return {**answer, "data": data}


def unsorted(answer: Answer) -> Answer:
    """The sort ignored: each page newest first."""
    return {**answer, "data": list(reversed(answer["data"]))}


def not_a_page(answer: Answer) -> Any:
    """Another shape than ``{"data": ..., "cursor": ...}``."""
    return {"results": answer["data"], "next": answer["cursor"]}
