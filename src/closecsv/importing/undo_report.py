"""What an undo did: ``<stem>.undo.results.csv``, the summary and the ``--json`` receipt.

The results list the rows that needed something (created or updated by the import), one line
per row: ``_row`` (the row of the imported file), ``_id``, ``_status`` and ``_error``.  A dry
run writes ``<stem>.undo.validate.results.csv``, so it never replaces a real undo's results.
The file is written under a temporary name and renamed when complete, in UTF-8.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from closecsv.errors import FatalError
from closecsv.importing.report import EXIT_INTERRUPTED
from closecsv.importing.report_files import create_new_file
from closecsv.importing.undo_plan import Line
from closecsv.wording import duration, plural

UNDO_STATUSES = (
    "deleted",
    "restored",
    "already_gone",
    "would_delete",
    "would_restore",
    "conflict",
    "failed",
)
PROBLEMS = ("conflict", "failed")
COLUMNS = ("_row", "_id", "_status", "_error")


@dataclass(frozen=True)
class UndoPaths:
    results: Path
    journal: Path

    @classmethod
    def for_input(cls, source: Path, report_dir: Path | None, *, dry_run: bool) -> UndoPaths:
        folder = report_dir if report_dir is not None else source.parent
        run = f"{source.stem}.undo.validate" if dry_run else f"{source.stem}.undo"
        return cls(folder / f"{run}.results.csv", folder / f"{source.stem}.journal.sqlite")


@dataclass
class UndoReport:
    """Returned by ``run_undo``; rendered by the CLI."""

    kind: str
    source: Path
    dry_run: bool
    lines: Sequence[Line]
    paths: UndoPaths
    started_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    elapsed: float = 0.0
    requests: int = 0
    interrupted: bool = False
    fatal: FatalError | None = None
    earlier: int = 0  # rows an earlier undo had already finished (no request this time)

    def counts(self) -> dict[str, int]:
        seen = Counter(line.status for line in self.lines)
        return {s: seen[s] for s in UNDO_STATUSES if seen[s]}

    @property
    def problems(self) -> int:
        return sum(n for s, n in self.counts().items() if s in PROBLEMS)

    @property
    def exit_code(self) -> int:
        """A stop first (3 or 130), then 1 if a row failed or is in conflict, else 0."""
        if self.fatal is not None:
            return self.fatal.exit_code
        if self.interrupted:
            return EXIT_INTERRUPTED
        return 1 if self.problems else 0


def write_results(lines: Sequence[Line], path: Path) -> None:
    """The results CSV, complete or not at all (temporary name, then rename)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in sorted(lines, key=lambda ln: ln.row):
        writer.writerow([line.row, line.instance_id or "", line.status, line.error or ""])
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.unlink(missing_ok=True)
        with create_new_file(temp) as fh:
            fh.write(text.getvalue().encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise FatalError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="free disk space or fix the folder's permissions, then run the same command "
            "again: the journal keeps what was undone, so nothing is sent twice",
        ) from None


def summary_text(report: UndoReport) -> str:
    """The one-screen summary for stderr."""
    verb = "undo (dry run)" if report.dry_run else "undo"
    lines = [
        f"{verb} {report.kind}: {report.source.name}, {plural(len(report.lines), 'row')} "
        f"in {duration(report.elapsed)}"
    ]
    if not report.lines:
        lines.append("  nothing to undo: the import created or changed no instance")
    counts = report.counts()
    width = max((len(s) for s in counts), default=0)
    lines += [f"  {status:<{width}}  {n:>8,}" for status, n in counts.items()]
    if report.earlier:
        lines.append(f"  ({plural(report.earlier, 'row')} undone by an earlier run: no request)")
    lines.append(f"requests  {report.requests:,}")
    lines.append(f"results   {report.paths.results}")
    lines.append(f"journal   {report.paths.journal}")
    if report.problems and not report.dry_run:
        lines.append(
            "conflict and failed rows were left as they are: see _error; --force puts back "
            "the values of conflict rows anyway"
        )
    if report.fatal is not None or report.interrupted:
        why = "interrupted" if report.fatal is None else f"stopped: {report.fatal.message}"
        lines.append(f"{why}; run the same command again to finish (nothing is undone twice)")
    return "\n".join(lines)


def receipt(report: UndoReport) -> dict[str, Any]:
    """The ``--json`` receipt (stdout)."""
    return {
        "version": 1,
        "command": "undo",
        "kind": report.kind,
        "input": {"path": str(report.source), "rows": len(report.lines)},
        "dry_run": report.dry_run,
        "counts": report.counts(),
        "already_done": report.earlier,
        "started_at": report.started_at.astimezone(UTC).isoformat(),
        "elapsed_seconds": round(report.elapsed, 3),
        "requests": report.requests,
        "exit_code": report.exit_code,
        "interrupted": report.interrupted,
        "error": report.fatal.message if report.fatal is not None else None,
        "files": {"results": str(report.paths.results), "journal": str(report.paths.journal)},
    }
