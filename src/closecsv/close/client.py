"""``CloseClient``: the one way closecsv talks to the Close API (docs/ARCHITECTURE.md).

What happens to a request (Close's rate limits and error answers: docs/CLOSE_API.md; a POST
whose answer is lost may have been applied, so it is never simply re-sent):

==========================================  ===============================  ====================
outcome                                     GET, PUT, DELETE, search         POST (a write)
==========================================  ===============================  ====================
2xx with a JSON object (or empty) body      returned                         returned
429                                         wait, re-send (own cap, 50)      wait, re-send
connect error / connect or pool timeout     back off, re-send (*)            back off, re-send (*)
500, 502, 503, 504                          back off, re-send                ``OutcomeUnknown``
other 5xx                                   ``ApiError``                     ``OutcomeUnknown``
read timeout, dropped connection, deadline  back off, re-send (**)           ``OutcomeUnknown``
2xx with a malformed body (***)             back off, re-send                ``OutcomeUnknown``
an answer over ``max_body`` (64 MiB)        ``ApiError``                     ``ApiError``
401, 403                                    ``AuthError``                    ``AuthError``
402 (plan limit: it stops the run)          ``ApiError``                     ``ApiError``
404 to a GET before any 2xx answer          ``ConfigError`` (a wrong base URL: exit 2)
other 4xx                                   ``RequestRejected`` (404: ``NotFound``)
==========================================  ===============================  ====================

(*) 3 attempts only until the server has answered once, so a dead URL fails in seconds.
(**) time spent in timed-out attempts is counted per run until an answer arrives in full;
past ``timeout_budget`` nothing is retried or sent any more (:mod:`closecsv.close.retrying`).
(***) not a JSON object, or, to a create or update, without the object's id as a non-empty
string (:mod:`closecsv.close.shapes`).

A 429 was refused before any work, and a connect error never reached the server, so both are
safe to re-send even for a POST.  Everything else that goes wrong after a POST was sent may
have been applied.  That includes 503: Close usually answers it before doing anything, but a
proxy or a failing worker can say 503 after the write committed, and a duplicate is worse
than asking the caller to reconcile.  Back-off is capped exponential with full jitter and
spends ``max_attempts``; 429 waits do not spend it.  Each retry, and each 429 wait beyond
ordinary pacing, is told to ``notify`` (the CLI prints it on stderr unless ``--quiet``).

Deadline: httpx timeouts bound each network read, so a server trickling a byte every few
seconds never trips them.  The response is therefore streamed, and the clock is checked after
every chunk: past ``deadline`` seconds from the send the request counts as timed out (retried
if idempotent, ``OutcomeUnknown`` for a POST).  A read that stalls completely is still cut by
the read timeout, so the worst case is ``deadline + timeout``.  The streamed body is also
counted, and cut past ``max_body`` bytes: memory stays bounded whatever the server sends.

Several keys of one organization (``CLOSE_API_KEY=k1,k2,k3``): each request goes with the key
that has the most budget, a 429 pauses its key or, for the organization's limit, all of them
(:mod:`closecsv.close.keys`); the keys are checked first (:mod:`closecsv.close.keycheck`).

Secrets: the keys go to httpx's Basic auth and nowhere else.  Exceptions raised here carry
no request, response or header object (httpx errors are turned into text before raising, so
they are not even chained), text from the server is redacted of the key and its base64 (with
and without padding), the ``repr`` shows the base URL only, and debug logging names method,
path, status and time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from closecsv.close.answers import Lost, Reply, classify, error_text
from closecsv.close.config import ApiKey
from closecsv.close.counters import ClientStats
from closecsv.close.exchange import MIB, BodyLimits, exchange, request_builder
from closecsv.close.failures import (
    answer_failure,
    budget_spent,
    cause_of,
    gave_up,
    lost_failure,
    secret_forms,
    unusable_base,
)
from closecsv.close.keycheck import ME_FIELDS, ME_PATH, KeyCheck, on_key
from closecsv.close.keys import KeyPool
from closecsv.close.pacing import MAX_WAIT, parse_ratelimit, throttle_wait
from closecsv.close.paging import (
    DEFAULT_LIMITS,
    KNOWN_LIMITS,
    EndpointLimits,
    LimitTable,
    OffsetPager,
)
from closecsv.close.retrying import (
    FIRST_CONTACT_ATTEMPTS,
    TIMEOUT_BUDGET,
    Notify,
    TimeoutBudget,
    backoff_cap,
    no_notice,
    retry_notice,
    throttle_notice,
)
from closecsv.close.search import SEARCH_PATH, SEARCH_WALK_CAP, SearchWalker
from closecsv.errors import ApiError, OutcomeUnknown
from closecsv.version import __version__

__all__ = ["DEFAULT_LIMITS", "KNOWN_LIMITS", "ClientStats", "CloseClient", "EndpointLimits"]

log = logging.getLogger("closecsv.close.client")

USER_AGENT = f"closecsv/{__version__}"
READ_ONLY_POSTS = frozenset({SEARCH_PATH})
MAX_RATE_LIMIT_RETRIES = 50
MAX_BODY_BYTES = 64 * MIB
"""A GET whose query would be longer goes as ``POST`` with ``x-http-method-override: GET``
and the parameters in ``{"_params": {...}}``: Close documents that form for URLs past about
2,000 characters (long ``id__in`` lists).  It is still a read: retried like a GET."""
"""The largest answer read: Close's pages are a few hundred KB at most."""
CONNECT_TIMEOUT = 10.0


class CloseClient:
    """Thread-safe Close API client: auth, pacing, safe retries, paging (module docstring)."""

    def __init__(
        self,
        api_key: ApiKey | Sequence[ApiKey],
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
        notify: Notify | None = None,
        max_body: int = MAX_BODY_BYTES,
        timeout_budget: float = TIMEOUT_BUDGET,
        first_contact_attempts: int = FIRST_CONTACT_ATTEMPTS,
    ) -> None:
        self._base_url = base_url
        self._notify = notify or no_notice
        self._max_body = max_body
        self._budget = TimeoutBudget(timeout_budget)
        self._first_contact_attempts = max(1, first_contact_attempts)
        self._answered = False  # the server has answered once (any status)
        self._confirmed = False  # ... with a 2xx: the base URL is right
        self._clock = clock
        self._sleep = sleep
        self._deadline = deadline
        self._max_attempts = max(1, max_attempts)
        self._max_throttles = max_rate_limit_retries
        self._rng = rng or random.Random()
        keys = [api_key] if isinstance(api_key, ApiKey) else list(api_key)
        self._secrets = tuple(sorted({s for k in keys for s in secret_forms(k)}, key=len))[::-1]
        self._limits = LimitTable(skip_caps, max_skip)
        self._search_walk_cap = search_walk_cap
        self.stats = ClientStats()
        timeouts = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT))
        https = [
            httpx.Client(
                base_url=base_url,
                auth=httpx.BasicAuth(key.reveal(), ""),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                transport=transport,
                timeout=timeouts,
                follow_redirects=False,
            )
            for key in keys
        ]
        self._http = https[0]
        self._pool = KeyPool(https, clock, sleep)
        self._local = threading.local()  # this thread's last send, and the key that sent it
        self.keys = KeyCheck(len(keys))  # several keys: each checked with GET me/ first

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
        """Close the connection pools."""
        for lane in self._pool.lanes:
            lane.http.close()

    def sent_with(self) -> int | None:
        """The position (1 = first) of the key that carried this thread's last answered
        request, ``None`` before any."""
        position: int | None = getattr(self._local, "position", None)
        return position

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
        self.keys.ensure(lambda n: self._send("GET", ME_PATH, ME_FIELDS, None, n))
        return self._send(method, path, params, body, 1 if path == ME_PATH else None)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        position: int | None,
    ) -> dict[str, Any]:
        """One request with its retries; ``position``: only that key may carry it."""
        idempotent = method != "POST" or path in READ_ONLY_POSTS
        write = method in ("POST", "PUT") and path not in READ_ONLY_POSTS
        request = f"{method} {path}"
        failures = throttles = 0
        while True:
            if self._budget.exhausted:
                raise budget_spent(request, self._budget, None)
            outcome = self._attempt(method, path, params, body, write, position)
            step = classify(outcome, idempotent)
            if step == "done" and isinstance(outcome, Reply):
                return outcome.body if isinstance(outcome.body, dict) else {}
            if step == "throttled" and isinstance(outcome, Reply):
                throttles += 1
                self._throttle(request, outcome, throttles)
                continue
            if step == "unknown":
                self.stats.count("outcome_unknown")
                raise OutcomeUnknown(method, path, cause_of(outcome))
            if step == "fail":
                failure = self._failure(request, path, outcome)
                raise on_key(failure, self._local.ticket.lane.position, len(self._pool))
            failures += 1
            self._retry(request, outcome, failures)

    def _retry(self, request: str, outcome: Reply | Lost, failures: int) -> None:
        """Wait before attempt ``failures + 1``, or raise when no attempt is left."""
        limit = self._max_attempts
        if isinstance(outcome, Lost) and outcome.kind == "connect" and not self._answered:
            limit = min(limit, self._first_contact_attempts)
        cause = cause_of(outcome)
        if failures >= limit:
            raise gave_up(self._base_url, request, outcome, failures)
        if self._budget.exhausted:
            raise budget_spent(request, self._budget, cause)
        if isinstance(outcome, Lost) and outcome.kind == "timeout":
            cause = f"{cause} ({self._budget.describe()})"
        self.stats.count("retries")
        delay = self._rng.uniform(0, backoff_cap(failures))
        self._notify(retry_notice(request, cause, failures + 1, limit, delay))
        self._sleep(delay)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        write: bool,
        position: int | None = None,
    ) -> Reply | Lost:
        ticket = self._local.ticket = self._pool.acquire(position)
        self.stats.count("requests")
        started = self._clock()
        outcome = self._exchange(
            ticket.lane.http, method, path, params, body, started + self._deadline, write
        )
        elapsed = self._clock() - started
        if isinstance(outcome, Lost):
            self._pool.forget(ticket)
            self.stats.count("transport_errors")
            if outcome.kind == "timeout":
                self._budget.spend(elapsed)
            log.debug("%s %s -> %s after %.3fs", method, path, outcome.cause, elapsed)
            return outcome
        self._answered = True
        self._local.position = ticket.lane.position
        self._budget.answered()
        self._confirmed = self._confirmed or 200 <= outcome.status < 300
        self.stats.count_status(outcome.status)
        self._pool.observe(ticket, parse_ratelimit(outcome.headers))
        log.debug("%s %s -> %d in %.3fs", method, path, outcome.status, elapsed)
        return outcome

    def _exchange(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        deadline_at: float,
        write: bool,
    ) -> Reply | Lost:
        """Send once and read the whole answer; network trouble becomes a :class:`Lost`."""
        build = request_builder(http, method, path, params, body)
        limits = BodyLimits(deadline_at, self._deadline, self._max_body, self._clock)
        return exchange(http, build, limits, self._redact, write=write)

    def _throttle(self, request: str, reply: Reply, streak: int) -> None:
        """Pause the key (or, for the organization's limit, every key) for the 429's wait;
        this thread sleeps it too, plus a little jitter, unless only its key was paused and
        other keys can carry the re-send."""
        if streak > self._max_throttles:
            raise ApiError(
                f"{request}: still rate limited (HTTP 429) after {streak - 1} waits",
                status=429,
                hint="another client may be using the same key or organization; try later",
            )
        wait = throttle_wait(reply.headers, reply.body, streak)
        jitter = self._rng.uniform(0, max(0.05, min(1.0, wait / 10)))
        log.debug("%s rate limited, waiting %.3fs", request, wait + jitter)
        notice = throttle_notice(request, streak, wait + jitter, self._max_throttles)
        if notice:
            self._notify(notice)
        scope = self._pool.throttled(self._local.ticket, parse_ratelimit(reply.headers), wait)
        alone = scope == "key" and len(self._pool) > 1  # other keys carry the re-send
        self._sleep(jitter if alone else min(wait + jitter, MAX_WAIT))

    # -- errors -------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _failure(self, request: str, path: str, outcome: Reply | Lost) -> Exception:
        """The exception for an answer that ends the request (see the module table)."""
        url = f"{self._base_url}{path}"
        if isinstance(outcome, Lost):
            return lost_failure(request, url, outcome)
        if outcome.status == 404 and request.startswith("GET ") and not self._confirmed:
            return unusable_base(request, url, self._base_url, outcome)
        return answer_failure(request, outcome, self._redact(error_text(outcome.body)))
