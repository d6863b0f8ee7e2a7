"""One exception tree for closecsv, grouped by what the caller does next.

::

    CloseCsvError
    ├── FatalError                  stop the run; the CLI maps .exit_code
    │   ├── ConfigError        (2)  missing key, bad URL, bad option
    │   ├── InputError         (2)  unreadable file, bad headers, unknown type
    │   ├── AuthError          (3)  401/403 from the API
    │   └── ApiError           (3)  retries exhausted, unexpected answer
    ├── RequestRejected             a 4xx the caller handles (400 validation, 404)
    │   └── NotFound
    └── OutcomeUnknown              a write that may or may not have happened

Retried conditions (429, connect errors, and 5xx or lost answers to reads) never surface:
the client handles them and raises ``ApiError`` only when its retry budget is spent.  A write
whose answer is lost or is a 5xx may have happened: that is ``OutcomeUnknown``, never retried
blindly.  Row-level problems are data, not
exceptions: each row ends as a ``RowResult`` (:mod:`closecsv.importing.report`) written to the
results or errors file, never raised through the import loop.
"""

from __future__ import annotations

from typing import Any


class CloseCsvError(Exception):
    """Root of every error closecsv raises on purpose."""


class FatalError(CloseCsvError):
    """The run cannot go on.  ``exit_code``: 2 nothing sent (a local problem), 3 the API or
    network stopped the run, 130 interrupted (1, some rows failed, is not an error)."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(FatalError):
    """Bad settings: missing API key, a non-https URL, contradictory options."""

    exit_code = 2


class InputError(FatalError):
    """The input cannot be used: unreadable file, bad headers, unknown type.  Nothing was sent."""

    exit_code = 2


class AuthError(FatalError):
    """The API refused the key (401) or the operation (403)."""

    exit_code = 3


class ApiError(FatalError):
    """The API or network failed in a way retries did not cure."""

    exit_code = 3

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class RequestRejected(CloseCsvError):
    """A 4xx answer the caller should record (400 validation, 404, 409, 422).

    ``errors`` and ``field_errors`` are Close's ``errors`` list and ``field-errors`` dict;
    ``message`` joins them (and any single ``error`` string) into one readable line.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[str] | None = None,
        field_errors: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.field_errors = field_errors or {}
        self.body = body


class NotFound(RequestRejected):
    """404: the path or the object id does not exist."""


class OutcomeUnknown(CloseCsvError):
    """A non-idempotent request (POST) was sent and its answer was lost.

    The write may or may not have happened; the caller must reconcile (look the object up)
    before sending it again.  ``cause`` says what went wrong (timeout, dropped connection, 5xx).
    """

    def __init__(self, method: str, path: str, cause: str) -> None:
        super().__init__(f"{method} {path}: outcome unknown ({cause})")
        self.method = method
        self.path = path
        self.cause = cause
