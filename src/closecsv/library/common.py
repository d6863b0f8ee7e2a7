"""What every function of the Python API shares: the client of one call, argument checks."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from closecsv.errors import ConfigError, InputError
from closecsv.progress import CallbackProgress, ProgressCallback

if TYPE_CHECKING:
    from closecsv.close.client import CloseClient
    from closecsv.close.kinds import Kind

PathArg = str | os.PathLike[str]
Moment = str | date  # an ISO text, a date (midnight) or a datetime (naive: in ``timezone``)


@contextmanager
def open_client(
    api_key: str | None, api_url: str | None, progress: ProgressCallback | None
) -> Iterator[CloseClient]:
    from closecsv.close.client import CloseClient
    from closecsv.close.config import load_settings

    settings = load_settings(api_key, api_url)
    notify = None if progress is None else CallbackProgress(progress).note
    with CloseClient(settings.api_keys, settings.api_url, notify=notify) as client:
        yield client


def kind_of(kind: str) -> Kind:
    from closecsv.close.kinds import KINDS

    if kind not in KINDS:
        raise ConfigError(
            f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}",
            hint='pass kind="activities" or kind="objects"',
        )
    return KINDS[kind]


def choice(name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}",
            hint=f"the default is {allowed[0]!r}",
        )


def existing_file(path: PathArg, name: str) -> Path:
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "does not exist"
        raise InputError(f"{name} {file} {what}; nothing was sent", hint="pass a CSV file's path")
    return file
