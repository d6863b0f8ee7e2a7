"""``closecsv.undo(...)``: the undo command from Python, its report and its errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import closecsv
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.test_python_api import calls_csv, org, references

__all__ = ["org"]  # the fixture, shared


def test_undo_returns_its_report_and_calls_the_progress_callback(
    org: tuple[Sandbox, str], tmp_path: Path
) -> None:
    sb, url = org
    source = calls_csv(tmp_path, [("UN-1", datetime.now(UTC)), ("UN-2", datetime.now(UTC))])
    key = {"api_url": url, "api_key": SANDBOX_API_KEY}
    assert closecsv.import_file(source, kind="activities", **key).counts() == {"created": 2}
    checked = closecsv.undo(source, kind="activities", dry_run=True, **key)
    assert checked.counts() == {"would_delete": 2}
    assert {"UN-1", "UN-2"} <= references(sb)
    events: list[closecsv.ProgressEvent] = []
    report = closecsv.undo(source, kind="activities", progress=events.append, **key)
    assert (report.counts(), report.exit_code) == ({"deleted": 2}, 0)
    assert report.paths.results == tmp_path / "calls.undo.results.csv"
    assert not {"UN-1", "UN-2"} & references(sb)
    assert sum(e.done for e in events if e.event == "advance") == 2
    with pytest.raises(closecsv.InputError, match=r"no import journal for other\.csv"):
        closecsv.undo(tmp_path / "other.csv", kind="activities", **key)
