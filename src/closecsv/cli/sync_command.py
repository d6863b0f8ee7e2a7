"""``closecsv sync``: options -> one sync run -> its summary (stderr) or JSON report (stdout)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from closecsv import defaults
from closecsv.cli.context import KIND_ARG, Context, pass_ctx, translate_errors
from closecsv.cli.support import quiet_option
from closecsv.close.kinds import KINDS
from closecsv.close.schema import Schema


@click.command("sync")
@click.argument("kind", type=KIND_ARG)
@click.option(
    "--to",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The mirror folder: one file per type, manifest.json and sync_state.json.",
)
@click.option(
    "--type",
    "type_refs",
    multiple=True,
    metavar="TYPE",
    help="A type to sync (exact name or id); repeatable. Default: every type.",
)
@click.option("--include-archived", is_flag=True, help="Also sync archived types.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default=defaults.SYNC_FORMAT,
    show_default=True,
    help="parquet: typed columns (numbers, dates, lists).",
)
@click.option(
    "--multi-separator",
    "separator",
    default=defaults.MULTI_SEPARATOR,
    show_default=True,
    help="Joins the values of multi-value fields in one CSV cell.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="Do not neutralise formula-like CSV cells (no leading ' before = + - @ tab CR).",
)
@click.option(
    "--changes-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write, per type, this run's inserted, updated and deleted rows (_op column).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report of the run on stdout.")
@quiet_option
@pass_ctx
@translate_errors
def sync_command(
    ctx: Context, /, kind: str, fmt: str, as_json: bool, separator: str, **options: Any
) -> None:
    """Keep a folder equal to a full export, following Close's event log.

    The first run is a full export; later runs read the creates, updates and deletes since
    the last run and rewrite only what changed.  A run older than 29 days (Close keeps 30
    days of events), or a missing or damaged state, makes a full export again.

    \b
    Example:
        closecsv sync activities --to mirror/ --changes-dir changes/
    """
    from closecsv.cli.progress_display import make_progress
    from closecsv.exporting.sync import SyncOptions, check_options, run_sync

    settings = SyncOptions(format=fmt, separator=separator, **options)  # type: ignore[arg-type]
    check_options(settings)
    with ctx.client() as client:
        progress = make_progress(sys.stderr, quiet=ctx.quiet, label="sync")
        report = run_sync(
            client, Schema(client), KINDS[kind], settings, progress,
            requests=lambda: client.stats.requests,
        )  # fmt: skip
    line = report.fallback_line()
    if line is not None:
        click.echo(line, err=True)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    elif not ctx.quiet:
        click.echo(report.summary(), err=True)
