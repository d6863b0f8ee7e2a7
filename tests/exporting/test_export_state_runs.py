"""Scheduled ``export --state`` runs from the command line: every run keeps its own batch, and a
state file or an out dir that cannot be used stops the run before anything is asked or written.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.errors import InputError
from closecsv.exporting import exporter
from closecsv.exporting.exporter import ExportOptions, run_export
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

T1 = datetime(2026, 11, 29, 4, 15, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
STAMP1, STAMP2 = "20261129T041500Z", "20261129T051500Z"


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["--api-url", url, "--api-key", SANDBOX_API_KEY, "export", *args],
        catch_exceptions=False,
    )
    return result.exit_code, result.stderr


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    """Make the next export start at ``moment``."""
    monkeypatch.setattr(exporter, "utc_now", lambda: moment)


def requests_seen(sb: Sandbox) -> int:
    return sum(sb.dispatcher.status_counts.values())


def add_ticket(sb: Sandbox, created: datetime) -> str:
    tid = next(t for t, i in sb.state.activity_types.items() if i["name"] == "Support Ticket")
    fields = {f["name"]: f["id"] for f in sb.state.fields.values()}
    body = {
        "custom_activity_type_id": tid,
        "lead_id": next(iter(sb.state.leads)),
        f"custom.{fields['Ticket ID']}": "T-NEW",
        "date_created": created.isoformat(),
    }
    auth = "Basic " + base64.b64encode(f"{SANDBOX_API_KEY}:".encode()).decode()
    answer = sb.handle(
        "POST", "/api/v1/activity/custom/", {}, {"authorization": auth}, json.dumps(body).encode()
    )
    assert answer.status == 200, answer.body
    return str(json.loads(answer.body)["id"])


def ids_in(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split(",")[0] for line in lines]


@pytest.mark.parametrize("strategy", ["lead", "org", "search"])
def test_scheduled_runs_into_one_out_dir_keep_every_batch(
    served: tuple[Sandbox, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    sb, url = served
    out, state = tmp_path / "exports", str(tmp_path / "state.json")
    at(monkeypatch, T1)
    route = ("--strategy", strategy)
    assert run(url, "activities", "--out-dir", str(out), "--state", state, *route)[0] == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(first) == [
        f"Discovery_Call.{STAMP1}.csv", f"Support_Ticket.{STAMP1}.csv", f"manifest.{STAMP1}.json"
    ]  # fmt: skip
    new = add_ticket(sb, T1 + timedelta(minutes=5))
    at(monkeypatch, T2)
    code, err = run(url, "activities", "--out-dir", str(out), "--state", state, *route)
    assert code == 0, err
    assert f"by the {strategy} route" in err
    assert f"listed in manifest.{STAMP2}.json" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if STAMP1 in p.name} == first
    assert ids_in(out / f"Support_Ticket.{STAMP2}.csv") == [new]
    manifest = json.loads((out / f"manifest.{STAMP2}.json").read_text())
    assert [(t["file"], t["rows"]) for t in manifest["types"]] == [
        (f"Discovery_Call.{STAMP2}.csv", 0), (f"Support_Ticket.{STAMP2}.csv", 1)
    ]  # fmt: skip
    assert len(list(out.iterdir())) == 6


def test_a_state_run_never_overwrites_a_batch_even_with_force(
    served: tuple[Sandbox, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sb, url = served
    out, state = tmp_path / "exports", str(tmp_path / "state.json")
    at(monkeypatch, T1)
    assert run(url, "activities", "--out-dir", str(out), "--state", state)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = run(url, "activities", "--out-dir", str(out), "--state", state, "--force")
    assert code == 2
    assert f"Discovery_Call.{STAMP1}.csv already exists" in err and "same second" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_state_file_that_is_a_symlink_is_refused_before_any_request(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, url = served
    real = tmp_path / "real.json"
    real.write_text('{"version": 1}')
    link = tmp_path / "state.json"
    link.symlink_to(real)
    seen = requests_seen(sb)
    code, err = run(url, "activities", "--out-dir", str(tmp_path / "out"), "--state", str(link))
    assert code == 2
    assert f"the state file {link} is a symlink" in err
    assert "during the export" not in err and "Traceback" not in err
    assert requests_seen(sb) == seen
    assert not (tmp_path / "out").exists()
    assert real.read_text() == '{"version": 1}' and link.is_symlink()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"version": 1, "activities": []}', '"activities" must be an object of {type id: mark}'),
        ('{"version": 1, "activities": {', "not valid JSON"),
        ('{"version": 2, "activities": {}}', "is version 2; this closecsv reads version 1"),
        ('{"version": 1, "objects": {"t": []}}', '"objects.t" must be an object with'),
        ("[]", "expected a JSON object"),
    ],
)
def test_a_state_file_of_the_wrong_shape_stops_before_anything(
    served: tuple[Sandbox, str], tmp_path: Path, content: str, problem: str
) -> None:
    sb, url = served
    state = tmp_path / "state.json"
    state.write_text(content)
    seen = requests_seen(sb)
    code, err = run(url, "activities", "--out-dir", str(tmp_path / "out"), "--state", str(state))
    assert code == 2
    first, hint = err.strip().splitlines()[-2:]
    assert first.startswith("closecsv: error: ") and str(state) in first and problem in first
    assert "delete it" in hint and "Traceback" not in err
    assert requests_seen(sb) == seen
    assert not (tmp_path / "out").exists()
    assert state.read_text() == content


def test_a_state_file_under_a_file_stops_before_anything(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, url = served
    blocker = tmp_path / "states"
    blocker.write_text("not a folder")
    state = blocker / "state.json"
    seen = requests_seen(sb)
    code, err = run(url, "activities", "--out-dir", str(tmp_path / "out"), "--state", str(state))
    assert code == 2
    assert f"cannot keep the state file {state}: {blocker} is a file" in err
    assert "Traceback" not in err and requests_seen(sb) == seen
    assert not (tmp_path / "out").exists()


def test_a_state_file_without_version_is_read_as_version_1(
    served: tuple[Sandbox, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sb, url = served
    state = tmp_path / "state.json"
    state.write_text('{"activities": {}}')
    at(monkeypatch, T1)
    assert run(url, "activities", "--out-dir", str(tmp_path / "out"), "--state", str(state))[0] == 0
    assert json.loads(state.read_text())["version"] == 1


def test_an_out_dir_under_a_file_is_one_clear_error(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _sb, url = served
    blocker = tmp_path / "exports"
    blocker.write_text("not a folder")
    code, err = run(url, "activities", "--out-dir", str(blocker / "daily"))
    assert code == 2
    assert f"cannot create the out dir {blocker / 'daily'}: {blocker} is a file" in err
    assert "--out-dir" in err and "Traceback" not in err
    assert blocker.read_text() == "not a folder"


def test_an_out_dir_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    sb = Sandbox()
    blocker = tmp_path / "exports"
    blocker.write_text("not a folder")
    url = "http://sb.test/api/v1/"
    with (
        CloseClient(ApiKey(SANDBOX_API_KEY), url, transport=sb.transport()) as client,
        pytest.raises(InputError, match="is a file, not a folder") as info,
    ):
        run_export(client, Schema(client), ACTIVITIES, ExportOptions(out_dir=blocker))
    assert info.value.exit_code == 2
    assert blocker.read_text() == "not a folder"
