"""The read side of :class:`~closecsv.close.client.CloseClient` as a Protocol.

Modules that only read (lead resolution, export routes) depend on this rather than on the
client class, so their tests can hand them a scripted fake.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol


class ReadApi(Protocol):
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int | None = None
    ) -> Iterator[dict[str, Any]]: ...

    def search(
        self,
        query: dict[str, Any],
        fields: dict[str, list[str]],
        *,
        page_size: int = 200,
        sort: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]: ...


class SearchApi(ReadApi, Protocol):
    """Reads plus ``post`` (``/data/search/`` counts are POSTs)."""

    def post(self, path: str, json: Mapping[str, Any]) -> dict[str, Any]: ...
