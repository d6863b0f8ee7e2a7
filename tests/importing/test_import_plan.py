"""build_plan against the sandbox: create and update rows of both kinds, row-level errors."""

# ruff: noqa: E501  (the tables hold whole expected messages)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from closecsv.close.client import CloseClient
from closecsv.close.config import ApiKey
from closecsv.close.kinds import ACTIVITIES, OBJECTS
from closecsv.close.schema import Schema
from closecsv.errors import ConfigError, InputError
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import Plan, PlannedRow, build_plan
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[CloseClient]:
    url = "http://sandbox.local/api/v1/"
    with CloseClient(ApiKey(SANDBOX_API_KEY), url, transport=sandbox.transport()) as c:
        yield c


@pytest.fixture
def org(sandbox: Sandbox) -> dict[str, Any]:
    """Names and ids from the seed org the tests refer to."""
    state = sandbox.state
    contact = next(iter(state.contacts.values()))
    deal = next(o for o in state.custom_objects.values() if o["lead_id"] == contact["lead_id"])
    call = next(t for t in state.activity_types.values() if t["name"] == "Discovery Call")
    users = {u["email"]: u["id"] for u in state.users.values()}
    types = [*state.activity_types.values(), *state.object_types.values()]
    fields = {state.fields[i]["name"]: i for t in reversed(types) for i in t["field_ids"]}
    activity = next(
        a for a in state.custom_activities.values() if a["lead_id"] == contact["lead_id"]
    )
    return {"contact": contact, "email": contact["emails"][0]["email"], "lead": contact["lead_id"],
            "deal": deal, "call": call["id"], "users": users, "f": fields, "activity": activity}  # fmt: skip


def plan_of(
    client: CloseClient, tmp_path: Path, text: str, kind: Any = ACTIVITIES, **options: Any
) -> Plan:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return build_plan(client, Schema(client), kind, path, ImportOptions(**options))


def one(plan: Plan) -> PlannedRow:
    [row] = plan.every_row()
    return row


HEAD = "custom_activity_type,lead_email,custom.Outcome,custom.Reference Code"


def test_a_create_row_of_every_column(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    f = org["f"]
    text = (
        "custom_activity_type,lead_email,user,contact,date_created,status,pinned,custom.Outcome,"
        "custom.Duration (min),custom.Next Step Date,custom.Follow-up At,custom.Attendees,"
        "custom.Products,custom.Primary Contact,custom.Related Deal,custom.Reference Code,_note\n"
        f"Discovery Call,{org['email'].upper()},grace@example.com,{org['email']},2024-05-01T09:30,"
        f"Draft,YES,Interested,45,2024-05-02,2024-05-03T10:00:00-07:00,Ada Lovelace;alan@example.com,"
        f"Core;API,{org['contact']['id']},{org['deal']['name']},'=REF-1,keep me\n"
    )
    plan = plan_of(client, tmp_path, text, timezone="Europe/Paris")
    row, cells = one(plan), plan.cells_of(2)
    assert row.error is None and row.action == "create"
    u = org["users"]
    assert row.payload == {
        "custom_activity_type_id": org["call"], "lead_id": org["lead"],
        "user_id": u["grace@example.com"], "contact_id": org["contact"]["id"],
        "date_created": "2024-05-01T09:30:00+02:00", "activity_at": "2024-05-01T09:30:00+02:00",
        "status": "draft", "pinned": True,
        f"custom.{f['Outcome']}": "Interested", f"custom.{f['Duration (min)']}": 45,
        f"custom.{f['Next Step Date']}": "2024-05-02",
        f"custom.{f['Follow-up At']}": "2024-05-03T10:00:00-07:00",
        f"custom.{f['Attendees']}": [u["ada@example.com"], u["alan@example.com"]],
        f"custom.{f['Products']}": ["Core", "API"],
        f"custom.{f['Primary Contact']}": org["contact"]["id"],
        f"custom.{f['Related Deal']}": org["deal"]["id"],
        f"custom.{f['Reference Code']}": "=REF-1",
    }  # fmt: skip
    assert cells["custom.Reference Code"] == "'=REF-1" and cells["_note"] == "keep me"
    assert (row.row, row.type_id, row.lead_id, row.instance_id) == (
        2,
        org["call"],
        org["lead"],
        None,
    )


def test_defaults_user_from_me_status_published_and_activity_at_override(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD},date_created,activity_at\nDiscovery Call,{org['email']},Interested,R,2024-01-01,2024-02-02\n"
    payload = one(plan_of(client, tmp_path, text)).payload
    assert (
        payload["user_id"] == org["users"]["ada@example.com"] and payload["status"] == "published"
    )
    assert payload["date_created"].startswith("2024-01-01") and payload["activity_at"].startswith(
        "2024-02-02"
    )
    drafted = one(plan_of(client, tmp_path, text, status="draft")).payload
    assert drafted["status"] == "draft"


def test_update_rows_send_only_given_cells_and_clear_empty(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    act = org["activity"]
    text = (
        f"activity_id,custom.Outcome,custom.Notes,custom.Reference Code\n{act['id']},Follow up,,\n"
    )
    row = one(plan_of(client, tmp_path, text))
    assert (row.action, row.instance_id, row.type_id, row.error) == (
        "update",
        act["id"],
        None,
        None,
    )
    assert (
        row.payload == {f"custom.{org['f']['Outcome']}": "Follow up"} and row.clear == frozenset()
    )
    cleared = one(plan_of(client, tmp_path, text, clear_empty=True))
    f = org["f"]
    assert cleared.clear == {f"custom.{f['Notes']}", f"custom.{f['Reference Code']}"}


def test_update_rows_carry_a_given_type_for_the_executor(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"activity_id,custom_activity_type,custom.Outcome\n{org['activity']['id']},Discovery Call,\n"
    row = one(plan_of(client, tmp_path, text))
    assert (row.action, row.type_id, row.payload) == ("update", org["call"], {})


@pytest.mark.parametrize(
    ("line", "options", "error"),
    [
        ("Discovery Call,nobody@example.com,Interested,R", {}, "row 2: no lead has email 'nobody@example.com'"),
        ("Discovery Call,,Interested,R", {}, "row 2: a create row needs a lead: fill lead_id, lead_email"),
        (",{email},Interested,R", {}, "row 2: a create row needs a type: fill 'custom_activity_type' or pass --type"),
        ("Discovery Cal,{email},Interested,R", {}, "row 2: column 'custom_activity_type': unknown type 'Discovery Cal' (did you mean 'Discovery Call'?)"),
        ("Support Ticket,{email},Interested,R", {"type_ref": "Discovery Call"}, "is not the --type 'Discovery Call'"),
        ("Discovery Call,{email},interested,R", {}, "row 2: column 'custom.Outcome': 'interested' is not one of the choices of 'Outcome' (Interested, Not interested, Follow up): did you mean 'Interested'?"),
        ("Discovery Call,{email},,R", {}, "row 2: required field 'custom.Outcome' is empty: fill it, or import the row as a draft (status)"),
    ],
)  # fmt: skip
def test_row_errors_name_row_column_value_and_reason(
    client: CloseClient,
    tmp_path: Path,
    org: dict[str, Any],
    line: str,
    options: dict[str, Any],
    error: str,
) -> None:
    text = f"{HEAD}\n{line.format(email=org['email'])}\n"
    row = one(plan_of(client, tmp_path, text, **options))
    assert row.action == "failed" and row.payload == {}
    assert row.error is not None and error in row.error, row.error


def test_an_invalid_value_in_a_required_field_is_not_also_called_empty(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD}\nDiscovery Call,{org['email']},Maybe,R\n"
    row = one(plan_of(client, tmp_path, text))
    assert row.error == (
        "row 2: column 'custom.Outcome': 'Maybe' is not one of the choices of 'Outcome' "
        "(Interested, Not interested, Follow up)"
    )


def test_a_bad_row_does_not_stop_the_others(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD}\nDiscovery Call,{org['email']},Nope,R\n\nDiscovery Call,{org['email']},Interested,R\n"
    plan = plan_of(client, tmp_path, text)
    assert [(r.row, r.action) for r in plan.every_row()] == [(2, "failed"), (4, "create")]
    assert plan.blank_lines == 1


def test_a_custom_cell_given_to_a_type_without_that_field_fails_its_row(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD},custom.Ticket ID\nDiscovery Call,{org['email']},Interested,R,\nSupport Ticket,{org['email']},Interested,,T-1\n"
    call, ticket = plan_of(client, tmp_path, text).every_row()
    assert call.action == "create"
    assert (
        ticket.error
        == "row 3: column 'custom.Outcome' is not a field of the type 'Support Ticket'; leave it empty"
    )


def test_draft_rows_may_leave_required_fields_empty(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD},status\nDiscovery Call,{org['email']},,,draft\n"
    assert one(plan_of(client, tmp_path, text)).action == "create"


def test_objects_create_needs_a_name_and_update_by_id(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    deal = org["deal"]
    text = (
        "custom_object_type,custom_object_id,name,lead_id,custom.Amount,custom.Stage,custom.Owner\n"
        f"Deal,,Big one,{org['lead']},1200.50,Won,grace@example.com\n"
        f"Deal,,,{org['lead']},5,,\n"
        f",{deal['id']},Renamed,,,,\n"
    )
    create, nameless, update = plan_of(client, tmp_path, text, OBJECTS).every_row()
    f = org["f"]
    assert create.payload == {
        "custom_object_type_id": deal["custom_object_type_id"], "lead_id": org["lead"], "name": "Big one",
        f"custom.{f['Amount']}": 1200.5, f"custom.{f['Stage']}": "Won",
        f"custom.{f['Owner']}": org["users"]["grace@example.com"],
    }  # fmt: skip
    assert nameless.error == "row 3: a create row needs a name: fill the 'name' column"
    assert (update.action, update.payload) == ("update", {"name": "Renamed"})


def test_read_errors_fail_their_row(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD}\nDiscovery Call,{org['email']},Interested\n"
    assert (
        one(plan_of(client, tmp_path, text)).error
        == "row 2: expected 4 fields (as in the header), got 3: add the missing cells (empty "
        "ones too) or remove the line break that split the row"
    )


def test_raw_keeps_apostrophes_and_limit_keeps_first_rows(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD}\n" + "".join(
        f"Discovery Call,{org['email']},Interested,'-{i}\n" for i in range(5)
    )
    plan = plan_of(client, tmp_path, text, raw=True, limit=2)
    key = f"custom.{org['f']['Reference Code']}"
    assert [r.payload[key] for r in plan.every_row()] == ["'-0", "'-1"]


def test_map_file_renames_and_carries_underscore_columns(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    mapping = tmp_path / "map.json"
    mapping.write_text('{"Type": "custom_activity_type", "Email": "lead_email", "Owner": "_owner"}')
    text = "Type,Email,Owner,custom.Outcome,custom.Reference Code,Missing\n"
    text = text.replace(",Missing", "") + f"Discovery Call,{org['email']},someone,Interested,R\n"
    plan = plan_of(client, tmp_path, text, map_file=mapping)
    assert plan.columns == ["Type", "Email", "Owner", "custom.Outcome", "custom.Reference Code"]
    row = one(plan)
    assert row.action == "create" and plan.cells_of(row.row)["Owner"] == "someone"


def test_fingerprint_covers_file_bytes_and_payload_options(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    text = f"{HEAD}\nDiscovery Call,{org['email']},Interested,R\n"
    base = plan_of(client, tmp_path, text).fingerprint
    assert plan_of(client, tmp_path, text, concurrency=9, dry_run=True).fingerprint == base
    assert plan_of(client, tmp_path, text, timezone="Europe/Paris").fingerprint != base
    assert plan_of(client, tmp_path, text + "\n").fingerprint != base


def test_header_problems_fail_before_any_lookup(client: CloseClient, tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"unknown column 'Lead_Email': did you mean 'lead_email'\?"
    ):
        plan_of(client, tmp_path, "custom_activity_type,Lead_Email\nDiscovery Call,x\n")
    with pytest.raises(InputError, match="unknown custom activity type 'Nope'"):
        plan_of(client, tmp_path, "lead_id\nx\n", type_ref="Nope")


@pytest.mark.parametrize(
    ("options", "match"),
    [({"timezone": "Mars/Olympus"}, "unknown time zone"), ({"multi_separator": ""}, "must not be empty"),
     ({"limit": -1}, "--limit")],
)  # fmt: skip
def test_bad_options_are_config_errors(
    client: CloseClient, tmp_path: Path, options: dict[str, Any], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        plan_of(client, tmp_path, "lead_id\n", **options)


def test_2000_rows_over_300_emails_need_few_lookups(
    sandbox: Sandbox, client: CloseClient, tmp_path: Path
) -> None:
    emails = sorted({e["email"] for c in sandbox.state.contacts.values() for e in c["emails"]})
    emails += [f"new{i}@example.com" for i in range(300 - len(emails))]
    lines = "".join(f"Discovery Call,{emails[i % 300]},Interested,R{i}\n" for i in range(2000))
    plan = plan_of(client, tmp_path, f"{HEAD}\n{lines}")
    assert len(plan.every_row()) == 2000
    assert plan.lookups <= 10, plan.lookups  # types, fields, me, organization, 2 searches
    assert sum(r.action == "create" for r in plan.every_row()) > 500


def test_update_rows_find_contacts_on_their_given_lead(
    client: CloseClient, tmp_path: Path, org: dict[str, Any]
) -> None:
    act, contact = org["activity"], org["contact"]
    text = f"activity_id,lead_id,contact\n{act['id']},{act['lead_id']},{contact['emails'][0]['email']}\n"
    row = one(plan_of(client, tmp_path, text))
    assert (row.error, row.payload) == (None, {"contact_id": contact["id"]})
