"""``closecsv users`` and ``closecsv leads``: what ``user`` and lead cells can name."""

from __future__ import annotations

import json

import click

from closecsv import defaults
from closecsv.cli.context import Context, pass_ctx, translate_errors
from closecsv.cli.support import (
    quiet_option,
)


@click.command("users")
@click.option("--json", "as_json", is_flag=True, help="Print the users as JSON on stdout.")
@quiet_option
@pass_ctx
@translate_errors
def users_command(ctx: Context, as_json: bool) -> None:
    """List the users a file can name: id, name, email, status.

    A `user` cell or a user field takes any of them, inactive (former) users too.

    \b
    Example:
        closecsv users --json > users.json
    """
    from closecsv.close.listing import USER_COLUMNS, list_users, render_table

    with ctx.client() as client:
        users = list_users(client)
    click.echo(json.dumps(users, indent=2) if as_json else render_table(users, USER_COLUMNS))


@click.command("leads")
@click.option("--query", metavar="TEXT", help="Only leads matching TEXT (Close's lead search).")
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=defaults.LEADS_LIMIT,
    metavar="N",
    show_default=True,
    help="At most N leads, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the leads as JSON on stdout.")
@quiet_option
@pass_ctx
@translate_errors
def leads_command(ctx: Context, query: str | None, limit: int, as_json: bool) -> None:
    """List leads with their contacts' emails and phones, newest first.

    These are the values lead_id, lead_name, lead_email, lead_phone and contact cells take.

    \b
    Example:
        closecsv leads --query "Acme" --limit 5
    """
    from closecsv.close.listing import LEAD_COLUMNS, list_leads, render_table

    with ctx.client() as client:
        leads = list_leads(client, query, limit)
    if not leads and not as_json:
        click.echo(f"no leads{f' match {query!r}' if query else ''}", err=True)
        return
    click.echo(json.dumps(leads, indent=2) if as_json else render_table(leads, LEAD_COLUMNS))
