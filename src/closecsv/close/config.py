"""Connection settings from options and the environment.

The API key is held in :class:`ApiKey`, whose ``repr`` and ``str`` never show it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from closecsv.errors import ConfigError

DEFAULT_API_URL = "https://api.close.com/api/v1/"
KEY_ENV = "CLOSE_API_KEY"
URL_ENV = "CLOSE_API_URL"
_AUTHORITY = re.compile(r"((?:[A-Za-z][A-Za-z0-9+.-]*:)?//|)([^/?#]*)(.*)", re.S)


class ApiKey:
    """A secret.  Only :meth:`reveal` gives the value; everything else shows ``ApiKey(***)``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("ApiKey", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("ApiKey cannot be pickled")


@dataclass(frozen=True)
class Settings:
    api_key: ApiKey  # the first key: its user is the default user of the rows sent
    api_url: str
    more_keys: tuple[ApiKey, ...] = ()  # keys 2, 3, ... of the same organization

    @property
    def api_keys(self) -> tuple[ApiKey, ...]:
        """Every key given, in order (``CLOSE_API_KEY=k1,k2,k3``)."""
        return (self.api_key, *self.more_keys)


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_url(url: str) -> str:
    """``url`` fit for a message: any user-info (``KEY@``, ``user:pass@``) becomes ``***@``.

    Works on text that is not a URL at all (``KEY@host/path`` without a scheme), since such
    text is exactly what a misconfigured ``--api-url`` holds.
    """
    found = _AUTHORITY.match(url.strip())
    assert found is not None  # every part of the pattern may be empty
    start, authority, tail = found.groups()
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{start}{authority}{tail}"


def normalize_api_url(url: str) -> str:
    """Check the scheme (https, or http on loopback only) and end the URL with ``/``.

    A URL carrying user-info is refused: the key belongs in ``CLOSE_API_KEY``, and a key
    written into the URL would be echoed by every message that names the URL.
    """
    parts = urlsplit(url.strip())
    shown = shown_url(url)
    if shown != url.strip():
        raise ConfigError(
            f"API URL {shown!r} carries a user name or key before '@'",
            hint=f"give the key with {KEY_ENV} (or --api-key) and the URL without it, "
            f"e.g. {DEFAULT_API_URL}",
        )
    host = parts.hostname or ""
    if not host or parts.scheme not in ("http", "https"):
        raise ConfigError(
            f"API URL {shown!r} is not an http(s) URL",
            hint=f"use e.g. {DEFAULT_API_URL} (set {URL_ENV} or --api-url)",
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigError(
            f"API URL {shown!r} uses plain http outside loopback",
            hint="use https://; plain http is allowed only for 127.0.0.0/8, ::1 and localhost",
        )
    return url.strip() if url.strip().endswith("/") else url.strip() + "/"


def load_settings(
    api_key: str | None, api_url: str | None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from options first, then the environment."""
    env = os.environ if environ is None else environ
    key = api_key if api_key else env.get(KEY_ENV, "")
    if not key.strip():
        raise ConfigError(
            f"no API key: set {KEY_ENV} or pass --api-key",
            hint=f"export {KEY_ENV}=... (Close: Settings > Developer > API Keys; "
            "the sandbox prints its key)",
        )
    url = api_url or env.get(URL_ENV) or DEFAULT_API_URL
    first, *more = split_keys(key)
    return Settings(api_key=first, api_url=normalize_api_url(url), more_keys=tuple(more))


def split_keys(text: str) -> list[ApiKey]:
    """The keys of ``k1,k2,k3`` (spaces around each trimmed); an empty item is refused, named
    by its position, never by a neighbour's value.  The same key twice is refused too: it
    would count twice against one key's limit."""
    items = [item.strip() for item in text.split(",")]
    count = len(items)
    for n, item in enumerate(items, 1):
        if not item:
            raise ConfigError(
                f"API key {n} of {count} is empty (keys are separated by commas)",
                hint=f"give {KEY_ENV} (or --api-key) as KEY or KEY1,KEY2,... with no empty item",
            )
    keys = [ApiKey(item) for item in items]
    for n, key in enumerate(keys, 1):
        if key in keys[: n - 1]:
            first = keys.index(key) + 1
            raise ConfigError(
                f"API key {n} of {count} is the same as key {first}",
                hint="give each key once; several keys go faster only if they are different "
                "keys of one organization",
            )
    return keys
