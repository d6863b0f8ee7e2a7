"""One step of ``closecsv demo``: a titled command line, its expected exit codes, and what to
do just before it (write its input) and just after it (show part of its output)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    title: str
    args: tuple[str, ...]
    expect: tuple[int, ...] = (0,)
    prepare: Callable[[], None] | None = None  # before the command: e.g. write its input
    show: Callable[[], None] | None = None  # after it: e.g. print a column of its results
