"""Several API keys: the check made before anything else is sent, and errors that name the
key they came from.  A key is only ever named by its position (``key 2 of 3``), never by
its value."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from closecsv.close.shapes import Me, require
from closecsv.errors import AuthError, ConfigError

ME_PATH = "me/"  # always sent with the first key: its user is the default user of the rows
ME_FIELDS: Mapping[str, str] = {"_fields": "id,organizations"}
KEYS_HINT = (
    "give keys of one organization only, separated by commas (CLOSE_API_KEY or --api-key); "
    "each is made in Close under Settings > Developer > API Keys"
)


class KeyCheck:
    """Whether the keys of a client were checked (one key needs no check), and their
    organization once they were.  Thread-safe: the first request checks, the others wait."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.organization: str | None = None
        self._checked = count == 1
        self._lock = threading.Lock()

    def ensure(self, me: Callable[[int], dict[str, Any]]) -> None:
        """Check the keys with ``me`` (see :func:`check_keys`) unless that was done."""
        if self._checked:
            return
        with self._lock:
            if not self._checked:
                self.organization = check_keys(me, self.count)
                self._checked = True


def check_keys(me: Callable[[int], dict[str, Any]], count: int) -> str:
    """The organization every key belongs to; ``me(n)`` is ``GET me/`` sent with key ``n``.

    A key Close refuses raises that error, naming the key by its position; a key of another
    organization than the first raises :class:`ConfigError` (exit 2), as no row was sent.
    """
    first: str | None = None
    for position in range(1, count + 1):
        answer = me(position)  # a refusal names the key already (on_key)
        require(Me, answer, f"GET me/ (API key {position} of {count})")
        organization = str(answer["organizations"][0]["id"])
        if first is None:
            first = organization
        elif organization != first:
            raise ConfigError(
                f"API key {position} of {count} belongs to another organization "
                f"({organization}) than key 1 ({first}); nothing was sent",
                hint=KEYS_HINT,
            )
    assert first is not None  # count >= 1
    return first


def on_key(exc: Exception, position: int, count: int) -> Exception:
    """``exc`` (an error that ends a request) naming the key that got it, when there are
    several keys; unchanged otherwise."""
    if count < 2:
        return exc
    where = f"API key {position} of {count}: "
    if isinstance(exc, AuthError):
        return AuthError(where + exc.message, hint=exc.hint)
    if isinstance(exc, ConfigError):
        return ConfigError(where + exc.message, hint=exc.hint)
    return exc
