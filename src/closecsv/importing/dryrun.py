"""A dry run of a big file, a slice at a time: the same reports in bounded memory.

``validate`` (and ``import --dry-run``) of a file bigger than ``ImportOptions.slice_bytes``
reads it in slices cut at record boundaries (:func:`closecsv.files.csvbytes.split_records`), and
plans, settles and writes each slice's rows before it reads the next, so memory follows the
slice, not the file.  What the whole-file path says is kept exactly:

- every slice after the first is read behind the file's own lines up to the header, and its
  rows are numbered on from where the last slice stopped;
- one :class:`~closecsv.importing.plan.Planner` serves the file: leads, users and objects are looked
  up once and cached across slices;
- the types in play are the union of the slices' own.  The first slice's are a guess; when a
  later slice names another type the reports so far are dropped, the rest of the file is
  read to learn the union, and the run starts again with it (at most once);
- warnings are merged: blank lines and Excel-looking numbers are counted over the file;
- ``--limit`` counts rows over the file; later slices are still read and checked.

A problem with the file itself (an ``InputError``: a bad byte, a stray quote, a header) makes
this path step aside (``None``): the whole-file reader then says it with the file's own line
numbers.  A dry run that stops (Ctrl-C, an auth failure) raises and leaves no reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from closecsv.close.api import ReadApi
from closecsv.close.kinds import Kind
from closecsv.close.schema import Schema, TypeInfo
from closecsv.errors import InputError
from closecsv.files.csvbytes import Slices, split_records
from closecsv.files.csvio import CsvTable, blank_warning, parse_table
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import ExcelHits, Plan, Planner, excel_warnings, requests_made
from closecsv.importing.report import ImportReport, Outcomes, ReportPaths, Tally
from closecsv.importing.report_files import Dialect, ReportWriter
from closecsv.progress import Progress

Settle = Callable[[Plan, Progress], Outcomes]


class _Again(Exception):
    """The types in play were guessed wrong: go again with these."""

    def __init__(self, types: list[TypeInfo]) -> None:
        super().__init__()
        self.types = types


def dry_run_in_slices(
    client: ReadApi,
    schema: Schema,
    kind: Kind,
    path: Path,
    options: ImportOptions,
    progress: Progress,
    settle: Settle,
) -> ImportReport | None:
    """The dry run's report, or ``None`` when the file is small or must be read whole.

    ``settle`` gives a slice's plan its outcomes (updates are compared with Close).
    """
    if not options.dry_run or options.encoding is not None or options.key is not None:
        return None  # --key: repeated keys are found over the whole file
    slices = split_records(path, options.slice_bytes)
    if slices is None:
        return None
    options.check()
    planner = Planner(client, schema, kind, options)
    display = _Display(progress, requests_made(client))
    try:
        try:
            return _Pass(slices, planner, display, settle, client).run(None)
        except _Again as again:
            display.note(
                f"{path.name}: rows further down name types the first rows do not; "
                "checking the file again with all of them"
            )
            return _Pass(slices, planner, display, settle, client).run(again.types)
    except (InputError, _Again):
        return None  # read whole, so that the error names the file's own lines
    finally:
        progress.close()


@dataclass
class _Pass:
    """One pass over the slices with the types in play given, or guessed from the first."""

    slices: Slices
    planner: Planner
    display: _Display
    settle: Settle
    client: ReadApi
    named: list[TypeInfo] = field(default_factory=list)  # the union of the slices' types
    tally: Tally = field(default_factory=Tally)
    reading: dict[str, None] = field(default_factory=dict)  # ordered sets of warnings
    header: dict[str, None] = field(default_factory=dict)
    excel: dict[str, ExcelHits] = field(default_factory=dict)
    blank_lines: int = 0
    removed: Path | None = None  # an earlier dry run's errors file

    def run(self, types: list[TypeInfo] | None) -> ImportReport | None:
        """The report; raises :class:`_Again` when ``types`` were guessed wrong."""
        options = self.planner.options
        paths = ReportPaths.for_input(self.slices.path, options.report_dir, dry_run=True)
        writer: ReportWriter | None = None
        guessed = wrong = False
        try:
            for table in _tables(self.slices, self.planner.options):
                mine = self.planner.types_named(table) if table.frame.height else []
                self._learn(mine)
                if types is None and mine:
                    types, guessed = mine, not self._every_type(mine)
                wrong = wrong or not _within(mine, types or [])
                self.reading.update(dict.fromkeys(table.warnings))
                self.blank_lines += table.blank_lines
                if wrong or types is None:
                    continue  # no rows yet; or read on to learn every slice's types
                dialect = Dialect("utf-8", options.delimiter)  # a file read in slices is UTF-8
                writer = writer or ReportWriter(paths, table.columns, dialect)
                try:
                    self._slice(table, types, writer)
                except InputError:
                    if not guessed:
                        raise
                    wrong = True  # the header may name fields of types further down
            if types is None:
                return None  # no rows at all: the whole-file path says so
            if wrong or not _within(types, self.named):
                raise _Again(self._in_schema_order())
            if writer is not None:
                writer.commit()
                self.removed = writer.removed
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        return self._report(paths)

    def _slice(self, table: CsvTable, types: Sequence[TypeInfo], writer: ReportWriter) -> None:
        plan = self.planner.plan(table, types)
        if not self.tally:
            estimate = self.slices.lines - table.header_lines
            limit = self.planner.options.limit
            self.display.begin(estimate if limit is None else min(limit, estimate))
        before = requests_made(self.client)
        outcomes = self.settle(plan, self.display)
        self.display.settling += requests_made(self.client) - before
        writer.add(plan.cells, outcomes)
        self.tally.add(outcomes)
        excel = excel_warnings(plan.excel)
        self.header.update(dict.fromkeys(w for w in plan.warnings if w not in excel))
        for column, hits in plan.excel.items():
            self.excel[column] = self.excel[column] + hits if column in self.excel else hits

    def _every_type(self, types: list[TypeInfo]) -> bool:
        return _within(self.planner.schema.types(self.planner.kind), types)

    def _learn(self, mine: list[TypeInfo]) -> None:
        known = {t.id for t in self.named}
        self.named += [t for t in mine if t.id not in known]

    def _in_schema_order(self) -> list[TypeInfo]:
        ids = {t.id for t in self.named}
        every = self.planner.schema.types(self.planner.kind)
        ordered = [t for t in every if t.id in ids]
        return ordered if len(ordered) == len(ids) else self.named

    def _report(self, paths: ReportPaths) -> ImportReport:
        self.display.resize(self.display.done)
        kind, source = self.planner.kind, self.slices.path
        report = ImportReport(kind.name, source, self.slices.sha256, True, self.tally, paths)
        report.removed_errors = self.removed
        spent = requests_made(self.client) - self.display.requests_at_start
        report.lookups = spent - self.display.settling  # planning's share, as in a whole run
        # in the whole-file order: reading, blank lines, the header, Excel numbers
        blank = blank_warning(source, self.blank_lines)
        report.warnings = [*self.reading, *blank, *self.header, *excel_warnings(self.excel)]
        return report


class _Display:
    """The run's one progress display, started once (a second pass adds to its total);
    each slice's executor starts and closes its own view of it, which does nothing.  It also
    keeps the run's request counts, which outlive a pass."""

    def __init__(self, shown: Progress, requests_at_start: int) -> None:
        self.shown = shown
        self.requests_at_start = requests_at_start
        self.settling = 0  # requests made settling update rows; the others were look-ups
        self.done = 0
        self.started = False

    def begin(self, total: int) -> None:
        if self.started:
            self.shown.resize(self.done + total)
        else:
            self.shown.start(total, 0)
            self.started = True

    def start(self, total: int, already: int) -> None:
        pass

    def advance(self, status: str, rows: int = 1) -> None:
        self.done += rows
        self.shown.advance(status, rows)

    def note(self, message: str) -> None:
        self.shown.note(message)

    def resize(self, total: int) -> None:
        self.shown.resize(total)

    def close(self) -> None:
        pass


def _within(types: Sequence[TypeInfo], among: Sequence[TypeInfo]) -> bool:
    return {t.id for t in types} <= {t.id for t in among}


def _tables(slices: Slices, options: ImportOptions) -> Iterator[CsvTable]:
    """Each slice read as a table of the file: rows numbered on, blank lines counted once."""
    prefix, offset, left = b"", 0, options.limit
    lines = 0  # the file's lines before this slice
    first: CsvTable | None = None
    for body in slices.read():
        table = parse_table(
            prefix + body,
            slices.path,
            delimiter=options.delimiter,
            limit=left,
            sha256=slices.sha256,
            row_offset=offset,
            line_offset=lines - (first.header_lines if first is not None else 0),
        )
        lines += body.count(b"\n")
        if first is None:
            first, prefix = table, _first_lines(body, table.header_lines)
        elif table.columns != first.columns:
            raise InputError("a slice's header differs from the file's")  # read whole
        else:
            table.blank_lines -= first.leading_blank
        offset += table.records
        left = None if left is None else left - table.frame.height
        yield table


def _first_lines(data: bytes, count: int) -> bytes:
    """The first ``count`` lines of ``data``, with their line breaks."""
    end = 0
    for _ in range(count):
        found = data.find(b"\n", end)
        if found < 0:
            return data
        end = found + 1
    return data[:end]
