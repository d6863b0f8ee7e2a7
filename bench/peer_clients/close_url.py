"""Point a client whose Close address is written into its code at the sandbox instead.

Run inside a peer's virtual environment (``make peers``), never by closecsv.  Every client
here sends its requests through ``requests``; ``requests.Session.send`` is wrapped so that a
URL starting with one of Close's API addresses is rewritten to the sandbox's base URL before it
goes out.  This reaches every hard-coded address (module constants, class attributes, f-strings
inside methods) without copying or editing the client's code.  Nothing else changes: the
client's own paths (with or without a trailing slash, with a doubled slash), query strings,
bodies, headers and redirects go to the sandbox exactly as they would go to Close.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import requests

CLOSE_BASES = (
    "https://api.close.com/api/v1",
    "https://app.close.com/api/v1",
    "https://app.close.io/api/v1",
)


def point_at(sandbox_base: str) -> None:
    """Send every request for Close to ``sandbox_base`` (``http://127.0.0.1:PORT/api/v1/``)."""
    target = sandbox_base.rstrip("/")
    original = requests.Session.send

    def send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        url = request.url or ""
        for base in CLOSE_BASES:
            if url.startswith(base):
                request.url = target + url[len(base) :]
                break
        return original(self, request, **kwargs)

    requests.Session.send = send  # type: ignore[method-assign]


class Output:
    """JSON lines on a file: ``{"stream": ..., "record": {...}}`` per record read."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, stream: str, record: Any) -> None:
        self.file.write(json.dumps({"stream": stream, "record": record}) + "\n")

    def close(self) -> None:
        self.file.close()


def arguments() -> tuple[str, str, str]:
    """``<sandbox base URL> <API key> <output file>`` from the command line."""
    if len(sys.argv) != 4:
        raise SystemExit(f"usage: {sys.argv[0]} BASE_URL API_KEY OUT_FILE")
    return sys.argv[1], sys.argv[2], sys.argv[3]
