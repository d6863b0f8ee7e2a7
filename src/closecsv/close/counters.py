"""``ClientStats``: what one :class:`~closecsv.close.client.CloseClient` sent and got back, for
run receipts and benchmarks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

Counted = Literal["requests", "retries", "outcome_unknown", "transport_errors"]


@dataclass
class ClientStats:
    """Counters of one client, safe to update from many threads.

    ``requests`` attempts sent; ``rate_limited`` 429 answers; ``retries`` re-sends after a
    5xx, network error or timeout (429 waits not included); ``outcome_unknown`` POSTs given up
    as :class:`OutcomeUnknown`; ``transport_errors`` attempts with no HTTP answer;
    ``by_status`` answers per HTTP status.
    """

    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    outcome_unknown: int = 0
    transport_errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: Counted) -> None:
        """Add one to the counter ``name`` (one of the int fields)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def count_status(self, status: int) -> None:
        """Record one HTTP answer."""
        with self._lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if status == 429:
                self.rate_limited += 1

    def as_dict(self) -> dict[str, Any]:
        """A consistent snapshot for receipts and benchmarks (statuses as string keys)."""
        with self._lock:
            return {
                "requests": self.requests,
                "rate_limited": self.rate_limited,
                "retries": self.retries,
                "outcome_unknown": self.outcome_unknown,
                "transport_errors": self.transport_errors,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            }
