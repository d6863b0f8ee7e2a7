"""The core dispatcher: ``handle(method, path, query, headers, body) -> Response``.

Both adapters (the in-process httpx transport and the socket server) call :meth:`Dispatcher.handle`.
Per request, in this order: added latency; Basic auth (key as user name, empty password: 401
``{"error": "Unauthorized"}`` otherwise); the rate limit (429); routing (unknown path 404
``{"error": ...}``, a known path without its trailing slash 404 as well, wrong method 405);
fault injection; then the handler under the org lock.  ``POST`` with ``x-http-method-override:
GET`` and a ``{"_params": {...}}`` body is read as a GET (docs/CLOSE_API.md, Long filters).

Every request gets an HTTP answer: bad input is a 400 in Close's shape (handlers raise
:class:`ApiFailure`; a body that is not plain JSON, e.g. ``NaN`` or a 5,000-digit number, is
``{"error": "The request contains invalid JSON."}``), and anything a handler did not expect is
logged and answered ``500 {"error": "Internal server error."}``.  The handler runs inside
:meth:`State.atomic`, so a write answered with an error is never committed.  Only the
``--fault-rate`` fault drops a connection.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from closecsv.sandbox import event_log, lead_writes, type_writes
from closecsv.sandbox import instances as ins
from closecsv.sandbox import resources as res
from closecsv.sandbox.errors import (
    ApiFailure,
    Response,
    bad_request,
    json_response,
    method_not_allowed,
    not_found,
    unauthorized,
)
from closecsv.sandbox.ids import seed_id
from closecsv.sandbox.limits import FaultPlan, RateLimiter
from closecsv.sandbox.listing import Request
from closecsv.sandbox.search import Searcher
from closecsv.sandbox.state import State

PREFIX = "/api/v1/"
INTERNAL_ERROR = {"error": "Internal server error."}
log = logging.getLogger("closecsv.sandbox")
Handler = Callable[..., Any]
_ID = r"([^/]+)"


def _routes(searcher: Searcher) -> list[tuple[re.Pattern[str], dict[str, Handler]]]:
    table: list[tuple[str, dict[str, Handler]]] = [
        ("me/", {"GET": res.get_me}),
        ("user/", {"GET": res.list_users}),
        (f"user/{_ID}/", {"GET": res.get_user}),
        (f"organization/{_ID}/", {"GET": res.get_organization}),
        ("lead/", {"GET": res.list_leads}),
        ("lead/merge/", {"POST": lead_writes.merge_leads}),
        (f"lead/{_ID}/", {"GET": res.get_lead, "DELETE": lead_writes.delete_lead}),
        ("contact/", {"GET": res.list_contacts}),
        (f"contact/{_ID}/", {"GET": res.get_contact}),
        ("data/search/", {"POST": searcher.handle}),
        ("custom_activity/", {"GET": res.list_activity_types}),
        (f"custom_activity/{_ID}/", {"GET": res.get_activity_type}),
        ("custom_field/activity/", {"GET": res.list_activity_fields}),
        ("custom_field/shared/", {"GET": res.list_shared_fields}),
        ("custom_field/custom_object_type/", {"GET": res.list_object_fields}),
        (f"custom_field_schema/activity/{_ID}/", {"GET": res.activity_schema}),
        (f"custom_field_schema/custom_object/{_ID}/", {"GET": res.object_schema}),
        ("activity/", {"GET": ins.list_all_activities}),
        ("activity/custom/", {"GET": ins.list_activities, "POST": ins.create_activity}),
        (
            f"activity/custom/{_ID}/",
            {"GET": ins.get_activity, "PUT": ins.update_activity, "DELETE": ins.delete_activity},
        ),
        ("custom_object_type/", {"GET": res.list_object_types}),
        (f"custom_object_type/{_ID}/", {"GET": res.get_object_type}),
        ("custom_object/", {"GET": ins.list_objects, "POST": ins.create_object}),
        (
            f"custom_object/{_ID}/",
            {"GET": ins.get_object, "PUT": ins.update_object, "DELETE": ins.delete_object},
        ),
        ("event/", {"GET": event_log.list_events}),
        (f"event/{_ID}/", {"GET": event_log.get_event}),
    ]
    writes = dict(type_writes.schema_routes(_ID))  # schema changes: the same paths, more methods
    table = [(p, {**methods, **writes.pop(p, {})}) for p, methods in table] + list(writes.items())
    return [(re.compile(pattern), methods) for pattern, methods in table]


_STATUS = {("POST", "custom_object/"): 201, ("DELETE", "custom_object/"): 204}
_STATUS.update({(m, p): s for p in ("custom_activity/", "custom_object_type/",
                                    "custom_field/custom_object_type/")
                for m, s in (("POST", 201), ("DELETE", 204))})  # fmt: skip


def _status(method: str, path: str) -> int:
    parts = path.split("/")
    two = _STATUS.get((method, "/".join(parts[:2]) + "/"))
    return two or _STATUS.get((method, parts[0] + "/"), 200)


@functools.lru_cache(maxsize=8)
def _key_id(key: str) -> str:
    """The events' ``api_key_id``: a one-way digest of the key, never the key."""
    return seed_id("api", key)


def _no_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON: refused like any other invalid body."""
    raise ValueError(f"{name} is not valid JSON")


def parse_basic(header: str | None) -> str | None:
    """The user name of a Basic ``Authorization`` header whose password is empty."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return user if sep and not password else None


class Dispatcher:
    """Auth, limits, faults and routing around the route handlers."""

    def __init__(
        self,
        state: State,
        *,
        api_key: str,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        now: Callable[[], datetime],
        rate_limit: float | None = None,
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        seed: int = 0,
        max_skip: int | None = None,
    ) -> None:
        self.state = state
        self.api_key = api_key
        self.trickle = 0.0  # seconds between body bytes (the adapters apply it)
        self.sleep = sleep
        self.now = now
        self.latency = latency_ms / 1000.0
        self.max_skip = max_skip
        self.clock = clock
        self.limiter = None if rate_limit is None else RateLimiter(rate_limit, clock)
        self.faults = FaultPlan(fault_rate, seed)
        self.searcher = Searcher(clock)
        self.routes = _routes(self.searcher)
        self.owner = next(uid for uid, _role in state.org["active"])
        self.status_counts: Counter[int] = Counter()

    def set_rate_limit(self, rps: float | None) -> None:
        """Change (or drop, with ``None``) the rate limit while serving."""
        if rps is None:
            self.limiter = None
        elif self.limiter is None:
            self.limiter = RateLimiter(rps, self.clock)
        else:
            self.limiter.set_rate(rps)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        """Answer one request; counts answers by status in :attr:`status_counts`."""
        try:
            response = self._handle(method, path, query, headers, body)
        except Exception:  # a bug in the sandbox: still an answer, never a dropped connection
            log.exception("sandbox: %s %s failed", method, path)
            response = json_response(500, INTERNAL_ERROR)
        with self.state.lock:
            self.status_counts[0 if response.drop_after else response.status] += 1
        return response

    def _handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Response:
        if self.latency:
            self.sleep(self.latency)
        heads = {k.lower(): v for k, v in headers.items()}
        key = parse_basic(heads.get("authorization"))
        if key is None or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return unauthorized().response()
        extra: dict[str, str] = {}
        if self.limiter is not None:
            allowed, extra = self.limiter.take(key)
            if not allowed:
                body_429 = {"error": "API call count exceeded for this window"}
                return json_response(429, body_429, extra)
        response = self._routed(method.upper(), path, dict(query), heads, body)
        response.headers.update(extra)
        return response

    def _routed(
        self, method: str, path: str, query: dict[str, str], heads: dict[str, str], body: bytes
    ) -> Response:
        try:
            payload = self._json(body)
            if method == "POST" and heads.get("x-http-method-override", "").upper() == "GET":
                method, query = "GET", self._override(payload, query)
                payload = None
            handler, args, rel = self._match(method, path)
        except ApiFailure as failure:
            return failure.response()
        fault = self.faults.draw(method)
        if fault is not None and fault[0] == "error":
            return json_response(fault[1], {"error": "Service temporarily unavailable."})
        req = Request(method, rel, query, payload, self.state, self.owner, self.now, self.max_skip)
        req.api_key_id = _key_id(self.api_key)
        response = self._run(handler, args, req)
        # commit-then-drop: only a write that succeeded is dropped; a refusal is always answered
        response.drop_after = fault is not None and response.status < 400
        return response

    def _run(self, handler: Handler, args: tuple[str, ...], req: Request) -> Response:
        """The handler's answer; a failure undoes its writes (the answer is written inside)."""
        try:
            with self.state.atomic():
                result = handler(req, *args)
                status = _status(req.method, req.path)
                return json_response(status, None if status == 204 else result)
        except ApiFailure as failure:
            return failure.response()

    @staticmethod
    def _json(body: bytes) -> Any:
        if not body.strip():
            return None
        try:
            return json.loads(body, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, NaN, huge numbers
            raise bad_request("The request contains invalid JSON.") from exc

    @staticmethod
    def _override(payload: Any, query: dict[str, str]) -> dict[str, str]:
        params = payload.get("_params", {}) if isinstance(payload, dict) else {}
        if not isinstance(params, dict):
            raise bad_request("_params must be an object of query parameters.")
        merged = dict(query)
        merged.update(
            {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in params.items()}
        )
        return merged

    def _match(self, method: str, path: str) -> tuple[Handler, tuple[str, ...], str]:
        if not path.startswith(PREFIX):
            raise not_found("Not found.")
        rel = path[len(PREFIX) :]
        for pattern, methods in self.routes:
            found = pattern.fullmatch(rel)
            if found is None:
                continue
            if method not in methods:
                raise method_not_allowed(method)
            return methods[method], found.groups(), rel
        raise not_found("Not found.")
