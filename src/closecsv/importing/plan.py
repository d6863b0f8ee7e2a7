"""The import plan: read, check headers, convert values and resolve leads; reads only.

:func:`build_plan` is the first half of the import pipeline (docs/ARCHITECTURE.md); the
executor (:mod:`closecsv.importing.importer`) sends what it plans.  File-level problems raise
:class:`InputError` (exit 2) before any write; row-level problems become ``failed`` rows
whose ``error`` names the row, the column, the value and the reason.

Rows: a filled id column makes an **update** (type from the instance; a given type is put on
``type_id`` for the executor to check; only given cells are sent, ``--clear-empty`` turns empty
custom cells into ``clear``); otherwise a **create**, which needs a type (column or
``--type``), a lead and, for objects, a ``name``.  Lead columns are looked up for creates
only: an update keeps its instance's lead (its ``lead_id`` cell, if any, scopes contact and
object look-ups).  ``date_created`` is also sent as ``activity_at`` unless that column is given.
With ``--key``, a row without an id that matches one instance by its key field becomes an
update of it (:mod:`closecsv.importing.keys`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from closecsv.close.api import ReadApi
from closecsv.close.kinds import ACTIVITIES, LEAD_COLUMNS, Kind
from closecsv.close.schema import FieldInfo, Schema, TypeInfo, suggest
from closecsv.files.cells import unneutralise_expr
from closecsv.files.csvio import READ_ERROR, ROW, CsvTable
from closecsv.files.inputs import read_input
from closecsv.importing.changes import Emails
from closecsv.importing.headers import Columns, apply_map, check_headers, load_map
from closecsv.importing.job import Job, job_settings, row_hashes
from closecsv.importing.keys import KeyIndex, by_key
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan_rows import ACTION, TYPE_ERROR, TYPE_ID, PlannedRow, PlannedRows
from closecsv.importing.plan_values import assemble, convert_columns
from closecsv.importing.report_files import Dialect
from closecsv.importing.resolve import LEAD_ERROR, LEAD_ID, Resolver

EXCEL_NUMBER = r"^\s*[+-]?\d(?:\.\d+)?[Ee]\+\d+\s*$"
TEXT_STANDARD = ("name", "lead_phone")


@dataclass(frozen=True)
class ExcelHits:
    """Cells of one column that look like Excel's scientific notation: how many, the first."""

    count: int
    example: str
    row: int

    def __add__(self, later: ExcelHits) -> ExcelHits:
        return ExcelHits(self.count + later.count, self.example, self.row)


@dataclass
class Plan:
    """What to send, as frames: ``cells`` is the file as read (``ROW`` and the file's own
    columns, for the reports), ``planned`` every row's action, lead, error and payload."""

    kind: Kind
    source: Path
    columns: list[str]
    planned: PlannedRows
    cells: pl.DataFrame
    fingerprint: str  # the file's bytes and options: how journals of schema 1 knew a job
    blank_lines: int
    warnings: list[str] = field(default_factory=list)
    lookups: int = 0
    organization: str | None = None  # the API key's org: the journal refuses another
    default_user: str | None = None  # activities: the user of rows without one (journaled)
    excel: dict[str, ExcelHits] = field(default_factory=dict)  # behind the Excel warnings
    dialect: Dialect = field(default_factory=Dialect)  # as read; the reports are written so
    id_label: str | None = None  # the id column as messages name it, when --map renamed it
    settings: dict[str, str] = field(default_factory=dict)  # what identifies the job
    imported: dict[str, str] = field(default_factory=dict)  # file column -> name after --map
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)  # --key: instances by id
    keyed: frozenset[int] = frozenset()  # --key: the rows that update the instance they matched
    emails: Emails | None = None  # user id -> email (``_changes``), from the users looked up

    def job(self) -> Job:
        """The job's identity for the journal: its settings and each row's content hash."""
        hashes = row_hashes(self.cells, self.imported)
        return Job(self.settings, hashes, self.fingerprint)

    def pending(self, dry_run: bool) -> list[PlannedRow]:
        """The rows the executor handles one by one: updates, and creates unless dry."""
        return self.planned.pending(dry_run)

    def settled(self, dry_run: bool) -> pl.DataFrame:
        """The outcomes of the other rows: failed, and in a dry run the would-be creates."""
        return self.planned.settled(dry_run)

    def every_row(self) -> list[PlannedRow]:
        """Every row as a :class:`PlannedRow`, in file order (one object a row)."""
        return self.planned.every_row()

    def cells_of(self, row: int) -> dict[str, str]:
        """The record of spreadsheet row ``row`` as read, by column name."""
        [record] = self.cells.filter(pl.col(ROW) == row).drop(ROW).fill_null("").to_dicts()
        return record


def build_plan(
    client: ReadApi,
    schema: Schema,
    kind: Kind,
    path: Path,
    options: ImportOptions,
    default_user: str | None = None,
) -> Plan:
    """Plan the import of ``path``; raises :class:`InputError` for file-level problems.
    ``default_user``: the user of rows without one that the job's journal recorded."""
    options.check()
    before = requests_made(client)
    table = read_input(
        path,
        encoding=options.encoding,
        delimiter=options.delimiter,
        limit=options.limit,
        sheet=options.sheet,
    )
    planner = Planner(client, schema, kind, options)
    planner.resolver.default_user = default_user
    plan = planner.plan(table, planner.types_named(table))
    plan.warnings[:0] = table.warnings
    plan.dialect = Dialect(table.encoding, options.delimiter)
    plan.lookups = requests_made(client) - before
    return plan


class Planner:
    """Plans the tables of one file (the whole file, or its slices in turn): one column map
    and one :class:`Resolver`, whose look-ups are cached from one table to the next."""

    def __init__(self, client: ReadApi, schema: Schema, kind: Kind, options: ImportOptions) -> None:
        self.schema, self.kind, self.options = schema, kind, options
        self.mapping = load_map(options.map_file) if options.map_file else {}
        self.resolver = Resolver(client, options.default_region, options.on_ambiguous)
        self.keys = KeyIndex(client, kind, options.concurrency) if options.key else None

    def types_named(self, table: CsvTable) -> list[TypeInfo]:
        """The types in play for ``table``: ``--type``, or those its type column names."""
        targets, _ = apply_map(table.columns, self.mapping)
        return _types_in_play(self.schema, self.kind, table.frame, targets, self.options)

    def plan(self, table: CsvTable, types: Sequence[TypeInfo]) -> Plan:
        """The plan of ``table`` with ``types`` in play.  Its warnings are the header's and
        the Excel-number ones (``table.warnings`` are the caller's to add)."""
        kind, options, resolver = self.kind, self.options, self.resolver
        cols = check_headers(table.columns, kind, types, self.mapping)
        keyed = by_key(options.key, cols, types, kind, self.keys)  # a bad --key: before reads
        frame = _unescape(table.frame, table.columns, cols, options.raw)
        frame = _with_types(frame, cols, self.schema, kind, options)
        frame = _with_leads(frame, cols, resolver)
        frame, outputs = convert_columns(frame, cols, kind, types, options, resolver)
        frame, sent_cols = keyed.match(frame, outputs) if keyed else (frame, cols)
        planned = assemble(frame, sent_cols, kind, types, outputs, options, resolver)
        excel = excel_numbers(frame, cols)
        return Plan(
            kind,
            table.path,
            table.columns,
            planned,
            table.frame.select(ROW, *table.columns),
            _fingerprint(table.sha256, kind, options, self.mapping),
            table.blank_lines,
            [*cols.warnings, *excel_warnings(excel)],
            organization=resolver.organization(),  # cached when users were looked up
            default_user=resolver.default_user_id() if kind is ACTIVITIES else None,
            excel=excel,
            id_label=_id_label(cols, kind),
            settings=job_settings(kind.name, options),
            imported=_imported(table.columns, cols, self.mapping),
            listed=self.keys.listed if self.keys else {},
            keyed=keyed.rows if keyed else frozenset(),
            emails=lambda: resolver.users().email_by_id,
        )


def _id_label(cols: Columns, kind: Kind) -> str | None:
    column = cols.standard.get(kind.id_column)
    return cols.label(column) if column in cols.renamed else None


def excel_numbers(frame: pl.DataFrame, cols: Columns) -> dict[str, ExcelHits]:
    """Text cells that look like numbers Excel turned into ``1.23457E+11``, per column."""
    texts = [c for c, by_type in cols.custom.items() if _texty(by_type.values())]
    texts += [cols.standard[c] for c in TEXT_STANDARD if c in cols.standard]
    if not texts or frame.height == 0:
        return {}
    hits = frame.select(
        *(pl.col(c).str.contains(EXCEL_NUMBER).fill_null(False).alias(c) for c in texts)
    )
    found: dict[str, ExcelHits] = {}
    for column in (c for c in texts if hits[c].any()):
        first = int(hits[column].arg_max() or 0)
        found[column] = ExcelHits(int(hits[column].sum()), frame[column][first], frame[ROW][first])
    return found


def excel_warnings(hits: dict[str, ExcelHits]) -> list[str]:
    """One warning per column of :func:`excel_numbers`."""
    return [
        f"column {column!r}: {hit.count} value(s) look like Excel scientific "
        f"notation (e.g. {hit.example!r} on row {hit.row}): the digits "
        "past the 15th are lost; they are imported as written. To keep them, format the "
        "column as Text in Excel before saving"
        for column, hit in hits.items()
    ]


def _texty(fields: Iterable[FieldInfo]) -> bool:
    return any(f.type in ("text", "textarea", "hidden") for f in fields)


def requests_made(client: ReadApi) -> int:
    """The requests ``client`` has made so far (0 for a client that does not count)."""
    stats = getattr(client, "stats", None)
    return int(getattr(stats, "requests", 0))


def _imported(columns: Sequence[str], cols: Columns, mapping: dict[str, str]) -> dict[str, str]:
    targets, _ = apply_map(columns, mapping)
    return {c: t for c, t in targets.items() if c not in cols.ignored}


def _fingerprint(sha: str, kind: Kind, options: ImportOptions, mapping: dict[str, str]) -> str:
    """The identity journals of the first format were tied to (file bytes and options); a
    journal of that format continues only when this matches.  Options added since are left
    out while at their default, so such a journal still matches its own command line."""
    changing = options.payload_key()
    for added in ("decimal_comma", "key"):
        if not changing.get(added):
            changing.pop(added, None)
    key = {"file": sha, "kind": kind.name, "options": changing, "map": mapping}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _types_in_play(
    schema: Schema, kind: Kind, frame: pl.DataFrame, targets: dict[str, str], options: ImportOptions
) -> list[TypeInfo]:
    """``--type``, or the types named in the type column (all types if a row names none)."""
    if options.type_ref:
        return [schema.find(kind, options.type_ref)]
    by_target = {t: c for c, t in targets.items()}
    column = by_target.get(kind.type_column)
    if column is None or frame[column].null_count() > 0:
        return schema.types(kind)
    named = {str(v).strip() for v in frame[column].unique().to_list()}
    present = [t for t in schema.types(kind) if t.id in named or t.name in named]
    known = {t.id for t in present} | {t.name for t in present}
    if not named or not named <= known:  # no rows, or unknown names (those rows fail)
        return schema.types(kind)
    return present


def _unescape(frame: pl.DataFrame, columns: list[str], cols: Columns, raw: bool) -> pl.DataFrame:
    """Un-escape the used cells (the plan keeps the frame as read for the reports)."""
    if raw:
        return frame
    used = [c for c in columns if c not in cols.ignored]
    if not used or frame.height == 0:
        return frame
    # only columns with a cell starting with ' can change: a cheap test skips the regex
    quoted = frame.select(pl.col(used).cast(pl.String).str.starts_with("'").any())
    escaped = [c for c in used if quoted[c][0]]
    return frame.with_columns(unneutralise_expr(pl.col(c)).alias(c) for c in escaped)


def _type_answers(
    values: list[str], schema: Schema, kind: Kind, forced: TypeInfo | None, label: str
) -> dict[str, tuple[str | None, str | None]]:
    """Per distinct type cell: ``(type id, error)``; ``label`` names the type column."""
    known = {t.name: t.id for t in schema.types(kind)} | {t.id: t.id for t in schema.types(kind)}
    answers: dict[str, tuple[str | None, str | None]] = {}
    for value in values:
        type_id = known.get(value.strip())
        if type_id is None:
            hint = suggest(value, [t.name for t in schema.types(kind)]) or "see `closecsv schema`"
            answers[value] = None, f"column {label}: unknown type {value!r} ({hint})"
        elif forced is not None and type_id != forced.id:
            answers[value] = (
                None,
                (f"column {label}: {value!r} is not the --type {forced.name!r}"),
            )
        else:
            answers[value] = type_id, None
    return answers


def _with_types(
    frame: pl.DataFrame, cols: Columns, schema: Schema, kind: Kind, options: ImportOptions
) -> pl.DataFrame:
    """Add ``ACTION`` (create/update), ``TYPE_ID`` and ``TYPE_ERROR`` to every row."""
    forced = schema.find(kind, options.type_ref) if options.type_ref else None
    id_col, type_col = cols.standard.get(kind.id_column), cols.standard.get(kind.type_column)
    update = pl.col(id_col).is_not_null() if id_col else pl.lit(False)
    frame = frame.with_columns(
        pl.when(update).then(pl.lit("update")).otherwise(pl.lit("create")).alias(ACTION)
    )
    fallback = pl.lit(forced.id if forced else None, dtype=pl.String)
    if type_col is None:
        return frame.with_columns(
            fallback.alias(TYPE_ID), pl.lit(None, pl.String).alias(TYPE_ERROR)
        )
    values = [str(v) for v in frame[type_col].drop_nulls().unique().to_list()]
    answers = _type_answers(values, schema, kind, forced, cols.label(type_col))
    ids = {k: v[0] for k, v in answers.items()}
    errors = {k: v[1] for k, v in answers.items()}
    cell = pl.col(type_col)
    return frame.with_columns(
        pl.when(cell.is_null())
        .then(fallback)
        .otherwise(cell.replace_strict(ids, default=None, return_dtype=pl.String))
        .alias(TYPE_ID),
        cell.replace_strict(errors, default=None, return_dtype=pl.String).alias(TYPE_ERROR),
    )


def _with_leads(frame: pl.DataFrame, cols: Columns, resolver: Resolver) -> pl.DataFrame:
    """``LEAD_ID``/``LEAD_ERROR`` for create rows (looked up in batches); updates keep theirs."""
    lead_cols = {c: cols.standard[c] for c in LEAD_COLUMNS if c in cols.standard}
    create = (pl.col(ACTION) == "create") & pl.col(READ_ERROR).is_null()
    # every row, with the identifiers of the others blanked: the answer lines up with frame
    wanted = frame.select(
        ROW, *(pl.when(create).then(pl.col(c)).alias(c) for c in lead_cols.values())
    )
    found = resolver.resolve_leads(wanted, lead_cols)
    frame = frame.with_columns(found[LEAD_ID], found[LEAD_ERROR])
    given = pl.col(lead_cols["lead_id"]) if "lead_id" in lead_cols else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.when(pl.col(ACTION) == "update").then(given).otherwise(pl.col(LEAD_ID)).alias(LEAD_ID)
    )


__all__ = ["ImportOptions", "Plan", "PlannedRow", "build_plan"]
