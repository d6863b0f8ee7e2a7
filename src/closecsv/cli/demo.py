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
from dataclasses import dataclass
from pathlib import Path

import click

from closecsv.errors import InputError
from closecsv.sandbox import SANDBOX_API_KEY, Sandbox

MARKER = ".closecsv-demo"
MARKER_TEXT = "closecsv demo made this folder; the next demo run here replaces what it wrote.\n"
# what a run writes in its workdir: the only entries a later run removes
DEMO_ENTRIES = ("org.json", "org.json.log", "org.json.tmp", "reports", "exports", "roundtrip")


@dataclass(frozen=True)
class Step:
    title: str
    args: tuple[str, ...]
    expect: tuple[int, ...] = (0,)


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
    steps += export_steps(samples, out)
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


SAMPLE_IMPORTS = [
    ("discovery_calls.csv", "activities", no_options, (0,)),
    ("support_tickets.csv", "activities", no_options, (0,)),
    ("deals.csv", "objects", no_options, (0,)),
    ("othercrm_calls.csv", "activities", crm_map, (0,)),
    ("with_errors.csv", "activities", no_options, (1,)),
]


def run_step(step: Step, env: dict[str, str]) -> bool:
    click.secho(f"\n## {step.title}", bold=True)
    click.secho(f"$ closecsv {shlex.join(step.args)}", fg="cyan")
    done = subprocess.run(
        [sys.executable, "-m", "closecsv", *step.args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    click.echo(done.stdout.rstrip())
    ok = done.returncode in step.expect
    note = "as expected" if ok else f"expected {step.expect}"
    click.secho(f"(exit {done.returncode}, {note})", fg="green" if ok else "red")
    return ok


def show_files(out: Path) -> None:
    click.secho("\n## Files written", bold=True)
    for path in sorted(
        p for p in out.rglob("*") if p.is_file() and p.name not in ("org.json", MARKER)
    ):
        click.echo(f"  {path}  ({path.stat().st_size} bytes)")


def prepare_workdir(workdir: Path) -> None:
    """Make ``workdir`` ready for a run, deleting only what an earlier demo wrote there.

    A missing or empty folder is taken (and marked); a folder holding :data:`MARKER` was made
    by the demo, and the :data:`DEMO_ENTRIES` of its last run are removed.  Any other folder
    is refused (:class:`InputError`, exit 2) before anything in it is touched: the demo never
    deletes what it did not write.
    """
    marker = workdir / MARKER
    try:
        if marker.is_file() and not marker.is_symlink():
            for name in DEMO_ENTRIES:
                _remove(workdir / name)
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


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def run_demo(workdir: Path, samples: Path) -> int:
    """Run the session; 0 when every step exited as expected."""
    prepare_workdir(workdir)
    sandbox = Sandbox(workdir / "org.json", rate_limit=20, latency_ms=20)
    with sandbox.serve() as url:
        click.secho(f"Sandbox running at {url} (key {SANDBOX_API_KEY})", bold=True)
        env = {**os.environ, "CLOSE_API_URL": url, "CLOSE_API_KEY": SANDBOX_API_KEY}
        results = [run_step(step, env) for step in demo_steps(samples, workdir)]
    show_files(workdir)
    failed = results.count(False)
    click.secho(
        f"\n{len(results) - failed} of {len(results)} steps as expected",
        fg="green" if not failed else "red",
        bold=True,
    )
    return 0 if not failed else 1
