"""Hostile inputs end in one message and the right exit code, never a traceback.

Each :class:`Case` runs the real CLI (CliRunner) against an in-process sandbox and asserts:
no exception escapes, no ``Traceback`` is printed, the exit code is the expected one (2: a
local problem, nothing sent; 3: the API or network stopped the run), stderr names the problem,
and nothing was sent when ``sends_nothing``, and the optional ``after`` check holds.

To add a row: write a ``Case`` in ``CASES``.  ``{tmp}`` in ``args`` is the test's own temporary
folder; ``setup(tmp)`` makes the hostile files there; ``wrap`` replaces what the API answers
(it gets the sandbox's transport and returns the one the CLI uses); ``after(tmp)`` checks the
files the user would find afterwards.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from closecsv import cli
from closecsv.cli import context as cli_context
from closecsv.close.client import CloseClient
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox
from tests.conftest import FakeClock

SAMPLES = Path(__file__).resolve().parents[2] / "sample_csvs"
URL = "http://127.0.0.1:9/api/v1/"

Transport = httpx.BaseTransport


def nothing(_: Path) -> None:
    pass


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit_code: int
    message: str  # a piece of stderr naming the problem
    setup: Callable[[Path], None] = nothing
    wrap: Callable[[Transport], Transport] | None = None
    key: str = SANDBOX_API_KEY
    sends_nothing: bool = False  # no instance created or changed in the sandbox
    xfail: str = ""  # why this row still fails (a fix on another branch): strict, remove on merge
    after: Callable[[Path], None] | None = field(default=None, compare=False)


# -- setups -------------------------------------------------------------------------------


def sample_calls(tmp: Path) -> None:
    (tmp / "calls.csv").write_bytes((SAMPLES / "discovery_calls.csv").read_bytes())


def file_in_the_way(tmp: Path) -> None:
    """``{tmp}/blocker`` is a regular file: nothing can be created under it, even by root."""
    (tmp / "blocker").write_text("not a folder\n", encoding="utf-8")
    sample_calls(tmp)


def dangling_link(tmp: Path) -> None:
    (tmp / "link.csv").symlink_to(tmp / "elsewhere.csv")


def dangling_link_and_calls(tmp: Path) -> None:
    dangling_link(tmp)
    sample_calls(tmp)


def existing_file(tmp: Path) -> None:
    (tmp / "mine.csv").write_text("my own data\n", encoding="utf-8")


def sample_workbook(tmp: Path) -> None:
    (tmp / "q2.xlsx").write_bytes((SAMPLES / "discovery_calls_q2.xlsx").read_bytes())


def fake_workbook(tmp: Path) -> None:
    (tmp / "calls.xlsx").write_bytes(b"PK\x03\x04 a zip header and then nothing of a workbook")


def busy_folder(tmp: Path) -> None:
    (tmp / "home").mkdir()
    (tmp / "home" / "notes.txt").write_text("keep me\n", encoding="utf-8")


def list_shaped_state(tmp: Path) -> None:
    (tmp / "state.json").write_text(json.dumps({"activities": []}), encoding="utf-8")


def linked_state(tmp: Path) -> None:
    (tmp / "real-state.json").write_text("{}", encoding="utf-8")
    (tmp / "state.json").symlink_to(tmp / "real-state.json")


def non_ascii_delimiter(tmp: Path) -> None:
    (tmp / "calls.csv").write_text("lead_id§custom_activity_type\n", encoding="utf-8")


def damaged_journal(tmp: Path) -> None:
    sample_calls(tmp)
    (tmp / "calls.journal.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 600)


def foreign_json(tmp: Path) -> None:
    (tmp / "org.json").write_text(json.dumps({"mine": True}), encoding="utf-8")


def broken_json(tmp: Path) -> None:
    (tmp / "org.json").write_text('{"format": 1', encoding="utf-8")


# -- API answers --------------------------------------------------------------------------


def out_of_memory(_: Transport) -> Transport:
    def answer(_request: httpx.Request) -> httpx.Response:
        raise MemoryError

    return httpx.MockTransport(answer)


def always(status: int, body: object) -> Callable[[Transport], Transport]:
    def wrap(_: Transport) -> Transport:
        return httpx.MockTransport(lambda _request: httpx.Response(status, json=body))

    return wrap


# -- checks afterwards --------------------------------------------------------------------


def instances(sandbox: Sandbox) -> str:
    state = sandbox.state
    return json.dumps([state.custom_activities, state.custom_objects], sort_keys=True)


def no_file(name: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        assert not (tmp / name).exists(), f"{name} was written"

    return check


def unchanged(name: str, text: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        assert (tmp / name).read_text(encoding="utf-8") == text

    return check


TEMPLATE = ("template", "activities", "Discovery Call")
IMPORT = ("import", "activities", "{tmp}/calls.csv")

CASES = [
    Case(
        "template -o through a dangling symlink",
        (*TEMPLATE, "-o", "{tmp}/link.csv"),
        2,
        "is a symbolic link; refusing to write through it",
        dangling_link,
        after=no_file("elsewhere.csv"),
    ),
    Case(
        "template -o under a regular file",
        (*TEMPLATE, "-o", "{tmp}/blocker/t.csv"),
        2,
        "cannot write",
        file_in_the_way,
    ),
    Case(
        "template -o over an existing file",
        (*TEMPLATE, "-o", "{tmp}/mine.csv"),
        2,
        "exists",
        existing_file,
        after=unchanged("mine.csv", "my own data\n"),
    ),
    Case(
        "import --report-dir under a regular file",
        (*IMPORT, "--report-dir", "{tmp}/blocker/reports"),
        2,
        "blocker is not a folder; nothing was sent",
        file_in_the_way,
        sends_nothing=True,
    ),
    Case(
        "import --report-dir under a dangling symlink",
        (*IMPORT, "--report-dir", "{tmp}/link.csv/reports"),
        2,
        "nothing was sent",
        dangling_link_and_calls,
        sends_nothing=True,
        after=no_file("elsewhere.csv"),
    ),
    Case(
        "validate --report-dir under a regular file",
        ("validate", "activities", "{tmp}/calls.csv", "--report-dir", "{tmp}/blocker/r"),
        2,
        "nothing was sent",
        file_in_the_way,
    ),
    Case(
        "import --report-dir is a regular file",
        (*IMPORT, "--report-dir", "{tmp}/blocker"),
        2,
        "is a file",
        file_in_the_way,
        sends_nothing=True,
    ),
    Case("import a folder as FILE", ("import", "activities", "{tmp}"), 2, "is a directory"),
    Case(
        "demo --workdir a folder it did not make",
        ("demo", "--workdir", "{tmp}/home"),
        2,
        "was not made by closecsv demo",
        busy_folder,
        after=unchanged("home/notes.txt", "keep me\n"),
    ),
    Case(
        "sandbox --data a JSON file of someone else's",
        ("sandbox", "--port", "0", "--data", "{tmp}/org.json"),
        2,
        "is not a closecsv sandbox data file",
        foreign_json,
        after=unchanged("org.json", '{"mine": true}'),
    ),
    Case(
        "sandbox --data a broken JSON file",
        ("sandbox", "--port", "0", "--data", "{tmp}/org.json"),
        2,
        "cannot use --data",
        broken_json,
        after=unchanged("org.json", '{"format": 1'),
    ),
    Case(
        "export --out-dir under a regular file",
        ("export", "activities", "--out-dir", "{tmp}/blocker/out"),
        2,
        "blocker",
        file_in_the_way,
    ),
    Case(
        "export --state holding a list",
        ("export", "activities", "--out-dir", "{tmp}/out", "--state", "{tmp}/state.json"),
        2,
        "state.json",
        list_shaped_state,
        after=no_file("out"),
    ),
    Case(
        "export --state that is a symlink",
        ("export", "activities", "--out-dir", "{tmp}/out", "--state", "{tmp}/state.json"),
        2,
        "is a symlink",
        linked_state,
        after=no_file("out"),
    ),
    Case(
        "import with a non-ASCII delimiter",
        ("import", "activities", "{tmp}/calls.csv", "--delimiter", "§"),
        2,
        "delimiter",
        non_ascii_delimiter,
        sends_nothing=True,
    ),
    Case(
        "import with a damaged journal",
        IMPORT,
        2,
        "calls.journal.sqlite",
        damaged_journal,
        sends_nothing=True,
    ),
    Case(
        "users with a /me/ of the wrong shape",
        ("users",),
        3,
        "me/",
        wrap=always(200, {"unexpected": True}),
    ),
    Case(
        "undo with no journal",
        ("undo", "activities", "{tmp}/calls.csv"),
        2,
        "journal",
        sample_calls,
        sends_nothing=True,
    ),
    Case(
        "undo with a damaged journal",
        ("undo", "activities", "{tmp}/calls.csv"),
        2,
        "journal",
        damaged_journal,
        sends_nothing=True,
    ),
    Case(
        "import --key naming no field",
        (*IMPORT, "--key", "custom.Nope"),
        2,
        "--key",
        sample_calls,
        sends_nothing=True,
    ),
    Case(
        "import an unknown --sheet",
        ("import", "activities", "{tmp}/q2.xlsx", "--sheet", "Nope"),
        2,
        "Calls",
        sample_workbook,
        sends_nothing=True,
    ),
    Case(
        "import an .xlsx that is not a workbook",
        ("import", "activities", "{tmp}/calls.xlsx"),
        2,
        "calls.xlsx",
        fake_workbook,
        sends_nothing=True,
    ),
    Case(
        "sync --to a regular file",
        ("sync", "activities", "--to", "{tmp}/blocker"),
        2,
        "blocker",
        file_in_the_way,
        sends_nothing=True,
    ),
    Case("schema out of memory", ("schema",), 3, "memory", wrap=out_of_memory),
    Case("import out of memory", IMPORT, 3, "memory", sample_calls, wrap=out_of_memory),
    Case("schema with a refused key", ("schema",), 3, "authentication refused", key="wrong"),
    Case("users with a refused key", ("users",), 3, "authentication refused", key="wrong"),
    Case(
        "leads --query with a refused key",
        ("leads", "--query", "acme"),
        3,
        "authentication refused",
        key="wrong",
    ),
    Case(
        "leads when the plan limit answers 402",
        ("leads", "--json"),
        3,
        "402",
        wrap=always(402, {"error": "Your plan does not include API access."}),
    ),
    Case(
        "import with a refused key",
        IMPORT,
        3,
        "authentication refused",
        sample_calls,
        key="wrong",
        sends_nothing=True,
    ),
    Case(
        "schema when the plan limit answers 402",
        ("schema",),
        3,
        "402",
        wrap=always(402, {"error": "Your plan does not include API access."}),
    ),
]


def expand(args: tuple[str, ...], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in args]


def params(cases: list[Case]) -> list[object]:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)])
        if c.xfail
        else pytest.param(c, id=c.id)
        for c in cases
    ]


@pytest.mark.parametrize("case", params(CASES))
def test_hostile_input_ends_in_one_message_and_its_exit_code(
    case: Case,
    tmp_path: Path,
    sandbox: Sandbox,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case.setup(tmp_path)
    transport = sandbox.transport()
    if case.wrap is not None:
        transport = case.wrap(transport)
    client = functools.partial(
        CloseClient, transport=transport, clock=fake_clock, sleep=fake_clock.sleep
    )
    monkeypatch.setattr(cli_context, "CloseClient", client)
    before = instances(sandbox)

    result = CliRunner().invoke(
        cli.main,
        ["--api-url", URL, *expand(case.args, tmp_path)],
        env={"CLOSE_API_KEY": case.key},
    )

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.exit_code == case.exit_code, result.output
    assert case.message in result.stderr
    if case.sends_nothing:
        assert instances(sandbox) == before
    if case.after is not None:
        case.after(tmp_path)
