"""``closecsv sync`` killed with SIGKILL at random moments (a child process, a real socket):
the next run still gives a mirror equal to a fresh export.  The hook tests in
test_sync_recovery.py stop a run at each stage exactly; these kill the real process."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import closecsv
from closecsv.close.kinds import ACTIVITIES
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.helpers.clients import sandbox_client
from tests.helpers.sync_org import Org, assert_mirror_is_export

KILLS = 4
SRC = str(Path(closecsv.__file__).resolve().parent.parent)


def requests_seen(sandbox: Sandbox) -> int:
    return sum(sandbox.dispatcher.status_counts.values())


def command(url: str, folder: Path, fmt: str) -> list[str]:
    return [sys.executable, "-m", "closecsv", "--api-url", url, "-q", "sync", "activities",
            "--to", str(folder), "--format", fmt]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_sigkill_at_random_moments_then_a_normal_run_gives_the_right_mirror(
    tmp_path: Path, fmt: str
) -> None:
    rng = random.Random(20261129)
    sandbox = Sandbox(latency_ms=15)
    env = {**os.environ, "CLOSE_API_KEY": SANDBOX_API_KEY, "PYTHONPATH": SRC}
    folder = tmp_path / "mirror"
    kills = 0
    with sandbox.serve() as url, sandbox_client(sandbox.transport()) as client:
        org = Org(sandbox, client, ACTIVITIES, 9)
        subprocess.run(command(url, folder, fmt), env=env, check=True)
        for _ in range(KILLS):
            org.random_changes(40)
            start = requests_seen(sandbox)
            proc = subprocess.Popen(command(url, folder, fmt), env=env)
            # a random number of the run's requests in (me, types, schemas, events, reads)
            target = start + rng.randint(1, 12)
            while proc.poll() is None and requests_seen(sandbox) < target:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.03))
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait()
        done = subprocess.run(command(url, folder, fmt), env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert_mirror_is_export(client, ACTIVITIES, folder, tmp_path / "x", fmt)
    sandbox.close()
    assert kills >= KILLS - 1, "the kills must land mid-run to test anything"
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
