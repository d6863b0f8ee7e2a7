"""Results/errors CSVs, the summary and the JSON receipt, and the progress display."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from closecsv.cli.progress_display import BarProgress, LogProgress, make_progress
from closecsv.errors import AuthError
from closecsv.importing.report import (
    OUTCOME_SCHEMA,
    ImportReport,
    Outcomes,
    ReportPaths,
    RowResult,
    receipt,
    summary_text,
    write_reports,
)
from closecsv.progress import NullProgress


def write(
    columns: list[str],
    cells: dict[int, dict[str, str]],
    results: list[RowResult],
    paths: ReportPaths,
) -> None:
    """``write_reports`` from the records and results as Python objects."""
    lines = [(n, *(record.get(c) for c in columns)) for n, record in cells.items()]
    frame = pl.DataFrame(lines, schema=["row", *columns], orient="row")
    write_reports(columns, frame, Outcomes.of(pl.DataFrame(schema=OUTCOME_SCHEMA), results), paths)


def read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_paths_follow_the_input_stem(tmp_path: Path) -> None:
    paths = ReportPaths.for_input(tmp_path / "in" / "calls.csv", None)
    assert paths.results == tmp_path / "in" / "calls.results.csv"
    assert paths.errors == tmp_path / "in" / "calls.errors.csv"
    assert paths.journal == tmp_path / "in" / "calls.journal.sqlite"
    elsewhere = ReportPaths.for_input(tmp_path / "x.csv", tmp_path / "r")
    assert elsewhere.results.parent == tmp_path / "r"


def test_results_keep_every_row_and_column_and_errors_only_failures(tmp_path: Path) -> None:
    paths = ReportPaths.for_input(tmp_path / "calls.csv", None)
    cells = {2: {"a": "1", "b": "x\ny"}, 3: {"a": "2", "b": ""}}
    results = [
        RowResult(3, "failed", None, "lead_2", "custom.Outcome: 'Maybe' is not a choice"),
        RowResult(2, "created", "acti_1", "lead_1"),
    ]
    write(["a", "b"], cells, results, paths)
    assert read(paths.results) == [
        ["a", "b", "_row", "_status", "_id", "_lead_id", "_error", "_changes"],
        ["1", "x\ny", "2", "created", "acti_1", "lead_1", "", ""],
        ["2", "", "3", "failed", "", "lead_2", "custom.Outcome: 'Maybe' is not a choice", ""],
    ]
    assert read(paths.errors) == [
        ["a", "b", "_row", "_error"],
        ["2", "", "3", "custom.Outcome: 'Maybe' is not a choice"],
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.errors.csv", "calls.results.csv"]


def test_report_columns_of_a_reimported_errors_file_are_replaced_not_repeated(
    tmp_path: Path,
) -> None:
    """The input's ``_row`` is the row it had in the file it came from: ``_source_row``."""
    paths = ReportPaths.for_input(tmp_path / "calls.errors.csv", None)
    cells = {2: {"a": "1", "_row": "7", "_error": "old", "_note": "kept"}}
    failed = [RowResult(2, "failed", error="new")]
    write(["a", "_row", "_error", "_note"], cells, failed, paths)
    head = ["a", "_source_row", "_note", "_row", "_status", "_id", "_lead_id", "_error"]
    head.append("_changes")
    assert read(paths.results)[0] == head
    assert read(paths.errors) == [
        ["a", "_source_row", "_note", "_row", "_error"],
        ["1", "7", "kept", "2", "new"],
    ]


def make_report(tmp_path: Path, **kw: object) -> ImportReport:
    defaults: dict[str, object] = dict(
        kind="activities",
        source=tmp_path / "calls.csv",
        input_sha256="ab" * 32,
        dry_run=False,
        results=[
            RowResult(2, "created", "acti_1"),
            RowResult(3, "created", "acti_2"),
            RowResult(4, "failed", error="bad"),
        ],
        paths=ReportPaths.for_input(tmp_path / "calls.csv", None),
        started_at=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
        elapsed=2.0,
        requests=12,
        rate_limited=1,
        lookups=2,
    )
    defaults.update(kw)
    return ImportReport(**defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, 1),
        ({"results": [RowResult(2, "created")]}, 0),
        ({"results": [RowResult(2, "would_create")], "dry_run": True}, 0),
        ({"interrupted": True}, 130),
        ({"fatal": AuthError("API key rejected")}, 3),
    ],
)
def test_exit_codes(tmp_path: Path, changes: dict[str, object], code: int) -> None:
    assert make_report(tmp_path, **changes).exit_code == code


def test_summary_names_counts_requests_and_files(tmp_path: Path) -> None:
    text = summary_text(make_report(tmp_path))
    assert text.splitlines()[0] == "import activities: calls.csv, 3 rows in 2.0s"
    assert "  created         2" in text and "  failed          1" in text
    assert "requests  12 (1 answered 429), of which lookups 2" in text
    assert "calls.errors.csv  (fix and import it again)" in text
    assert "calls.journal.sqlite" in text


def test_summary_of_a_stopped_run_says_how_to_resume(tmp_path: Path) -> None:
    text = summary_text(make_report(tmp_path, fatal=AuthError("API key rejected")))
    assert "stopped: API key rejected; run the same command again to resume" in text


def test_receipt_is_json_with_hash_counts_and_files(tmp_path: Path) -> None:
    data = json.loads(json.dumps(receipt(make_report(tmp_path))))
    assert data["input"] == {"path": str(tmp_path / "calls.csv"), "sha256": "ab" * 32, "rows": 3}
    assert data["counts"] == {"created": 2, "failed": 1}
    assert (data["requests"], data["rate_limited"], data["exit_code"]) == (12, 1, 1)
    assert data["rows_per_second"] == 1.5
    assert data["files"]["journal"].endswith("calls.journal.sqlite")
    assert data["started_at"] == "2025-05-01T12:00:00+00:00"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_picks_the_display_for_the_stream() -> None:
    assert isinstance(make_progress(io.StringIO(), quiet=True), NullProgress)
    assert isinstance(make_progress(FakeTty()), BarProgress)
    assert isinstance(make_progress(io.StringIO()), LogProgress)


def test_log_progress_prints_a_line_per_interval() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = LogProgress(out, interval=10.0, clock=lambda: now[0])
    progress.start(100, 40)
    for step in range(30):
        now[0] = step * 1.0
        progress.advance("created")
    lines = out.getvalue().splitlines()
    assert lines[0] == "import: resuming, 40 of 100 rows already finished"
    assert lines[1:] == [
        "import: 51/100 rows (51%), 1.1 rows/s; created 11",
        "import: 61/100 rows (61%), 1.1 rows/s; created 21",
    ]


def test_bar_progress_writes_to_its_stream_only(capsys: pytest.CaptureFixture[str]) -> None:
    out = FakeTty()
    bar = BarProgress(out)
    bar.start(3, 1)
    bar.advance("created")
    bar.note("reconciling 1 row")
    bar.close()
    assert "reconciling 1 row" in out.getvalue() and "3/3" not in out.getvalue()
    assert "2/3" in out.getvalue()
    assert capsys.readouterr() == ("", "")


def test_a_progress_started_on_an_estimate_ends_on_the_real_total() -> None:
    out = FakeTty()
    bar = BarProgress(out, "validate")
    bar.start(10, 0)
    bar.advance("would_create", 4)
    bar.resize(4)
    bar.close()
    assert "4/4" in out.getvalue().splitlines()[-1].split("\r")[-1]
    now = [0.0]
    log_out = io.StringIO()
    log = LogProgress(log_out, interval=100.0, clock=lambda: now[0], label="validate")
    log.start(10, 0)
    now[0] = 2.0
    log.advance("would_create", 4)
    log.resize(4)
    log.close()
    assert log_out.getvalue() == "validate: 4/4 rows (100%), 2.0 rows/s; would_create 4\n"
