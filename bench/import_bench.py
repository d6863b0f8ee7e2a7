"""Import throughput against a rate-limited sandbox, through the real CLI.

Starts ``closecsv sandbox --rate-limit 20 --latency 80`` as a child process (port 0, on an org
file pre-populated with 300 bench leads), writes ROWS Discovery Call rows over those leads'
emails, runs ``closecsv import activities FILE --json`` and prints, from its receipt:

- rows/s as a share of the rate ceiling           goal >= 0.95
- requests per row, lookups included              goal <= 1.02
- 429s as a share of requests                     goal <= 1%
- failed rows                                     goal 0

Usage: ``.venv/bin/python bench/import_bench.py [--rows 2000] [--leads 300] [--concurrency 4]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

RATE = 20.0
LATENCY_MS = 80.0
URL_LINE = re.compile(r"export CLOSE_API_URL=(\S+)")


def populate(org: Path, leads: int) -> None:
    """An org file holding the seed plus ``leads`` leads ``bench<n>@example.com``."""
    with Sandbox(org) as sandbox:
        sandbox.populate(leads=leads, activities=0, activity_types=0)


def write_rows(path: Path, rows: int, leads: int) -> None:
    header = [
        "custom_activity_type",
        "lead_email",
        "date_created",
        "custom.Outcome",
        "custom.Duration (min)",
        "custom.Reference Code",
    ]
    outcomes = ("Interested", "Not interested", "Follow up")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for n in range(rows):
            stamp = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00+00:00"
            writer.writerow(
                [
                    "Discovery Call",
                    f"bench{n % leads}@example.com",
                    stamp,
                    outcomes[n % 3],
                    str(5 + n % 55),
                    f"BENCH-{n:06d}",
                ]
            )


def start_sandbox(org: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-m", "closecsv", "sandbox", "--port", "0", "--data", str(org)]
    args += ["--rate-limit", str(RATE), "--latency", str(LATENCY_MS)]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = URL_LINE.search(line)
        if found:
            return proc, found.group(1)
    proc.kill()
    raise SystemExit("the sandbox did not print its URL")


def run_import(url: str, csv_path: Path, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    args = [sys.executable, "-m", "closecsv", "--api-url", url, "-q", "import", "activities"]
    args += [str(csv_path), "--json", "--concurrency", str(concurrency)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"import exited {done.returncode}:\n{done.stderr}")
    receipt: dict[str, Any] = json.loads(done.stdout)
    return receipt


def report(receipt: dict[str, Any], wall: float, rows: int) -> bool:
    requests = receipt["requests"]
    rows_per_s = rows / receipt["elapsed_seconds"]
    figures = [
        ("rows", f"{rows}", True),
        ("wall time (CLI process)", f"{wall:.1f} s", True),
        ("import time (receipt)", f"{receipt['elapsed_seconds']:.1f} s", True),
        ("rows/s", f"{rows_per_s:.2f} (ceiling {RATE:.0f} req/s)", True),
        ("rows/s / ceiling", f"{rows_per_s / RATE:.3f}  goal >= 0.95", rows_per_s / RATE >= 0.95),
        ("same, on wall time", f"{rows / wall / RATE:.3f}  (incl. process start-up)", True),
        ("requests", f"{requests} (lookups {receipt['lookups']})", True),
        ("requests per row", f"{requests / rows:.4f}  goal <= 1.02", requests / rows <= 1.02),
        (
            "429s / requests",
            f"{receipt['rate_limited']} = {receipt['rate_limited'] / requests:.2%}  goal <= 1%",
            receipt["rate_limited"] / requests <= 0.01,
        ),
        (
            "failed rows",
            f"{receipt['counts'].get('failed', 0)}  goal 0",
            not receipt["counts"].get("failed"),
        ),
    ]
    for name, value, ok in figures:
        print(f"{name:<26} {value}{'' if ok else '   <-- MISSED'}")
    print(f"counts                     {receipt['counts']}")
    return all(ok for _, _, ok in figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    opts = parser.parse_args()
    env = {**os.environ, "CLOSE_API_KEY": SANDBOX_API_KEY}
    with tempfile.TemporaryDirectory(prefix="closecsv-bench-") as tmp:
        work = Path(tmp)
        populate(work / "org.json", opts.leads)
        write_rows(work / "bench.csv", opts.rows, opts.leads)
        proc, url = start_sandbox(work / "org.json", env)
        try:
            started = time.monotonic()
            receipt = run_import(url, work / "bench.csv", opts.concurrency, env)
            wall = time.monotonic() - started
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0 if report(receipt, wall, opts.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
