"""What ``--help`` shows and the small CLI rules: examples kept whole, ``-q`` after the
command, the settings path for API keys, shell completion."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from closecsv.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = sorted(main.commands)


def example_lines(command: click.Command) -> list[str]:
    """The lines of the ``Example:`` block of a command's docstring, stripped."""
    text = command.help or ""
    block = text.split("Example:", 1)[1]
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_examples_keep_their_line_breaks_on_a_narrow_terminal(name: str) -> None:
    command = main.commands[name] if name else main
    examples = example_lines(command)
    assert examples, f"{name or 'closecsv'} has no Example:"
    args = [name, "--help"] if name else ["--help"]
    result = CliRunner().invoke(main, args, prog_name="closecsv", terminal_width=50)
    assert result.exit_code == 0
    shown = [line.strip() for line in result.stdout.splitlines()]
    for line in examples:
        assert line in shown, f"example line broken in --help:\n{line}\n---\n{result.stdout}"


def test_validate_help_does_not_mention_a_journal() -> None:
    result = CliRunner().invoke(main, ["validate", "--help"])
    assert result.exit_code == 0
    assert "journal" not in result.stdout.lower()
    assert "--report-dir" in result.stdout


def test_validate_help_leaves_out_the_settle_time_of_lost_creates_yet_accepts_it(
    tmp_path: Path,
) -> None:
    """A dry run sends no create, so --settle-seconds means nothing there; the import's
    command line still works as it is (the option is accepted, only not shown)."""
    shown = CliRunner().invoke(main, ["validate", "--help"])
    assert "--settle-seconds" not in shown.stdout
    assert "--settle-seconds" in CliRunner().invoke(main, ["import", "--help"]).stdout
    missing = tmp_path / "none.csv"
    given = CliRunner().invoke(
        main, ["validate", "activities", str(missing), "--settle-seconds", "5"]
    )
    assert "no such option" not in given.stderr.lower()
    assert f"{missing}" in given.stderr and given.exit_code == 2


def test_the_cli_and_the_readme_name_the_same_settings_path_for_api_keys() -> None:
    result = CliRunner().invoke(main, ["--api-url", "http://127.0.0.1:9/api/v1/", "schema"])
    assert result.exit_code == 2
    path = "Settings > Developer > API Keys"
    assert path in result.stderr
    readme = README.read_text(encoding="utf-8")
    named = set(re.findall(r"Settings(?: > [A-Z][\w ]*?)+(?= *[;,.)\n]|$)", readme))
    assert named == {path}


def test_quiet_works_after_the_command_too(tmp_path: Path) -> None:
    for args in (["-q", "template", "activities", "X"], ["template", "activities", "X", "-q"]):
        result = CliRunner().invoke(main, ["--api-url", "http://127.0.0.1:9/api/v1/", *args])
        assert "No such option" not in result.stderr
        assert result.exit_code == 2  # no key: the option itself was accepted
        assert "CLOSE_API_KEY" in result.stderr


def test_shell_completion_works_as_the_readme_says() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "_CLOSECSV_COMPLETE=bash_source closecsv" in readme
    runner = CliRunner()
    script = runner.invoke(
        main, [], prog_name="closecsv", env={"_CLOSECSV_COMPLETE": "bash_source"}
    )
    assert script.exit_code == 0
    assert "complete -o nosort -F _closecsv_completion closecsv" in script.stdout
    env = {"_CLOSECSV_COMPLETE": "bash_complete", "COMP_WORDS": "closecsv le", "COMP_CWORD": "1"}
    words = runner.invoke(main, [], prog_name="closecsv", env=env)
    assert words.stdout.split() == ["plain,leads"]
