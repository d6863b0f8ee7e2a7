"""Exactly once after SIGKILLs: the CLI as a child process, killed at random moments.

The sandbox runs on a real socket in this process with faults on (5xx before work, and
writes committed whose connection is then dropped), so the importer meets lost answers both
from the network and from its own deaths.  After the kills, the same command runs until it
finishes; the sandbox must then hold exactly one instance per row.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import closecsv
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

ROWS = 120  # enough that four kills land mid-run even with three keys (12 threads)
KILLS = 4
SRC = str(Path(closecsv.__file__).resolve().parent.parent)


def seed_emails(sandbox: Sandbox) -> list[str]:
    """Emails that name exactly one lead."""
    emails = Counter(e["email"] for c in sandbox.state.contacts.values() for e in c["emails"])
    return sorted(e for e, n in emails.items() if n == 1)


def write_file(path: Path, emails: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "custom_activity_type",
                "lead_email",
                "custom.Outcome",
                "custom.Reference Code",
                "custom.Ticket ID",
            ]
        )
        for n in range(ROWS):
            ref, email = f"KILL-{n:03d}", emails[n % len(emails)]
            if n % 4:
                writer.writerow(["Discovery Call", email, "Interested", ref, ""])
            else:
                writer.writerow(["Support Ticket", email, "", "", ref])


KEYS = [SANDBOX_API_KEY, "kill-key-2-000000000000000", "kill-key-3-000000000000000"]


def command(url: str, path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "closecsv",
        "--api-url",
        url,
        "-q",
        "import",
        "activities",
        str(path),
        "--concurrency",
        "4",
        "--settle-seconds",
        "0.5",  # the sandbox's lists never lag
    ]


def env(keys: list[str] | None = None) -> dict[str, str]:
    """``keys``: several keys of the sandbox's organization (default: its one key)."""
    key = ",".join(keys or [SANDBOX_API_KEY])
    return {**os.environ, "CLOSE_API_KEY": key, "PYTHONPATH": SRC}


def wait_for_writes(sandbox: Sandbox, proc: subprocess.Popen[bytes], writes: int) -> None:
    """Return once the sandbox holds `writes` more instances, or the run has ended."""
    target = len(sandbox.state.custom_activities) + writes
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if len(sandbox.state.custom_activities) >= target:
            return
        time.sleep(0.01)


def refs(sandbox: Sandbox) -> Counter[str]:
    found: Counter[str] = Counter()
    for act in sandbox.state.custom_activities.values():
        found.update(
            v for k, v in act.items() if k.startswith("custom.") and str(v).startswith("KILL-")
        )
    return found


@pytest.mark.slow
@pytest.mark.parametrize("keys", [1, 3])
def test_sigkill_at_random_moments_then_resume_gives_exactly_one_instance_per_row(
    tmp_path: Path, keys: int
) -> None:
    """With three keys, the runs that are killed send with all three and the runs that finish
    with keys 3 and 2 only: exactly once whichever key sent a row."""
    rng = random.Random(20240501)
    sandbox = Sandbox(fault_rate=0.1, seed=11, latency_ms=15, more_keys=KEYS[1:keys])
    killed_with = KEYS[:keys]
    finished_with = [KEYS[2], KEYS[1]] if keys > 1 else None
    path = tmp_path / "tickets.csv"
    write_file(path, seed_emails(sandbox))
    kills = 0
    with sandbox.serve() as url:
        for _ in range(KILLS):
            proc = subprocess.Popen(
                command(url, path),
                env=env(killed_with),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # Kill once this run has committed a random handful of new instances (so the kill
            # lands mid-run however slow the machine is), a random fraction of a request later.
            wait_for_writes(sandbox, proc, rng.randint(2, 10))
            time.sleep(rng.uniform(0.0, 0.05))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait()
        for _ in range(5):
            done = subprocess.run(
                command(url, path),
                env=env(finished_with),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode in (0, 1):
                break
        assert done.returncode == 0, done.stderr
    assert kills == KILLS, "every kill must land mid-run to test anything"
    found = refs(sandbox)
    assert sorted(found) == [f"KILL-{n:03d}" for n in range(ROWS)]
    assert set(found.values()) == {1}, {k: v for k, v in found.items() if v > 1}
    with (tmp_path / "tickets.results.csv").open(newline="", encoding="utf-8") as fh:
        results = list(csv.DictReader(fh))
    assert {r["_status"] for r in results} == {"created"}
    assert len({r["_id"] for r in results}) == ROWS
    sandbox.close()


@pytest.mark.slow
def test_ctrl_c_exits_130_with_reports_flushed_and_the_rerun_finishes(tmp_path: Path) -> None:
    sandbox = Sandbox(latency_ms=40)
    path = tmp_path / "tickets.csv"
    write_file(path, seed_emails(sandbox))
    with sandbox.serve() as url:
        args = [a for a in command(url, path) if a != "-q"]
        proc = subprocess.Popen(
            args, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 20
        while not refs(sandbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr
        assert "interrupted; run the same command again to resume" in stderr
        assert (tmp_path / "tickets.results.csv").exists()
        assert 0 < sum(refs(sandbox).values()) < ROWS
        done = subprocess.run(
            command(url, path), env=env(), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    assert sorted(refs(sandbox)) == [f"KILL-{n:03d}" for n in range(ROWS)]
    assert set(refs(sandbox).values()) == {1}
    sandbox.close()


@pytest.mark.slow
def test_ctrl_c_twice_stops_at_once_and_the_rerun_reconciles(tmp_path: Path) -> None:
    """docs/ADVERSARIAL.md F3: a second Ctrl-C does not wait for the orderly stop."""
    sandbox = Sandbox(latency_ms=200)
    path = tmp_path / "tickets.csv"
    write_file(path, seed_emails(sandbox))
    with sandbox.serve() as url:
        proc = subprocess.Popen(
            command(url, path), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 20
        while not refs(sandbox) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        # 130 from closecsv, or death by SIGINT when the second press lands during the
        # interpreter's own shutdown: a shell shows 130 for both.
        assert proc.returncode in (130, -signal.SIGINT)
        done = subprocess.run(
            command(url, path), env=env(), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    assert sorted(refs(sandbox)) == [f"KILL-{n:03d}" for n in range(ROWS)]
    assert set(refs(sandbox).values()) == {1}
    sandbox.close()


def run_and_kill(url: str, path: Path, sandbox: Sandbox, writes: int, *extra: str) -> bool:
    """Start the import, SIGKILL it once it has made ``writes`` more instances; True if the
    kill landed mid-run."""
    proc = subprocess.Popen(
        [*command(url, path), *extra],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_writes(sandbox, proc, writes)
    killed = proc.poll() is None
    if killed:
        proc.kill()
    proc.wait()
    return killed


def finish(url: str, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The same command until it finishes (a fault may stop a run with exit 3)."""
    for _ in range(5):
        done = subprocess.run(
            [*command(url, path), *extra], env=env(), capture_output=True, text=True, check=False
        )
        if done.returncode in (0, 1, 2):
            break
    return done


@pytest.mark.slow
def test_a_limit_trial_then_the_full_run_with_kills_between_makes_one_instance_per_row(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(fault_rate=0.1, seed=5, latency_ms=15)
    path = tmp_path / "tickets.csv"
    write_file(path, seed_emails(sandbox))
    with sandbox.serve() as url:
        assert run_and_kill(url, path, sandbox, 2, "--limit", "10")
        trial = finish(url, path, "--limit", "10")
        assert trial.returncode == 0, trial.stderr
        assert sorted(refs(sandbox)) == [f"KILL-{n:03d}" for n in range(10)]
        assert run_and_kill(url, path, sandbox, 8)
        assert run_and_kill(url, path, sandbox, 8)
        done = finish(url, path)
        assert done.returncode == 0, done.stderr
    assert sorted(refs(sandbox)) == [f"KILL-{n:03d}" for n in range(ROWS)]
    assert set(refs(sandbox).values()) == {1}
    sandbox.close()


@pytest.mark.slow
def test_a_failed_row_fixed_in_place_between_kills_makes_one_instance_per_row(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(fault_rate=0.1, seed=7, latency_ms=15)
    path = tmp_path / "tickets.csv"
    write_file(path, seed_emails(sandbox))
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("Interested,KILL-013", "Maybe,KILL-013"), encoding="utf-8")
    with sandbox.serve() as url:
        assert run_and_kill(url, path, sandbox, 10)
        first = finish(url, path)
        assert first.returncode == 1, first.stderr  # the bad row failed
        assert "KILL-013" not in refs(sandbox)
        path.write_text(good, encoding="utf-8")  # fixed in place
        done = finish(url, path)
        assert done.returncode == 0, done.stderr
    assert sorted(refs(sandbox)) == [f"KILL-{n:03d}" for n in range(ROWS)]
    assert set(refs(sandbox).values()) == {1}
    sandbox.close()


@pytest.mark.slow
def test_the_csv_and_the_journal_file_alone_copied_after_a_kill_resume_elsewhere(
    tmp_path: Path,
) -> None:
    """After a SIGKILL the journal file alone holds every committed row: no -wal, no
    -journal and no results file are needed to move the job to another folder."""
    sandbox = Sandbox(fault_rate=0.1, seed=13, latency_ms=15)
    path = tmp_path / "tickets.csv"
    write_file(path, seed_emails(sandbox))
    moved = tmp_path / "moved"
    moved.mkdir()
    with sandbox.serve() as url:
        assert run_and_kill(url, path, sandbox, 25)
        assert 0 < sum(refs(sandbox).values()) < ROWS
        shutil.copy(path, moved / path.name)
        shutil.copy(tmp_path / "tickets.journal.sqlite", moved / "tickets.journal.sqlite")
        done = finish(url, moved / path.name, "--report-dir", str(moved))
    assert set(refs(sandbox).values()) == {1}, {k: v for k, v in refs(sandbox).items() if v > 1}
    assert sorted(refs(sandbox)) == [f"KILL-{n:03d}" for n in range(ROWS)]
    assert done.returncode == 0, done.stderr
    sandbox.close()
