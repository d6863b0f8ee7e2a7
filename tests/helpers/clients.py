"""A real :class:`CloseClient` on the sandbox's in-process transport (or one wrapping it)."""

from __future__ import annotations

from typing import Any

import httpx

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.sandbox import SANDBOX_API_KEY

SANDBOX_URL = "http://sb.test/api/v1/"


def sandbox_client(transport: httpx.BaseTransport, **options: Any) -> CloseClient:
    """A client with the sandbox's key on ``transport``; ``options`` go to CloseClient."""
    return CloseClient(ApiKey(SANDBOX_API_KEY), SANDBOX_URL, transport=transport, **options)
