"""One step of ``closecsv demo``: a ``closecsv`` command line, or (``request``) one plain call to
the sandbox's API for what closecsv has no command for, shown as the ``curl`` line it is.  A
command step may say what to do just before it (write its input) and just after it (show part
of its output)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click
import httpx


@dataclass(frozen=True)
class Step:
    title: str
    args: tuple[str, ...]
    expect: tuple[int, ...] = (0,)
    request: tuple[str, str] | None = None  # (method, path under the API base): not a command
    prepare: Callable[[], None] | None = None  # before the command: e.g. write its input
    show: Callable[[], None] | None = None  # after it: e.g. print a column of its results


def run_request(step: Step, env: dict[str, str]) -> bool:
    """Send ``step.request`` to the sandbox with the demo's key; True when it succeeded."""
    assert step.request is not None
    method, path = step.request
    url = env["CLOSE_API_URL"].rstrip("/") + "/" + path
    click.secho(f"\n## {step.title}", bold=True)
    click.secho(f'$ curl -X {method} -u "$CLOSE_API_KEY:" {url}', fg="cyan")
    answer = httpx.request(method, url, auth=(env["CLOSE_API_KEY"], ""), timeout=30.0)
    ok = answer.is_success
    click.secho(f"(HTTP {answer.status_code})", fg="green" if ok else "red")
    return ok
