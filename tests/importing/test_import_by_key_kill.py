"""``--key`` after SIGKILLs: a delta file imported by key, killed at random moments and run
again until done, creates nothing twice and reports each row as what it was: the new records
``created``, the changed ones ``updated``, the others ``unchanged``."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from closecsv.sandbox import Sandbox
from tests.importing.test_import_resume_kill import finish, refs, run_and_kill, seed_emails

KEY = ("--key", "custom.Reference Code")
BASE, NEW = 24, 16


def write(path: Path, lines: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["custom_activity_type", "lead_email", "custom.Outcome", KEY[1]])
        writer.writerows(("Discovery Call", *line) for line in lines)
    return path


@pytest.mark.slow
def test_a_delta_by_key_killed_and_resumed_creates_nothing_twice(tmp_path: Path) -> None:
    sandbox = Sandbox(fault_rate=0.1, seed=17, latency_ms=15)
    emails = seed_emails(sandbox)
    records = [(emails[n % len(emails)], "Interested", f"KILL-{n:03d}") for n in range(BASE + NEW)]
    base = write(tmp_path / "monday.csv", records[:BASE])
    changed = {n for n in range(BASE) if n % 3 == 0}
    delta = [(e, "Follow up" if n in changed else o, k) for n, (e, o, k) in enumerate(records)]
    friday = write(tmp_path / "friday.csv", delta[::-1])
    with sandbox.serve() as url:
        assert run_and_kill(url, base, sandbox, 6, *KEY)
        first = finish(url, base, *KEY)
        assert first.returncode == 0, first.stderr
        assert run_and_kill(url, friday, sandbox, 4, *KEY)
        assert run_and_kill(url, friday, sandbox, 5, *KEY)
        done = finish(url, friday, *KEY)
        assert done.returncode == 0, done.stderr
    found = refs(sandbox)
    assert sorted(found) == [f"KILL-{n:03d}" for n in range(BASE + NEW)]
    assert set(found.values()) == {1}, {k: v for k, v in found.items() if v > 1}
    with (tmp_path / "friday.results.csv").open(newline="", encoding="utf-8") as fh:
        statuses = Counter(r["_status"] for r in csv.DictReader(fh))
    assert statuses == Counter(
        {"created": NEW, "updated": len(changed), "unchanged": BASE - len(changed)}
    )
    sandbox.close()
