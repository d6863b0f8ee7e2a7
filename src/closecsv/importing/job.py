"""What identifies an import job and its rows, for the journal (:mod:`closecsv.importing.journal`).

A job is one input file name in one report folder, imported as one kind with the options that
give its rows their meaning (time zone, date format, type...: all but :data:`CONTINUABLE`).
Its rows are known by their content, not their place: each row's hash covers its own
non-empty cells, by the column names they are imported under (after ``--map``; columns that
are not imported are left out), so neither the column order nor an added empty column
changes it, and a later run of the same job matches the file's rows to the journal's by
content:

* a row whose content the journal knows is that row, wherever it now is: done rows are not
  sent again, even if rows were inserted above them or the file was sorted.  Identical rows
  stay distinct: they pair up first by place, then in file order.
* a row the journal does not know is new (appended, inserted, or a failed row fixed in place)
  and is sent, unless it is a create that stands where the journal has a row it created, or
  sent without learning the outcome, and that no longer matches anywhere: that row was
  edited after it was sent, and creating it again would make a second instance.  It is
  reported as failed (:func:`edited_error`) and the journal keeps the row it knew.  "Where"
  follows the nearest known rows above and below, so rows inserted elsewhere shift nothing
  (a row with known rows on one side only follows that side).

The :data:`CONTINUABLE` options and those that do not shape a payload (``--concurrency``,
``--report-dir``...) can change between runs of one job: they change which rows are read or
how, not what a row that was done meant.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

CONTINUABLE = ("limit", "on_ambiguous", "encoding", "delimiter")
"""Options of ``ImportOptions.payload_key`` that may change within a job; every other one
(``--type``, ``--timezone``, ``--date-format``, ``--multi-separator``, ``--clear-empty``,
``--status``, ``--default-region``, ``--raw``, and any option added later) is part of it."""
FLAGS = {"type_ref": "--type", "kind": "the kind"}
ADDED = ("key", "sheet")
"""Options added after journals of this format were first written: left out of a job's
settings while not given, so such a journal still matches its own command line."""


@dataclass(frozen=True)
class Job:
    """The identity of one import job: ``settings`` (:func:`job_settings`, as JSON text),
    ``hashes`` (every data row's content hash, by spreadsheet row) and ``fingerprint`` (what
    journals of schema 1 were keyed by: the file's bytes and options)."""

    settings: Mapping[str, str]
    hashes: Mapping[int, str]
    fingerprint: str = ""


def job_settings(kind: str, options: Any) -> dict[str, str]:
    """The settings of a job of ``kind`` with ``options`` (an ``ImportOptions``): the kind and
    the options that change what is sent, but for :data:`CONTINUABLE`."""
    found = {"kind": json.dumps(kind)}
    for name, value in options.payload_key().items():
        if name not in CONTINUABLE and not (name in ADDED and value is None):
            found[name] = json.dumps(value, default=str)
    return found


def changed_settings(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """``--timezone "UTC" -> "Europe/Paris"`` for each setting that differs."""
    lines = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            flag = FLAGS.get(name, "--" + name.replace("_", "-"))
            lines.append(f"{flag} {_shown(old.get(name), name)} -> {_shown(new.get(name), name)}")
    return lines


def _shown(value: str | None, name: str = "") -> str:
    if value is None:
        return "(not given)" if name in ADDED else "(not recorded)"
    decoded = json.loads(value)
    if decoded is None:
        return "(not given)"
    if isinstance(decoded, bool):
        return "on" if decoded else "off"
    return repr(decoded)


def row_hashes(cells: pl.DataFrame, targets: Mapping[str, str]) -> dict[int, str]:
    """Each row's content hash: ``cells`` has the row number first, then the file's columns;
    ``targets`` names the imported ones (file column -> column name after ``--map``)."""
    used = sorted((t, c) for c, t in targets.items() if c in cells.columns)
    names = [t for t, _ in used]
    frame = cells.select(pl.col(cells.columns[0]), *(pl.col(c).cast(pl.String) for _, c in used))
    found: dict[int, str] = {}
    for line in frame.iter_rows():
        given = [(t, v) for t, v in zip(names, line[1:], strict=True) if v]
        text = json.dumps(given, ensure_ascii=False)
        found[int(line[0])] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return found


@dataclass(frozen=True)
class Known:
    """A row the journal holds: its id there, the row it was last seen at, its hash, and
    whether a create of another content there would risk a second instance."""

    id: int
    row: int
    hash: str | None
    risky: bool


@dataclass
class Matching:
    """File rows matched to journal rows (``ids``), and the create rows that stand where a
    row the journal created (or may have) was before it was edited (``edited``)."""

    ids: dict[int, int]
    edited: dict[int, Known]


def match(hashes: Mapping[int, str], creates: Collection[int], known: Sequence[Known]) -> Matching:
    """Match the file's rows (``hashes``) to the journal's ``known`` rows by content."""
    ids = _by_content(hashes, known)
    taken = set(ids.values())
    orphans = {k.row: k for k in known if k.risky and k.id not in taken}
    edited: dict[int, Known] = {}
    if not orphans:
        return Matching(ids, edited)
    was = {k.id: k.row for k in known}
    rows = sorted(hashes)
    above = _offsets(rows, ids, was)
    below = _offsets(rows[::-1], ids, was)
    for row in rows:
        if row in ids or row not in creates:
            continue
        shifts = {s for s in (above[row], below[row]) if s is not None} or {0}
        for place in sorted(row + shift for shift in shifts):
            if place in orphans:
                edited[row] = orphans[place]
                break
    return Matching(ids, edited)


def _by_content(hashes: Mapping[int, str], known: Iterable[Known]) -> dict[int, int]:
    """Pairs of file row -> journal id with the same hash: same place first, then in order."""
    stored: dict[str, list[Known]] = defaultdict(list)
    for k in sorted(known, key=lambda k: (k.row, k.id)):
        if k.hash is not None:
            stored[k.hash].append(k)
    in_file: dict[str, list[int]] = defaultdict(list)
    for row in sorted(hashes):
        if hashes[row] in stored:
            in_file[hashes[row]].append(row)
    ids: dict[int, int] = {}
    for digest, rows in in_file.items():
        candidates = stored[digest]
        at = {k.row: k.id for k in candidates}
        used = {at[r] for r in rows if r in at}
        ids.update((r, at[r]) for r in rows if r in at)
        rest = [k.id for k in candidates if k.id not in used]
        ids.update(zip((r for r in rows if r not in at), rest, strict=False))
    return ids


def _offsets(
    rows: Sequence[int], ids: Mapping[int, int], was: Mapping[int, int]
) -> dict[int, int | None]:
    """For each row, how far the nearest matched row before it (in ``rows``' order) moved
    (None: no row before it matched; rows past a ``--limit`` say nothing about its place)."""
    offset: int | None = None
    found: dict[int, int | None] = {}
    for row in rows:
        if row in ids:
            offset = was[ids[row]] - row
        found[row] = offset
    return found


def edited_error(row: int, known: Any, id_column: str) -> str:
    """The ``_error`` of a create row that stands where ``known`` (a journal ``Entry``) was."""
    if known.status == "created" and known.instance_id:
        iid = known.instance_id
        return (
            f"row {row} was already created as {iid} by this job, with other values (as row "
            f"{known.row} then); it is not created again: edit {iid} in Close, or put {iid} in "
            f"its {id_column} column to send it as an update, or restore the row as it was"
        )
    return (
        f"row {row} differs from the row {known.row} this job already sent, whose outcome is "
        "unknown; it is not sent, to avoid a second instance: restore the row as it was and run "
        "the same command again (closecsv then checks Close for it), or import the new values "
        "as a new file once you have checked Close"
    )
