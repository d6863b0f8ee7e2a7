"""``validate`` on a big file: time as a ratio to a bare ``polars.read_csv``, and peak RSS.

Each measurement runs in its own child process (``os.wait4`` gives that child's own peak
RSS): a bare ``pl.read_csv(FILE, infer_schema=False)``, then ``run_import(..., dry_run)``
against an in-process sandbox holding the file's leads (make both with
``bench/make_big_csv.py``).  The sandbox answers inside the validating process, so its time
is measured apart (``api``) and the local work is ``validate - api``: against Close the lead
searches cost network time instead.  The child's RSS includes the sandbox's org (shown as
``rss at start``).  Goal: local work <= 3x the bare read.  Each side runs ``--runs`` times
(its own child each time) and the fastest is compared, so a cold page cache or a busy
machine does not decide the ratio; the peak RSS is the highest seen.

A dry run of a file over 16 MB goes a slice at a time (``closecsv.importing.dryrun``);
``--slice-mb``
changes the slice size, and a size above the file's reads it whole, for comparison.

Usage: ``.venv/bin/python bench/validate_bench.py /tmp/big/big_1000000.csv /tmp/big/org.json``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl

GOAL = 3.0


class TimedTransport(httpx.BaseTransport):
    """Adds the time spent answering requests to ``seconds``."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.seconds = inner, 0.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            return self.inner.handle_request(request)
        finally:
            self.seconds += time.perf_counter() - started


def bare(path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    return {"seconds": time.perf_counter() - started, "rows": frame.height}


def validate(path: Path, org: Path, slice_mb: float | None) -> dict[str, Any]:
    from closecsv.close.client import CloseClient
    from closecsv.close.config import ApiKey
    from closecsv.close.kinds import ACTIVITIES
    from closecsv.close.schema import Schema
    from closecsv.importing.importer import run_import
    from closecsv.importing.options import ImportOptions
    from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

    sandbox = Sandbox(org)
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    transport = TimedTransport(sandbox.transport())
    url = "http://sandbox.local/api/v1/"
    with (
        tempfile.TemporaryDirectory() as reports,
        CloseClient(ApiKey(SANDBOX_API_KEY), url, transport=transport) as client,
    ):
        options = ImportOptions(dry_run=True, report_dir=Path(reports))
        if slice_mb is not None:
            options.slice_bytes = int(slice_mb * 1e6)
        started = time.perf_counter()
        report = run_import(client, Schema(client), ACTIVITIES, path, options)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "api": transport.seconds,
        "requests": report.requests,
        "counts": report.counts(),
        "start_rss_kb": start_rss,
    }


def child(mode: str, path: Path, org: Path, extra: list[str]) -> tuple[dict[str, Any], int]:
    """Run one measurement in a child; its JSON answer and its own peak RSS in kB."""
    args = [sys.executable, __file__, "--child", mode, str(path), str(org), *extra]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    answer = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} child exited {proc.returncode}")
    return json.loads(answer), usage.ru_maxrss


def best(
    runs: int, measure: Callable[[], tuple[dict[str, Any], int]]
) -> tuple[dict[str, Any], int]:
    """The fastest of ``runs`` measurements (its local seconds), with the highest peak RSS."""
    seen = [measure() for _ in range(max(1, runs))]
    fastest = min(seen, key=lambda s: s[0]["seconds"] - s[0].get("api", 0.0))
    return fastest[0], max(rss for _, rss in seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["bare", "validate"])
    parser.add_argument(
        "--slice-mb",
        type=float,
        help="slice size in MB (default: the tool's own); a size above the file's reads it whole",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("csv", type=Path)
    parser.add_argument("org", type=Path)
    opts = parser.parse_args()
    if opts.child:
        if opts.child == "bare":
            work = bare(opts.csv)
        else:
            work = validate(opts.csv, opts.org, opts.slice_mb)
        print(json.dumps(work))
        return 0
    extra = [] if opts.slice_mb is None else ["--slice-mb", str(opts.slice_mb)]
    read, read_rss = best(opts.runs, lambda: child("bare", opts.csv, opts.org, extra))
    done, done_rss = best(opts.runs, lambda: child("validate", opts.csv, opts.org, extra))
    local = done["seconds"] - done["api"]
    ratio = local / read["seconds"]
    size = opts.csv.stat().st_size / 1e6
    print(f"file                {opts.csv} ({size:.0f} MB, {read['rows']:,} rows)")
    print(f"bare read           {read['seconds']:.2f} s, peak RSS {read_rss / 1024:.0f} MB")
    print(f"validate            {done['seconds']:.2f} s, {done['requests']} requests")
    print(f"  of which api      {done['api']:.2f} s (sandbox answering in-process)")
    print(f"  local work        {local:.2f} s = {ratio:.1f}x the bare read (goal <= {GOAL:.0f}x)")
    print(f"  total / bare      {done['seconds'] / read['seconds']:.1f}x")
    print(f"peak RSS            {done_rss / 1024:.0f} MB "
          f"(rss at start, sandbox loaded: {done['start_rss_kb'] / 1024:.0f} MB)")  # fmt: skip
    print(f"counts              {done['counts']}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
