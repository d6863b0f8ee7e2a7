"""Counts and durations as the summaries print them."""

from __future__ import annotations

import pytest

from closecsv.wording import duration, plural


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 rows"), (1, "1 row"), (2, "2 rows"), (12345, "12,345 rows")]
)
def test_a_count_takes_the_noun_it_needs(count: int, expected: str) -> None:
    assert plural(count, "row") == expected


def test_an_irregular_plural_is_given() -> None:
    assert plural(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0.042, "0.04s"), (3.21, "3.2s"), (125.0, "2m 05.0s")]
)
def test_a_short_run_does_not_read_as_taking_no_time(seconds: float, expected: str) -> None:
    assert duration(seconds) == expected
