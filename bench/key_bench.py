"""A delta import by ``--key`` against a rate-limited sandbox, through the real CLI.

An org with 300 bench leads first gets BASE Discovery Calls from a plain import by key (on an
unthrottled sandbox, to save time).  Then ``closecsv sandbox --rate-limit 20 --latency 80``
serves that org and a *delta* file of ROWS rows is imported with
``--key "custom.Reference Code"``: the BASE records again in another order, CHANGED of them
with a new duration, and ROWS - BASE new records, over the same leads.  Printed, from the
receipt:

- requests per row, look-ups included             goal <= 1.2
- rows/s (and as a share of the rate ceiling)
- 429s as a share of requests                     goal <= 1%
- failed rows                                     goal 0
- the statuses: updated = CHANGED, unchanged = BASE - CHANGED, created = ROWS - BASE

Usage: ``.venv/bin/python bench/key_bench.py [--rows 2000] [--base 1400] [--changed 400]
[--leads 300] [--concurrency 4]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from import_bench import RATE, populate, start_sandbox  # bench/ is the script's folder

from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

KEY = "custom.Reference Code"
HEADER = ["custom_activity_type", "lead_email", "custom.Outcome", "custom.Duration (min)", KEY]


def record(n: int, leads: int, duration: int | None = None) -> list[str]:
    outcome = ("Interested", "Not interested", "Follow up")[n % 3]
    minutes = duration if duration is not None else 5 + n % 55
    return ["Discovery Call", f"bench{n % leads}@example.com", outcome, str(minutes), f"K-{n:06d}"]


def write(path: Path, lines: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(lines)


def delta_lines(rows: int, base: int, changed: int, leads: int) -> list[list[str]]:
    """The base records (``changed`` of them with another duration) and new ones, shuffled."""
    rng = random.Random(7)
    edits = set(rng.sample(range(base), changed))
    lines = [record(n, leads, 100 + n % 50 if n in edits else None) for n in range(base)]
    lines += [record(n, leads) for n in range(base, rows)]
    rng.shuffle(lines)
    return lines


def import_by_key(url: str, path: Path, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    args = [sys.executable, "-m", "closecsv", "--api-url", url, "-q", "import", "activities"]
    args += [str(path), "--key", KEY, "--json", "--concurrency", str(concurrency)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"import exited {done.returncode}:\n{done.stderr}")
    receipt: dict[str, Any] = json.loads(done.stdout)
    return receipt


def base_import(org: Path, path: Path, env: dict[str, str]) -> None:
    """The first import, on an unthrottled sandbox over the same org file."""
    with Sandbox(org) as sandbox, sandbox.serve() as url:
        receipt = import_by_key(url, path, 8, env)
    if set(receipt["counts"]) != {"created"}:
        raise SystemExit(f"the base import did not only create: {receipt['counts']}")


def report(receipt: dict[str, Any], rows: int, base: int, changed: int) -> bool:
    requests, counts = receipt["requests"], receipt["counts"]
    rows_per_s = rows / receipt["elapsed_seconds"]
    expected = {"updated": changed, "unchanged": base - changed, "created": rows - base}
    figures = [
        ("rows", f"{rows} ({base} known, {changed} of them changed; {rows - base} new)", True),
        ("import time (receipt)", f"{receipt['elapsed_seconds']:.1f} s", True),
        ("rows/s", f"{rows_per_s:.2f} ({rows_per_s / RATE:.2f} x the {RATE:.0f} req/s)", True),
        ("requests", f"{requests} (lookups {receipt['lookups']})", True),
        ("requests per row", f"{requests / rows:.4f}  goal <= 1.2", requests / rows <= 1.2),
        (
            "429s / requests",
            f"{receipt['rate_limited']} = {receipt['rate_limited'] / requests:.2%}  goal <= 1%",
            receipt["rate_limited"] / requests <= 0.01,
        ),
        ("failed rows", f"{counts.get('failed', 0)}  goal 0", not counts.get("failed")),
        ("statuses", f"{counts}  expected {expected}", counts == expected),
    ]
    for name, value, ok in figures:
        print(f"{name:<24} {value}{'' if ok else '   <-- MISSED'}")
    return all(ok for _, _, ok in figures)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--base", type=int, default=1400)
    parser.add_argument("--changed", type=int, default=400)
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    opts = parser.parse_args()
    env = {**os.environ, "CLOSE_API_KEY": SANDBOX_API_KEY}
    with tempfile.TemporaryDirectory(prefix="closecsv-keybench-") as tmp:
        work = Path(tmp)
        populate(work / "org.json", opts.leads)
        write(work / "base.csv", [record(n, opts.leads) for n in range(opts.base)])
        base_import(work / "org.json", work / "base.csv", env)
        write(work / "delta.csv", delta_lines(opts.rows, opts.base, opts.changed, opts.leads))
        proc, url = start_sandbox(work / "org.json", env)
        try:
            started = time.monotonic()
            receipt = import_by_key(url, work / "delta.csv", opts.concurrency, env)
            print(f"{'wall time (CLI process)':<24} {time.monotonic() - started:.1f} s")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0 if report(receipt, opts.rows, opts.base, opts.changed) else 1


if __name__ == "__main__":
    sys.exit(main())
