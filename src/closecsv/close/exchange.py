"""One exchange with Close: send a request once and read its whole answer, within the
request's deadline and the answer size cap.  Network trouble, a deadline passed while the
answer was still arriving, and an answer over the cap become a :class:`Lost` (what the client
does next is its table's business); anything else is read into a :class:`Reply`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from closecsv.close.answers import Lost, Reply, read_reply

MIB = 1024 * 1024
TLS_HINT = (
    "TLS verification failed (it is never turned off): check the API URL; "
    "behind a proxy with its own CA, set SSL_CERT_FILE to that CA bundle"
)
TOO_LARGE_HINT = (
    "Close's answers are far smaller; check that --api-url / CLOSE_API_URL points at the "
    "Close API and not at a proxy or a download"
)


class _DeadlineExceeded(Exception):
    """The whole-request deadline passed while the answer was still arriving."""


class _TooLarge(Exception):
    """The answer is longer than ``max_body`` bytes."""


@dataclass(frozen=True)
class BodyLimits:
    """When reading must stop: at ``deadline_at`` (on ``clock``; ``deadline`` seconds after
    the send) and past ``max_body`` bytes."""

    deadline_at: float
    deadline: float
    max_body: int
    clock: Callable[[], float]


def exchange(
    http: httpx.Client,
    build: Callable[[], httpx.Request],
    limits: BodyLimits,
    redact: Callable[[str], str],
    *,
    write: bool,
) -> Reply | Lost:
    """Send the request ``build`` makes once and read the whole answer; ``redact`` cleans
    error texts."""
    try:
        response = http.send(build(), stream=True)
        try:
            content = read_body(response, limits)
        finally:
            response.close()
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        text = redact(f"{type(exc).__name__}: {exc}")
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return Lost("fatal", text, TLS_HINT)
        return Lost("connect", text)
    except httpx.PoolTimeout as exc:
        return Lost("unsent", redact(f"{type(exc).__name__}: {exc}"))
    except httpx.TimeoutException as exc:
        return Lost("timeout", redact(f"{type(exc).__name__}: {exc}"))
    except httpx.RequestError as exc:
        return Lost("dropped", redact(f"{type(exc).__name__}: {exc}"))
    except _DeadlineExceeded:
        return Lost("timeout", f"no complete answer within {limits.deadline:g}s")
    except _TooLarge:
        cap = f"{limits.max_body / MIB:g} MiB" if limits.max_body >= MIB else "the size cap"
        return Lost("fatal", f"the answer is larger than {cap}", TOO_LARGE_HINT)
    return read_reply(response, content, write=write)


def read_body(response: httpx.Response, limits: BodyLimits) -> bytes:
    """The whole body, streamed: cut at the deadline, and at ``max_body`` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_body:
        raise _TooLarge
    chunks = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_body:
            raise _TooLarge
        chunks.append(chunk)
        if limits.clock() > limits.deadline_at:
            raise _DeadlineExceeded
    return b"".join(chunks)


LONG_QUERY_CHARS = 1800
"""A GET whose query string is longer goes as Close's documented long-filter form: a POST with
``x-http-method-override: GET`` and the parameters as ``{"_params": {...}}`` in the body, so a
read of 100 ids fits whatever URL length a proxy allows."""


def request_builder(
    http: httpx.Client,
    method: str,
    path: str,
    params: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None,
) -> Callable[[], httpx.Request]:
    """What builds the request of one attempt (a long GET in its POST form)."""
    query = dict(params) if params else None
    if method == "GET" and query and len(str(httpx.QueryParams(query))) > LONG_QUERY_CHARS:
        override = {"x-http-method-override": "GET"}
        return functools.partial(
            http.build_request, "POST", path, json={"_params": query}, headers=override
        )
    return functools.partial(http.build_request, method, path, params=query, json=body)
