"""Soak benchmark: a large import against a faulty real-socket sandbox, SIGKILLed a few times.

The CLI runs as a child process (``python -m closecsv import``) against a sandbox on a real
socket that fails ``--fault-rate`` of requests (5xx before any work, and writes committed
whose connection is then dropped).  The child is killed ``--kills`` times at random moments,
then the same command is run until it finishes.  Printed: rows, faults injected, kills,
duplicates and missing instances on the sandbox, the results file's ``_status`` counts,
and the wall time.  Exit status 1 if any row is duplicated, missing or unaccounted for.

    .venv/bin/python bench/soak_bench.py --rows 20000 --fault-rate 0.1 --kills 3
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

PREFIX = "SOAK-"


def write_rows(path: Path, sandbox: Sandbox, rows: int) -> None:
    leads = sorted(sandbox.state.leads)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["custom_activity_type", "lead_id", "custom.Outcome", "custom.Reference Code"]
        )
        for i in range(rows):
            writer.writerow(["Discovery Call", leads[i % len(leads)], "Interested", f"{PREFIX}{i}"])


def command(url: str, path: Path, concurrency: int) -> list[str]:
    cli = [sys.executable, "-m", "closecsv", "--api-url", url, "-q", "import", "activities"]
    # The sandbox's lists never lag, so a short settle time is enough here.
    return [*cli, str(path), "--concurrency", str(concurrency), "--settle-seconds", "0.5"]


def child_env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parent.parent / "src")
    return {**os.environ, "CLOSE_API_KEY": SANDBOX_API_KEY, "PYTHONPATH": src}


def refs(sandbox: Sandbox) -> Counter[str]:
    found: Counter[str] = Counter()
    for act in sandbox.state.custom_activities.values():
        found.update(v for v in act.values() if isinstance(v, str) and v.startswith(PREFIX))
    return found


def run(args: argparse.Namespace, work: Path) -> int:
    rng = random.Random(args.seed)
    sandbox = Sandbox(fault_rate=args.fault_rate, seed=args.seed, latency_ms=args.latency)
    path = work / "soak.csv"
    write_rows(path, sandbox, args.rows)
    started = time.monotonic()
    kills = runs = 0
    with sandbox.serve() as url:
        cmd = command(url, path, args.concurrency)
        for _ in range(args.kills):
            proc = subprocess.Popen(cmd, env=child_env(), stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(args.kill_after / 2, args.kill_after * 1.5))
            runs += 1
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait()
        code = None
        while code not in (0, 1) and runs < args.kills + 10:
            runs += 1
            code = subprocess.run(cmd, env=child_env(), check=False).returncode
    elapsed = time.monotonic() - started
    return report(args, sandbox, work, kills, runs, elapsed)


def report(
    args: argparse.Namespace, sandbox: Sandbox, work: Path, kills: int, runs: int, elapsed: float
) -> int:
    found = refs(sandbox)
    duplicates = sum(n - 1 for n in found.values() if n > 1)
    missing = args.rows - len(found)
    with (work / "soak.results.csv").open(newline="", encoding="utf-8") as fh:
        statuses = Counter(r["_status"] for r in csv.DictReader(fh))
    counts = sandbox.dispatcher.status_counts
    faults = sum(n for status, n in counts.items() if status == 0 or status >= 500)
    print(f"rows              {args.rows:,}")
    print(f"requests          {sum(counts.values()):,}")
    print(f"faults injected   {faults:,} ({counts[0]:,} commit+drop)")
    print(f"kills             {kills} (runs {runs})")
    print(f"duplicates        {duplicates}")
    print(f"missing           {missing}")
    print(f"results _status   {dict(statuses)}")
    print(f"time              {elapsed:.1f}s")
    accounted = sum(statuses.values()) == args.rows
    return 0 if duplicates == 0 and missing == 0 and accounted else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--kill-after", type=float, default=6.0, help="mean seconds to a kill")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.0, help="sandbox latency, ms")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="closecsv-soak-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
