"""What the client does between two attempts of one request, and what it tells the user.

* **Back-off**: capped exponential with full jitter, ``uniform(0, min(30, 0.5 x 2^n))``
  seconds before attempt ``n + 1``; ``max_attempts`` (8) attempts in all.
* **First contact**: until the server has answered once, a request that cannot connect
  (refused, unknown host, connect timeout) gets :data:`FIRST_CONTACT_ATTEMPTS` attempts
  only: a wrong or dead URL fails within seconds instead of backing off for a minute.
  Once the server has answered, connect errors are retried like any other failure.
* **Timeout budget**: time spent in attempts that timed out (a read timeout, or an answer
  not complete within the deadline) adds up, every thread together, until the server
  answers any request in full, which starts the count again.  Past :data:`TIMEOUT_BUDGET`
  seconds of such time in a row nothing is retried or sent any more: a server that
  trickles its answers stops the run in minutes, not after 8 x 120 s per request, while a
  long run on a network that times out now and then goes on.
* **Notices**: each retry is announced (what, why, attempt n of m); 429 waits only when
  they are more than ordinary pacing (several in a row, or a long wait).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
FIRST_CONTACT_ATTEMPTS = 3
TIMEOUT_BUDGET = 240.0
NOTICE_STREAK = 3  # the 429 in a row from which waits are announced
NOTICE_WAIT = 30.0  # a 429 wait at least this long is announced even alone

Notify = Callable[[str], None]


def no_notice(message: str) -> None:
    """The default ``notify``: library use prints nothing."""


def backoff_cap(failures: int) -> float:
    """The upper bound of the jittered wait after ``failures`` failed attempts."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2.0**failures)


class TimeoutBudget:
    """Seconds one client (one run) may spend in attempts that timed out with no complete
    answer in between.  Thread-safe."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._spent = 0.0
        self._lock = threading.Lock()

    def spend(self, seconds: float) -> None:
        with self._lock:
            self._spent += max(0.0, seconds)

    def answered(self) -> None:
        """A complete answer arrived: the server is alive, the count starts again."""
        with self._lock:
            self._spent = 0.0

    @property
    def spent(self) -> float:
        with self._lock:
            return self._spent

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.limit

    def describe(self) -> str:
        """``130s of 240s timed out since the last complete answer``."""
        return f"{self.spent:.0f}s of {self.limit:g}s timed out since the last complete answer"


def retry_notice(request: str, cause: str, attempt: int, of: int, delay: float) -> str:
    """``GET lead/: HTTP 503 Service Unavailable; retrying in 1.0s (attempt 2 of 8)``."""
    return f"{request}: {cause}; retrying in {delay:.1f}s (attempt {attempt} of {of})"


def throttle_notice(request: str, streak: int, wait: float, cap: int) -> str | None:
    """The line for a 429 wait worth showing, ``None`` for ordinary pacing."""
    if streak < NOTICE_STREAK and wait < NOTICE_WAIT:
        return None
    return (
        f"{request}: rate limited by Close (HTTP 429, {streak} in a row, at most {cap}); "
        f"waiting {wait:.1f}s"
    )
