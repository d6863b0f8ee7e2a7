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
these lists, so edits to instances already exported need a full export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from closecsv.errors import InputError
from closecsv.export_files import write_atomic_text

VERSION = 1


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
        when = datetime.fromisoformat(str(raw["last_date_created"]))
        if when.tzinfo is None:
            raise ValueError("last_date_created has no time zone")
        return cls(last=when, ids_at_last={str(i) for i in raw.get("ids_at_last", [])})


@dataclass
class ExportState:
    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> ExportState:
        """The state in ``path``; an empty state when the file does not exist yet."""
        if not path.exists():
            return cls(path, {"version": VERSION})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError(f"expected a JSON object with version {VERSION}")
            state = cls(path, data)
            for kind in ("activities", "objects"):
                for type_id in state.data.get(kind, {}):
                    state.mark(kind, type_id)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"cannot use the state file {path}: {exc}",
                hint="fix or delete it (deleting it makes the next export a full one)",
            ) from exc
        return state

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
