"""``--key``: a second file with the same records (reordered, some changed, a few new) creates
nothing twice and updates exactly the changed cells, for both kinds, with one listing per
(lead, type); repeated, ambiguous and empty keys fail their rows."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.schema import FieldInfo
from closecsv.errors import InputError
from closecsv.importing.importer import run_import
from closecsv.importing.keys import key_token
from closecsv.importing.options import ImportOptions
from closecsv.importing.report import ImportReport
from tests.helpers.send import Env, make_env


@dataclass(frozen=True)
class Shape:
    """One kind's file: its header, key column and a changeable value column."""

    kind: Kind
    type_name: str
    key_field: str
    value_field: str
    header: tuple[str, ...]

    def line(self, lead: str, key: str, value: str) -> list[str]:
        if self.kind is ACTIVITIES:
            return [self.type_name, lead, "Interested", key, value]
        return [self.type_name, lead, f"Deal {key}", value, key]


CALLS = Shape(
    ACTIVITIES,
    "Discovery Call",
    "Reference Code",
    "Duration (min)",
    (
        "custom_activity_type",
        "lead_id",
        "custom.Outcome",
        "custom.Reference Code",
        "custom.Duration (min)",
    ),
)
DEALS = Shape(
    OBJECTS,
    "Deal",
    "Notes",
    "Amount",
    ("custom_object_type", "lead_id", "name", "custom.Amount", "custom.Notes"),
)


def write(path: Path, header: tuple[str, ...], lines: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(lines)
    return path


def run(env: Env, shape: Shape, path: Path, *, dry: bool = False, key: str = "") -> ImportReport:
    options = ImportOptions(
        key=key or f"custom.{shape.key_field}",
        dry_run=dry,
        report_dir=env.tmp / "reports",
        settle_seconds=0.0,
    )
    return run_import(env.client, env.schema, shape.kind, path, options)


def statuses(report: ImportReport) -> dict[int, tuple[str, str]]:
    """``_row -> (_status, _error)`` of a run's results file."""
    with report.paths.results.open(newline="", encoding="utf-8") as fh:
        return {int(r["_row"]): (r["_status"], r["_error"]) for r in csv.DictReader(fh)}


def by_key(env: Env, shape: Shape) -> Counter[str]:
    """How many instances of the shape's type hold each key value, org-wide."""
    api_key = env.key(shape.kind, shape.type_name, shape.key_field)
    state = env.sandbox.state
    pool = state.custom_activities if shape.kind is ACTIVITIES else state.custom_objects
    return Counter(
        str(i[api_key]) for i in pool.values() if str(i.get(api_key, "")).startswith("K-")
    )


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return make_env(tmp_path)


@pytest.mark.parametrize("shape", [CALLS, DEALS], ids=["activities", "objects"])
def test_a_second_file_of_the_same_records_creates_nothing_twice(env: Env, shape: Shape) -> None:
    leads = sorted(env.sandbox.state.leads)[:4]
    first = [[leads[i % 4], f"K-{i:03d}", str(10 + i)] for i in range(12)]
    a = write(env.tmp / "export_monday.csv", shape.header, [shape.line(*r) for r in first])
    assert {s for s, _ in statuses(run(env, shape, a)).values()} == {"created"}
    changed = {2, 7}  # indexes into ``first`` whose value changes in the second file
    second = [
        [lead, key, str(int(v) + 100) if i in changed else v]
        for i, (lead, key, v) in enumerate(first)
    ]
    second = second[::-1] + [[leads[i % 4], f"K-{i:03d}", "5"] for i in range(12, 15)]
    b = write(env.tmp / "export_friday.csv", shape.header, [shape.line(*r) for r in second])
    expect = {}
    for n, (_, key, _) in enumerate(second, start=2):
        index = int(key[2:])
        expect[n] = "created" if index >= 12 else "updated" if index in changed else "unchanged"

    dry = statuses(run(env, shape, b, dry=True))
    assert {n: s for n, (s, _) in dry.items()} == {
        n: {"created": "would_create", "updated": "would_update"}.get(s, s)
        for n, s in expect.items()
    }
    env.transport.calls.clear()
    report = run(env, shape, b)

    assert {n: s for n, (s, _) in statuses(report).items()} == expect
    assert by_key(env, shape) == Counter({f"K-{i:03d}": 1 for i in range(15)})
    value_key = env.key(shape.kind, shape.type_name, shape.value_field)
    pool = (
        env.sandbox.state.custom_activities
        if shape.kind is ACTIVITIES
        else env.sandbox.state.custom_objects
    )
    key_of = env.key(shape.kind, shape.type_name, shape.key_field)
    values = {
        i[key_of]: i.get(value_key)
        for i in pool.values()
        if str(i.get(key_of, "")).startswith("K-")
    }
    assert values["K-002"] == 112 and values["K-007"] == 117 and values["K-003"] == 13
    # one listing per lead (one type), no read of single instances; writes = changed + new
    gets = [
        p for m, p in env.transport.calls if m == "GET" and p.startswith(shape.kind.instance_path)
    ]
    assert gets == [shape.kind.instance_path] * 4
    assert env.transport.writes() - env.transport.count("data/search/") == len(changed) + 3


def test_keys_repeated_in_the_file_fail_those_rows_before_anything_is_sent(env: Env) -> None:
    a, b, c = sorted(env.sandbox.state.leads)[:3]
    lines = [[a, "D-1", "1"], [b, "D-2", "2"], [c, "D-1", "3"], [a, " D-1 ", "4"], [b, "D-3", "5"]]
    path = write(env.tmp / "dups.csv", CALLS.header, [CALLS.line(*r) for r in lines])

    found = statuses(run(env, CALLS, path))

    assert found[2][0] == found[4][0] == found[5][0] == "failed"
    assert "duplicate key in file: 'D-1' is also on row(s) 4, 5" in found[2][1]
    assert "duplicate key in file: 'D-1' is also on row(s) 2, 5" in found[4][1]
    assert "is also on row(s) 2, 4" in found[5][1]
    assert found[3][0] == found[6][0] == "created"
    key = env.key(ACTIVITIES, "Discovery Call", "Reference Code")
    made = Counter(a.get(key) for a in env.sandbox.state.custom_activities.values())
    assert (made["D-1"], made["D-2"], made["D-3"]) == (0, 1, 1)


def test_an_ambiguous_key_fails_its_row_with_the_ids(env: Env) -> None:
    lead = sorted(env.sandbox.state.leads)[0]
    twice = [CALLS.line(lead, "K-AMB", "1"), CALLS.line(lead, "K-AMB", "2")]
    made = run_import(
        env.client,
        env.schema,
        ACTIVITIES,
        write(env.tmp / "twice.csv", CALLS.header, twice),
        ImportOptions(report_dir=env.tmp / "plain"),
    )
    ids = sorted(r.instance_id or "" for r in made.results)
    path = write(env.tmp / "one.csv", CALLS.header, [CALLS.line(lead, "K-AMB", "3")])

    [(status, error)] = statuses(run(env, CALLS, path)).values()

    assert status == "failed"
    assert f"ambiguous key: 'K-AMB' matches 2 custom activitys on lead {lead}" not in error
    assert f"ambiguous key: 'K-AMB' matches 2 custom activities on lead {lead}" in error
    assert all(i in error for i in ids) and by_key(env, CALLS)["K-AMB"] == 2


def test_an_empty_key_cell_fails_its_row(env: Env) -> None:
    lead = sorted(env.sandbox.state.leads)[0]
    lines = [CALLS.line(lead, "", "1"), CALLS.line(lead, "K-OK", "2")]
    found = statuses(run(env, CALLS, write(env.tmp / "empty.csv", CALLS.header, lines)))
    assert found[2][0] == "failed" and "(--key): empty key; fill it" in found[2][1]
    assert found[3][0] == "created"


def test_rows_with_an_id_keep_updating_by_id(env: Env) -> None:
    lead = sorted(env.sandbox.state.leads)[0]
    first = run(env, CALLS, write(env.tmp / "a.csv", CALLS.header, [CALLS.line(lead, "K-1", "1")]))
    [made] = [r.instance_id for r in first.results]
    header = ("activity_id", *CALLS.header)
    lines = [[made or "", *CALLS.line(lead, "K-1", "9")], ["", *CALLS.line(lead, "K-2", "2")]]
    found = statuses(run(env, CALLS, write(env.tmp / "b.csv", header, lines)))
    assert [found[2][0], found[3][0]] == ["updated", "created"]
    assert by_key(env, CALLS) == Counter({"K-1": 1, "K-2": 1})


def test_a_lead_with_more_than_a_page_of_instances_is_paged(env: Env) -> None:
    lead = sorted(env.sandbox.state.leads)[5]
    lines = [CALLS.line(lead, f"K-{i:03d}", str(i)) for i in range(130)]
    run(env, CALLS, write(env.tmp / "many.csv", CALLS.header, lines))
    env.transport.calls.clear()
    lines[-1] = CALLS.line(lead, "K-129", "1000")  # the newest, listed on the first page
    lines[0] = CALLS.line(lead, "K-000", "2000")  # the oldest, on the second page
    report = run(env, CALLS, write(env.tmp / "again.csv", CALLS.header, lines))

    found = statuses(report)
    assert Counter(s for s, _ in found.values()) == Counter({"unchanged": 128, "updated": 2})
    gets = [p for m, p in env.transport.calls if m == "GET" and p.startswith("activity/custom/")]
    # one listing: its two pages and the pager's probe of the _skip cap before the second
    assert gets == ["activity/custom/"] * 3
    assert by_key(env, CALLS) == Counter({f"K-{i:03d}": 1 for i in range(130)})


def _journal_row(report: ImportReport, row: int, sets: str, *args: object) -> None:
    """Put the journal line of ``row`` where a kill would have left it."""
    with sqlite3.connect(report.paths.journal) as conn:
        conn.execute(f"UPDATE rows SET {sets} WHERE row = ?", (*args, row))


def test_a_rerun_after_lost_answers_creates_nothing_twice(env: Env) -> None:
    """Killed after Close committed a create (row 2) and an update (row 3) but before their
    answers: the rerun's key look-up finds them; the create is reported as created."""
    leads = sorted(env.sandbox.state.leads)[:2]
    base = write(env.tmp / "base.csv", CALLS.header, [CALLS.line(leads[1], "K-U", "1")])
    [existing] = [r.instance_id for r in run(env, CALLS, base).results]
    lines = [CALLS.line(leads[0], "K-NEW", "1"), CALLS.line(leads[1], "K-U", "2")]
    lines.append(CALLS.line(leads[0], "K-NOT-SENT", "3"))
    path = write(env.tmp / "delta.csv", CALLS.header, lines)
    first = run(env, CALLS, path)
    made = {r.row: r.instance_id for r in first.results}
    assert made[3] == existing
    _journal_row(first, 2, "state = 'in_flight', status = NULL, instance_id = NULL")
    _journal_row(first, 3, "state = 'unknown', status = NULL, instance_id = ?", existing)
    key = env.key(ACTIVITIES, "Discovery Call", "Reference Code")
    acts = env.sandbox.state.custom_activities.items()
    lost = next(i for i, a in acts if a.get(key) == "K-NOT-SENT")
    env.sandbox.state.delete("custom_activities", lost)  # its POST never reached Close
    _journal_row(first, 4, "state = 'in_flight', status = NULL, instance_id = NULL")
    env.transport.calls.clear()

    again = run(env, CALLS, path)

    found = {r.row: (r.status, r.instance_id) for r in again.results}
    assert found[2] == ("created", made[2]) and found[3] == ("updated", existing)
    assert found[4][0] == "created" and found[4][1] != lost
    assert by_key(env, CALLS) == Counter({"K-NEW": 1, "K-U": 1, "K-NOT-SENT": 1})
    assert [m for m, p in env.transport.calls if m in ("POST", "PUT")].count("PUT") == 0
    again = run(env, CALLS, path)  # done: nothing more is sent
    assert {r.row: r.status for r in again.results} == {2: "created", 3: "updated", 4: "created"}


@pytest.mark.parametrize(
    ("kind", "cell", "stored", "same"),
    [
        ("text", "007", "007", True),
        ("text", " 007 ", "007", True),
        ("text", "007", "7", False),
        ("hidden", "L-1", "l-1", False),
        ("number", 7.0, 7, True),
        ("number", 7.5, "7.5", True),
        ("datetime", "2024-03-04T16:30:00+01:00", "2024-03-04T15:30:00+00:00", True),
    ],
)
def test_keys_compare_as_the_fields_values(
    kind: str, cell: object, stored: object, same: bool
) -> None:
    fld = FieldInfo(id="cf_k", name="Legacy ID", type=kind)
    assert (key_token(cell, fld) == key_token(stored, fld)) is same
    assert key_token("", fld) is None and key_token("   ", fld) is None


def test_the_key_is_part_of_the_job(env: Env) -> None:
    """A job started with --key is not continued without it (its rows meant something else)."""
    lead = sorted(env.sandbox.state.leads)[0]
    path = write(env.tmp / "a.csv", CALLS.header, [CALLS.line(lead, "K-J", "1")])
    run(env, CALLS, path)
    options = ImportOptions(report_dir=env.tmp / "reports", settle_seconds=0.0)
    with pytest.raises(InputError, match=r"--key 'custom.Reference Code' -> \(not given\)"):
        run_import(env.client, env.schema, ACTIVITIES, path, options)


@pytest.mark.parametrize("shape", [CALLS, DEALS], ids=["activities", "objects"])
def test_a_delta_by_key_is_undone_back_to_the_first_file(env: Env, shape: Shape) -> None:
    """The delta's updates of matched instances get their values back and its creates go."""
    from closecsv.importing.undo import UndoOptions, run_undo

    leads = sorted(env.sandbox.state.leads)[:3]
    first = [[leads[i % 3], f"K-{i:03d}", str(10 + i)] for i in range(6)]
    a = write(env.tmp / "monday.csv", shape.header, [shape.line(*r) for r in first])
    run(env, shape, a)
    pool = (
        env.sandbox.state.custom_activities
        if shape.kind is ACTIVITIES
        else env.sandbox.state.custom_objects
    )
    kept = ("date_updated", "updated_by", "updated_by_name")
    before = {i: {k: v for k, v in inst.items() if k not in kept} for i, inst in pool.items()}
    second = [[lead, key, str(int(v) + 100)] for lead, key, v in first[:2]] + [
        [leads[0], "K-900", "1"]
    ]
    b = write(env.tmp / "friday.csv", shape.header, [shape.line(*r) for r in second])
    delta = statuses(run(env, shape, b))
    assert sorted(s for s, _ in delta.values()) == ["created", "updated", "updated"]

    undone = run_undo(
        env.client, env.schema, shape.kind, b, UndoOptions(report_dir=env.tmp / "reports")
    )
    assert undone.counts() == {"deleted": 1, "restored": 2}
    after = {i: {k: v for k, v in inst.items() if k not in kept} for i, inst in pool.items()}
    assert after == before
