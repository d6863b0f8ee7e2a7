"""``import closecsv``: the CLI's operations as functions, errors as exceptions, no CLI code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import closecsv
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

HEADER = "custom_activity_type,lead_email,date_created,custom.Outcome,custom.Reference Code\n"


@pytest.fixture
def org() -> Iterator[tuple[Sandbox, str]]:
    """A seeded sandbox on a real socket, and its base URL."""
    sb = Sandbox()
    with sb.serve() as url:
        yield sb, url
    sb.close()


def calls_csv(folder: Path, rows: list[tuple[str, datetime]]) -> Path:
    path = folder / "calls.csv"
    lines = [
        f"Discovery Call,alice.smith00@example.org,{when.isoformat()},Interested,{ref}\n"
        for ref, when in rows
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def references(sb: Sandbox) -> set[str]:
    """Every text custom value of the sandbox's activities (the Reference Codes among them)."""
    return {
        value
        for activity in sb.state.custom_activities.values()
        for key, value in activity.items()
        if key.startswith("custom.") and isinstance(value, str)
    }


def test_import_and_export_in_process_load_neither_click_nor_tqdm(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    """A scheduler runs closecsv in its own process: no CLI code, no exit, no output.

    httpx itself imports click for its own command line (the ``httpx[cli]`` extra is
    installed with closecsv), so the script drops it after importing httpx: any click module
    present at the end was imported again by closecsv."""
    sb, url = org
    now = datetime.now(UTC)
    source = calls_csv(tmp_path, [("PY-1", now - timedelta(days=3)), ("PY-2", now)])
    script = textwrap.dedent(
        f"""
        import json, sys
        import httpx
        for name in [m for m in sys.modules if m == "click" or m.startswith("click.")]:
            del sys.modules[name]
        import closecsv
        imported = closecsv.import_file({str(source)!r}, kind="activities")
        exported = closecsv.export("activities", out_dir={str(tmp_path / "out")!r})
        loaded = sorted(
            m for m in sys.modules if m.split(".")[0] in ("click", "tqdm", "closecsv.cli")
        )
        print(json.dumps([imported.counts(), exported.rows, loaded]))
        """
    )
    env = {**os.environ, "CLOSE_API_URL": url, "CLOSE_API_KEY": SANDBOX_API_KEY}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # silent by default: no progress, no summary
    counts, rows, loaded = json.loads(done.stdout)
    assert counts == {"created": 2}
    assert loaded == []
    assert {"PY-1", "PY-2"} <= references(sb)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert rows == sum(t["rows"] for t in manifest["types"]) >= 2


def test_import_returns_the_report_and_calls_the_progress_callback(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, url = org
    now = datetime.now(UTC)
    source = calls_csv(tmp_path, [("CB-1", now), ("CB-2", now), ("CB-3", now)])
    events: list[closecsv.ProgressEvent] = []
    checked = closecsv.validate(
        source, kind="activities", api_url=url, api_key=SANDBOX_API_KEY, report_dir=tmp_path / "v"
    )
    assert checked.counts() == {"would_create": 3}
    assert checked.exit_code == 0
    assert not references(sb) & {"CB-1", "CB-2", "CB-3"}
    report = closecsv.import_file(
        source, kind="activities", api_url=url, api_key=SANDBOX_API_KEY, progress=events.append
    )
    assert report.counts() == {"created": 3}
    assert report.paths.results.is_file()
    assert {"CB-1", "CB-2", "CB-3"} <= references(sb)
    assert events[0] == closecsv.ProgressEvent("start", done=0, total=3)
    assert sum(e.done for e in events if e.event == "advance") == 3
    assert {e.status for e in events if e.event == "advance"} == {"created"}
    assert events[-1].event == "close"


def test_errors_are_the_exception_tree_not_an_exit(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _, url = org
    source = calls_csv(tmp_path, [("E-1", datetime.now(UTC))])
    with pytest.raises(closecsv.ConfigError, match="no API key: set CLOSE_API_KEY"):
        closecsv.import_file(source, kind="activities", api_url=url)
    with pytest.raises(closecsv.InputError, match=r"missing\.csv does not exist"):
        closecsv.import_file(tmp_path / "missing.csv", kind="activities", api_key="k")
    with pytest.raises(closecsv.ConfigError, match="kind 'activity' is not one of"):
        closecsv.validate(source, kind="activity", api_url=url, api_key=SANDBOX_API_KEY)
    with pytest.raises(closecsv.ConfigError, match="concurrency=0 is not between 1 and 16"):
        closecsv.import_file(source, kind="activities", concurrency=0, api_key="k")
    with pytest.raises(closecsv.ConfigError, match="format='xlsx' is not one of"):
        closecsv.export("activities", out_dir=tmp_path, format="xlsx", api_key="k")
    with pytest.raises(closecsv.ConfigError, match="--since 2024-02-01 is not before"):
        closecsv.export("activities", since="2024-02-01", until="2024-01-01", api_key="k")
    with pytest.raises(closecsv.AuthError) as stopped:
        closecsv.export("activities", out_dir=tmp_path / "x", api_url=url, api_key="wrong-key")
    assert "wrong-key" not in str(stopped.value)
    assert isinstance(stopped.value, closecsv.FatalError) and stopped.value.exit_code == 3


def test_export_takes_datetimes_a_type_name_and_a_lead_query_dict(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _, url = org
    day = datetime(2031, 5, 4, tzinfo=UTC)
    source = calls_csv(tmp_path, [("D-IN", day + timedelta(hours=9)), ("D-OUT", day)])
    key = {"api_url": url, "api_key": SANDBOX_API_KEY}
    assert closecsv.import_file(source, kind="activities", **key).counts() == {"created": 2}
    lead = closecsv.leads(query="Acme Corp", limit=1, **key)[0]
    assert "alice.smith00@example.org" in lead["emails"]
    report = closecsv.export(
        "activities",
        out_dir=tmp_path / "out",
        types="Discovery Call",
        since=day + timedelta(hours=1),
        until=day.date() + timedelta(days=1),
        format="parquet",
        lead_query={"type": "id", "value": lead["id"]},
        **key,
    )
    assert [t["type_name"] for t in report.types] == ["Discovery Call"]
    frame = pl.read_parquet(tmp_path / "out" / "Discovery_Call.parquet")
    assert frame["custom.Reference Code"].to_list() == ["D-IN"]


def test_sync_returns_its_report_and_follows_a_change(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, url = org
    key = {"api_url": url, "api_key": SANDBOX_API_KEY}
    first = closecsv.sync("activities", to=tmp_path / "m", format="csv", **key)
    assert (first.mode, first.counts()["rows"]) == ("first", 5)
    gone = sorted(sb.state.custom_activities)[0]
    sb.handle("DELETE", f"/api/v1/activity/custom/{gone}/", {}, _auth(), b"")
    second = closecsv.sync("activities", to=str(tmp_path / "m"), format="csv", **key)
    assert (second.mode, second.counts()["deleted"]) == ("incremental", 1)
    with pytest.raises(closecsv.ConfigError, match="--multi-separator must not be empty"):
        closecsv.sync("activities", to=tmp_path / "m", multi_separator="", **key)


def _auth() -> dict[str, str]:
    import base64

    return {"authorization": "Basic " + base64.b64encode(f"{SANDBOX_API_KEY}:".encode()).decode()}


def test_schema_template_and_users_return_what_the_cli_prints(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _, url = org
    key = {"api_url": url, "api_key": SANDBOX_API_KEY}
    types = closecsv.schema(**key)
    assert "Discovery Call" in [t.name for t in types["activities"]]
    assert "Deal" in [t.name for t in types["objects"]]
    header = closecsv.template("objects", "Deal", output=tmp_path / "deals.csv", **key)
    assert header.startswith("custom_object_id,custom_object_type,")
    assert (tmp_path / "deals.csv").read_bytes().decode("utf-8") == header
    with pytest.raises(closecsv.InputError, match=r"deals\.csv exists"):
        closecsv.template("objects", "Deal", output=tmp_path / "deals.csv", **key)
    assert "ada@example.com" in [u["email"] for u in closecsv.users(**key)]
