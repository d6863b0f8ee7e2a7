"""The one response type and the one error envelope of the sandbox.

Close's error bodies (docs/CLOSE_API.md, Errors), reproduced exactly:

- 400 validation: ``{"errors": [...], "field-errors": {"<field>": "<message>"}}``
- 400 with a single message (e.g. the ``_skip`` cap): ``{"error": "<message>"}``
- 401: ``{"error": "Unauthorized"}``; 404: ``{"error": "<message>"}``
- 429: ``{"error": "API call count exceeded for this window"}`` plus headers

Route code raises :class:`ApiFailure`; the dispatcher turns it into a :class:`Response`.
Messages never contain the API key: nothing here is given the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """What the dispatcher answers; both adapters (transport, socket) write it out."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop_after: bool = False


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    """The sandbox's one JSON writer."""
    body = (
        b""
        if payload is None
        else json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    )
    head = {"content-type": "application/json"} if payload is not None else {}
    head.update(headers or {})
    return Response(status, head, body)


class ApiFailure(Exception):
    """An error answer with Close's body shape."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body

    def response(self) -> Response:
        return json_response(self.status, self.body)


def validation(field_errors: dict[str, str], errors: list[str] | None = None) -> ApiFailure:
    return ApiFailure(400, {"errors": errors or [], "field-errors": field_errors})


def field_error(name: str, message: str) -> ApiFailure:
    return validation({name: message})


def bad_request(message: str) -> ApiFailure:
    return ApiFailure(400, {"error": message})


def not_found(message: str = "Resource not found.") -> ApiFailure:
    return ApiFailure(404, {"error": message})


def unauthorized() -> ApiFailure:
    return ApiFailure(401, {"error": "Unauthorized"})


def method_not_allowed(method: str) -> ApiFailure:
    return ApiFailure(405, {"error": f'Method "{method}" not allowed.'})


REQUIRED = "This field is required."
