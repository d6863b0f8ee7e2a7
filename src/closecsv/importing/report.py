"""What an import did: the results and errors CSVs, the summary, the JSON receipt (README:
"What an import writes").

``<stem>.results.csv`` has every input row (all its columns) plus ``_row``, ``_status``,
``_id``, ``_lead_id``, ``_error``; ``<stem>.errors.csv`` only the failed rows, their columns
plus ``_row`` and ``_error``, so it can be fixed and imported again as it is, with the same
command line (the files are in the input's encoding and delimiter).  A dry run writes
``<stem>.validate.results.csv`` and ``<stem>.validate.errors.csv`` instead, so it never
replaces a real run's files.  The outcomes are a frame in the report's own columns
(:class:`Outcomes`), joined to the cells as read and written by
:class:`~closecsv.importing.report_files.ReportWriter` (in one part or, for a dry run in slices, a
part a slice; see that module for the columns, the encoding and the errors file of a run
where nothing failed).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, overload

import polars as pl

from closecsv.errors import FatalError
from closecsv.files.json_files import Receipt
from closecsv.importing.report_files import Dialect, ReportWriter
from closecsv.wording import duration, plural

OUTCOME_SCHEMA = pl.Schema(
    {
        "_row": pl.Int64(),
        "_status": pl.String(),
        "_id": pl.String(),
        "_lead_id": pl.String(),
        "_error": pl.String(),
        "_changes": pl.String(),  # update rows: ``Field: old -> new`` joined by `` | ``
        "_changed": pl.Int64(),  # how many fields that is (not written: for the counts)
    }
)
STATUS_ORDER = (
    "created",
    "updated",
    "unchanged",
    "would_create",
    "would_update",
    "skipped",
    "failed",
)
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class RowResult:
    """The outcome of one input row."""

    row: int
    status: str
    instance_id: str | None = None
    lead_id: str | None = None
    error: str | None = None
    changes: str | None = None  # ``Field: old -> new`` items (:mod:`closecsv.importing.changes`)
    changed: int = 0  # how many fields ``changes`` lists


class Outcomes(Sequence[RowResult]):
    """Every row's outcome as a frame (``OUTCOME_SCHEMA``, by row); rows read on demand."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame.sort("_row")

    @classmethod
    def of(cls, settled: pl.DataFrame, results: Iterable[RowResult]) -> Outcomes:
        """``settled`` (already a frame) and the rows' own ``results``, together."""
        lines = [
            (r.row, r.status, r.instance_id, r.lead_id, r.error, r.changes, r.changed)
            for r in results
        ]
        sent = pl.DataFrame(lines, schema=OUTCOME_SCHEMA, orient="row")
        return cls(pl.concat([settled.cast(OUTCOME_SCHEMA), sent]))

    def counts(self) -> Counter[str]:
        grouped = self.frame.group_by("_status").len().iter_rows()
        return Counter({str(status): int(n) for status, n in grouped})

    def changed(self) -> Counter[tuple[str, str]]:
        """Per status, the fields changed (or that would be; key ``(status, "fields")``) and
        the rows that change any (``(status, "rows")``)."""
        grouped = self.frame.filter(pl.col("_changed") > 0).group_by("_status")
        sums = grouped.agg(pl.col("_changed").sum().alias("f"), pl.len().alias("r"))
        found: Counter[tuple[str, str]] = Counter()
        for status, fields, rows in sums.rows():
            found[(str(status), "fields")], found[(str(status), "rows")] = int(fields), int(rows)
        return found

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> RowResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RowResult]: ...
    def __getitem__(self, index: int | slice) -> RowResult | Sequence[RowResult]:
        if isinstance(index, slice):
            return list(self)[index]
        return RowResult(*self.frame.row(index))

    def __iter__(self) -> Iterator[RowResult]:
        return (RowResult(*line) for line in self.frame.iter_rows())


class Tally:
    """Rows per status, for a run that does not keep every row's outcome (a dry run in
    slices): what :class:`ImportReport` needs of its ``results``, a length and counts."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._changed: Counter[tuple[str, str]] = Counter()

    def add(self, outcomes: Outcomes) -> None:
        self._counts.update(outcomes.counts())
        self._changed.update(outcomes.changed())

    def counts(self) -> Counter[str]:
        return Counter(self._counts)

    def changed(self) -> Counter[tuple[str, str]]:
        return Counter(self._changed)

    def __len__(self) -> int:
        return sum(self._counts.values())


@dataclass(frozen=True)
class ReportPaths:
    results: Path
    errors: Path
    journal: Path
    # earlier errors files that differed from this run's, kept under a new name when written
    kept: list[Path] = field(default_factory=list, compare=False)

    @classmethod
    def for_input(
        cls, source: Path, report_dir: Path | None, *, dry_run: bool = False
    ) -> ReportPaths:
        """A dry run's reports are ``<stem>.validate.results.csv`` and
        ``<stem>.validate.errors.csv``: they never replace a real run's."""
        folder = report_dir if report_dir is not None else source.parent
        stem = source.stem
        run = f"{stem}.validate" if dry_run else stem
        return cls(
            results=folder / f"{run}.results.csv",
            errors=folder / f"{run}.errors.csv",
            journal=folder / f"{stem}.journal.sqlite",
        )


class Counters(Protocol):
    requests: int
    rate_limited: int


@dataclass(frozen=True)
class RunStart:
    """Clocks and request counters when a job began (before planning, if it planned)."""

    wall: datetime
    clock: float
    requests: int
    rate_limited: int
    planned: int = 0  # requests made before ``requests`` was read (a plan built elsewhere)

    @classmethod
    def now(cls, stats: Counters, planned: int = 0) -> RunStart:
        wall, clock = datetime.now().astimezone(), time.monotonic()
        return cls(wall, clock, stats.requests, stats.rate_limited, planned)

    def finish(self, report: ImportReport, stats: Counters) -> ImportReport:
        """``report`` with the start time, the elapsed time and the requests since the start."""
        report.started_at, report.elapsed = self.wall, time.monotonic() - self.clock
        report.requests = stats.requests - self.requests + self.planned
        report.rate_limited = stats.rate_limited - self.rate_limited
        return report


@dataclass
class ImportReport:
    """Returned by ``run_import``; rendered by the CLI."""

    kind: str
    source: Path
    input_sha256: str
    dry_run: bool
    results: Sequence[RowResult] | Tally  # every row, in row order (:class:`Outcomes`), or
    # only their counts (:class:`Tally`, a dry run in slices)
    paths: ReportPaths
    started_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    elapsed: float = 0.0
    requests: int = 0
    rate_limited: int = 0
    lookups: int = 0
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    fatal: FatalError | None = None  # the error that stopped the run (auth, network)
    removed_errors: Path | None = None  # an earlier run's errors file, removed: none failed

    def counts(self) -> dict[str, int]:
        if isinstance(self.results, Outcomes | Tally):
            seen = self.results.counts()
        else:
            seen = Counter(r.status for r in self.results)
        return {s: seen[s] for s in STATUS_ORDER if seen[s]}

    def changed_fields(self, what: str = "fields") -> dict[str, int]:
        """Fields changed per status (``updated``, ``would_update``; ``what="rows"``: the rows
        that change any), statuses without any left out."""
        if isinstance(self.results, Outcomes | Tally):
            seen = self.results.changed()
        else:
            seen = Counter()
            for r in (r for r in self.results if r.changed):
                seen[(r.status, "fields")] += r.changed
                seen[(r.status, "rows")] += 1
        return {s: seen[(s, what)] for s in STATUS_ORDER if seen[(s, what)]}

    @property
    def failed(self) -> int:
        return self.counts().get("failed", 0)

    @property
    def exit_code(self) -> int:
        """A stop first (3 or 130), then 1 if any row failed (or would fail), else 0."""
        if self.fatal is not None:
            return self.fatal.exit_code
        if self.interrupted:
            return EXIT_INTERRUPTED
        return 1 if self.failed else 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_reports(
    columns: Sequence[str],
    cells: pl.DataFrame,
    outcomes: Outcomes,
    paths: ReportPaths,
    dialect: Dialect | None = None,
    id_column: str | None = None,
    keys: Mapping[int, int] | None = None,
) -> Path | None:
    """Write the CSVs (temp name, then rename; :mod:`closecsv.importing.report_files`).  ``cells``:
    ``row`` (Int64, the name of its first column) and the file's ``columns`` as read; every
    outcome row has its record; ``id_column``: the kind's (see :class:`ReportWriter`).
    ``keys``: several API keys were used; the results get a ``_key`` column, the position of
    the key that sent each row.  Returns the stale errors file removed, if one was."""
    with ReportWriter(paths, columns, dialect, id_column, keys) as writer:
        writer.add(cells, outcomes)
    return writer.removed


def summary_text(report: ImportReport) -> str:
    """The one-screen summary for stderr."""
    verb = "validate" if report.dry_run else "import"
    lines = [f"warning: {w}" for w in report.warnings]  # first: the summary ends the output
    lines.append(
        f"{verb} {report.kind}: {report.source.name}, {plural(len(report.results), 'row')} "
        f"in {duration(report.elapsed)}"
    )
    counts = report.counts()
    width = max((len(s) for s in counts), default=0)
    lines += [f"  {status:<{width}}  {n:>8,}" for status, n in counts.items()]
    rows = report.changed_fields("rows")
    lines += [
        f"changes   {plural(n, 'field')} changed on {plural(rows[s], 'row')} ({s})"
        for s, n in report.changed_fields().items()
    ]
    share = f" ({report.rate_limited} answered 429)" if report.rate_limited else ""
    lines.append(f"requests  {report.requests:,}{share}, of which lookups {report.lookups:,}")
    lines += _file_lines(report)
    lines += _stop_lines(report)
    return "\n".join(lines)


def _file_lines(report: ImportReport) -> list[str]:
    lines = [f"results   {report.paths.results}"]
    if report.failed:
        lines.append(f"errors    {report.paths.errors}  (fix and import it again)")
    elif report.removed_errors is not None:
        lines.append(f"errors    none; removed the earlier run's {report.removed_errors}")
    lines += [
        f"kept      {kept}: the earlier {report.paths.errors.name}, which differed (your fixes?)"
        for kept in report.paths.kept
    ]
    if not report.dry_run:
        lines.append(f"journal   {report.paths.journal}")
    return lines


def _stop_lines(report: ImportReport) -> list[str]:
    if report.fatal is None and not report.interrupted:
        return []
    why = "interrupted" if report.fatal is None else f"stopped: {report.fatal.message}"
    return [f"{why}; run the same command again to resume (the journal keeps what was sent)"]


def receipt(report: ImportReport) -> dict[str, Any]:
    """The ``--json`` run receipt (stdout), checked by its model (``load_receipt`` reads it)."""
    finished = report.elapsed
    rows_done = sum(n for s, n in report.counts().items() if s != "skipped")
    return Receipt.model_validate(
        {
            "command": "validate" if report.dry_run else "import",
            "kind": report.kind,
            "input": {
                "path": str(report.source),
                "sha256": report.input_sha256,
                "rows": len(report.results),
            },
            "dry_run": report.dry_run,
            "counts": report.counts(),
            "changed_fields": report.changed_fields(),
            "started_at": report.started_at.astimezone(UTC).isoformat(),
            "elapsed_seconds": round(finished, 3),
            "rows_per_second": round(rows_done / finished, 2) if finished > 0 else None,
            "requests": report.requests,
            "lookups": report.lookups,
            "rate_limited": report.rate_limited,
            "exit_code": report.exit_code,
            "interrupted": report.interrupted,
            "error": report.fatal.message if report.fatal is not None else None,
            "files": {
                "results": str(report.paths.results),
                "errors": str(report.paths.errors) if report.failed else None,
                "journal": None if report.dry_run else str(report.paths.journal),
            },
            "warnings": list(report.warnings),
        }
    ).model_dump(mode="json")
