"""Several API keys in the sandbox: which user each key is, the organization's rate limit
beside each key's, and the requests counted per key and for the organization
(docs/SANDBOX.md, "Several keys").

* **Keys and users**: key 1 is the first active seed user (the owner, as with one key), key 2
  the second, and so on round the active users.  A key added with ``other_org_keys`` belongs
  to another organization: ``GET me/`` names that organization and every other request is
  refused with 403 (the sandbox holds one organization's data only).
* **Organization limit**: a token bucket shared by every key (``org_rps``, by default 3 times
  the per-key figure, as Close documents, when there are several keys; with one key and no
  explicit figure there is none, as it could never be the tighter), taken after the key's
  own bucket; when it is empty the request is answered 429 with the organization's
  ``RateLimit`` values and ``retry-after``, and the key's token is given back.  An answer
  carries the ``RateLimit`` values of whichever bucket has fewer whole requests left (the
  key's on a tie).
* **Counts** (:meth:`Traffic.snapshot`, served at ``GET /_sandbox/traffic``, outside the API
  prefix, no key needed): requests and 429s per key (by position, never by value) and for
  the organization, and, when there is an organization bucket, the most requests it let
  through within any one second (on the sandbox's clock).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from closecsv.sandbox.limits import RateLimiter

TRAFFIC_PATH = "/_sandbox/traffic"
ORG_BUCKET = "\x00organization"  # the organization's bucket key: no API key can equal it
OTHER_ORG = {"id": "orga_sandbox_other", "name": "Another organization (sandbox)"}
WINDOW = 1.0


@dataclass
class _Count:
    requests: int = 0
    rate_limited: int = 0


@dataclass
class Traffic:
    """Requests per key position and for the organization.  Thread-safe."""

    clock: Callable[[], float]
    keys: dict[int, _Count] = field(default_factory=dict)
    org: _Count = field(default_factory=_Count)
    org_limited: int = 0  # 429s the organization's bucket answered
    max_per_window: int = 0
    _window: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, position: int, refused_by: str | None, timed: bool = True) -> None:
        """One request with key ``position``; ``refused_by``: ``key``/``org`` for a 429;
        ``timed``: counted in the busiest second too (reads the clock)."""
        with self._lock:
            mine = self.keys.setdefault(position, _Count())
            mine.requests += 1
            self.org.requests += 1
            if refused_by is not None:
                mine.rate_limited += 1
                self.org.rate_limited += 1
                self.org_limited += refused_by == "org"
                return
            if not timed:
                return
            now = self.clock()
            self._window.append(now)
            while self._window and self._window[0] <= now - WINDOW:
                self._window.popleft()
            self.max_per_window = max(self.max_per_window, len(self._window))

    def snapshot(self, org_rps: float | None) -> dict[str, Any]:
        with self._lock:
            return {
                "keys": {
                    str(n): {"requests": c.requests, "rate_limited": c.rate_limited}
                    for n, c in sorted(self.keys.items())
                },
                "organization": {
                    "requests": self.org.requests,
                    "rate_limited": self.org.rate_limited,
                    "rate_limited_by_organization": self.org_limited,
                    "max_per_second": self.max_per_window,
                    "rate_limit": org_rps,
                },
            }


class Keyring:
    """The keys the sandbox accepts, the user each one is, and the organization limit."""

    def __init__(
        self,
        keys: Sequence[str],
        other_org_keys: Sequence[str] = (),
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.keys = list(keys)
        self.other_org = list(other_org_keys)
        self.org_limiter: RateLimiter | None = None
        self.traffic = Traffic(clock or (lambda: 0.0))

    def position(self, key: str) -> int | None:
        """1 for the first key, ...; other-organization keys follow; None: not a key."""
        every = self.keys + self.other_org
        return every.index(key) + 1 if key in every else None

    def user(self, position: int, active: Sequence[str]) -> str:
        return active[(position - 1) % len(active)]

    def is_other_org(self, position: int) -> bool:
        return position > len(self.keys)

    def set_org_rate(self, rps: float | None, clock: Callable[[], float]) -> None:
        if rps is None:
            self.org_limiter = None
        elif self.org_limiter is None:
            self.org_limiter = RateLimiter(rps, clock)
        else:
            self.org_limiter.set_rate(rps)

    def snapshot(self) -> dict[str, Any]:
        """:meth:`Traffic.snapshot` with the organization's limit."""
        org = self.org_limiter
        return self.traffic.snapshot(org.rps if org is not None else None)

    def take(
        self, key: str, position: int, limiter: RateLimiter | None
    ) -> tuple[bool, dict[str, str]]:
        """Both buckets for one request: ``(allowed, headers)`` (module docstring)."""
        org = self.org_limiter
        allowed, headers = limiter.take(key) if limiter is not None else (True, {})
        if not allowed or org is None:
            self.traffic.count(position, None if allowed else "key", timed=org is not None)
            return allowed, headers
        org_allowed, org_headers = org.take(ORG_BUCKET)
        if not org_allowed:
            if limiter is not None:
                limiter.refund(key)
            self.traffic.count(position, "org")
            return False, org_headers
        self.traffic.count(position, None)
        tighter = limiter is None or org.remaining(ORG_BUCKET) < limiter.remaining(key)
        return True, org_headers if tighter else headers


def other_org_answer(method: str, rel: str) -> tuple[int, dict[str, Any]]:
    """The answer to a key of another organization: ``GET me/`` names that organization,
    anything else is refused (this sandbox holds no data of it)."""
    if method.upper() == "GET" and rel == "me/":
        user = {"id": "user_sandbox_other", "first_name": "Other", "last_name": "Org"}
        return 200, {**user, "email": "other@example.com", "organizations": [OTHER_ORG]}
    return 403, {"error": "This key belongs to another organization (sandbox: me/ only)."}
