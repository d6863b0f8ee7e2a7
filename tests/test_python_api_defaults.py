"""The command line and the Python API take the same options with the same defaults, and the
option dataclasses the runs use agree with both."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import pytest

import closecsv
from closecsv.cli import main
from closecsv.exporting.exporter import ExportOptions
from closecsv.importing.executor import SendSettings
from closecsv.importing.options import ImportOptions

CLI_ONLY = {"help", "quiet", "json"}  # rendering: the API returns data and prints nothing
API_ONLY = {"api_key", "api_url", "progress"}  # group options / the callback
RENAMED = {("export", "type"): "types", ("sync", "type"): "types"}  # repeatable: a list
ARGUMENTS = {"import": ["activities", __file__], "validate": ["objects", __file__]}  # required
ARGUMENTS["export"] = ["activities"]
ARGUMENTS["sync"] = ["activities", "--to", "mirror"]


def cli_defaults(command: str) -> dict[str, Any]:
    """``{api argument name: value}`` a command's options take when not given on the command
    line (``--foo-bar`` -> foo_bar), as click hands them to the command."""
    cmd = main.commands[command]
    ctx = cmd.make_context(command, list(ARGUMENTS.get(command, [])))  # click consumes it
    found: dict[str, Any] = {}
    for param in cmd.params:
        if not isinstance(param, click.Option) or not param.expose_value or param.required:
            continue  # a required option has no default to compare
        name = max(param.opts, key=len).lstrip("-").replace("-", "_")
        if name not in CLI_ONLY:
            found[RENAMED.get((command, name), name)] = ctx.params[param.name or name]
    return found


def api_defaults(fn: Callable[..., Any]) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
        and name not in API_ONLY | {"kind"}
        and p.default is not inspect.Parameter.empty
    }


def same(cli: Any, api: Any) -> bool:
    if isinstance(cli, Path):
        return Path(api) == cli
    return bool(cli == api and type(cli) is type(api))


@pytest.mark.parametrize(
    ("command", "fn"),
    [
        ("import", closecsv.import_file),
        ("validate", closecsv.validate),
        ("export", closecsv.export),
        ("sync", closecsv.sync),
        ("leads", closecsv.leads),
    ],
)
def test_cli_and_python_api_take_the_same_options_with_the_same_defaults(
    command: str, fn: Callable[..., Any]
) -> None:
    cli, api = cli_defaults(command), api_defaults(fn)
    assert sorted(cli) == sorted(api)
    differ = {name: (cli[name], api[name]) for name in cli if not same(cli[name], api[name])}
    assert differ == {}


def test_the_options_the_runs_use_have_the_cli_defaults() -> None:
    """A run built without an option (a script, a test, a wrapper) behaves as the CLI does:
    once the executor's own settle_seconds was 1.0 while the CLI's was 10.0."""
    options = ImportOptions()
    cli = cli_defaults("import")
    given = {f.name for f in fields(ImportOptions)} & set(cli)
    renamed = {"type_ref": "type", "map_file": "map"}
    for name, api_name in renamed.items():
        assert getattr(options, name) == cli[api_name]
    assert {n: getattr(options, n) for n in given} == {n: cli[n] for n in given}
    assert SendSettings() == SendSettings.from_options(ImportOptions())
    export = ExportOptions()
    cli_export = cli_defaults("export")
    assert export.out_dir == cli_export["out_dir"]
    assert (export.format, export.strategy, export.separator) == (
        cli_export["format"],
        cli_export["strategy"],
        cli_export["multi_separator"],
    )
