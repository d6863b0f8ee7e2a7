"""The write-ahead journal that makes an import resumable without duplicates.

One SQLite file per job (``<stem>.journal.sqlite`` in the report dir), WAL mode with
``synchronous=FULL`` so every committed line survives a kill or a power cut.  Each input row
moves through a small state machine::

    (absent = pending) -> in_flight -> done(status, id) | failed(reason) | unknown

``in_flight`` is committed *before* a request is sent, with the attempt's wall-clock start
time; a row found ``in_flight`` or ``unknown`` when a run starts may have been written on
Close, so the importer looks it up (reconciles) before sending it again.

The journal is tied to one job by the plan fingerprint (input bytes + payload-changing
options) and to the Close organization it was sent to; opening it for another job, or with
a key of another organization, is refused.  The connection holds SQLite's exclusive
lock for its whole life, so two processes cannot run the same job at once.  The journal
holds payload values and ids, never the API key.

A write that fails (disk full, I/O error) is rolled back and raised as a :class:`FatalError`
(exit 3): the run stops before sending anything it could not record, and what was committed
before stays valid, so the same command resumes once there is room again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from closecsv.errors import FatalError, InputError

State = Literal["in_flight", "done", "failed", "unknown"]
SCHEMA_VERSION = "1"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    status TEXT,
    instance_id TEXT,
    lead_id TEXT,
    error TEXT,
    attempt_start REAL,
    attempts INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class Entry:
    """What the journal knows about one input row."""

    row: int
    state: State
    status: str | None = None  # done rows: created / updated / unchanged
    instance_id: str | None = None
    lead_id: str | None = None
    error: str | None = None
    attempt_start: float | None = None  # wall-clock seconds (time.time()) of the last send
    attempts: int = 0

    @property
    def needs_reconcile(self) -> bool:
        """A send may have reached Close without its answer reaching us."""
        return self.state in ("in_flight", "unknown")


class Journal:
    """Durable per-row record of one import job.  Thread-safe; use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, fingerprint: str, organization: str | None = None) -> Journal:
        """Open (or create) the journal of the job with this ``fingerprint``, written against
        ``organization`` (the id of the API key's org; None: not checked)."""
        conn = _connect(path)
        journal = cls(path, conn)
        try:
            journal._claim(fingerprint, organization)
        except BaseException:
            conn.close()
            raise
        return journal

    def _claim(self, fingerprint: str, organization: str | None) -> None:
        with self._tx() as cur:
            for stmt in filter(str.strip, _DDL.split(";")):
                cur.execute(stmt)
            stored = dict(cur.execute("SELECT key, value FROM meta").fetchall())
            if not stored:
                cur.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("fingerprint", fingerprint), ("schema_version", SCHEMA_VERSION)],
                )
            elif stored.get("fingerprint") != fingerprint:
                raise InputError(
                    f"the journal {self.path} belongs to a different import job "
                    "(the input file or the options that shape what is sent have changed)",
                    hint=f"restore the original file and options to resume that job, or delete "
                    f"{self.path.name} to start a new job (rows it recorded as done would be "
                    "sent again)",
                )
            known = stored.get("organization")
            if organization is not None and known is not None and known != organization:
                raise InputError(
                    f"the journal {self.path} records a job sent to the Close organization "
                    f"{known}, but this API key belongs to {organization}",
                    hint="resume with a key of the organization the job was started in; to "
                    "import the file into this one, give another --report-dir (a new job)",
                )
            if organization is not None and known is None:
                cur.execute(
                    "INSERT INTO meta (key, value) VALUES ('organization', ?)", (organization,)
                )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(cur)
                raise FatalError(
                    f"cannot write the journal {self.path}: {exc}",
                    hint="free disk space (or choose another --report-dir for a new job) and "
                    "run the same command again; rows already recorded are not sent twice",
                ) from None
            except BaseException:
                self._rollback(cur)
                raise
            finally:
                cur.close()

    def _rollback(self, cur: sqlite3.Cursor) -> None:
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                cur.execute("ROLLBACK")

    def entries(self) -> dict[int, Entry]:
        """Every row the journal has seen, by row number."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT row, state, status, instance_id, lead_id, error, attempt_start, attempts "
                "FROM rows"
            ).fetchall()
        return {r[0]: Entry(*r) for r in rows}

    def begin(self, row: int, started: float) -> None:
        """Record the intent to send ``row`` (committed before the request goes out)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO rows (row, state, attempt_start, attempts) "
                "VALUES (?, 'in_flight', ?, 1) "
                "ON CONFLICT(row) DO UPDATE SET state = 'in_flight', error = NULL, "
                "attempt_start = excluded.attempt_start, attempts = attempts + 1",
                (row, started),
            )

    def done(self, row: int, status: str, instance_id: str | None, lead_id: str | None) -> None:
        self._finish(row, "done", status=status, instance_id=instance_id, lead_id=lead_id)

    def failed(self, row: int, error: str, instance_id: str | None = None) -> None:
        self._finish(row, "failed", status="failed", instance_id=instance_id, error=error)

    def unknown(self, row: int, error: str) -> None:
        """The answer to ``row``'s send was lost; it must be reconciled before a resend."""
        self._finish(row, "unknown", error=error)

    def _finish(
        self,
        row: int,
        state: State,
        *,
        status: str | None = None,
        instance_id: str | None = None,
        lead_id: str | None = None,
        error: str | None = None,
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO rows (row, state, status, instance_id, lead_id, error) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(row) DO UPDATE SET state = excluded.state, status = excluded.status, "
                "instance_id = excluded.instance_id, lead_id = excluded.lead_id, "
                "error = excluded.error",
                (row, state, status, instance_id, lead_id, error),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    conn = sqlite3.connect(path, timeout=1.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now and keeps it
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.close()
        raise InputError(
            f"the journal {path} is in use by another closecsv run ({exc})",
            hint="wait for the other run to finish; two runs of one job would send rows twice",
        ) from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(
            f"{path} is not a closecsv journal ({exc})",
            hint="move the file away or choose another --report-dir",
        ) from None
    return conn
