"""The exceptions that end a request of :class:`~closecsv.close.client.CloseClient`, worded for
users.

Every message names the request (method and path, or the full URL where the URL itself is
the likely problem) and the cause; the hint says what to do next.  Text from the server is
redacted by the caller before it reaches these functions; the key never does.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from closecsv.close.answers import Lost, Reply, error_lists
from closecsv.close.config import DEFAULT_API_URL, URL_ENV, ApiKey, is_loopback_host
from closecsv.close.retrying import TimeoutBudget
from closecsv.errors import ApiError, AuthError, ConfigError, NotFound, RequestRejected

MIN_REDACTED = 8
SANDBOX_HINT = "is the sandbox running? start it with `closecsv sandbox` (it prints its URL)"
BASE_URL_HINT = (
    f"a base URL ends in /api/v1/, e.g. {DEFAULT_API_URL} (the sandbox prints its own when it "
    f"starts); set --api-url or {URL_ENV}"
)


def secret_forms(api_key: ApiKey) -> tuple[str, ...]:
    """The key, and the base64 forms an ``Authorization`` header would carry (with and
    without ``=`` padding), longest first.

    Forms shorter than :data:`MIN_REDACTED` are left alone: replacing a one-letter test key
    everywhere would mangle every message, and such a key protects nothing anyway.
    """
    raw = api_key.reveal()
    forms = {raw}
    for text in (f"{raw}:", raw):
        encoded = base64.b64encode(text.encode()).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return tuple(sorted((f for f in forms if len(f) >= MIN_REDACTED), key=len, reverse=True))


def cannot_connect(base_url: str, request: str, cause: str, attempts: int) -> ApiError:
    """The server at ``base_url`` could not be reached, ``attempts`` times."""
    host = urlsplit(base_url).hostname or ""
    where = (
        SANDBOX_HINT
        if is_loopback_host(host)
        else f"check --api-url / {URL_ENV} and the network (DNS, proxy, firewall)"
    )
    return ApiError(
        f"cannot connect to {base_url} ({request}: {cause}); gave up after {attempts} attempts",
        hint=where,
    )


def exhausted(request: str, cause: str, status: int | None, attempts: int) -> ApiError:
    return ApiError(
        f"{request}: gave up after {attempts} attempts ({cause})",
        status=status,
        hint="the Close API or the network kept failing; try again later",
    )


def budget_spent(request: str, budget: TimeoutBudget, cause: str | None) -> ApiError:
    last = f"; the last: {cause}" if cause else ""
    return ApiError(
        f"{request}: stopped, {budget.spent:.0f}s went to answers that timed out with no "
        f"complete answer in between (the limit is {budget.limit:g}s){last}",
        hint="the Close API or the network answers too slowly; try again later "
        "(an import run again resumes where it stopped)",
    )


def lost_failure(request: str, url: str, outcome: Lost) -> ApiError:
    """A :class:`Lost` that retrying cannot cure: an answer over the cap, TLS refused."""
    return ApiError(f"{request} ({url}): {outcome.cause}", hint=outcome.hint)


def unusable_base(request: str, url: str, base_url: str, reply: Reply) -> ConfigError:
    """A 404 to a read before the server ever answered 2xx: the base URL is wrong."""
    said = f"HTTP {reply.status} {reply.reason}".strip()
    return ConfigError(
        f"{url} answered {said} to {request}, the first request: {base_url} does not look "
        "like the base URL of the Close API",
        hint=BASE_URL_HINT,
    )


def answer_failure(request: str, reply: Reply, detail: str) -> Exception:
    """The exception for an answer that ends the request (``detail``: its redacted text)."""
    status = reply.status
    if status in (401, 403):
        return auth_error(request, status, detail)
    said = f": {detail}" if detail else ""
    if status == 402:
        return ApiError(
            f"plan limit reached (HTTP 402) for {request}{said}",
            status=402,
            hint="every further write would be refused the same way; raise the limit in "
            "Close (or free room), then run the same command again to resume",
        )
    if 400 <= status < 500:
        message = detail or f"HTTP {status} {reply.reason}".strip()
        errors, field_errors = error_lists(reply.body)
        kind = NotFound if status == 404 else RequestRejected
        return kind(status, message, errors=errors, field_errors=field_errors, body=reply.body)
    return ApiError(f"{request}: unexpected HTTP {status}{said}", status=status)


def auth_error(request: str, status: int, detail: str) -> AuthError:
    said = f": {detail}" if detail else ""
    if status == 401:
        return AuthError(
            f"authentication refused (HTTP 401) for {request}{said}",
            hint="check the API key (CLOSE_API_KEY or --api-key); keys are made in Close "
            "under Settings > API Keys, and belong to one organization",
        )
    return AuthError(
        f"permission refused (HTTP 403) for {request}{said}",
        hint="the key's user may not do this; use a key of a user with the needed role",
    )


def cause_of(outcome: Reply | Lost) -> str:
    """What went wrong with one attempt, in a few words."""
    if isinstance(outcome, Lost):
        return outcome.cause
    if outcome.problem:
        return f"HTTP {outcome.status} with {outcome.problem}"
    if outcome.malformed:
        return f"HTTP {outcome.status} with a body that is not a JSON object"
    return f"HTTP {outcome.status} {outcome.reason}".strip()


def gave_up(base_url: str, request: str, outcome: Reply | Lost, n: int) -> ApiError:
    """The error once ``n`` attempts of ``request`` failed, the last with ``outcome``."""
    if isinstance(outcome, Lost) and outcome.kind == "connect":
        return cannot_connect(base_url, request, outcome.cause, n)
    status = outcome.status if isinstance(outcome, Reply) else None
    return exhausted(request, cause_of(outcome), status, n)
