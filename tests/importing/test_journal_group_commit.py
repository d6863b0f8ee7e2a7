"""Group commit: writes of threads waiting together share one transaction, and each caller
returns only once its own write is committed (importing/group_commit.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from closecsv.errors import FatalError
from closecsv.importing.group_commit import GroupCommit


class Store:
    """A transaction that is slow to commit (like a disk flush), counting its commits."""

    def __init__(self, fail: bool = False) -> None:
        self.committed: list[int] = []
        self.commits = 0
        self.fail = fail
        self.lock = threading.Lock()
        self.flushing = threading.Event()

    @contextmanager
    def transaction(self) -> Iterator[list[int]]:
        with self.lock:
            pending: list[int] = []
            yield pending
            self.flushing.wait(0.02)  # the flush
            if self.fail:
                raise FatalError("cannot write the journal: disk full")
            self.committed += pending
            self.commits += 1


def test_every_write_is_committed_before_its_caller_returns_in_fewer_commits() -> None:
    store = Store()
    group: GroupCommit[list[int]] = GroupCommit(store.transaction)

    def write(n: int) -> bool:
        group.write(lambda pending: pending.append(n))
        with store.lock:
            return n in store.committed  # durable by the time write() returned

    with ThreadPoolExecutor(12) as pool:
        seen = list(pool.map(write, range(120)))
    assert all(seen)
    assert sorted(store.committed) == list(range(120))
    assert store.commits < 120  # threads that waited together shared a commit


def test_a_failed_commit_raises_in_every_caller_whose_write_was_in_it() -> None:
    store = Store(fail=True)
    group: GroupCommit[list[int]] = GroupCommit(store.transaction)

    def write(n: int) -> str:
        try:
            group.write(lambda pending: pending.append(n))
        except FatalError as exc:
            return str(exc)
        return "returned"

    with ThreadPoolExecutor(8) as pool:
        said = list(pool.map(write, range(40)))
    assert set(said) == {"cannot write the journal: disk full"}
    assert store.committed == []


def test_one_thread_alone_commits_its_own_write() -> None:
    store = Store()
    group: GroupCommit[list[int]] = GroupCommit(store.transaction)
    group.write(lambda pending: pending.append(7))
    assert store.committed == [7] and store.commits == 1
    with pytest.raises(ZeroDivisionError):
        group.write(lambda pending: pending.append(1 // 0))
    group.write(lambda pending: pending.append(8))
    assert store.committed == [7, 8]
