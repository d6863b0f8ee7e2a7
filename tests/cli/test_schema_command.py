"""`closecsv schema` and `closecsv template` against the sandbox's seeded org."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from closecsv.cli import main
from closecsv.close.kinds import ACTIVITIES
from closecsv.close.schema import Schema
from closecsv.errors import InputError
from closecsv.sandbox import SANDBOX_API_KEY


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--api-url", url, "--api-key", SANDBOX_API_KEY, *args])
    return result.exit_code, result.stdout, result.stderr


def test_schema_lists_every_seeded_type_field_and_choice(sandbox_url: str) -> None:
    code, out, err = run(sandbox_url, "schema")
    assert code == 0, err
    for name in ("Discovery Call", "Support Ticket", "Legacy Survey", "Deal", "Subscription"):
        assert name in out
    assert "custom.Outcome" in out
    assert "Interested | Not interested | Follow up" in out
    assert "custom.Region" in out  # the shared field, which the type listing omits
    assert "[archived]" in out


def test_schema_json_carries_types_required_multiple_and_choices(sandbox_url: str) -> None:
    code, out, _ = run(sandbox_url, "schema", "--json")
    assert code == 0
    doc = json.loads(out)
    call = next(t for t in doc["activities"] if t["name"] == "Discovery Call")
    fields = {f["name"]: f for f in call["fields"]}
    assert fields["Outcome"]["required"] is True
    assert fields["Outcome"]["choices"] == ["Interested", "Not interested", "Follow up"]
    assert fields["Attendees"]["type"] == "user" and fields["Attendees"]["multiple"] is True
    assert fields["Region"]["shared"] is True
    assert call["id"].startswith("actitype_")
    types = {f["type"] for f in call["fields"]}
    assert {"text", "textarea", "number", "date", "datetime", "choices", "user"} <= types
    assert {"contact", "custom_object", "hidden"} <= types
    deal = next(t for t in doc["objects"] if t["name"] == "Deal")
    assert deal["id"].startswith("cotype_")
    assert [f["name"] for f in deal["fields"]][:2] == ["Amount", "Stage"]


def test_template_writes_the_header_for_one_type(sandbox_url: str, tmp_path: Path) -> None:
    target = tmp_path / "calls.csv"
    code, _, err = run(sandbox_url, "template", "activities", "Discovery Call", "-o", str(target))
    assert code == 0, err
    rows = list(csv.reader(target.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 1
    header = rows[0]
    assert header[:2] == ["activity_id", "custom_activity_type"]
    assert "lead_email" in header and "custom.Outcome" in header and "custom.Region" in header


def test_template_for_objects_goes_to_stdout(sandbox_url: str) -> None:
    code, out, _ = run(sandbox_url, "template", "objects", "Deal")
    assert code == 0
    assert out.startswith("custom_object_id,custom_object_type,name,lead_id")
    assert "custom.Amount" in out


def test_unknown_type_exits_2_with_a_suggestion(sandbox_url: str) -> None:
    code, out, err = run(sandbox_url, "template", "activities", "discovery call")
    assert code == 2
    assert out == ""
    assert "did you mean 'Discovery Call'?" in err


def test_template_refuses_to_overwrite(sandbox_url: str, tmp_path: Path) -> None:
    target = tmp_path / "calls.csv"
    target.write_text("mine", encoding="utf-8")
    code, _, err = run(sandbox_url, "template", "activities", "Support Ticket", "-o", str(target))
    assert code == 2
    assert "exists" in err
    assert target.read_text(encoding="utf-8") == "mine"


class TwoNamedAlike:
    """A type listing with two types of one name (Close does not forbid it)."""

    def get(self, path: str, params: object = None) -> dict[str, object]:
        if path == "custom_activity/":
            return {
                "data": [{"id": "actitype_a", "name": "Call"}, {"id": "actitype_b", "name": "Call"}]
            }
        return {"fields": []}


def test_a_name_shared_by_two_types_is_refused_and_the_id_works() -> None:
    schema = Schema(TwoNamedAlike())
    with pytest.raises(
        InputError, match=r"2 custom activity types are named 'Call' \(actitype_a, actitype_b\)"
    ):
        schema.find(ACTIVITIES, "Call")
    assert schema.find(ACTIVITIES, "actitype_b").id == "actitype_b"
