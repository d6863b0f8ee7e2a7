"""What the CLI shows and the option sets it shares: kept out of ``cli.py`` so that file
holds the commands only (STYLE.md habit 1).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from closecsv.errors import InputError
from closecsv.report_files import create_new_file
from closecsv.schema import FieldInfo, TypeInfo

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


def write_new_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a new file, as the results and errors files are created:
    never over an existing file, never through a symlink (dangling or not); nothing is left
    behind when the write fails.  Problems are :class:`InputError` (exit 2)."""
    if path.is_symlink():
        raise InputError(
            f"{path} is a symbolic link; refusing to write through it",
            hint="remove the link or choose another name",
        )
    try:
        fh = create_new_file(path)
    except FileExistsError:
        raise InputError(f"{path} exists", hint="choose another name or remove the file") from None
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="choose a folder that exists and that you can write to",
        ) from None
    try:
        with fh:
            fh.write(text.encode("utf-8"))
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_report_dir(folder: Path, given: bool) -> None:
    """Check, before anything is read or sent, that the reports and journal can be written
    in ``folder`` (or created there, by the run, when it does not exist yet): its nearest
    existing ancestor must be a writable folder.  Nothing is created here.  :class:`InputError`
    (exit 2) otherwise."""
    what = f"--report-dir {folder}" if given else f"the folder of FILE ({folder})"
    hint = "pass --report-dir with a folder you can write to"
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"cannot use {what}: {existing} is not a folder; nothing was sent", hint=hint
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot use {what}: {existing} is not writable; nothing was sent", hint=hint
        )


def check_report_files(*paths: Path) -> None:
    """Check, before anything is read or sent, that no folder holds the name of a report or
    the journal: the run could not write it at its end.  :class:`InputError` (exit 2)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            raise InputError(
                f"cannot write {path}: a folder of that name is in the way; nothing was sent",
                hint="move or rename that folder, or pass --report-dir with another folder",
            )


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
    "default": 10.0,
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
        default=4,
        show_default=True,
        help="Requests in flight; the client paces them to Close's rate limits.",
    ),
    click.option("--timezone", default="UTC", show_default=True, help="IANA zone for naive times."),
    click.option("--date-format", metavar="FMT", help="strptime format for non-ISO dates."),
    click.option("--multi-separator", default=";", show_default=True, help="Splits multi-values."),
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
        default="fail",
        show_default=True,
        help="A lead identifier that matches several leads.",
    ),
    click.option(
        "--status",
        type=click.Choice(["published", "draft"]),
        default="published",
        show_default=True,
        help="Status of created activities without a status cell.",
    ),
    click.option("--limit", type=click.IntRange(min=0), help="Only the first N data rows."),
    click.option(
        "--encoding",
        metavar="NAME",
        help="Decode the file with this codec (e.g. cp1252, utf-16) instead of UTF-8.",
    ),
    click.option(
        "--delimiter",
        default=",",
        show_default=True,
        metavar="CHAR",
        callback=lambda _ctx, _param, value: delimiter_value(value),
        help="Field separator, e.g. ';' for files from European Excel; '\\t' or tab for a tab.",
    ),
    click.option(
        "--default-region",
        default="US",
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
