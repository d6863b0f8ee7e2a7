"""``closecsv users`` and ``closecsv leads``: the values a file can refer to, without curl."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox


@pytest.fixture(scope="module")
def org() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox()
    sandbox.populate(leads=260, activities=0, activity_types=0)
    with sandbox.serve() as url:
        yield sandbox, url
    sandbox.close()


def run(url: str, *args: str) -> Result:
    env = {"CLOSE_API_KEY": SANDBOX_API_KEY}
    return CliRunner().invoke(main, ["--api-url", url, *args], env=env, catch_exceptions=False)


def test_users_lists_every_user_a_cell_can_name_active_or_not(org: tuple[Sandbox, str]) -> None:
    sandbox, url = org
    table = run(url, "users")
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "email", "status"]
    for user in sandbox.state.users.values():
        line = next(row for row in lines if row.startswith(user["id"]))
        assert f"{user['first_name']} {user['last_name']}" in line
        assert user["email"] in line
    assert any(row.rstrip().endswith("inactive") for row in lines[1:])

    listed = json.loads(run(url, "users", "--json").stdout)
    assert sorted(u["id"] for u in listed) == sorted(sandbox.state.users)
    assert {"Ada Lovelace", "Grace Hopper", "Alan Turing"} <= {u["name"] for u in listed}


def test_leads_query_finds_a_lead_with_its_contacts_emails_and_phones(
    org: tuple[Sandbox, str],
) -> None:
    sandbox, url = org
    result = run(url, "leads", "--query", "Acme Corp", "--json")
    assert result.exit_code == 0, result.stderr
    (lead,) = json.loads(result.stdout)
    acme = next(v for v in sandbox.state.leads.values() if v["name"] == "Acme Corp")
    assert lead["id"] == acme["id"] and lead["name"] == "Acme Corp"
    assert "alice.smith00@example.org" in lead["emails"]
    assert "+14155551000" in lead["phones"]

    table = run(url, "leads", "--query", "Acme Corp")
    assert table.stdout.splitlines()[0].split() == ["id", "name", "emails", "phones"]
    assert acme["id"] in table.stdout and "alice.smith00@example.org" in table.stdout


def test_leads_lists_the_newest_first_up_to_the_limit_across_pages(
    org: tuple[Sandbox, str],
) -> None:
    sandbox, url = org
    newest = sorted(sandbox.state.leads.values(), key=lambda v: v["date_created"], reverse=True)
    result = run(url, "leads", "--limit", "230", "--json")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert len(listed) == 230
    assert len({v["id"] for v in listed}) == 230
    assert [v["id"] for v in listed[:3]] == [v["id"] for v in newest[:3]]

    three = run(url, "leads", "--limit", "3")
    assert len(three.stdout.splitlines()) == 1 + 3


def test_no_lead_matches_says_so_on_stderr(org: tuple[Sandbox, str]) -> None:
    _, url = org
    result = run(url, "leads", "--query", "zzzqqq")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no leads match 'zzzqqq'" in result.stderr


def test_a_listed_lead_email_and_user_name_validate_in_a_file(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    _, url = org
    lead = json.loads(run(url, "leads", "--query", "Acme Corp", "--json").stdout)[0]
    user = json.loads(run(url, "users", "--json").stdout)[0]
    path = tmp_path / "calls.csv"
    path.write_text(
        "custom_activity_type,lead_email,user,date_created,custom.Outcome,custom.Reference Code\n"
        f"Discovery Call,{lead['emails'][0]},{user['name']},2024-03-04,Interested,R-1\n",
        encoding="utf-8",
    )
    result = run(url, "validate", "activities", str(path))
    assert result.exit_code == 0, result.stderr
    assert "would_create" in result.stderr


def test_a_blank_query_lists_the_newest_leads(org: tuple[Sandbox, str]) -> None:
    _, url = org
    blank = run(url, "leads", "--query", "  ", "--limit", "4", "--json")
    plain = run(url, "leads", "--limit", "4", "--json")
    assert blank.exit_code == 0, blank.stderr
    assert json.loads(blank.stdout) == json.loads(plain.stdout)
    assert len(json.loads(plain.stdout)) == 4
