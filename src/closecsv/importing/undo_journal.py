"""The undo's view of an import journal (:mod:`closecsv.importing.journal`): the rows the job
sent, read as they are, and the ``undo`` table that makes an undo exactly once.

The undo needs no file and no options: the journal is found by FILE's name and the report
folder, as the import found it, and is opened with the same lock (one run of a job at a
time), checks and upgrade (a journal of schema 2 gains the columns; its rows have no previous
values).  Each journal row the undo reverses gets a line in ``undo``: ``in_flight`` committed
before the DELETE or PUT goes out, ``done`` with its status once Close answered; the same
commit marks the import row ``undone``, so a later ``import`` of the file sends it again as
new, and a later ``undo`` does not touch it again.  An undo line belongs to one attempt of
its row (``attempts``): a row imported again after an undo is a new write, undone anew.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from closecsv.errors import InputError
from closecsv.importing.journal import _COLUMNS, _DDL, SCHEMA_VERSION, TABLES
from closecsv.importing.journal_entry import Entry
from closecsv.importing.journal_files import (
    SIDE_FILES,
    check_not_linked,
    connect,
    damaged,
    transaction,
    upgrade_v2,
)


@dataclass(frozen=True)
class JournalRow:
    """One row of the import journal: its id there, the attempt, and what it knows."""

    id: int
    entry: Entry

    @property
    def attempts(self) -> int:
        return self.entry.attempts


@dataclass(frozen=True)
class UndoLine:
    """What an earlier undo did to one journal row (``state``: ``in_flight`` or ``done``)."""

    attempts: int
    state: str
    status: str | None


class UndoJournal:
    """The import journal of one job, opened for its undo.  Thread-safe."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path, self._conn = path, conn
        self._lock = threading.Lock()
        self.meta: dict[str, str] = {}

    @classmethod
    def open(cls, path: Path, source: Path) -> UndoJournal:
        """The journal at ``path`` of the import of ``source``; :class:`InputError` (exit 2)
        when there is none, or it is not a closecsv journal of a version this one reads."""
        check_not_linked(path, SIDE_FILES)
        if not path.is_file():
            raise InputError(
                f"no import journal for {source.name}: looked for {path}; nothing was sent",
                hint="undo reverses an import from the journal it wrote beside its reports: "
                "pass the --report-dir that import used (its folder if none was given)",
            )
        journal = cls(path, connect(path))
        try:
            with journal._tx() as cur:
                journal._prepare(cur)
        except sqlite3.DatabaseError as exc:
            journal.close()
            raise damaged(path, exc) from None
        except BaseException:
            journal.close()
            raise
        return journal

    def _prepare(self, cur: sqlite3.Cursor) -> None:
        tables = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables or "rows" not in tables or tables - TABLES:
            raise InputError(
                f"{self.path} is not a closecsv import journal; nothing was sent",
                hint="pass the --report-dir the import used",
            )
        self.meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        version = self.meta.get("schema_version")
        if version == "2":
            upgrade_v2(cur, SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise InputError(
                f"the journal {self.path} has schema {version}, which this closecsv cannot "
                "undo; nothing was sent",
                hint="run the same import command once with this closecsv (it upgrades the "
                "journal and sends nothing new), then undo",
            )
        for stmt in filter(str.strip, _DDL.split(";")):
            cur.execute(stmt)

    @property
    def kind(self) -> str | None:
        """The kind the job imported (``activities`` / ``objects``)."""
        settings = json.loads(self.meta.get("settings") or "{}")
        return json.loads(settings["kind"]) if "kind" in settings else None

    @property
    def organization(self) -> str | None:
        return self.meta.get("organization")

    def _tx(self) -> AbstractContextManager[sqlite3.Cursor]:
        kept = "what was undone is recorded and not sent again"
        return transaction(self._conn, self._lock, self.path, kept)

    def rows(self) -> list[JournalRow]:
        """Every row of the import journal, in the order they were first recorded."""
        with self._lock:
            found = self._conn.execute(f"SELECT {_COLUMNS} FROM rows ORDER BY id").fetchall()
        return [JournalRow(r[0], Entry(r[1], *r[3:])) for r in found]

    def lines(self) -> dict[int, UndoLine]:
        """What earlier undos did, by journal row id."""
        with self._lock:
            found = self._conn.execute("SELECT row_id, attempts, state, status FROM undo")
            return {r[0]: UndoLine(r[1], r[2], r[3]) for r in found.fetchall()}

    def begin(self, rows: Iterable[JournalRow]) -> None:
        """Committed before the DELETE or PUT that reverses ``rows`` goes out."""
        with self._tx() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO undo (row_id, attempts, state) VALUES (?, ?, 'in_flight')",
                [(r.id, r.attempts) for r in rows],
            )

    def done(self, rows: Iterable[JournalRow], status: str) -> None:
        """``rows`` are reversed (``status``): recorded, and the import rows marked undone."""
        rows = list(rows)
        with self._tx() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO undo (row_id, attempts, state, status) "
                "VALUES (?, ?, 'done', ?)",
                [(r.id, r.attempts, status) for r in rows],
            )
            cur.executemany(
                "UPDATE rows SET state = 'undone' WHERE id = ?", [(r.id,) for r in rows]
            )

    def failed(self, rows: Iterable[JournalRow]) -> None:
        """The request that would reverse ``rows`` was refused: not in flight any more."""
        with self._tx() as cur:
            cur.executemany("DELETE FROM undo WHERE row_id = ?", [(r.id,) for r in rows])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
