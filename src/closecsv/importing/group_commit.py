"""Group commit: the journal writes of threads that arrive together share one transaction.

Every journal write must be durable before its caller goes on (a row's ``in_flight`` before
its request is sent), and each durable commit costs a disk flush, 10-25 ms on a busy disk:
one commit at a time, two per row, caps an import near 20-40 rows per second, below what
several API keys allow.  So a thread that finds a commit under way queues its write and
waits; when that commit ends, one waiting thread commits every queued write in one
transaction and wakes the others.  Each caller still returns only once its own write is
committed, and a transaction that fails raises its error in every caller whose write was in
it, exactly as if each had failed alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")


@dataclass
class _Write(Generic[C]):
    apply: Callable[[C], None]
    done: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[C]):
    """Runs writes in shared transactions opened by ``transaction`` (module docstring)."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[C]]) -> None:
        self._transaction = transaction
        self._changed = threading.Condition()
        self._queue: list[_Write[C]] = []
        self._committing = False

    def write(self, apply: Callable[[C], None]) -> None:
        """Apply ``apply`` in a transaction; return once that transaction is committed."""
        mine = _Write(apply)
        with self._changed:
            self._queue.append(mine)
            while self._committing and not mine.done:
                self._changed.wait()
            if not mine.done:
                self._committing = True
                batch, self._queue = self._queue, []
        if not mine.done:
            self._commit(batch)
        if mine.error is not None:
            raise mine.error

    def _commit(self, batch: list[_Write[C]]) -> None:
        error: BaseException | None = None
        try:
            with self._transaction() as cursor:
                for write in batch:
                    write.apply(cursor)
        except BaseException as exc:  # every caller in the batch gets it, this one included
            error = exc
        with self._changed:
            for write in batch:
                write.done, write.error = True, error
            self._committing = False
            self._changed.notify_all()
