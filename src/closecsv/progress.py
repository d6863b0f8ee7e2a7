"""What a long run reports as it goes: the :class:`Progress` a run calls (``start``,
``advance``, ``note``, ``resize``, ``close``), :class:`NullProgress`, which shows nothing, and
:class:`CallbackProgress`, which hands each step to a callback as a :class:`ProgressEvent`
(the Python API's ``progress=``).

The importer and the exporter call it and know nothing of terminals; the command line's
displays (a tqdm bar, log lines) live in :mod:`closecsv.cli.progress_display`.  Calls come from one
thread (the run's collector).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol


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


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a run, given to the ``progress`` callback.

    ``event`` is ``start`` (``total`` rows or instances expected, ``done`` already finished by
    an earlier run), ``advance`` (``done`` more finished, with ``status``), ``resize`` (the
    run turned out to have ``total``), ``note`` (``message``: a retry, a wait, a reconcile)
    or ``close``.  Notes may come from the client's threads; the rest from one thread.
    """

    event: Literal["start", "advance", "resize", "note", "close"]
    done: int = 0
    total: int = 0
    status: str | None = None
    message: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


class CallbackProgress:
    """A :class:`Progress` that hands every step to a callback."""

    def __init__(self, callback: ProgressCallback) -> None:
        self._callback = callback

    def start(self, total: int, already: int) -> None:
        self._callback(ProgressEvent("start", done=already, total=total))

    def advance(self, status: str, rows: int = 1) -> None:
        self._callback(ProgressEvent("advance", done=rows, status=status))

    def resize(self, total: int) -> None:
        self._callback(ProgressEvent("resize", total=total))

    def note(self, message: str) -> None:
        self._callback(ProgressEvent("note", message=message))

    def close(self) -> None:
        self._callback(ProgressEvent("close"))
