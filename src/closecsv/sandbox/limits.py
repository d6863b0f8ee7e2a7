"""Rate limiting and fault injection (docs/CLOSE_API.md, Rate limits).

Rate limit: one token bucket per API key, ``capacity = max(rps, 1)``, refilled continuously at
``rps`` tokens/s on the injectable clock; a request takes one token.  Every response then
carries ``RateLimit: limit=<rps>, remaining=<whole tokens>, reset=<seconds until full>``
(``reset`` a decimal, as Close documents).  An empty bucket answers 429 with that header and
``retry-after`` (whole seconds, rounded up).  Departure: Close limits per endpoint group and
per organization (3x the per-key figure); the sandbox has one bucket per key for every
endpoint, which is stricter, never looser.

Faults: with probability ``fault_rate`` a request fails, drawn from a ``random.Random(seed)``
in request order (deterministic for a sequential client).  Reads get a 5xx (500/502/503/504)
before any work; writes (POST/PUT/DELETE) get either that or, half the time, "commit then
drop": the write is done and the connection closed without an answer.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

FAULT_STATUSES = (500, 502, 503, 504)
WRITES = frozenset({"POST", "PUT", "DELETE"})


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets by key; :meth:`take` says whether the request may go on."""

    def __init__(self, rps: float, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()
        self.rps = self.capacity = 0.0
        self.set_rate(rps)

    def set_rate(self, rps: float) -> None:
        """Change the limit at run time (a server lowering its limit mid-run); buckets keep
        their tokens, cut to the new capacity."""
        if rps <= 0:
            raise ValueError("rate_limit must be positive")
        with self._lock:
            self.rps, self.capacity = rps, max(rps, 1.0)
            for bucket in self._buckets.values():
                bucket.tokens = min(bucket.tokens, self.capacity)

    def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """``(allowed, headers)``; on refusal the headers include ``retry-after``."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rps)
            bucket.stamp = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            headers = {"ratelimit": self._header(bucket.tokens)}
            if not allowed:
                wait = (1.0 - bucket.tokens) / self.rps
                headers["retry-after"] = str(max(1, math.ceil(wait)))
            return allowed, headers

    def refund(self, key: str) -> None:
        """Give back the token :meth:`take` took (another limit refused the request)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(self.capacity, bucket.tokens + 1.0)

    def remaining(self, key: str) -> int:
        """Whole tokens left in ``key``'s bucket as of its last :meth:`take`."""
        with self._lock:
            bucket = self._buckets.get(key)
            return int(bucket.tokens) if bucket is not None else int(self.capacity)

    def _header(self, tokens: float) -> str:
        limit = int(self.rps) if float(self.rps).is_integer() else self.rps
        reset = (self.capacity - tokens) / self.rps
        return f"limit={limit}, remaining={int(tokens)}, reset={reset:.3f}"


class FaultPlan:
    """Decides, deterministically from ``seed``, which requests fail and how."""

    def __init__(self, rate: float, seed: int) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, method: str) -> tuple[str, int] | None:
        """None, ``("error", status)`` (before work) or ``("drop", 0)`` (after work)."""
        if self.rate == 0.0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            if method in WRITES and self._rng.random() < 0.5:
                return ("drop", 0)
            return ("error", self._rng.choice(FAULT_STATUSES))
