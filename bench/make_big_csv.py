"""Write a big Discovery Call import file and the sandbox org whose leads it names.

The org file holds the seed plus ``--leads`` bench leads (``bench<n>@example.com``); the CSV
has ``--rows`` rows spread over those leads' emails, every one valid, with a few columns of
each sort the validator converts (choices, number, text, textarea, date-time).  Both go to
``--out-dir``; neither is meant to be committed.

Usage: ``.venv/bin/python bench/make_big_csv.py --rows 1000000 --leads 10000 --out-dir /tmp/big``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

from closecsv.sandbox import Sandbox

HEADER = {
    "custom_activity_type": pl.lit("Discovery Call"),
    "lead_email": pl.format("bench{}@example.com", pl.col("n") % pl.col("leads")),
    "date_created": pl.format(
        "2024-{}-{}T{}:{}:00+00:00",
        (1 + pl.col("n") % 12).cast(pl.String).str.zfill(2),
        (1 + pl.col("n") % 28).cast(pl.String).str.zfill(2),
        (pl.col("n") % 24).cast(pl.String).str.zfill(2),
        (pl.col("n") % 60).cast(pl.String).str.zfill(2),
    ),
    "custom.Outcome": pl.lit(["Interested", "Not interested", "Follow up"]).list.get(
        pl.col("n") % 3
    ),
    "custom.Duration (min)": (5 + pl.col("n") % 55).cast(pl.String),
    "custom.Reference Code": pl.format("BENCH-{}", pl.col("n").cast(pl.String).str.zfill(7)),
    "custom.Notes": pl.format('Call {}, spoke about "pricing", next steps', pl.col("n")),
}


def populate(org: Path, leads: int) -> None:
    """An org file holding the seed plus ``leads`` leads ``bench<n>@example.com``."""
    with Sandbox(org) as sandbox:
        sandbox.populate(leads=leads, activities=0, activity_types=0)


def write_csv(path: Path, rows: int, leads: int) -> None:
    """``rows`` valid Discovery Call rows over ``leads`` lead emails, written by Polars."""
    base = pl.DataFrame({"n": pl.int_range(0, rows, eager=True)}).with_columns(leads=pl.lit(leads))
    base.select(**HEADER).write_csv(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--out-dir", type=Path, required=True)
    opts = parser.parse_args()
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    org, csv_path = opts.out_dir / "org.json", opts.out_dir / f"big_{opts.rows}.csv"
    if not org.exists():
        populate(org, opts.leads)
    write_csv(csv_path, opts.rows, opts.leads)
    size = csv_path.stat().st_size / 1e6
    print(f"{csv_path} ({size:.0f} MB), {org}, in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
