"""Sync benchmark: requests, wall time and peak RSS of a first sync, a sync without changes, and a
sync after 500 random changes.

A real ``closecsv sandbox`` subprocess serves an org seeded with 100k activities over 5 types
on 5k leads (as bench/export_bench.py seeds it), with ``--latency 80 --rate-limit 20``.  Each
sync runs as a real ``closecsv sync activities --to DIR --json`` child process; its requests
come from its JSON report, its peak RSS from ``os.wait4`` (the child's own ``ru_maxrss``).
Between the second and third sync, this process makes 500 random changes through the API
(creates, edits of old instances, deletes; roughly a third each).

    .venv/bin/python bench/sync_bench.py                  # parquet, 100k activities
    .venv/bin/python bench/sync_bench.py --format csv

Goals: a run without changes <= 12 requests; the run after the changes <= 12 + events/50 +
changed/100 requests and >= 50x fewer than the first (a full export); its peak RSS <= 1.5x
the first's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from export_bench import ENV, seed, start_sandbox  # noqa: E402

from closecsv.close.client import CloseClient  # noqa: E402
from closecsv.close.config import ApiKey  # noqa: E402
from closecsv.sandbox import SANDBOX_API_KEY  # noqa: E402


@dataclass
class Run:
    label: str
    seconds: float
    peak_mb: float
    report: dict[str, Any]

    @property
    def requests(self) -> int:
        return int(self.report["requests"])

    def line(self) -> str:
        c = self.report["counts"]
        return (
            f"{self.label:<28} requests {self.requests:>5}  wall {self.seconds:>7.1f}s  "
            f"peak RSS {self.peak_mb:>5.0f} MB  events {self.report['events']:>4}  "
            f"+{c['inserted']} ~{c['updated']} -{c['deleted']}  rows {c['rows']}"
        )


def sync(url: str, folder: Path, label: str, fmt: str) -> Run:
    cmd = [sys.executable, "-m", "closecsv", "--api-url", url, "sync", "activities"]
    cmd += ["--to", str(folder), "--format", fmt, "--json"]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"sync failed ({proc.returncode}):\n{err.read()}")
    return Run(label, seconds, usage.ru_maxrss / 1024, json.loads(out))


def change(url: str, count: int, total: int, rng: random.Random) -> dict[str, int]:
    """``count`` random creates, edits of old instances and deletes, through the API."""
    done = {"created": 0, "edited": 0, "deleted": 0}
    with CloseClient(ApiKey(SANDBOX_API_KEY), url) as client:
        pool = _sample(client, rng, total, pages=count // 100 + 2)
        for _ in range(count):
            roll = rng.random()
            source = pool.pop(rng.randrange(len(pool)))
            text = next(
                k for k, v in source.items() if k.startswith("custom.") and isinstance(v, str)
            )
            if roll < 1 / 3:
                body = {k: v for k, v in source.items() if k.startswith("custom.")}
                body |= {k: source[k] for k in ("lead_id", "custom_activity_type_id")}
                client.post("activity/custom/", body)
                done["created"] += 1
            elif roll < 2 / 3:
                client.put(
                    f"activity/custom/{source['id']}/", {text: f"edited {rng.randrange(10**6)}"}
                )
                done["edited"] += 1
            else:
                client.delete(f"activity/custom/{source['id']}/")
                done["deleted"] += 1
    return done


def _sample(
    client: CloseClient, rng: random.Random, total: int, pages: int
) -> list[dict[str, Any]]:
    """Old instances from random places in the org-wide list (100 per request)."""
    found: dict[str, dict[str, Any]] = {}
    for skip in rng.sample(range(0, max(total - 100, 100), 100), pages):
        body = client.get("activity/custom/", {"_limit": 100, "_skip": skip})
        found.update({str(i["id"]): i for i in body["data"]})
    return list(found.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="closecsv-sync-bench-") as tmp:
        work = Path(tmp)
        seed(work / "org.json", args.leads, args.activities)
        proc, url = start_sandbox(work / "org.json")
        try:
            runs = run_all(url, work / "mirror", args.format, args.changes, args.activities)
        finally:
            proc.terminate()
            proc.wait()
    report(runs, args.changes)


def run_all(url: str, folder: Path, fmt: str, count: int, total: int) -> list[Run]:
    runs = [sync(url, folder, "first sync (full export)", fmt)]
    print(runs[-1].line(), flush=True)
    runs.append(sync(url, folder, "no changes", fmt))
    print(runs[-1].line(), flush=True)
    started = time.monotonic()
    done = change(url, count, total, random.Random(13))
    print(f"made {done} in {time.monotonic() - started:.0f}s", flush=True)
    runs.append(sync(url, folder, f"after {count} changes", fmt))
    print(runs[-1].line(), flush=True)
    return runs


def report(runs: list[Run], count: int) -> None:
    first, idle, after = runs
    print()
    for run in runs:
        print(run.line())
    events, changed = after.report["events"], after.report["changed"]
    budget = 12 + events / 50 + changed / 100
    print(f"no-change run: {idle.requests} requests (goal <= 12)")
    print(
        f"after {count} changes: {after.requests} requests (goal <= 12 + {events}/50 + "
        f"{changed}/100 = {budget:.1f}); {first.requests / after.requests:.0f}x fewer than the "
        f"full export (goal >= 50x)"
    )
    print(f"peak RSS after / first = {after.peak_mb / first.peak_mb:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
