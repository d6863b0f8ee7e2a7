"""Plan -> send -> record: the executor half of an import (README: "What an import writes",
"Exit codes").

``run_import`` builds the :class:`~closecsv.importing.plan.Plan` (reads only) and hands it to
:func:`execute_plan`, which

1. opens the write-ahead :class:`~closecsv.importing.journal.Journal` (not in a dry run),
   matches the file's rows to its rows by content and takes the rows an earlier run finished
   from it (a create row standing where a row created earlier was edited fails instead:
   sending it would make a second instance);
2. reconciles rows whose answer was lost (journal ``in_flight``/``unknown``): it lists the
   lead's instances of the row's type and matches them on the payload values, so a create
   that reached Close is never sent twice;
3. fetches the current state of update rows in batches, so a row that changes nothing is
   ``unchanged`` and costs no PUT, and an update sends only the values that differ (rows
   ``--key`` matched use the instance as listed then, without a second read); rows of
   one instance go in file order, each compared with the state the one before left
   (:mod:`closecsv.importing.updates`);
4. sends creates (POST) and updates (PUT) from a thread pool, journaling each row before the
   request and after the answer; a lost answer goes back to step 2, for a few rounds;
5. writes the results and errors CSVs and returns an
   :class:`~closecsv.importing.report.ImportReport`.

Steps 2 to 4 are the :class:`~closecsv.importing.executor.Executor`'s.

Only the plan's *pending* rows are handled one by one (updates, and creates that are really
sent); the rows it settled (failed, and in a dry run the would-be creates) stay a frame and
meet the per-row results in :class:`~closecsv.importing.report.Outcomes`.

Ctrl-C stops sending, lets the requests in flight finish and flushes the reports
(``interrupted``); an auth or network failure does the same and keeps the error (``fatal``).
Nothing here knows click or tqdm: progress goes through a :class:`~closecsv.progress.Progress`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from closecsv.close.client import CloseClient
from closecsv.close.kinds import Kind
from closecsv.close.schema import Schema
from closecsv.files.inputs import check_sheet
from closecsv.importing.dryrun import dry_run_in_slices
from closecsv.importing.executor import ExecutionState, Executor, SendSettings
from closecsv.importing.journal import Journal
from closecsv.importing.journal_files import stored_default_user
from closecsv.importing.options import ImportOptions
from closecsv.importing.plan import Plan, build_plan
from closecsv.importing.reconcile import Fields, Reconciler
from closecsv.importing.report import (
    ImportReport,
    Outcomes,
    ReportPaths,
    RunStart,
    file_sha256,
    write_reports,
)
from closecsv.importing.report_files import check_report_dir, check_report_files
from closecsv.importing.updates import Sent
from closecsv.progress import NullProgress, Progress


def run_import(
    client: CloseClient,
    schema: Schema,
    kind: Kind,
    path: Path,
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportReport:
    """Build the plan for ``path`` and execute it.  File-level problems raise ``InputError``.

    A dry run of a file bigger than ``options.slice_bytes`` goes a slice at a time
    (:mod:`closecsv.importing.dryrun`): the same report, in bounded memory.
    """
    _check_targets(path, options)
    check_sheet(path, options.sheet)
    start = RunStart.now(client.stats)
    settings = SendSettings.from_options(options)
    progress = progress or NullProgress()
    if options.dry_run:
        sent: Sent = {}  # what earlier slices would have sent, for rows on the same instance

        def settle(plan: Plan, shown: Progress) -> Outcomes:
            return settle_dry(client, schema, plan, settings, shown, sent)

        sliced = dry_run_in_slices(client, schema, kind, path, options, progress, settle)
        if sliced is not None:
            return start.finish(sliced, client.stats)
    journal = ReportPaths.for_input(path, options.report_dir, dry_run=False).journal
    plan = build_plan(client, schema, kind, path, options, stored_default_user(journal))
    return execute_plan(client, schema, plan, settings, progress, start=start)


def _check_targets(path: Path, options: ImportOptions) -> None:
    """Before any request: the report folder can be written, and no folder stands where a
    report or the journal must go (:class:`~closecsv.errors.InputError`, exit 2)."""
    folder = options.report_dir
    check_report_dir(folder or path.parent, given=folder is not None)
    paths = ReportPaths.for_input(path, folder, dry_run=options.dry_run)
    journal = [] if options.dry_run else [paths.journal]
    check_report_files(paths.results, paths.errors, *journal)


def execute_plan(
    client: CloseClient,
    schema: Schema,
    plan: Plan,
    settings: SendSettings,
    progress: Progress,
    *,
    sleep: Callable[[float], None] = time.sleep,
    start: RunStart | None = None,
) -> ImportReport:
    """Send ``plan`` (or, in a dry run, say what would be sent) and write the reports."""
    start = start or RunStart.now(client.stats, planned=plan.lookups)
    paths = ReportPaths.for_input(plan.source, settings.report_dir, dry_run=settings.dry_run)
    journal = (
        None
        if settings.dry_run
        else Journal.for_run(
            paths.journal,
            paths.results,
            plan.job(),
            plan.organization,
            plan.default_user,
        )
    )
    try:
        run, outcomes = _execute(client, schema, plan, settings, progress, journal, sleep)
    finally:
        progress.close()
        if journal is not None:
            journal.close()
    keys = run.keys if client.keys.count > 1 else None  # several keys: the _key column
    removed = write_reports(
        plan.columns, plan.cells, outcomes, paths, plan.dialect, plan.kind.id_column, keys
    )
    report = ImportReport(
        plan.kind.name, plan.source, file_sha256(plan.source), settings.dry_run, outcomes, paths
    )
    report.lookups, report.warnings = plan.lookups, list(plan.warnings)
    report.interrupted, report.fatal = run.interrupted, run.fatal
    report.removed_errors = removed
    return start.finish(report, client.stats)


def settle_dry(
    client: CloseClient,
    schema: Schema,
    plan: Plan,
    settings: SendSettings,
    progress: Progress,
    sent: Sent | None = None,
) -> Outcomes:
    """Every row's outcome in a dry run of ``plan`` (updates are compared with Close, and with
    what the rows before would send, in ``sent`` across slices), without reports or closing
    ``progress``.  A stop is raised: the ``FatalError`` or Ctrl-C."""
    run, outcomes = _execute(client, schema, plan, settings, progress, None, time.sleep, sent)
    if run.fatal is not None:
        raise run.fatal
    if run.interrupted:
        raise KeyboardInterrupt
    return outcomes


def _execute(
    client: CloseClient,
    schema: Schema,
    plan: Plan,
    settings: SendSettings,
    progress: Progress,
    journal: Journal | None,
    sleep: Callable[[float], None],
    sent: Sent | None = None,
) -> tuple[ExecutionState, Outcomes]:
    pending, settled = plan.pending(settings.dry_run), plan.settled(settings.dry_run)
    fields = Fields(schema, plan.kind)
    fields.warm(r.type_id for r in pending)
    reconciler = Reconciler(client, fields, settings.settle_seconds, sleep)
    creates = [r.row for r in pending if r.action == "create"]
    executor = Executor(client, plan.kind, settings, progress, journal, reconciler, creates)
    executor.overlay = sent if sent is not None else {}
    executor.id_label = getattr(plan, "id_label", None)
    executor.known = getattr(plan, "listed", {})  # --key: the instances as listed
    executor.keyed = getattr(plan, "keyed", frozenset())  # --key: the rows that matched one
    executor.emails = getattr(plan, "emails", None)
    run = executor.run(pending, settled)
    return run, Outcomes.of(settled, run.results.values())
