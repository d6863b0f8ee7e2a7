"""``--state FILE``: what a scheduled export already wrote, per kind and type.

The file is JSON::

    {"version": 1,
     "activities": {"actitype_…": {"name": "Discovery Call",
                                   "last_date_created": "2024-05-01T10:00:00.000000+00:00",
                                   "ids_at_last": ["acti_…", …]}},
     "objects": {…}}

The next run asks the API for ``date_created >= last_date_created`` and drops the instances
whose ``date_created`` equals that mark and whose id is in ``ids_at_last``: instances that
share the last timestamp are neither lost nor exported twice.  The file is rewritten (whole,
atomically) only after every export file is in place, so a failed run leaves the previous
state.  Only ``date_created`` is tracked: the API has no cheap "changed since" filter on
these lists, so edits to instances already exported are not followed (``closecsv sync``,
which reads Close's event log, follows them), and an instance
created with a ``date_created`` older than the mark (a back-dated migration) is never seen.

The file is read with :class:`StateFile` (pydantic): a file without ``version`` is read as
version 1 (the only one so far); another version, damaged JSON, a wrong shape or a symlink is
an :class:`~closecsv.errors.InputError` (exit 2) naming the file, raised before any request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from closecsv.errors import InputError
from closecsv.files.outputs import write_atomic_text

VERSION = 1
_FIX = "fix it or delete it (deleting it makes the next export a full one)"


class MarkFile(BaseModel):
    """One type's entry in the state file."""

    model_config = ConfigDict(extra="ignore")

    name: str = ""
    last_date_created: AwareDatetime
    ids_at_last: list[str] = []


class _Head(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: int = VERSION


class StateFile(BaseModel):
    """The whole state file, version 1."""

    model_config = ConfigDict(extra="ignore")

    version: int = VERSION
    activities: dict[str, MarkFile] = {}
    objects: dict[str, MarkFile] = {}


@dataclass
class Mark:
    """The greatest ``date_created`` exported for one type, and the ids that carry it."""

    last: datetime
    ids_at_last: set[str] = field(default_factory=set)

    def already_exported(self, when: datetime, instance_id: str) -> bool:
        return when < self.last or (when == self.last and instance_id in self.ids_at_last)

    def observe(self, when: datetime, instance_id: str) -> None:
        if when > self.last:
            self.last, self.ids_at_last = when, {instance_id}
        elif when == self.last:
            self.ids_at_last.add(instance_id)

    def to_json(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "last_date_created": self.last.isoformat(timespec="microseconds"),
            "ids_at_last": sorted(self.ids_at_last),
        }

    @classmethod
    def from_json(cls, raw: Any) -> Mark:
        entry = raw if isinstance(raw, MarkFile) else MarkFile.model_validate(raw)
        return cls(last=entry.last_date_created.astimezone(UTC), ids_at_last=set(entry.ids_at_last))


@dataclass
class ExportState:
    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> ExportState:
        """The state in ``path``; an empty state when the file does not exist yet."""
        if path.is_symlink():
            raise InputError(
                f"the state file {path} is a symlink; refusing to read or replace it",
                hint="point --state at a regular file (or at the link's target)",
            )
        if not path.exists():
            folder = next((p for p in path.parents if p.exists()), None)
            if folder is not None and not folder.is_dir():
                raise InputError(
                    f"cannot keep the state file {path}: {folder} is a file, not a folder",
                    hint="point --state at a path in a folder",
                )
            return cls(path, {"version": VERSION})
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the state file {path}: {exc}", hint=_FIX) from None
        parsed = _parse(path, text)
        data: dict[str, Any] = {"version": VERSION}
        for kind in ("activities", "objects"):
            section = getattr(parsed, kind)
            data[kind] = {t: Mark.from_json(m).to_json(m.name) for t, m in section.items()}
        return cls(path, data)

    def mark(self, kind: str, type_id: str) -> Mark | None:
        raw = self.data.get(kind, {}).get(type_id)
        return Mark.from_json(raw) if raw is not None else None

    def update(self, kind: str, marks: dict[str, tuple[str, Mark]]) -> None:
        """Fold this run's marks (``{type id: (name, mark)}``) into the state."""
        section = self.data.setdefault(kind, {})
        for type_id, (name, mark) in marks.items():
            merged = self.mark(kind, type_id)
            if merged is None:
                merged = Mark(mark.last, set(mark.ids_at_last))
            else:
                for instance_id in mark.ids_at_last:
                    merged.observe(mark.last, instance_id)
            section[type_id] = merged.to_json(name)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic_text(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def _parse(path: Path, text: str) -> StateFile:
    """The state file's content, or an :class:`InputError` saying what is wrong with it."""
    try:
        head = _Head.model_validate_json(text)
        if head.version != VERSION:
            raise InputError(
                f"the state file {path} is version {head.version}; this closecsv reads "
                f"version {VERSION}",
                hint=f"use the closecsv that wrote it, or {_FIX}",
            )
        return StateFile.model_validate_json(text)
    except ValidationError as exc:
        raise InputError(
            f"cannot use the state file {path}: {_first_problem(exc)}", hint=_FIX
        ) from None


def _first_problem(exc: ValidationError) -> str:
    """One readable line for the first thing pydantic found wrong."""
    problem = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in problem["loc"])
    kind = problem["type"]
    if kind == "json_invalid":
        return f"not valid JSON ({problem['msg'].removeprefix('Invalid JSON: ')})"
    if kind in ("model_type", "dict_type"):
        found = _JSON_TYPES.get(type(problem["input"]).__name__, "something else")
        if not where:
            return f"expected a JSON object with version, activities and objects, not {found}"
        what = (
            "an object of {type id: mark}"
            if len(problem["loc"]) == 1
            else "an object with last_date_created and ids_at_last"
        )
        return f'"{where}" must be {what}, not {found}'
    return f'"{where}": {problem["msg"]}' if where else str(problem["msg"])


_JSON_TYPES = {
    "list": "a list",
    "str": "a string",
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "NoneType": "null",
}
