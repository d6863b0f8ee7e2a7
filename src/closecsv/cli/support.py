"""What the CLI shows and the option sets it shares: kept out of the command modules so that they
hold the commands only (a command parses its options, calls, and renders).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from closecsv import defaults
from closecsv.close.schema import FieldInfo, TypeInfo

P = ParamSpec("P")
R = TypeVar("R")


def render_schema(types: dict[str, list[TypeInfo]]) -> str:
    titles = {"activities": "Custom activity types", "objects": "Custom object types"}
    lines: list[str] = []
    for kind, infos in types.items():
        lines.append(f"{titles[kind]} ({len(infos)})")
        for info in infos:
            archived = "  [archived]" if info.is_archived else ""
            lines.append(f"  {info.name}  ({info.id}){archived}")
            lines.extend(f"    {describe_field(f)}" for f in info.fields)
        lines.append("")
    return "\n".join(lines).rstrip()


def describe_field(f: FieldInfo) -> str:
    flags = [f.type]
    if f.multiple:
        flags.append("multiple")
    if f.required:
        flags.append("required")
    if f.is_shared:
        flags.append("shared")
    text = f"{f.column:<32} {', '.join(flags)}"
    if f.choices is not None:
        text += f"  choices: {' | '.join(f.choices)}"
    return text


def csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def delimiter_value(text: str) -> str:
    """``--delimiter`` as typed: the two characters ``\\t`` (what a shell passes for
    ``'\\t'``) and the word ``tab`` mean a tab; anything else is itself."""
    return "\t" if text == "\\t" or text.lower() == "tab" else text


def _set_quiet(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value and ctx.obj is not None:
        ctx.obj.quiet = True


quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    callback=_set_quiet,
    help="No progress bar or summary; errors only (also accepted before the command).",
)
REPORT_DIR = click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where results, errors and the journal go (default: next to FILE).",
)
DRY_REPORT_DIR = click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the results and errors files go (default: next to FILE).",
)

_SETTLE_ARGS = ("--settle-seconds",)
_SETTLE_KWARGS: dict[str, Any] = {
    "type": click.FloatRange(min=0),
    "default": defaults.SETTLE_SECONDS,
    "show_default": True,
    "metavar": "S",
    "help": "A create whose answer was lost and that Close does not list yet is looked up "
    "again this long after it was sent, before it is sent again (Close's lists can lag).",
}
SETTLE = click.option(*_SETTLE_ARGS, **_SETTLE_KWARGS)
# a dry run sends no create: accepted (the import's command line works as it is), not shown
DRY_SETTLE = click.option(*_SETTLE_ARGS, **{**_SETTLE_KWARGS, "hidden": True})
IMPORT_OPTIONS = (
    click.option("--type", "type_ref", metavar="TYPE", help="The type of every row (name or id)."),
    REPORT_DIR,
    click.option(
        "--concurrency",
        type=click.IntRange(1, 16),
        default=defaults.CONCURRENCY,
        show_default=True,
        help="Requests in flight per API key; the client paces them to Close's rate limits.",
    ),
    click.option(
        "--timezone",
        default=defaults.TIMEZONE,
        show_default=True,
        help="IANA zone for naive times.",
    ),
    click.option("--date-format", metavar="FMT", help="strptime format for non-ISO dates."),
    click.option(
        "--multi-separator",
        default=defaults.MULTI_SEPARATOR,
        show_default=True,
        help="Splits multi-values.",
    ),
    click.option(
        "--map",
        "map_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Column renames: a from,to CSV or a JSON object.",
    ),
    click.option("--clear-empty", is_flag=True, help="On updates, an empty cell clears the field."),
    click.option(
        "--on-ambiguous",
        type=click.Choice(["fail", "first"]),
        default=defaults.ON_AMBIGUOUS,
        show_default=True,
        help="A lead identifier that matches several leads.",
    ),
    click.option(
        "--status",
        type=click.Choice(["published", "draft"]),
        default=defaults.STATUS,
        show_default=True,
        help="Status of created activities without a status cell.",
    ),
    click.option("--limit", type=click.IntRange(min=0), help="Only the first N data rows."),
    click.option(
        "--key",
        metavar="COLUMN",
        help="Rows without an id update the instance of their type on their lead whose "
        "field COLUMN (e.g. 'custom.Legacy ID') holds the same value; no match creates.",
    ),
    click.option(
        "--encoding",
        metavar="NAME",
        help="Decode the file with this codec (e.g. cp1252, utf-16) instead of UTF-8.",
    ),
    click.option(
        "--delimiter",
        default=defaults.DELIMITER,
        show_default=True,
        metavar="CHAR",
        callback=lambda _ctx, _param, value: delimiter_value(value),
        help="Field separator, e.g. ';' for files from European Excel; '\\t' or tab for a tab.",
    ),
    click.option(
        "--sheet",
        metavar="NAME",
        help="The sheet of an .xlsx FILE to read (default: the first one Excel shows).",
    ),
    click.option(
        "--decimal-comma",
        is_flag=True,
        help="Number fields use ',' for decimals and may group thousands with '.' (1.234,5).",
    ),
    click.option(
        "--default-region",
        default=defaults.DEFAULT_REGION,
        show_default=True,
        metavar="CC",
        help="Country for lead_phone values without a +country code (ISO 3166, e.g. GB).",
    ),
    click.option(
        "--raw",
        is_flag=True,
        help="Keep a leading ' before = + - @ (by default it is removed, undoing export's "
        "formula neutralising).",
    ),
    SETTLE,
    click.option("--json", "as_json", is_flag=True, help="Print a JSON run receipt on stdout."),
)


def import_options(fn: Callable[P, R]) -> Callable[P, R]:
    for option in reversed(IMPORT_OPTIONS):
        fn = option(fn)
    return fn


def validate_options(fn: Callable[P, R]) -> Callable[P, R]:
    """The import options, their help text without the journal a dry run does not keep."""
    for option in reversed(IMPORT_OPTIONS):
        fn = {REPORT_DIR: DRY_REPORT_DIR, SETTLE: DRY_SETTLE}.get(option, option)(fn)
    return fn
