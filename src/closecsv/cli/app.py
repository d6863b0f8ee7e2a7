"""The ``closecsv`` command line: options -> one library call -> render.

:func:`main` is the click group; each command lives in its own module and turns errors into
messages and exit codes through :func:`closecsv.cli.context.translate_errors`.
"""

from __future__ import annotations

import click

from closecsv.cli.context import Context
from closecsv.cli.export_command import export_command
from closecsv.cli.import_commands import import_command, validate_command
from closecsv.cli.listing_commands import leads_command, users_command
from closecsv.cli.sandbox_commands import demo_command, sandbox_command
from closecsv.cli.schema_commands import schema_command, template_command
from closecsv.cli.sync_command import sync_command
from closecsv.cli.undo_command import undo_command
from closecsv.version import __version__

ARGV_KEY_WARNING = (
    "closecsv: warning: a key given with --api-key is visible to other users of this machine "
    "(ps, /proc) and stays in shell history; set CLOSE_API_KEY instead"
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--api-key",
    metavar="KEY",
    help="Close API key (several keys of one organization: KEY1,KEY2,KEY3). Prefer the "
    "CLOSE_API_KEY environment variable: a key on the command line is visible to other "
    "users of the machine.",
)
@click.option(
    "--api-url",
    metavar="URL",
    help="API base URL (env CLOSE_API_URL; default https://api.close.com/api/v1/). "
    "https only, except loopback addresses where the sandbox runs.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bar or summary; errors only (also accepted after the command).",
)
@click.version_option(__version__, prog_name="closecsv")
@click.pass_context
def main(ctx: click.Context, api_key: str | None, api_url: str | None, quiet: bool) -> None:
    """Move Close custom activities and custom objects in and out of CSV files.

    \b
    Example:
        CLOSE_API_KEY=... closecsv import activities calls.csv
    """
    if api_key:
        click.echo(ARGV_KEY_WARNING, err=True)
    ctx.obj = Context(api_key, api_url, quiet)


for _command in (
    schema_command,
    template_command,
    sandbox_command,
    export_command,
    import_command,
    validate_command,
    demo_command,
    users_command,
    leads_command,
    sync_command,
    undo_command,
):
    main.add_command(_command)
