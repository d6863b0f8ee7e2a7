"""The Python API of ``closecsv undo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from closecsv import defaults
from closecsv.library.common import PathArg, kind_of, open_client
from closecsv.progress import CallbackProgress, ProgressCallback

if TYPE_CHECKING:
    from closecsv.importing.undo_report import UndoReport


def undo(
    path: PathArg,
    *,
    kind: str,
    report_dir: PathArg | None = None,
    dry_run: bool = False,
    force: bool = False,
    concurrency: int = defaults.CONCURRENCY,
    api_key: str | None = None,
    api_url: str | None = None,
    progress: ProgressCallback | None = None,
) -> UndoReport:
    """Reverse the import of ``path`` from its journal, as ``closecsv undo`` does: delete
    what it created, put back what its updates replaced; instances changed since are
    ``conflict`` and left alone unless ``force``.  Returns an ``UndoReport`` (``exit_code``,
    ``counts()``, ``lines``, ``paths.results``, ``fatal``).  ``path`` need not exist any more:
    its name and ``report_dir`` find the journal.  No journal: an ``InputError``."""
    from closecsv.close.schema import Schema
    from closecsv.importing.undo import UndoOptions, run_undo
    from closecsv.progress import NullProgress

    folder = Path(report_dir) if report_dir is not None else None
    options = UndoOptions(dry_run, force, folder, concurrency)
    shown = NullProgress() if progress is None else CallbackProgress(progress)
    with open_client(api_key, api_url, progress) as client:
        return run_undo(client, Schema(client), kind_of(kind), Path(path), options, shown)
