"""What every command shares: the group's options (:class:`Context`, its client), the kind
argument, and the one place that turns errors into messages and exit codes: 0 done, 1 some
rows failed, 2 nothing sent (usage, file, headers, key), 3 stopped by the API or network,
130 interrupted."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import click

from closecsv.close.client import CloseClient
from closecsv.close.config import Settings, load_settings
from closecsv.close.kinds import KINDS
from closecsv.errors import CloseCsvError, FatalError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_INTERRUPTED = 130
KIND_ARG = click.Choice(sorted(KINDS))
OUT_OF_MEMORY = (
    "out of memory; the run stopped (an import run again resumes where it stopped)\n"
    "  hint: free memory, or lower --concurrency; if an answer from the API grew without "
    "end, check --api-url / CLOSE_API_URL"
)


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
        from closecsv.cli.progress_display import stderr_notice

        notify = None if self.quiet else stderr_notice  # retries and long waits, on stderr
        with CloseClient(settings.api_keys, settings.api_url, notify=notify) as client:
            yield client


pass_ctx = click.make_pass_decorator(Context)


def fail(message: str, code: int) -> None:
    click.echo(f"closecsv: error: {message}", err=True)
    sys.exit(code)


def translate_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the exception tree into one message on stderr and the exit code
    (2 local problem, 3 API or network stopped the run, 130 interrupted)."""

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
        except MemoryError:
            fail(OUT_OF_MEMORY, 3)
        raise AssertionError("unreachable")

    return wrapper
