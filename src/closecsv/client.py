"""``CloseClient``: the one way closecsv talks to the Close API (docs/ARCHITECTURE.md).

What happens to a request (REFERENCE §3-§4, research/reliability.md §2):

==========================================  ===============================  ====================
outcome                                     GET, PUT, DELETE, search         POST (a write)
==========================================  ===============================  ====================
2xx with a JSON object (or empty) body      returned                         returned
429                                         wait, re-send (own cap, 50)      wait, re-send
connect error / connect or pool timeout     back off, re-send                back off, re-send
500, 502, 503, 504                          back off, re-send                ``OutcomeUnknown``
other 5xx                                   ``ApiError``                     ``OutcomeUnknown``
read timeout, dropped connection, deadline  back off, re-send                ``OutcomeUnknown``
2xx with a malformed body                   back off, re-send                ``OutcomeUnknown``
401, 403                                    ``AuthError``                    ``AuthError``
402 (plan limit: it stops the run)          ``ApiError``                     ``ApiError``
other 4xx                                   ``RequestRejected`` (404: ``NotFound``)
==========================================  ===============================  ====================

A 429 was refused before any work, and a connect error never reached the server, so both are
safe to re-send even for a POST.  Everything else that goes wrong after a POST was sent may
have been applied.  That includes 503: Close usually answers it before doing anything, but a
proxy or a failing worker can say 503 after the write committed, and a duplicate is worse
than asking the caller to reconcile.  Back-off is capped exponential with full jitter and
spends ``max_attempts``; 429 waits do not spend it.

Deadline: httpx timeouts bound each network read, so a server trickling a byte every few
seconds never trips them.  The response is therefore streamed, and the clock is checked after
every chunk: past ``deadline`` seconds from the send the request counts as timed out (retried
if idempotent, ``OutcomeUnknown`` for a POST).  A read that stalls completely is still cut by
the read timeout, so the worst case is ``deadline + timeout``.

Secrets: the key goes to httpx's Basic auth and nowhere else.  Exceptions raised here carry
no request, response or header object (httpx errors are turned into text before raising, so
they are not even chained), text from the server is redacted of the key and its base64, the
``repr`` shows the base URL only, and debug logging names method, path, status and time.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

import httpx

from closecsv import __version__
from closecsv.answers import Lost, Reply, classify, error_lists, error_text, read_reply
from closecsv.config import ApiKey
from closecsv.errors import ApiError, AuthError, NotFound, OutcomeUnknown, RequestRejected
from closecsv.pacing import MAX_WAIT, Pacer, parse_ratelimit, throttle_wait
from closecsv.paging import (
    DEFAULT_LIMITS,
    KNOWN_LIMITS,
    SEARCH_PATH,
    SEARCH_WALK_CAP,
    EndpointLimits,
    LimitTable,
    OffsetPager,
    SearchWalker,
)

__all__ = ["DEFAULT_LIMITS", "KNOWN_LIMITS", "ClientStats", "CloseClient", "EndpointLimits"]

log = logging.getLogger("closecsv.client")

USER_AGENT = f"closecsv/{__version__}"
READ_ONLY_POSTS = frozenset({SEARCH_PATH})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
MAX_RATE_LIMIT_RETRIES = 50
MIN_REDACTED = 8

Counted = Literal["requests", "retries", "outcome_unknown", "transport_errors"]


@dataclass
class ClientStats:
    """Counters of one client, safe to update from many threads.

    ``requests`` attempts sent; ``rate_limited`` 429 answers; ``retries`` re-sends after a
    5xx, network error or timeout (429 waits not included); ``outcome_unknown`` POSTs given up
    as :class:`OutcomeUnknown`; ``transport_errors`` attempts with no HTTP answer;
    ``by_status`` answers per HTTP status.
    """

    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    outcome_unknown: int = 0
    transport_errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: Counted) -> None:
        """Add one to the counter ``name`` (one of the int fields)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def count_status(self, status: int) -> None:
        """Record one HTTP answer."""
        with self._lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if status == 429:
                self.rate_limited += 1

    def as_dict(self) -> dict[str, Any]:
        """A consistent snapshot for receipts and benchmarks (statuses as string keys)."""
        with self._lock:
            return {
                "requests": self.requests,
                "rate_limited": self.rate_limited,
                "retries": self.retries,
                "outcome_unknown": self.outcome_unknown,
                "transport_errors": self.transport_errors,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            }


class _DeadlineExceeded(Exception):
    """The whole-request deadline passed while the answer was still arriving."""


class CloseClient:
    """Thread-safe Close API client: auth, pacing, safe retries, paging (module docstring)."""

    def __init__(
        self,
        api_key: ApiKey,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        deadline: float = 120.0,
        max_attempts: int = 8,
        rng: random.Random | None = None,
        skip_caps: Mapping[str, int] | None = None,
        max_skip: int | None = None,
        max_rate_limit_retries: int = MAX_RATE_LIMIT_RETRIES,
        search_walk_cap: int = SEARCH_WALK_CAP,
    ) -> None:
        self._base_url = base_url
        self._clock = clock
        self._sleep = sleep
        self._deadline = deadline
        self._max_attempts = max(1, max_attempts)
        self._max_throttles = max_rate_limit_retries
        self._rng = rng or random.Random()
        self._secrets = _secret_forms(api_key)
        self._pacer = Pacer(clock, sleep)
        self._limits = LimitTable(skip_caps, max_skip)
        self._search_walk_cap = search_walk_cap
        self.stats = ClientStats()
        self._http = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(api_key.reveal(), ""),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"CloseClient(base_url={self._base_url!r})"

    def __enter__(self) -> CloseClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def limits_for(self, path: str) -> EndpointLimits:
        """The ``_limit`` maximum and ``_skip`` cap paging uses for ``path`` now."""
        return self._limits.get(path)

    # -- verbs --------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``GET path``; retried on 5xx and network errors."""
        return self._request("GET", path, params=params)

    def post(self, path: str, json: Mapping[str, Any]) -> dict[str, Any]:
        """``POST path``.  A write is never re-sent once it may have arrived: raises
        :class:`OutcomeUnknown` instead.  ``data/search/`` is a read and is retried."""
        return self._request("POST", path, body=json)

    def put(self, path: str, json: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT path``: a patch, idempotent, so retried like a GET."""
        return self._request("PUT", path, body=json)

    def delete(self, path: str) -> None:
        """``DELETE path``; retried (deleting twice leaves the same state)."""
        self._request("DELETE", path)

    # -- paging -------------------------------------------------------------------------

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every object of an offset-paged list, each once (windows past the ``_skip`` cap)."""
        pager = OffsetPager(self.get, self._limits, lambda: datetime.now(UTC))
        return pager.iterate(path, params, page_size)

    def search(
        self,
        query: dict[str, Any],
        fields: dict[str, list[str]],
        *,
        page_size: int = 200,
        sort: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """All results of ``POST data/search/``, cursor pages fetched back to back.

        Without ``sort`` and with one object type in ``fields``, results come sorted by
        ``date_created`` ascending, which lets the walk continue past the 10,000-object cap.
        """
        walker = SearchWalker(self.post, self._search_walk_cap)
        return walker.run(query, fields, page_size, sort)

    # -- one request, with its retries ---------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        idempotent = method != "POST" or path in READ_ONLY_POSTS
        failures = throttles = 0
        while True:
            outcome = self._attempt(method, path, params, body)
            step = classify(outcome, idempotent)
            if step == "done" and isinstance(outcome, Reply):
                return outcome.body if isinstance(outcome.body, dict) else {}
            if step == "throttled" and isinstance(outcome, Reply):
                throttles += 1
                self._throttle(method, path, outcome, throttles)
                continue
            if step == "unknown":
                self.stats.count("outcome_unknown")
                raise OutcomeUnknown(method, path, self._cause(outcome))
            if step == "fail":
                raise self._failure(method, path, outcome)
            failures += 1
            if failures >= self._max_attempts:
                raise self._exhausted(method, path, outcome, failures)
            self.stats.count("retries")
            self._sleep(self._rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**failures)))

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> Reply | Lost:
        seq = self._pacer.acquire()
        self.stats.count("requests")
        started = self._clock()
        outcome = self._exchange(method, path, params, body, started + self._deadline)
        elapsed = self._clock() - started
        if isinstance(outcome, Lost):
            self._pacer.forget(seq)
            self.stats.count("transport_errors")
            log.debug("%s %s -> %s after %.3fs", method, path, outcome.cause, elapsed)
            return outcome
        self.stats.count_status(outcome.status)
        self._pacer.observe(seq, parse_ratelimit(outcome.headers))
        log.debug("%s %s -> %d in %.3fs", method, path, outcome.status, elapsed)
        return outcome

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        deadline_at: float,
    ) -> Reply | Lost:
        """Send once and read the whole answer; network trouble becomes a :class:`Lost`."""
        try:
            request = self._http.build_request(
                method, path, params=dict(params) if params else None, json=body
            )
            response = self._http.send(request, stream=True)
            try:
                content = self._read(response, deadline_at)
            finally:
                response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            text = self._redact(f"{type(exc).__name__}: {exc}")
            return Lost(sent=False, cause=text, fatal="CERTIFICATE_VERIFY_FAILED" in text)
        except httpx.RequestError as exc:
            return Lost(sent=True, cause=self._redact(f"{type(exc).__name__}: {exc}"))
        except _DeadlineExceeded:
            return Lost(sent=True, cause=f"no complete answer within {self._deadline:g}s")
        return read_reply(response, content)

    def _read(self, response: httpx.Response, deadline_at: float) -> bytes:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if self._clock() > deadline_at:
                raise _DeadlineExceeded
        return b"".join(chunks)

    def _throttle(self, method: str, path: str, reply: Reply, streak: int) -> None:
        """Pause every thread for the 429's wait; this one also sleeps a little jitter."""
        if streak > self._max_throttles:
            raise ApiError(
                f"{method} {path}: still rate limited (HTTP 429) after {streak - 1} waits",
                status=429,
                hint="another client may be using the same key or organization; try later",
            )
        wait = throttle_wait(reply.headers, reply.body, streak)
        jitter = self._rng.uniform(0, max(0.05, min(1.0, wait / 10)))
        log.debug("%s %s rate limited, waiting %.3fs", method, path, wait + jitter)
        self._pacer.pause(wait)
        self._sleep(min(wait + jitter, MAX_WAIT))

    # -- errors -------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _cause(self, outcome: Reply | Lost) -> str:
        if isinstance(outcome, Lost):
            return outcome.cause
        if outcome.malformed:
            return f"HTTP {outcome.status} with a body that is not a JSON object"
        return f"HTTP {outcome.status} {outcome.reason}".strip()

    def _exhausted(self, method: str, path: str, outcome: Reply | Lost, n: int) -> ApiError:
        return ApiError(
            f"{method} {path}: gave up after {n} attempts ({self._cause(outcome)})",
            status=outcome.status if isinstance(outcome, Reply) else None,
            hint="the Close API or the network kept failing; try again later",
        )

    def _failure(self, method: str, path: str, outcome: Reply | Lost) -> Exception:
        """The exception for an answer that ends the request (see the module table)."""
        if isinstance(outcome, Lost):
            return ApiError(
                f"{method} {path}: {outcome.cause}",
                hint="TLS verification failed (it is never turned off): check the API URL; "
                "behind a proxy with its own CA, set SSL_CERT_FILE to that CA bundle",
            )
        status = outcome.status
        detail = self._redact(error_text(outcome.body))
        if status in (401, 403):
            return _auth_error(method, path, status, detail)
        if status == 402:
            said = f": {detail}" if detail else ""
            return ApiError(
                f"plan limit reached (HTTP 402) for {method} {path}{said}",
                status=402,
                hint="every further write would be refused the same way; raise the limit in "
                "Close (or free room), then run the same command again to resume",
            )
        if 400 <= status < 500:
            message = detail or f"HTTP {status} {outcome.reason}".strip()
            errors, field_errors = error_lists(outcome.body)
            kind = NotFound if status == 404 else RequestRejected
            return kind(
                status, message, errors=errors, field_errors=field_errors, body=outcome.body
            )
        said = f": {detail}" if detail else ""
        return ApiError(f"{method} {path}: unexpected HTTP {status}{said}", status=status)


def _secret_forms(api_key: ApiKey) -> tuple[str, ...]:
    """The key, and the base64 forms an ``Authorization`` header would carry, longest first.

    Forms shorter than :data:`MIN_REDACTED` are left alone: replacing a one-letter test key
    everywhere would mangle every message, and such a key protects nothing anyway.
    """
    raw = api_key.reveal()
    forms = {
        raw,
        base64.b64encode(f"{raw}:".encode()).decode(),
        base64.b64encode(raw.encode()).decode(),
    }
    return tuple(sorted((f for f in forms if len(f) >= MIN_REDACTED), key=len, reverse=True))


def _auth_error(method: str, path: str, status: int, detail: str) -> AuthError:
    said = f": {detail}" if detail else ""
    if status == 401:
        return AuthError(
            f"authentication refused (HTTP 401) for {method} {path}{said}",
            hint="check the API key (CLOSE_API_KEY or --api-key); keys are made in Close "
            "under Settings > API Keys, and belong to one organization",
        )
    return AuthError(
        f"permission refused (HTTP 403) for {method} {path}{said}",
        hint="the key's user may not do this; use a key of a user with the needed role",
    )
