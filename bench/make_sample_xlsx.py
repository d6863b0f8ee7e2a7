"""Write ``sample_csvs/discovery_calls_q2.xlsx``: a workbook a newcomer can import as it is.

Its first sheet, ``About``, says what the file is; the second, ``Calls``, holds Discovery
Calls typed the way Excel users type them: date-time and date cells, whole and decimal numbers,
reference codes as text with leading zeros, a ``pinned`` column of booleans and an empty row.
Import it with ``--sheet Calls``.  The rows are new records (not those of
``discovery_calls.csv``), so the demo imports both without duplicates.

Usage: ``.venv/bin/python bench/make_sample_xlsx.py [--out sample_csvs/discovery_calls_q2.xlsx]``
(openpyxl, from the dev extras; the file is committed, so run this only to change it).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook

OUT = Path(__file__).resolve().parents[1] / "sample_csvs" / "discovery_calls_q2.xlsx"
HEADER = [
    "custom_activity_type",
    "lead_email",
    "user",
    "date_created",
    "pinned",
    "custom.Outcome",
    "custom.Duration (min)",
    "custom.Reference Code",
    "custom.Next Step Date",
    "custom.Notes",
]
CALLS: list[list[Any]] = [
    ["alice.clark220@example.org", "ada@example.com", (4, 2, 9, 30), True, "Interested", 40,
     "00731", (4, 16), "Asked for the Q2 price list."],
    ["bob.davis331@example.org", "grace@example.com", (4, 3, 14, 0), False, "Follow up", 22.5,
     "00732", None, "Call back after the audit."],
    None,  # an empty row: skipped, and the rows after it keep their sheet numbers
    ["carol.clark130@example.org", "Ada Lovelace", (4, 5, 11, 15), False, "Not interested", 15,
     "00733", None, "Happy with their current tool."],
    ["dave.clark580@example.org", "ada@example.com", (4, 8, 16, 45), True, "Interested", 55,
     "00734", (4, 22), "Wants a pilot for two teams."],
]  # fmt: skip


def build(out: Path) -> Path:
    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "About"
    about.append(["Discovery Calls, Q2 (a closecsv sample)"])
    about.append(["Import the Calls sheet: closecsv import activities FILE --sheet Calls"])
    calls = book.create_sheet("Calls")
    calls.append(HEADER)
    for row in CALLS:
        calls.append(_cells(row) if row else [])
    for cell in calls["H"][1:]:
        cell.number_format = "@"  # text: the leading zeros stay
    book.save(out)
    return out


def _cells(row: list[Any]) -> list[Any]:
    email, user, when, pinned, outcome, minutes, ref, next_step, notes = row
    return [
        "Discovery Call",
        email,
        user,
        dt.datetime(2024, *when),
        pinned,
        outcome,
        minutes,
        ref,
        dt.date(2024, *next_step) if next_step else None,
        notes,
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    print(build(parser.parse_args().out))
