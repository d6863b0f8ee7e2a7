"""Export -> import is a no-op; edits become exactly those updates; cells survive import+export."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.schema import Schema
from closecsv.exporting.exporter import ExportOptions, ExportReport, run_export
from closecsv.files.cells import neutralise, unneutralise
from closecsv.importing.executor import SendSettings
from closecsv.importing.importer import execute_plan
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import build_plan
from closecsv.importing.report import ImportReport
from closecsv.progress import NullProgress
from closecsv.sandbox import Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.csvfiles import read_rows
from tests.helpers.transports import Counting


def export(sb: Sandbox, kind: Kind, out: Path, **options: Any) -> ExportReport:
    with sandbox_client(sb.transport()) as c:
        return run_export(c, Schema(c), kind, ExportOptions(out_dir=out, **options))


def import_file(transport: httpx.BaseTransport, kind: Kind, path: Path) -> ImportReport:
    with sandbox_client(transport) as c:
        schema = Schema(c)
        plan = build_plan(c, schema, kind, path, ImportOptions(report_dir=path.parent / "rep"))
        settings = SendSettings(report_dir=path.parent / "rep", settle_seconds=0)
        return execute_plan(c, schema, plan, settings, NullProgress(), sleep=lambda _: None)


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def statuses(report: ImportReport) -> list[str]:
    return [r.status for r in report.results]


@pytest.mark.parametrize("strategy", ["auto", "lead", "org", "search"])
def test_an_export_imports_back_as_a_no_op(tmp_path: Path, strategy: str) -> None:
    sb = Sandbox()
    for kind in (ACTIVITIES, OBJECTS):
        report = export(sb, kind, tmp_path / kind.name, strategy=strategy)
        assert report.route == ("search" if strategy == "auto" else strategy)
        for entry in report.types:
            if not entry["rows"]:
                continue
            counting = Counting(sb.transport())
            result = import_file(counting, kind, report.out_dir / entry["file"])
            assert statuses(result) == ["unchanged"] * entry["rows"], result.results
            assert counting.changes() == Counter()


def test_edits_become_exactly_those_updates(tmp_path: Path) -> None:
    sb = Sandbox()
    report = export(sb, ACTIVITIES, tmp_path, type_refs=("Discovery Call",))
    path = tmp_path / report.types[0]["file"]
    rows = read_rows(path)
    rows[0]["custom.Notes"] = "Changed in a spreadsheet"
    rows[1]["custom.Outcome"] = "Not interested"
    write(path, rows)
    counting = Counting(sb.transport())
    result = import_file(counting, ACTIVITIES, path)
    assert statuses(result) == ["updated", "updated", *["unchanged"] * (len(rows) - 2)]
    assert counting.changes() == Counter({"PUT": 2})
    again = export(sb, ACTIVITIES, tmp_path / "again", type_refs=("Discovery Call",))
    fresh = {r["activity_id"]: r for r in read_rows(again.out_dir / again.types[0]["file"])}
    assert fresh[rows[0]["activity_id"]]["custom.Notes"] == "Changed in a spreadsheet"
    assert fresh[rows[1]["activity_id"]]["custom.Outcome"] == "Not interested"


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() == s and s != "")
FORMULA = st.builds(lambda p, t: p + t, st.sampled_from(["=", "+", "-", "@"]), TEXT)
CELLS = st.fixed_dictionaries(
    {
        "custom.Reference Code": st.one_of(TEXT, FORMULA),
        "custom.Outcome": st.sampled_from(["Interested", "Not interested", "Follow up"]),
        "custom.Duration (min)": st.one_of(
            st.just(""),
            st.integers(-10_000, 10_000).map(str),
            st.decimals(-1000, 1000, places=2, allow_nan=False).map(lambda d: f"{d.normalize():f}"),
        ),
        "custom.Products": st.lists(st.sampled_from(["Core", "Analytics", "API"]), unique=True).map(
            ";".join
        ),
        "custom.Attendees": st.lists(
            st.sampled_from(["ada@example.com", "grace@example.com"]), unique=True
        ).map(";".join),
        "custom.Next Step Date": st.one_of(
            st.just(""), st.dates(date(1990, 1, 1), date(2100, 1, 1)).map(date.isoformat)
        ),
        "custom.Notes": st.one_of(st.just(""), TEXT, FORMULA),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=CELLS)
def test_cells_survive_import_then_export(tmp_path_factory: Any, cells: dict[str, str]) -> None:
    work: Path = tmp_path_factory.mktemp("rt")
    sb = Sandbox()
    lead = next(iter(sb.state.leads))
    row = {"custom_activity_type": "Discovery Call", "lead_id": lead, **cells}
    source = work / "in.csv"
    write(source, [row])
    created = import_file(sb.transport(), ACTIVITIES, source)
    assert statuses(created) == ["created"], created.results
    report = export(sb, ACTIVITIES, work / "out", type_refs=("Discovery Call",))
    exported = {r["activity_id"]: r for r in read_rows(report.out_dir / report.types[0]["file"])}
    mine = exported[str(created.results[0].instance_id)]
    number = "custom.Duration (min)"
    expected = {k: neutralise(v) for k, v in cells.items() if k != number}
    assert {k: mine[k] for k in expected} == expected
    given_number, got = cells[number], unneutralise(mine[number])
    assert got == given_number == "" or float(got) == float(given_number)
    assert "." not in got or not got.endswith(".0")


@pytest.mark.parametrize("value", ["'=1+1", "'-5", "'@x", "''=x", "\uff1d1+1"])
def test_a_leading_apostrophe_before_a_trigger_survives(tmp_path: Path, value: str) -> None:
    sb = Sandbox()
    report = export(sb, ACTIVITIES, tmp_path, type_refs=("Discovery Call",))
    path = tmp_path / report.types[0]["file"]
    rows = read_rows(path)
    rows[0]["custom.Notes"] = neutralise(value)
    write(path, rows)
    import_file(sb.transport(), ACTIVITIES, path)
    again = export(sb, ACTIVITIES, tmp_path / "again", type_refs=("Discovery Call",))
    fresh = {r["activity_id"]: r for r in read_rows(again.out_dir / again.types[0]["file"])}
    assert unneutralise(fresh[rows[0]["activity_id"]]["custom.Notes"]) == value
