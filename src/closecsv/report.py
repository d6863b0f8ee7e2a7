"""What an import did: the results and errors CSVs, the summary, the JSON receipt (SPEC §4).

``<stem>.results.csv`` has every input row (all its columns) plus ``_row``, ``_status``,
``_id``, ``_lead_id``, ``_error``; ``<stem>.errors.csv`` only the failed rows, their columns
plus ``_row`` and ``_error``, so it can be fixed and imported again as it is.  An input that
already carries one of these report columns (a re-imported errors file) has it replaced, not
repeated.  The outcomes are a frame in the report's own columns (:class:`Outcomes`), joined to
the cells as read and written by Polars in slices (minimal quoting, CRLF, empty and missing
cells both empty: what :mod:`csv` writes).  Both files are written (by :class:`ReportWriter`,
in one part or, for a dry run in slices, a part a slice) under a temporary name and renamed
when complete; the temporary file is created new (``O_EXCL``, no symlink followed, mode
0600: the rows are customer data).  A failed write (disk full) is a :class:`FatalError` that
says the journal is intact, so the same command writes the reports again without sending
anything twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, overload

import polars as pl

from closecsv.errors import FatalError
from closecsv.wording import duration, plural

REPORT_COLUMNS = ("_row", "_status", "_id", "_lead_id", "_error")
ERROR_COLUMNS = ("_row", "_error")
OUTCOME_SCHEMA = pl.Schema(
    {
        "_row": pl.Int64(),
        "_status": pl.String(),
        "_id": pl.String(),
        "_lead_id": pl.String(),
        "_error": pl.String(),
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


class Outcomes(Sequence[RowResult]):
    """Every row's outcome as a frame (``OUTCOME_SCHEMA``, by row); rows read on demand."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame.sort("_row")

    @classmethod
    def of(cls, settled: pl.DataFrame, results: Iterable[RowResult]) -> Outcomes:
        """``settled`` (already a frame) and the rows' own ``results``, together."""
        lines = [(r.row, r.status, r.instance_id, r.lead_id, r.error) for r in results]
        sent = pl.DataFrame(lines, schema=OUTCOME_SCHEMA, orient="row")
        return cls(pl.concat([settled.cast(OUTCOME_SCHEMA), sent]))

    def counts(self) -> Counter[str]:
        grouped = self.frame.group_by("_status").len().iter_rows()
        return Counter({str(status): int(n) for status, n in grouped})

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

    def add(self, outcomes: Outcomes) -> None:
        self._counts.update(outcomes.counts())

    def counts(self) -> Counter[str]:
        return Counter(self._counts)

    def __len__(self) -> int:
        return sum(self._counts.values())


@dataclass(frozen=True)
class ReportPaths:
    results: Path
    errors: Path
    journal: Path

    @classmethod
    def for_input(cls, source: Path, report_dir: Path | None) -> ReportPaths:
        folder = report_dir if report_dir is not None else source.parent
        stem = source.stem
        return cls(
            results=folder / f"{stem}.results.csv",
            errors=folder / f"{stem}.errors.csv",
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

    def counts(self) -> dict[str, int]:
        if isinstance(self.results, Outcomes | Tally):
            seen = self.results.counts()
        else:
            seen = Counter(r.status for r in self.results)
        return {s: seen[s] for s in STATUS_ORDER if seen[s]}

    @property
    def failed(self) -> int:
        return self.counts().get("failed", 0)

    @property
    def exit_code(self) -> int:
        """SPEC §6: a stop first (3 or 130), then 1 if any row failed (or would fail)."""
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
    columns: Sequence[str], cells: pl.DataFrame, outcomes: Outcomes, paths: ReportPaths
) -> None:
    """Write both CSVs (temp name, then rename).  ``cells``: ``row`` (Int64, the name of its
    first column) and the file's ``columns`` as read; every outcome row has its record."""
    with ReportWriter(paths, columns) as writer:
        writer.add(cells, outcomes)


class ReportWriter:
    """The results and errors CSVs, written a part at a time (:meth:`add`, in row order) to
    temporary files that :meth:`commit` (the end of a ``with`` block without an error)
    renames into place; anything else removes them."""

    def __init__(self, paths: ReportPaths, columns: Sequence[str]) -> None:
        self.own = [c for c in columns if c not in REPORT_COLUMNS]
        self.targets = (paths.results, paths.errors)
        self.temps = [
            p.with_name(f".{p.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp") for p in self.targets
        ]
        self.files: list[IO[bytes]] = []

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def add(self, cells: pl.DataFrame, outcomes: Outcomes) -> None:
        """Append the rows of ``outcomes`` with their ``cells`` (see :func:`write_reports`)."""
        records = cells.select(pl.col(cells.columns[0]).alias("_row"), *self.own)
        frame = outcomes.frame
        if records["_row"].equals(frame["_row"]):
            table = pl.concat([records.drop("_row"), frame], how="horizontal")
        else:
            table = frame.join(records, on="_row", how="left", maintain_order="left")
        failed = table.filter(pl.col("_status") == "failed")
        parts = (table.select(*self.own, *REPORT_COLUMNS), failed.select(*self.own, *ERROR_COLUMNS))
        first = not self.files
        for n, part in enumerate(parts):
            with self._guard(n):
                if first:
                    self.targets[n].parent.mkdir(parents=True, exist_ok=True)
                    self.files.append(_create(self.temps[n]))
                # one streaming pass: Polars renders and writes the rows in batches
                _text(part).sink_csv(self.files[n], include_header=first, line_terminator="\r\n")

    def commit(self) -> None:
        """Make both files durable and rename them into place."""
        for n, fh in enumerate(self.files):
            with self._guard(n):
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
        for n, temp in enumerate(self.temps):
            with self._guard(n):
                os.replace(temp, self.targets[n])

    def abort(self) -> None:
        """Close and remove the temporary files."""
        for fh in self.files:
            with contextlib.suppress(OSError):
                fh.close()
        for temp in self.temps:
            temp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _guard(self, n: int) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            self.abort()
            raise FatalError(
                f"cannot write {self.targets[n]}: {exc.strerror or exc}",
                hint="free disk space or fix the folder's permissions, then run the same "
                "command again: the journal keeps every row, so the reports are rewritten and "
                "nothing is sent twice",
            ) from None


def _create(path: Path) -> IO[bytes]:
    """A new file for writing: never an existing one, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")


def _text(table: pl.DataFrame) -> pl.LazyFrame:
    """Empty text as missing: Polars quotes ``""``, :mod:`csv` writes nothing for both.
    (Only the columns holding one are rewritten: a scan is much cheaper than a rewrite.)"""
    texts = [c for c, t in table.schema.items() if t == pl.String]
    empty = table.select((pl.col(texts) == "").any())
    return table.lazy().with_columns(pl.col(c).replace("", None) for c in texts if empty[c][0])


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
    share = f" ({report.rate_limited} answered 429)" if report.rate_limited else ""
    lines.append(f"requests  {report.requests:,}{share}, of which lookups {report.lookups:,}")
    lines += _file_lines(report)
    lines += _stop_lines(report)
    return "\n".join(lines)


def _file_lines(report: ImportReport) -> list[str]:
    lines = [f"results   {report.paths.results}"]
    if report.failed:
        lines.append(f"errors    {report.paths.errors}  (fix and import it again)")
    if not report.dry_run:
        lines.append(f"journal   {report.paths.journal}")
    return lines


def _stop_lines(report: ImportReport) -> list[str]:
    if report.fatal is None and not report.interrupted:
        return []
    why = "interrupted" if report.fatal is None else f"stopped: {report.fatal.message}"
    return [f"{why}; run the same command again to resume (the journal keeps what was sent)"]


def receipt(report: ImportReport) -> dict[str, Any]:
    """The ``--json`` run receipt (stdout)."""
    finished = report.elapsed
    rows_done = sum(n for s, n in report.counts().items() if s != "skipped")
    return {
        "command": "validate" if report.dry_run else "import",
        "kind": report.kind,
        "input": {
            "path": str(report.source),
            "sha256": report.input_sha256,
            "rows": len(report.results),
        },
        "dry_run": report.dry_run,
        "counts": report.counts(),
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
            "errors": str(report.paths.errors),
            "journal": None if report.dry_run else str(report.paths.journal),
        },
        "warnings": list(report.warnings),
    }
