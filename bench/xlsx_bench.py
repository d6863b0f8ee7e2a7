"""Reading and validating a big ``.xlsx``: time and peak RSS, next to the same rows as CSV.

A workbook is read whole (calamine holds the sheet in memory; a CSV dry run goes a slice at a
time), so this says what a big one costs.  Make the CSV and the org with
``bench/make_big_csv.py``, then the workbook from the CSV with ``--write-xlsx`` (openpyxl,
from the dev extras: the number column is written as numbers, the rest as text).  Each
measurement runs in its own child process (``os.wait4`` gives that child's own peak RSS):
``read_input`` of each file, and ``validate`` (``run_import`` dry run against an in-process
sandbox holding the leads, as ``bench/validate_bench.py`` does).

Usage::

    .venv/bin/python bench/make_big_csv.py --rows 100000 --leads 1000 --out-dir /tmp/b
    .venv/bin/python bench/xlsx_bench.py --write-xlsx /tmp/b/big_100000.csv /tmp/b/big.xlsx
    .venv/bin/python bench/xlsx_bench.py /tmp/b/big_100000.csv /tmp/b/big.xlsx /tmp/b/org.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
NUMBERS = ("custom.Duration (min)",)


def write_xlsx(csv: Path, out: Path) -> None:
    from openpyxl import Workbook

    frame = pl.read_csv(csv, infer_schema=False)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Calls")
    sheet.append(frame.columns)
    numeric = [c in NUMBERS for c in frame.columns]
    for row in frame.iter_rows():
        sheet.append([int(v) if n and v else v for v, n in zip(row, numeric, strict=True)])
    book.save(out)


def read(path: Path) -> dict[str, Any]:
    from closecsv.files.inputs import read_input

    started = time.perf_counter()
    table = read_input(path)
    return {"seconds": time.perf_counter() - started, "rows": table.data_rows}


def check(path: Path, org: Path) -> dict[str, Any]:
    from validate_bench import validate  # type: ignore[import-not-found]

    found: dict[str, Any] = validate(path, org, None)
    return found


def child(mode: str, path: Path, org: Path) -> tuple[dict[str, Any], int]:
    args = [sys.executable, __file__, "--child", mode, str(path), str(path), str(org)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    answer = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{mode} child failed")
    return json.loads(answer), usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["read", "validate"])
    parser.add_argument("--write-xlsx", action="store_true")
    parser.add_argument("csv", type=Path)
    parser.add_argument("xlsx", type=Path)
    parser.add_argument("org", type=Path, nargs="?")
    opts = parser.parse_args()
    if opts.write_xlsx:
        write_xlsx(opts.csv, opts.xlsx)
        print(f"{opts.xlsx}: {opts.xlsx.stat().st_size / 1e6:.1f} MB")
        return 0
    if opts.child:
        work = read(opts.csv) if opts.child == "read" else check(opts.csv, opts.org)
        print(json.dumps(work))
        return 0
    for path in (opts.csv, opts.xlsx):
        size = path.stat().st_size / 1e6
        got, rss = child("read", path, opts.org)
        print(f"read     {path.name:<20} {size:6.1f} MB  {got['rows']:>8,} rows  "
              f"{got['seconds']:6.2f} s  peak RSS {rss / 1024:5.0f} MB")  # fmt: skip
        if opts.org is not None:
            done, rss = child("validate", path, opts.org)
            print(f"validate {path.name:<20} {done['seconds']:6.2f} s "
                  f"(api {done['api']:.2f} s)  peak RSS {rss / 1024:5.0f} MB  "
                  f"{done['counts']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
