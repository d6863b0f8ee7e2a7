"""A transport that records every request on its way to another (usually the sandbox's)."""

from __future__ import annotations

from collections import Counter

import httpx

SEARCH = "data/search/"


class Counting(httpx.BaseTransport):
    """Records ``(method, path)`` of every request (path without ``/api/v1/``), then hands it
    to ``inner``; after ``revoke_after`` requests it answers 401 instead, as Close does for a
    key revoked mid-run."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []
        self.revoke_after: int | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path.removeprefix("/api/v1/")))
        if self.revoke_after is not None and len(self.calls) > self.revoke_after:
            return httpx.Response(401, json={"error": "Unauthorized"})
        return self.inner.handle_request(request)

    @property
    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def count(self, path: str) -> int:
        """Requests to ``path`` (e.g. ``"data/search/"``)."""
        return sum(p == path for _, p in self.calls)

    def writes(self) -> int:
        """POST and PUT requests, searches included."""
        return sum(m in ("POST", "PUT") for m in self.methods)

    def changes(self) -> Counter[str]:
        """Requests that can change Close (neither a GET nor a search), by method."""
        return Counter(m for m, p in self.calls if m != "GET" and p != SEARCH)
