"""``closecsv demo``: a sandbox and a real session, end to end, as a newcomer would type it.

The sandbox runs on a thread of this process (a real socket on loopback); every step is the
real ``closecsv`` command run as a child process, shown with its command line and its output.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click

from closecsv.cli.demo_migration import undo_steps
from closecsv.cli.demo_step import Step, run_request
from closecsv.cli.sync_demo import sync_steps
from closecsv.errors import InputError
from closecsv.importing.report_files import create_new_file
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

MARKER = ".closecsv-demo"
MARKER_TEXT = "closecsv demo made this folder; the next demo run here replaces what it wrote.\n"
# the marker lists, under this line, every file of the folders below that the last run wrote
LIST_HEADER = "files it wrote:\n"
# the sandbox's files, always the demo's own, and the folders whose listed files are its own
DEMO_FILES = ("org.json", "org.json.log", "org.json.tmp")
DEMO_DIRS = ("reports", "exports", "roundtrip", "mirror", "mirror-changes")
DEMO_ENTRIES = DEMO_FILES + DEMO_DIRS


def demo_steps(samples: Path, out: Path) -> list[Step]:
    """The session: look at the org, then import and export the sample files."""
    reports = str(out / "reports")
    steps = [
        Step("What the org holds: types, fields, choices", ("schema",)),
        Step("The users a user cell can name", ("users",)),
        Step("Leads a file can refer to, found by name", ("leads", "--query", "Acme Corp")),
        Step(
            "A header-only template for one activity type",
            ("template", "activities", "Discovery Call"),
        ),
    ]
    steps += import_steps(samples, reports)
    steps += key_steps(samples, reports)
    steps += export_steps(samples, out)
    steps += undo_steps(samples, out)  # before the sync edits a call the export holds
    steps += sync_steps(samples, out)
    return steps


def import_steps(samples: Path, reports: str) -> list[Step]:
    """Dry run first, then the real import, for every sample file that exists."""
    steps: list[Step] = []
    for name, kind, extra, expect in SAMPLE_IMPORTS:
        path = samples / name
        if not path.exists():
            continue
        args = (kind, str(path), "--report-dir", reports, *extra(samples))
        steps.append(Step(f"Validate {name} (dry run)", ("validate", *args), expect))
        steps.append(Step(f"Import {name}", ("import", *args), expect))
    return steps


def key_steps(samples: Path, reports: str) -> list[Step]:
    """A fresh export of the old CRM (reordered, two records changed, two new) imported by
    its key after discovery_calls.csv: 2 updated, 8 unchanged, 2 created, nothing twice."""
    path = samples / "discovery_calls_delta.csv"
    if not path.exists() or not (samples / "discovery_calls.csv").exists():
        return []
    args = ("activities", str(path), "--key", "custom.Reference Code", "--report-dir", reports)
    return [
        Step("Validate a delta file by its key: what would change", ("validate", *args)),
        Step("Import the delta by key: nothing is created twice", ("import", *args)),
    ]


def export_steps(samples: Path, out: Path) -> list[Step]:
    """Export what was imported, then show the round trip: the export re-imports as no-ops."""
    exports = out / "exports"
    calls = exports / "Discovery_Call.csv"
    return [
        Step("Export every activity type", ("export", "activities", "--out-dir", str(exports))),
        Step(
            "Export custom objects as Parquet",
            ("export", "objects", "--out-dir", str(exports / "objects"), "--format", "parquet"),
        ),
        Step(
            "Re-import the export as it is: every row unchanged, nothing written",
            ("import", "activities", str(calls), "--report-dir", str(out / "roundtrip")),
        ),
    ]


def no_options(_: Path) -> tuple[str, ...]:
    return ()


def crm_map(samples: Path) -> tuple[str, ...]:
    return ("--map", str(samples / "othercrm_calls.map.csv"))


def calls_sheet(_: Path) -> tuple[str, ...]:
    return ("--sheet", "Calls")  # the workbook's first sheet, About, describes it


SAMPLE_IMPORTS = [
    ("discovery_calls.csv", "activities", no_options, (0,)),
    ("support_tickets.csv", "activities", no_options, (0,)),
    ("deals.csv", "objects", no_options, (0,)),
    ("othercrm_calls.csv", "activities", crm_map, (0,)),
    ("discovery_calls_q2.xlsx", "activities", calls_sheet, (0,)),
    ("with_errors.csv", "activities", no_options, (1,)),
]


def run_step(step: Step, env: dict[str, str]) -> bool:
    if step.request is not None:
        return run_request(step, env)
    click.secho(f"\n## {step.title}", bold=True)
    click.secho(f"$ closecsv {shlex.join(step.args)}", fg="cyan")
    if step.prepare is not None:
        step.prepare()
    done = subprocess.run(
        [sys.executable, "-m", "closecsv", *step.args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    click.echo(done.stdout.rstrip())
    if step.show is not None:
        step.show()
    ok = done.returncode in step.expect
    note = "as expected" if ok else f"expected {step.expect}"
    click.secho(f"(exit {done.returncode}, {note})", fg="green" if ok else "red")
    return ok


def show_files(out: Path, written: set[str]) -> None:
    click.secho("\n## Files written", bold=True)
    for rel in sorted(written):
        path = out / rel
        click.echo(f"  {path}  ({path.stat().st_size} bytes)")


def prepare_workdir(workdir: Path) -> None:
    """Make ``workdir`` ready for a run, deleting only what an earlier demo wrote there.

    A missing or empty folder is taken (and marked); a folder holding :data:`MARKER` was made
    by the demo: its sandbox files and the files the marker lists are removed, then the demo's
    folders if that left them empty.  A file someone put in ``reports/`` stays.  Any other
    folder is refused (:class:`InputError`, exit 2) before anything in it is touched: the demo
    never deletes what it did not write.
    """
    marker = workdir / MARKER
    try:
        if marker.is_file() and not marker.is_symlink():
            _remove_last_run(workdir, marker.read_text(encoding="utf-8"))
            return
        if workdir.is_dir() and any(workdir.iterdir()):
            raise InputError(
                f"--workdir {workdir} is not empty and was not made by closecsv demo; "
                "nothing in it was touched",
                hint="give a new or empty folder, e.g. --workdir demo-out",
            )
        workdir.mkdir(parents=True, exist_ok=True)
        with marker.open("x", encoding="utf-8") as fh:  # O_EXCL: never through a link
            fh.write(MARKER_TEXT)
    except OSError as exc:
        raise InputError(
            f"cannot use --workdir {workdir}: {exc.strerror or exc}",
            hint="give a folder you can write to, e.g. --workdir demo-out",
        ) from None


def _remove_last_run(workdir: Path, marker_text: str) -> None:
    if LIST_HEADER not in marker_text:  # a marker written before runs listed their files
        for name in DEMO_ENTRIES:
            _remove(workdir / name)
        return
    for name in DEMO_FILES:
        _remove(workdir / name)
    for line in marker_text.split(LIST_HEADER, 1)[1].splitlines():
        parts = Path(line).parts
        if len(parts) > 1 and parts[0] in DEMO_DIRS and ".." not in parts:
            path = workdir.joinpath(*parts)
            through = [workdir.joinpath(*parts[:i]) for i in range(1, len(parts) + 1)]
            if path.is_file() and not any(p.is_symlink() for p in through):  # never via a link
                path.unlink()
    for name in DEMO_DIRS:
        _remove_empty_dirs(workdir / name)


def _remove_empty_dirs(top: Path) -> None:
    """Remove ``top`` and the folders under it that hold nothing (never through a link)."""
    if top.is_symlink() or not top.is_dir():
        return
    for sub in top.iterdir():
        _remove_empty_dirs(sub)
    if not any(top.iterdir()):
        top.rmdir()


def demo_files(workdir: Path) -> set[str]:
    """The regular files in the demo's folders, as paths relative to ``workdir``."""
    found: set[str] = set()
    for name in DEMO_DIRS:
        for path in (workdir / name).rglob("*"):
            if path.is_file() and not path.is_symlink():
                found.add(path.relative_to(workdir).as_posix())
    return found


def record_written(workdir: Path, written: set[str]) -> None:
    """Rewrite the marker so that it lists ``written``: what the next run may remove."""
    temp = workdir / f"{MARKER}.tmp"
    temp.unlink(missing_ok=True)
    with create_new_file(temp) as fh:
        fh.write((MARKER_TEXT + LIST_HEADER + "".join(f"{p}\n" for p in sorted(written))).encode())
    os.replace(temp, workdir / MARKER)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def run_demo(workdir: Path, samples: Path) -> int:
    """Run the session; 0 when every step exited as expected."""
    prepare_workdir(workdir)
    sandbox = Sandbox(workdir / "org.json", rate_limit=20, latency_ms=20)
    with sandbox, sandbox.serve() as url:  # closing it compacts org.json and closes its log
        click.secho(f"Sandbox running at {url} (key {SANDBOX_API_KEY})", bold=True)
        env = {**os.environ, "CLOSE_API_URL": url, "CLOSE_API_KEY": SANDBOX_API_KEY}
        kept = demo_files(workdir)  # someone else's files in the demo's folders
        results: list[bool] = []
        written: set[str] = set()
        for step in demo_steps(samples, workdir):
            results.append(run_step(step, env))
            written = demo_files(workdir) - kept
            record_written(workdir, written)
    show_files(workdir, written)
    failed = results.count(False)
    click.secho(
        f"\n{len(results) - failed} of {len(results)} steps as expected",
        fg="green" if not failed else "red",
        bold=True,
    )
    return 0 if not failed else 1
