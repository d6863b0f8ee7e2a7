"""Random valid values survive an import and read back unchanged
(exporting.export_cells.api_to_cell).

A second import of the same values as updates of the created instance is a no-op: every
row ``unchanged`` and no write sent.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.schema import Schema
from closecsv.exporting.export_cells import api_to_cell
from closecsv.files.cells import number_to_cell
from closecsv.importing.importer import run_import
from closecsv.importing.options import ImportOptions
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

COUNTER = itertools.count()
SAFE_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s == s.strip() and not s.startswith("'"))
NUMBERS = st.one_of(
    st.integers(-(10**9), 10**9).map(str),
    st.decimals(-(10**6), 10**6, places=2, allow_nan=False, allow_infinity=False).map(
        lambda d: number_to_cell(float(d))
    ),
)
DATES = st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(date.isoformat)
DATETIMES = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0).isoformat()
)


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Sandbox, CloseClient, Schema]]:
    sandbox = Sandbox()
    client = CloseClient(
        ApiKey(SANDBOX_API_KEY), "http://sandbox.test/api/v1/", transport=sandbox.transport()
    )
    yield sandbox, client, Schema(client)
    client.close()
    sandbox.close()


def write(path: Path, row: dict[str, str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)


def cell_of(
    schema: Schema, kind: Kind, type_name: str, column: str, instance: dict[str, Any]
) -> str:
    fld = schema.find(kind, type_name).field_for_column(column)
    assert fld is not None
    return api_to_cell(fld, instance.get(fld.api_key), {}, ";")


def assert_same(column: str, sent: str, back: str) -> None:
    if column in ("custom.Products",):
        assert sorted(sent.split(";")) == sorted(back.split(";"))
    elif column == "custom.Follow-up At":
        assert datetime.fromisoformat(back) == datetime.fromisoformat(sent)
    elif column in ("custom.Duration (min)", "custom.Amount"):
        assert float(back) == float(sent)
    else:
        assert back == sent


def import_and_read(world: Any, tmp: Path, kind: Kind, row: dict[str, str]) -> dict[str, Any]:
    _sandbox, client, schema = world
    path = tmp / f"rt{next(COUNTER)}.csv"
    write(path, row)
    report = run_import(client, schema, kind, path, ImportOptions())
    assert report.counts() == {"created": 1}, report.results
    iid = report.results[0].instance_id
    update = {
        kind.id_column: iid or "",
        **{k: v for k, v in row.items() if k.startswith("custom.")},
    }
    again = tmp / f"rt{next(COUNTER)}.csv"
    write(again, update)
    before = client.stats.requests
    no_op = run_import(client, schema, kind, again, ImportOptions())
    assert no_op.counts() == {"unchanged": 1}, no_op.results
    assert client.stats.requests - before <= 4  # reads only: schema, /me/, the instance batch
    return client.get(kind.instance_url(iid or ""))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    notes=SAFE_TEXT,
    duration=NUMBERS,
    next_step=DATES,
    follow_up=DATETIMES,
    products=st.lists(st.sampled_from(["Core", "Analytics", "API"]), min_size=1, unique=True),
    outcome=st.sampled_from(["Interested", "Not interested", "Follow up"]),
    ref=SAFE_TEXT,
)
def test_activity_values_survive_import(
    world: Any,
    tmp_path: Path,
    notes: str,
    duration: str,
    next_step: str,
    follow_up: str,
    products: list[str],
    outcome: str,
    ref: str,
) -> None:
    row = {
        "custom_activity_type": "Discovery Call",
        "lead_email": "alice.smith00@example.org",
        "custom.Notes": notes,
        "custom.Duration (min)": duration,
        "custom.Next Step Date": next_step,
        "custom.Follow-up At": follow_up,
        "custom.Products": ";".join(products),
        "custom.Outcome": outcome,
        "custom.Reference Code": ref,
    }
    instance = import_and_read(world, tmp_path, ACTIVITIES, row)
    for column, sent in row.items():
        if column.startswith("custom."):
            back = cell_of(world[2], ACTIVITIES, "Discovery Call", column, instance)
            assert_same(column, sent, back)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=SAFE_TEXT, amount=NUMBERS, notes=SAFE_TEXT, close=DATES)
def test_object_values_survive_import(
    world: Any, tmp_path: Path, name: str, amount: str, notes: str, close: str
) -> None:
    row = {
        "custom_object_type": "Deal",
        "lead_email": "alice.smith00@example.org",
        "name": name,
        "custom.Amount": amount,
        "custom.Notes": notes,
        "custom.Close Date": close,
    }
    instance = import_and_read(world, tmp_path, OBJECTS, row)
    assert instance["name"] == name
    for column in ("custom.Amount", "custom.Notes", "custom.Close Date"):
        assert_same(column, row[column], cell_of(world[2], OBJECTS, "Deal", column, instance))
