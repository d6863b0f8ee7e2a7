"""What an import did: the results and errors CSVs, the summary, the JSON receipt (SPEC §4).

``<stem>.results.csv`` has every input row (all its columns) plus ``_row``, ``_status``,
``_id``, ``_lead_id``, ``_error``; ``<stem>.errors.csv`` only the failed rows, their columns
plus ``_row`` and ``_error``, so it can be fixed and imported again as it is.  An input that
already carries one of these report columns (a re-imported errors file) has it replaced, not
repeated.  Both files are written under a temporary name and renamed when complete; the
temporary file is created new (``O_EXCL``, no symlink followed, mode 0600: the rows are
customer data).  A failed write (disk full) is a :class:`FatalError` that says the journal is
intact, so the same command writes the reports again without sending anything twice.
"""

from __future__ import annotations

import csv
import hashlib
import os
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from closecsv.errors import FatalError

REPORT_COLUMNS = ("_row", "_status", "_id", "_lead_id", "_error")
ERROR_COLUMNS = ("_row", "_error")
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


@dataclass
class ImportReport:
    """Returned by ``run_import``; rendered by the CLI."""

    kind: str
    source: Path
    input_sha256: str
    dry_run: bool
    results: list[RowResult]
    paths: ReportPaths
    started_at: datetime
    elapsed: float
    requests: int = 0
    rate_limited: int = 0
    lookups: int = 0
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    fatal: FatalError | None = None  # the error that stopped the run (auth, network)

    def counts(self) -> dict[str, int]:
        seen = Counter(r.status for r in self.results)
        return {s: seen[s] for s in STATUS_ORDER if seen[s]}

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.status == "failed")

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
    columns: Sequence[str],
    cells: Mapping[int, Mapping[str, str]],
    results: Iterable[RowResult],
    paths: ReportPaths,
) -> None:
    """Write both CSVs (temp name, then rename).  ``cells`` maps a row number to its record."""
    own = [c for c in columns if c not in REPORT_COLUMNS]
    ordered = sorted(results, key=lambda r: r.row)
    result_rows = (_result_line(own, cells.get(r.row, {}), r) for r in ordered)
    _write_atomic(paths.results, [*own, *REPORT_COLUMNS], result_rows)
    failed = (r for r in ordered if r.status == "failed")
    error_rows = ([*_cells(own, cells.get(r.row, {})), str(r.row), r.error or ""] for r in failed)
    _write_atomic(paths.errors, [*own, *ERROR_COLUMNS], error_rows)


def _cells(columns: Sequence[str], record: Mapping[str, str]) -> list[str]:
    return [record.get(c, "") for c in columns]


def _result_line(columns: Sequence[str], record: Mapping[str, str], r: RowResult) -> list[str]:
    extra = [str(r.row), r.status, r.instance_id or "", r.lead_id or "", r.error or ""]
    return [*_cells(columns, record), *extra]


def _create(path: Path) -> IO[str]:
    """A new file for writing: never an existing one, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o600), "w", encoding="utf-8", newline="")


def _write_atomic(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _create(tmp) as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise FatalError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="free disk space or fix the folder's permissions, then run the same command "
            "again: the journal keeps every row, so the reports are rewritten and nothing is "
            "sent twice",
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def summary_text(report: ImportReport) -> str:
    """The one-screen summary for stderr."""
    verb = "validate" if report.dry_run else "import"
    lines = [
        f"{verb} {report.kind}: {report.source.name}, {len(report.results)} rows "
        f"in {_duration(report.elapsed)}"
    ]
    counts = report.counts()
    width = max((len(s) for s in counts), default=0)
    lines += [f"  {status:<{width}}  {n:>8,}" for status, n in counts.items()]
    share = f" ({report.rate_limited} answered 429)" if report.rate_limited else ""
    lines.append(f"requests  {report.requests:,}{share}, of which lookups {report.lookups:,}")
    lines += _file_lines(report)
    lines += [f"warning: {w}" for w in report.warnings]
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


def _duration(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}m {secs:04.1f}s" if minutes else f"{secs:.1f}s"


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
