"""Client-side pacing from Close's ``RateLimit`` header, shared by every thread of a client.

Close answers most requests with ``RateLimit: limit=<n>, remaining=<n>, reset=<seconds>``
(lowercase header names, ``reset`` a decimal; docs/CLOSE_API.md, Rate limits).
:class:`Pacer` keeps a local estimate of the server's bucket so that 429s stay rare even with
many threads in flight:

* **budget** -- after each answer, ``remaining`` from the freshest answer (by send order) minus
  the requests that answer may not have counted: those sent after it, and those already in
  flight when it was sent (latency varies, so the server may have seen them later).  Every
  send takes one unit.  This errs on the safe side: the server keeps about ``rate x latency``
  tokens in reserve, which costs no throughput once the pace is steady, as long as that
  reserve is well below the bucket size (true at Close-like latencies; with latencies near
  half the bucket's refill time, throughput drops below the limit rather than causing 429s).
* **refill** -- ``(limit - remaining) / reset`` units per second: exact for a token bucket whose
  ``reset`` is "seconds until full", and the average rate of a fixed window.  ``remaining`` is
  often rounded down (the true level is below ``remaining + 1``), so each answer bounds the
  rate between ``(limit - remaining - 1) / reset`` and ``(limit - remaining) / reset``.  The
  rate used is the largest lower bound of the last few answers, unless a recent upper bound
  is smaller (the server lowered its limit): then that.  Before any estimate, ``limit`` per
  second is assumed (Close states limits in RPS).
* **first answer** -- until one answer has come back, one request is in flight at a time: a
  burst of threads into a bucket of unknown size would be answered with 429s.
* **pause** -- a 429 stops every thread until its wait is over (:meth:`Pacer.pause`); then one
  request goes first, as at the start, and the others follow its answer, so the threads do
  not come back as one burst into a bucket that just said no.

Without any ``RateLimit`` header (real orgs were seen without one) the budget
stays unknown and, after the first answer, :meth:`Pacer.acquire` never waits, except after a
429.

This module also parses the three places a wait can come from on a 429: the ``RateLimit``
header, ``retry-after`` (seconds or an HTTP date) and the legacy body
``{"error": {"rate_reset": ...}}``.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

MAX_WAIT = 900.0
"""Upper bound on any single wait, so that a bogus ``retry-after: 1000000`` cannot hang a run."""

_RATE_SAMPLES = 16
_EPSILON = 1e-6  # a budget this close to one unit is one unit (float rounding in refills)
_FIRST_ANSWER_POLL = 0.02  # how often threads look whether the first answer has come
_FIELD = re.compile(r"(?:^|[\s,;])(limit|remaining|reset)\s*=\s*\"?(\d+(?:\.\d+)?)", re.I)
_SPLIT_PREFIXES = ("ratelimit-", "x-rate-limit-")
# the current IETF draft: RateLimit: "default";r=0;t=7 and RateLimit-Policy: "default";q=100;w=10
_DRAFT = re.compile(r"(?:^|[\s,;])([qrt])\s*=\s*(\d+(?:\.\d+)?)(?=\s*(?:[,;]|$))")
_DELAY_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class RateLimit:
    """One parsed ``RateLimit`` header: quota size, units left, seconds until full."""

    limit: float
    remaining: float
    reset: float


def parse_ratelimit(headers: Mapping[str, str]) -> RateLimit | None:
    """The rate-limit state of a response, or ``None`` when absent or malformed.

    Reads Close's combined ``RateLimit: limit=.., remaining=.., reset=..`` and, failing that,
    the split ``RateLimit-Limit/-Remaining/-Reset`` or deprecated ``X-Rate-Limit-*`` fields.
    ``headers`` must look names up case-insensitively (``httpx.Headers`` does).
    """
    combined = headers.get("ratelimit")
    if combined:
        found = {name.lower(): value for name, value in _FIELD.findall(combined)}
        return _ratelimit_from(found) if found else _draft_ratelimit(headers)
    for prefix in _SPLIT_PREFIXES:
        found = {n: headers.get(prefix + n, "") for n in ("limit", "remaining", "reset")}
        if all(found.values()):
            return _ratelimit_from(found)
    return None


def draft_fields(headers: Mapping[str, str]) -> dict[str, float]:
    """``r`` and ``t`` of a current-draft ``RateLimit`` and ``q`` of its ``RateLimit-Policy``
    (the first policy item only; Close does not send this form)."""
    found: dict[str, float] = {}
    for header, names in (("ratelimit", "rt"), ("ratelimit-policy", "q")):
        for name, text in _DRAFT.findall(headers.get(header) or ""):
            if name in names and name not in found:
                found[name] = float(text)
    return found


def _draft_ratelimit(headers: Mapping[str, str]) -> RateLimit | None:
    found = draft_fields(headers)
    if not {"q", "r", "t"} <= found.keys():
        return None
    return RateLimit(limit=found["q"], remaining=found["r"], reset=found["t"])


def _ratelimit_from(values: Mapping[str, str]) -> RateLimit | None:
    try:
        limit, remaining, reset = (float(values[n]) for n in ("limit", "remaining", "reset"))
    except (KeyError, ValueError):
        return None
    if min(limit, remaining, reset) < 0:
        return None
    return RateLimit(limit=limit, remaining=remaining, reset=reset)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """``retry-after`` in seconds: delay-seconds or an HTTP date (relative to ``Date``).

    Delay-seconds are digits (a decimal fraction is tolerated); anything else that is not a
    date (``soon``, ``-1``, ``1e9``, ``inf``) is malformed and ignored (``None``).
    """
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if _DELAY_SECONDS.match(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        base = parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        return None
    reference = base or now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def legacy_rate_reset(body: Any) -> float | None:
    """``error.rate_reset`` of a pre-2022 429 body, if there is one."""
    error = body.get("error") if isinstance(body, dict) else None
    value = error.get("rate_reset") if isinstance(error, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def throttle_wait(headers: Mapping[str, str], body: Any, streak: int) -> float:
    """Seconds to wait after the ``streak``-th 429 in a row for one request.

    The largest of the ``RateLimit`` reset (Close's ``reset=`` or the draft's ``t=``),
    ``retry-after`` and the legacy body ``rate_reset`` (waiting the larger value satisfies
    "retry-after takes precedence" and Close's advice to trust ``rate_reset``); when none is
    given or all are malformed, 1, 2, 4 ... seconds up to a minute.  Never more than
    :data:`MAX_WAIT`.
    """
    limit = parse_ratelimit(headers)
    candidates = [
        limit.reset if limit else draft_fields(headers).get("t"),
        parse_retry_after(headers),
        legacy_rate_reset(body),
    ]
    known = [c for c in candidates if c is not None]
    wait = max(known) if known else min(60.0, 2.0 ** (streak - 1))
    return min(wait, MAX_WAIT)


class Pacer:
    """The shared send budget of one client (see the module docstring).  Thread-safe.

    Every :meth:`acquire` must be followed by :meth:`observe` (an answer came) or
    :meth:`forget` (no answer) with the send number it returned.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent = 0
        self._synced = -1
        self._overlap: dict[int, int] = {}  # send number -> requests in flight when it left
        self._gate: int | None = 0  # until an answer to a send >= this, one such send at a time
        self._tokens: float | None = None
        self._stamp = 0.0
        self._capacity = 0.0
        self._rates: deque[tuple[float, float]] = deque(maxlen=_RATE_SAMPLES)  # (low, high)
        self._paused_until = 0.0

    def acquire(self) -> int:
        """Wait until a request may be sent, take one unit, return its send number."""
        while True:
            seq, wait = self.try_acquire()
            if seq is not None:
                return seq
            self._sleep(wait)

    def try_acquire(self) -> tuple[int | None, float]:
        """``(send number, 0)`` if a request may go now, else ``(None, seconds to wait)``."""
        with self._lock:
            now = self._clock()
            wait = self._delay(now)
            if wait > 0:
                return None, wait
            return self._take(now), 0.0

    def observe(self, seq: int, limit: RateLimit | None) -> None:
        """The answer to send number ``seq`` came, with this ``RateLimit`` (or none)."""
        with self._lock:
            overlap = self._overlap.pop(seq, 0)
            if self._gate is not None and seq >= self._gate:
                self._gate = None
            if limit is None or seq < self._synced:
                return
            self._synced = seq
            self._capacity = limit.limit
            if limit.reset > 0 and limit.remaining < limit.limit:
                used = limit.limit - limit.remaining
                self._rates.append(((used - 1) / limit.reset, used / limit.reset))
            self._tokens = limit.remaining - (self._sent - seq - 1) - overlap
            self._stamp = self._clock()

    def forget(self, seq: int) -> None:
        """Send number ``seq`` got no answer (network error); it stays counted as spent."""
        with self._lock:
            self._overlap.pop(seq, None)

    def pause(self, seconds: float) -> None:
        """Hold every thread for ``seconds`` (after a 429), then let one probe go first."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + min(seconds, MAX_WAIT))
            self._gate = self._sent

    def room(self) -> tuple[float | None, int]:
        """The budget now (``None`` while unknown) and the requests in flight: what a pool of
        keys compares to pick the key a request goes with."""
        with self._lock:
            return self._level(self._clock()), len(self._overlap)

    @property
    def rate(self) -> float | None:
        """Estimated refill in requests per second, ``None`` while unknown."""
        with self._lock:
            return self._rate()

    def _rate(self) -> float | None:
        if self._rates:
            high = min(h for _, h in self._rates)
            low = max(lo for lo, _ in self._rates)
            return min(low, high) if low > 0 else high
        return self._capacity if self._capacity > 0 else None

    def _level(self, now: float) -> float | None:
        if self._tokens is None:
            return None
        rate = self._rate() or 0.0
        return min(self._capacity, self._tokens + rate * (now - self._stamp))

    def _delay(self, now: float) -> float:
        if now < self._paused_until:
            return self._paused_until - now
        if self._gate is not None and any(s >= self._gate for s in self._overlap):
            return _FIRST_ANSWER_POLL
        level = self._level(now)
        if level is None or level >= 1.0 - _EPSILON:
            return 0.0
        rate = self._rate()
        if not rate:
            return 0.0
        return min((1.0 - level) / rate, MAX_WAIT)

    def _take(self, now: float) -> int:
        level = self._level(now)
        if level is not None:
            self._tokens = level - 1.0
            self._stamp = now
        seq = self._sent
        self._sent += 1
        self._overlap[seq] = len(self._overlap)
        return seq
