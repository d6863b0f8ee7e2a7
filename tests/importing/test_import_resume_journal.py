"""The write-ahead journal: state machine, durability settings, job identity, one run at a time."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from closecsv.errors import InputError
from closecsv.importing.job import Job, edited_error
from closecsv.importing.journal import Journal
from closecsv.importing.journal_entry import Written

FP = Job({"kind": '"activities"'}, {n: f"hash-{n}" for n in range(2, 10)})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "calls.journal.sqlite"


def test_rows_move_through_the_state_machine(path: Path) -> None:
    with Journal.open(path, FP) as journal:
        journal.begin(2, 1000.0)
        journal.begin(3, 1001.0)
        journal.begin(4, 1002.0)
        journal.done(2, "created", "acti_1", "lead_1")
        journal.failed(3, "rejected")
        journal.unknown(4, "connection dropped")
        entries = journal.entries()
    assert entries[2].state == "done" and entries[2].instance_id == "acti_1"
    assert entries[2].status == "created" and entries[2].lead_id == "lead_1"
    assert entries[3].state == "failed" and entries[3].error == "rejected"
    assert entries[4].needs_reconcile and entries[4].attempt_start == 1002.0
    assert not entries[2].needs_reconcile


def test_a_resend_counts_attempts_and_keeps_the_latest_start(path: Path) -> None:
    with Journal.open(path, FP) as journal:
        journal.begin(2, 10.0)
        journal.unknown(2, "timeout")
        journal.begin(2, 20.0)
        entry = journal.entries()[2]
    assert (entry.state, entry.attempts, entry.attempt_start) == ("in_flight", 2, 20.0)


def test_an_update_in_doubt_keeps_its_target_and_a_create_has_none(path: Path) -> None:
    """A rerun tells a lost update (its instance is named) from a lost create (none yet)."""
    with Journal.open(path, FP) as journal:
        journal.begin(2, 10.0, Written(target="acti_target"))
        journal.unknown(2, "connection dropped")
        journal.begin(3, 11.0)
        entries = journal.entries()
    assert entries[2].needs_reconcile and entries[2].instance_id == "acti_target"
    assert entries[3].needs_reconcile and entries[3].instance_id is None


def test_entries_survive_reopening(path: Path) -> None:
    with Journal.open(path, FP) as journal:
        journal.begin(2, 5.0)
    with Journal.open(path, FP) as journal:
        assert journal.entries()[2].state == "in_flight"


def test_durability_settings(path: Path) -> None:
    with Journal.open(path, FP) as journal:
        conn = journal._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_key_of_another_organization_is_refused(path: Path) -> None:
    Journal.open(path, FP, "orga_first").close()
    Journal.open(path, FP, "orga_first").close()  # the same org resumes
    with pytest.raises(InputError, match="orga_first, but this API key belongs to orga_second"):
        Journal.open(path, FP, "orga_second")


def test_a_journal_from_before_the_org_was_recorded_adopts_the_first_one_seen(path: Path) -> None:
    Journal.open(path, FP).close()
    Journal.open(path, FP, "orga_first").close()
    with pytest.raises(InputError, match="orga_first"):
        Journal.open(path, FP, "orga_second")


def test_a_second_run_of_the_same_job_is_refused_while_the_first_holds_it(path: Path) -> None:
    with Journal.open(path, FP), pytest.raises(InputError, match="in use by another"):
        Journal.open(path, FP)


def test_a_file_that_is_not_a_journal_is_refused(path: Path) -> None:
    path.write_text("id,name\n1,x\n" * 200)
    with pytest.raises(InputError, match=r"calls\.journal\.sqlite is damaged \(file is not a"):
        Journal.open(path, FP)
    assert path.read_text() == "id,name\n1,x\n" * 200


def test_the_journal_is_plain_sqlite_for_inspection(path: Path) -> None:
    with Journal.open(path, FP) as journal:
        journal.done(2, "updated", "acti_9", None)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT state, status FROM rows").fetchall() == [("done", "updated")]
    finally:
        conn.close()


def test_an_sqlite_file_of_another_application_is_left_alone(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="SQLite file of another application") as info:
        Journal.open(path, FP)
    assert info.value.exit_code == 2
    conn = sqlite3.connect(path)
    try:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    assert tables == [("accounts",)]


def test_an_edited_row_whose_send_is_in_doubt_is_held_back_with_what_to_do(path: Path) -> None:
    with Journal.open(path, FP) as journal:
        journal.begin(3, 10.0)  # sent, answer never came
    edited = Job(FP.settings, {**FP.hashes, 3: "edited"})
    with Journal.open(path, edited) as journal:
        assert 3 not in journal.match({3})  # its content is new to the journal
        [(row, entry)] = journal.edited.items()
    assert row == 3 and entry.needs_reconcile
    text = edited_error(3, entry, "activity_id")
    assert text.startswith("row 3 differs from the row 3 this job already sent, whose outcome")
    assert "restore the row as it was and run the same command again" in text
