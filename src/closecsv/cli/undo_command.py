"""``closecsv undo``: options -> one undo run -> its summary and receipt."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from closecsv import defaults
from closecsv.cli.context import KIND_ARG, Context, pass_ctx, translate_errors
from closecsv.cli.support import quiet_option
from closecsv.close.kinds import KINDS
from closecsv.close.schema import Schema


@click.command("undo")
@click.argument("kind", type=KIND_ARG)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the import wrote its journal, and where the undo results go (default: next "
    "to FILE).",
)
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing to Close.")
@click.option(
    "--force",
    is_flag=True,
    help="Also undo instances changed in Close since the import (conflicts): their "
    "changes since are lost.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 16),
    default=defaults.CONCURRENCY,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON run receipt on stdout.")
@quiet_option
@pass_ctx
@translate_errors
def undo_command(
    ctx: Context,
    /,
    kind: str,
    file: Path,
    report_dir: Path | None,
    dry_run: bool,
    force: bool,
    concurrency: int,
    as_json: bool,
) -> None:
    """Reverse the import of FILE, from its journal.

    Deletes the instances it created and puts back the values its updates replaced.
    Instances changed in Close since the import are reported as conflict and left alone,
    unless --force.  Running the same command again after a crash or Ctrl-C finishes the
    job; running it after it finished changes nothing.

    \b
    Example:
        closecsv undo activities calls.csv --report-dir reports --dry-run
    """
    from closecsv.cli.progress_display import make_progress
    from closecsv.importing.undo import UndoOptions, run_undo
    from closecsv.importing.undo_report import receipt, summary_text

    options = UndoOptions(dry_run, force, report_dir, concurrency)
    with ctx.client() as client:
        progress = make_progress(sys.stderr, quiet=ctx.quiet, label="undo")
        report = run_undo(client, Schema(client), KINDS[kind], file, options, progress)
    if not ctx.quiet:
        click.echo(summary_text(report), err=True)
    elif report.problems:
        click.echo(
            f"closecsv: {report.problems} row(s) not undone; see {report.paths.results}",
            err=True,
        )
    if as_json:
        click.echo(json.dumps(receipt(report), indent=2))
    if report.fatal is not None:
        click.echo(f"closecsv: error: {report.fatal}", err=True)
    sys.exit(report.exit_code)
