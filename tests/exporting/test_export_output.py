"""What an export leaves on disk: neutralised cells, whole files only, Parquet types, --state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.close.schema import Schema
from closecsv.exporting.exporter import ExportOptions, ExportReport, run_export
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.csvfiles import read_rows


def export(sb: Sandbox, kind: Kind, out: Path, **options: Any) -> ExportReport:
    with sandbox_client(sb.transport()) as c:
        return run_export(c, Schema(c), kind, ExportOptions(out_dir=out, **options))


def type_id(sb: Sandbox, name: str) -> str:
    return next(t for t, i in sb.state.activity_types.items() if i["name"] == name)


def add_ticket(sb: Sandbox, ticket: str, **extra: Any) -> dict[str, Any]:
    fields = {f["name"]: f["id"] for f in sb.state.fields.values()}
    lead = next(iter(sb.state.leads))
    body = {"custom_activity_type_id": type_id(sb, "Support Ticket"), "lead_id": lead}
    body[f"custom.{fields['Ticket ID']}"] = ticket
    with sandbox_client(sb.transport()) as c:
        return c.post("activity/custom/", {**body, **extra})


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+16505551234", "'+16505551234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://x.invalid","go")', '\'=HYPERLINK("http://x.invalid","go")'),
        ('foo","=1+1', 'foo","=1+1'),
        ("'already", "'already"),
        ("'=1", "''=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("plain", "plain"),
    ],
)
def test_formula_cells_are_neutralised_unless_raw(tmp_path: Path, value: str, cell: str) -> None:
    sb = Sandbox()
    made = add_ticket(sb, value)
    safe = export(sb, ACTIVITIES, tmp_path / "safe", type_refs=("Support Ticket",))
    raw = export(sb, ACTIVITIES, tmp_path / "raw", type_refs=("Support Ticket",), raw=True)
    by_id = {r["activity_id"]: r for r in read_rows(safe.out_dir / "Support_Ticket.csv")}
    assert by_id[made["id"]]["custom.Ticket ID"] == cell
    raw_by_id = {r["activity_id"]: r for r in read_rows(raw.out_dir / "Support_Ticket.csv")}
    assert raw_by_id[made["id"]]["custom.Ticket ID"] == value


class Explode(httpx.BaseTransport):
    """Passes requests to the sandbox, then raises ``error`` on the ``after``-th list page."""

    def __init__(self, sb: Sandbox, after: int, error: BaseException) -> None:
        self.inner, self.after, self.error, self.pages = sb.transport(), after, error, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/activity/custom/"):
            self.pages += 1
            if self.pages > self.after:
                raise self.error
        return self.inner.handle_request(request)


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("boom")])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_failure_mid_export_leaves_no_file(
    tmp_path: Path, error: BaseException, fmt: str
) -> None:
    sb = Sandbox(max_skip=50)
    sb.populate(leads=10, activities=400, activity_types=2)
    out = tmp_path / "out"
    with sandbox_client(Explode(sb, 3, error)) as c, pytest.raises(type(error)):
        options = ExportOptions(out_dir=out, strategy="org", format=fmt, batch_rows=50)  # type: ignore[arg-type]
        run_export(c, Schema(c), ACTIVITIES, options)
    assert os.listdir(out) == []


def _writing(out: Path) -> bool:
    return out.exists() and any(p.name.endswith(".part") for p in out.iterdir())


def test_sigkill_mid_export_leaves_no_file_under_a_final_name(tmp_path: Path) -> None:
    sb = Sandbox(latency_ms=20)
    sb.populate(leads=30, activities=3000, activity_types=2)
    out = tmp_path / "out"
    with sb.serve() as url:
        env = {**os.environ, "CLOSE_API_URL": url, "CLOSE_API_KEY": SANDBOX_API_KEY}
        env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
        cmd = [sys.executable, "-m", "closecsv", "export", "activities", "--out-dir", str(out)]
        child = subprocess.Popen([*cmd, "--strategy", "org"], env=env, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not _writing(out):
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stderr is not None
        child.stderr.close()
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []


def test_parquet_columns_are_typed(tmp_path: Path) -> None:
    sb = Sandbox()
    report = export(sb, ACTIVITIES, tmp_path, format="parquet", type_refs=("Discovery Call",))
    frame = pl.read_parquet(tmp_path / report.types[0]["file"])
    schema = frame.schema
    stamp = pl.Datetime("us", "UTC")
    assert schema["date_created"] == stamp and schema["activity_at"] == stamp
    assert schema["pinned"] == pl.Boolean
    assert schema["custom.Duration (min)"] == pl.Float64
    assert schema["custom.Next Step Date"] == pl.Date
    assert schema["custom.Follow-up At"] == stamp
    assert schema["custom.Attendees"] == pl.List(pl.String)
    assert schema["custom.Products"] == pl.List(pl.String)
    assert schema["custom.Outcome"] == pl.String
    first = frame.sort("date_created").row(0, named=True)
    assert first["custom.Attendees"] == ["ada@example.com", "grace@example.com"]
    assert first["custom.Duration (min)"] == 30.0
    assert first["user"] == "ada@example.com"
    assert list(frame.columns) == report.types[0]["columns"]


def test_parquet_dates_and_objects(tmp_path: Path) -> None:
    report = export(Sandbox(), OBJECTS, tmp_path, format="parquet", type_refs=("Deal",))
    frame = pl.read_parquet(tmp_path / report.types[0]["file"])
    assert frame.schema["custom.Amount"] == pl.Float64
    assert frame.schema["custom.Close Date"] == pl.Date
    assert frame.schema["date_created"] == pl.Datetime("us", "UTC")
    assert all(isinstance(d, date) for d in frame["custom.Close Date"].drop_nulls())


def only(folder: Path, pattern: str) -> Path:
    """The one file of ``folder`` matching ``pattern`` (a --state run tags its names)."""
    [path] = folder.glob(pattern)
    return path


def test_state_exports_only_newer_and_keeps_ties(tmp_path: Path) -> None:
    sb = Sandbox()
    state = tmp_path / "state.json"
    first = export(sb, ACTIVITIES, tmp_path / "1", state_path=state)
    legacy = type_id(sb, "Legacy Survey")
    live = [
        a for a in sb.state.custom_activities.values() if a["custom_activity_type_id"] != legacy
    ]
    assert first.rows == len(live)
    tickets = [a for a in sb.state.custom_activities.values()
               if a["custom_activity_type_id"] == type_id(sb, "Support Ticket")]  # fmt: skip
    last = max(a["date_created"] for a in tickets)
    tie = add_ticket(sb, "TIE", date_created=last)
    newer_stamp = (datetime.fromisoformat(last) + timedelta(seconds=1)).isoformat()
    newer = add_ticket(sb, "NEW", date_created=newer_stamp)
    add_ticket(sb, "OLD", date_created="2020-01-01T00:00:00+00:00")  # back-dated: not seen
    second = export(sb, ACTIVITIES, tmp_path / "2", state_path=state)
    got = [r["activity_id"] for r in read_rows(only(tmp_path / "2", "Support_Ticket.*.csv"))]
    assert sorted(got) == sorted([tie["id"], newer["id"]])
    assert second.rows == 2
    third = export(sb, ACTIVITIES, tmp_path / "3", state_path=state)
    assert third.rows == 0


def test_state_upper_bound_is_the_run_start(tmp_path: Path) -> None:
    sb = Sandbox()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    made = add_ticket(sb, "LATER", date_created=future)
    report = export(sb, ACTIVITIES, tmp_path / "a", state_path=tmp_path / "s.json")
    ids = [r["activity_id"] for r in read_rows(only(tmp_path / "a", "Support_Ticket.*.csv"))]
    assert made["id"] not in ids and report.rows > 0
    export(sb, ACTIVITIES, tmp_path / "b")
    assert made["id"] in [
        r["activity_id"] for r in read_rows(tmp_path / "b" / "Support_Ticket.csv")
    ]
