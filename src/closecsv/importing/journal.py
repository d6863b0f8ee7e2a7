"""The write-ahead journal that makes an import resumable without duplicates.

One SQLite file per job (``<stem>.journal.sqlite`` in the report dir).  It is complete on its
own whenever no closecsv runs, even after a kill or a power cut: a rollback journal
(``journal_mode=DELETE``) with ``synchronous=FULL`` writes every commit into that one file
before going on.  While a run holds it, SQLite keeps a ``<stem>.journal.sqlite-journal``
beside it (removed when the run ends); a run killed in the middle of a commit can leave it
behind, and the next run uses it to undo the unfinished commit, so it belongs with the
journal.  Each input row moves through a small state machine::

    (absent = pending) -> in_flight -> done(status, id) | failed(reason) | unknown

``in_flight`` is committed *before* a request is sent, with the attempt's wall-clock start
time and what the request writes (``written``; for an update also ``previous``, the values
it replaces, as the API gave them, and its ``_changes`` text); ``done`` keeps the instance's
``date_updated`` from Close's answer.  ``closecsv undo`` reads these
(:mod:`closecsv.importing.undo`), keeps its own progress in the ``undo`` table of the same
file and marks the rows it reversed ``undone``: a later import sends them again as new.  A
row found ``in_flight`` or ``unknown`` when a run starts may have been written on
Close, so the importer looks it up (reconciles) before sending it again.

The journal is tied to one job by its settings (the kind and the options that give rows
their meaning, :mod:`closecsv.importing.job`) and to the Close organization it was sent to; rows are
known by the hash of their cells, and matched to the file's rows by content at each run
(:meth:`Journal.match`), so a trial run with ``--limit``, appended rows and rows fixed in
place continue the job.  Other settings, or a key of another organization, are refused while
the journal records rows done.  The connection holds SQLite's exclusive lock for its whole
life, so two processes cannot run the same job at once.  The journal holds payload values
and ids, never the API key.  A path that is a symlink is refused, as is a damaged file.

A write that fails (disk full, I/O error) is rolled back and raised as a :class:`FatalError`
(exit 3): the run stops before sending anything it could not record, and what was committed
before stays valid, so the same command resumes once there is room again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from closecsv.errors import InputError
from closecsv.importing.group_commit import GroupCommit
from closecsv.importing.job import Job, Known, changed_settings, match
from closecsv.importing.journal_entry import Entry as Entry  # where importers look for it
from closecsv.importing.journal_entry import State, Written
from closecsv.importing.journal_files import (
    SIDE_FILES,
    check_not_linked,
    connect,
    damaged,
    refuse_lost_journal,
    sent_rows,
    transaction,
    upgrade_v1,
    upgrade_v2,
)

SCHEMA_VERSION = "3"  # 3: previous, written, changes, date_updated; the undo table

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY,
    row INTEGER NOT NULL,
    hash TEXT,
    state TEXT NOT NULL,
    status TEXT,
    instance_id TEXT,
    lead_id TEXT,
    error TEXT,
    attempt_start REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    previous TEXT,
    written TEXT,
    changes TEXT,
    date_updated TEXT
);
CREATE INDEX IF NOT EXISTS rows_hash ON rows (hash);
CREATE TABLE IF NOT EXISTS undo (
    row_id INTEGER PRIMARY KEY,
    attempts INTEGER NOT NULL,
    state TEXT NOT NULL,
    status TEXT,
    error TEXT
);
"""
_COLUMNS = (
    "id, row, hash, state, status, instance_id, lead_id, error, attempt_start, attempts, "
    "previous, written, changes, date_updated"
)
TABLES = {"meta", "rows", "undo"}


class Journal:
    """Durable per-row record of one import job.  Thread-safe; use as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection, job: Job) -> None:
        self.path = path
        self._conn = conn
        self._lock = threading.Lock()
        self._hashes = job.hashes
        self._ids: dict[int, int] = {}  # file row -> journal id
        self.edited: dict[int, Entry] = {}  # create rows standing where an edited row was
        self._group: GroupCommit[sqlite3.Cursor] = GroupCommit(self._tx)

    @classmethod
    def open(
        cls,
        path: Path,
        job: Job,
        organization: str | None = None,
        default_user: str | None = None,
    ) -> Journal:
        """Open (or create) the journal of ``job``, written against ``organization`` (the id
        of the API key's org; None: not checked); ``default_user`` (the user of rows without
        one) is recorded at the job's first run, so a rerun led by another key keeps it."""
        conn = connect(path)
        journal = cls(path, conn, job)
        try:
            journal._claim(job, organization, default_user)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise damaged(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return journal

    @classmethod
    def for_run(
        cls,
        path: Path,
        results: Path,
        job: Job,
        organization: str | None = None,
        default_user: str | None = None,
    ) -> Journal:
        """:meth:`open`, refused if the job's ``results`` file says rows were sent but the
        journal that recorded them is missing or empty (the run would send them again)."""
        check_not_linked(path, SIDE_FILES)
        sent = sent_rows(results)
        if sent and not path.exists():
            refuse_lost_journal(path, results, sent)
        journal = cls.open(path, job, organization, default_user)
        if sent and len(journal) == 0:
            journal.close()
            refuse_lost_journal(path, results, sent)
        return journal

    def _claim(self, job: Job, organization: str | None, default_user: str | None) -> None:
        with self._tx() as cur:
            listed = cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {r[0] for r in listed}
            if tables - TABLES:
                raise InputError(
                    f"{self.path} is an SQLite file of another application, not a closecsv "
                    "journal; nothing was written to it",
                    hint="give --report-dir a folder of its own, or rename the input file",
                )
            stored = dict(cur.execute("SELECT key, value FROM meta").fetchall()) if tables else {}
            version = stored.get("schema_version")
            if version not in (None, "1", "2", SCHEMA_VERSION):
                raise InputError(
                    f"the journal {self.path} was written by a newer closecsv (schema {version})",
                    hint="continue the job with that version of closecsv",
                )
            if version == "1":
                upgrade_v1(cur, self.path, stored.get("fingerprint"), job, _DDL)
            elif version == "2":
                version = upgrade_v2(cur, SCHEMA_VERSION)
            for stmt in filter(str.strip, _DDL.split(";")):
                cur.execute(stmt)
            if version != SCHEMA_VERSION:
                self._put_meta(cur, job)
            elif stored.get("settings") != json.dumps(dict(job.settings), sort_keys=True):
                self._settings_changed(cur, stored, job)
            self._check_org(cur, stored.get("organization"), organization)
            if default_user is not None and "default_user" not in stored:
                cur.execute(
                    "INSERT INTO meta (key, value) VALUES ('default_user', ?)", (default_user,)
                )

    def _put_meta(self, cur: sqlite3.Cursor, job: Job) -> None:
        cur.execute("DELETE FROM meta WHERE key IN ('schema_version', 'settings', 'fingerprint')")
        cur.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [
                ("schema_version", SCHEMA_VERSION),
                ("settings", json.dumps(dict(job.settings), sort_keys=True)),
            ],
        )

    def _settings_changed(self, cur: sqlite3.Cursor, stored: dict[str, str], job: Job) -> None:
        """Adopt new settings if no row was done or may have been; else refuse, saying what."""
        old = json.loads(stored.get("settings") or "{}")
        (done,) = cur.execute(
            "SELECT count(*) FROM rows WHERE state IN ('in_flight', 'unknown') "
            "OR (state = 'done' AND status != 'unchanged')"
        ).fetchone()
        if done == 0:  # only failed rows: with other options they may pass, so they are retried
            cur.execute("DELETE FROM rows")
            cur.execute("DELETE FROM undo")  # row ids start again
            self._put_meta(cur, job)
            return
        changes = changed_settings(old, job.settings)
        raise InputError(
            f"the journal {self.path} records {done} row(s) this job already sent with other "
            f"options: {'; '.join(changes)}; nothing was sent",
            hint="run the command again with the options the job started with to continue it; "
            "to import the file with the new options as a new job, give another --report-dir, "
            f"knowing that its {done} row(s) already sent would be sent again (a second "
            "instance of each one created)",
        )

    def _check_org(self, cur: sqlite3.Cursor, known: str | None, organization: str | None) -> None:
        if organization is not None and known is not None and known != organization:
            raise InputError(
                f"the journal {self.path} records a job sent to the Close organization "
                f"{known}, but this API key belongs to {organization}",
                hint="resume with a key of the organization the job was started in; to "
                "import the file into this one, give another --report-dir (a new job: every "
                "row is sent, to this organization)",
            )
        if organization is not None and known is None:
            cur.execute("INSERT INTO meta (key, value) VALUES ('organization', ?)", (organization,))

    def _tx(self) -> AbstractContextManager[sqlite3.Cursor]:
        kept = "rows already recorded are not sent twice"
        return transaction(self._conn, self._lock, self.path, kept)

    def _known(self) -> list[tuple[int, str | None, Entry]]:
        with self._lock:
            found = self._conn.execute(f"SELECT {_COLUMNS} FROM rows ORDER BY id").fetchall()
        return [(r[0], r[2], Entry(r[1], *r[3:])) for r in found]

    def entries(self) -> dict[int, Entry]:
        """Every row the journal holds, by the row it was last seen at (for inspection)."""
        return {e.row: e for _, _, e in self._known()}

    def match(self, creates: Collection[int]) -> dict[int, Entry]:
        """Match the job's rows to the journal's by content (:func:`closecsv.importing.job.match`);
        the entries of the file's rows by row number.  ``creates``: the rows that would be
        created; those standing where a row created earlier was edited go to ``edited``."""
        known = self._known()
        entries = {i: e for i, _, e in known}
        found = match(
            self._hashes, creates, [Known(i, e.row, h, e.may_have_created) for i, h, e in known]
        )
        moved = [(row, i) for row, i in found.ids.items() if entries[i].row != row]
        moved += [(row, k.id) for row, k in found.edited.items() if k.row != row]
        if moved:
            with self._tx() as cur:
                cur.executemany("UPDATE rows SET row = ? WHERE id = ?", moved)
        self._ids = dict(found.ids)
        self.edited = {row: entries[k.id] for row, k in found.edited.items()}
        return {row: _at(entries[i], row) for row, i in found.ids.items()}

    def instance_ids(self) -> set[str]:
        """Every instance the job created or changed (file rows or not)."""
        return {e.instance_id for _, _, e in self._known() if e.instance_id}

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM rows").fetchone()[0])

    def begin(self, row: int, started: float, record: Written | None = None) -> None:
        """Record the intent to send ``row`` and what it writes (committed before the request
        goes out).  An update names its target instance (``record.target``), so a rerun tells
        a lost update from a lost create (a create keeps no instance id until its answer)."""
        more = (record or Written()).columns()
        self._write(
            row,
            "state = 'in_flight', error = NULL, attempt_start = ?, attempts = attempts + 1, "
            + ", ".join(f"{k} = ?" for k in more),
            (started, *more.values()),
            {"state": "in_flight", "attempt_start": started, "attempts": 1, **more},
        )

    def done(
        self,
        row: int,
        status: str,
        instance_id: str | None,
        lead_id: str | None,
        date_updated: str | None = None,
    ) -> None:
        """``date_updated``: the instance's, from Close's answer (kept if not given)."""
        stamp = {} if date_updated is None else {"date_updated": date_updated}
        self._finish(row, "done", status=status, instance_id=instance_id, lead_id=lead_id, **stamp)

    def failed(self, row: int, error: str, instance_id: str | None = None) -> None:
        self._finish(row, "failed", status="failed", instance_id=instance_id, error=error)

    def unknown(self, row: int, error: str) -> None:
        """The answer to ``row``'s send was lost; it must be reconciled before a resend (an
        update's instance id, recorded by :meth:`begin`, is kept)."""
        self._write(
            row,
            "state = 'unknown', status = NULL, error = ?",
            (error,),
            {"state": "unknown", "error": error},
        )

    def _finish(
        self,
        row: int,
        state: State,
        *,
        status: str | None = None,
        instance_id: str | None = None,
        lead_id: str | None = None,
        error: str | None = None,
        **more: str,
    ) -> None:
        values = {
            "state": state,
            "status": status,
            "instance_id": instance_id,
            "lead_id": lead_id,
            "error": error,
            **more,
        }
        sets = ", ".join(f"{k} = ?" for k in values)
        self._write(row, sets, tuple(values.values()), values)

    def _write(
        self, row: int, sets: str, args: tuple[object, ...], new: Mapping[str, object]
    ) -> None:
        """Update ``row``'s journal line (``sets`` with ``args``), or insert it as ``new``;
        committed with the writes of other threads waiting at the same time
        (:mod:`closecsv.importing.group_commit`)."""
        self._group.write(lambda cur: self._apply(cur, row, sets, args, new))

    def _apply(
        self,
        cur: sqlite3.Cursor,
        row: int,
        sets: str,
        args: tuple[object, ...],
        new: Mapping[str, object],
    ) -> None:
        known = self._ids.get(row)
        if known is not None:
            cur.execute(f"UPDATE rows SET row = ?, {sets} WHERE id = ?", (row, *args, known))
            return
        line = {"row": row, "hash": self._hashes.get(row), **new}
        cur.execute(
            f"INSERT INTO rows ({', '.join(line)}) VALUES ({', '.join('?' * len(line))})",
            tuple(line.values()),
        )
        if cur.lastrowid is not None:
            self._ids[row] = cur.lastrowid

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _at(entry: Entry, row: int) -> Entry:
    if entry.row == row:
        return entry
    return Entry(row, *(getattr(entry, f) for f in Entry.__dataclass_fields__ if f != "row"))
