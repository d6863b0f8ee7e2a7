"""``closecsv sync``: after any mix of creates, edits (of old and new instances), deletes and
schema changes, the mirror equals a fresh full export, cell by cell, in both formats and for
both kinds; and an incremental run costs what its changes cost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from closecsv.close.client import CloseClient
from closecsv.close.kinds import ACTIVITIES, OBJECTS, Kind
from closecsv.sandbox import Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.sync_org import Org, assert_mirror_is_export, sync
from tests.helpers.transports import Counting


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()


@pytest.fixture
def counting(sb: Sandbox) -> Counting:
    return Counting(sb.transport())


@pytest.fixture
def client(counting: Counting) -> Iterator[CloseClient]:
    with sandbox_client(counting) as c:
        yield c


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("kind", [ACTIVITIES, OBJECTS], ids=["activities", "objects"])
@pytest.mark.parametrize("seed", [1, 2])
def test_mirror_equals_a_fresh_export_after_random_changes(
    sb: Sandbox, client: CloseClient, tmp_path: Path, fmt: str, kind: Kind, seed: int
) -> None:
    org = Org(sb, client, kind, seed)
    folder = tmp_path / "mirror"
    first = sync(client, kind, folder, format=fmt)
    assert first.mode == "first"
    assert_mirror_is_export(client, kind, folder, tmp_path / "x0", fmt)
    for round_ in range(1, 4):
        org.random_changes(12)
        report = sync(client, kind, folder, format=fmt)
        assert report.mode == "incremental"
        assert not any(t.full for t in report.types)
        assert_mirror_is_export(client, kind, folder, tmp_path / f"x{round_}", fmt)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_renamed_field_re_exports_its_type_and_only_it(
    sb: Sandbox, client: CloseClient, tmp_path: Path, fmt: str
) -> None:
    org = Org(sb, client, ACTIVITIES, 3)
    folder = tmp_path / "mirror"
    sync(client, ACTIVITIES, folder, format=fmt)
    org.random_changes(6)
    org.rename_field("Support Ticket")
    report = sync(client, ACTIVITIES, folder, format=fmt)
    full = {t.type_name for t in report.types if t.full}
    assert full == {"Support Ticket"}
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", fmt)


def test_an_edit_then_a_delete_of_one_instance_is_a_delete(
    sb: Sandbox, client: CloseClient, tmp_path: Path
) -> None:
    org = Org(sb, client, ACTIVITIES)
    folder = tmp_path / "mirror"
    sync(client, ACTIVITIES, folder)
    old = sorted(org.instances())[0]
    new = org.create()
    org.edit(old)
    org.edit(new)
    org.delete(old)
    report = sync(client, ACTIVITIES, folder)
    assert report.counts()["deleted"] == 1
    assert report.counts()["inserted"] == 1
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", "parquet")


def test_a_run_without_changes_reads_only_the_type_list_and_the_event_log(
    sb: Sandbox, client: CloseClient, counting: Counting, tmp_path: Path
) -> None:
    """Six requests however many types: the key's organization, the type list, the shared
    fields (the field lists are not read while the type list shows no change), one event page
    per action."""
    folder = tmp_path / "mirror"
    sync(client, ACTIVITIES, folder)
    before = len(counting.calls)
    report = sync(client, ACTIVITIES, folder)
    assert report.counts() == {"inserted": 0, "updated": 0, "deleted": 0, "rows": 5}
    assert sorted(counting.calls[before:]) == sorted(
        [("GET", "me/"), ("GET", "custom_activity/"), ("GET", "custom_field/shared/")]
        + [("GET", "event/")] * 3
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_changes_the_last_run_applied_are_not_changes_again(
    sb: Sandbox, client: CloseClient, tmp_path: Path, fmt: str
) -> None:
    """The walk starts minutes before the last run (Close's advice): those events come
    again, and their instances, unchanged since, are neither counted nor written as changes."""
    org = Org(sb, client, ACTIVITIES, 4)
    folder, changes = tmp_path / "mirror", tmp_path / "changes"
    sync(client, ACTIVITIES, folder, format=fmt)
    org.edit(sorted(org.instances())[0])
    org.create()
    assert sync(client, ACTIVITIES, folder, format=fmt).counts()["updated"] == 1
    again = sync(client, ACTIVITIES, folder, format=fmt, changes_dir=changes)
    assert again.events == 2
    assert again.counts() == {"inserted": 0, "updated": 0, "deleted": 0, "rows": 6}
    assert list(changes.iterdir()) == []


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("kind", [ACTIVITIES, OBJECTS], ids=["activities", "objects"])
def test_lead_deletes_merges_and_schema_changes_through_the_api_are_followed(
    sb: Sandbox, client: CloseClient, tmp_path: Path, fmt: str, kind: Kind
) -> None:
    org = Org(sb, client, kind, 11)
    folder = tmp_path / "mirror"
    first_type = "Discovery Call" if kind is ACTIVITIES else "Deal"
    sync(client, kind, folder, format=fmt)
    org.random_changes(8)
    org.merge_leads()
    org.delete_lead()
    report = sync(client, kind, folder, format=fmt)
    assert not any(t.full for t in report.types)
    assert report.counts()["deleted"] > 0
    assert_mirror_is_export(client, kind, folder, tmp_path / "x1", fmt)
    for n, change in enumerate((org.add_field, org.rename_field_by_api, org.remove_field)):
        change(first_type)
        org.random_changes(5)
        report = sync(client, kind, folder, format=fmt)
        assert {t.type_name for t in report.types if t.full} == {first_type}
        assert_mirror_is_export(client, kind, folder, tmp_path / f"x{n + 2}", fmt)


def test_a_renamed_shared_field_re_exports_every_type_that_has_it(
    sb: Sandbox, client: CloseClient, tmp_path: Path
) -> None:
    folder = tmp_path / "mirror"
    sync(client, ACTIVITIES, folder)
    region = next(f for f in sb.state.fields.values() if f["name"] == "Region")
    region["name"] = "Sales Region"
    report = sync(client, ACTIVITIES, folder)
    assert {t.type_name for t in report.types if t.full} == {"Discovery Call", "Support Ticket"}
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", "parquet")


def test_changes_to_types_outside_the_selection_are_ignored(
    sb: Sandbox, client: CloseClient, tmp_path: Path
) -> None:
    org = Org(sb, client, ACTIVITIES, 6)
    folder, only = tmp_path / "mirror", ("Support Ticket",)
    sync(client, ACTIVITIES, folder, type_refs=only)
    org.random_changes(15)
    report = sync(client, ACTIVITIES, folder, type_refs=only)
    assert [t.type_name for t in report.types] == ["Support Ticket"]
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".parquet") == [
        "Support_Ticket.parquet"
    ]
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", "parquet", types=only)
