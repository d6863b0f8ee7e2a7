"""Import throughput against a rate-limited sandbox, through the real CLI.

Starts ``closecsv sandbox --rate-limit 20 --latency 80`` as a child process (port 0, on an org
file pre-populated with 300 bench leads), writes ROWS Discovery Call rows over those leads'
emails, runs ``closecsv import activities FILE --json`` and prints, from its receipt:

- rows/s as a share of the rate ceiling           goal >= 0.95
  (one key: the key's 20/s; ``--keys N``: N keys of one organization, the ceiling is
  min(N x 20, the organization's 3 x 20 = 60)/s)
- requests per row, lookups included              goal <= 1.02
- 429s as a share of requests                     goal <= 1%
- failed rows                                     goal 0

With several keys it also prints what the sandbox counted (``GET /_sandbox/traffic``):
requests per key, and the most requests the organization let through in any one second.

Usage: ``.venv/bin/python bench/import_bench.py [--rows 2000] [--leads 300] [--concurrency 4]
[--keys 1]`` (``--rows`` defaults to 2000 per key)
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
import urllib.request
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


def bench_keys(count: int) -> list[str]:
    """The sandbox's key, then made-up keys 2, 3, ... of the same organization."""
    return [SANDBOX_API_KEY, *(f"bench-key-{n}-0000000000000000" for n in range(2, count + 1))]


def start_sandbox(
    org: Path, env: dict[str, str], keys: list[str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-m", "closecsv", "sandbox", "--port", "0", "--data", str(org)]
    args += ["--rate-limit", str(RATE), "--latency", str(LATENCY_MS)]
    for key in keys or []:
        args += ["--api-key", key]
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


def traffic(url: str) -> dict[str, Any]:
    """The sandbox's counts per key and for the organization."""
    base = url.split("/api/v1/")[0]
    with urllib.request.urlopen(f"{base}/_sandbox/traffic", timeout=10) as answer:
        counted: dict[str, Any] = json.load(answer)
    return counted


def report(receipt: dict[str, Any], wall: float, rows: int, keys: int = 1) -> bool:
    requests = receipt["requests"]
    rows_per_s = rows / receipt["elapsed_seconds"]
    ceiling = min(RATE * keys, 3 * RATE)
    figures = [
        ("rows", f"{rows}", True),
        ("wall time (CLI process)", f"{wall:.1f} s", True),
        ("import time (receipt)", f"{receipt['elapsed_seconds']:.1f} s", True),
        ("API keys", f"{keys}", True),
        ("rows/s", f"{rows_per_s:.2f} (ceiling {ceiling:.0f} req/s)", True),
        (
            "rows/s / ceiling",
            f"{rows_per_s / ceiling:.3f}  goal >= 0.95",
            rows_per_s / ceiling >= 0.95,
        ),
        ("same, on wall time", f"{rows / wall / ceiling:.3f}  (incl. process start-up)", True),
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
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--keys", type=int, default=1, help="API keys of the organization")
    opts = parser.parse_args()
    rows = opts.rows or 2000 * opts.keys
    keys = bench_keys(opts.keys)
    env = {**os.environ, "CLOSE_API_KEY": ",".join(keys)}
    with tempfile.TemporaryDirectory(prefix="closecsv-bench-") as tmp:
        work = Path(tmp)
        populate(work / "org.json", opts.leads)
        write_rows(work / "bench.csv", rows, opts.leads)
        proc, url = start_sandbox(work / "org.json", env, keys if opts.keys > 1 else None)
        try:
            started = time.monotonic()
            receipt = run_import(url, work / "bench.csv", opts.concurrency, env)
            wall = time.monotonic() - started
            counted = traffic(url)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ok = report(receipt, wall, rows, opts.keys)
    print(f"sandbox counted            {json.dumps(counted)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
