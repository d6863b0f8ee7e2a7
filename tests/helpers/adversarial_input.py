"""Harness for the adversarial input tests (docs/ADVERSARIAL.md A-C): run the real CLI against a
sandbox on a socket and look at what a user would see.

:class:`Harness` writes a file (bytes, exactly), runs ``closecsv import|validate`` on it and
returns a :class:`Run`: the exit code, stdout and stderr apart, how many *write* requests
(POST/PUT/DELETE, search POSTs excluded) reached the sandbox, the results file and the
activities or objects the run created, read back from the sandbox's state.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from closecsv.cli import main
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

_WRITES = ("POST", "PUT", "DELETE", "PATCH")
_READS = ("data/search/",)
_names = itertools.count()
csv.field_size_limit(1 << 26)  # results files hold the 1 MB cells of the long-cell cases


@dataclass
class Run:
    """What one CLI run did."""

    result: Result
    writes: int
    path: Path
    created: list[dict[str, Any]]
    report_dir: Path
    argv: tuple[str, ...] = ()

    def option(self, name: str, default: str) -> str:
        """The value this run gave ``name`` (its last), as typed."""
        given = [v for k, v in zip(self.argv, self.argv[1:], strict=False) if k == name]
        return given[-1] if given else default

    def report(self, kind: str = "results") -> Path:
        """``<stem>.results.csv`` (or errors), ``<stem>.validate.…`` for a dry run."""
        dry = "validate" in self.argv or "--dry-run" in self.argv
        return self.report_dir / f"{self.path.stem}{'.validate' if dry else ''}.{kind}.csv"

    def read_report(self, kind: str = "results") -> list[dict[str, str]]:
        """A report's rows, read as written: in the input's encoding and delimiter (a
        UTF-16/32 input without ``--encoding`` is known by its BOM)."""
        raw = self.report(kind).read_bytes()
        boms = {codecs.BOM_UTF32_LE: "utf-32", codecs.BOM_UTF32_BE: "utf-32"}
        boms |= {codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16"}
        found = next((name for bom, name in boms.items() if raw.startswith(bom)), "utf-8")
        text = raw.decode(self.option("--encoding", found))
        delimiter = {"\\t": "\t", "tab": "\t"}.get(d := self.option("--delimiter", ","), d)
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))

    @property
    def code(self) -> int:
        return self.result.exit_code

    @property
    def stderr(self) -> str:
        return self.result.stderr

    def results(self) -> list[dict[str, str]]:
        """The rows of ``<stem>.results.csv`` (``<stem>.validate.results.csv``)."""
        return self.read_report("results")

    def statuses(self) -> list[tuple[str, str]]:
        return [(r["_row"], r["_status"]) for r in self.results()]

    def errors(self) -> list[str]:
        return [r["_error"] for r in self.results() if r["_status"] == "failed"]

    def in_row_order(self) -> list[dict[str, Any]]:
        """The created instances in the order of the rows that created them."""
        by_id = {c["id"]: c for c in self.created}
        return [by_id[r["_id"]] for r in self.results() if r["_id"] in by_id]

    def field(self, name: str, fields: dict[str, str]) -> list[Any]:
        """The values of custom field ``name`` on the created instances, in row order."""
        return [c.get(f"custom.{fields[name]}") for c in self.in_row_order()]


@dataclass
class Harness:
    sandbox: Sandbox
    url: str
    tmp: Path
    fields: dict[str, str] = field(default_factory=dict)
    _writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        inner = self.sandbox.dispatcher.handle

        def counting(method: str, path: str, *args: Any) -> Any:
            if method.upper() in _WRITES and not path.endswith(_READS):
                with self._lock:
                    self._writes += 1
            return inner(method, path, *args)

        self.sandbox.dispatcher.handle = counting  # type: ignore[method-assign]
        state = self.sandbox.state
        for typ in (*state.activity_types.values(), *state.object_types.values()):
            for fid in typ["field_ids"]:
                self.fields.setdefault(state.fields[fid]["name"], fid)

    def write(self, data: bytes | str, suffix: str = ".csv") -> Path:
        path = self.tmp / f"in{next(_names)}{suffix}"
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def __call__(
        self,
        command: str,
        kind: str,
        data: bytes | str | Path,
        *args: str,
        report_dir: Path | None = None,
    ) -> Run:
        path = data if isinstance(data, Path) else self.write(data)
        report_dir = report_dir or self.tmp / f"reports{next(_names)}"
        state = self.sandbox.state
        store = state.custom_activities if kind == "activities" else state.custom_objects
        before, writes = set(store), self._writes
        argv = ["--api-url", self.url, command, kind, str(path), "--report-dir", str(report_dir)]
        result = CliRunner().invoke(
            main, [*argv, *args], env={"CLOSE_API_KEY": SANDBOX_API_KEY}, catch_exceptions=False
        )
        created = [store[i] for i in store if i not in before]
        return Run(result, self._writes - writes, path, created, report_dir, (command, *args))

    def email(self, n: int = 0) -> str:
        """The email of a contact that names exactly one lead."""
        return self.unique_emails()[n]

    def unique_emails(self) -> list[str]:
        counts: dict[str, int] = {}
        for contact in self.sandbox.state.contacts.values():
            for e in contact["emails"]:
                counts[e["email"].lower()] = counts.get(e["email"].lower(), 0) + 1
        return sorted(e for e, n in counts.items() if n == 1)


def serve(tmp: Path) -> Iterator[Harness]:
    """A harness over a fresh sandbox on a socket (use from a fixture)."""
    sandbox = Sandbox()
    with sandbox.serve() as url:
        yield Harness(sandbox, url, tmp)
    sandbox.close()


Check = Callable[[Run, Harness], None]


@dataclass(frozen=True)
class Case:
    """One row of an adversarial table: a file (``{e0}``, ``{e1}``: unique lead emails;
    ``{lead}``: a lead id) and what the user must see."""

    text: str
    args: tuple[str, ...] = ()
    code: int = 0
    says: tuple[str, ...] = ()
    writes: int = 0
    check: Check | None = None
    command: str = "import"

    def run(self, h: Harness) -> Run:
        lead = h.sandbox.state.contacts[min(h.sandbox.state.contacts)]["lead_id"]
        text = self.text.replace("{e0}", h.email()).replace("{e1}", h.email(1))
        run = h(self.command, "activities", text.replace("{lead}", lead), *self.args)
        assert run.code == self.code, run.stderr
        for pattern in self.says:
            assert re.search(pattern, run.stderr), (pattern, run.stderr)
        assert run.writes == self.writes, run.stderr
        if self.code == 2:
            assert run.result.stdout == "" and "closecsv: error:" in run.stderr
        if self.check is not None:
            self.check(run, h)
        return run


def values_are(column: str, *expected: Any) -> Check:
    """The created instances hold ``expected`` in custom field ``column``, in order."""

    def check(run: Run, h: Harness) -> None:
        found = run.field(column, h.fields)
        assert found == list(expected), found

    return check


def errors_are(*expected: str) -> Check:
    """The failed rows' ``_error`` cells contain these texts, in row order."""

    def check(run: Run, h: Harness) -> None:
        errors = run.errors()
        assert len(errors) == len(expected), errors
        for error, part in zip(errors, expected, strict=True):
            assert part in error, (part, error)

    return check


def both(*checks: Check) -> Check:
    def check(run: Run, h: Harness) -> None:
        for one in checks:
            one(run, h)

    return check
