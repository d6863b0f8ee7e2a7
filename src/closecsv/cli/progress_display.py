"""Progress of a long run, shown to people on stderr.

The importer and the exporter call a :class:`~closecsv.progress.Progress` and know nothing of
terminals.  :func:`make_progress` picks the display: a tqdm bar when the stream is
a terminal, a log line every ``interval`` seconds when it is not (cron, CI, a pipe), nothing
with ``quiet``.  Calls come from one thread (the importer's collector).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

from tqdm import tqdm  # type: ignore[import-untyped]  # no types-tqdm in the dev deps

from closecsv.progress import NullProgress, Progress
from closecsv.wording import rate


class BarProgress:
    """A tqdm bar with the per-status counts as its postfix."""

    def __init__(self, stream: IO[str], label: str = "import") -> None:
        self._stream = stream
        self._label = label
        self._bar: Any = None
        self._counts: Counter[str] = Counter()

    def start(self, total: int, already: int) -> None:
        self._bar = tqdm(
            total=total,
            initial=already,
            desc=self._label,
            unit="row",
            file=self._stream,
            dynamic_ncols=True,
            leave=True,
        )

    def advance(self, status: str, rows: int = 1) -> None:
        self._counts[status] += rows
        if self._bar is not None:
            self._bar.set_postfix(dict(sorted(self._counts.items())), refresh=False)
            self._bar.update(rows)

    def resize(self, total: int) -> None:
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def note(self, message: str) -> None:
        if self._bar is not None:
            self._bar.write(message, file=self._stream)
        else:
            print(message, file=self._stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogProgress:
    """A plain line every ``interval`` seconds: ``import: 120/2000 rows (6%), 19.8 rows/s …``.

    The rate is the summary's (:func:`~closecsv.wording.rate`): rows this run finished over the
    time since the display was made, when the command began (planning included), not since
    :meth:`start`."""

    def __init__(
        self,
        stream: IO[str],
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        label: str = "import",
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._label = label
        self._counts: Counter[str] = Counter()
        self._total = 0
        self._already = 0
        self._started = self._last = clock()

    def start(self, total: int, already: int) -> None:
        self._total, self._already = total, already
        self._last = self._clock()
        if already:
            self.note(f"{self._label}: resuming, {already} of {total} rows already finished")

    def advance(self, status: str, rows: int = 1) -> None:
        self._counts[status] += rows
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._line(now)

    def _line(self, now: float) -> None:
        finished = sum(self._counts.values())
        done = self._already + finished
        pct = 100 * done // self._total if self._total else 100
        speed = rate(finished, now - self._started)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self._counts.items()))
        self.note(f"{self._label}: {done}/{self._total} rows ({pct}%), {speed}; {counts}")

    def resize(self, total: int) -> None:
        self._total = total

    def note(self, message: str) -> None:
        print(message, file=self._stream, flush=True)

    def close(self) -> None:
        if self._counts:
            self._line(self._clock())


def stderr_notice(message: str) -> None:
    """``closecsv: <message>`` on stderr, for notices from any thread (a retry, a long wait).

    ``tqdm.write`` clears a progress bar on the same stream first and redraws it after, so
    the line never tears the bar; without a bar it is a plain line.
    """
    tqdm.write(f"closecsv: {message}", file=sys.stderr)


def make_progress(
    stream: IO[str], *, quiet: bool = False, interval: float = 10.0, label: str = "import"
) -> Progress:
    """The right display for ``stream``: a bar on a terminal, log lines otherwise."""
    if quiet:
        return NullProgress()
    if stream.isatty():
        return BarProgress(stream, label)
    return LogProgress(stream, interval=interval, label=label)
