"""``--key`` on the command line: a bad key is exit 2 before anything is sent, naming the
column and the type's fields; a key given after ``--map`` (or by the file's own column name)
makes a second import of a file from another CRM change nothing."""

from __future__ import annotations

import pytest

from tests.helpers.csvfiles import read_rows
from tests.helpers.import_cli import Cli


@pytest.mark.parametrize(
    ("key", "said"),
    [
        (
            "custom.Reference Cod",
            "--key 'custom.Reference Cod': the file has no column 'custom.Reference Cod' "
            "(did you mean 'custom.Reference Code'?); the fields of the type(s) Discovery Call: "
            "custom.Outcome, custom.Duration (min),",
        ),
        (
            "custom.Internal Score",
            "--key 'custom.Internal Score': the file has no column 'custom.Internal Score'; "
            "add the column to the file, or name another one",
        ),
        ("lead_email", "--key 'lead_email': the column 'lead_email' is not a custom field"),
        ("custom.Attendees", "the field 'Attendees' takes several values; a key holds one"),
    ],
)
@pytest.mark.parametrize("command", ["import", "validate"])
def test_a_bad_key_is_refused_before_anything_is_sent(
    cli: Cli, command: str, key: str, said: str
) -> None:
    path = cli.sample("discovery_calls.csv")
    before = cli.instances()
    result = cli(command, "activities", str(path), "--key", key)
    assert result.exit_code == 2, result.stderr
    assert said in result.stderr
    assert "usually a text or hidden field" in result.stderr
    assert cli.instances() == before and result.stdout == ""
    assert not list(cli.tmp.glob("*results.csv"))


@pytest.mark.parametrize("key", ["custom.Reference Code", "Call Reference"])
def test_a_key_after_map_finds_what_the_first_import_made(cli: Cli, key: str) -> None:
    path, mapping = cli.sample("othercrm_calls.csv"), cli.sample("othercrm_calls.map.csv")
    first = cli("import", "activities", str(path), "--map", str(mapping), "--key", key)
    assert first.exit_code == 0, first.stderr
    before = cli.instances()
    again = cli("validate", "activities", str(path), "--map", str(mapping), "--key", key)
    assert again.exit_code == 0, again.stderr
    statuses = {r["_status"] for r in read_rows(cli.tmp / "othercrm_calls.validate.results.csv")}
    assert statuses == {"unchanged"} and cli.instances() == before
