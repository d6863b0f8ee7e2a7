"""What ``closecsv sync`` remembers in its folder between runs, and the lock that keeps it single.

``sync_state.json`` (written last, whole, by :func:`~closecsv.files.outputs.write_atomic_text`)::

    {"version": 1, "kind": "activities", "organization_id": "orga_…",
     "options": {"format": "parquet", "multi_separator": ";", "raw": false,
                 "include_archived": false, "types": []},
     "started_at": "2026-11-29T04:15:00.000000+00:00",
     "route": "org",
     "types": {"actitype_…": {"name": "Call", "file": "Call.parquet", "rows": 1200,
                               "columns": ["activity_id", …],
                               "fields": [["cf_…", "Outcome", "choices", false], …]}}}

``started_at`` is when the last *completed* run started: the next run reads Close's event log
from five minutes before it.  ``fields`` is each type's schema as the last run saw it (field id,
name, type, multiple, in order): a difference means the type's columns changed and it is
exported again in full.  The state is valid only for the same kind, organization and options;
otherwise (and when it is missing, damaged, or of another version) the run is a full export.

Lock: ``.sync.lock`` in the folder, held with ``fcntl.flock`` for the whole run.  The kernel
releases it when the process ends, however it ends (a kill included), so a stale lock never
blocks a later run; a second sync of the same folder while one runs is refused (exit 2).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from closecsv.close.schema import TypeInfo
from closecsv.errors import InputError
from closecsv.files.json_files import dump
from closecsv.files.outputs import write_atomic_text

STATE_FILE = "sync_state.json"
LOCK_FILE = ".sync.lock"
STATE_VERSION = 1

FieldSig = tuple[str, str, str, bool]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyncKey(_Model):
    """The options that give a mirror's files their content: another value means a new mirror."""

    format: Literal["csv", "parquet"]
    multi_separator: str
    raw: bool
    include_archived: bool
    types: list[str]


class TypeState(_Model):
    name: str
    file: str
    rows: int
    columns: list[str]
    fields: list[FieldSig]
    listing: list[FieldSig] = []  # what the type list says of its fields (sync_types)
    gone: bool = False  # archived or removed: the file was left as it was


class SyncState(_Model):
    version: int = STATE_VERSION
    kind: Literal["activities", "objects"]
    organization_id: str
    options: SyncKey
    started_at: AwareDatetime
    route: str
    types: dict[str, TypeState]


def field_signature(info: TypeInfo) -> list[FieldSig]:
    """What of a type's schema decides its columns and their types, in order."""
    return [(f.id, f.name, f.type, f.multiple) for f in info.fields]


def load_state(folder: Path) -> tuple[SyncState | None, str | None]:
    """The saved state, or None and why it cannot be used (None, None: there is none)."""
    path = folder / STATE_FILE
    if not path.exists() and not path.is_symlink():
        return None, None
    if path.is_symlink():
        return None, f"{path} is a symlink"
    try:
        return SyncState.model_validate_json(path.read_bytes()), None
    except (OSError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"{path} cannot be used ({first})"


def save_state(folder: Path, state: SyncState) -> None:
    write_atomic_text(folder / STATE_FILE, dump(state))


def unusable(
    state: SyncState, *, kind: str, organization: str, key: SyncKey, now: datetime, days: float
) -> str | None:
    """Why ``state`` cannot be continued from the event log (None: it can)."""
    if state.version != STATE_VERSION:
        return f"the state is version {state.version}, this closecsv writes {STATE_VERSION}"
    if state.kind != kind:
        return f"the folder holds a mirror of {state.kind}, not {kind}"
    if state.organization_id != organization:
        return "the state belongs to another Close organization"
    if state.options != key:
        return "the options differ from the last run's"
    age = now - state.started_at
    if age.total_seconds() > days * 86400:
        return f"the last run is {age.days} days old; Close's event log keeps 30 days"
    return None


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the block, or refuse with an :class:`InputError`."""
    import fcntl  # POSIX only, as the lock semantics documented above

    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"another closecsv sync is running into {folder}",
                hint="wait for it to finish (the lock is released when it ends, even if killed)",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
