"""The journal as files on disk: one file on its own, never through a symlink, never lost
silently, and a damaged one is a clear refusal.  Each refusal is exit 2 with nothing sent."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from tests.helpers.faults import PREFIX, count_refs
from tests.helpers.import_cli import Cli

HEAD = ["custom_activity_type", "lead_id", "custom.Outcome", "custom.Reference Code"]


def calls(c: Cli, n: int) -> Path:
    leads = sorted(c.sandbox.state.leads)
    path = c.tmp / "calls.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAD)
        writer.writerows(
            ["Discovery Call", leads[i % 5], "Interested", f"{PREFIX}{i:05d}"] for i in range(n)
        )
    return path


def sent(c: Cli) -> int:
    return sum(count_refs(c.sandbox).values())


def test_the_journal_is_one_file_with_no_sqlite_files_beside_it(cli: Cli) -> None:
    path = calls(cli, 3)
    assert cli("import", "activities", str(path)).exit_code == 0
    journal = cli.tmp / "calls.journal.sqlite"
    assert sorted(p.name for p in cli.tmp.iterdir() if p.name.startswith("calls.journal")) == [
        journal.name
    ]
    with sqlite3.connect(journal) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()


@pytest.mark.parametrize("left", ["missing", "empty"])
def test_results_that_say_rows_were_sent_with_no_journal_are_refused(cli: Cli, left: str) -> None:
    path = calls(cli, 4)
    assert cli("import", "activities", str(path)).exit_code == 0
    journal = cli.tmp / "calls.journal.sqlite"
    journal.unlink()
    if left == "empty":
        journal.touch()
    refused = cli("import", "activities", str(path))
    assert refused.exit_code == 2 and sent(cli) == 4 and refused.stdout == ""
    results = cli.tmp / "calls.results.csv"
    says = f"{results} says 4 row(s) were created or updated, but the journal {journal} is {left}"
    assert says in refused.stderr and "running now would send them again" in refused.stderr
    assert "bring back the journal of that run" in refused.stderr
    assert "move calls.results.csv away: the 4 row(s) would then be sent again" in refused.stderr


def test_a_symlinked_journal_is_refused_and_its_target_untouched(cli: Cli) -> None:
    path = calls(cli, 2)
    other = cli.tmp / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.close()
    before = other.read_bytes()
    journal = cli.tmp / "calls.journal.sqlite"
    journal.symlink_to(other)
    refused = cli("import", "activities", str(path))
    assert refused.exit_code == 2 and sent(cli) == 0
    assert f"{journal} is a symlink; refusing to write through it" in refused.stderr
    assert other.read_bytes() == before
    assert not (cli.tmp / "app.db-journal").exists()
    assert not (cli.tmp / "calls.results.csv").exists()


@pytest.mark.parametrize("name", ["calls.journal.sqlite", "calls.journal.sqlite-journal"])
def test_a_dangling_link_at_the_journal_creates_nothing(cli: Cli, name: str) -> None:
    path = calls(cli, 2)
    target = cli.tmp / "elsewhere" / "made.sqlite"
    (cli.tmp / name).symlink_to(target)
    refused = cli("import", "activities", str(path))
    assert refused.exit_code == 2 and sent(cli) == 0
    assert f"{cli.tmp / name} is a symlink" in refused.stderr
    assert not target.exists() and not target.parent.exists()


def _damage_truncate(journal: Path) -> None:
    data = journal.read_bytes()
    journal.write_bytes(data[: len(data) // 2])


def _damage_scribble(journal: Path) -> None:
    data = bytearray(journal.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 + 8 : page * 4096 + 200] = b"\xa5" * 192
    journal.write_bytes(bytes(data))


def _damage_other_format(journal: Path) -> None:
    journal.write_bytes(b"PK\x03\x04" + b"\x00" * 5000)


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_scribble, _damage_other_format])
def test_a_damaged_journal_is_one_clear_refusal(cli: Cli, damage: object) -> None:
    path = calls(cli, 150)
    assert cli("import", "activities", str(path)).exit_code == 0
    journal = cli.tmp / "calls.journal.sqlite"
    damage(journal)  # type: ignore[operator]
    damaged = journal.read_bytes()
    refused = cli("import", "activities", str(path))
    assert refused.exit_code == 2 and sent(cli) == 150 and refused.stdout == ""
    assert refused.stderr.startswith(f"closecsv: error: the journal {journal} is damaged (")
    assert "Traceback" not in refused.stderr
    assert "put back a good copy of calls.journal.sqlite" in refused.stderr
    assert "would start a new job that sends every row again" in refused.stderr
    assert journal.read_bytes() == damaged  # left as it was, for a rescue
