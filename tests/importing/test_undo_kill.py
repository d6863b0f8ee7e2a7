"""Undo exactly once after SIGKILLs: ``closecsv undo`` as a child process, killed at random
moments while it deletes and restores, then run again until it finishes; the org must then
equal its state before the import (every instance, every field but ``date_updated``)."""

from __future__ import annotations

import csv
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from closecsv.sandbox import Sandbox
from tests.importing.test_import_resume_kill import env, seed_emails
from tests.importing.test_undo import snapshot

CREATES = 48
UPDATES = 24
KILLS = 4


def closecsv(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "closecsv", "--api-url", url, "-q", *args]


def run_until_done(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Faults (5xx, dropped answers) may leave rows for the next run: run until exit 0."""
    for _ in range(8):
        done = subprocess.run(args, env=env(), capture_output=True, text=True, check=False)
        if done.returncode == 0:
            break
    return done


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def base_ids(url: str, tmp: Path, emails: list[str]) -> list[str]:
    """Instances made before the job: the ones it will update."""
    rows = [
        ["Discovery Call", emails[n % len(emails)], "Interested", f"BASE-{n:03d}"]
        for n in range(UPDATES)
    ]
    header = ["custom_activity_type", "lead_email", "custom.Outcome", "custom.Reference Code"]
    path = write_rows(tmp / "base.csv", header, rows)
    done = run_until_done(closecsv(url, "import", "activities", str(path)))
    assert done.returncode == 0, done.stderr
    with (tmp / "base.results.csv").open(newline="", encoding="utf-8") as fh:
        return [r["_id"] for r in csv.DictReader(fh)]


@pytest.mark.slow
def test_sigkill_during_undo_then_rerun_gives_back_the_org_as_before(tmp_path: Path) -> None:
    rng = random.Random(20261129)
    sandbox = Sandbox(fault_rate=0.1, seed=7, latency_ms=15)
    with sandbox.serve() as url:
        emails = seed_emails(sandbox)
        ids = base_ids(url, tmp_path, emails)
        before = snapshot(sandbox, "activities")
        header = ["activity_id", "custom_activity_type", "lead_email", "custom.Outcome"]
        header.append("custom.Reference Code")
        rows = [[iid, "", "", "Follow up", f"EDIT-{n:03d}"] for n, iid in enumerate(ids)]
        rows += [
            ["", "Discovery Call", emails[n % len(emails)], "Interested", f"NEW-{n:03d}"]
            for n in range(CREATES)
        ]
        path = write_rows(tmp_path / "job.csv", header, rows)
        done = run_until_done(closecsv(url, "import", "activities", str(path)))
        assert done.returncode == 0, done.stderr
        undo = closecsv(url, "undo", "activities", str(path), "--concurrency", "4")
        kills = 0
        for _ in range(KILLS):
            proc = subprocess.Popen(
                undo, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            target = len(sandbox.state.custom_activities) - rng.randint(2, 8)
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                if len(sandbox.state.custom_activities) <= target:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.05))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait()
        done = run_until_done(undo)
        assert done.returncode == 0, done.stderr
        again = subprocess.run(undo, env=env(), capture_output=True, text=True, check=False)
        assert again.returncode == 0, again.stderr  # a finished undo is a no-op
    assert kills == KILLS, "every kill must land mid-run to test anything"
    assert snapshot(sandbox, "activities") == before
    with (tmp_path / "job.undo.results.csv").open(newline="", encoding="utf-8") as fh:
        statuses = sorted(r["_status"] for r in csv.DictReader(fh))
    assert statuses == ["deleted"] * CREATES + ["restored"] * UPDATES
    sandbox.close()
