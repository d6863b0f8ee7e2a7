"""One job, many runs: a trial with --limit, fixed rows, appended rows and other lead options
continue the job (rows done are never sent again); a created row edited since is reported.

The journal knows rows by their content, so each run matches the file's rows to the rows it
recorded, wherever they now are.  Every test ends with the sandbox's instances counted.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from pathlib import Path

from closecsv.importing.job import Known, match
from tests.helpers.csvfiles import read_rows
from tests.helpers.faults import PREFIX, count_refs
from tests.helpers.import_cli import Cli

HEAD = ["custom_activity_type", "lead_id", "custom.Outcome", "custom.Reference Code"]


def leads(c: Cli) -> list[str]:
    return sorted(c.sandbox.state.leads)


def line(c: Cli, n: int, outcome: str = "Interested", lead: str | None = None) -> list[str]:
    return ["Discovery Call", lead or leads(c)[n % 5], outcome, f"{PREFIX}{n:05d}"]


def write(path: Path, lines: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAD)
        writer.writerows(lines)
    return path


def run(c: Cli, path: Path, *extra: str) -> tuple[int, dict[str, int]]:
    result = c("import", "activities", str(path), "--json", *extra)
    counts = json.loads(result.stdout)["counts"] if result.stdout else {}
    return result.exit_code, counts


def one_each(c: Cli, n: int) -> bool:
    return count_refs(c.sandbox) == Counter({f"{PREFIX}{i:05d}": 1 for i in range(n)})


def test_a_trial_with_limit_then_the_full_run_creates_each_row_once(cli: Cli) -> None:
    path = write(cli.tmp / "calls.csv", [line(cli, n) for n in range(20)])
    assert run(cli, path, "--limit", "5") == (0, {"created": 5})
    assert run(cli, path) == (0, {"created": 20})
    assert one_each(cli, 20)
    assert run(cli, path) == (0, {"created": 20})  # finished: nothing sent
    assert one_each(cli, 20)


def test_a_failed_row_fixed_in_place_is_sent_and_only_it(cli: Cli) -> None:
    lines = [line(cli, n) for n in range(6)]
    lines[2][2] = "Maybe"  # not a choice of Outcome
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (1, {"created": 5, "failed": 1})
    lines[2][2] = "Interested"
    write(path, lines)
    assert run(cli, path) == (0, {"created": 6})
    assert one_each(cli, 6)


def test_rows_appended_or_inserted_are_sent_and_done_rows_are_not(cli: Cli) -> None:
    lines = [line(cli, n) for n in range(4)]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (0, {"created": 4})
    write(path, [line(cli, 4), *lines[:2], line(cli, 5), *lines[2:], line(cli, 6)])
    assert run(cli, path) == (0, {"created": 7})
    assert one_each(cli, 7)
    by_ref = {
        r["custom.Reference Code"]: r["_id"] for r in read_rows(cli.tmp / "calls.results.csv")
    }
    assert len(set(by_ref.values())) == 7  # every row reports its own instance


def test_identical_rows_stay_distinct_rows(cli: Cli) -> None:
    same = line(cli, 0)
    path = write(cli.tmp / "calls.csv", [same, same])
    assert run(cli, path, "--limit", "1") == (0, {"created": 1})
    assert run(cli, path) == (0, {"created": 2})
    assert count_refs(cli.sandbox) == Counter({f"{PREFIX}00000": 2})
    write(path, [line(cli, 1), same, same])  # one inserted above: both still done
    assert run(cli, path) == (0, {"created": 3})
    assert count_refs(cli.sandbox) == Counter({f"{PREFIX}00000": 2, f"{PREFIX}00001": 1})


def test_another_on_ambiguous_continues_the_job(cli: Cli) -> None:
    names = Counter(lead["display_name"] for lead in cli.sandbox.state.leads.values())
    unique = sorted(n for n, count in names.items() if count == 1)[0]
    path = cli.tmp / "calls.csv"
    path.write_text(
        "custom_activity_type,lead_name,custom.Outcome,custom.Reference Code\n"
        f"Discovery Call,Globex,Interested,{PREFIX}00000\n"  # two leads are called Globex
        f"Discovery Call,{unique},Interested,{PREFIX}00001\n",
        encoding="utf-8",
    )
    assert run(cli, path) == (1, {"created": 1, "failed": 1})
    assert run(cli, path, "--on-ambiguous", "first") == (0, {"created": 2})
    assert one_each(cli, 2)


def test_a_created_row_edited_since_is_reported_never_created_again(cli: Cli) -> None:
    lines = [line(cli, n) for n in range(5)]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (0, {"created": 5})
    first = {r["_row"]: r["_id"] for r in read_rows(cli.tmp / "calls.results.csv")}
    lines[3][2] = "Not interested"  # row 5 edited after it was created
    write(path, [line(cli, 5), *lines])  # and a row inserted above it
    code, counts = run(cli, path)
    assert (code, counts) == (1, {"created": 5, "failed": 1})
    assert one_each(cli, 6)
    [error] = read_rows(cli.tmp / "calls.errors.csv")
    assert error["_row"] == "6" and error["custom.Outcome"] == "Not interested"
    assert error["_error"].startswith(
        f"row 6 was already created as {first['5']} by this job, with other values (as row 5"
    )
    assert f"put {first['5']} in its activity_id column" in error["_error"]
    assert run(cli, path) == (1, {"created": 5, "failed": 1})  # still reported, still once
    assert one_each(cli, 6)


def test_the_fix_the_error_suggests_updates_the_instance(cli: Cli) -> None:
    lines = [line(cli, n) for n in range(3)]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (0, {"created": 3})
    iid = {r["_row"]: r["_id"] for r in read_rows(cli.tmp / "calls.results.csv")}["3"]
    lines[1][2] = "Not interested"
    write(path, lines)
    assert run(cli, path)[0] == 1
    text = path.read_text(encoding="utf-8").splitlines()
    text[0] += ",activity_id"
    text = [text[0], *(t + ("," + iid if n == 2 else ",") for n, t in enumerate(text[1:], 1))]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert run(cli, path) == (0, {"created": 2, "updated": 1})
    assert one_each(cli, 3)
    assert cli.sandbox.state.custom_activities[iid]
    assert "Not interested" in cli.sandbox.state.custom_activities[iid].values()


def test_the_errors_file_of_an_edited_row_imports_as_an_update_never_a_second_create(
    cli: Cli,
) -> None:
    lines = [line(cli, n) for n in range(3)] + [["Discovery Call", "lead_nope", "Interested", "x"]]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (1, {"created": 3, "failed": 1})
    iid = {r["_row"]: r["_id"] for r in read_rows(cli.tmp / "calls.results.csv")}["3"]
    lines[1][2] = "Not interested"  # edited after it was created
    write(path, lines)
    assert run(cli, path) == (1, {"created": 2, "failed": 2})
    errors = read_rows(cli.tmp / "calls.errors.csv")
    assert [(e["_row"], e["activity_id"]) for e in errors] == [("3", iid), ("5", "")]
    assert {r["_row"]: r["_id"] for r in read_rows(cli.tmp / "calls.results.csv")}["3"] == iid
    again = cli.tmp / "calls.errors.csv"
    code, counts = run(cli, again)  # as it is: the edited row updates, the bad lead fails
    assert (code, counts) == (1, {"updated": 1, "failed": 1})
    assert one_each(cli, 3)
    assert "Not interested" in cli.sandbox.state.custom_activities[iid].values()


def test_a_journal_of_the_first_schema_resumes_its_file_and_is_upgraded(cli: Cli) -> None:
    lines = [line(cli, n) for n in range(4)]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path, "--limit", "2") == (0, {"created": 2})
    journal = cli.tmp / "calls.journal.sqlite"
    _downgrade(journal, _fingerprint_of(cli, path, limit=2))
    changed = write(cli.tmp / "calls.csv", lines)  # same bytes: the old job resumes
    assert run(cli, changed, "--limit", "2") == (0, {"created": 2})
    assert one_each(cli, 2)
    assert run(cli, path) == (0, {"created": 4})  # upgraded: the rest follows
    assert one_each(cli, 4)


def test_a_journal_of_the_first_schema_refuses_another_file_and_keeps_its_rows(cli: Cli) -> None:
    lines = [line(cli, n) for n in range(3)]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (0, {"created": 3})
    journal = cli.tmp / "calls.journal.sqlite"
    _downgrade(journal, "an older file")
    result = cli("import", "activities", str(path))
    assert result.exit_code == 2 and one_each(cli, 3)
    assert f"the journal {journal} was written by an earlier closecsv" in result.stderr
    assert "restore the file and options of that run" in result.stderr
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT count(*) FROM rows WHERE state = 'done'").fetchone() == (3,)
    conn.close()


def test_only_failed_rows_let_the_options_change(cli: Cli) -> None:
    lines = [line(cli, n, outcome="Maybe") for n in range(2)]
    path = write(cli.tmp / "calls.csv", lines)
    assert run(cli, path) == (1, {"failed": 2})
    assert run(cli, path, "--timezone", "Europe/Paris") == (1, {"failed": 2})


def _fingerprint_of(c: Cli, path: Path, **options: object) -> str:
    from closecsv.close.client import CloseClient
    from closecsv.close.config import ApiKey
    from closecsv.close.kinds import ACTIVITIES
    from closecsv.close.schema import Schema
    from closecsv.importing.options import ImportOptions
    from closecsv.importing.plan import build_plan
    from closecsv.sandbox import SANDBOX_API_KEY

    client = CloseClient(ApiKey(SANDBOX_API_KEY), c.url)
    try:
        opts = ImportOptions(**options)  # type: ignore[arg-type]
        return build_plan(client, Schema(client), ACTIVITIES, path, opts).fingerprint
    finally:
        client.close()


def _downgrade(journal: Path, fingerprint: str) -> None:
    """Rewrite ``journal`` as closecsv wrote it before rows had hashes (schema 1)."""
    conn = sqlite3.connect(journal, isolation_level=None)
    conn.executescript(
        "BEGIN;"
        "CREATE TABLE old (row INTEGER PRIMARY KEY, state TEXT NOT NULL, status TEXT,"
        " instance_id TEXT, lead_id TEXT, error TEXT, attempt_start REAL,"
        " attempts INTEGER NOT NULL DEFAULT 0);"
        "INSERT INTO old SELECT row, state, status, instance_id, lead_id, error,"
        " attempt_start, attempts FROM rows;"
        "DROP TABLE rows; ALTER TABLE old RENAME TO rows;"
        "DELETE FROM meta WHERE key IN ('settings', 'schema_version');"
        "INSERT INTO meta VALUES ('schema_version', '1');"
        "COMMIT;"
    )
    conn.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


# -- matching by content, on its own ------------------------------------------------------------


def known(*lines: tuple[int, str, bool]) -> list[Known]:
    return [Known(i, row, digest, risky) for i, (row, digest, risky) in enumerate(lines, 1)]


def test_match_follows_rows_that_moved_and_pairs_identical_ones_by_place() -> None:
    stored = known((2, "a", True), (3, "b", True), (4, "b", True))
    found = match({2: "b", 3: "x", 4: "a", 5: "b"}, {3}, stored)
    assert found.ids == {4: 1, 2: 2, 5: 3} or found.ids == {4: 1, 2: 3, 5: 2}
    assert found.edited == {}  # x is new: every row the journal knows is still there


def test_match_flags_a_create_where_an_edited_row_was_even_below_inserted_rows() -> None:
    stored = known((2, "a", True), (3, "b", True), (4, "c", True))
    found = match({2: "new", 3: "a", 4: "b", 5: "c2"}, {2, 5}, stored)
    assert found.ids == {3: 1, 4: 2} and list(found.edited) == [5]
    assert found.edited[5].id == 3


def test_match_flags_both_rows_when_one_is_inserted_just_above_an_edited_one() -> None:
    stored = known((2, "a", True), (3, "b", True), (4, "c", True))
    found = match({2: "a", 3: "new", 4: "b2", 5: "c"}, {3, 4}, stored)
    assert sorted(found.edited) == [3, 4]  # either may be the edit: neither is created


def test_match_leaves_rows_alone_where_the_journal_only_saw_failures() -> None:
    stored = known((2, "a", True), (3, "b", False))
    found = match({2: "a", 3: "b2"}, {3}, stored)
    assert found.ids == {2: 1} and found.edited == {}


def test_match_does_not_take_rows_past_a_limit_for_edited_ones() -> None:
    stored = known((2, "a", True), (3, "b", True), (4, "c", True))  # a full run
    found = match({2: "x", 3: "y", 4: "z", 5: "a", 6: "b"}, {2, 3, 4}, stored)  # --limit 5
    assert found.ids == {5: 1, 6: 2} and found.edited == {}  # x, y, z were inserted above


def test_match_flags_an_edited_first_row() -> None:
    stored = known((2, "a", True), (3, "b", True))
    found = match({2: "a2", 3: "b"}, {2}, stored)
    assert found.ids == {3: 2} and list(found.edited) == [2]
