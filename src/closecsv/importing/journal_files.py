"""The journal's file-level guards: no symlinks, damaged files, lost journals, old schemas.

Each refusal is an :class:`InputError` (exit 2) raised before anything is sent, naming the
file and a next step that keeps the rows already done from being sent twice.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path

import polars as pl

from closecsv.errors import FatalError, InputError
from closecsv.files.outputs import refuse_symlink
from closecsv.importing.job import Job

WROTE = ("created", "updated")

SIDE_FILES = ("-journal", "-wal", "-shm")  # what SQLite may keep beside the journal


def check_not_linked(path: Path, side_files: Sequence[str]) -> None:
    """Refuse a journal (or an SQLite file beside it) that is a symlink, even a dangling one:
    SQLite would write through it into whatever it points at."""
    for candidate in (path, *(path.with_name(path.name + s) for s in side_files)):
        refuse_symlink(
            candidate,
            hint="remove the link (the journal must be a file of its own) and run the same "
            "command again; nothing was sent",
        )


def damaged(path: Path, why: object) -> InputError:
    """The error for a journal SQLite cannot read (malformed, truncated, another format)."""
    return InputError(
        f"the journal {path} is damaged ({why}); nothing was sent",
        hint=f"it records the rows this job already sent: put back a good copy of {path.name} "
        "(from a backup, or the folder it was copied from) and run the same command; "
        f"`sqlite3 {path.name} .recover | sqlite3 rescued.sqlite` often rescues its rows into "
        f"a file that can take its place. Moving {path.name} away would start a new job that "
        "sends every row again, those already created included (the results file lists them)",
    )


def sent_rows(results: Path) -> int:
    """How many rows an earlier run's results file says were created or updated (0 if it
    is missing or not a results file)."""
    if not results.is_file():
        return 0
    try:
        found = (
            pl.scan_csv(results, infer_schema=False)
            .select(pl.col("_status").is_in(WROTE).sum())
            .collect()
        )
    except (pl.exceptions.PolarsError, OSError):
        return 0
    return int(found.item() or 0)


def refuse_lost_journal(journal: Path, results: Path, sent: int) -> None:
    """Refuse a run whose results file says ``sent`` rows were written, while its journal is
    missing or empty: the run would send them again."""
    raise InputError(
        f"{results} says {sent} row(s) were created or updated, but the journal {journal} is "
        f"{'empty' if journal.exists() else 'missing'}: running now would send them again; "
        "nothing was sent",
        hint=f"bring back the journal of that run ({journal.name}, into {journal.parent}) and "
        "run the same command to continue the job; or, only to start a new job knowingly, move "
        f"{results.name} away: the {sent} row(s) would then be sent again (a second instance "
        "of each one created)",
    )


def upgrade_v1(
    cur: sqlite3.Cursor, path: Path, fingerprint: str | None, job: Job, ddl: str
) -> None:
    """Bring a journal of schema 1 (rows by number, the job by the file's bytes) to schema 2,
    if it belongs to this very file and options; each row gets its current content hash."""
    if fingerprint != job.fingerprint:
        raise InputError(
            f"the journal {path} was written by an earlier closecsv, which tied a job to the "
            "exact bytes of its file and options; the file or those options (--limit "
            "included) differ from that run's; nothing was sent",
            hint="restore the file and options of that run and run the same command: the "
            "journal is then upgraded, and later runs may add rows, fix failed ones or drop "
            f"--limit. Moving {path.name} away would start a new job that sends the rows it "
            "records as done again",
        )
    cur.execute("ALTER TABLE rows RENAME TO rows_v1")
    for stmt in filter(str.strip, ddl.split(";")):
        cur.execute(stmt)
    cur.execute("CREATE TEMP TABLE hashes (row INTEGER PRIMARY KEY, hash TEXT NOT NULL)")
    cur.executemany("INSERT INTO hashes VALUES (?, ?)", job.hashes.items())
    columns = "state, status, instance_id, lead_id, error, attempt_start, attempts"
    cur.execute(
        f"INSERT INTO rows (row, hash, {columns}) SELECT v.row, h.hash, "
        + ", ".join(f"v.{c.strip()}" for c in columns.split(","))
        + " FROM rows_v1 v LEFT JOIN hashes h ON h.row = v.row ORDER BY v.row"
    )
    cur.execute("DROP TABLE rows_v1")
    cur.execute("DROP TABLE temp.hashes")


def connect(path: Path) -> sqlite3.Connection:
    """The journal's connection: its own file (no symlink), locked for this run, checked."""
    check_not_linked(path, SIDE_FILES)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise InputError(
            f"cannot open the journal {path}: {exc.strerror or exc}",
            hint="fix the permissions of the file and its folder and run the same command; "
            "another --report-dir would start a new job, sending again any rows this journal "
            "records as done",
        ) from None
    os.close(fd)
    conn = sqlite3.connect(path, timeout=1.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now and keeps it
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=DELETE")  # an old journal's WAL is folded in
        conn.execute("PRAGMA synchronous=FULL")
        checked = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" not in str(exc):
            raise damaged(path, exc) from None
        raise InputError(
            f"the journal {path} is in use by another closecsv run ({exc})",
            hint="wait for the other run to finish; two runs of one job would send rows twice",
        ) from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise damaged(path, exc) from None
    if checked != [("ok",)]:
        conn.close()
        raise damaged(path, "; ".join(str(r[0]) for r in checked[:3]))
    return conn


V3_COLUMNS = ("previous", "written", "changes", "date_updated")


def upgrade_v2(cur: sqlite3.Cursor, version: str) -> str:
    """Bring a journal of schema 2 to ``version`` (3): the columns that let ``undo`` reverse a
    row (none are known for the rows it already holds) and the undo table (created with the
    rest of the schema).  Returns the new version."""
    for column in V3_COLUMNS:
        cur.execute(f"ALTER TABLE rows ADD COLUMN {column} TEXT")
    cur.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    return version


@contextmanager
def transaction(
    conn: sqlite3.Connection, lock: threading.Lock, path: Path, kept: str
) -> Iterator[sqlite3.Cursor]:
    """One write transaction on the journal at ``path``, under ``lock``: rolled back on any
    error; a damaged file or a failed write (disk full) stops the run (``kept``: what the
    rerun can rely on)."""
    with lock:
        cur = conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE")
            yield cur
            cur.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn, cur)
            if type(exc) is sqlite3.DatabaseError:  # malformed, not a database
                raise damaged(path, exc) from None
            raise FatalError(
                f"cannot write the journal {path}: {exc}",
                hint=f"free disk space and run the same command again; {kept}",
            ) from None
        except BaseException:
            _rollback(conn, cur)
            raise
        finally:
            cur.close()


def _rollback(conn: sqlite3.Connection, cur: sqlite3.Cursor) -> None:
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            cur.execute("ROLLBACK")


def stored_default_user(path: Path) -> str | None:
    """The user of rows without one that the job's journal at ``path`` recorded at its first
    run (None: no journal yet, or none recorded).  Read before the run plans its rows, so a
    rerun led by another of several keys attributes them as the first run did; a journal that
    cannot be read here is left for :func:`connect` to report."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            found = conn.execute("SELECT value FROM meta WHERE key = 'default_user'").fetchone()
    except sqlite3.Error:
        return None
    return str(found[0]) if found else None
