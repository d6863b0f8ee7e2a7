"""The rows/s of progress lines and of the summary are one figure: rows this run finished
over the seconds since the command began (planning included)."""

from __future__ import annotations

import io
from pathlib import Path

from closecsv.cli.progress_display import LogProgress
from closecsv.exporting.exporter import ExportReport


def test_the_last_progress_line_and_the_export_summary_show_the_same_rate() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = LogProgress(out, interval=100.0, clock=lambda: now[0], label="export")
    now[0] = 4.0  # choosing the route, finding leads: the run has begun
    progress.start(10, 0)
    now[0] = 10.0
    progress.advance("exported", 10)
    progress.close()

    report = ExportReport("activities", "org", None, Path("out"), seconds=10.0)
    report.types.append({"file": "Calls.csv", "rows": 10, "type_name": "Calls"})

    assert out.getvalue() == "export: 10/10 rows (100%), 1.0 rows/s; exported 10\n"
    assert "(1.0 rows/s)" in report.summary()
