"""Several update rows for one instance: applied in file order, each compared with the state
the row before left, in a real run, in a dry run (whole or in slices) and after a stop."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.errors import AuthError
from closecsv.importing.importer import run_import
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import PlannedRow
from closecsv.importing.updates import ToSend, run_chain
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.send import Env, Plan, existing_call, make_env, update_row


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, *args])
    return result.exit_code, result.stderr


def statuses(folder: Path) -> dict[str, str]:
    """``_status`` by ``_row`` in the one results file of a report dir."""
    [path] = folder.glob("*results.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["_row"]: r["_status"] for r in csv.DictReader(fh)}


def calls(sandbox: Sandbox) -> tuple[str, list[dict[str, Any]]]:
    """The Outcome field's key and two seeded Discovery Calls."""
    call = next(t for t in sandbox.state.activity_types.values() if t["name"] == "Discovery Call")
    outcome = next(
        f"custom.{i}" for i in call["field_ids"] if sandbox.state.fields[i]["name"] == "Outcome"
    )
    acts = [
        a
        for a in sandbox.state.custom_activities.values()
        if a["custom_activity_type_id"] == call["id"]
    ]
    return outcome, acts[:2]


def another(value: str) -> str:
    return "Follow up" if value != "Follow up" else "Not interested"


def write(path: Path, lines: list[tuple[str, str]]) -> Path:
    text = "activity_id,custom.Outcome\n" + "".join(f"{i},{v}\n" for i, v in lines)
    path.write_text(text, encoding="utf-8")
    return path


def test_set_then_set_back_ends_with_the_last_rows_value(
    served: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sandbox, url = served
    outcome, (x, y) = calls(sandbox)
    first, second = x[outcome], another(y[outcome])
    path = write(
        tmp_path / "edits.csv",
        [(x["id"], another(first)), (y["id"], second), (x["id"], first), (y["id"], second)],
    )
    code, err = run(url, "validate", "activities", str(path), "--report-dir", str(tmp_path / "v"))
    assert code == 0, err
    dry = statuses(tmp_path / "v")
    assert dry == {"2": "would_update", "3": "would_update", "4": "would_update", "5": "unchanged"}
    code, err = run(url, "import", "activities", str(path), "--report-dir", str(tmp_path / "i"))
    assert code == 0, err
    assert statuses(tmp_path / "i") == {
        "2": "updated",
        "3": "updated",
        "4": "updated",
        "5": "unchanged",
    }
    assert sandbox.state.custom_activities[x["id"]][outcome] == first
    assert sandbox.state.custom_activities[y["id"]][outcome] == second


def test_a_sliced_dry_run_compares_with_what_earlier_slices_would_send(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox()
    outcome, (x, _) = calls(sandbox)
    first, other = x[outcome], another(x[outcome])
    path = write(tmp_path / "big.csv", [(x["id"], other)] * 61 + [(x["id"], first)])
    transport = sandbox.transport()
    with CloseClient(ApiKey(SANDBOX_API_KEY), "http://sb.test/api/v1/", transport=transport) as c:
        opts = ImportOptions(dry_run=True, slice_bytes=400, report_dir=tmp_path / "v")
        report = run_import(c, Schema(c), ACTIVITIES, path, opts)
    assert report.counts() == {"would_update": 2, "unchanged": 60}
    found = statuses(tmp_path / "v")
    assert found["2"] == found["63"] == "would_update"
    assert sandbox.state.custom_activities[x["id"]][outcome] == first


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = make_env(tmp_path)
    yield e
    e.client.close()
    e.sandbox.close()


def test_a_rerun_after_a_stop_takes_the_rest_from_closes_current_state(env: Env) -> None:
    act = existing_call(env)
    outcome = env.key(ACTIVITIES, "Discovery Call", "Outcome")
    first = act[outcome]
    other = "Follow up" if first != "Follow up" else "Not interested"
    rows = [
        update_row(env, 2, act, {outcome: other}),
        update_row(env, 3, act, {outcome: first}),
        update_row(env, 4, act, {outcome: other}),
    ]
    plan = Plan(ACTIVITIES, env.tmp / "edits.csv", rows)
    env.schema.find(ACTIVITIES, "Discovery Call")
    env.transport.revoke_after = len(env.transport.methods) + 2  # the fetch and one PUT
    stopped = env.run(plan)
    assert isinstance(stopped.fatal, AuthError)
    assert [r.status for r in stopped.results] == ["updated", "skipped", "skipped"]
    assert env.sandbox.state.custom_activities[act["id"]][outcome] == other
    env.transport.revoke_after = None
    puts = env.transport.methods.count("PUT")
    resumed = env.run(plan)
    assert [r.status for r in resumed.results] == ["updated", "updated", "updated"]
    assert env.transport.methods.count("PUT") == puts + 2  # rows 3 and 4; row 2 was done
    assert env.sandbox.state.custom_activities[act["id"]][outcome] == other


def test_rows_after_one_whose_outcome_is_unknown_wait_for_the_rerun() -> None:
    rows = [PlannedRow(n, "update", None, "acti_x", None, {"v": n}) for n in (2, 3, 4)]
    sent: list[int] = []

    def send(row: PlannedRow, body: ToSend) -> Any:
        sent.append(row.row)
        return None, None  # the answer was lost

    results = run_chain(
        rows, {"id": "acti_x", "v": 0}, lambda r, i: ToSend(dict(r.payload)), send, lambda: False
    )
    assert sent == [2]
    assert [(r.row, r.status) for r in results] == [(3, "skipped"), (4, "skipped")]
    assert results[0].error == (
        "not sent: row 2 before it updates the same instance and its outcome is unknown; "
        "run the same command again to send them in order"
    )
