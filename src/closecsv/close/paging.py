"""Paging over Close list endpoints (``_skip``/``_limit``); search: :mod:`closecsv.close.search`.

Offset paging (docs/CLOSE_API.md, Paging) stays within each endpoint's ``_limit`` maximum
and ``_skip`` cap (:data:`KNOWN_LIMITS`).  A list longer than the cap is cut into half-open
``date_created`` windows ``[gte, lt)``: before a window is paged past its first page, a probe
(``_skip=<cap>&_limit=1``) says whether it fits; a window that does not is split in halves.
Windows are disjoint, so each object is yielded exactly once whatever the API's sort order.
Only endpoints that accept ``date_created`` filters (activities) can be windowed; for others
the cap is an :class:`ApiError` raised before anything is yielded.

The API is trusted over the table: a 400 field error on ``_limit`` halves the page size, and
the "maximum skip" 400 lowers the cap to the one it names.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from closecsv.close.shapes import ListPage, require
from closecsv.errors import ApiError, RequestRejected

Obj = dict[str, Any]
Fetch = Callable[[str, Mapping[str, Any]], Obj]


@dataclass(frozen=True)
class EndpointLimits:
    """What one list endpoint accepts: the largest ``_limit``, the largest ``_skip``, and
    whether it filters on ``date_created__gte``/``__lt`` (so can be windowed)."""

    max_limit: int
    max_skip: int
    windowable: bool


KNOWN_LIMITS: Mapping[str, EndpointLimits] = {
    # observed: _limit=1000 refused, max _skip 35000 [LIVE]; leads are read through search()
    "lead/": EndpointLimits(max_limit=200, max_skip=35_000, windowable=False),
    # max_skip = 250000 seen on /activity/email/ [CONNECTOR]; inferred for the other lists
    "activity/": EndpointLimits(max_limit=100, max_skip=250_000, windowable=True),
    "activity/custom/": EndpointLimits(max_limit=100, max_skip=250_000, windowable=True),
}
DEFAULT_LIMITS = EndpointLimits(max_limit=100, max_skip=250_000, windowable=False)
"""Any other list: Close's default page size, and an assumed cap (the API's 400 corrects it)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_SPLIT = datetime(9000, 1, 1, tzinfo=UTC)
_MAX_SKIP = re.compile(r"max(?:imum)?[ _]skip", re.I)
_MAX_SKIP_VALUE = re.compile(r"max_skip\s*=\s*(\d+)", re.I)


class LimitTable:
    """:data:`KNOWN_LIMITS` with overrides and what the API taught us.  Thread-safe."""

    def __init__(
        self, skip_caps: Mapping[str, int] | None = None, max_skip: int | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._table = dict(KNOWN_LIMITS)
        self._max_skip = max_skip
        for path, cap in (skip_caps or {}).items():
            self._table[path] = replace(self._table.get(path, DEFAULT_LIMITS), max_skip=cap)

    def get(self, path: str) -> EndpointLimits:
        """The limits used for ``path`` now (``max_skip=`` caps every endpoint)."""
        with self._lock:
            limits = self._table.get(path, DEFAULT_LIMITS)
        if self._max_skip is not None and self._max_skip < limits.max_skip:
            return replace(limits, max_skip=self._max_skip)
        return limits

    def learn(
        self, path: str, *, max_limit: int | None = None, max_skip: int | None = None
    ) -> None:
        """Lower a limit of ``path`` after the API refused the old one."""
        with self._lock:
            limits = self._table.get(path, DEFAULT_LIMITS)
            if max_limit is not None:
                limits = replace(limits, max_limit=min(limits.max_limit, max_limit))
            if max_skip is not None:
                limits = replace(limits, max_skip=min(limits.max_skip, max_skip))
            self._table[path] = limits
            if max_skip is not None and self._max_skip is not None:
                self._max_skip = min(self._max_skip, max_skip)


def is_max_skip_error(exc: RequestRejected) -> bool:
    """The 400 Close gives when ``_skip`` is past the endpoint's cap."""
    return exc.status == 400 and (
        "_skip" in exc.field_errors or bool(_MAX_SKIP.search(exc.message))
    )


@dataclass(frozen=True)
class Window:
    """A half-open ``date_created`` range ``[since, until)``; ``None`` is unbounded.

    Paging splits it (:meth:`split`), list endpoints take it as :meth:`params`, search as a
    :meth:`condition`, and an export keeps the instances it :meth:`contains`.
    """

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Window:
        """The caller's own ``date_created__gte`` / ``__lt``: the outer window."""
        return cls(_bound(params, "date_created__gte"), _bound(params, "date_created__lt"))

    def params(self) -> dict[str, str]:
        """Query parameters for this window."""
        out = {}
        if self.since is not None:
            out["date_created__gte"] = self.since.isoformat()
        if self.until is not None:
            out["date_created__lt"] = self.until.isoformat()
        return out

    def split(self, now: datetime) -> list[Window] | None:
        """Two disjoint windows covering this one, or ``None`` when it cannot be split.

        Bounded windows are halved on whole seconds.  An unbounded side is first closed: at
        1970 below, and above at ``now`` plus the distance from 1970 (so repeated splits of a
        far-future tail grow geometrically and stop in year 9000).
        """
        if self.since is None:
            if self.until is not None and self.until <= EPOCH:
                return None
            return [Window(None, EPOCH), Window(EPOCH, self.until)]
        if self.until is None:
            start = max(self.since, now)
            if start >= _LAST_SPLIT:
                return None
            edge = min(start + max(timedelta(days=1), start - EPOCH), _LAST_SPLIT)
            return [Window(self.since, edge), Window(edge, None)]
        mid = (self.since + (self.until - self.since) / 2).replace(microsecond=0)
        if not self.since < mid < self.until:
            return None
        return [Window(self.since, mid), Window(mid, self.until)]

    def contains(self, when: datetime) -> bool:
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )

    def condition(self) -> dict[str, Any] | None:
        """The window as a search ``field_condition`` on ``date_created``, or None."""
        if self.since is None and self.until is None:
            return None
        moments: dict[str, Any] = {}
        if self.since is not None:
            moments["on_or_after"] = {"type": "fixed_utc", "value": _stamp(self.since)}
        if self.until is not None:
            moments["before"] = {"type": "fixed_utc", "value": _stamp(self.until)}
        return {"type": "moment_range", **moments}

    def describe(self) -> str:
        """``[since, until)`` for messages."""
        lo = self.since.isoformat() if self.since else "-inf"
        hi = self.until.isoformat() if self.until else "+inf"
        return f"[{lo}, {hi})"


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _bound(params: Mapping[str, Any], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not an ISO 8601 date or datetime") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class _Walk:
    path: str
    params: dict[str, Any]
    size: int


@dataclass(frozen=True)
class _Page:
    items: list[Obj]
    has_more: bool


class OffsetPager:
    """Iterates one list endpoint with ``_skip``/``_limit``; see the module docstring."""

    def __init__(self, get: Fetch, limits: LimitTable, now: Callable[[], datetime]) -> None:
        self._get = get
        self._limits = limits
        self._now = now

    def iterate(
        self, path: str, params: Mapping[str, Any] | None, page_size: int | None
    ) -> Iterator[Obj]:
        """Every object of the list, each once; page size at most the endpoint maximum."""
        base = dict(params or {})
        if "_skip" in base:
            raise ValueError("paginate() sets _skip itself; do not pass it")
        given = base.pop("_limit", None)
        maximum = self._limits.get(path).max_limit
        wanted = page_size or (int(given) if given else 0) or maximum
        size = max(1, min(wanted, maximum))
        return self._walk(_Walk(path, base, size), None)

    def _walk(self, walk: _Walk, window: Window | None) -> Iterator[Obj]:
        first = self._page(walk, window, 0)
        if not first.has_more:
            yield from first.items
            return
        if self._too_big(walk, window):
            for part in self._split(walk, window):
                yield from self._walk(walk, part)
            return
        yield from first.items
        yield from self._rest(walk, window, len(first.items))

    def _rest(self, walk: _Walk, window: Window | None, skip: int) -> Iterator[Obj]:
        while True:
            if skip > self._limits.get(walk.path).max_skip:
                raise ApiError(
                    f"GET {walk.path}: the list grew past the _skip cap while it was paged",
                    hint="run again; the list changed during the walk",
                )
            page = self._page(walk, window, skip)
            yield from page.items
            if not page.has_more or not page.items:
                return
            skip += len(page.items)

    def _params(self, walk: _Walk, window: Window | None, skip: int, limit: int) -> Obj:
        params = dict(walk.params)
        if window is not None:
            params.pop("date_created__gte", None)
            params.pop("date_created__lt", None)
            params.update(window.params())
        params.update({"_skip": skip, "_limit": limit})
        return params

    def _page(self, walk: _Walk, window: Window | None, skip: int) -> _Page:
        while True:
            try:
                body = self._get(walk.path, self._params(walk, window, skip, walk.size))
            except RequestRejected as exc:
                if "_limit" in exc.field_errors and walk.size > 1:
                    walk.size //= 2
                    self._limits.learn(walk.path, max_limit=walk.size)
                    continue
                if is_max_skip_error(exc):
                    raise self._cap_error(walk, exc.message) from None
                raise
            page = require(ListPage, body, f"GET {walk.path}")
            return _Page(page.data, bool(page.has_more))

    def _too_big(self, walk: _Walk, window: Window | None) -> bool:
        """Probe: is there an object at ``_skip=<cap>`` in this window?"""
        while True:
            cap = self._limits.get(walk.path).max_skip
            try:
                body = self._get(walk.path, self._params(walk, window, cap, 1))
            except RequestRejected as exc:
                if not is_max_skip_error(exc) or cap <= 1:
                    raise
                self._limits.learn(walk.path, max_skip=_lower_cap(exc.message, cap))
                continue
            return bool(require(ListPage, body, f"GET {walk.path}").data)

    def _split(self, walk: _Walk, window: Window | None) -> list[Window]:
        if not self._limits.get(walk.path).windowable:
            raise self._cap_error(walk, None)
        current = window or Window.from_params(walk.params)
        parts = current.split(self._now())
        if parts is None:
            cap = self._limits.get(walk.path).max_skip
            raise ApiError(
                f"GET {walk.path}: more than {cap} objects have date_created in "
                f"{current.describe()}, which cannot be split further",
                hint="Close's _skip cap cannot be worked around for this range",
            )
        return parts

    def _cap_error(self, walk: _Walk, detail: str | None) -> ApiError:
        cap = self._limits.get(walk.path).max_skip
        said = f" (the API said: {detail})" if detail else ""
        return ApiError(
            f"GET {walk.path}: the list is longer than Close's _skip cap of {cap} for this "
            f"endpoint{said}, and the endpoint cannot be windowed on date_created",
            status=400 if detail else None,
            hint="narrow the query (e.g. by lead_id), or read leads and contacts "
            "with search() (POST /data/search/)",
        )


def _lower_cap(message: str, cap: int) -> int:
    found = _MAX_SKIP_VALUE.search(message)
    if found and int(found.group(1)) < cap:
        return int(found.group(1))
    return cap // 2
