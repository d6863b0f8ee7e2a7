"""The README's Python API example, run as it is printed, against a sandbox holding
activities created the day before yesterday, yesterday and today (UTC)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

import closecsv
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The first ``python`` code block of the README's "Python API" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, "the Python API section has no python code block"
    return found.group(1)


def test_the_readme_example_exports_yesterdays_activities_to_parquet(tmp_path: Path) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    created = {
        "RD-BEFORE": yesterday - timedelta(microseconds=1),
        "RD-FIRST": yesterday,
        "RD-LAST": today - timedelta(microseconds=1),
        "RD-TODAY": today,
    }
    source = tmp_path / "calls.csv"
    source.write_text(
        "custom_activity_type,lead_email,date_created,custom.Outcome,custom.Reference Code\n"
        + "".join(
            f"Discovery Call,alice.smith00@example.org,{when.isoformat()},Interested,{ref}\n"
            for ref, when in created.items()
        ),
        encoding="utf-8",
    )
    sandbox = Sandbox()
    with sandbox.serve() as url:
        key = {"api_url": url, "api_key": SANDBOX_API_KEY}
        imported = closecsv.import_file(source, kind="activities", report_dir=tmp_path, **key)
        assert imported.counts() == {"created": 4}
        env = {**os.environ, "CLOSE_API_URL": url, "CLOSE_API_KEY": SANDBOX_API_KEY}
        done = subprocess.run(
            [sys.executable, "-c", readme_example()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    sandbox.close()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    folder = tmp_path / "exports" / f"{yesterday:%Y-%m-%d}"
    assert done.stdout.startswith(f"2 activities in {folder}")
    frames = [pl.read_parquet(path) for path in sorted(folder.glob("*.parquet"))]
    assert sorted(folder.glob("*.csv")) == []
    exported = pl.concat(frames, how="diagonal")
    assert sorted(exported["custom.Reference Code"].to_list()) == ["RD-FIRST", "RD-LAST"]
    assert (folder / "manifest.json").is_file()
