"""An import (and an export) with several API keys of one organization, through the CLI,
against a sandbox on a real socket that limits each key and the organization."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from click.testing import CliRunner, Result

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.faults import count_refs, write_calls

KEY2, KEY3 = "key-two-000000000000000000", "key-three-0000000000000000"
OTHER = "key-other-org-000000000000"


def run(url: str, keys: list[str], *args: str) -> Result:
    env = {"CLOSE_API_KEY": ",".join(keys)}
    return CliRunner().invoke(main, ["--api-url", url, "-q", *args], env=env)


def results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_three_keys_share_one_job_every_row_once_attributed_to_the_first_keys_user(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(more_keys=[KEY2, KEY3], rate_limit=30)
    path = write_calls(tmp_path / "calls.csv", sandbox, 90)
    with sandbox.serve() as url:
        done = run(url, [SANDBOX_API_KEY, KEY2, KEY3], "import", "activities", str(path))
    assert done.exit_code == 0, done.stderr
    refs = count_refs(sandbox)
    assert len(refs) == 90 and set(refs.values()) == {1}
    rows = results(tmp_path / "calls.results.csv")
    assert Counter(r["_status"] for r in rows) == {"created": 90}
    assert set(Counter(r["_key"] for r in rows)) == {"1", "2", "3"}
    made = [sandbox.state.custom_activities[r["_id"]] for r in rows]
    assert {a["user_id"] for a in made} == {sandbox.dispatcher.owner}  # whichever key sent it
    counted = sandbox.traffic()
    assert all(counted["keys"][n]["requests"] >= 20 for n in "123"), counted
    assert counted["organization"]["rate_limited"] == 0
    sandbox.close()


def test_a_rerun_led_by_another_key_keeps_the_jobs_user(tmp_path: Path) -> None:
    """Rows without a user cell belong to the first key's user of the job's first run, also
    when a later run of the same job is given the keys in another order or a subset."""
    sandbox = Sandbox(more_keys=[KEY2, KEY3])
    path = write_calls(tmp_path / "calls.csv", sandbox, 12)
    with sandbox.serve() as url:
        trial = run(url, [SANDBOX_API_KEY, KEY2], "import", "activities", str(path), "--limit", "4")
        rest = run(url, [KEY2, KEY3], "import", "activities", str(path))
    assert trial.exit_code == 0, trial.stderr
    assert rest.exit_code == 0, rest.stderr
    made = [
        sandbox.state.custom_activities[r["_id"]] for r in results(tmp_path / "calls.results.csv")
    ]
    assert len(made) == 12
    assert {a["user_id"] for a in made} == {sandbox.dispatcher.owner}  # key 1's user, not key 2's
    sandbox.close()


def test_one_key_writes_no_key_column(tmp_path: Path) -> None:
    sandbox = Sandbox()
    path = write_calls(tmp_path / "calls.csv", sandbox, 5)
    with sandbox.serve() as url:
        done = run(url, [SANDBOX_API_KEY], "import", "activities", str(path))
    assert done.exit_code == 0, done.stderr
    assert "_key" not in results(tmp_path / "calls.results.csv")[0]
    sandbox.close()


def test_the_organizations_limit_holds_when_it_is_tighter_than_the_keys(tmp_path: Path) -> None:
    """Three keys of 10/s could send 30/s; the organization allows 20/s.  The sandbox answers
    with the organization's RateLimit values when its bucket is the tighter, and the client
    keeps the whole organization within them: few 429s, and never more through in one second
    than the organization's bucket lets (its size plus one second of refill)."""
    sandbox = Sandbox(more_keys=[KEY2, KEY3], rate_limit=10, org_rate_limit=20)
    path = write_calls(tmp_path / "calls.csv", sandbox, 100)
    with sandbox.serve() as url:
        args = ("import", "activities", str(path), "--concurrency", "4")
        done = run(url, [SANDBOX_API_KEY, KEY2, KEY3], *args)
    assert done.exit_code == 0, done.stderr
    assert len(count_refs(sandbox)) == 100 and set(count_refs(sandbox).values()) == {1}
    org = sandbox.traffic()["organization"]
    assert org["rate_limit"] == 20
    assert org["max_per_second"] <= 2 * 20, org
    assert org["rate_limited"] <= 0.05 * org["requests"], org
    sandbox.close()


def test_a_key_of_another_organization_is_refused_before_any_write(tmp_path: Path) -> None:
    sandbox = Sandbox(more_keys=[KEY2], other_org_keys=[OTHER])
    path = write_calls(tmp_path / "calls.csv", sandbox, 5)
    before = len(sandbox.state.custom_activities)
    with sandbox.serve() as url:
        done = run(url, [SANDBOX_API_KEY, KEY2, OTHER], "import", "activities", str(path))
    assert done.exit_code == 2
    assert "API key 3 of 3 belongs to another organization" in done.stderr
    assert OTHER not in done.stderr + done.stdout and KEY2 not in done.stderr
    assert len(sandbox.state.custom_activities) == before
    assert not (tmp_path / "calls.results.csv").exists()
    sandbox.close()


def test_a_refused_key_among_several_is_named_by_position(tmp_path: Path) -> None:
    sandbox = Sandbox(more_keys=[KEY2])
    path = write_calls(tmp_path / "calls.csv", sandbox, 5)
    with sandbox.serve() as url:
        done = run(url, [SANDBOX_API_KEY, KEY2, KEY3], "import", "activities", str(path))
    assert done.exit_code == 3
    assert "API key 3 of 3: authentication refused (HTTP 401)" in done.stderr
    assert KEY3 not in done.stderr
    sandbox.close()


def test_an_export_spreads_its_reads_over_the_keys(tmp_path: Path) -> None:
    sandbox = Sandbox(more_keys=[KEY2, KEY3], rate_limit=50)
    sandbox.populate(leads=40, activities=600, activity_types=1)
    with sandbox.serve() as url:
        out = tmp_path / "out"
        args = ("export", "activities", "--out-dir", str(out))
        done = run(url, [SANDBOX_API_KEY, KEY2, KEY3], *args)
    assert done.exit_code == 0, done.stderr
    counted = sandbox.traffic()["keys"]
    assert all(counted[n]["requests"] >= 2 for n in "123"), counted
    sandbox.close()
