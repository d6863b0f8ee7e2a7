"""Faults seen through ``closecsv import`` on a real socket (docs/ADVERSARIAL.md D17, D18).

The key is revoked on the sandbox while the import runs: the run stops with exit 3 and rows
``skipped`` (never ``failed``), the journal keeps what was done, and the same command with a
working key finishes the job with exactly one instance per row.
"""

from __future__ import annotations

import csv
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from closecsv.cli import main
from closecsv.sandbox import Sandbox
from tests.helpers.faults import PREFIX, count_refs, write_calls

OLD_KEY = "api_OldKeyBeforeRotation.aaaaaaaaaaaa"
NEW_KEY = "api_NewKeyAfterRotation.bbbbbbbbbbbb"
ROWS = 40


def run(url: str, key: str, path: Path) -> Result:
    args = ["--api-url", url, "import", "activities", str(path), "--concurrency", "2"]
    env = {"CLOSE_API_KEY": key}
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def revoke_when(sandbox: Sandbox, done: int, stop: threading.Event) -> None:
    while not stop.is_set():
        if sum(count_refs(sandbox).values()) >= done:
            sandbox.set_api_key(NEW_KEY)
            return
        time.sleep(0.005)


@pytest.mark.slow
def test_a_key_revoked_mid_run_stops_with_exit_3_and_the_fixed_rerun_resumes(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(api_key=OLD_KEY, latency_ms=10)
    path = write_calls(tmp_path / "calls.csv", sandbox, ROWS)
    stop = threading.Event()
    watcher = threading.Thread(target=revoke_when, args=(sandbox, 8, stop), daemon=True)
    with sandbox.serve() as url:
        watcher.start()
        first = run(url, OLD_KEY, path)
        stop.set()
        watcher.join()
        assert first.exit_code == 3, first.stderr
        assert "authentication refused (HTTP 401)" in first.stderr
        assert "run the same command again to resume" in first.stderr
        assert OLD_KEY not in first.stderr + first.stdout
        with (tmp_path / "calls.results.csv").open(newline="", encoding="utf-8") as fh:
            statuses = [r["_status"] for r in csv.DictReader(fh)]
        assert "failed" not in statuses and statuses.count("skipped") >= ROWS // 2
        conn = sqlite3.connect(tmp_path / "calls.journal.sqlite")
        try:
            done = conn.execute("SELECT count(*) FROM rows WHERE state = 'done'").fetchone()[0]
        finally:
            conn.close()
        assert done == statuses.count("created") >= 8

        second = run(url, NEW_KEY, path)
        assert second.exit_code == 0, second.stderr
        assert f"created  {ROWS:>8}" in second.stderr
    refs = count_refs(sandbox)
    assert refs == {f"{PREFIX}{i:05d}": 1 for i in range(ROWS)}
    sandbox.close()
