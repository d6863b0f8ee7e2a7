"""``closecsv sync`` never leaves a half mirror: a run stopped at any stage leaves the previous
files and state (or a consistent new mirror), and the next run catches up; a state that
cannot be continued makes a full export that finds deletions by comparison; a second sync of
the same folder is refused."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from closecsv.close.client import CloseClient
from closecsv.close.kinds import ACTIVITIES
from closecsv.errors import InputError
from closecsv.exporting.sync_state import LOCK_FILE, STATE_FILE
from closecsv.sandbox import Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.sync_org import Org, assert_mirror_is_export, sync

STAGES = ["events", "fetch", "changes", "replace", "manifest"]


class Killed(BaseException):
    """Stands for SIGKILL: nothing after the hook runs (no cleanup catches a BaseException
    that the sync does not expect)."""


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()


@pytest.fixture
def client(sb: Sandbox) -> Iterator[CloseClient]:
    with sandbox_client(sb.transport()) as c:
        yield c


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def kill_at(stage: str, nth: int = 1) -> Callable[[str], None]:
    seen = {"n": 0}

    def hook(reached: str) -> None:
        if reached == stage:
            seen["n"] += 1
            if seen["n"] == nth:
                raise Killed(stage)

    return hook


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize(
    ("stage", "nth"), [(s, 1) for s in STAGES] + [("replace", 2)], ids=[*STAGES, "replace-2"]
)
def test_a_run_killed_at_any_stage_leaves_a_mirror_the_next_run_completes(
    sb: Sandbox, client: CloseClient, tmp_path: Path, fmt: str, stage: str, nth: int
) -> None:
    org = Org(sb, client, ACTIVITIES, 5)
    folder = tmp_path / "mirror"
    sync(client, ACTIVITIES, folder, format=fmt)
    before = snapshot(folder)
    org.random_changes(10)
    org.delete(sorted(org.instances())[0])  # both types change
    org.create()
    with pytest.raises(Killed):
        sync(client, ACTIVITIES, folder, hook=kill_at(stage, nth), format=fmt)
    after = snapshot(folder)
    assert after[STATE_FILE] == before[STATE_FILE]  # the state is written last
    if stage in ("events", "fetch", "changes"):
        assert {n: after[n] for n in before} == before  # nothing replaced yet
    report = sync(client, ACTIVITIES, folder, format=fmt)
    assert report.mode == "incremental"
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", fmt)
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
    assert not (folder / ".sync-staging").exists()


@pytest.mark.parametrize("stage", ["replace", "manifest"])
def test_a_first_run_killed_before_its_state_is_a_full_export_again(
    sb: Sandbox, client: CloseClient, tmp_path: Path, stage: str
) -> None:
    folder = tmp_path / "mirror"
    with pytest.raises(Killed):
        sync(client, ACTIVITIES, folder, hook=kill_at(stage))
    assert not (folder / STATE_FILE).exists()
    again = sync(client, ACTIVITIES, folder)
    assert (again.mode, again.reason) == (
        "fallback",
        f"{folder.resolve() / STATE_FILE} is missing (a sync wrote into this folder before)",
    )
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", "parquet")


def _doctor(folder: Path, **changes: object) -> None:
    path = folder / STATE_FILE
    state = json.loads(path.read_text())
    state.update(changes)
    path.write_text(json.dumps(state))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("old", "days old"),
        ("garbage", "cannot be used"),
        ("other-org", "another Close organization"),
        ("other-options", "options differ"),
    ],
)
def test_a_state_that_cannot_be_continued_makes_a_full_export_that_finds_deletions(
    sb: Sandbox, client: CloseClient, tmp_path: Path, damage: str, reason: str
) -> None:
    org = Org(sb, client, ACTIVITIES, 7)
    folder, changes = tmp_path / "mirror", tmp_path / "changes"
    sync(client, ACTIVITIES, folder, format="csv")
    gone = sorted(org.instances())[1]
    org.delete(gone)
    edited = sorted(org.instances())[0]
    org.edit(edited)
    options = {"format": "csv", "changes_dir": changes}
    if damage == "old":
        _doctor(folder, started_at=(datetime.now(UTC) - timedelta(days=30)).isoformat())
    elif damage == "garbage":
        (folder / STATE_FILE).write_text("{not json")
    elif damage == "other-org":
        _doctor(folder, organization_id="orga_other")
    else:
        options["separator"] = "|"
    report = sync(client, ACTIVITIES, folder, **options)
    assert report.mode == "fallback"
    assert reason in (report.reason or "")
    assert report.fallback_line() is not None
    separator = str(options.get("separator", ";"))
    assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", "csv", separator)
    rows = pl.concat(
        [pl.read_csv(p, infer_schema=False) for p in sorted(changes.iterdir())], how="diagonal"
    )
    ops = dict(zip(rows["activity_id"], rows["_op"], strict=True))
    assert ops[gone] == "delete"
    if damage != "other-options":  # another separator rewrites every multi-value row
        assert ops == {gone: "delete", edited: "update"}


def test_a_second_sync_of_the_same_folder_is_refused_while_the_first_runs(
    client: CloseClient, tmp_path: Path
) -> None:
    folder = tmp_path / "mirror"
    folder.mkdir()
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(InputError, match="another closecsv sync is running"):
            sync(client, ACTIVITIES, folder)
    finally:
        os.close(fd)  # what the kernel does when the first sync ends, killed or not
    assert sync(client, ACTIVITIES, folder).counts()["rows"] == 5  # the lock is free again
