"""Numbers in sentences for people: counts with their noun, durations."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,000 rows`` (``nouns``: an irregular plural)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def duration(seconds: float) -> str:
    """``0.04s``, ``3.2s``, ``2m 05.0s``: two significant digits under a second."""
    if seconds < 1:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}m {secs:04.1f}s" if minutes else f"{secs:.1f}s"


def rate(rows: int, seconds: float) -> str:
    """``19.8 rows/s``: the one definition progress lines and summaries share, rows finished by
    this run over the seconds since the command began its work (``0.0`` before any time)."""
    return f"{rows / seconds if seconds > 0 else 0.0:,.1f} rows/s"
