"""Close-style ids and timestamps, and the fixed ids of the seed org.

Seed ids are derived from a fixed key (``seed_id("lead", "lead-7")``), so the seed org is the
same on every machine and for every ``seed=`` option.  Run-time ids come from
:func:`runtime_id`, which mixes the ``seed`` option with a persisted counter: deterministic,
and never equal to a seed id.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
Collections = dict[str, dict[str, Obj]]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SEED_EPOCH = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)


def _base62(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars: list[str] = []
    while len(chars) < length:
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(chars)


def seed_id(prefix: str, key: str) -> str:
    """A Close-style id (``lead_…``) fixed by ``key``."""
    return f"{prefix}_{_base62(hashlib.sha256(f'seed:{key}'.encode()).digest(), 32)}"


def runtime_id(prefix: str, seed: int, counter: int) -> str:
    """The id of the ``counter``-th object created at run time with option ``seed``."""
    digest = hashlib.sha256(f"run:{seed}:{counter}".encode()).digest()
    return f"{prefix}_{_base62(digest, 32)}"


def iso(moment: datetime) -> str:
    """Close's timestamp format: UTC, microseconds, ``+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


ORG_ID = seed_id("orga", "org")
ADA = seed_id("user", "ada")
GRACE = seed_id("user", "grace")
ALAN = seed_id("user", "alan")


DISCOVERY = seed_id("actitype", "discovery-call")
SUPPORT = seed_id("actitype", "support-ticket")
LEGACY = seed_id("actitype", "legacy-survey")
DEAL = seed_id("cotype", "deal")
SUBSCRIPTION = seed_id("cotype", "subscription")
REGION = seed_id("cf", "region")
