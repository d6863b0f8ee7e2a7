"""A clock tests move by hand: ``sleep`` advances it at once."""

from __future__ import annotations


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
