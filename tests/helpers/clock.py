"""A clock tests move by hand: ``sleep`` advances it at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A monotonic clock that moves only when told; also a recording ``sleep``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FakeWallClock:
    """A wall clock (``datetime`` in UTC) that moves only when told: a sandbox's ``now``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
