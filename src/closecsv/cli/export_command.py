"""``closecsv export``: options -> one export run -> its summary and receipt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from closecsv import defaults
from closecsv.cli.context import KIND_ARG, Context, pass_ctx, translate_errors
from closecsv.cli.support import (
    quiet_option,
)
from closecsv.close.kinds import KINDS
from closecsv.close.schema import (
    Schema,
)


@click.command("export")
@click.argument("kind", type=KIND_ARG)
@click.option(
    "--type",
    "type_refs",
    multiple=True,
    metavar="TYPE",
    help="A type to export (exact name or id); repeatable. Default: every type.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(defaults.OUT_DIR),
    show_default=True,
    help="Where the files and manifest.json go (created if needed).",
)
@click.option(
    "--since", metavar="D", help="Only date_created on or after D (ISO date or date-time)."
)
@click.option("--until", metavar="D", help="Only date_created before D (ISO date or date-time).")
@click.option(
    "--timezone",
    default=defaults.TIMEZONE,
    show_default=True,
    help="IANA zone for --since/--until values without an offset.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default=defaults.EXPORT_FORMAT,
    show_default=True,
    help="parquet: typed columns (numbers, dates, lists).",
)
@click.option(
    "--lead-query",
    metavar="JSON",
    help="An Advanced Filtering query node limiting the leads (auto: the search route if "
    "its probe passes, else the lead route).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Remember the last date_created per type; the next run exports only newer, into "
    "file names tagged with its UTC start (no --force needed).",
)
@click.option("--force", is_flag=True, help="Overwrite existing files in --out-dir.")
@click.option("--include-archived", is_flag=True, help="Also export archived types.")
@click.option(
    "--strategy",
    type=click.Choice(["auto", "lead", "org", "search"]),
    default=defaults.STRATEGY,
    show_default=True,
    help="lead: lead by lead; org: the whole org's list; search: the instances through "
    "Advanced Filtering (cheapest, not documented by Close, probed first); auto: search if "
    "the probe passes, else the cheaper of lead and org.",
)
@click.option(
    "--multi-separator",
    "separator",
    default=defaults.MULTI_SEPARATOR,
    show_default=True,
    help="Joins the values of multi-value fields in one cell.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="Do not neutralise formula-like cells (no leading ' before = + - @ tab CR).",
)
@quiet_option
@pass_ctx
@translate_errors
def export_command(ctx: Context, /, kind: str, fmt: str, **options: Any) -> None:
    """Export instances to one file per type, plus manifest.json.

    Cells that a spreadsheet would run as formulas get a leading ' (the importer removes
    it); --raw turns that off.  With --state, only newly created instances are added:
    `closecsv sync` keeps a folder that follows edits and deletions too.

    \b
    Example:
        closecsv export activities --type "Discovery Call" --out-dir exports --since 2024-01-01
    """
    from closecsv.cli.progress_display import make_progress
    from closecsv.exporting.exporter import options_from_cli, run_export

    settings = options_from_cli(format=fmt, **options)
    with ctx.client() as client:
        progress = make_progress(sys.stderr, quiet=ctx.quiet, label="export")
        report = run_export(
            client,
            Schema(client),
            KINDS[kind],
            settings,
            progress,
            requests=lambda: client.stats.requests,
        )
    if not ctx.quiet:
        click.echo(report.summary(), err=True)
