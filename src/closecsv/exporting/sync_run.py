"""The data of one ``closecsv sync`` run: its options, its types and what it found so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from closecsv import defaults
from closecsv.close.api import SearchApi
from closecsv.close.kinds import Kind
from closecsv.close.schema import Schema, TypeInfo
from closecsv.close.users import UserDirectory
from closecsv.exporting.exporter import ExportOptions
from closecsv.exporting.rows import Flattener
from closecsv.exporting.sync_apply import TypeChanges
from closecsv.exporting.sync_state import FieldSig, SyncKey
from closecsv.progress import Progress

Hook = Callable[[str], None]


@dataclass(frozen=True)
class SyncOptions:
    folder: Path
    type_refs: tuple[str, ...] = ()
    include_archived: bool = False
    format: Literal["csv", "parquet"] = defaults.SYNC_FORMAT
    separator: str = defaults.MULTI_SEPARATOR
    raw: bool = False
    changes_dir: Path | None = None

    def key(self) -> SyncKey:
        return SyncKey(
            format=self.format,
            multi_separator=self.separator,
            raw=self.raw,
            include_archived=self.include_archived,
            types=list(self.type_refs),
        )

    def export_options(self, folder: Path) -> ExportOptions:
        return ExportOptions(
            out_dir=folder,
            format=self.format,
            include_archived=True,
            separator=self.separator,
            raw=self.raw,
        )


@dataclass
class TypeSync:
    """One selected type in this run."""

    info: TypeInfo
    final: Path
    full: bool
    changes: TypeChanges = field(default_factory=TypeChanges)
    temp: Path | None = None
    rows: int = 0
    flattener: Flattener | None = None
    listing: list[FieldSig] = field(default_factory=list)


@dataclass
class Run:
    api: SearchApi
    schema: Schema
    kind: Kind
    options: SyncOptions
    folder: Path
    progress: Progress
    hook: Hook
    now: datetime
    directory: UserDirectory
    types: list[TypeSync] = field(default_factory=list)
    users: dict[str, str] | None = None
    route: str = "org"
    events: int = 0
    changed: int = 0  # distinct instances the events name
    fetched: int = 0

    @property
    def parquet(self) -> bool:
        return self.options.format == "parquet"

    def flattener(self, sync: TypeSync) -> Flattener:
        if sync.flattener is None:
            if self.users is None:
                self.users = dict(self.directory.users().email_by_id)
            opts = self.options
            sync.flattener = Flattener(
                sync.info, self.users, separator=opts.separator, raw=opts.raw
            )
        return sync.flattener
