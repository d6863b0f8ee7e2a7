"""``closecsv schema`` and ``closecsv template``: what the organization has, and a CSV header
to fill for one type."""

from __future__ import annotations

import json
from pathlib import Path

import click

from closecsv.cli.context import KIND_ARG, Context, pass_ctx, translate_errors
from closecsv.cli.support import (
    csv_line,
    quiet_option,
    render_schema,
)
from closecsv.close.kinds import KINDS
from closecsv.close.schema import (
    Schema,
    kind_types,
    schema_as_json,
    template_columns,
)
from closecsv.importing.report_files import write_new_file


@click.command("schema")
@click.option("--json", "as_json", is_flag=True, help="Print the schema as JSON on stdout.")
@quiet_option
@pass_ctx
@translate_errors
def schema_command(ctx: Context, as_json: bool) -> None:
    """List activity types, object types and their fields.

    Each field shows its CSV column, type, whether it is required or takes several
    values, and its choices.

    \b
    Example:
        closecsv schema --json > schema.json
    """
    with ctx.client() as client:
        types = kind_types(Schema(client))
    if as_json:
        click.echo(json.dumps(schema_as_json(types), indent=2))
    else:
        click.echo(render_schema(types))


@click.command("template")
@click.argument("kind", type=KIND_ARG)
@click.argument("type_ref", metavar="TYPE")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the CSV here instead of stdout (refuses to overwrite an existing file).",
)
@quiet_option
@pass_ctx
@translate_errors
def template_command(ctx: Context, kind: str, type_ref: str, output: Path | None) -> None:
    """Write a header-only CSV for one type (TYPE: exact name or id).

    \b
    Example:
        closecsv template activities "Discovery Call" -o calls.csv
    """
    with ctx.client() as client:
        info = Schema(client).find(KINDS[kind], type_ref)
    header = csv_line(template_columns(info))
    if output is None:
        click.echo(header, nl=False)
        return
    write_new_file(output, header)
    if not ctx.quiet:
        click.echo(f"wrote {output} ({len(template_columns(info))} columns)", err=True)
