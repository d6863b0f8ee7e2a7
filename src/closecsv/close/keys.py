"""Several API keys of one organization behind one client: which key a request goes with,
and which keys a 429 stops (docs/CLOSE_API.md, Rate limits; README, "Several API keys").

Close limits each API key, and the organization as a whole at 3 times the per-key figure.
Every key here has its own :class:`~closecsv.close.pacing.Pacer`, fed by the ``RateLimit``
headers of the answers to that key only.  A request goes with the key that has the most
budget left (then the fewest requests in flight): keys never idle while work remains, and a
key paused by a 429 is simply passed over.

With more than one key there is also an organization pacer, which every request passes
first.  Close does not document how to tell the organization's limit from a key's, so the
pool tolerates every plausible form (INFERRED):

* a ``RateLimit`` header whose ``limit`` is well above the smallest limit any key has shown
  (keys of one organization share one per-key figure, and the organization's is 3 times
  it) describes the organization's bucket: it feeds the organization pacer, not the key's;
* a 429 counts for the whole organization (every key waits) when its header is such an
  organization header, when the key's own budget said it still had room for more than this
  request, or when another key was answered 429 within the last wait window; otherwise it
  pauses only the key it was answered to.

With one key there is no organization pacer and everything is as it always was.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httpx

from closecsv.close.pacing import Pacer, RateLimit

ORG_FACTOR = 1.5  # a limit this many times the keys' smallest one is the organization's
ROOMY = 2.0  # a key whose budget was at least this before a send was not the one out of room

Scope = Literal["key", "org"]


@dataclass
class Lane:
    """One API key: its position (1 = the first key given), connection pool and pacer."""

    position: int
    http: httpx.Client
    pacer: Pacer
    throttled_at: float = -math.inf  # when this key was last answered 429
    throttle_window: float = 0.0  # ... and how long that 429 said to wait


@dataclass(frozen=True)
class Ticket:
    """One send: the key it goes with, its send numbers, the key's budget before it."""

    lane: Lane
    seq: int
    org_seq: int | None
    room: float | None = field(default=None)


class KeyPool:
    """The keys of one client and the organization they share (module docstring).
    Thread-safe; every :meth:`acquire` is followed by :meth:`observe` or :meth:`forget`."""

    def __init__(
        self,
        https: list[httpx.Client],
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.lanes = [Lane(n, http, Pacer(clock, sleep)) for n, http in enumerate(https, 1)]
        self.org = Pacer(clock, sleep) if len(self.lanes) > 1 else None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._key_limit: float | None = None  # the smallest RateLimit limit any key showed
        self._turn = 0  # ties go to the keys in turn

    def __len__(self) -> int:
        return len(self.lanes)

    def acquire(self, position: int | None = None) -> Ticket:
        """Wait until a key may send (``position``: that key only), take one unit of it."""
        org_seq = self.org.acquire() if self.org is not None else None
        lanes = self.lanes if position is None else [self.lanes[position - 1]]
        while True:
            waits = []
            for lane, room in self._by_room(lanes):
                seq, wait = lane.pacer.try_acquire()
                if seq is not None:
                    return Ticket(lane, seq, org_seq, room)
                waits.append(wait)
            self._sleep(min(waits))

    def observe(self, ticket: Ticket, limit: RateLimit | None) -> None:
        """The answer to ``ticket`` came with this ``RateLimit`` (or none)."""
        for_org = self._is_org(limit)
        ticket.lane.pacer.observe(ticket.seq, None if for_org else limit)
        if self.org is not None and ticket.org_seq is not None:
            self.org.observe(ticket.org_seq, limit if for_org else None)

    def forget(self, ticket: Ticket) -> None:
        """``ticket`` got no answer."""
        ticket.lane.pacer.forget(ticket.seq)
        if self.org is not None and ticket.org_seq is not None:
            self.org.forget(ticket.org_seq)

    def throttled(self, ticket: Ticket, limit: RateLimit | None, wait: float) -> Scope:
        """``ticket`` was answered 429 with ``wait``: pause its key, or every key."""
        lane, now = ticket.lane, self._clock()
        with self._lock:
            others = any(
                other is not lane and now - other.throttled_at <= max(other.throttle_window, 1.0)
                for other in self.lanes
            )
            lane.throttled_at, lane.throttle_window = now, wait
        roomy = ticket.room is not None and ticket.room >= ROOMY
        if self.org is not None and (self._is_org(limit) or roomy or others):
            self.org.pause(wait)
            return "org"
        lane.pacer.pause(wait)
        return "key"

    def _by_room(self, lanes: list[Lane]) -> list[tuple[Lane, float | None]]:
        """``lanes`` with their budgets, the most budget first (unknown counts as plenty:
        that key has not answered yet, or Close sends no ``RateLimit``), then the fewest
        requests in flight, then in turn."""
        with self._lock:
            self._turn += 1
            turn = self._turn
        rooms = [(lane, *lane.pacer.room()) for lane in lanes]
        rooms.sort(
            key=lambda r: (
                -(math.inf if r[1] is None else r[1]),
                r[2],
                (r[0].position - turn) % len(self.lanes),
            )
        )
        return [(lane, room) for lane, room, _ in rooms]

    def _is_org(self, limit: RateLimit | None) -> bool:
        """Whether ``limit`` describes the organization's bucket (module docstring)."""
        if self.org is None or limit is None or limit.limit <= 0:
            return False
        with self._lock:
            known = self._key_limit
            if known is not None and limit.limit > known * ORG_FACTOR:
                return True
            self._key_limit = limit.limit if known is None else min(known, limit.limit)
            return False
