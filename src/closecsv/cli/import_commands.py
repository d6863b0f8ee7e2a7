"""``closecsv import`` and ``closecsv validate``: options -> one import run -> its summary
and receipt."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from closecsv.cli.context import KIND_ARG, Context, pass_ctx, translate_errors
from closecsv.cli.support import (
    import_options,
    quiet_option,
    validate_options,
)
from closecsv.close.kinds import KINDS
from closecsv.close.schema import (
    Schema,
)
from closecsv.wording import plural


@click.command("import")
@click.argument("kind", type=KIND_ARG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing to Close.")
@import_options
@quiet_option
@pass_ctx
@translate_errors
def import_command(ctx: Context, /, kind: str, file: Path, **options: Any) -> None:
    """Create and update instances from a CSV file (or a sheet of an .xlsx file).

    Rows with an activity_id / custom_object_id update that instance (only the cells
    given); other rows create one, or with --key update the instance of their type on
    their lead whose key field holds the same value.  Results, errors and a journal go next
    to FILE.  Running the same command again after a crash or Ctrl-C resumes without
    duplicates.

    \b
    Example:
        closecsv import activities calls.csv --report-dir reports
        closecsv import activities calls.csv --key "custom.Legacy ID"
    """
    sys.exit(run_import_command(ctx, kind, file, options))


@click.command("validate")
@click.argument("kind", type=KIND_ARG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@validate_options
@quiet_option
@pass_ctx
@translate_errors
def validate_command(ctx: Context, /, kind: str, file: Path, **options: Any) -> None:
    """Check a CSV or .xlsx file against Close without writing anything (import --dry-run).

    Leads, users and the current values of updated instances are read; statuses are
    would_create, would_update, unchanged or failed.  Exit 1 if any row would fail.

    \b
    Example:
        closecsv validate objects deals.csv
    """
    sys.exit(run_import_command(ctx, kind, file, {**options, "dry_run": True}))


def run_import_command(ctx: Context, kind: str, file: Path, options: dict[str, Any]) -> int:
    """Run the import, render the summary (stderr) and receipt (stdout); the exit code."""
    from closecsv.cli.progress_display import make_progress
    from closecsv.importing.importer import run_import
    from closecsv.importing.options import ImportOptions
    from closecsv.importing.report import receipt, summary_text

    as_json = options.pop("as_json")
    label = "validate" if options.get("dry_run") else "import"
    with ctx.client() as client:
        progress = make_progress(sys.stderr, quiet=ctx.quiet, label=label)
        report = run_import(
            client, Schema(client), KINDS[kind], file, ImportOptions(**options), progress
        )
    if not ctx.quiet:
        click.echo(summary_text(report), err=True)
    elif report.failed:  # -q still says where the failed rows are
        rows = plural(report.failed, "row")
        them = "it" if report.failed == 1 else "them"
        click.echo(f"closecsv: {rows} failed; fix {them} in {report.paths.errors}", err=True)
    if as_json:
        click.echo(json.dumps(receipt(report), indent=2))
    if report.fatal is not None:
        click.echo(f"closecsv: error: {report.fatal}", err=True)
    return report.exit_code
