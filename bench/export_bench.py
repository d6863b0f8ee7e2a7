"""Export benchmark: requests per row by route, wall time, and peak RSS at 10k vs 100k rows.

A real ``closecsv sandbox`` subprocess serves an org seeded with 100k activities over 5 types
on 5k leads, with ``--latency 80 --rate-limit 20``.  Each export runs as a real
``closecsv export`` child process; its peak RSS comes from ``os.wait4`` (the child's own
``ru_maxrss``), its request count from its summary line.

    .venv/bin/python bench/export_bench.py            # full: lead route on every lead (~5 min)
    .venv/bin/python bench/export_bench.py --quick    # lead route on 500 leads only

Goals: the search route <= 0.0055 requests per exported row (the floor at 200 per page is
0.005), the cheaper documented route <= 0.012; peak RSS at 100k rows within 1.2x of 10k rows,
and the search route's peak RSS no higher than the org route's.  Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from closecsv.sandbox import SANDBOX_API_KEY  # noqa: E402
from closecsv.sandbox.seed import SEED_EPOCH  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "CLOSE_API_KEY": SANDBOX_API_KEY}
SUMMARY = re.compile(
    r"exported ([\d,]+) activities in ([\dm .]+)s .* by the (\w+) route with ([\d,]+)"
)


@dataclass
class Result:
    label: str
    rows: int
    seconds: float
    route: str
    requests: int
    peak_mb: float

    @property
    def per_row(self) -> float:
        return self.requests / self.rows if self.rows else float("nan")

    def line(self) -> str:
        return (
            f"{self.label:<34} rows {self.rows:>7}  requests {self.requests:>5}  "
            f"req/row {self.per_row:.4f}  {self.rows / self.seconds:>6.0f} rows/s  "
            f"peak RSS {self.peak_mb:.0f} MB"
        )

    def row(self) -> str:
        return (
            f"| {self.label} | {self.route} | {self.rows:,} | {self.requests:,} | "
            f"{self.per_row:.4f} | {self.seconds:.0f} s | {self.peak_mb:.0f} MB |"
        )


def table(results: list[Result]) -> str:
    head = "| export | route | rows | requests | requests/row | wall time | peak RSS |"
    rule = "|---|---|--:|--:|--:|--:|--:|"
    return "\n".join([head, rule, *(r.row() for r in results)])


def seed(path: Path, leads: int, activities: int) -> list[str]:
    """Seed the org in a child process, so this process stays small: a forked child's
    ``ru_maxrss`` starts from its parent's size."""
    started = time.monotonic()
    code = (
        "import json, sys; from pathlib import Path; from closecsv.sandbox import Sandbox\n"
        f"sb = Sandbox(Path({str(path)!r}))\n"
        f"sb.populate(leads={leads}, activities={activities}, activity_types=5)\n"
        "ids = [i for i, lead in sb.state.leads.items() if lead['name'].startswith('Bench')]\n"
        "print(json.dumps(ids))\n"
        "sb.close()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True
    ).stdout
    print(f"seeded {activities} activities on {leads} leads in {time.monotonic() - started:.0f}s")
    return list(json.loads(out))


def start_sandbox(data: Path) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "closecsv", "sandbox", "--data", str(data), "--port", "0"]
    cmd += ["--latency", "80", "--rate-limit", "20"]
    proc = subprocess.Popen(
        cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export CLOSE_API_URL="):
            return proc, line.split("=", 1)[1].strip()
    raise SystemExit("the sandbox did not start")


def export(url: str, out: Path, label: str, *args: str) -> Result:
    cmd = [sys.executable, "-m", "closecsv", "--api-url", url, "export", "activities"]
    cmd += ["--out-dir", str(out), "--force", *args]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    found = SUMMARY.search(err)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"export failed ({proc.returncode}):\n{err}")
    rows, _, route, requests = found.groups()
    count, sent = int(rows.replace(",", "")), int(requests.replace(",", ""))
    return Result(label, count, seconds, route, sent, usage.ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="lead route on 500 leads only")
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--activities", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="closecsv-bench-") as tmp:
        work = Path(tmp)
        bench_leads = seed(work / "org.json", args.leads, args.activities)
        proc, url = start_sandbox(work / "org.json")
        try:
            results = run_all(url, work, bench_leads, args.quick)
        finally:
            proc.terminate()
            proc.wait()
    print()
    print(table(results))
    print()
    for fmt in ("csv", "parquet"):
        small, large = (r for r in results if r.label.startswith(f"{fmt}: org route"))
        ratio = large.peak_mb / small.peak_mb
        print(f"{fmt}: peak RSS at {large.rows} rows / at {small.rows} rows = {ratio:.2f}x")
        org = large
        search = next(r for r in results if r.label == f"{fmt}: search route, all rows")
        print(
            f"{fmt}: search route {search.per_row:.4f} requests/row (goal <= 0.0055), "
            f"peak RSS {search.peak_mb / org.peak_mb:.2f}x the org route's"
        )


def run_all(url: str, work: Path, bench_leads: list[str], quick: bool) -> list[Result]:
    since = (SEED_EPOCH - timedelta(days=36.5)).isoformat()
    results = []
    for fmt in ("csv", "parquet"):
        common = ["--strategy", "org", "--format", fmt]
        results.append(
            export(url, work / "s", f"{fmt}: org route, newest ~10%", *common, "--since", since)
        )
        results.append(export(url, work / "l", f"{fmt}: org route, all rows", *common))
        search = ["--strategy", "search", "--format", fmt]
        results.append(export(url, work / "q", f"{fmt}: search route, all rows", *search))
        print(*(r.line() for r in results[-3:]), sep="\n", flush=True)
    results.append(export(url, work / "a", "csv: auto, newest ~10%", "--since", since))
    if quick:
        subset = {"type": "or", "queries": [{"type": "id", "value": i} for i in bench_leads[:500]]}
        query = json.dumps(subset)
        lead = ["--strategy", "lead", "--lead-query", query]
        results.append(export(url, work / "d", "csv: lead route, 500 leads", *lead))
    else:
        results.append(export(url, work / "d", "csv: lead route, all rows", "--strategy", "lead"))
    return results


if __name__ == "__main__":
    main()
