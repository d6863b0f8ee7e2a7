"""--state remembers the last date_created per type, ties included, and survives only whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from closecsv.errors import InputError
from closecsv.exporting.state import ExportState, Mark

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    state = ExportState.load(tmp_path / "state.json")
    assert state.mark("activities", "actitype_1") is None


def test_mark_keeps_every_id_at_the_last_timestamp() -> None:
    mark = Mark(T0 - timedelta(days=1))
    for when, instance_id in [(T0, "a"), (T0 - timedelta(hours=1), "b"), (T0, "c")]:
        mark.observe(when, instance_id)
    assert (mark.last, mark.ids_at_last) == (T0, {"a", "c"})
    assert mark.already_exported(T0, "a")
    assert not mark.already_exported(T0, "d")
    assert mark.already_exported(T0 - timedelta(microseconds=1), "zzz")
    assert not mark.already_exported(T0 + timedelta(microseconds=1), "a")


def test_state_round_trips_and_merges_ties(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    state = ExportState.load(path)
    state.update("activities", {"actitype_1": ("Call", Mark(T0, {"a"}))})
    state.save()
    again = ExportState.load(path)
    again.update("activities", {"actitype_1": ("Call", Mark(T0, {"b"}))})
    again.update("objects", {"cotype_1": ("Deal", Mark(T0 + timedelta(1), {"o"}))})
    again.save()
    final = ExportState.load(path)
    assert final.mark("activities", "actitype_1") == Mark(T0, {"a", "b"})
    assert final.mark("objects", "cotype_1") == Mark(T0 + timedelta(1), {"o"})
    saved = json.loads(path.read_text())
    assert saved["activities"]["actitype_1"]["last_date_created"] == (
        "2024-05-01T10:00:00.000000+00:00"
    )
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_newer_mark_replaces_the_ties() -> None:
    state = ExportState(Path("unused"), {"version": 1})
    state.update("activities", {"t": ("Call", Mark(T0, {"a", "b"}))})
    state.update("activities", {"t": ("Call", Mark(T0 + timedelta(seconds=1), {"c"}))})
    assert state.mark("activities", "t") == Mark(T0 + timedelta(seconds=1), {"c"})


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"version": 9}', "version 1"),
        ('{"version": 1, "activities": {"t": {}}}', "last_date_created"),
        (
            '{"version": 1, "activities": {"t": {"last_date_created": "2024-01-01T00:00:00"}}}',
            "should have timezone info",
        ),
    ],
)
def test_a_broken_state_file_is_an_input_error(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(InputError, match=reason) as info:
        ExportState.load(path)
    assert info.value.exit_code == 2
    assert "delete it" in str(info.value)
