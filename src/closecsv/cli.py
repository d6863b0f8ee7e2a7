"""The ``closecsv`` command line: options -> one library call -> render.

This is the one place that turns errors into messages and exit codes (SPEC §6):
0 done, 1 some rows failed, 2 nothing sent (usage, file, headers, key), 3 stopped by the API
or network, 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from closecsv import __version__
from closecsv.cli_support import (
    check_report_dir,
    check_report_files,
    csv_line,
    import_options,
    quiet_option,
    render_schema,
    validate_options,
    write_new_file,
)
from closecsv.client import CloseClient
from closecsv.config import Settings, is_loopback_host, load_settings
from closecsv.errors import CloseCsvError, ConfigError, FatalError, InputError
from closecsv.kinds import KINDS
from closecsv.schema import (
    Schema,
    kind_types,
    schema_as_json,
    template_columns,
)
from closecsv.wording import plural

P = ParamSpec("P")
R = TypeVar("R")

EXIT_INTERRUPTED = 130
ARGV_KEY_WARNING = (
    "closecsv: warning: a key given with --api-key is visible to other users of this machine "
    "(ps, /proc) and stays in shell history; set CLOSE_API_KEY instead"
)
KIND_ARG = click.Choice(sorted(KINDS))


class Context:
    """What the group's options leave for the commands."""

    def __init__(self, api_key: str | None, api_url: str | None, quiet: bool) -> None:
        self._api_key = api_key
        self._api_url = api_url
        self.quiet = quiet

    def settings(self) -> Settings:
        return load_settings(self._api_key, self._api_url)

    @contextmanager
    def client(self) -> Iterator[CloseClient]:
        settings = self.settings()
        with CloseClient(settings.api_key, settings.api_url) as client:
            yield client


pass_ctx = click.make_pass_decorator(Context)


def fail(message: str, code: int) -> None:
    click.echo(f"closecsv: error: {message}", err=True)
    sys.exit(code)


def translate_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the exception tree into one message on stderr and the SPEC exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except FatalError as exc:
            fail(str(exc), exc.exit_code)
        except CloseCsvError as exc:
            fail(str(exc), 3)
        except KeyboardInterrupt:
            click.echo("closecsv: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        raise AssertionError("unreachable")

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--api-key",
    metavar="KEY",
    help="Close API key. Prefer the CLOSE_API_KEY environment variable: "
    "a key on the command line is visible to other users of the machine.",
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


@main.command("schema")
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


@main.command("template")
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


@main.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option(
    "--api-key",
    "sandbox_key",
    metavar="KEY",
    help="The key the sandbox accepts (default: the documented sandbox key).",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file holding the org; created from the seed if missing, kept across runs. "
    "Default: in memory only.",
)
@click.option(
    "--rate-limit", type=float, metavar="RPS", help="Requests per second per key (token bucket)."
)
@click.option("--latency", type=float, default=0.0, metavar="MS", help="Added to every request.")
@click.option(
    "--fault-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    metavar="P",
    help="Share of requests that fail: a 5xx before any work, or a write committed and "
    "then its connection dropped.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Makes faults and ids repeatable."
)
@click.option(
    "--max-skip",
    type=click.IntRange(min=1),
    metavar="N",
    help="Lower every endpoint's _skip cap to N (to rehearse deep paging).",
)
@translate_errors
def sandbox_command(
    host: str,
    port: int,
    sandbox_key: str | None,
    data_path: Path | None,
    rate_limit: float | None,
    latency: float,
    fault_rate: float,
    seed: int,
    max_skip: int | None,
) -> None:
    """Run a local Close API emulator on loopback (Ctrl-C stops it).

    It prints its base URL and key; point closecsv at it with CLOSE_API_URL and
    CLOSE_API_KEY.

    \b
    Example:
        closecsv sandbox --port 8765 --data org.json --rate-limit 20 --latency 80
    """
    from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

    if not is_loopback_host(host):
        raise ConfigError(f"--host {host} is not a loopback address", hint="use 127.0.0.1")
    key = sandbox_key or SANDBOX_API_KEY
    try:
        sandbox = Sandbox(
            data_path,
            api_key=key,
            rate_limit=rate_limit,
            latency_ms=latency,
            fault_rate=fault_rate,
            seed=seed,
            max_skip=max_skip,
        )
    except (OSError, ValueError, KeyError) as exc:  # a --data file that is not a sandbox org
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(
            f"cannot use --data {data_path}: {detail}",
            hint="give a new file name, or a data file an earlier sandbox wrote "
            "(an existing file is not changed)",
        ) from None

    def ready(url: str) -> None:
        click.echo(f"Close API sandbox listening on {url}", err=True)
        click.echo(f"export CLOSE_API_URL={url}")
        click.echo(f"export CLOSE_API_KEY={key}", nl=True)
        sys.stdout.flush()

    try:
        sandbox.serve_forever(host, port, on_ready=ready)
    except KeyboardInterrupt:
        click.echo("sandbox stopped", err=True)


@main.command("export")
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
    default=Path("."),
    show_default=True,
    help="Where the files and manifest.json go (created if needed).",
)
@click.option(
    "--since", metavar="D", help="Only date_created on or after D (ISO date or date-time)."
)
@click.option("--until", metavar="D", help="Only date_created before D (ISO date or date-time).")
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="IANA zone for --since/--until values without an offset.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="parquet: typed columns (numbers, dates, lists).",
)
@click.option(
    "--lead-query",
    metavar="JSON",
    help="An Advanced Filtering query node limiting the leads (forces --strategy lead).",
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
    type=click.Choice(["auto", "lead", "org"]),
    default="auto",
    show_default=True,
    help="Read lead by lead, or the whole org; auto picks the cheaper.",
)
@click.option(
    "--multi-separator",
    "separator",
    default=";",
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
    it); --raw turns that off.  With --state, edits to instances exported earlier need a
    full export: only date_created is tracked.

    \b
    Example:
        closecsv export activities --type "Discovery Call" --out-dir exports --since 2024-01-01
    """
    from closecsv.exporter import options_from_cli, run_export
    from closecsv.progress import make_progress

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


@main.command("import")
@click.argument("kind", type=KIND_ARG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing to Close.")
@import_options
@quiet_option
@pass_ctx
@translate_errors
def import_command(ctx: Context, /, kind: str, file: Path, **options: Any) -> None:
    """Create and update instances from a CSV file.

    Rows with an activity_id / custom_object_id update that instance (only the cells
    given); other rows create one.  Results, errors and a journal go next to FILE.
    Running the same command again after a crash or Ctrl-C resumes without duplicates.

    \b
    Example:
        closecsv import activities calls.csv --report-dir reports
    """
    sys.exit(run_import_command(ctx, kind, file, options))


@main.command("validate")
@click.argument("kind", type=KIND_ARG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@validate_options
@quiet_option
@pass_ctx
@translate_errors
def validate_command(ctx: Context, /, kind: str, file: Path, **options: Any) -> None:
    """Check a CSV file against Close without writing anything (import --dry-run).

    Leads, users and the current values of updated instances are read; statuses are
    would_create, would_update, unchanged or failed.  Exit 1 if any row would fail.

    \b
    Example:
        closecsv validate objects deals.csv
    """
    sys.exit(run_import_command(ctx, kind, file, {**options, "dry_run": True}))


def run_import_command(ctx: Context, kind: str, file: Path, options: dict[str, Any]) -> int:
    """Run the import, render the summary (stderr) and receipt (stdout); the exit code."""
    from closecsv.importer import run_import
    from closecsv.plan import ImportOptions
    from closecsv.progress import make_progress
    from closecsv.report import ReportPaths, receipt, summary_text

    as_json = options.pop("as_json")
    label = "validate" if options.get("dry_run") else "import"
    report_dir = options.get("report_dir")
    check_report_dir(report_dir or file.parent, given=report_dir is not None)
    paths = ReportPaths.for_input(file, report_dir, dry_run=bool(options.get("dry_run")))
    check_report_files(
        paths.results, paths.errors, *([] if options.get("dry_run") else [paths.journal])
    )
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


@main.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Where the demo keeps the sandbox org, reports and exports: a new or empty folder, "
    "or one an earlier demo made (its last run's files are replaced; nothing else is touched).",
)
@click.option(
    "--samples",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("sample_csvs"),
    show_default=True,
    help="The folder of sample files to import.",
)
@translate_errors
def demo_command(workdir: Path, samples: Path) -> None:
    """Start a sandbox and run a real import and export of sample_csvs/, end to end.

    \b
    Example:
        closecsv demo --workdir /tmp/closecsv-demo
    """
    from closecsv.demo import run_demo

    sys.exit(run_demo(workdir, samples))


@main.command("users")
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
    from closecsv.lookups import USER_COLUMNS, list_users, render_table

    with ctx.client() as client:
        users = list_users(client)
    click.echo(json.dumps(users, indent=2) if as_json else render_table(users, USER_COLUMNS))


@main.command("leads")
@click.option("--query", metavar="TEXT", help="Only leads matching TEXT (Close's lead search).")
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=50,
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
    from closecsv.lookups import LEAD_COLUMNS, list_leads, render_table

    with ctx.client() as client:
        leads = list_leads(client, query, limit)
    if not leads and not as_json:
        click.echo(f"no leads{f' match {query!r}' if query else ''}", err=True)
        return
    click.echo(json.dumps(leads, indent=2) if as_json else render_table(leads, LEAD_COLUMNS))
