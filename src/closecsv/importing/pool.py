"""The thread pool that import and undo send from: a bounded queue of work, results recorded
in the calling thread, a stop event that ends the queue, and Ctrl-C handed to the caller."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_pool(
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    workers: int,
    stop: threading.Event,
    record: Callable[[R], None],
    on_interrupt: Callable[[set[Future[R]]], None],
    name: str,
) -> None:
    """``work`` on each item from ``workers`` threads, at most twice that many queued; each
    result goes to ``record`` here, as it finishes.  No item is started once ``stop`` is set.
    Ctrl-C goes to ``on_interrupt`` with the requests still in flight."""
    pending: set[Future[R]] = set()
    queue = iter(items)
    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        try:
            while True:
                while len(pending) < workers * 2 and not stop.is_set():
                    item = next(queue, None)
                    if item is None:
                        break
                    pending.add(pool.submit(work, item))
                if not pending:
                    return
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    record(fut.result())
        except KeyboardInterrupt:
            on_interrupt(pending)
