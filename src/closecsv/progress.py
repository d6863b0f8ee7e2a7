"""What a long run reports as it goes: the :class:`Progress` a run calls (``start``,
``advance``, ``note``, ``resize``, ``close``) and :class:`NullProgress`, which shows nothing.

The importer and the exporter call it and know nothing of terminals; the command line's
displays (a tqdm bar, log lines) live in :mod:`closecsv.cli.progress_display`.  Calls come from one
thread (the run's collector).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int, already: int) -> None:
        """``total`` rows in the job, of which ``already`` were finished by an earlier run."""

    def advance(self, status: str, rows: int = 1) -> None:
        """``rows`` more rows (one by default) finished with this ``_status``."""

    def note(self, message: str) -> None:
        """A message for the user (a retry wave, a reconcile, a stop)."""

    def resize(self, total: int) -> None:
        """The job turned out to have ``total`` rows (``start`` had an estimate)."""

    def close(self) -> None: ...


class NullProgress:
    """Shows nothing (``--quiet``, tests, library use)."""

    def start(self, total: int, already: int) -> None:
        pass

    def advance(self, status: str, rows: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def resize(self, total: int) -> None:
        pass

    def close(self) -> None:
        pass
