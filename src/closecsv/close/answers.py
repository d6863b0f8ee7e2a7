"""What an HTTP attempt came back with, and what the client does next (client.py's table).

``Reply`` is an answer read in full, ``Lost`` is no usable answer; :func:`classify` maps
either to the next step, and :func:`error_text` turns Close's error shapes (``field-errors``,
``errors``, ``error`` as a string or an object) into one line.

A 2xx answer is *malformed* when its body is not a JSON object, or when it answers a write
(a create or an update) without the object's id as a non-empty string (``shapes.WriteAnswer``):
such a write is not known to have happened, so it is never counted as one.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from closecsv.close.shapes import WriteAnswer, problem

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
Step = Literal["done", "throttled", "retry", "unknown", "fail"]


LostKind = Literal["connect", "unsent", "timeout", "dropped", "fatal"]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, read in full.  ``body`` is parsed JSON (``None`` if empty or invalid);
    ``problem`` says why a malformed 2xx answer cannot be used."""

    status: int
    reason: str
    headers: httpx.Headers
    body: Any
    malformed: bool
    problem: str | None = None


@dataclass(frozen=True)
class Lost:
    """No usable answer, of one ``kind``:

    ``connect`` the server could not be reached (refused, unknown host, connect timeout);
    ``unsent`` no connection was free in time; ``timeout`` the answer did not come in time;
    ``dropped`` the connection broke; ``fatal`` retrying cannot help (TLS verification failed,
    an answer over the size cap): ``hint`` says what the user can do.
    """

    kind: LostKind
    cause: str
    hint: str | None = None

    @property
    def sent(self) -> bool:
        """False when the request never left: re-sending it is safe even for a write."""
        return self.kind not in ("connect", "unsent")


def classify(outcome: Reply | Lost, idempotent: bool) -> Step:
    """What to do next with an attempt's outcome (the module table as code)."""
    if isinstance(outcome, Lost):
        if outcome.kind == "fatal":
            return "fail"
        return "retry" if idempotent or not outcome.sent else "unknown"
    status = outcome.status
    if 200 <= status < 300:
        if not outcome.malformed:
            return "done"
        return "retry" if idempotent else "unknown"
    if status == 429:
        return "throttled"
    if status >= 500:
        if not idempotent:
            return "unknown"
        return "retry" if status in RETRYABLE_STATUSES else "fail"
    return "fail"


def read_reply(response: httpx.Response, content: bytes, *, write: bool = False) -> Reply:
    """The answer as a :class:`Reply`; ``write``: it answers a create or an update."""
    body: Any = None
    malformed = False
    if content.strip():
        try:
            body = jsonlib.loads(content)
        except ValueError:
            malformed = True
    if body is not None and not isinstance(body, dict):
        malformed = True
    ok = 200 <= response.status_code < 300
    missing = problem(WriteAnswer, body) if ok and write and not malformed else None
    return Reply(
        response.status_code,
        response.reason_phrase,
        response.headers,
        body,
        (malformed or missing is not None) and ok,
        f"no usable id ({missing})" if missing else None,
    )


def error_lists(body: Any) -> tuple[list[str], dict[str, str]]:
    if not isinstance(body, dict):
        return [], {}
    raw_errors = body.get("errors")
    raw_fields = body.get("field-errors")
    errors = [str(e) for e in raw_errors] if isinstance(raw_errors, list) else []
    fields = {str(k): str(v) for k, v in raw_fields.items()} if isinstance(raw_fields, dict) else {}
    return errors, fields


def error_text(body: Any) -> str:
    """One line from Close's error shapes: ``field-errors``, then ``errors``, then ``error``."""
    errors, field_errors = error_lists(body)
    parts = [f"{name}: {message}" for name, message in field_errors.items()]
    parts.extend(errors)
    single = body.get("error") if isinstance(body, dict) else None
    if isinstance(single, dict):
        single = single.get("message") or jsonlib.dumps(single, sort_keys=True)
    if single:
        parts.append(str(single))
    return "; ".join(parts)
