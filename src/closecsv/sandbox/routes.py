"""The core dispatcher: ``handle(method, path, query, headers, body) -> Response``.

Both adapters (the in-process httpx transport and the socket server) call :meth:`Dispatcher.handle`.
Per request, in this order: added latency; Basic auth (key as user name, empty password: 401
``{"error": "Unauthorized"}`` otherwise); the rate limit (429); routing (repeated slashes read as
one; a known path without its trailing slash answered 308 to the slash form, see
:mod:`closecsv.sandbox.paths`; unknown path 404 ``{"error": ...}``, wrong method 405);
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
from collections.abc import Callable, Mapping, Sequence
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
from closecsv.sandbox.paths import redirect, single_slashes
from closecsv.sandbox.search import Searcher
from closecsv.sandbox.state import State
from closecsv.sandbox.traffic import TRAFFIC_PATH, Keyring, other_org_answer

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
        ("custom_field/lead/", {"GET": res.list_record_fields}),
        ("custom_field/contact/", {"GET": res.list_record_fields}),
        ("custom_field/opportunity/", {"GET": res.list_record_fields}),
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
        more_keys: Sequence[str] = (),
        other_org_keys: Sequence[str] = (),
        org_rate_limit: float | None = None,
    ) -> None:
        self.state = state
        self.api_key = api_key
        self.keyring = Keyring([api_key, *more_keys], other_org_keys, clock)
        self.org_rate_limit = org_rate_limit  # None: 3 x the per-key limit
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
        self.keyring.set_org_rate(self._org_rps(rate_limit), clock)

    def _org_rps(self, rps: float | None) -> float | None:
        """The organization's limit: as given, else 3 times the per-key one (Close's rule)
        when there are several keys (with one, it could never be the tighter)."""
        several = len(self.keyring.keys) > 1
        return self.org_rate_limit or (3 * rps if rps is not None and several else None)

    def set_rate_limit(self, rps: float | None) -> None:
        """Change (or drop, with ``None``) the rate limit while serving."""
        self.keyring.set_org_rate(self._org_rps(rps), self.clock)
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
        if path == TRAFFIC_PATH:  # the sandbox's own counts (traffic.py), not a Close route
            return json_response(200, self.keyring.snapshot())
        if self.latency:
            self.sleep(self.latency)
        heads = {k.lower(): v for k, v in headers.items()}
        key = parse_basic(heads.get("authorization"))
        position = self._position(key)
        if key is None or position is None:
            return unauthorized().response()
        allowed, extra = self.keyring.take(key, position, self.limiter)
        if not allowed:
            body_429 = {"error": "API call count exceeded for this window"}
            return json_response(429, body_429, extra)
        if self.keyring.is_other_org(position):
            return json_response(*other_org_answer(method, path.removeprefix(PREFIX)))
        # key 1 belongs to the owner (set_key_user may change who that is); keys 2, 3, ...
        # to the next seed users
        user = (
            self.owner
            if position == 1
            else self.keyring.user(position, [uid for uid, _ in self.state.org["active"]])
        )
        response = self._routed(method.upper(), path, dict(query), heads, body, user, key)
        response.headers.update(extra)
        return response

    def _position(self, key: str | None) -> int | None:
        """The key's position (1: the first, which :meth:`set_api_key` may replace)."""
        if key is None:
            return None
        if hmac.compare_digest(key.encode(), self.api_key.encode()):
            return 1
        position = self.keyring.position(key)
        return position if position != 1 else None  # the first key was revoked

    def _routed(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        heads: dict[str, str],
        body: bytes,
        user: str | None = None,
        key: str | None = None,
    ) -> Response:
        path = single_slashes(path)
        if self._slash_missing(path):
            return redirect(path + "/", query)
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
        owner = self.owner if user is None else user
        req = Request(method, rel, query, payload, self.state, owner, self.now, self.max_skip)
        req.api_key_id = _key_id(key or self.api_key)
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

    def _slash_missing(self, path: str) -> bool:
        """A known path named without its trailing slash (answered with a redirect)."""
        if path.endswith("/") or not path.startswith(PREFIX):
            return False
        rel = path[len(PREFIX) :] + "/"
        return any(pattern.fullmatch(rel) for pattern, _methods in self.routes)

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
